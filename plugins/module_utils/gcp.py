# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one way this collection reaches Google Cloud.

- ``gcp_argument_spec()``: the shared connection options (documented in the ``gcp`` doc fragment).
- ``gcp_credentials()``: Application Default Credentials, a service-account key, an access token, or none
  (anonymous) when the endpoint is a local emulator (``http://``).
- ``gcp_client()``: the client factory, with the ``api_endpoint`` override.
- ``GcpModule``: an AnsibleModule that owns a client, retries API calls and turns errors into clear failures.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import traceback

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.accelci.runners.plugins.module_utils.retries import (
    RetryPolicy,
    error_http_code,
    error_message,
    error_status,
)

try:
    import google.auth
    import google.auth.credentials
    from google.api_core import exceptions as gexc
    from google.api_core.gapic_v1.client_info import ClientInfo
    from google.oauth2 import credentials as oauth2_credentials
    from google.oauth2 import service_account

    HAS_GOOGLE_AUTH = True
    GOOGLE_AUTH_IMP_ERR = None
except ImportError:
    HAS_GOOGLE_AUTH = False
    GOOGLE_AUTH_IMP_ERR = traceback.format_exc()

USER_AGENT = "accelci-runners/0.1.0"
CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"

# service -> (python import, pip package, endpoint env var). The env var is the api_endpoint option's fallback.
SERVICES = {
    "container": ("google.cloud.container_v1", "google-cloud-container", "ACCELCI_GKE_API_ENDPOINT"),
    "filestore": ("google.cloud.filestore_v1", "google-cloud-filestore", "ACCELCI_FILESTORE_API_ENDPOINT"),
    "storage": ("google.cloud.storage", "google-cloud-storage", "STORAGE_EMULATOR_HOST"),
}


def gcp_argument_spec(service):
    """The connection options every GCP module takes; api_endpoint falls back to the service's env var."""
    endpoint_env = SERVICES[service][2]
    return dict(
        project=dict(type="str", required=True, fallback=(env_fallback, ["GCP_PROJECT", "GOOGLE_CLOUD_PROJECT"])),
        auth_kind=dict(
            type="str",
            choices=["application", "serviceaccount", "accesstoken", "none"],
            fallback=(env_fallback, ["GCP_AUTH_KIND"]),
        ),
        service_account_file=dict(type="path", fallback=(env_fallback, ["GCP_SERVICE_ACCOUNT_FILE"])),
        service_account_contents=dict(
            type="jsonarg", no_log=True, fallback=(env_fallback, ["GCP_SERVICE_ACCOUNT_CONTENTS"])
        ),
        access_token=dict(type="str", no_log=True, fallback=(env_fallback, ["GCP_ACCESS_TOKEN"])),
        scopes=dict(type="list", elements="str", default=[CLOUD_PLATFORM_SCOPE]),
        api_endpoint=dict(type="str", fallback=(env_fallback, [endpoint_env])),
    )


def is_emulator_endpoint(endpoint):
    """A plain-HTTP endpoint is a local emulator: no credentials are sent to it."""
    return bool(endpoint) and endpoint.startswith("http://")


def resolved_auth_kind(params):
    """auth_kind as given, or 'none' for an emulator endpoint, else 'application'."""
    if params.get("auth_kind"):
        return params["auth_kind"]
    if is_emulator_endpoint(params.get("api_endpoint")):
        return "none"
    if params.get("access_token"):
        return "accesstoken"
    if params.get("service_account_file") or params.get("service_account_contents"):
        return "serviceaccount"
    return "application"


class GcpCredentialsError(Exception):
    """Credentials could not be built; the message says which option to fix."""


def gcp_credentials(params):
    """Build google.auth credentials from the module's connection options."""
    kind = resolved_auth_kind(params)
    scopes = params.get("scopes") or [CLOUD_PLATFORM_SCOPE]
    if kind == "none":
        return google.auth.credentials.AnonymousCredentials()
    if kind == "accesstoken":
        if not params.get("access_token"):
            raise GcpCredentialsError("auth_kind=accesstoken needs access_token (or GCP_ACCESS_TOKEN)")
        return oauth2_credentials.Credentials(params["access_token"])
    if kind == "serviceaccount":
        contents = params.get("service_account_contents")
        path = params.get("service_account_file")
        try:
            if contents:
                info = json.loads(contents) if isinstance(contents, str) else contents
                return service_account.Credentials.from_service_account_info(info, scopes=scopes)
            if path:
                return service_account.Credentials.from_service_account_file(path, scopes=scopes)
        except (ValueError, OSError) as exc:
            raise GcpCredentialsError("cannot read the service account key: %s" % to_native(exc))
        raise GcpCredentialsError(
            "auth_kind=serviceaccount needs service_account_file or service_account_contents"
        )
    try:
        credentials, _project = google.auth.default(scopes=scopes)
    except google.auth.exceptions.DefaultCredentialsError as exc:
        raise GcpCredentialsError(
            "no Application Default Credentials: run 'gcloud auth application-default login', set "
            "GOOGLE_APPLICATION_CREDENTIALS, or give service_account_file / access_token (%s)" % to_native(exc)
        )
    return credentials


def _endpoint_host(endpoint):
    """storage.Client wants a URL; GAPIC REST clients take a URL too (http:// keeps them on plain HTTP)."""
    return endpoint.rstrip("/")


def gcp_client(service, params):
    """Create the client for one service ('container', 'filestore' or 'storage') from connection options."""
    credentials = gcp_credentials(params)
    endpoint = params.get("api_endpoint")
    info = ClientInfo(user_agent=USER_AGENT)
    if service == "container":
        from google.cloud import container_v1

        options = {"api_endpoint": _endpoint_host(endpoint)} if endpoint else None
        return container_v1.ClusterManagerClient(
            transport="rest", credentials=credentials, client_options=options, client_info=info
        )
    if service == "filestore":
        from google.cloud import filestore_v1

        options = {"api_endpoint": _endpoint_host(endpoint)} if endpoint else None
        return filestore_v1.CloudFilestoreManagerClient(
            transport="rest", credentials=credentials, client_options=options, client_info=info
        )
    if service == "storage":
        from google.cloud import storage

        options = {"api_endpoint": _endpoint_host(endpoint)} if endpoint else None
        return storage.Client(
            project=params.get("project"), credentials=credentials, client_options=options, client_info=info
        )
    raise ValueError("unknown service %r; known: %s" % (service, ", ".join(sorted(SERVICES))))


def describe_api_error(exc):
    """One line for a user: HTTP code, status name and the API's message."""
    code = error_http_code(exc)
    status = error_status(exc)
    message = error_message(exc)
    parts = []
    if code:
        parts.append("HTTP %s" % code)
    if status:
        parts.append(status)
    prefix = " ".join(parts)
    return "%s: %s" % (prefix, message) if prefix else to_native(message)


class GcpModule(AnsibleModule):
    """AnsibleModule with the shared GCP options, one client, retried calls and translated errors."""

    def __init__(self, service, argument_spec, **kwargs):
        self.service = service
        spec = gcp_argument_spec(service)
        spec.update(argument_spec)
        super(GcpModule, self).__init__(argument_spec=spec, **kwargs)
        if not HAS_GOOGLE_AUTH:
            self.fail_json(msg=missing_required_lib("google-auth"), exception=GOOGLE_AUTH_IMP_ERR)
        self._client = None
        self.retry_policy = RetryPolicy(
            timeout=float(self.params.get("wait_timeout") or 300),
            base=float(os.environ.get("ACCELCI_RETRY_BASE_SECONDS", "1.0")),
        )
        self.retry_log = []

    @property
    def client(self):
        """The service's client, created on first use so input checks run before anything is built."""
        if self._client is None:
            module_name, package, _env = SERVICES[self.service]
            try:
                self._client = gcp_client(self.service, self.params)
            except ImportError:
                self.fail_json(msg=missing_required_lib(package), exception=traceback.format_exc())
            except GcpCredentialsError as exc:
                self.fail_json(msg=to_native(exc))
        return self._client

    def call(self, action, func, *args, **kwargs):
        """Run one API call with retries; on failure, fail_json with what was being done and why.

        ``not_found_ok=True`` returns None on 404 (reads of resources that may not exist).
        """
        not_found_ok = kwargs.pop("not_found_ok", False)

        def note_retry(exc, attempt, delay):
            self.retry_log.append({"action": action, "attempt": attempt + 1, "error": describe_api_error(exc),
                                   "delay": round(delay, 2)})

        try:
            return self.retry_policy.call(func, *args, on_retry=note_retry, **kwargs)
        except gexc.NotFound:
            if not_found_ok:
                return None
            raise_to = "Failed to %s: not found" % action
            self.fail_json(msg=raise_to, retries=self.retry_log)
        except gexc.GoogleAPIError as exc:
            self.fail_api(action, exc)

    def fail_api(self, action, exc, **extra):
        """Fail with 'Failed to ACTION: HTTP 403 PERMISSION_DENIED: message' plus the retries made."""
        extra.setdefault("retries", self.retry_log)
        self.fail_json(msg="Failed to %s: %s" % (action, describe_api_error(exc)), **extra)

# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The module side of reaching Google Cloud.

- ``gcp_argument_spec(service)``: the shared connection options (documented in the ``gcp`` doc fragment).
- ``GcpModule``: an AnsibleModule that owns one client (from ``gcp.client``), retries API calls with the Google
  predicate of ``gcp.api_errors`` and raises ``ApiError`` for failures; ``main()`` turns them into ``fail_json``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import inspect
import traceback
from urllib.parse import urlparse

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import AccelciError, ApiError
from ansible_collections.accelci.runners.plugins.module_utils._common.retries import RetryPolicy
from ansible_collections.accelci.runners.plugins.module_utils.gcp.api_errors import (
    connection_reason,
    describe_api_error,
    error_http_code,
    error_status,
    is_connection_error,
    is_retryable,
    root_cause,
)
from ansible_collections.accelci.runners.plugins.module_utils.gcp.client import (
    CLOUD_PLATFORM_SCOPE,
    GOOGLE_AUTH_IMP_ERR,
    HAS_GOOGLE_AUTH,
    SERVICES,
    gcp_client,
)

try:
    from google.api_core import exceptions as gexc
except ImportError:  # reported through HAS_GOOGLE_AUTH
    gexc = None


# How messages name each service, and the host its client reaches when no api_endpoint is given.
SERVICE_NAMES = {"container": "GKE API", "filestore": "Filestore API", "storage": "Cloud Storage API",
                 "compute": "Compute Engine API", "cloudquotas": "Cloud Quotas API"}
_DEFAULT_HOSTS = {"filestore": "file.googleapis.com"}


def service_endpoint(service, api_endpoint=None):
    """(service name for messages, URL host, endpoint URL) of the endpoint a service's client reaches."""
    url = (api_endpoint or "").rstrip("/") or "https://%s" % _DEFAULT_HOSTS.get(service, "%s.googleapis.com" % service)
    if "://" not in url:
        url = "https://" + url
    host = urlparse(url).netloc or url
    return SERVICE_NAMES.get(service, "%s API" % service), host, url


def _without_library_retry(func, kwargs):
    """The call's keyword arguments with the client library's own retry turned off when the method takes one.

    GAPIC methods retry reads for 20 s and storage methods for 120 s by themselves, then raise a RetryError that
    hides the cause ("Timeout of 20.0s exceeded"); the module's policy is the one retry, so every attempt is
    recorded in ``retries`` and the last cause is reported.
    """
    if "retry" in kwargs:
        return kwargs
    try:
        takes_retry = "retry" in inspect.signature(func).parameters
    except (TypeError, ValueError):  # builtins and some C callables have no signature
        takes_retry = False
    return dict(kwargs, retry=None) if takes_retry else kwargs


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
        self.retry_policy = RetryPolicy(is_retryable, timeout=float(self.params.get("wait_timeout") or 300))
        self.retry_log = []

    @property
    def client(self):
        """The service's client, created on first use so input checks run before anything is built.

        Raises AccelciError when the client library is missing, GcpCredentialsError when credentials fail.
        """
        if self._client is None:
            try:
                self._client = gcp_client(self.service, self.params)
            except ImportError:
                raise AccelciError(missing_required_lib(SERVICES[self.service][1]), exception=traceback.format_exc())
        return self._client

    def call(self, action, func, *args, **kwargs):
        """Run one API call with retries. Raises ApiError ('Failed to ACTION: ...') with the retries made.

        ``not_found_ok=True`` returns None on 404 (reads of resources that may not exist).
        """
        not_found_ok = kwargs.pop("not_found_ok", False)

        def note_retry(exc, attempt, delay):
            self.retry_log.append({"action": action, "attempt": attempt + 1, "error": describe_api_error(exc),
                                   "delay": round(delay, 2)})

        kwargs = _without_library_retry(func, kwargs)
        try:
            return self.retry_policy.call(func, *args, on_retry=note_retry, **kwargs)
        except gexc.NotFound as exc:
            if not_found_ok:
                return None
            raise self.api_error(action, exc)
        except Exception as exc:  # API errors and unreachable endpoints are reported; anything else is a bug
            if is_connection_error(exc):
                raise self.unreachable_error(action, exc)
            if isinstance(exc, gexc.GoogleAPIError):
                raise self.api_error(action, exc)
            raise

    def unreachable_error(self, action, exc):
        """ApiError 'Failed to ACTION: the GKE API at HOST (URL) could not be reached: connection refused', after
        the retries made; ``endpoint`` and ``service`` in the details say which one."""
        name, host, url = service_endpoint(self.service, self.params.get("api_endpoint"))
        reason = connection_reason(exc) or type(root_cause(exc)).__name__
        tries = sum(1 for entry in self.retry_log if entry["action"] == action) + 1
        return ApiError("Failed to %s: the %s at %s (%s) could not be reached: %s (%d attempt%s until wait_timeout); "
                        "check api_endpoint, the network and any proxy" % (action, name, host, url, reason, tries,
                                                                           "" if tries == 1 else "s"),
                        service=self.service, endpoint=url, retries=self.retry_log)

    def api_error(self, action, exc, **details):
        """ApiError 'Failed to ACTION: HTTP 403 PERMISSION_DENIED: message' with the HTTP code and retries made."""
        details.setdefault("retries", self.retry_log)
        details.setdefault("status", error_status(exc))
        details.setdefault("http_code", error_http_code(exc))
        return ApiError("Failed to %s: %s" % (action, describe_api_error(exc)), **details)

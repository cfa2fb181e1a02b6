# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Credentials and the one client factory of this collection.

- ``gcp_credentials(params)``: Application Default Credentials, a service-account key, an access token, or none
  (anonymous) when the endpoint is a local emulator (``http://``).
- ``gcp_client(service, params)``: the client for ``container``, ``filestore``, ``storage``, ``compute`` (a
  ``ComputeClients`` bundle: Compute Engine has one client class per resource) or ``cloudquotas``, with the
  ``api_endpoint`` override.

``params`` are the connection options of ``gcp.module.gcp_argument_spec()``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import traceback

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import AccelciError

try:
    import google.auth
    import google.auth.credentials
    import google.auth.exceptions
    from google.api_core.gapic_v1.client_info import ClientInfo
    from google.oauth2 import credentials as oauth2_credentials
    from google.oauth2 import service_account

    HAS_GOOGLE_AUTH = True
    GOOGLE_AUTH_IMP_ERR = None
except ImportError:
    HAS_GOOGLE_AUTH = False
    GOOGLE_AUTH_IMP_ERR = traceback.format_exc()

_USER_AGENT = "accelci-runners/0.1.0"
CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"

# service -> (python import, pip package, endpoint env var). The env var is the api_endpoint option's fallback.
SERVICES = {
    "container": ("google.cloud.container_v1", "google-cloud-container", "ACCELCI_GKE_API_ENDPOINT"),
    "filestore": ("google.cloud.filestore_v1", "google-cloud-filestore", "ACCELCI_FILESTORE_API_ENDPOINT"),
    "storage": ("google.cloud.storage", "google-cloud-storage", "STORAGE_EMULATOR_HOST"),
    "compute": ("google.cloud.compute_v1", "google-cloud-compute", "ACCELCI_COMPUTE_API_ENDPOINT"),
    "cloudquotas": ("google.cloud.cloudquotas_v1", "google-cloud-quotas", "ACCELCI_CLOUDQUOTAS_API_ENDPOINT"),
}


class GcpCredentialsError(AccelciError):
    """Credentials could not be built; ``field`` names the connection option to fix."""


def is_emulator_endpoint(endpoint):
    """A plain-HTTP endpoint is a local emulator: no credentials are sent to it."""
    return bool(endpoint) and endpoint.startswith("http://")


def resolved_auth_kind(params):
    """auth_kind as given, or 'none' for an emulator endpoint, else what the options given imply."""
    if params.get("auth_kind"):
        return params["auth_kind"]
    if is_emulator_endpoint(params.get("api_endpoint")):
        return "none"
    if params.get("access_token"):
        return "accesstoken"
    if params.get("service_account_file") or params.get("service_account_contents"):
        return "serviceaccount"
    return "application"


def _service_account_credentials(params, scopes):
    contents = params.get("service_account_contents")
    path = params.get("service_account_file")
    field = "service_account_contents" if contents else "service_account_file"
    try:
        if contents:
            info = json.loads(contents) if isinstance(contents, str) else contents
            return service_account.Credentials.from_service_account_info(info, scopes=scopes)
        if path:
            return service_account.Credentials.from_service_account_file(path, scopes=scopes)
    except (ValueError, OSError) as exc:
        raise GcpCredentialsError("cannot read the service account key: %s" % to_native(exc), field=field)
    raise GcpCredentialsError("auth_kind=serviceaccount needs service_account_file or service_account_contents",
                              field="service_account_file")


def _default_credentials(scopes):
    try:
        credentials, _project = google.auth.default(scopes=scopes)
    except google.auth.exceptions.DefaultCredentialsError as exc:
        raise GcpCredentialsError(
            "no Application Default Credentials: run 'gcloud auth application-default login', set "
            "GOOGLE_APPLICATION_CREDENTIALS, or give service_account_file / access_token (%s)" % to_native(exc),
            field="auth_kind",
        )
    return credentials


def gcp_credentials(params):
    """Build google.auth credentials from the connection options; GcpCredentialsError says what to fix."""
    kind = resolved_auth_kind(params)
    scopes = params.get("scopes") or [CLOUD_PLATFORM_SCOPE]
    if kind == "none":
        return google.auth.credentials.AnonymousCredentials()
    if kind == "accesstoken":
        if not params.get("access_token"):
            raise GcpCredentialsError("auth_kind=accesstoken needs access_token (or GCP_ACCESS_TOKEN)",
                                      field="access_token")
        return oauth2_credentials.Credentials(params["access_token"])
    if kind == "serviceaccount":
        return _service_account_credentials(params, scopes)
    return _default_credentials(scopes)


class ComputeClients(object):
    """Compute Engine's clients (one class per resource), built on first use with the same options.

    Attributes: ``regions``, ``zones``, ``machine_types``, ``accelerator_types``, ``projects``.
    """

    _CLASSES = {"regions": "RegionsClient", "zones": "ZonesClient", "machine_types": "MachineTypesClient",
                "accelerator_types": "AcceleratorTypesClient", "projects": "ProjectsClient"}

    def __init__(self, compute_module, **client_kwargs):
        self._module = compute_module
        self._kwargs = client_kwargs
        self._clients = {}

    def __getattr__(self, resource):
        if resource.startswith("_") or resource not in self._CLASSES:
            raise AttributeError(resource)
        if resource not in self._clients:
            self._clients[resource] = getattr(self._module, self._CLASSES[resource])(**self._kwargs)
        return self._clients[resource]


def _client_class(service):
    """The client class of a service, imported on first use (ImportError when its library is missing)."""
    if service == "compute":
        from google.cloud import compute_v1

        return lambda **kwargs: ComputeClients(compute_v1, **kwargs)
    if service == "cloudquotas":
        from google.cloud import cloudquotas_v1

        return cloudquotas_v1.CloudQuotasClient
    if service == "container":
        from google.cloud import container_v1

        return container_v1.ClusterManagerClient
    if service == "filestore":
        from google.cloud import filestore_v1

        return filestore_v1.CloudFilestoreManagerClient
    from google.cloud import storage

    return storage.Client


def gcp_client(service, params):
    """Create the client for one service (see SERVICES) from connection options.

    GAPIC clients talk REST, so an ``http://`` endpoint keeps them on plain HTTP (an emulator).
    """
    if service not in SERVICES:
        raise ValueError("unknown service %r; known: %s" % (service, ", ".join(sorted(SERVICES))))
    credentials = gcp_credentials(params)
    endpoint = params.get("api_endpoint")
    options = {"api_endpoint": endpoint.rstrip("/")} if endpoint else None
    info = ClientInfo(user_agent=_USER_AGENT)
    client_class = _client_class(service)
    if service == "storage":
        return client_class(project=params.get("project"), credentials=credentials, client_options=options,
                            client_info=info)
    return client_class(transport="rest", credentials=credentials, client_options=options, client_info=info)

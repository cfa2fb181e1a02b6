# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # How every GCP module of this collection authenticates and which endpoint it talks to.
    DOCUMENTATION = r"""
options:
  auth_kind:
    description:
      - How to authenticate.
      - V(application) uses Application Default Credentials (C(gcloud auth application-default login),
        E(GOOGLE_APPLICATION_CREDENTIALS), or the metadata server).
      - V(serviceaccount) reads a service-account key from O(service_account_file) or O(service_account_contents).
      - V(accesstoken) sends O(access_token) as is.
      - V(none) sends no credentials; it is chosen automatically when O(api_endpoint) is a plain C(http://) URL
        (a local emulator).
      - When unset, the kind follows from what is given, defaulting to V(application).
      - Falls back to the E(GCP_AUTH_KIND) environment variable.
    type: str
    choices: [application, serviceaccount, accesstoken, none]
    version_added: 0.1.0
  service_account_file:
    description:
      - Path to a service-account JSON key. Falls back to E(GCP_SERVICE_ACCOUNT_FILE).
    type: path
    version_added: 0.1.0
  service_account_contents:
    description:
      - The service-account JSON key itself, as a string or dict. Falls back to E(GCP_SERVICE_ACCOUNT_CONTENTS).
    type: jsonarg
    version_added: 0.1.0
  access_token:
    description:
      - An OAuth2 access token. Falls back to E(GCP_ACCESS_TOKEN).
    type: str
    version_added: 0.1.0
  scopes:
    description:
      - OAuth2 scopes for service-account and default credentials.
    type: list
    elements: str
    default: ['https://www.googleapis.com/auth/cloud-platform']
    version_added: 0.1.0
  api_endpoint:
    description:
      - Override the API endpoint, for a private endpoint or a local emulator.
      - A plain C(http://host:port) URL talks HTTP without credentials.
      - Falls back to a per-service environment variable; E(ACCELCI_GKE_API_ENDPOINT) for GKE modules,
        E(ACCELCI_FILESTORE_API_ENDPOINT) for Filestore, E(STORAGE_EMULATOR_HOST) for Cloud Storage,
        E(ACCELCI_COMPUTE_API_ENDPOINT) for Compute Engine (regions, zones, quotas).
    type: str
    version_added: 0.1.0
requirements:
  - google-auth >= 2.30
notes:
  - API calls are retried with jittered exponential backoff on HTTP 429 and 5xx, and on GKE's
    C(FAILED_PRECONDITION) "incompatible operation" while another operation runs on the cluster,
    until the module's C(wait_timeout) (or 300 seconds) has passed.
  - A failed task names the option at fault in C(field) when there is one (input errors, credentials), and carries
    the API's C(status) and C(http_code) for refused calls.
"""

    PROJECT = r"""
options:
  project:
    description:
      - The Google Cloud project ID.
      - Falls back to the E(GCP_PROJECT) or E(GOOGLE_CLOUD_PROJECT) environment variable.
    type: str
    required: true
    version_added: 0.1.0
"""

    WAIT = r"""
options:
  wait:
    description:
      - Wait for the long-running operation to finish (and report its error if it fails).
    type: bool
    default: true
    version_added: 0.1.0
  wait_timeout:
    description:
      - How long to wait for operations and retries, in seconds.
    type: int
    default: 1800
    version_added: 0.1.0
"""

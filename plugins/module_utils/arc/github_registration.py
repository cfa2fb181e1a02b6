# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Ask GitHub whether a runner scale set is registered, the way ARC's controller reaches it (its github/actions
client): a runner registration token from the REST API (POST .../actions/runners/registration-token), exchanged at
``actions/runner-registration`` for the Actions service URL and an admin token, then
``GET <service>/_apis/runtime/runnerscalesets/<id>``. The registration token expires within the hour and registers
nothing by itself. The token given is never put in a message.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import traceback

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import AccelciError
from ansible_collections.accelci.runners.plugins.module_utils.arc.github import parse_github_config_url

try:
    import requests

    HAS_REQUESTS = True
    REQUESTS_IMP_ERR = None
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMP_ERR = traceback.format_exc()

ACTIONS_API_VERSION = "6.0-preview"
# What the token needs to mint a registration token, by scope (GitHub's REST documentation).
_NEEDS = {"repository": "administration write on the repository (classic token: repo scope)",
          "organization": "organization self-hosted runners write (classic token: admin:org scope)",
          "enterprise": "enterprise administration (classic token: manage_runners:enterprise scope)"}


class GitHubRegistrationError(AccelciError):
    """GitHub refused or could not be reached; the message says which step and why."""


def api_base(scope, api_url=None):
    """The REST API root for a configuration URL: api.github.com, or https://HOST/api/v3 on GHES."""
    if api_url:
        return api_url.rstrip("/")
    return "https://%s/api/v3" % scope["host"] if scope["ghes"] else "https://api.github.com"


def _scope_path(scope):
    if scope["kind"] == "enterprise":
        return "enterprises/%s" % scope["enterprise"]
    if scope["kind"] == "repository":
        return "repos/%s/%s" % (scope["owner"], scope["repository"])
    return "orgs/%s" % scope["owner"]


class GitHubRegistration(object):
    """The Actions service of one configuration URL, reached with a token (PAT or an App installation token)."""

    def __init__(self, config_url, token, api_url=None, timeout=30):
        if not HAS_REQUESTS:
            raise AccelciError(missing_required_lib("requests"), exception=REQUESTS_IMP_ERR)
        self.scope = parse_github_config_url(config_url)
        self.api = api_base(self.scope, api_url)
        self._token = token
        self.timeout = timeout
        self._service = None

    def _request(self, step, method, url, expected, **kwargs):
        try:
            response = requests.request(method, url, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise GitHubRegistrationError("%s: GitHub could not be reached at %s (%s)" % (step, url.split("?")[0],
                                                                                          type(exc).__name__))
        if response.status_code == 404 and expected == "optional":
            return None
        if response.status_code not in (200, 201):
            try:
                message = response.json().get("message") or response.text[:200]
            except ValueError:
                message = response.text[:200]
            hint = ""
            if response.status_code in (401, 403, 404) and step == "registration token":
                hint = "; the token needs %s" % _NEEDS[self.scope["kind"]]
            raise GitHubRegistrationError("%s: GitHub answered %d %s%s" % (step, response.status_code, message, hint),
                                          status=response.status_code)
        return response.json()

    def _actions_service(self):
        """(service URL, admin token), once per configuration URL."""
        if self._service is None:
            registration = self._request(
                "registration token", "POST", "%s/%s/actions/runners/registration-token"
                % (self.api, _scope_path(self.scope)), "required",
                headers={"Authorization": "Bearer %s" % self._token, "Accept": "application/vnd.github+json"})
            service = self._request(
                "Actions service", "POST", "%s/actions/runner-registration" % self.api, "required",
                json={"url": self.scope["url"], "runner_event": "register"},
                headers={"Authorization": "RemoteAuth %s" % registration["token"]})
            self._service = (service["url"].rstrip("/") + "/", service["token"])
        return self._service

    def scale_set(self, scale_set_id):
        """The runner scale set GitHub holds under this id, or None when it has none."""
        url, token = self._actions_service()
        return self._request("runner scale set %s" % scale_set_id, "GET", "%s_apis/runtime/runnerscalesets/%s"
                             % (url, scale_set_id), "optional", params={"api-version": ACTIONS_API_VERSION},
                             headers={"Authorization": "Bearer %s" % token})

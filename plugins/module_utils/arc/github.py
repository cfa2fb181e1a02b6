# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Where runners register and the credentials they register with (pure; raises InputError).

- ``parse_github_config_url(url)``: repository, organization or enterprise, on github.com or a GHES host.
- ``github_secret_data(...)``: the keys of the Secret ARC reads, from a GitHub App or a token.
- ``github_secret_manifest(name, namespace, data)``: that Secret.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import InputError

_GITHUB_PATH_RE = re.compile(r"^/(?:enterprises/[A-Za-z0-9_.-]+|[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)?)/?$")
_APP_ID_RE = re.compile(r"^(?:[0-9]+|Iv[0-9A-Za-z.]+)$")
_DIGITS_RE = re.compile(r"^[0-9]+$")
_PEM_RE = re.compile(r"-----BEGIN (?:RSA )?PRIVATE KEY-----.+-----END (?:RSA )?PRIVATE KEY-----", re.S)
# The private key and the token are secrets. App and installation IDs are identifiers: masked in diffs, but not
# added to no_log_values, where a short number would hide unrelated output (fsGroup: 123).
SECRET_KEYS = ("github_app_private_key", "github_token")
ID_KEYS = ("github_app_id", "github_app_installation_id")
_APP_FIELDS = ("github_app_id", "github_app_installation_id", "github_app_private_key")


def parse_github_config_url(url):
    """Classify a githubConfigUrl: repository, organization or enterprise, on github.com or a GHES host."""
    match = re.match(r"^https://([A-Za-z0-9.-]+(?::[0-9]+)?)(/.*)$", url or "")
    if not match or not _GITHUB_PATH_RE.match(match.group(2)):
        raise InputError("github_config_url", "%r is not a GitHub configuration URL; use https://HOST/ORG, "
                                              "https://HOST/ORG/REPO or https://HOST/enterprises/ENTERPRISE "
                                              "(HOST github.com or your GHES host)" % (url,))
    host = match.group(1)
    parts = [p for p in match.group(2).split("/") if p]
    if parts[0] == "enterprises":
        scope = dict(kind="enterprise", enterprise=parts[1])
    elif len(parts) == 2:
        scope = dict(kind="repository", owner=parts[0], repository=parts[1])
    else:
        scope = dict(kind="organization", owner=parts[0])
    scope.update(host=host, ghes=host.lower() not in ("github.com", "www.github.com"), url=url.rstrip("/"))
    return scope


def _check_app(app_id, installation_id, private_key):
    missing = [n for n, v in zip(_APP_FIELDS, (app_id, installation_id, private_key)) if not v]
    if missing:
        raise InputError(missing[0], "a GitHub App needs github_app_id, github_app_installation_id and "
                                     "github_app_private_key; missing: %s" % ", ".join(missing))
    if not _APP_ID_RE.match(str(app_id)):
        raise InputError("github_app_id", "must be the App's numeric ID or its client ID (Iv...)")
    if not _DIGITS_RE.match(str(installation_id)):
        raise InputError("github_app_installation_id", "must be the numeric installation ID")
    # The key itself is never quoted back: only what it should look like.
    if not _PEM_RE.search(str(private_key)):
        raise InputError("github_app_private_key", "is not a PEM private key (-----BEGIN RSA PRIVATE KEY----- "
                                                   "... -----END RSA PRIVATE KEY-----)")


def github_secret_data(app_id=None, installation_id=None, private_key=None, token=None):
    """The keys of the GitHub Secret ARC reads, from exactly one of GitHub App or PAT."""
    app_given = [v for v in (app_id, installation_id, private_key) if v]
    if token and app_given:
        raise InputError("github_token", "give either a GitHub App (github_app_id, github_app_installation_id, "
                                         "github_app_private_key) or github_token, not both")
    if token:
        return {"github_token": str(token)}
    if not app_given:
        raise InputError("github_app_id", "GitHub credentials are missing: give github_app_id, "
                                          "github_app_installation_id and github_app_private_key (recommended), "
                                          "github_token, or existing_secret (the name of a Secret you created)")
    _check_app(app_id, installation_id, private_key)
    return {"github_app_id": str(app_id), "github_app_installation_id": str(installation_id),
            "github_app_private_key": str(private_key)}


def github_secret_manifest(name, namespace, data):
    """The Secret ARC reads its GitHub credentials from (githubConfigSecret names it)."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace,
                     "labels": {"app.kubernetes.io/managed-by": "accelci-runners",
                                "app.kubernetes.io/part-of": "gha-rs"}},
        "type": "Opaque",
        "stringData": dict(data),
    }

# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Kubernetes exec credential plugin: a Google access token for a GKE cluster's API (private to this collection).

``gke_kubeconfig`` writes this file next to the kubeconfig it generates, as ``accelci-gke-credential.py``, and
names it in the kubeconfig's ``users[].user.exec``. client-go (kubectl, helm) and the Kubernetes Python client run
it as ``PYTHON accelci-gke-credential.py`` whenever they need a token; it prints an ``ExecCredential``
(``client.authentication.k8s.io/v1``) with ``status.token`` and, when the credentials expire,
``status.expirationTimestamp``. The token only ever travels through its stdout.

It runs outside Ansible, so it imports nothing from Ansible or this collection: only the standard library, and
google-auth on first use. Credentials are chosen as ``gcp.client.gcp_credentials()`` chooses them, from the
environment:

- ``ACCELCI_GCP_AUTH_KIND`` (else ``GCP_AUTH_KIND``): ``application``, ``serviceaccount`` or ``accesstoken``;
  when unset, an access token means ``accesstoken``, a service account key ``serviceaccount``, else
  ``application`` (Application Default Credentials);
- ``ACCELCI_GCP_SERVICE_ACCOUNT_FILE`` (else ``GCP_SERVICE_ACCOUNT_FILE``): a service account key file;
- ``GCP_SERVICE_ACCOUNT_CONTENTS`` and ``GCP_ACCESS_TOKEN``: secrets, read only from the inherited environment
  (the kubeconfig never carries them).

On failure it writes one line to stderr saying what to set or fix (never a token or key) and exits 1; client-go
shows that line in its error. ``main()`` returns the exit code, so tests call it in-process.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import os
import sys

API_VERSION = "client.authentication.k8s.io/v1"
SCOPES = ("https://www.googleapis.com/auth/cloud-platform", "https://www.googleapis.com/auth/userinfo.email")
AUTH_KINDS = ("application", "serviceaccount", "accesstoken")

AUTH_KIND_VARS = ("ACCELCI_GCP_AUTH_KIND", "GCP_AUTH_KIND")
SERVICE_ACCOUNT_FILE_VARS = ("ACCELCI_GCP_SERVICE_ACCOUNT_FILE", "GCP_SERVICE_ACCOUNT_FILE")
SERVICE_ACCOUNT_CONTENTS_VAR = "GCP_SERVICE_ACCOUNT_CONTENTS"
ACCESS_TOKEN_VAR = "GCP_ACCESS_TOKEN"

_PROGRAM = "accelci-gke-credential"
_REDACTED = "<redacted>"


class CredentialError(Exception):
    """What is missing or wrong, said so a user can act on it; never carries a token or key material."""


def _first_set(environ, names):
    """(name, value) of the first variable of ``names`` set to a non-empty value, or (None, None)."""
    for name in names:
        value = environ.get(name)
        if value:
            return name, value
    return None, None


def auth_kind(environ):
    """The kind of credentials to use, as gcp_credentials() resolves auth_kind; CredentialError for a bad kind."""
    name, kind = _first_set(environ, AUTH_KIND_VARS)
    if kind:
        if kind not in AUTH_KINDS:
            raise CredentialError("%s=%s cannot give a Kubernetes token; accepted: %s. Set %s to one of them (it "
                                  "wins over %s), or unset both to choose from the credentials that are set"
                                  % (name, kind, ", ".join(AUTH_KINDS), AUTH_KIND_VARS[0], AUTH_KIND_VARS[1]))
        return kind
    if environ.get(ACCESS_TOKEN_VAR):
        return "accesstoken"
    if environ.get(SERVICE_ACCOUNT_CONTENTS_VAR) or _first_set(environ, SERVICE_ACCOUNT_FILE_VARS)[1]:
        return "serviceaccount"
    return "application"


def _secrets(environ):
    """Values that must never reach stderr: the token, the key contents, and the private key in them, whole and
    line by line."""
    values = [environ.get(ACCESS_TOKEN_VAR), environ.get(SERVICE_ACCOUNT_CONTENTS_VAR)]
    try:
        private_key = json.loads(environ.get(SERVICE_ACCOUNT_CONTENTS_VAR) or "{}").get("private_key") or ""
    except (ValueError, AttributeError):
        private_key = ""
    values.append(private_key)
    values.extend(line for line in private_key.splitlines() if "-----" not in line)
    return sorted((value for value in values if isinstance(value, str) and len(value) >= 8), key=len, reverse=True)


def redact(text, secrets):
    """``text`` on one line, with every secret replaced."""
    for secret in secrets:
        text = text.replace(secret, _REDACTED)
    return " ".join(str(text).split())


def _google_auth():
    """(google.auth, google.oauth2.service_account), imported on first use: the accesstoken kind needs neither."""
    try:
        import google.auth
        import google.auth.exceptions
        import google.auth.transport.requests
        from google.oauth2 import service_account
    except ImportError as exc:
        raise CredentialError("the Python packages google-auth and requests are needed for application and "
                              "serviceaccount credentials, and %s cannot import them: %s" % (sys.executable, exc))
    return google.auth, service_account


def _service_account_credentials(environ):
    google_auth, service_account = _google_auth()
    contents = environ.get(SERVICE_ACCOUNT_CONTENTS_VAR)
    name, path = _first_set(environ, SERVICE_ACCOUNT_FILE_VARS)
    try:
        if contents:
            info = json.loads(contents)
            if not isinstance(info, dict):
                raise ValueError("it is not a JSON object")
            return service_account.Credentials.from_service_account_info(info, scopes=list(SCOPES))
        if path:
            return service_account.Credentials.from_service_account_file(path, scopes=list(SCOPES))
    except (ValueError, OSError, google_auth.exceptions.GoogleAuthError) as exc:
        where = SERVICE_ACCOUNT_CONTENTS_VAR if contents else "%s=%s" % (name, path)
        raise CredentialError("cannot read the service account key in %s: %s" % (where, exc))
    raise CredentialError("auth kind serviceaccount needs a service account key: set ACCELCI_GCP_SERVICE_ACCOUNT_FILE "
                          "(or GCP_SERVICE_ACCOUNT_FILE) to a key file, or GCP_SERVICE_ACCOUNT_CONTENTS")


def _default_credentials():
    google_auth = _google_auth()[0]
    try:
        credentials, _project = google_auth.default(scopes=list(SCOPES))
    except google_auth.exceptions.DefaultCredentialsError as exc:
        raise CredentialError("no Application Default Credentials: run 'gcloud auth application-default login', set "
                              "GOOGLE_APPLICATION_CREDENTIALS, or set GCP_ACCESS_TOKEN or "
                              "ACCELCI_GCP_SERVICE_ACCOUNT_FILE (%s)" % exc)
    return credentials


def _refreshed(credentials, kind):
    """The credentials after a refresh, which is what fetches their token."""
    google_auth = _google_auth()[0]
    try:
        credentials.refresh(google_auth.transport.requests.Request())
    except google_auth.exceptions.GoogleAuthError as exc:
        raise CredentialError("cannot get a token with the %s credentials: %s" % (kind, exc))
    if not credentials.token:
        raise CredentialError("the %s credentials returned no token" % kind)
    return credentials


def rfc3339(moment):
    """A datetime as RFC 3339 UTC (``2026-01-02T03:04:05Z``); google-auth's expiries are naive UTC."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def token_and_expiry(environ):
    """(access token, expiry datetime or None) from the credentials the environment names."""
    kind = auth_kind(environ)
    if kind == "accesstoken":
        token = environ.get(ACCESS_TOKEN_VAR)
        if not token:
            raise CredentialError("auth kind accesstoken needs GCP_ACCESS_TOKEN in the environment")
        return token, None  # used as given, as gcp_credentials() does: nothing to refresh
    if kind == "serviceaccount":
        credentials = _service_account_credentials(environ)
    else:
        credentials = _default_credentials()
    credentials = _refreshed(credentials, kind)
    return credentials.token, getattr(credentials, "expiry", None)


def exec_credential(environ):
    """The ExecCredential document for the credentials the environment names. Raises CredentialError."""
    token, expiry = token_and_expiry(environ)
    status = {"token": token}
    if expiry is not None:
        status["expirationTimestamp"] = rfc3339(expiry)
    return {"apiVersion": API_VERSION, "kind": "ExecCredential", "status": status}


def main(environ=None, stdout=None, stderr=None):
    """Print the ExecCredential to ``stdout``; on failure one line to ``stderr``. Returns the exit code."""
    environ = os.environ if environ is None else environ
    stdout = sys.stdout if stdout is None else stdout
    stderr = sys.stderr if stderr is None else stderr
    try:
        document = exec_credential(environ)
    except CredentialError as exc:
        stderr.write("%s: %s\n" % (_PROGRAM, redact(str(exc), _secrets(environ))))
        return 1
    except Exception as exc:  # anything else still gets one line, never a traceback that could quote a secret
        stderr.write("%s: unexpected %s: %s\n" % (_PROGRAM, type(exc).__name__, redact(str(exc), _secrets(environ))))
        return 1
    stdout.write(json.dumps(document, sort_keys=True) + "\n")
    stdout.flush()
    return 0


if __name__ == "__main__":
    # A program that client-go runs, not an Ansible module: its exit status is the answer.
    raise SystemExit(main())

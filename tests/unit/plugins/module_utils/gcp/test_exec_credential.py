"""The exec credential plugin (gcp/exec_credential.py): in-process through main(), and as the program client-go runs.

Service account credentials are refreshed for real (a JWT signed with a key made here) against a local token
endpoint, so no test reaches Google.
"""

import ast
import base64
import datetime
import io
import json
import os
import shutil
import subprocess
import sys
import urllib.parse

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import exceptions as gauth_exceptions

from ansible_collections.accelci.runners.plugins.module_utils.gcp import exec_credential
from ansible_collections.accelci.runners.plugins.module_utils.gcp.client import resolved_auth_kind
from tests.unit.recorded_http import RecordedHttp

TOKEN = "ya29.planted-access-token-Qm41"
SA_TOKEN = "ya29.service-account-token-Zx07"
SOURCE = exec_credential.__file__


def run_main(environ):
    stdout, stderr = io.StringIO(), io.StringIO()
    code = exec_credential.main(environ=environ, stdout=stdout, stderr=stderr)
    return code, stdout.getvalue(), stderr.getvalue()


@pytest.fixture(scope="module")
def private_key_pem():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


@pytest.fixture
def token_endpoint():
    """A local OAuth2 token endpoint that grants SA_TOKEN for an hour."""
    with RecordedHttp() as server:
        server.route("POST /token", (200, {"access_token": SA_TOKEN, "expires_in": 3600, "token_type": "Bearer"}))
        yield server


@pytest.fixture
def key_info(private_key_pem, token_endpoint):
    return {"type": "service_account", "project_id": "accelci-test", "private_key_id": "k1",
            "private_key": private_key_pem, "client_email": "deployer@accelci-test.iam.gserviceaccount.com",
            "client_id": "1", "token_uri": token_endpoint.endpoint + "/token"}


@pytest.fixture
def key_file(tmp_path, key_info):
    path = tmp_path / "deployer.json"
    path.write_text(json.dumps(key_info))
    return str(path)


def test_access_token_is_printed_as_an_exec_credential():
    code, out, err = run_main({"ACCELCI_GCP_AUTH_KIND": "accesstoken", "GCP_ACCESS_TOKEN": TOKEN})
    assert (code, err) == (0, "")
    assert json.loads(out) == {"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
                               "status": {"token": TOKEN}}


def test_an_access_token_alone_means_accesstoken():
    assert exec_credential.auth_kind({"GCP_ACCESS_TOKEN": TOKEN}) == "accesstoken"
    assert exec_credential.auth_kind({"GCP_SERVICE_ACCOUNT_FILE": "/k.json"}) == "serviceaccount"
    assert exec_credential.auth_kind({"GCP_SERVICE_ACCOUNT_CONTENTS": "{}"}) == "serviceaccount"
    assert exec_credential.auth_kind({}) == "application"
    # ACCELCI_GCP_AUTH_KIND (what the kubeconfig sets) wins over GCP_AUTH_KIND.
    assert exec_credential.auth_kind({"ACCELCI_GCP_AUTH_KIND": "application", "GCP_AUTH_KIND": "accesstoken",
                                      "GCP_ACCESS_TOKEN": TOKEN}) == "application"
    assert exec_credential.auth_kind({"GCP_AUTH_KIND": "serviceaccount", "GCP_ACCESS_TOKEN": TOKEN}) == "serviceaccount"


@pytest.mark.parametrize("params", [
    {}, {"access_token": TOKEN}, {"service_account_file": "/k.json"}, {"service_account_contents": "{}"},
    {"access_token": TOKEN, "service_account_file": "/k.json"}, {"auth_kind": "application", "access_token": TOKEN},
    {"auth_kind": "serviceaccount", "access_token": TOKEN}, {"auth_kind": "accesstoken"},
])
def test_the_helper_resolves_the_kind_as_the_modules_do(params):
    """The helper cannot import gcp.client; this keeps the two resolutions from drifting apart."""
    names = {"auth_kind": "GCP_AUTH_KIND", "access_token": "GCP_ACCESS_TOKEN",
             "service_account_file": "GCP_SERVICE_ACCOUNT_FILE", "service_account_contents": "GCP_SERVICE_ACCOUNT_CONTENTS"}
    environ = dict((names[key], value) for key, value in params.items())
    assert exec_credential.auth_kind(environ) == resolved_auth_kind(dict(params, api_endpoint=None))


def test_service_account_key_file_is_refreshed_with_both_scopes_and_gets_an_expiry(key_file, token_endpoint):
    before = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    code, out, err = run_main({"ACCELCI_GCP_AUTH_KIND": "serviceaccount", "ACCELCI_GCP_SERVICE_ACCOUNT_FILE": key_file,
                               "GCP_SERVICE_ACCOUNT_FILE": "/not/this/one.json"})
    assert (code, err) == (0, "")
    status = json.loads(out)["status"]
    assert status["token"] == SA_TOKEN
    expiry = datetime.datetime.strptime(status["expirationTimestamp"], "%Y-%m-%dT%H:%M:%SZ")
    expiry = expiry.replace(tzinfo=datetime.timezone.utc)
    # google-auth takes a safety margin off expires_in; the expiry is about an hour away, in UTC.
    assert before + datetime.timedelta(minutes=50) <= expiry <= before + datetime.timedelta(minutes=61)
    grant = dict(urllib.parse.parse_qsl(token_endpoint.requests[0]["body"]))
    assert grant["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    payload = grant["assertion"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["iss"] == "deployer@accelci-test.iam.gserviceaccount.com"
    assert claims["scope"].split() == ["https://www.googleapis.com/auth/cloud-platform",
                                       "https://www.googleapis.com/auth/userinfo.email"]


def test_service_account_contents_win_over_the_file(key_info, tmp_path):
    code, out, err = run_main({"GCP_SERVICE_ACCOUNT_CONTENTS": json.dumps(key_info),
                               "GCP_SERVICE_ACCOUNT_FILE": str(tmp_path / "missing.json")})
    assert (code, err) == (0, "")
    assert json.loads(out)["status"]["token"] == SA_TOKEN


def test_nothing_usable_names_what_to_set(monkeypatch):
    import google.auth

    def no_default(scopes=None, **_kwargs):
        raise gauth_exceptions.DefaultCredentialsError("Your default credentials were not found.\nSee the docs.")

    monkeypatch.setattr(google.auth, "default", no_default)
    code, out, err = run_main({})
    assert (code, out) == (1, "")
    assert err.count("\n") == 1 and err.startswith("accelci-gke-credential: ")
    for hint in ("gcloud auth application-default login", "GOOGLE_APPLICATION_CREDENTIALS", "GCP_ACCESS_TOKEN",
                 "ACCELCI_GCP_SERVICE_ACCOUNT_FILE", "Your default credentials were not found. See the docs."):
        assert hint in err


def test_accesstoken_without_a_token_names_the_variable():
    code, out, err = run_main({"GCP_AUTH_KIND": "accesstoken"})
    assert (code, out) == (1, "")
    assert "auth kind accesstoken needs GCP_ACCESS_TOKEN" in err


def test_serviceaccount_without_a_key_names_the_variables():
    code, _out, err = run_main({"ACCELCI_GCP_AUTH_KIND": "serviceaccount", "GCP_ACCESS_TOKEN": TOKEN})
    assert code == 1
    assert "ACCELCI_GCP_SERVICE_ACCOUNT_FILE" in err and "GCP_SERVICE_ACCOUNT_CONTENTS" in err
    assert TOKEN not in err


def test_an_auth_kind_that_gives_no_token_is_refused():
    code, _out, err = run_main({"GCP_AUTH_KIND": "none", "GCP_ACCESS_TOKEN": TOKEN})
    assert code == 1
    assert "GCP_AUTH_KIND=none" in err and "application, serviceaccount, accesstoken" in err
    assert TOKEN not in err


def test_a_missing_key_file_names_the_variable_and_the_path(tmp_path):
    missing = str(tmp_path / "missing.json")
    code, _out, err = run_main({"ACCELCI_GCP_SERVICE_ACCOUNT_FILE": missing})
    assert code == 1
    assert "ACCELCI_GCP_SERVICE_ACCOUNT_FILE=%s" % missing in err


def test_broken_key_contents_are_never_echoed(key_info):
    secret = key_info["private_key"]
    broken = dict(key_info, private_key=secret.replace("PRIVATE KEY", "NOT A KEY"))
    for contents in (json.dumps(broken), json.dumps(broken)[:-5],
                     json.dumps(dict((k, v) for k, v in key_info.items() if k != "client_email"))):
        code, out, err = run_main({"GCP_SERVICE_ACCOUNT_CONTENTS": contents})
        assert (code, out) == (1, ""), err
        assert "GCP_SERVICE_ACCOUNT_CONTENTS" in err and err.count("\n") == 1
        for line in secret.splitlines()[1:-1]:
            assert line not in err


def test_a_refused_refresh_is_one_line_without_the_key(key_file, token_endpoint, key_info):
    token_endpoint.route("POST /token", (400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}))
    code, out, err = run_main({"ACCELCI_GCP_SERVICE_ACCOUNT_FILE": key_file})
    assert (code, out) == (1, "")
    assert "cannot get a token with the serviceaccount credentials" in err and "invalid_grant" in err
    assert err.count("\n") == 1
    assert key_info["private_key"].splitlines()[1] not in err


def test_an_unexpected_error_is_one_line_with_the_secret_redacted(monkeypatch):
    def boom(environ):
        raise RuntimeError("failed near %s\nsecond line" % environ["GCP_ACCESS_TOKEN"])

    monkeypatch.setattr(exec_credential, "token_and_expiry", boom)
    code, _out, err = run_main({"GCP_ACCESS_TOKEN": TOKEN})
    assert code == 1
    assert err == "accelci-gke-credential: unexpected RuntimeError: failed near <redacted> second line\n"


def test_rfc3339_is_utc():
    aware = datetime.datetime(2030, 1, 2, 5, 4, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))
    assert exec_credential.rfc3339(aware) == "2030-01-02T03:04:05Z"
    assert exec_credential.rfc3339(datetime.datetime(2030, 1, 2, 3, 4, 5, 999)) == "2030-01-02T03:04:05Z"


def test_the_helper_imports_only_the_standard_library_and_google_auth():
    with open(SOURCE) as handle:
        tree = ast.parse(handle.read())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported - set(sys.stdlib_module_names) == {"google"}
    assert "__future__" in imported


def _run_helper(tmp_path, env):
    """Run a copy of the helper the way client-go does: PYTHON HELPER, the token only in the environment."""
    helper = tmp_path / "accelci-gke-credential.py"
    shutil.copyfile(SOURCE, str(helper))
    argv = [sys.executable, str(helper)]
    proc = subprocess.run(argv, env=dict(env, PATH=os.environ.get("PATH", "")), cwd=str(tmp_path),
                          capture_output=True, text=True, timeout=60, check=False)
    return argv, proc


def test_the_helper_runs_as_a_program_with_the_token_only_in_its_environment(tmp_path):
    argv, proc = _run_helper(tmp_path, {"ACCELCI_GCP_AUTH_KIND": "accesstoken", "GCP_ACCESS_TOKEN": TOKEN})
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["status"] == {"token": TOKEN}
    assert proc.stderr == ""
    assert not [arg for arg in argv if TOKEN in arg]


def test_the_helper_as_a_program_with_a_key_file(tmp_path, key_file):
    _argv, proc = _run_helper(tmp_path, {"ACCELCI_GCP_SERVICE_ACCOUNT_FILE": key_file})
    assert proc.returncode == 0, proc.stderr
    status = json.loads(proc.stdout)["status"]
    assert status["token"] == SA_TOKEN and status["expirationTimestamp"].endswith("Z")


def test_the_helper_as_a_program_fails_in_one_line_without_the_token(tmp_path):
    argv, proc = _run_helper(tmp_path, {"ACCELCI_GCP_AUTH_KIND": "serviceaccount", "GCP_ACCESS_TOKEN": TOKEN})
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.startswith("accelci-gke-credential: auth kind serviceaccount needs a service account key")
    assert proc.stderr.count("\n") == 1
    assert TOKEN not in proc.stderr and not [arg for arg in argv if TOKEN in arg]


def test_a_line_of_the_private_key_in_an_error_is_redacted(monkeypatch, key_info):
    line = key_info["private_key"].splitlines()[3]

    def boom(environ):
        raise ValueError("bad data: %s" % line)

    monkeypatch.setattr(exec_credential, "token_and_expiry", boom)
    code, _out, err = run_main({"GCP_SERVICE_ACCOUNT_CONTENTS": json.dumps(key_info)})
    assert code == 1
    assert line not in err and "bad data: <redacted>" in err

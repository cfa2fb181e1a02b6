"""Credentials and the client factory (no server)."""

import pytest
from google.auth.credentials import AnonymousCredentials
from google.oauth2 import credentials as oauth2_credentials

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import AccelciError
from ansible_collections.accelci.runners.plugins.module_utils.gcp import client as gcp


def test_emulator_endpoint_gets_no_credentials():
    params = {"api_endpoint": "http://127.0.0.1:8089", "auth_kind": None}
    assert gcp.resolved_auth_kind(params) == "none"
    assert isinstance(gcp.gcp_credentials(params), AnonymousCredentials)


def test_access_token_credentials():
    params = {"auth_kind": None, "access_token": "ya29.token-for-test", "api_endpoint": None}
    assert gcp.resolved_auth_kind(params) == "accesstoken"
    creds = gcp.gcp_credentials(params)
    assert isinstance(creds, oauth2_credentials.Credentials)
    assert creds.token == "ya29.token-for-test"


def test_missing_service_account_key_names_the_options():
    with pytest.raises(gcp.GcpCredentialsError, match="service_account_file or service_account_contents") as err:
        gcp.gcp_credentials({"auth_kind": "serviceaccount"})
    assert isinstance(err.value, AccelciError)
    assert err.value.field == "service_account_file"
    assert err.value.fail_json_kwargs()["field"] == "service_account_file"


def test_missing_access_token_names_the_option():
    with pytest.raises(gcp.GcpCredentialsError, match="needs access_token") as err:
        gcp.gcp_credentials({"auth_kind": "accesstoken"})
    assert err.value.field == "access_token"


def test_no_default_credentials_says_how_to_get_them(monkeypatch, tmp_path):
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    with pytest.raises(gcp.GcpCredentialsError, match="gcloud auth application-default login") as err:
        gcp.gcp_credentials({"auth_kind": "application"})
    assert err.value.field == "auth_kind"


def test_client_factory_points_at_the_endpoint():
    client = gcp.gcp_client("container", {"api_endpoint": "http://127.0.0.1:8089", "project": "p"})
    assert client._transport._host == "http://127.0.0.1:8089"
    with pytest.raises(ValueError, match="unknown service"):
        gcp.gcp_client("pubsub", {"api_endpoint": "http://127.0.0.1:1"})

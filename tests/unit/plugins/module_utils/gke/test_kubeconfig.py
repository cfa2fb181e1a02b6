"""The kubeconfig of one GKE cluster (pure): names, server, CA, the exec entry, and what is refused."""

import pytest

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import AccelciError, InputError
from ansible_collections.accelci.runners.plugins.module_utils.gke import kubeconfig as kc

CA = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUMuLi4KLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo="
RUNNING = {"name": "ci-runners", "status": "RUNNING", "endpoint": "34.118.12.7",
           "master_auth": {"cluster_ca_certificate": CA}}
PARENT = "projects/accelci-test/locations/us-central1-b"


def test_names_and_path_follow_gcloud():
    assert kc.default_name("accelci-test", "us-central1-b", "ci-runners") == "gke_accelci-test_us-central1-b_ci-runners"
    assert kc.default_path("p", "us-central1", "c") == "~/.kube/accelci/p_us-central1_c.yaml"
    assert kc.helper_path("/home/ci/.kube/accelci/p_l_c.yaml") == "/home/ci/.kube/accelci/accelci-gke-credential.py"


def test_server_is_https_endpoint_and_the_ca_passes_through():
    assert kc.cluster_access(RUNNING, "ci-runners", PARENT) == ("https://34.118.12.7", CA)
    assert kc.cluster_access(dict(RUNNING, status="RECONCILING"), "ci-runners", PARENT)[0] == "https://34.118.12.7"


def test_an_endpoint_with_a_scheme_is_kept():
    assert kc.server_url("https://gke-0123.us-central1.gke.goog") == "https://gke-0123.us-central1.gke.goog"
    assert kc.server_url("http://127.0.0.1:6443") == "http://127.0.0.1:6443"
    assert kc.server_url("10.0.0.2:443") == "https://10.0.0.2:443"


@pytest.mark.parametrize("cluster, words", [
    (None, ["ci-runners does not exist in " + PARENT, "gke_cluster"]),
    (dict(RUNNING, status="PROVISIONING"), ["is PROVISIONING, not RUNNING or RECONCILING"]),
    (dict(RUNNING, status=None), ["is STATUS_UNSPECIFIED"]),
    (dict(RUNNING, endpoint=""), ["reports no endpoint"]),
    (dict(RUNNING, master_auth={}), ["reports no CA certificate (masterAuth.clusterCaCertificate)"]),
])
def test_a_cluster_without_a_usable_api_is_named(cluster, words):
    with pytest.raises(AccelciError) as err:
        kc.cluster_access(cluster, "ci-runners", PARENT)
    assert err.value.field == "cluster"
    for word in words:
        assert word in str(err.value)


def test_exec_entry_runs_the_helper_with_the_modules_python():
    doc = kc.kubeconfig_document("ctx", "https://34.118.12.7", CA, "/opt/venv/bin/python",
                                 "/home/ci/.kube/accelci/accelci-gke-credential.py", [])
    assert doc["current-context"] == "ctx"
    assert doc["clusters"] == [{"name": "ctx", "cluster": {"server": "https://34.118.12.7",
                                                           "certificate-authority-data": CA}}]
    assert doc["contexts"] == [{"name": "ctx", "context": {"cluster": "ctx", "user": "ctx"}}]
    (user,) = doc["users"]
    assert user["name"] == "ctx"
    exec_entry = user["user"]["exec"]
    assert exec_entry["apiVersion"] == "client.authentication.k8s.io/v1"
    assert exec_entry["command"] == "/opt/venv/bin/python"
    assert exec_entry["args"] == ["/home/ci/.kube/accelci/accelci-gke-credential.py"]
    assert exec_entry["env"] == []
    assert exec_entry["interactiveMode"] == "Never"
    assert exec_entry["provideClusterInfo"] is False
    assert set(user["user"]) == {"exec"}  # no token, no client key


def test_helper_environment_names_the_kind_and_key_file_never_secrets(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    params = {"auth_kind": "serviceaccount", "service_account_file": "keys/deployer.json",
              "service_account_contents": '{"private_key": "secret"}', "access_token": "ya29.secret"}
    assert kc.helper_environment(params) == [
        {"name": "ACCELCI_GCP_AUTH_KIND", "value": "serviceaccount"},
        {"name": "ACCELCI_GCP_SERVICE_ACCOUNT_FILE", "value": str(tmp_path / "keys" / "deployer.json")},
    ]
    assert kc.helper_environment({"auth_kind": None, "access_token": "ya29.secret"}) == []
    # "none" was for reading the cluster from a local GKE emulator; the helper chooses from its environment.
    assert kc.helper_environment({"auth_kind": "none"}) == []


def test_secrets_the_helper_will_not_find():
    params = {"access_token": "ya29.secret", "service_account_contents": "{}"}
    assert kc.secrets_not_in_environment(params, {}) == ["GCP_ACCESS_TOKEN", "GCP_SERVICE_ACCOUNT_CONTENTS"]
    assert kc.secrets_not_in_environment(params, {"GCP_ACCESS_TOKEN": "ya29.secret",
                                                  "GCP_SERVICE_ACCOUNT_CONTENTS": "{}"}) == []
    assert kc.secrets_not_in_environment({"access_token": None}, {}) == []


@pytest.mark.parametrize("params, field", [
    ({"cluster": "CI_Runners", "location": "us-central1-b"}, "cluster"),
    ({"cluster": "ci-runners-", "location": "us-central1-b"}, "cluster"),
    ({"cluster": "ci-runners", "location": "uscentral1"}, "location"),
    ({"cluster": "ci-runners", "location": "us-central1-b", "context": " "}, "context"),
    ({"cluster": "ci-runners", "location": "us-central1-b", "context": "ctx "}, "context"),
])
def test_options_are_checked_before_any_request(params, field):
    with pytest.raises(InputError) as err:
        kc.validate_kubeconfig_options(params)
    assert err.value.field == field


def test_valid_options_pass():
    kc.validate_kubeconfig_options({"cluster": "ci-runners", "location": "us-central1", "context": "prod"})

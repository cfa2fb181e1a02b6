"""gke_kubeconfig against a stand-in GKE API answering one cluster read (the real client over HTTP): the files it
writes, their modes, idempotence, check mode, refusals, and a Kubernetes client reaching a cluster through them."""

import json
import os
import stat

import pytest
import yaml
from ansible.module_utils.testing import patch_module_args

from ansible_collections.accelci.runners.plugins.module_utils._common.retries import RetryPolicy
from ansible_collections.accelci.runners.plugins.module_utils.gcp import exec_credential
from ansible_collections.accelci.runners.plugins.modules import gke_kubeconfig
from tests.unit.recorded_http import RecordedHttp, RecordedKubeApi

CLUSTER_PATH = "/v1/projects/accelci-test/locations/us-central1-b/clusters/ci-runners"
CA = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUMuLi4KLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo="
TOKEN = "ya29.planted-token-never-in-files-Kp38"
CONTEXT = "gke_accelci-test_us-central1-b_ci-runners"
SECRET_ENV = ("GCP_AUTH_KIND", "GCP_ACCESS_TOKEN", "GCP_SERVICE_ACCOUNT_FILE", "GCP_SERVICE_ACCOUNT_CONTENTS",
              "ACCELCI_GKE_API_ENDPOINT", "ACCELCI_GCP_AUTH_KIND", "ACCELCI_GCP_SERVICE_ACCOUNT_FILE")


def cluster(**changes):
    body = {"name": "ci-runners", "status": "RUNNING", "endpoint": "34.118.12.7", "location": "us-central1-b",
            "masterAuth": {"clusterCaCertificate": CA}}
    body.update(changes)
    return (200, body)


@pytest.fixture
def gke(monkeypatch):
    for name in SECRET_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(RetryPolicy, "DEFAULT_BASE", 0.0)
    with RecordedHttp() as server:
        server.route("GET " + CLUSTER_PATH, cluster())
        yield server


def run_capturing(server, capsys, check_mode=False, **options):
    """(module result, stderr): warnings land in the result, or on stderr once controller code has been imported."""
    args = {"project": "accelci-test", "location": "us-central1-b", "cluster": "ci-runners",
            "api_endpoint": server.endpoint, "_ansible_check_mode": check_mode, "_ansible_diff": True}
    args.update(options)
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            gke_kubeconfig.main()
    captured = capsys.readouterr()
    return json.loads(captured.out), captured.err


def run(server, capsys, check_mode=False, **options):
    return run_capturing(server, capsys, check_mode=check_mode, **options)[0]


def mode(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


def test_writes_the_kubeconfig_0600_and_the_helper_0700_in_a_new_0700_directory(gke, capsys, tmp_path):
    path = tmp_path / "kube" / "accelci" / "ci.yaml"
    result = run(gke, capsys, path=str(path))
    assert result["changed"] is True and result["changes"] == ["helper", "kubeconfig"]
    helper = tmp_path / "kube" / "accelci" / "accelci-gke-credential.py"
    assert (result["path"], result["helper"]) == (str(path), str(helper))
    assert result["context"] == CONTEXT
    assert result["server"] == "https://34.118.12.7"
    assert (mode(path), mode(helper)) == (0o600, 0o700)
    assert mode(tmp_path / "kube") == mode(tmp_path / "kube" / "accelci") == 0o700
    with open(exec_credential.__file__, "rb") as handle:
        assert helper.read_bytes() == handle.read()
    config = yaml.safe_load(path.read_text())
    assert config["current-context"] == CONTEXT
    assert config["clusters"][0]["cluster"] == {"server": "https://34.118.12.7", "certificate-authority-data": CA}
    exec_entry = config["users"][0]["user"]["exec"]
    assert os.path.isabs(exec_entry["command"]) and exec_entry["args"] == [str(helper)]
    assert result["diff"] == {"before": "", "after": path.read_text(), "before_header": str(path),
                              "after_header": str(path)}
    # One read of the cluster, and nothing else.
    assert gke.calls() == ["GET " + CLUSTER_PATH]


def test_second_run_changes_nothing(gke, capsys, tmp_path):
    path = tmp_path / "ci.yaml"
    run(gke, capsys, path=str(path))
    written = path.stat().st_mtime_ns
    again = run(gke, capsys, path=str(path))
    assert again["changed"] is False and again["changes"] == []
    assert again["diff"]["before"] == again["diff"]["after"]
    assert path.stat().st_mtime_ns == written


def test_check_mode_reads_the_cluster_and_writes_nothing(gke, capsys, tmp_path):
    path = tmp_path / "kube" / "ci.yaml"
    result = run(gke, capsys, check_mode=True, path=str(path))
    assert result["changed"] is True and result["changes"] == ["helper", "kubeconfig"]
    assert not (tmp_path / "kube").exists()
    assert gke.calls() == ["GET " + CLUSTER_PATH]
    run(gke, capsys, path=str(path))
    assert run(gke, capsys, check_mode=True, path=str(path))["changed"] is False


def test_a_loosened_mode_or_an_edited_helper_is_put_back(gke, capsys, tmp_path):
    path = tmp_path / "ci.yaml"
    result = run(gke, capsys, path=str(path))
    os.chmod(str(path), 0o644)
    assert run(gke, capsys, path=str(path))["changes"] == ["kubeconfig"]
    assert mode(path) == 0o600
    with open(result["helper"], "a") as handle:
        handle.write("# edited\n")
    assert run(gke, capsys, path=str(path))["changes"] == ["helper"]
    assert run(gke, capsys, path=str(path))["changed"] is False


def test_no_secret_reaches_the_files_even_with_a_token_in_the_environment(gke, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("GCP_ACCESS_TOKEN", TOKEN)
    contents = json.dumps({"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----planted-key"})
    monkeypatch.setenv("GCP_SERVICE_ACCOUNT_CONTENTS", contents)
    result, err = run_capturing(gke, capsys, path=str(tmp_path / "ci.yaml"))
    assert result["changed"] is True and "warnings" not in result and "GCP_" not in err
    for name in os.listdir(str(tmp_path)):
        text = (tmp_path / name).read_text()
        assert TOKEN not in text and "planted-key" not in text
    assert TOKEN not in json.dumps(result) + err
    # Reading the cluster from the stand-in (http://) sent no credentials at all.
    assert "authorization" not in gke.requests[0]["headers"]


def test_the_kind_and_key_file_are_passed_to_the_helper(gke, capsys, tmp_path):
    key = tmp_path / "deployer.json"
    result = run(gke, capsys, path=str(tmp_path / "ci.yaml"), auth_kind="none", service_account_file=str(key))
    env = yaml.safe_load((tmp_path / "ci.yaml").read_text())["users"][0]["user"]["exec"]["env"]
    assert env == [{"name": "ACCELCI_GCP_SERVICE_ACCOUNT_FILE", "value": str(key)}]
    assert result["changed"] is True


def test_a_token_given_as_an_option_only_is_warned_about_never_written(gke, capsys, tmp_path):
    result, err = run_capturing(gke, capsys, path=str(tmp_path / "ci.yaml"), access_token=TOKEN)
    assert "reads GCP_ACCESS_TOKEN from the environment" in json.dumps(result.get("warnings")) + err
    assert TOKEN not in (tmp_path / "ci.yaml").read_text()
    assert TOKEN not in json.dumps(result) + err


def test_default_path_and_context(gke, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("ACCELCI_KUBECONFIG_DIR", raising=False)
    result = run(gke, capsys)
    assert result["path"] == str(tmp_path / ".kube" / "accelci" / "accelci-test_us-central1-b_ci-runners.yaml")
    assert mode(tmp_path / ".kube") == 0o700
    named = run(gke, capsys, context="ci")
    assert named["context"] == "ci" and named["changes"] == ["kubeconfig"]


def test_the_default_directory_can_be_moved_by_the_environment(gke, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("ACCELCI_KUBECONFIG_DIR", str(tmp_path / "ci-job"))
    result = run(gke, capsys)
    assert result["path"] == str(tmp_path / "ci-job" / "accelci-test_us-central1-b_ci-runners.yaml")
    assert mode(tmp_path / "ci-job") == 0o700


def test_an_endpoint_and_ca_given_are_written_without_reading_the_cluster(gke, capsys, tmp_path):
    result = run(gke, capsys, path=str(tmp_path / "ci.yaml"), endpoint="34.1.2.3",
                 cluster_ca_certificate="Q0EtREFUQQ==")
    assert result["changed"] is True and result["server"] == "https://34.1.2.3"
    assert gke.requests == []
    document = yaml.safe_load((tmp_path / "ci.yaml").read_text())
    assert document["clusters"][0]["cluster"]["certificate-authority-data"] == "Q0EtREFUQQ=="
    half = run(gke, capsys, path=str(tmp_path / "other.yaml"), endpoint="34.1.2.3")
    assert half["failed"] is True and "cluster_ca_certificate" in half["msg"]


def test_a_bad_cluster_name_fails_before_any_request(gke, capsys, tmp_path):
    result = run(gke, capsys, cluster="CI_Runners", path=str(tmp_path / "ci.yaml"))
    assert result["failed"] is True and result["field"] == "cluster"
    assert "not a valid GKE name" in result["msg"]
    assert gke.requests == [] and os.listdir(str(tmp_path)) == []


def test_a_directory_as_path_fails_before_any_request(gke, capsys, tmp_path):
    result = run(gke, capsys, path=str(tmp_path))
    assert result["failed"] is True and result["field"] == "path"
    assert gke.requests == []


def test_a_missing_cluster_is_named(gke, capsys, tmp_path):
    gke.route("GET " + CLUSTER_PATH, (404, {"error": {"code": 404, "status": "NOT_FOUND", "message": "Not found"}}))
    result = run(gke, capsys, path=str(tmp_path / "ci.yaml"))
    assert result["failed"] is True and result["field"] == "cluster"
    assert "ci-runners does not exist in projects/accelci-test/locations/us-central1-b" in result["msg"]
    assert os.listdir(str(tmp_path)) == []


def test_a_cluster_still_provisioning_is_named(gke, capsys, tmp_path):
    gke.route("GET " + CLUSTER_PATH, cluster(status="PROVISIONING"))
    result = run(gke, capsys, path=str(tmp_path / "ci.yaml"))
    assert result["failed"] is True
    assert "is PROVISIONING, not RUNNING or RECONCILING" in result["msg"]
    assert os.listdir(str(tmp_path)) == []


def test_a_kubernetes_client_reaches_the_cluster_with_the_helpers_token(gke, capsys, tmp_path, monkeypatch):
    kubernetes = pytest.importorskip("kubernetes")
    with RecordedKubeApi() as kube:
        gke.route("GET " + CLUSTER_PATH, cluster(endpoint=kube.endpoint))
        result = run(gke, capsys, path=str(tmp_path / "ci.yaml"))
        assert result["server"] == kube.endpoint
        monkeypatch.setenv("GCP_ACCESS_TOKEN", TOKEN)
        api = kubernetes.client.CoreV1Api(kubernetes.config.new_client_from_config(config_file=result["path"]))
        with pytest.raises(kubernetes.client.exceptions.ApiException):
            api.read_namespace("arc-runners")
    request = kube.object_requests()[-1]
    assert request["path"] == "/api/v1/namespaces/arc-runners"
    assert request["headers"]["authorization"] == "Bearer " + TOKEN

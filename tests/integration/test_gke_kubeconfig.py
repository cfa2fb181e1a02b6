"""gke_kubeconfig through ansible-playbook against the GKE API emulator: the kubeconfig names the endpoint and CA
the emulator returns, its helper gives the run's token to a client, and the token is never printed or written."""

import json
import os
import stat
import subprocess

import pytest
import yaml
from google.auth.credentials import AnonymousCredentials
from google.cloud import container_v1

from tests.emulators.gke import GkeEmulator
from tests.integration.playbook_runner import run_playbook, write_inventory

pytestmark = pytest.mark.integration

PROJECT, LOCATION, NAME = "accelci-test", "us-central1-b", "ci-runners"
PARENT = "projects/%s/locations/%s" % (PROJECT, LOCATION)
CA = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUVtdWxhdG9yCi0tLS0tRU5EIENFUlRJRklDQVRFLS0tLS0K"
TOKEN = "ya29.planted-run-token-Wd62"


@pytest.fixture
def emulator():
    with GkeEmulator(operation_seconds=0.05) as emu:
        yield emu


def gke_client(emulator):
    return container_v1.ClusterManagerClient(transport="rest", client_options={"api_endpoint": emulator.url},
                                             credentials=AnonymousCredentials())


def create_cluster(emulator, wait=True):
    """A cluster created straight through the API, with the CA certificate GKE reports in masterAuth."""
    cluster = container_v1.Cluster(
        name=NAME, master_auth=container_v1.MasterAuth(cluster_ca_certificate=CA),
        node_pools=[container_v1.NodePool(name="system", initial_node_count=1,
                                          config=container_v1.NodeConfig(machine_type="e2-standard-4"))])
    gke_client(emulator).create_cluster(parent=PARENT, cluster=cluster)
    if wait:
        emulator.advance(60)
    return gke_client(emulator).get_cluster(name="%s/clusters/%s" % (PARENT, NAME))


def run_module(tmp_path, emulator, path, extra_args=()):
    results_file = tmp_path / "result.json"
    inventory = write_inventory(tmp_path, {"accelci_project": PROJECT, "accelci_location": LOCATION})
    run = run_playbook("tests/integration/playbooks/gke_kubeconfig.yml", inventory,
                       env={"ACCELCI_GKE_API_ENDPOINT": emulator.url, "GCP_ACCESS_TOKEN": TOKEN},
                       extra_args=["--diff", "-v"] + list(extra_args),
                       extra_vars={"results_file": str(results_file), "kubeconfig_cluster": NAME,
                                   "kubeconfig_path": str(path)})
    assert run.rc == 0, run
    assert TOKEN not in run.stdout + run.stderr
    return run, json.loads(results_file.read_text())


def test_kubeconfig_names_what_the_emulator_returned_and_its_helper_gives_the_token(tmp_path, emulator):
    returned = create_cluster(emulator)
    assert returned.status == container_v1.Cluster.Status.RUNNING and returned.endpoint
    path = tmp_path / "kube" / "ci-runners.yaml"
    emulator.clear_requests()
    run, result = run_module(tmp_path, emulator, path)
    assert result["changed"] is True, run
    assert result["server"] == "https://" + returned.endpoint
    config = yaml.safe_load(path.read_text())
    assert config["clusters"][0]["cluster"] == {"server": "https://" + returned.endpoint,
                                                "certificate-authority-data": returned.master_auth.cluster_ca_certificate}
    assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(result["helper"]).st_mode) == 0o700
    for name in os.listdir(str(path.parent)):
        assert TOKEN not in (path.parent / name).read_text()
    assert [(r["method"], r["path"]) for r in emulator.requests()] == [("GET", "/v1/%s/clusters/%s" % (PARENT, NAME))]

    # The helper, run the way the kubeconfig says, by the Python that ran the module (from AnsiballZ's copy).
    exec_entry = config["users"][0]["user"]["exec"]
    env = dict((item["name"], item["value"]) for item in exec_entry["env"])
    env.update(PATH=os.environ.get("PATH", ""), GCP_ACCESS_TOKEN=TOKEN)
    proc = subprocess.run([exec_entry["command"]] + exec_entry["args"], env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
                                       "status": {"token": TOKEN}}

    emulator.clear_requests()
    again_run, again = run_module(tmp_path, emulator, path)
    assert again["changed"] is False, again_run
    assert [r["method"] for r in emulator.requests()] == ["GET"]


def test_check_mode_writes_nothing(tmp_path, emulator):
    create_cluster(emulator)
    path = tmp_path / "kube" / "ci-runners.yaml"
    _run, result = run_module(tmp_path, emulator, path, extra_args=["--check"])
    assert result["changed"] is True and result["changes"] == ["helper", "kubeconfig"]
    assert not path.parent.exists()


def test_a_cluster_still_provisioning_is_refused(tmp_path, emulator):
    emulator.inject("slow_operation", seconds=600)
    create_cluster(emulator, wait=False)
    path = tmp_path / "kube" / "ci-runners.yaml"
    _run, result = run_module(tmp_path, emulator, path)
    assert result["failed"] is True
    assert "Cluster ci-runners is PROVISIONING, not RUNNING or RECONCILING" in result["msg"]
    assert not path.parent.exists()

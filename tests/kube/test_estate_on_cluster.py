"""The sandbox estate applied to a real API server the way a user runs it: the cluster play makes the cluster and
writes its kubeconfig (the credentials bridge), then the storage and arc plays run alone and find the cluster from
the inventory, with the Google access token only in the environment. Then: what the runner's ServiceAccount may do,
and that no secret value is in a Helm release, a ConfigMap, the kubeconfig or the output."""

import base64
import gzip
import json
import os
import stat

import pytest
import yaml
from kubernetes import client, config

from tests.emulators.fake_gcs import FakeGcs
from tests.emulators.gke import GkeEmulator
from tests.integration.playbook_runner import ROOT, run_playbook
from tests.kube.conftest import OPERATOR_TOKEN

pytestmark = [pytest.mark.integration, pytest.mark.kube]

INVENTORY = os.path.join(ROOT, "inventories", "sandbox")
PEM_BODY = "MIIEowIBAAKCAQEAkubetestonlynotarealkey0123456789abcdefghij"
GITHUB = {"accelci_github": {
    "config_url": "https://github.com/accelci-demo/runners-sandbox", "app_id": "123456",
    "app_installation_id": "7890123",
    "app_private_key": "-----BEGIN RSA PRIVATE KEY-----\n%s\n-----END RSA PRIVATE KEY-----\n" % PEM_BODY}}
RUNNERS = "arc-runners"


@pytest.fixture(scope="module")
def estate(tmp_path_factory, control_plane):
    """Converge cluster, then storage alone, then arc alone, then arc again; returns the runs and paths."""
    tmp = tmp_path_factory.mktemp("estate")
    secrets_file = tmp / "vault.yml"  # stands in for an ansible-vault file: extra vars from a file
    secrets_file.write_text(yaml.safe_dump(GITHUB))
    kubeconfig_dir = tmp / "kubeconfigs"
    with GkeEmulator(operation_seconds=0.1, kube=control_plane) as gke, FakeGcs() as gcs:
        env = {"ACCELCI_GKE_API_ENDPOINT": gke.url, "STORAGE_EMULATOR_HOST": gcs.endpoint,
               "GCP_ACCESS_TOKEN": OPERATOR_TOKEN, "ACCELCI_KUBECONFIG_DIR": str(kubeconfig_dir),
               "PATH": os.path.join(ROOT, "build", "bin") + os.pathsep + os.environ["PATH"],
               "KUBECONFIG": "", "K8S_AUTH_KUBECONFIG": ""}
        args = ["-e", "@%s" % secrets_file, "-e", "cluster_capacity_check=off"]
        runs = {}
        for label, playbook, extra in (("cluster", "playbooks/cluster.yml", []),
                                       ("storage", "playbooks/storage.yml", []),
                                       ("arc", "playbooks/arc.yml", ["-v"]),
                                       ("arc again", "playbooks/arc.yml", [])):
            runs[label] = run_playbook(playbook, INVENTORY, env=env, extra_args=args + extra)
            assert runs[label].rc == 0, runs[label]
        yield {"runs": runs, "kubeconfig_dir": kubeconfig_dir}


def test_per_role_plays_reach_the_cluster_through_the_kubeconfig_the_cluster_play_wrote(estate, kube_client):
    runs = estate["runs"]
    assert "Write the kubeconfig that reaches cluster ci-runners" in runs["cluster"].stdout
    for label in ("storage", "arc"):
        assert "Reach the estate's cluster with the run's Google credentials" in runs[label].stdout
    assert runs["arc again"].changed == 0, runs["arc again"]
    (path,) = [p for p in estate["kubeconfig_dir"].iterdir() if p.suffix == ".yaml"]
    assert path.name == "accelci-sandbox_us-central1-b_ci-runners.yaml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert OPERATOR_TOKEN not in text
    document = yaml.safe_load(text)
    assert document["users"][0]["user"]["exec"]["apiVersion"] == "client.authentication.k8s.io/v1"
    for run in runs.values():
        assert OPERATOR_TOKEN not in run.stdout + run.stderr
    # Everything the plays made is in the real API server.
    core = client.CoreV1Api(kube_client)
    assert core.read_namespaced_service_account("arc-runner", RUNNERS).metadata.name == "arc-runner"
    apps = client.AppsV1Api(kube_client)
    assert apps.read_namespaced_deployment("arc-gha-rs-controller", "arc-systems").status.available_replicas == 1


def runner_identity(control_plane, kube_client, tmp_path):
    """A client acting as the runners' ServiceAccount, with a token from the TokenRequest API."""
    core = client.CoreV1Api(kube_client)
    token = core.create_namespaced_service_account_token(
        "arc-runner", RUNNERS, {"spec": {"expirationSeconds": 600}}).status.token
    path = control_plane.token_kubeconfig(str(tmp_path / "runner.kubeconfig"), token, user="arc-runner")
    return client.CoreV1Api(config.new_client_from_config(config_file=path))


def test_the_runner_service_account_reads_its_configmap_and_nothing_else(estate, control_plane, kube_client, tmp_path):
    runner = runner_identity(control_plane, kube_client, tmp_path)
    cache = runner.read_namespaced_config_map("accelci-model-cache", RUNNERS)
    assert cache.data["backend"] == "gcs"
    secret_names = [s.metadata.name for s in client.CoreV1Api(kube_client).list_namespaced_secret(RUNNERS).items]
    assert "accelci-github" in secret_names
    denied = [
        lambda: runner.read_namespaced_secret("accelci-github", RUNNERS),
        lambda: runner.list_namespaced_secret(RUNNERS),
        lambda: runner.list_namespaced_config_map(RUNNERS),
        lambda: runner.patch_namespaced_config_map("accelci-model-cache", RUNNERS, {"data": {"backend": "none"}}),
        lambda: runner.delete_namespaced_config_map("accelci-model-cache", RUNNERS),
        lambda: runner.create_namespaced_config_map(RUNNERS, {"metadata": {"name": "x"}, "data": {}}),
        lambda: runner.create_namespaced_pod(RUNNERS, {"metadata": {"name": "x"},
                                                       "spec": {"containers": [{"name": "c", "image": "x"}]}}),
        lambda: runner.read_namespaced_config_map("accelci-model-cache", "arc-systems"),
    ]
    for index, call in enumerate(denied):
        with pytest.raises(client.rest.ApiException) as refused:
            call()
        assert refused.value.status == 403, (index, refused.value)


def release_payloads(kube_client):
    """Every Helm release record (Secrets of type helm.sh/release.v1: base64 of gzipped JSON), decoded."""
    core = client.CoreV1Api(kube_client)
    payloads = []
    for secret in core.list_secret_for_all_namespaces(field_selector="type=helm.sh/release.v1").items:
        raw = base64.b64decode(base64.b64decode(secret.data["release"]))
        payloads.append((secret.metadata.name, json.loads(gzip.decompress(raw))))
    return payloads


def test_no_secret_value_in_helm_release_history_or_in_any_configmap(estate, kube_client):
    payloads = release_payloads(kube_client)
    names = sorted(name for name, _payload in payloads)
    assert [n for n in names if n.startswith("sh.helm.release.v1.arc.")], names
    assert [n for n in names if n.startswith("sh.helm.release.v1.sandbox-v6e-1.")], names
    for name, payload in payloads:
        text = json.dumps(payload)
        assert PEM_BODY not in text, name
        assert "PRIVATE KEY" not in text, name
    # The scale sets read the Secret by name.
    values = [p["config"] for n, p in payloads if n.startswith("sh.helm.release.v1.sandbox-v6e-1.")]
    assert values[0]["githubConfigSecret"] == "accelci-github"
    core = client.CoreV1Api(kube_client)
    for configmap in core.list_config_map_for_all_namespaces().items:
        text = json.dumps(configmap.data or {}) + json.dumps(configmap.binary_data or {})
        assert PEM_BODY not in text and "PRIVATE KEY" not in text, configmap.metadata.name
    secret = core.read_namespaced_secret("accelci-github", RUNNERS)
    assert PEM_BODY in base64.b64decode(secret.data["github_app_private_key"]).decode()

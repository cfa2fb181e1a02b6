"""Secrets never printed: a planted value of every kind this collection handles (GitHub App private key, GitHub token,
Kubernetes Secret data, a kubeconfig credential, a Google access token) is searched for in everything a playbook
prints, at the default verbosity and at -vvv, on successful runs and on the error paths that could quote it."""

import json
import os

import pytest
import yaml

from tests.emulators.gke import GkeEmulator
from tests.integration.playbook_runner import ROOT, run_playbook, write_inventory

pytestmark = pytest.mark.integration

PEM_BODY = "MIIEplantedGithubAppKeyZx81VvQ0notarealkeyabcdef"
PEM = "-----BEGIN RSA PRIVATE KEY-----\n%s\nplantedSecondLineQ93kd\n-----END RSA PRIVATE KEY-----\n" % PEM_BODY
GITHUB_TOKEN = "ghp_plantedGithubToken4Xq9Lw2Pz"
SECRET_DATA = "planted-secret-data-Kj27Hs"
KUBE_TOKEN = "planted-kubeconfig-token-Rt55Wm"
GCP_TOKEN = "ya29.planted-gcp-access-token-Qa11"
VERBOSITIES = ([], ["-vvv"])
NOWHERE = "http://127.0.0.1:9"


def helm_path():
    return os.path.join(ROOT, "build", "bin") + os.pathsep + os.environ.get("PATH", "")


def assert_absent(run, *needles):
    text = run.stdout + run.stderr
    for needle in needles:
        assert needle not in text, "%s printed:\n%s" % (needle, text[max(0, text.find(needle) - 2000):][:4000])


def arc_estate(tmp_path, github, **extra):
    variables = {
        "accelci_k8s_delivery": "render", "accelci_render_dir": str(tmp_path / "rendered"),
        "accelci_kubernetes_version": "1.33", "accelci_github": github,
        "accelci_node_pools": [{"name": "tpu-v6e-1", "tpu": {"accelerator": "v6e", "topology": "1x1"}}],
        "accelci_scale_sets": [{"name": "v6e-1", "node_pool": "tpu-v6e-1", "max_runners": 2},
                               {"name": "v6e-1b", "node_pool": "tpu-v6e-1", "max_runners": 2}],
    }
    variables.update(extra)
    return write_inventory(tmp_path, variables)


def rendered_text(tmp_path):
    found = []
    for base, _dirs, files in os.walk(str(tmp_path / "rendered")):
        for name in files:
            with open(os.path.join(base, name)) as handle:
                found.append(handle.read())
    return "\n".join(found)


APP = {"config_url": "https://github.com/o/r", "app_id": "2718281", "app_installation_id": "31415926",
       "app_private_key": PEM}
TOKEN = {"config_url": "https://github.com/o/r", "token": GITHUB_TOKEN}


@pytest.mark.parametrize("verbosity", VERBOSITIES, ids=["default", "vvv"])
@pytest.mark.parametrize("github", [APP, TOKEN], ids=["app", "token"])
def test_arc_role_never_prints_github_credentials(tmp_path, github, verbosity):
    run = run_playbook("playbooks/arc.yml", arc_estate(tmp_path, github), extra_args=verbosity,
                       env={"PATH": helm_path()})
    assert run.rc == 0, run
    assert_absent(run, PEM_BODY, "plantedSecondLineQ93kd", GITHUB_TOKEN)
    text = rendered_text(tmp_path)
    assert PEM_BODY not in text and GITHUB_TOKEN not in text


@pytest.mark.parametrize("verbosity", VERBOSITIES, ids=["default", "vvv"])
def test_arc_role_refusal_with_credentials_never_prints_them(tmp_path, verbosity):
    # A refused scale set fails the preflight's module pass while the module holds the credentials.
    inventory = arc_estate(tmp_path, APP, accelci_scale_sets=[
        {"name": "v6e-1", "node_pool": "tpu-v6e-1", "resources": {"requests": {"cpu": "lots"}}}])
    run = run_playbook("playbooks/arc.yml", inventory, extra_args=verbosity, env={"PATH": helm_path()})
    assert run.rc != 0, run
    assert "accelci_scale_sets[v6e-1].resources.requests.cpu" in run.stdout
    assert_absent(run, PEM_BODY, "plantedSecondLineQ93kd")
    assert not (tmp_path / "rendered").exists()


def write_playbook(tmp_path, tasks):
    playbook = tmp_path / "playbook.yml"
    playbook.write_text(yaml.safe_dump([{"name": "Planted secrets", "hosts": "localhost", "gather_facts": False,
                                         "tasks": tasks}]))
    return str(playbook)


@pytest.mark.parametrize("verbosity", VERBOSITIES, ids=["default", "vvv"])
@pytest.mark.parametrize("secret", [
    {"stringData": {"token": SECRET_DATA}, "type": 7},
    {"stringData": {"token": SECRET_DATA, "count": 3}},
    {"stringData": SECRET_DATA},
    {"data": {"token": {"nested": SECRET_DATA}}},
], ids=["bad-sibling", "bad-value", "not-a-mapping", "nested"])
def test_k8s_objects_never_prints_secret_data_of_an_invalid_secret(tmp_path, verbosity, secret):
    manifest = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "planted", "namespace": "arc-runners"}}
    manifest.update(secret)
    task = {"delivery": "render", "render_dir": str(tmp_path / "rendered"), "kubernetes_version": "1.33",
            "objects": [manifest]}
    playbook = write_playbook(tmp_path, [{"name": "Apply a Secret that does not validate",
                                          "accelci.runners.k8s_objects": task}])
    run = run_playbook(playbook, write_inventory(tmp_path, {}), extra_args=verbosity)
    assert run.rc != 0, run
    assert "Secret arc-runners/planted" in run.stdout
    assert_absent(run, SECRET_DATA)
    assert not (tmp_path / "rendered").exists()


def kubeconfig(tmp_path):
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "planted",
        "clusters": [{"name": "planted", "cluster": {"server": NOWHERE}}],
        "contexts": [{"name": "planted", "context": {"cluster": "planted", "user": "planted"}}],
        "users": [{"name": "planted", "user": {"token": KUBE_TOKEN, "username": "admin", "password": KUBE_TOKEN}}],
    }))
    return str(path)


@pytest.mark.parametrize("verbosity", VERBOSITIES, ids=["default", "vvv"])
def test_kubeconfig_credentials_never_printed_when_the_cluster_cannot_be_reached(tmp_path, verbosity):
    config = kubeconfig(tmp_path)
    tasks = [
        {"name": "Read an object from an unreachable cluster", "accelci.runners.k8s_object_info": {
            "kubeconfig": config, "api_version": "v1", "kind": "ConfigMap", "name": "x", "namespace": "arc-runners"},
         "ignore_errors": True},
        {"name": "Apply to an unreachable cluster", "accelci.runners.k8s_objects": {
            "kubeconfig": config, "kubernetes_version": "1.33", "objects": [
                {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "arc-runners"},
                 "stringData": {"token": SECRET_DATA}}]},
         "ignore_errors": True},
        {"name": "Install a scale set on an unreachable cluster", "accelci.runners.arc_runner_scale_set": {
            "kubeconfig": config, "name": "v6e-1", "github_config_url": "https://github.com/o/r",
            "github_token": GITHUB_TOKEN, "github_secret_name": "accelci-github"},
         "ignore_errors": True},
    ]
    # A refused connection is retried; a few seconds are enough to go through the retries and the final error.
    run = run_playbook(write_playbook(tmp_path, tasks), write_inventory(tmp_path, {}), extra_args=verbosity,
                       env={"PATH": helm_path(), "ACCELCI_K8S_RETRY_TIMEOUT": "3"})
    assert run.rc == 0, run
    assert run.stdout.count("FAILED!") + run.stdout.count("failed:") >= 3, run  # every path failed, and said so
    assert run.stdout.count("could not be reached: connection refused") >= 3, run  # each path, after retries
    assert_absent(run, KUBE_TOKEN, SECRET_DATA, GITHUB_TOKEN)


@pytest.mark.parametrize("verbosity", VERBOSITIES, ids=["default", "vvv"])
def test_google_access_token_never_printed(tmp_path, verbosity):
    with GkeEmulator(operation_seconds=0.1) as gke:
        gke.inject("http_503", method="GET", times=1)
        tasks = [{"name": "Read a cluster with an access token", "accelci.runners.gke_cluster": {
            "project": "acme-ci", "location": "us-central1-b", "name": "ci-runners", "allow_create": False,
            "api_endpoint": gke.url, "auth_kind": "accesstoken"}, "ignore_errors": True}]
        run = run_playbook(write_playbook(tmp_path, tasks), write_inventory(tmp_path, {}), extra_args=verbosity,
                           env={"GCP_ACCESS_TOKEN": GCP_TOKEN})
    assert run.rc == 0, run
    assert "allow_create is false" in run.stdout, run
    assert_absent(run, GCP_TOKEN, GCP_TOKEN.split(".", 1)[1])
    assert json.dumps(GCP_TOKEN)[1:-1] not in run.stdout

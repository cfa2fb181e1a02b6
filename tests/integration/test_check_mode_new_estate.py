"""site.yml --check over a fresh project: no cluster, no bucket, nothing rendered yet. Every role plans against what
the earlier roles would create (the cluster role publishes the planned cluster, the storage role the planned
bucket) and reports it; nothing is created, written or sent to a Kubernetes API."""

import os

import pytest

from tests.emulators.fake_gcs import FakeGcs
from tests.emulators.gke import GkeEmulator
from tests.integration.playbook_runner import ROOT, run_playbook

pytestmark = pytest.mark.integration

MUTATING = ("POST", "PUT", "PATCH", "DELETE")
# Nothing listens here: a Hugging Face or Kubernetes call during the check would fail the run.
NOWHERE = "http://127.0.0.1:9"


@pytest.fixture
def stand_ins():
    with GkeEmulator(operation_seconds=0.1) as gke, FakeGcs() as gcs:
        yield gke, gcs


def environment(gke, gcs, render_dir):
    return {"ACCELCI_GKE_API_ENDPOINT": gke.url, "STORAGE_EMULATOR_HOST": gcs.endpoint, "HF_ENDPOINT": NOWHERE,
            "ACCELCI_RENDER_DIR": str(render_dir),
            "PATH": os.path.join(ROOT, "build", "bin") + os.pathsep + os.environ.get("PATH", "")}


def assert_nothing_made(gke, gcs, tmp_path):
    assert [r for r in gke.requests() if r["method"] in MUTATING] == []
    assert gke.state()["clusters"] == []
    assert list(gcs.client("accelci-sandbox").list_buckets()) == []
    assert sorted(os.listdir(str(tmp_path))) == [name for name in ("kubeconfig",) if (tmp_path / name).exists()]


def test_site_check_previews_a_new_estate_in_render_mode(tmp_path, stand_ins):
    gke, gcs = stand_ins
    run = run_playbook("site.yml", os.path.join(ROOT, "inventories", "sandbox"),
                       env=environment(gke, gcs, tmp_path / "rendered"), extra_args=["--check"],
                       extra_vars={"accelci_k8s_delivery": "render", "accelci_render_dir": str(tmp_path / "rendered")})
    assert run.rc == 0, run
    assert run.failed == 0 and run.changed > 0, run
    out = run.stdout
    assert "cluster ci-runners (planned)" in out
    # storage: the addon step is not read from a cluster that does not exist; the bucket is reported as new.
    assert "does not exist ... allow_create is false" not in out and "allow_create is false" not in out
    # arc: what each runs-on label would get, from the planned pools.
    assert "runs-on: sandbox-v6e-1 (render)" in out and "runs-on: sandbox-l4-dind | cuda (render)" in out
    assert_nothing_made(gke, gcs, tmp_path)


@pytest.mark.parametrize("explicit_kubeconfig", [True, False], ids=["explicit-kubeconfig", "written-by-the-run"])
def test_site_check_previews_a_new_estate_in_apply_mode(tmp_path, stand_ins, explicit_kubeconfig):
    gke, gcs = stand_ins
    extra_vars = {"accelci_k8s_delivery": "apply"}
    env = environment(gke, gcs, tmp_path / "rendered")
    if explicit_kubeconfig:
        kubeconfig = tmp_path / "kubeconfig"
        kubeconfig.write_text(
            "apiVersion: v1\nkind: Config\ncurrent-context: planned\n"
            "clusters: [{name: planned, cluster: {server: '%s'}}]\n"
            "contexts: [{name: planned, context: {cluster: planned, user: planned}}]\n"
            "users: [{name: planned, user: {token: not-used}}]\n" % NOWHERE)
        extra_vars["accelci_kubeconfig"] = str(kubeconfig)
    else:
        # The sandbox's own way: the cluster role would write the kubeconfig, but there is no cluster to reach yet.
        env["ACCELCI_KUBECONFIG_DIR"] = str(tmp_path / "kubeconfigs")
    run = run_playbook("site.yml", os.path.join(ROOT, "inventories", "sandbox"), env=env, extra_args=["--check"],
                       extra_vars=extra_vars)
    assert run.rc == 0, run
    out = " ".join(run.stdout.split())
    assert ("cluster ci-runners does not exist yet; once it does, this step would create Namespace arc-runners, "
            "ServiceAccount arc-runner, Role arc-runner-model-cache-reader, RoleBinding arc-runner-model-cache-reader, "
            "ConfigMap accelci-model-cache") in out
    assert "Check mode: the cluster does not exist yet" in out
    assert "runs-on: sandbox-v6e-1 (install)" in out
    assert_nothing_made(gke, gcs, tmp_path)

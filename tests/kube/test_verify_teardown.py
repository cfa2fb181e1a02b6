"""verify.yml and teardown.yml on the sandbox estate, against every stand-in and a control plane of its own: the
estate converged by site.yml, checked (PASS only once ARC's controller stand-in registered the scale sets and the
GitHub Secret exists), broken in the ways the checks look for (each FAIL names the fix), then torn down in check
mode (nothing goes), for real (everything goes but the bucket), and again (nothing changes)."""

import json
import os
import re
import subprocess

import pytest
from kubernetes import client
from kubernetes.dynamic import DynamicClient

from tests.emulators.arc_controller import ArcControllerStandIn
from tests.emulators.estate import SANDBOX_TOKEN, LocalEstate
from tests.emulators.github import GitHubStandIn
from tests.integration.playbook_runner import ROOT, run_playbook

pytestmark = [pytest.mark.integration, pytest.mark.kube]

INVENTORY = os.path.join(ROOT, "inventories", "sandbox")
CONFIRM = ["-e", "accelci_teardown_confirm=ci-runners"]
LINE_RE = re.compile(r"^\s*(PASS|FAIL|SKIP)  (.*?): (.*)$", re.M)
GITHUB_TOKEN = "ghp_kubetestonlynotarealtoken012345"
SYSTEM_NAMESPACES = {"default", "kube-node-lease", "kube-public", "kube-system"}


def checks(run):
    """{check: (status, reason)} from verify.yml's output."""
    return dict((m.group(2), (m.group(1), m.group(3))) for m in LINE_RE.finditer(run.stdout))


def statuses(found, prefix):
    return [status for check, (status, _reason) in found.items() if check.startswith(prefix)]


@pytest.fixture(scope="module")
def estate(tmp_path_factory):
    with LocalEstate(str(tmp_path_factory.mktemp("estate"))) as local:
        api = local.kube.api_client()
        converged = run_playbook("site.yml", INVENTORY, env=local.env)
        assert converged.rc == 0, converged
        yield local, api, converged


def test_site_ends_with_one_summary_of_the_estate(estate):
    _local, _api, converged = estate
    summary = converged.stdout[converged.stdout.index("Show what the estate has after this run"):]
    assert "cluster: ci-runners in accelci-sandbox/us-central1-b (RUNNING)" in summary
    assert re.search(r"tpu-v6e-1\s+ct6e-standard-1t\s+TPU v6e 1x1\s+spot\s+0-4", summary)
    assert re.search(r"gpu-l4\s+g2-standard-8\s+1x nvidia-l4\s+on-demand\s+0-2", summary)
    assert re.search(r"sandbox-l4-dind, cuda\s+gpu-l4\s+0-2\s+dind", summary)
    assert re.search(r"accelci-demo/tiny-diffusers\s+[0-9a-f]{12}\s+gs://accelci-sandbox-models/accelci-demo/tiny-diffusers",
                     summary)
    assert re.search(r"kubeconfig: \S+/accelci-sandbox_us-central1-b_ci-runners\.yaml", summary)


def test_verify_fails_without_a_controller_that_registered_the_scale_sets_then_passes(estate, tmp_path):
    local, api, _converged = estate
    before = run_playbook("playbooks/verify.yml", INVENTORY, env=local.env)
    assert before.rc != 0
    found = checks(before)
    status, reason = found["scale set sandbox-v6e-1 runners not picking up jobs? (GitHub registration, listener, Secret)"]
    assert status == "FAIL"
    assert "not registered it with GitHub" in reason and "Secret arc-runners/accelci-github does not exist" in reason
    assert "fix: create Secret accelci-github in arc-runners" in before.stdout
    assert before.changed == 0

    # What a user does out of band (the inventory names an existing Secret), and what ARC's controller does.
    client.CoreV1Api(api).create_namespaced_secret("arc-runners", {
        "metadata": {"name": "accelci-github"}, "stringData": {"github_token": "ghp_sandboxonlynotarealtoken"}})
    # With a GitHub token (from a vars file, as from a vault), each scale set is also looked up in GitHub.
    with GitHubStandIn({GITHUB_TOKEN: ["repos/accelci-demo/runners-sandbox"]}) as github:
        token_vars = tmp_path / "vault.yml"
        token_vars.write_text(json.dumps({"accelci_verify_github_token": GITHUB_TOKEN,
                                          "accelci_verify_github_api_url": github.url}))
        standin = ArcControllerStandIn(api, "arc-systems", "arc-runners", github=github)
        standin.start()
        try:
            after = run_playbook("playbooks/verify.yml", INVENTORY, env=local.env,
                                 extra_args=["-e", "@%s" % token_vars])
        finally:
            standin.stop()
    assert after.rc == 0, after
    found = checks(after)
    assert statuses(found, "") and "FAIL" not in statuses(found, "")
    for prefix in ("cluster ci-runners as declared", "node pool tpu-v6e-1 as declared", "node pool gpu-l4 as declared",
                   "ARC controller arc-systems/arc-gha-rs-controller available",
                   "scale set sandbox-v6e-1 AutoscalingRunnerSet", "scale set sandbox-v6e-1 runner pod template",
                   "scale set sandbox-l4-dind runners not picking up jobs?",
                   "model accelci-demo/tiny-diffusers@main", "model cache Kubernetes objects as declared"):
        assert statuses(found, prefix) == ["PASS"], (prefix, found)
    for name in ("sandbox-v6e-1", "sandbox-l4-dind"):
        (status, reason), = [found[c] for c in found if c.startswith("scale set %s registered with GitHub" % name)]
        assert status == "PASS" and ", name %s, runner group Default" % name in reason
    assert GITHUB_TOKEN not in after.stdout + after.stderr
    # fake-gcs-server keeps no IAM: said, not passed.
    assert statuses(found, "runner ServiceAccount arc-runners/arc-runner reads") == ["SKIP"]
    assert "ghp_sandboxonlynotarealtoken" not in after.stdout + after.stderr
    assert SANDBOX_TOKEN not in after.stdout + after.stderr
    assert after.changed == 0


def test_verify_names_what_was_changed_by_hand_and_the_fix(estate):
    local, api, _converged = estate
    runner_sets = DynamicClient(api).resources.get(api_version="actions.github.com/v1alpha1",
                                                   kind="AutoscalingRunnerSet")
    original = runner_sets.get(name="sandbox-v6e-1", namespace="arc-runners").to_dict()
    runner_sets.patch(name="sandbox-v6e-1", namespace="arc-runners", content_type="application/merge-patch+json",
                      body={"spec": {"maxRunners": 9, "template": {"spec": {"tolerations": []}}}})
    gcs = local.gcs.client()
    (blob,) = [b for b in gcs.list_blobs("accelci-sandbox-models") if b.name.endswith("/model_index.json")
               and "/revisions/" in b.name]
    blob.delete()
    standin = ArcControllerStandIn(api, "arc-systems", "arc-runners")
    standin.start()
    try:
        run = run_playbook("playbooks/verify.yml", INVENTORY, env=local.env)
    finally:
        standin.stop()
    assert run.rc != 0
    found = checks(run)
    status, reason = found["scale set sandbox-v6e-1 AutoscalingRunnerSet arc-runners/sandbox-v6e-1 with runners 0-4"]
    assert status == "FAIL" and "maxRunners is 9, the estate says 4" in reason
    status, reason = found["scale set sandbox-v6e-1 runner pod template (accelerator, node selector, tolerations, "
                           "model cache)"]
    assert status == "FAIL" and "toleration google.com/tpu=present:NoSchedule missing" in reason
    (model_check,) = [c for c in found if c.startswith("model accelci-demo/tiny-diffusers")]
    status, reason = found[model_check]
    assert status == "FAIL" and "model_index.json is missing" in reason
    assert "fix: stage it again: ansible-playbook playbooks/models.yml" in run.stdout
    assert re.search(r"\d+ of \d+ checks failed", run.stdout + run.stderr)
    assert "a converge does not see it" in run.stdout
    # A converge restages the model; the edited scale set is put back as the fix says (here through the API).
    restaged = run_playbook("playbooks/models.yml", INVENTORY, env=local.env)
    assert restaged.rc == 0, restaged
    runner_sets.patch(name="sandbox-v6e-1", namespace="arc-runners", content_type="application/merge-patch+json",
                      body={"spec": {"maxRunners": original["spec"]["maxRunners"],
                                     "template": {"spec": {"tolerations": original["spec"]["template"]["spec"]["tolerations"]}}}})
    standin = ArcControllerStandIn(api, "arc-systems", "arc-runners")
    standin.start()
    try:
        again = run_playbook("playbooks/verify.yml", INVENTORY, env=local.env)
    finally:
        standin.stop()
    assert again.rc == 0, again


def kube_objects(api):
    """What is left in the control plane besides its own namespaces."""
    core = client.CoreV1Api(api)
    namespaces = sorted(n.metadata.name for n in core.list_namespace().items)
    crds = client.ApiextensionsV1Api(api).list_custom_resource_definition().items
    return {"namespaces": [n for n in namespaces if n not in SYSTEM_NAMESPACES],
            "crds": sorted(c.metadata.name for c in crds),
            "secrets": sorted("%s/%s" % (s.metadata.namespace, s.metadata.name)
                              for s in core.list_secret_for_all_namespaces().items
                              if s.metadata.namespace not in SYSTEM_NAMESPACES)}


def test_teardown_refuses_without_confirmation_checks_then_removes_all_but_the_bucket(estate):
    local, api, _converged = estate
    refused = run_playbook("playbooks/teardown.yml", INVENTORY, env=local.env)
    assert refused.rc != 0
    assert "confirm with -e accelci_teardown_confirm=ci-runners" in refused.stdout + refused.stderr
    wrong = run_playbook("playbooks/teardown.yml", INVENTORY, env=local.env,
                         extra_args=["-e", "accelci_teardown_confirm=other-cluster"])
    assert wrong.rc != 0

    present = kube_objects(api)
    assert "arc-runners" in present["namespaces"] and present["crds"]
    checked = run_playbook("playbooks/teardown.yml", INVENTORY, env=local.env, extra_args=CONFIRM + ["--check"])
    assert checked.rc == 0, checked
    assert checked.changed > 0
    assert kube_objects(api) == present
    assert [c["name"] for c in local.gke.state()["clusters"]] == ["ci-runners"]

    standin = ArcControllerStandIn(api, "arc-systems", "arc-runners")
    standin.start()
    try:
        removed = run_playbook("playbooks/teardown.yml", INVENTORY, env=local.env, extra_args=CONFIRM)
    finally:
        standin.stop()
    assert removed.rc == 0, removed
    order = [removed.stdout.index(task) for task in (
        "Uninstall each runner scale set", "Uninstall the controller", "Remove ARC's CustomResourceDefinitions",
        "Remove the model cache's Kubernetes objects", "Remove the controller and runner namespaces",
        "Delete node pool", "Delete cluster ci-runners")]
    assert order == sorted(order)
    # The controller removed each scale set's finalizer before the controller itself went.
    assert sorted(standin.removed) == ["sandbox-l4-dind", "sandbox-v6e-1"]
    assert kube_objects(api) == {"namespaces": [], "crds": [], "secrets": []}
    helm = json.loads(subprocess.run(
        ["helm", "list", "--all-namespaces", "-o", "json", "--kubeconfig", local.kube.admin_kubeconfig],
        capture_output=True, text=True, env=local.env, check=True).stdout or "[]")
    assert helm == []
    assert local.gke.state()["clusters"] == []
    # The bucket and the staged model are kept.
    assert "Kept bucket gs://accelci-sandbox-models" in removed.stdout
    assert any(b.name.startswith(".accelci/models/accelci-demo/tiny-diffusers/manifests/")
               for b in local.gcs.client().list_blobs("accelci-sandbox-models"))

    again = run_playbook("playbooks/teardown.yml", INVENTORY, env=local.env, extra_args=CONFIRM)
    assert again.rc == 0, again
    assert again.changed == 0, again

    # verify.yml on what is left: every check still reported, the missing cluster a FAIL, the kept model a PASS.
    left = run_playbook("playbooks/verify.yml", INVENTORY, env=local.env)
    assert left.rc != 0
    found = checks(left)
    assert found["cluster ci-runners as declared (us-central1-b)"] == ("FAIL", "the cluster does not exist")
    assert statuses(found, "node pool tpu-v6e-1 as declared") == ["FAIL"]
    assert found["runners"] == ("SKIP", "the cluster does not exist, so there are no runners to check")
    assert statuses(found, "model accelci-demo/tiny-diffusers@main") == ["PASS"]

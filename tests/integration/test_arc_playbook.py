"""playbooks/arc.yml offline in render mode: seed 000's scale sets, the sandbox and the ROCm estate.

Rendered values go through `helm template --kube-version` of the test charts (the real charts cannot be downloaded
here), plain manifests through kubernetes-validate, and no secret value may appear anywhere.
"""
import glob
import json
import os
import subprocess

import pytest
import yaml

from ansible_collections.accelci.runners.plugins.module_utils.k8s.validation import validate_manifests

pytestmark = pytest.mark.integration

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HELM = os.path.join(ROOT, "build", "bin", "helm")
PLAYBOOK = os.path.join(ROOT, ".venv", "bin", "ansible-playbook")
CHARTS = os.path.join(ROOT, "tests", "fixtures", "charts")
PEM_BODY = "MIIEowIBAAKCAQEAintegrationtestonlynotarealkey0123456789abcdef"
PEM = "-----BEGIN RSA PRIVATE KEY-----\n%s\n-----END RSA PRIVATE KEY-----\n" % PEM_BODY


def run_playbook(inventory, render_dir, *extra, env=None):
    environ = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                   ANSIBLE_STDOUT_CALLBACK="default", PATH=os.path.dirname(HELM) + os.pathsep + os.environ["PATH"],
                   ACCELCI_RENDER_DIR=str(render_dir))
    environ.update(env or {})
    argv = [PLAYBOOK, "-i", os.path.join(ROOT, "inventories", inventory), os.path.join(ROOT, "playbooks", "arc.yml"),
            "-e", "accelci_k8s_delivery=render", "-e", "accelci_render_dir=%s" % render_dir] + list(extra)
    proc = subprocess.run(argv, cwd=ROOT, env=environ, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return proc.stdout + proc.stderr


def recap_changed(output):
    line = next(text for text in output.splitlines() if text.startswith("localhost") and "changed=" in text)
    return int(line.split("changed=")[1].split()[0])


def helm_template(release, chart, namespace, values_file, kube_version="1.33"):
    proc = subprocess.run([HELM, "template", release, os.path.join(CHARTS, chart), "--namespace", namespace,
                           "--values", values_file, "--kube-version", kube_version],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return [d for d in yaml.safe_load_all(proc.stdout) if d]


def all_text(directory):
    text = []
    for path in glob.glob(os.path.join(str(directory), "**", "*"), recursive=True):
        if os.path.isfile(path):
            with open(path) as handle:
                text.append(handle.read())
    return "\n".join(text)


@pytest.fixture(scope="module")
def tpu_render(tmp_path_factory):
    render_dir = tmp_path_factory.mktemp("render-tpu-v6e")
    first = run_playbook("tpu-v6e", render_dir)
    second = run_playbook("tpu-v6e", render_dir)
    return render_dir, first, second


def test_seed_000_scale_sets_are_rendered_offline_without_credentials(tpu_render):
    render_dir, first, _second = tpu_render
    arc = os.path.join(str(render_dir), "arc")
    for name in ("arc", "arc-runner-v6e-1", "arc-runner-v6e-4"):
        assert os.path.isfile(os.path.join(arc, "values", name + ".yaml"))
    for name in ("arc-runner-v6e-1", "arc-runner-v6e-4"):
        assert os.path.isfile(os.path.join(arc, "arc-runners", "helmrelease-%s.yaml" % name))
        assert os.path.isfile(os.path.join(arc, "arc-runners", "configmap-%s-accelci-hooks.yaml" % name))
    assert os.path.isfile(os.path.join(arc, "arc-systems", "helmrelease-arc.yaml"))
    assert "runs-on: arc-runner-v6e-1 (render)" in first and "runs-on: arc-runner-v6e-4 (render)" in first
    assert "google.com/tpu=4" in first
    assert "every scale set reads Secret accelci-github" in first


def test_second_run_changes_nothing(tpu_render):
    assert recap_changed(tpu_render[2]) == 0


def test_values_are_accepted_by_the_charts_and_match_seed_000(tpu_render):
    render_dir = tpu_render[0]
    values_dir = os.path.join(str(render_dir), "arc", "values")
    controller = helm_template("arc", "gha-runner-scale-set-controller", "arc-systems",
                               os.path.join(values_dir, "arc.yaml"))
    assert validate_manifests(controller, "1.33") == []
    expected = {"arc-runner-v6e-1": (1, "1x1", 4, {"cpu": "4", "memory": "16Gi"}, {"cpu": "8", "memory": "32Gi"}),
                "arc-runner-v6e-4": (4, "2x2", 2, {"cpu": "16", "memory": "64Gi"}, {"cpu": "32", "memory": "128Gi"})}
    for name, (chips, topology, max_runners, requests, limits) in expected.items():
        docs = helm_template(name, "gha-runner-scale-set", "arc-runners", os.path.join(values_dir, name + ".yaml"))
        ars = next(d for d in docs if d["kind"] == "AutoscalingRunnerSet")
        spec = ars["spec"]
        assert spec["runnerScaleSetName"] == name and spec["maxRunners"] == max_runners and spec["minRunners"] == 0
        assert spec["githubConfigSecret"] == "accelci-github"
        pod = spec["template"]["spec"]
        runner = next(c for c in pod["containers"] if c["name"] == "runner")
        for key, value in requests.items():
            assert runner["resources"]["requests"][key] == value
        for key, value in limits.items():
            assert runner["resources"]["limits"][key] == value
        assert runner["resources"]["limits"]["google.com/tpu"] == chips
        assert pod["nodeSelector"]["cloud.google.com/gke-tpu-topology"] == topology
        assert pod["nodeSelector"]["cloud.google.com/gke-tpu-accelerator"] == "tpu-v6e-slice"
        env = dict((e["name"], e.get("value")) for e in runner["env"])
        assert env["SGLANG_JAX_IS_IN_CI"] == "true" and env["JAX_PLATFORMS"] == "tpu"
        assert env["ACTIONS_RUNNER_HOOK_JOB_STARTED"] == "/etc/accelci/hooks/job-started.sh"
        # The storage role's published GCS cache: read-only at /models, with the GCS FUSE annotation and the KSA.
        assert {"name": "models", "mountPath": "/models", "readOnly": True} in runner["volumeMounts"]
        assert spec["template"]["metadata"]["annotations"]["gke-gcsfuse/volumes"] == "true"
        assert pod["serviceAccountName"] == "arc-runner"
        models = next(v for v in pod["volumes"] if v["name"] == "models")
        assert models["csi"]["driver"] == "gcsfuse.csi.storage.gke.io" and models["csi"]["readOnly"] is True
        pod_template = {"apiVersion": "v1", "kind": "PodTemplate",
                        "metadata": {"name": name, "namespace": "arc-runners"}, "template": spec["template"]}
        plain = [d for d in docs if d["kind"] != "AutoscalingRunnerSet"] + [pod_template]
        assert validate_manifests(plain, "1.33") == []


def test_plain_manifests_validate(tpu_render):
    render_dir = tpu_render[0]
    manifests = []
    paths = glob.glob(os.path.join(str(render_dir), "arc", "*", "*.yaml"))
    paths += glob.glob(os.path.join(str(render_dir), "_cluster", "namespace-*.yaml"))  # shared with storage
    for path in paths:
        if "/values/" in path:
            continue
        with open(path) as handle:
            manifests.append(yaml.safe_load(handle))
    skipped = []
    assert validate_manifests(manifests, "1.33", skipped=skipped) == []
    kinds = sorted(set(m["kind"] for m in manifests))
    assert kinds == ["ConfigMap", "HelmRelease", "Namespace", "OCIRepository"]
    assert len(skipped) == 6  # Flux objects are custom resources


def test_credentials_never_reach_files_or_output(tmp_path):
    vars_file = tmp_path / "vault.json"
    vars_file.write_text(json.dumps({"vault_github_app_id": "2718281", "vault_github_app_installation_id": "31415926",
                                     "vault_github_app_private_key": PEM}))
    render_dir = tmp_path / "render"
    output = run_playbook("tpu-v6e", render_dir, "-e", "@%s" % vars_file, "-v")
    text = all_text(render_dir)
    for needle in (PEM_BODY, "BEGIN RSA PRIVATE KEY"):
        assert needle not in text
        assert needle not in output
    assert "Secret arc-runners/accelci-github is a secret and is not rendered" in output or "censored" in output
    assert not glob.glob(os.path.join(str(render_dir), "arc", "*", "secret-*.yaml"))


def test_sandbox_and_rocm_estates(tmp_path):
    output = run_playbook("sandbox", tmp_path / "sandbox")
    assert "runs-on: sandbox-v6e-1 (render)" in output and "runs-on: sandbox-l4-dind | cuda (render)" in output
    assert "nvidia.com/gpu=1" in output
    values = os.path.join(str(tmp_path / "sandbox"), "arc", "values", "sandbox-l4-dind.yaml")
    docs = helm_template("sandbox-l4-dind", "gha-runner-scale-set", "arc-runners", values)
    pod = next(d for d in docs if d["kind"] == "AutoscalingRunnerSet")["spec"]["template"]["spec"]
    dind = next(c for c in pod["initContainers"] if c["name"] == "dind")
    assert "--mtu=1460" in dind["args"]

    output = run_playbook("existing-cluster-rocm", tmp_path / "rocm")
    assert "amd.com/gpu=2" in output and "node selector: pytorch=yes" in output
    values = os.path.join(str(tmp_path / "rocm"), "arc", "values", "linux-mi300-gpu-2.yaml")
    docs = helm_template("linux-mi300-gpu-2", "gha-runner-scale-set", "arc-runners", values, kube_version="1.31")
    ars = next(d for d in docs if d["kind"] == "AutoscalingRunnerSet")
    assert ars["spec"]["githubConfigSecret"] == "pytorch-secret"
    assert ars["spec"]["template"]["spec"]["securityContext"]["supplementalGroups"] == [110]


def estate_inventory(tmp_path, **variables):
    """A one-host inventory rendering an estate of two pools (one multi-host) and the given variables."""
    estate = {"accelci_k8s_delivery": "render", "accelci_kubernetes_version": "1.33",
              "accelci_github": {"config_url": "https://github.com/o/r"},
              "accelci_node_pools": [{"name": "tpu-v6e-1", "tpu": {"accelerator": "v6e", "topology": "1x1"}},
                                     {"name": "gpu-l4", "gpu": {"type": "nvidia-l4", "count": 1},
                                      "machine_type": "g2-standard-8"}],
              "accelci_scale_sets": [{"name": "v6e-1", "node_pool": "tpu-v6e-1", "max_runners": 2}]}
    estate.update(variables)
    inventory = tmp_path / "inventory"
    (inventory / "group_vars").mkdir(parents=True)
    (inventory / "hosts.yml").write_text("all:\n  hosts:\n    localhost:\n      ansible_connection: local\n"
                                         "      ansible_python_interpreter: '{{ ansible_playbook_python }}'\n")
    (inventory / "group_vars" / "all.yml").write_text(json.dumps(estate))
    return str(inventory)


def run_custom(inventory, playbook, render_dir, *extra):
    environ = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                   PATH=os.path.dirname(HELM) + os.pathsep + os.environ["PATH"])
    argv = [PLAYBOOK, "-i", inventory, playbook, "-e", "accelci_render_dir=%s" % render_dir] + list(extra)
    return subprocess.run(argv, cwd=ROOT, env=environ, capture_output=True, text=True, timeout=300, check=False)


def test_preflight_names_the_scale_set_and_the_pools_and_keeps_runner_counts_apart(tmp_path):
    arc = os.path.join(ROOT, "playbooks", "arc.yml")
    unknown = estate_inventory(tmp_path / "a", accelci_scale_sets=[{"name": "v7", "node_pool": "tpu-v7"}])
    proc = run_custom(unknown, arc, tmp_path / "ra")
    assert proc.returncode != 0
    assert ("accelci_scale_sets[v7].node_pool: tpu-v7 is not a node pool of this estate; accepted: tpu-v6e-1, gpu-l4"
            in proc.stdout)
    counts = estate_inventory(tmp_path / "b", accelci_scale_sets=[
        {"name": "v6e-1", "node_pool": "tpu-v6e-1", "min_runners": 3, "max_runners": 2}])
    proc = run_custom(counts, arc, tmp_path / "rb")
    assert proc.returncode != 0
    line = next(text for text in proc.stdout.splitlines() if "accelci_scale_sets[v6e-1].min_runners:" in text)
    assert "accelci_scale_sets[v6e-1].min_runners: min_runners (3) is greater than max_runners (2)" in line
    assert "node_pool" not in line and "node pool" not in line
    assert not os.path.exists(str(tmp_path / "rb"))


def test_published_pool_profiles_are_used_as_they_are(tmp_path):
    # accelci_node_pool_profiles (published by the cluster role) wins over resolving accelci_node_pools again.
    profile = {"pool": "tpu-v6e-1", "kind": "tpu", "resource_name": "google.com/tpu", "count": 1,
               "node_selector": {"published": "yes"}, "tolerations": [], "supplemental_groups": [], "devices": [],
               "spot": False, "gke": True, "details": {"multi_host": False}}
    inventory = estate_inventory(tmp_path, accelci_node_pool_profiles={"tpu-v6e-1": profile}, accelci_node_pools=[])
    proc = run_custom(inventory, os.path.join(ROOT, "playbooks", "arc.yml"), tmp_path / "r")
    assert proc.returncode == 0, proc.stdout[-3000:]
    with open(os.path.join(str(tmp_path / "r"), "arc", "values", "v6e-1.yaml")) as handle:
        values = yaml.safe_load(handle)
    assert values["template"]["spec"]["nodeSelector"] == {"published": "yes"}
    assert values["githubConfigSecret"] == "accelci-github"


def test_namespaces_entry_point_is_self_contained(tmp_path):
    playbook = tmp_path / "namespaces.yml"
    playbook.write_text("- hosts: localhost\n  gather_facts: false\n  tasks:\n"
                        "    - ansible.builtin.include_role:\n        name: accelci.runners.arc\n"
                        "        tasks_from: namespaces\n")
    inventory = estate_inventory(tmp_path, accelci_arc={"runners_namespace": "ci-runners"}, accelci_scale_sets=[
        {"name": "v6e-1", "node_pool": "tpu-v6e-1", "namespace": "team-a"}])
    proc = run_custom(inventory, str(playbook), tmp_path / "r")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert sorted(os.listdir(os.path.join(str(tmp_path / "r"), "_cluster"))) == [
        "namespace-arc-systems.yaml", "namespace-ci-runners.yaml", "namespace-team-a.yaml"]

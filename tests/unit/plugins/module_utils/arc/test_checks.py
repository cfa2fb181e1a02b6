"""The runner checks of verify.yml over objects shaped as the API server returns them (the end-to-end run against a
real control plane is tests/kube/test_verify_teardown.py): each finding FAILs with what was found and the fix, and
a healthy scale set passes."""

import copy
import datetime

from ansible_collections.accelci.runners.plugins.module_utils.arc.checks import RunnerChecks, run_runner_checks

NOW = datetime.datetime(2026, 12, 3, 12, 0, 0)
TPU_TOLERATION = {"key": "google.com/tpu", "operator": "Equal", "value": "present", "effect": "NoSchedule"}
EXPECTED = {
    "name": "v6e-1", "namespace": "arc-runners", "secret_name": "accelci-github",
    "runner_pod": {
        "min_runners": 0, "max_runners": 4,
        "resources": {"requests": {"cpu": "4", "google.com/tpu": 1}, "limits": {"google.com/tpu": 1, "memory": "32Gi"}},
        "node_selector": {"cloud.google.com/gke-tpu-accelerator": "tpu-v6e-slice",
                          "cloud.google.com/gke-tpu-topology": "1x1"},
        "tolerations": [TPU_TOLERATION],
        "mounts": [{"path": "/models", "volume": "model-cache", "read_only": True}],
        "service_account": "arc-runner",
    },
}


def runner_set(**spec_changes):
    spec = {
        "githubConfigSecret": "accelci-github", "minRunners": 0, "maxRunners": 4, "runnerScaleSetName": "v6e-1",
        "template": {"spec": {
            "serviceAccountName": "arc-runner",
            "nodeSelector": dict(EXPECTED["runner_pod"]["node_selector"]),
            "tolerations": [dict(TPU_TOLERATION)],
            "containers": [{"name": "runner", "image": "ghcr.io/actions/actions-runner:2.330.0",
                            "resources": {"requests": {"cpu": "4", "google.com/tpu": "1"},
                                          "limits": {"google.com/tpu": "1", "memory": "32Gi"}},
                            "volumeMounts": [{"name": "model-cache", "mountPath": "/models", "readOnly": True}]}],
            "volumes": [{"name": "model-cache", "csi": {"driver": "gcsfuse.csi.storage.gke.io", "readOnly": True}}],
        }},
    }
    spec.update(spec_changes)
    return {"metadata": {"name": "v6e-1", "namespace": "arc-runners", "annotations": {"runner-scale-set-id": "3"}},
            "spec": spec}


class FakeCluster(object):
    """K8sDelivery's read/list over a dict of objects keyed by (kind, namespace, name)."""

    def __init__(self, objects):
        self.objects = objects

    def read(self, api_version, kind, name, namespace=None):
        return copy.deepcopy(self.objects.get((kind, namespace, name)))

    def list(self, api_version, kind, namespace=None, label_selector=None):
        wanted = dict(part.split("=", 1) for part in (label_selector or "").split(",") if part)
        found = []
        for (obj_kind, obj_ns, _name), obj in sorted(self.objects.items()):
            labels = obj["metadata"].get("labels") or {}
            if obj_kind == kind and (namespace is None or obj_ns == namespace) and \
                    all(labels.get(k) == v for k, v in wanted.items()):
                found.append(copy.deepcopy(obj))
        return found


def healthy(**overrides):
    listener_labels = {"actions.github.com/scale-set-name": "v6e-1", "actions.github.com/scale-set-namespace": "arc-runners"}
    objects = {
        ("Deployment", "arc-systems", "arc-gha-rs-controller"): {
            "metadata": {"name": "arc-gha-rs-controller"}, "spec": {"replicas": 1},
            "status": {"availableReplicas": 1, "conditions": [{"type": "Available", "status": "True"}]}},
        ("AutoscalingRunnerSet", "arc-runners", "v6e-1"): runner_set(),
        ("AutoscalingListener", "arc-systems", "v6e-1-abc-listener"): {
            "metadata": {"name": "v6e-1-abc-listener", "namespace": "arc-systems", "labels": listener_labels}},
        ("Pod", "arc-systems", "v6e-1-abc-listener"): {
            "metadata": {"name": "v6e-1-abc-listener", "labels": listener_labels}, "status": {"phase": "Running"}},
        ("Secret", "arc-runners", "accelci-github"): {
            "metadata": {"name": "accelci-github"},
            "data": {"github_app_id": "***", "github_app_installation_id": "***", "github_app_private_key": "***"}},
    }
    objects.update(overrides)
    return objects


def by_check(results):
    return dict((r["check"].split(" ", 3)[-1], r) for r in results)


def run(objects, expected=None):
    return run_runner_checks(FakeCluster(objects), {"release": "arc", "namespace": "arc-systems"},
                             [expected or EXPECTED], now=NOW)


def test_a_healthy_scale_set_passes_every_check():
    results = run(healthy())
    assert [r["status"] for r in results] == ["PASS", "PASS", "PASS", "PASS", "PASS", "SKIP"]
    pod_check = results[2]
    assert "google.com/tpu=1" in pod_check["reason"] and "read-only /models" in pod_check["reason"]
    assert "registered with GitHub (scale set id 3)" in results[3]["reason"]


def test_a_missing_controller_and_scale_set_fail_with_what_to_run():
    objects = healthy()
    del objects[("Deployment", "arc-systems", "arc-gha-rs-controller")]
    del objects[("AutoscalingRunnerSet", "arc-runners", "v6e-1")]
    results = run(objects)
    assert [r["status"] for r in results] == ["FAIL", "FAIL"]
    assert "--tags arc_controller" in results[0]["fix"]
    assert results[1]["reason"] == "it does not exist" and "--tags arc_scale_sets" in results[1]["fix"]


def test_an_unavailable_controller_says_why():
    objects = healthy()
    objects[("Deployment", "arc-systems", "arc-gha-rs-controller")]["status"] = {
        "availableReplicas": 0, "conditions": [{"type": "Available", "status": "False",
                                                "message": "Deployment does not have minimum availability."}]}
    result = run(objects)[0]
    assert result["status"] == "FAIL"
    assert result["reason"] == "0 of 1 replicas available: Deployment does not have minimum availability."


def test_a_template_that_lost_its_accelerator_wiring_fails_naming_each_part():
    spec = runner_set()["spec"]
    pod = spec["template"]["spec"]
    pod["tolerations"] = []
    pod["nodeSelector"] = {"cloud.google.com/gke-tpu-accelerator": "tpu-v5-lite-podslice"}
    pod["containers"][0]["resources"]["limits"]["google.com/tpu"] = "4"
    pod["containers"][0]["volumeMounts"][0]["readOnly"] = False
    pod["serviceAccountName"] = "default"
    objects = healthy()
    objects[("AutoscalingRunnerSet", "arc-runners", "v6e-1")] = dict(runner_set(), spec=dict(spec, maxRunners=9))
    results = by_check(run(objects))
    present = results["AutoscalingRunnerSet arc-runners/v6e-1 with runners 0-4"]
    assert present["status"] == "FAIL" and present["reason"] == "maxRunners is 9, the estate says 4"
    template = results["runner pod template (accelerator, node selector, tolerations, model cache)"]
    assert template["status"] == "FAIL"
    for part in ("runner limits google.com/tpu is 4, the pool needs 1",
                 "node selector cloud.google.com/gke-tpu-accelerator=tpu-v6e-slice missing",
                 "toleration google.com/tpu=present:NoSchedule missing", "/models is mounted read-write",
                 "service account is default, the estate says arc-runner"):
        assert part in template["reason"]


def test_a_writable_cache_volume_fails_even_when_the_mount_says_read_only():
    spec = runner_set()["spec"]
    spec["template"]["spec"]["volumes"][0]["csi"]["readOnly"] = False
    objects = healthy()
    objects[("AutoscalingRunnerSet", "arc-runners", "v6e-1")] = dict(runner_set(), spec=spec)
    template = by_check(run(objects))["runner pod template (accelerator, node selector, tolerations, model cache)"]
    assert template["status"] == "FAIL" and "volume model-cache behind /models is not read-only" in template["reason"]


def test_runners_not_picking_up_jobs_names_registration_listener_and_secret():
    objects = healthy()
    objects[("AutoscalingRunnerSet", "arc-runners", "v6e-1")]["metadata"]["annotations"] = {}
    objects[("Pod", "arc-systems", "v6e-1-abc-listener")]["status"]["phase"] = "Pending"
    objects[("Secret", "arc-runners", "accelci-github")]["data"] = {"github_app_id": "***"}
    check = by_check(run(objects))["runners not picking up jobs? (GitHub registration, listener, Secret)"]
    assert check["status"] == "FAIL"
    assert "not registered it with GitHub (no runner-scale-set-id annotation)" in check["reason"]
    assert "listener pod arc-systems/v6e-1-abc-listener is Pending" in check["reason"]
    assert "has neither github_token nor all of" in check["reason"] and "(has github_app_id)" in check["reason"]
    assert "GitHub App's permissions" in check["fix"] and "logs deploy/arc-gha-rs-controller" in check["fix"]


def runner_pod(name, created, **status):
    return {"metadata": {"name": name, "labels": {"actions.github.com/scale-set-name": "v6e-1"},
                         "creationTimestamp": created}, "status": status}


def test_tpu_not_available_fails_only_after_the_grace_period():
    unschedulable = {"phase": "Pending", "conditions": [{
        "type": "PodScheduled", "status": "False", "reason": "Unschedulable",
        "message": "0/3 nodes are available: 3 Insufficient google.com/tpu."}]}
    objects = healthy()
    objects[("Pod", "arc-runners", "v6e-1-runner-new")] = runner_pod("v6e-1-runner-new", "2026-12-03T11:58:00Z",
                                                                     **unschedulable)
    check = by_check(run(objects))["google.com/tpu available to runners? (pending runner pods)"]
    assert check["status"] == "PASS"
    objects[("Pod", "arc-runners", "v6e-1-runner-old")] = runner_pod("v6e-1-runner-old", "2026-12-03T11:30:00Z",
                                                                     **unschedulable)
    check = by_check(run(objects))["google.com/tpu available to runners? (pending runner pods)"]
    assert check["status"] == "FAIL"
    assert check["reason"] == ("runner pod v6e-1-runner-old waits for a node for 30 min: 0/3 nodes are available: "
                               "3 Insufficient google.com/tpu.")
    assert "accelerator_capacity_info" in check["fix"]


def test_an_oom_killed_runner_fails_with_the_limit_to_raise():
    objects = healthy()
    objects[("Pod", "arc-runners", "v6e-1-runner-a")] = runner_pod(
        "v6e-1-runner-a", "2026-12-03T11:00:00Z", phase="Running",
        containerStatuses=[{"name": "runner", "state": {"running": {}},
                            "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}}}])
    check = by_check(run(objects))["runners OOM-killed? (memory)"]
    assert check["status"] == "FAIL"
    assert check["reason"] == "container runner of v6e-1-runner-a was OOM-killed (memory limit 32Gi)"
    assert "accelci_scale_sets[v6e-1].resources.limits.memory" in check["fix"]


def test_checks_are_reads_only():
    class ReadOnly(FakeCluster):
        def __getattr__(self, name):
            raise AssertionError("verify called %s" % name)

    results = RunnerChecks(ReadOnly(healthy()), now=NOW).scale_set(EXPECTED, "arc", "arc-systems")
    assert len(results) == 5

"""Runner pods land where they should: for every scale set of the example inventories, the pod ARC would create
(the rendered AutoscalingRunnerSet's template) is created in the real API server, and the real kube-scheduler binds
it to a node of its pool. Every accelerator pool starts at 0 nodes, so each pod first makes the autoscaler stand-in
add a node (tests/emulators/gke/nodes.py); a pod asking for more chips than any node has stays Pending with the
scheduler's reason."""

import os
import subprocess
import time

import pytest
import yaml
from kubernetes import client
from kubernetes.dynamic import DynamicClient

from tests.emulators.gke import GkeEmulator
from tests.emulators.gke.nodes import NODEPOOL_LABEL
from tests.integration.playbook_runner import ROOT, run_playbook

pytestmark = [pytest.mark.integration, pytest.mark.kube]

HELM = os.path.join(ROOT, "build", "bin", "helm")
CHART = os.path.join(ROOT, "tests", "fixtures", "charts", "gha-runner-scale-set")
# Inventories whose cluster the collection makes on GKE (existing-cluster-rocm runs on a cluster of its own).
INVENTORIES = ["sandbox", "tpu-v6e", "gpu"]
NO_CAPACITY_CHECK = ["-e", "cluster_capacity_check=off"]


def scale_sets(inventory):
    with open(os.path.join(ROOT, "inventories", inventory, "group_vars", "all", "arc.yml")) as handle:
        return yaml.safe_load(handle)["accelci_scale_sets"]


def runner_pod_template(render_dir, scale_set, namespace):
    """The AutoscalingRunnerSet's pod template, as helm renders it from the values the arc role wrote."""
    values = os.path.join(str(render_dir), "arc", "values", scale_set + ".yaml")
    proc = subprocess.run([HELM, "template", scale_set, CHART, "--namespace", namespace, "--values", values,
                           "--kube-version", "1.34"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    runner_set = next(d for d in yaml.safe_load_all(proc.stdout) if d and d["kind"] == "AutoscalingRunnerSet")
    return runner_set["spec"]["template"]


def runner_pod(name, template):
    """A pod as ARC's EphemeralRunner controller makes one from the template (the volumes the template names
    from PVCs and CSI drivers are irrelevant to where it lands, and kwok runs no volume plugins)."""
    spec = dict(template["spec"])
    spec["volumes"] = [{"name": volume["name"], "emptyDir": {}} for volume in spec.get("volumes") or []]
    spec.pop("serviceAccountName", None)
    metadata = {"name": name, "labels": dict((template.get("metadata") or {}).get("labels") or {},
                                             **{"test.accelci.io/runner": name})}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}


def create_pod(kube_client, namespace, pod):
    """Create the pod from its JSON as is (the typed client would refuse the integer quantities that the API
    server, like ARC's controller, takes)."""
    dynamic = DynamicClient(kube_client)
    dynamic.resources.get(api_version="v1", kind="Pod").create(body=pod, namespace=namespace)


def bound_pod(core, name, namespace):
    """The pod once the scheduler has bound it to a node, else None."""
    pod = core.read_namespaced_pod(name, namespace)
    return pod if pod.spec.node_name else None


def wait_for(predicate, timeout=60, interval=0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(interval)
    return None


def make_namespace(core, name):
    core.create_namespace({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    wait_for(lambda: core.list_namespaced_service_account(name).items, timeout=30)


@pytest.mark.parametrize("inventory", INVENTORIES)
def test_every_scale_set_runner_pod_lands_on_its_pool(inventory, tmp_path, control_plane, kube_client):
    core = client.CoreV1Api(kube_client)
    namespace = "placement-" + inventory
    make_namespace(core, namespace)
    render_dir = tmp_path / "rendered"
    with GkeEmulator(operation_seconds=0.1, kube=control_plane, scale_down_seconds=600) as gke:
        env = {"ACCELCI_GKE_API_ENDPOINT": gke.url, "ACCELCI_RENDER_DIR": str(render_dir),
               "PATH": os.path.dirname(HELM) + os.pathsep + os.environ["PATH"]}
        inventory_dir = os.path.join(ROOT, "inventories", inventory)
        cluster = run_playbook("playbooks/cluster.yml", inventory_dir, env=env, extra_args=NO_CAPACITY_CHECK)
        assert cluster.rc == 0, cluster
        arc = run_playbook("playbooks/arc.yml", inventory_dir, env=env,
                           extra_args=["-e", "accelci_k8s_delivery=render", "-e", "accelci_render_dir=%s" % render_dir])
        assert arc.rc == 0, arc

        results = {}
        for entry in scale_sets(inventory):
            name = entry["name"]
            template = runner_pod_template(render_dir, name, namespace)
            create_pod(kube_client, namespace, runner_pod(name, template))

            def bound(name=name):
                pod = core.read_namespaced_pod(name, namespace)
                return pod if pod.spec.node_name and pod.status.phase == "Running" else None

            pod = wait_for(bound, timeout=60)
            assert pod is not None, (name, core.read_namespaced_pod(name, namespace).status, gke.autoscaler.events,
                                     gke.node_errors)
            node = core.read_node(pod.spec.node_name)
            results[name] = (entry["node_pool"], node.metadata.labels[NODEPOOL_LABEL], node.status.allocatable)
            assert node.metadata.labels[NODEPOOL_LABEL] == entry["node_pool"], results[name]
            ups = [e for e in gke.autoscaler.events if e["action"] == "scale_up" and e["pod"] == "%s/%s" % (
                namespace, name)]
            assert [e["pool"] for e in ups] == [entry["node_pool"]], gke.autoscaler.events
        print("\n".join("%s -> pool %s (node allocatable %s)" % (name, pool, allocatable)
                        for name, (_want, pool, allocatable) in sorted(results.items())))
        core.delete_namespace(namespace)


def test_v6e_2x2_runner_lands_on_a_four_chip_node_and_too_many_chips_stay_pending(tmp_path, control_plane,
                                                                                  kube_client):
    core = client.CoreV1Api(kube_client)
    namespace = "placement-chips"
    make_namespace(core, namespace)
    render_dir = tmp_path / "rendered"
    with GkeEmulator(operation_seconds=0.1, kube=control_plane, scale_down_seconds=600) as gke:
        env = {"ACCELCI_GKE_API_ENDPOINT": gke.url, "PATH": os.path.dirname(HELM) + os.pathsep + os.environ["PATH"]}
        inventory_dir = os.path.join(ROOT, "inventories", "tpu-v6e")
        assert run_playbook("playbooks/cluster.yml", inventory_dir, env=env, extra_args=NO_CAPACITY_CHECK).rc == 0
        arc = run_playbook("playbooks/arc.yml", inventory_dir, env=env,
                           extra_args=["-e", "accelci_k8s_delivery=render", "-e", "accelci_render_dir=%s" % render_dir])
        assert arc.rc == 0, arc
        template = runner_pod_template(render_dir, "arc-runner-v6e-4", namespace)
        create_pod(kube_client, namespace, runner_pod("v6e-2x2", template))
        pod = wait_for(lambda: bound_pod(core, "v6e-2x2", namespace))
        assert pod is not None, gke.autoscaler.events
        node = core.read_node(pod.spec.node_name)
        assert node.metadata.labels[NODEPOOL_LABEL] == "tpu-v6e-4"
        assert node.metadata.labels["cloud.google.com/gke-tpu-topology"] == "2x2"
        assert node.status.allocatable["google.com/tpu"] == "4"
        assert {"key": "google.com/tpu", "value": "present", "effect": "NoSchedule"} in [
            {"key": t.key, "value": t.value, "effect": t.effect} for t in node.spec.taints]

        # Sixteen chips on one v6e node: no pool of the estate (nor any v6e machine) has that many.
        greedy = runner_pod("v6e-16-chips", template)
        runner = next(c for c in greedy["spec"]["containers"] if c["name"] == "runner")
        runner["resources"] = {"requests": {"google.com/tpu": "16"}, "limits": {"google.com/tpu": "16"}}
        create_pod(kube_client, namespace, greedy)

        def unschedulable():
            conditions = core.read_namespaced_pod("v6e-16-chips", namespace).status.conditions or []
            return next((c for c in conditions if c.type == "PodScheduled" and c.reason == "Unschedulable"), None)

        condition = wait_for(unschedulable, timeout=30)
        assert condition is not None
        time.sleep(3)  # the autoscaler stand-in has had its rounds: nothing it could add would hold the pod
        pod = core.read_namespaced_pod("v6e-16-chips", namespace)
        assert pod.status.phase == "Pending" and not pod.spec.node_name
        assert "Insufficient google.com/tpu" in condition.message, condition.message
        assert not [e for e in gke.autoscaler.events if e["pod"].endswith("/v6e-16-chips")]
        print("v6e-16-chips: Pending, %s" % condition.message)
        core.delete_namespace(namespace)


def test_a_multi_host_slice_is_added_whole_and_idle_nodes_go_after_the_scale_down_delay(
        tmp_path, control_plane, kube_client):
    core = client.CoreV1Api(kube_client)
    namespace = "placement-slice"
    make_namespace(core, namespace)
    with GkeEmulator(operation_seconds=0.1, kube=control_plane, scale_down_seconds=2) as gke:
        env = {"ACCELCI_GKE_API_ENDPOINT": gke.url}
        inventory_dir = os.path.join(ROOT, "inventories", "sandbox")
        assert run_playbook("playbooks/cluster.yml", inventory_dir, env=env, extra_args=NO_CAPACITY_CHECK).rc == 0
        pool = "tpu-v5e-2x4"
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "slice-worker"}, "spec": {
            "nodeSelector": {NODEPOOL_LABEL: pool, "cloud.google.com/gke-tpu-topology": "2x4"},
            "tolerations": [{"key": "google.com/tpu", "operator": "Exists", "effect": "NoSchedule"}],
            "containers": [{"name": "worker", "image": "python:3.12",
                            "resources": {"requests": {"google.com/tpu": "4"}, "limits": {"google.com/tpu": "4"}}}]}}
        create_pod(kube_client, namespace, pod)
        bound = wait_for(lambda: bound_pod(core, "slice-worker", namespace))
        assert bound is not None, gke.autoscaler.events

        def pool_nodes():
            return core.list_node(label_selector="%s=%s" % (NODEPOOL_LABEL, pool)).items

        # One pool is one slice: the autoscaler adds both VMs of the 2x4 slice for one pod.
        assert len(pool_nodes()) == 2
        assert [e for e in gke.autoscaler.events if e["action"] == "scale_up"] == [
            {"action": "scale_up", "pool": pool, "size": 2, "pod": "%s/slice-worker" % namespace}]
        core.delete_namespaced_pod("slice-worker", namespace, grace_period_seconds=0)
        assert wait_for(lambda: not pool_nodes(), timeout=30), gke.autoscaler.events
        assert gke.autoscaler.events[-1] == {"action": "scale_down", "pool": pool, "size": 0}
        core.delete_namespace(namespace)

"""What the GKE emulator puts on the nodes of a pool, and when the autoscaler stand-in thinks a pod fits a node."""

from google.cloud.container_v1 import types

from tests.emulators.gke.nodes import fits, node_template, pod_requests


def pool(machine_type, **config):
    message = types.NodePool.pb()(name="p")
    message.config.machine_type = machine_type
    for key, value in config.items():
        setattr(message.config, key, value)
    message.max_pods_constraint.max_pods_per_node = 110
    return message


def cluster():
    return types.Cluster.pb()(name="ci")


def test_a_single_host_v6e_node_carries_gke_labels_taint_and_chips():
    labels, taints, allocatable = node_template(cluster(), pool("ct6e-standard-4t", spot=True), "us-central1-b")
    assert labels["cloud.google.com/gke-nodepool"] == "p"
    assert labels["cloud.google.com/gke-tpu-accelerator"] == "tpu-v6e-slice"
    assert labels["cloud.google.com/gke-tpu-topology"] == "2x2"
    assert labels["cloud.google.com/gke-spot"] == "true"
    assert labels["cloud.google.com/machine-family"] == "ct6e"
    assert labels["topology.kubernetes.io/zone"] == "us-central1-b"
    assert taints == [{"key": "google.com/tpu", "value": "present", "effect": "NoSchedule"}]
    assert allocatable["google.com/tpu"] == "4"


def test_a_multi_host_slice_node_is_labelled_with_the_slice_topology():
    message = pool("ct5lp-hightpu-4t")
    message.placement_policy.tpu_topology = "2x4"
    labels, _taints, allocatable = node_template(cluster(), message, "us-central1-b")
    assert labels["cloud.google.com/gke-tpu-accelerator"] == "tpu-v5-lite-podslice"
    assert labels["cloud.google.com/gke-tpu-topology"] == "2x4"
    assert allocatable["google.com/tpu"] == "4"


def test_a_gpu_node_advertises_shared_gpus_and_keeps_the_pools_taints():
    message = pool("g2-standard-8")
    accelerator = message.config.accelerators.add(accelerator_type="nvidia-l4", accelerator_count=1)
    accelerator.gpu_sharing_config.max_shared_clients_per_gpu = 4
    message.config.taints.add(key="nvidia.com/gpu", value="present", effect=types.NodeTaint.Effect.NO_SCHEDULE)
    labels, taints, allocatable = node_template(cluster(), message, "us-central1-a")
    assert labels["cloud.google.com/gke-accelerator"] == "nvidia-l4"
    assert taints == [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]
    assert allocatable["nvidia.com/gpu"] == "4"
    assert allocatable["cpu"] == "7200m"


def runner(selector, tolerations, requests):
    return {"spec": {"nodeSelector": selector, "tolerations": tolerations,
                     "containers": [{"name": "runner", "resources": {"requests": requests}}]}}


TPU_TOLERATION = [{"key": "google.com/tpu", "operator": "Exists", "effect": "NoSchedule"}]


def test_fits_follows_selector_taints_and_resources():
    labels, taints, allocatable = node_template(cluster(), pool("ct6e-standard-4t"), "us-central1-b")
    selector = {"cloud.google.com/gke-tpu-topology": "2x2"}
    assert fits(runner(selector, TPU_TOLERATION, {"google.com/tpu": "4", "memory": "64Gi"}), labels, taints,
                allocatable)
    assert not fits(runner(selector, [], {"google.com/tpu": "4"}), labels, taints, allocatable)  # the taint
    assert not fits(runner({"cloud.google.com/gke-tpu-topology": "2x4"}, TPU_TOLERATION, {}), labels, taints,
                    allocatable)
    assert not fits(runner(selector, TPU_TOLERATION, {"google.com/tpu": 8}), labels, taints, allocatable)
    assert not fits(runner(selector, TPU_TOLERATION, {"memory": "2Ti"}), labels, taints, allocatable)


def test_required_node_affinity_is_honoured():
    labels, taints, allocatable = node_template(cluster(), pool("e2-standard-4"), "us-central1-b")
    pod = {"spec": {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [{"key": "cloud.google.com/gke-spot", "operator": "Exists"}]}]}}},
        "containers": [{"name": "c"}]}}
    assert not fits(pod, labels, taints, allocatable)
    labels["cloud.google.com/gke-spot"] = "true"
    assert fits(pod, labels, taints, allocatable)


def test_pod_requests_sum_containers_and_take_the_largest_init_container():
    pod = {"spec": {"containers": [{"resources": {"requests": {"cpu": "500m"}}},
                                   {"resources": {"limits": {"google.com/tpu": 4}}}],
                    "initContainers": [{"resources": {"requests": {"cpu": "2"}}}]}}
    assert pod_requests(pod) == {"cpu": 2.0, "google.com/tpu": 4.0}

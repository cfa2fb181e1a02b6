"""A GKE cluster's nodes in a real Kubernetes control plane: the emulator's node pools as kwok nodes, and
scale-from-zero.

``NodeMirror(backend, kube)`` keeps, for every running node pool, as many Node objects as the pool has nodes per
zone, carrying what GKE puts on real nodes: the labels (``cloud.google.com/gke-nodepool``, machine family and type,
zone, spot, the TPU accelerator and topology, the GPU type, the pool's own labels), the taints (the pool's, GKE's
``nvidia.com/gpu`` among them, and ``google.com/tpu`` on TPU nodes) and the allocatable resources
(``google.com/tpu``: chips per VM, ``nvidia.com/gpu``, CPU and memory less a system reserve). kwok marks them Ready
and runs the pods the real kube-scheduler binds to them.

``ScaleFromZero`` stands in for GKE's cluster autoscaler, which cannot be built here: the Go module proxy refuses
``k8s.io/autoscaler/cluster-autoscaler`` (HTTP 403, "This module version is not available", for every version and
for the list). It follows the autoscaler's documented behaviour: a pod the scheduler marked Unschedulable makes it
grow the smallest autoscaled pool whose node template (labels, taints, allocatable) would hold the pod, by one
node or, for a multi-host TPU slice, by the whole slice; a node without workload pods for ``scale_down_seconds``
(the autoscaler's ``--scale-down-unneeded-time``, 10 minutes by default, a few seconds here) is removed while the
pool is above its minimum. Its decisions are kept in ``events`` for tests.
"""

import hashlib
import threading
import time

from google.cloud.container_v1 import types

from . import resources as res
from .machines import TPU_MACHINE_TYPES, machine_memory_gib, machine_vcpus, parse_topology, region_of

NODEPOOL_LABEL = "cloud.google.com/gke-nodepool"
KWOK_ANNOTATION = {"kwok.x-k8s.io/node": "fake"}
# Which pool and zone a node belongs to (project/location/cluster/pool/zone): the mirror's own bookkeeping.
GROUP_ANNOTATION = "emulator.accelci.local/node-group"
TPU_TAINT = {"key": "google.com/tpu", "value": "present", "effect": "NoSchedule"}
# cloud.google.com/gke-tpu-accelerator per TPU generation (GKE "TPUs in GKE"; the same table the emulator keeps for
# machine types, so the two cannot disagree).
TPU_ACCELERATOR_LABELS = {
    "v4": "tpu-v4-podslice", "v5e": "tpu-v5-lite-podslice", "v5e-device": "tpu-v5-lite-device",
    "v5p": "tpu-v5p-slice", "v6e": "tpu-v6e-slice", "7x": "tpu7x", "7": "tpu7",
}
# Single-host topologies by chips per VM (what GKE labels a single-host TPU node with).
_SINGLE_HOST_TOPOLOGY = {2: {1: "1x1", 4: "2x2", 8: "2x4"}, 3: {1: "1x1x1", 4: "2x2x1"}}
# How long a node added for a pending pod is waited for before that pod may make the pool grow again.
UPCOMING_NODE_SECONDS = 30.0
_RUNNING_POOL = {types.NodePool.Status.RUNNING.value, types.NodePool.Status.RECONCILING.value}
_RUNNING_CLUSTER = {types.Cluster.Status.RUNNING.value, types.Cluster.Status.RECONCILING.value}


def _effect(value):
    """Taint effects as the GKE API spells them (NO_SCHEDULE) -> as Kubernetes does (NoSchedule)."""
    names = {1: "NoSchedule", 2: "PreferNoSchedule", 3: "NoExecute",
             "NO_SCHEDULE": "NoSchedule", "PREFER_NO_SCHEDULE": "PreferNoSchedule", "NO_EXECUTE": "NoExecute"}
    return names.get(value, value)


def node_template(cluster, pool, zone):
    """(labels, taints, allocatable) of a node of ``pool`` in ``zone``."""
    config = pool.config
    machine = config.machine_type
    labels = dict(config.labels)
    labels.update({
        NODEPOOL_LABEL: pool.name,
        "cloud.google.com/machine-family": machine.split("-", 1)[0],
        "node.kubernetes.io/instance-type": machine,
        "topology.kubernetes.io/zone": zone,
        "topology.kubernetes.io/region": region_of(zone),
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
    })
    if config.spot:
        labels["cloud.google.com/gke-spot"] = "true"
    if config.preemptible:
        labels["cloud.google.com/gke-preemptible"] = "true"
    taints = [{"key": t.key, "value": t.value, "effect": _effect(t.effect)} for t in config.taints]
    vcpus = machine_vcpus(machine) or 2
    # GKE reserves part of each node for the system (kubelet, OS): about 6% of the first core and less after,
    # 25% of the first 4 GiB of memory and less after. A flat tenth is close enough for scheduling tests.
    allocatable = {"cpu": "%dm" % int(vcpus * 1000 * 0.9), "memory": "%dMi" % int(machine_memory_gib(machine)
                                                                                  * 1024 * 0.9),
                   "pods": str(pool.max_pods_constraint.max_pods_per_node or 110), "ephemeral-storage": "90Gi"}
    tpu = TPU_MACHINE_TYPES.get(machine)
    if tpu:
        labels["cloud.google.com/gke-tpu-accelerator"] = TPU_ACCELERATOR_LABELS[tpu.generation]
        topology = pool.placement_policy.tpu_topology
        if not parse_topology(topology):
            topology = _SINGLE_HOST_TOPOLOGY[tpu.dimensions][tpu.chips_per_vm]
        labels["cloud.google.com/gke-tpu-topology"] = topology
        allocatable["google.com/tpu"] = str(tpu.chips_per_vm)
        if not any(t["key"] == TPU_TAINT["key"] for t in taints):
            taints.append(dict(TPU_TAINT))
    gpu = res.accelerator_use(config) if res.is_gpu_pool(config) else None
    if gpu:
        accelerator = config.accelerators[0]
        labels["cloud.google.com/gke-accelerator"] = accelerator.accelerator_type
        count = accelerator.accelerator_count
        sharing = accelerator.gpu_sharing_config.max_shared_clients_per_gpu
        allocatable["nvidia.com/gpu"] = str(count * sharing if sharing else count)
    return labels, taints, allocatable


def node_name(cluster, pool, zone, index):
    """gke-<cluster>-<pool>-<8 hex>-<4 chars>, GKE's node name form, made deterministic."""
    group = hashlib.sha256(("%s/%s/%s" % (cluster.name, pool.name, zone)).encode()).hexdigest()[:8]
    suffix = hashlib.sha256(("%s/%d" % (group, index)).encode()).hexdigest()[:4]
    return "gke-%s-%s-%s-%s" % (cluster.name[:14], pool.name[:24], group, suffix)


def _quantity(text):
    """A Kubernetes quantity as a float in base units (cores, bytes, counts)."""
    text = str(text)
    suffixes = {"m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
                "Ki": 1024.0, "Mi": 1024.0 ** 2, "Gi": 1024.0 ** 3, "Ti": 1024.0 ** 4}
    for suffix in sorted(suffixes, key=len, reverse=True):
        if text.endswith(suffix):
            return float(text[:-len(suffix)]) * suffixes[suffix]
    return float(text)


def pod_requests(pod):
    """{resource: amount} the pod asks for (containers summed; an init container may ask for more)."""
    spec = pod.get("spec") or {}
    total = {}
    for container in spec.get("containers") or []:
        resources = container.get("resources") or {}
        for name, value in dict(resources.get("limits") or {}, **(resources.get("requests") or {})).items():
            total[name] = total.get(name, 0.0) + _quantity(value)
    for container in spec.get("initContainers") or []:
        resources = container.get("resources") or {}
        for name, value in dict(resources.get("limits") or {}, **(resources.get("requests") or {})).items():
            total[name] = max(total.get(name, 0.0), _quantity(value))
    return total


def _tolerated(taint, tolerations):
    for toleration in tolerations:
        if toleration.get("effect") and toleration["effect"] != taint["effect"]:
            continue
        if toleration.get("operator") == "Exists" and not toleration.get("key"):
            return True
        if toleration.get("key") != taint["key"]:
            continue
        if toleration.get("operator") == "Exists" or toleration.get("value", "") == taint.get("value", ""):
            return True
    return False


def _expression_holds(expression, labels):
    key, operator, values = expression["key"], expression["operator"], expression.get("values") or []
    if operator == "In":
        return labels.get(key) in values
    if operator == "NotIn":
        return labels.get(key) not in values
    if operator == "Exists":
        return key in labels
    if operator == "DoesNotExist":
        return key not in labels
    return False


def fits(pod, labels, taints, allocatable):
    """Whether an empty node with this template could run ``pod`` (selector, required affinity, taints, resources)."""
    spec = pod.get("spec") or {}
    if any(labels.get(key) != value for key, value in (spec.get("nodeSelector") or {}).items()):
        return False
    required = (((spec.get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution") or {})
    terms = required.get("nodeSelectorTerms") or []
    if terms and not any(all(_expression_holds(e, labels) for e in term.get("matchExpressions") or [])
                         for term in terms):
        return False
    tolerations = spec.get("tolerations") or []
    if any(t["effect"] in ("NoSchedule", "NoExecute") and not _tolerated(t, tolerations) for t in taints):
        return False
    for name, amount in pod_requests(pod).items():
        if amount > _quantity(allocatable.get(name, 0)):
            return False
    return True


class NodeMirror:
    """Keep the control plane's Nodes equal to the emulator's node pools (see the module docstring)."""

    def __init__(self, backend, kube):
        self.backend = backend
        self.kube = kube
        from kubernetes import client

        self.core = client.CoreV1Api(kube.api_client())

    def desired(self):
        """{(project, location, cluster, pool, zone): (nodes wanted, cluster, pool)} for every running pool."""
        groups = {}
        with self.backend.lock:
            self.backend._advance()
            for (project, location, name), cluster in self.backend.clusters.items():
                if cluster.status not in _RUNNING_CLUSTER:
                    continue
                ids = {"project": project, "location": location, "cluster": name}
                for pool in cluster.node_pools:
                    if pool.status not in _RUNNING_POOL:
                        continue
                    per_zone = self.backend._pool_size(ids, pool)
                    for zone in res.pool_zones(cluster, pool):
                        groups[(project, location, name, pool.name, zone)] = (per_zone, res.copy_pb(cluster),
                                                                              res.copy_pb(pool))
        return groups

    def live(self):
        return {node.metadata.name: node for node in self.core.list_node(label_selector=NODEPOOL_LABEL).items}

    @staticmethod
    def _group_of(node):
        annotations = node.metadata.annotations or {}
        return annotations.get(GROUP_ANNOTATION)

    def sync(self):
        """Create the nodes pools have gained and delete those they have lost (empty nodes first, as the
        autoscaler removes the nodes it found unneeded); returns (created, deleted)."""
        want = self.desired()
        have = self.live()
        busy = set(pod.spec.node_name for pod in self.core.list_pod_for_all_namespaces().items if pod.spec.node_name)
        created, deleted = [], []
        by_group = {}
        for name, node in have.items():
            by_group.setdefault(self._group_of(node), []).append(name)
        for group_key, (count, cluster, pool, ) in sorted(want.items()):
            group = "/".join(group_key)
            names = sorted(by_group.pop(group, []), key=lambda n: (n in busy, n))
            surplus = len(names) - count
            for name in names[:max(0, surplus)]:
                self.core.delete_node(name)
                deleted.append(name)
            index = 0
            existing = set(names)
            labels, taints, allocatable = node_template(cluster, pool, group_key[4])
            for _missing in range(max(0, -surplus)):
                while node_name(cluster, pool, group_key[4], index) in existing:
                    index += 1
                name = node_name(cluster, pool, group_key[4], index)
                existing.add(name)
                self.core.create_node({
                    "apiVersion": "v1", "kind": "Node",
                    "metadata": {"name": name, "labels": dict(labels, **{"kubernetes.io/hostname": name}),
                                 "annotations": dict(KWOK_ANNOTATION, **{GROUP_ANNOTATION: group})},
                    "spec": {"taints": taints, "providerID": "gce://%s/%s/%s" % (group_key[0], group_key[4], name)},
                    "status": {"allocatable": allocatable, "capacity": allocatable},
                })
                created.append(name)
        for names in by_group.values():  # pools (or clusters) that are gone
            for name in names:
                self.core.delete_node(name)
                deleted.append(name)
        return created, deleted


class ScaleFromZero:
    """The cluster autoscaler's behaviour over a NodeMirror (see the module docstring)."""

    def __init__(self, mirror, scale_down_seconds=10.0, clock=time.monotonic):
        self.mirror = mirror
        self.backend = mirror.backend
        self.scale_down_seconds = float(scale_down_seconds)
        self._clock = clock
        self._idle_since = {}
        self._upcoming = {}  # pod uid -> until when a node added for it counts as on its way
        self.events = []
        self._lock = threading.Lock()

    def _pools(self):
        """(key, cluster, pool, per-zone size, zones) of every running autoscaled pool."""
        found = []
        for (project, location, name), cluster in self.backend.clusters.items():
            if cluster.status not in _RUNNING_CLUSTER:
                continue
            ids = {"project": project, "location": location, "cluster": name}
            for pool in cluster.node_pools:
                if pool.status in _RUNNING_POOL and pool.autoscaling.enabled:
                    found.append(((project, location, name, pool.name), cluster, pool,
                                  self.backend._pool_size(ids, pool), res.pool_zones(cluster, pool)))
        return found

    @staticmethod
    def _limits(pool, zones):
        """(step, per-zone maximum, per-zone minimum): a multi-host slice moves by the whole slice."""
        scaling = pool.autoscaling
        if scaling.total_max_node_count or scaling.total_min_node_count:
            maximum = scaling.total_max_node_count // max(1, len(zones))
            minimum = scaling.total_min_node_count // max(1, len(zones))
        else:
            maximum, minimum = scaling.max_node_count, scaling.min_node_count
        step = res.tpu_slice_vms(pool) if res.is_multi_host_tpu(pool) else 1
        return step, maximum, minimum

    def _pending(self):
        pods = self.mirror.core.list_pod_for_all_namespaces(field_selector="status.phase=Pending").items
        pending = []
        for pod in pods:
            if pod.spec.node_name:
                continue
            conditions = pod.status.conditions or []
            if any(c.type == "PodScheduled" and c.reason == "Unschedulable" for c in conditions):
                pending.append(self.mirror.core.api_client.sanitize_for_serialization(pod))
        return pending

    def scale_up(self):
        """Grow one pool for each unschedulable pod that an added node would hold; returns the events added."""
        added = []
        with self.backend.lock:
            pools = self._pools()
            grown = set()
            now = self._clock()
            for pod in self._pending():
                ref = "%s/%s" % (pod["metadata"]["namespace"], pod["metadata"]["name"])
                # A node added for this pod is on its way: the autoscaler counts upcoming nodes, not just live ones.
                if self._upcoming.get(pod["metadata"]["uid"], 0) > now:
                    continue
                candidates = []
                for key, cluster, pool, size, zones in pools:
                    step, maximum, _minimum = self._limits(pool, zones)
                    if key in grown or size + step > maximum:
                        continue
                    labels, taints, allocatable = node_template(cluster, pool, zones[0])
                    if fits(pod, labels, taints, allocatable):
                        # least waste: the smallest node that holds the pod
                        candidates.append((_quantity(allocatable["cpu"]), key, size + step, pool.name))
                if not candidates:
                    continue
                _cpu, key, new_size, pool_name = min(candidates)
                self.backend.set_autoscaled_size(key, new_size)
                self._upcoming[pod["metadata"]["uid"]] = now + UPCOMING_NODE_SECONDS
                grown.add(key)
                event = {"action": "scale_up", "pool": pool_name, "size": new_size, "pod": ref}
                self.events.append(event)
                added.append(event)
        return added

    def scale_down(self):
        """Shrink pools whose nodes have had no workload pod for scale_down_seconds; returns the events added."""
        now = self._clock()
        busy = set()
        for pod in self.mirror.core.list_pod_for_all_namespaces().items:
            owners = pod.metadata.owner_references or []
            if pod.spec.node_name and not any(o.kind == "DaemonSet" for o in owners):
                busy.add(pod.spec.node_name)
        added = []
        with self.backend.lock:
            live = self.mirror.live()
            for key, _cluster, pool, size, zones in self._pools():
                step, _maximum, minimum = self._limits(pool, zones)
                if size - step < minimum:
                    continue
                names = [n for n, node in live.items() if (node.metadata.annotations or {}).get(GROUP_ANNOTATION, "")
                         .startswith("/".join(key) + "/")]
                idle = [n for n in names if n not in busy]
                for name in set(self._idle_since) & (set(names) - set(idle)):
                    del self._idle_since[name]
                # One idle node goes; a multi-host slice goes only as a whole.
                if not idle or (step > 1 and len(idle) < len(names)):
                    continue
                since = max(self._idle_since.setdefault(name, now) for name in idle) if step > 1 else \
                    min(self._idle_since.setdefault(name, now) for name in idle)
                if now - since >= self.scale_down_seconds:
                    self.backend.set_autoscaled_size(key, size - step)
                    for name in idle:
                        self._idle_since.pop(name, None)
                    event = {"action": "scale_down", "pool": pool.name, "size": size - step}
                    self.events.append(event)
                    added.append(event)
        return added

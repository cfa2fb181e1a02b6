"""What GKE checks and fills in when a cluster or node pool is written: validation, defaults, quota use.

Functions here work on raw protobuf messages (``types.X.pb()`` classes) and raise ApiError for what the real API
rejects synchronously. Checks that the real API only reports inside the long-running operation (a TPU slice size
that does not fit the gang, a 7x slice without a workload policy) are returned as an ``AsyncFailure`` for the caller
to put into the operation.
"""

import hashlib
import json
import re
from dataclasses import dataclass

from google.cloud.container_v1 import types

from .errors import invalid_argument
from .machines import (
    GPU_ACCELERATORS, GPU_MACHINE_TYPES, N1_GPU_COUNTS, TPU_MACHINE_TYPES, is_zone, parse_topology, zones_of_region,
)

API_ROOT = "https://container.googleapis.com/v1"
DEFAULT_VERSION = "1.33.5-gke.1162000"
VALID_VERSIONS = ["1.34.1-gke.1431000", DEFAULT_VERSION, "1.32.9-gke.1108000"]
DEFAULT_MACHINE_TYPE = "e2-medium"
DEFAULT_OAUTH_SCOPES = [
    "https://www.googleapis.com/auth/devstorage.read_only",
    "https://www.googleapis.com/auth/logging.write",
    "https://www.googleapis.com/auth/monitoring",
    "https://www.googleapis.com/auth/service.management.readonly",
    "https://www.googleapis.com/auth/servicecontrol",
    "https://www.googleapis.com/auth/trace.append",
]
NAME_PATTERN = re.compile(r"^[a-z](?:[-a-z0-9]{0,38}[a-z0-9])?$")
NAME_REGEX_TEXT = "(?:[a-z](?:[-a-z0-9]{0,38}[a-z0-9])?)"

COMPACT = types.NodePool.PlacementPolicy.Type.COMPACT.value
SPECIFIC_RESERVATION = types.ReservationAffinity.Type.SPECIFIC_RESERVATION.value


@dataclass
class AsyncFailure:
    """A failure the real API reports inside the operation: google.rpc code and message."""

    code: int
    message: str


@dataclass
class QuotaUse:
    """Accelerators a node pool can use at its largest: quota metric and amount."""

    metric: str
    amount: int


def copy_pb(message):
    """A deep copy of a protobuf message."""
    clone = type(message)()
    clone.CopyFrom(message)
    return clone


def location_path(project, location, form="locations"):
    return "projects/%s/%s/%s" % (project, form, location)


def cluster_path(project, location, cluster, form="locations"):
    return "%s/clusters/%s" % (location_path(project, location, form), cluster)


def pool_path(project, location, cluster, pool, form="locations"):
    return "%s/nodePools/%s" % (cluster_path(project, location, cluster, form), pool)


def self_link(path):
    """GKE writes links with /zones/ for zonal resources and /locations/ for regional ones."""
    return "%s/%s" % (API_ROOT, path)


def link_form(location):
    return "zones" if is_zone(location) else "locations"


def label_fingerprint(labels):
    """Eight hex digits that change whenever the cluster's resource labels change."""
    canonical = json.dumps(sorted(dict(labels).items()))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:8]


def etag_of(message):
    """An etag for a node pool or cluster body (ignoring the etag field itself)."""
    clone = copy_pb(message)
    clone.ClearField("etag")
    return hashlib.sha256(clone.SerializeToString(deterministic=True)).hexdigest()[:16]


def check_name(name, field):
    """GKE's resource name rule: lowercase letters, digits and hyphens, 1-40 characters, starting with a letter."""
    if not name:
        raise invalid_argument("Missing required field: %s." % field, field)
    if not NAME_PATTERN.match(name):
        raise invalid_argument(
            "Invalid value for field '%s': '%s'. Must be a match of regex '%s'." % (field, name, NAME_REGEX_TEXT),
            field)


def check_workload_pool(project, config, field):
    """workload_pool must be "<project>.svc.id.goog" (the only pool a project can use)."""
    pool = config.workload_pool
    if pool and pool != "%s.svc.id.goog" % project:
        raise invalid_argument(
            "Invalid value for field '%s.workload_pool': '%s'. Workload pool must be \"%s.svc.id.goog\"."
            % (field, pool, project), field + ".workload_pool")


def pool_zones(cluster, pool):
    """Zones a pool's nodes are spread over (node counts are per zone)."""
    if pool.locations:
        return list(pool.locations)
    return list(cluster.locations) or [cluster.location]


def tpu_of(pool):
    return TPU_MACHINE_TYPES.get(pool.config.machine_type)


def tpu_slice_vms(pool):
    """VMs in one slice of a TPU pool: 1 for single-host, chips/chips-per-VM for a multi-host topology."""
    machine = tpu_of(pool)
    if machine is None:
        return 0
    dims = parse_topology(pool.placement_policy.tpu_topology)
    if not dims:
        return 1
    chips = 1
    for dim in dims:
        chips *= dim
    return max(1, chips // machine.chips_per_vm)


def is_multi_host_tpu(pool):
    return tpu_slice_vms(pool) > 1


def gang_failure(pool, counts):
    """The operation failure for a node count that does not fit a multi-host slice, or None."""
    vms = tpu_slice_vms(pool)
    if vms <= 1:
        return None
    for count in counts:
        if count and count % vms:
            return AsyncFailure(3, "Requested invalid target size %d in the gang mode of size %d." % (count, vms))
    return None


def pool_node_counts(pool):
    """Every node count a pool asks for: initial, and autoscaling limits when autoscaling is on."""
    counts = [pool.initial_node_count]
    scaling = pool.autoscaling
    if scaling.enabled:
        counts += [scaling.min_node_count, scaling.max_node_count,
                   scaling.total_min_node_count, scaling.total_max_node_count]
    return counts


def _check_tpu(pool, field):
    """Synchronous TPU checks; returns an AsyncFailure for what GKE reports in the operation."""
    machine_type = pool.config.machine_type
    machine = TPU_MACHINE_TYPES[machine_type]
    if pool.config.accelerators:
        raise invalid_argument(
            "Accelerators cannot be attached to TPU machine type %s; remove node_config.accelerators." % machine_type,
            field + ".config.accelerators")
    policy = pool.placement_policy
    topology = policy.tpu_topology
    if not topology:
        return None
    dims = parse_topology(topology)
    if dims is None or len(dims) != machine.dimensions:
        example = "2x2x2" if machine.dimensions == 3 else "2x4"
        raise invalid_argument(
            "Invalid TPU topology \"%s\" for machine type %s: expected %d dimensions written like \"%s\"."
            % (topology, machine_type, machine.dimensions, example), field + ".placement_policy.tpu_topology")
    chips = 1
    for dim in dims:
        chips *= dim
    if chips == machine.chips_per_vm:
        raise invalid_argument(
            "TPU topology can't be specified with single-host TPU slice pool; please remove the tpu_topology",
            field + ".placement_policy.tpu_topology")
    if chips < machine.chips_per_vm or chips % machine.chips_per_vm:
        raise invalid_argument(
            "Invalid TPU topology \"%s\" for machine type %s: %d chips is not a multiple of the %d chips per VM."
            % (topology, machine_type, chips, machine.chips_per_vm), field + ".placement_policy.tpu_topology")
    vms = chips // machine.chips_per_vm
    if not machine.multi_host:
        raise invalid_argument(
            "Machine type %s does not support multi-host TPU slices; topology \"%s\" would need %d VMs."
            % (machine_type, topology, vms), field + ".placement_policy.tpu_topology")
    if machine.needs_workload_policy:
        if not policy.policy_name:
            return AsyncFailure(
                3, "Multi-host TPU %s slices need a workload policy: create a resource policy of type "
                   "HIGH_THROUGHPUT with accelerator topology %s and pass it as placement_policy.policy_name; "
                   "placement type COMPACT is not supported for this machine type." % (machine.generation, topology))
    elif policy.type_ != COMPACT and not policy.policy_name:
        raise invalid_argument(
            "Multi-host TPU slice node pools (topology \"%s\") require placement_policy.type COMPACT."
            % topology, field + ".placement_policy.type")
    return gang_failure(pool, pool_node_counts(pool))


def check_accelerators(config, location, field):
    """GPU checks: a known accelerator type that fits the machine family, in a count that machine takes."""
    machine_type = config.machine_type
    for index, accelerator in enumerate(config.accelerators):
        where = "%s.accelerators[%d]" % (field, index)
        kind = accelerator.accelerator_type
        if kind not in GPU_ACCELERATORS:
            raise invalid_argument(
                "Accelerator type \"%s\" does not exist in zone %s. Available accelerator types: %s."
                % (kind, location, ", ".join(sorted(GPU_ACCELERATORS))), where + ".accelerator_type")
        count = accelerator.accelerator_count
        if count <= 0:
            raise invalid_argument(
                "Accelerator count must be greater than zero, got %d." % count, where + ".accelerator_count")
        _metric, machines = GPU_ACCELERATORS[kind]
        if machines is None:
            if not machine_type.startswith("n1-"):
                raise invalid_argument(
                    "Accelerator type \"%s\" can only be attached to N1 machine types, not \"%s\"."
                    % (kind, machine_type), where + ".accelerator_type")
            if count not in N1_GPU_COUNTS:
                raise invalid_argument(
                    "Invalid accelerator count %d for accelerator type \"%s\"; allowed counts are %s."
                    % (count, kind, ", ".join(str(c) for c in N1_GPU_COUNTS)), where + ".accelerator_count")
            continue
        if machine_type not in machines:
            raise invalid_argument(
                "Accelerator type \"%s\" is not supported with machine type \"%s\"; use one of: %s."
                % (kind, machine_type, ", ".join(sorted(machines))), where + ".accelerator_type")
        if count != machines[machine_type]:
            raise invalid_argument(
                "Machine type \"%s\" comes with %d accelerator(s) of type \"%s\"; accelerator_count %d is invalid."
                % (machine_type, machines[machine_type], kind, count), where + ".accelerator_count")
    if not config.accelerators and machine_type in GPU_MACHINE_TYPES:
        return
    if config.accelerators and machine_type in GPU_MACHINE_TYPES:
        expected = GPU_MACHINE_TYPES[machine_type][0]
        if any(a.accelerator_type != expected for a in config.accelerators):
            raise invalid_argument(
                "Machine type \"%s\" only supports accelerator type \"%s\"." % (machine_type, expected),
                field + ".accelerators")


def validate_pool(cluster, pool, field):
    """Synchronous checks for a node pool being created; returns an AsyncFailure or None."""
    check_name(pool.name, field + ".name")
    if pool.initial_node_count < 0:
        raise invalid_argument("%s.initial_node_count must be non-negative." % field, field + ".initial_node_count")
    scaling = pool.autoscaling
    if scaling.enabled:
        if scaling.min_node_count < 0 or scaling.max_node_count < 0:
            raise invalid_argument("Autoscaling node counts must be non-negative.", field + ".autoscaling")
        if scaling.max_node_count < scaling.min_node_count:
            raise invalid_argument(
                "max_node_count (%d) must be greater than or equal to min_node_count (%d)."
                % (scaling.max_node_count, scaling.min_node_count), field + ".autoscaling.max_node_count")
    if pool.config.machine_type in TPU_MACHINE_TYPES:
        return _check_tpu(pool, field)
    if pool.placement_policy.tpu_topology:
        raise invalid_argument(
            "TPU topology can only be specified for TPU machine types, not \"%s\"." % pool.config.machine_type,
            field + ".placement_policy.tpu_topology")
    check_accelerators(pool.config, cluster.location, field + ".config")
    return None


def quota_use(cluster, pool):
    """The TPU chips or GPUs a pool can use at most, with its quota metric, or None (CPU pools, reservations)."""
    config = pool.config
    if config.reservation_affinity.consume_reservation_type == SPECIFIC_RESERVATION:
        return None  # capacity comes from the reservation, not from quota
    zones = len(pool_zones(cluster, pool))
    nodes = pool.initial_node_count * zones
    scaling = pool.autoscaling
    if scaling.enabled:
        if scaling.total_max_node_count:
            nodes = max(nodes, scaling.total_max_node_count)
        else:
            nodes = max(nodes, scaling.max_node_count * zones)
    machine = TPU_MACHINE_TYPES.get(config.machine_type)
    if machine is not None:
        metric, per_node = machine.quota_metric, machine.chips_per_vm
    elif config.accelerators:
        accelerator = config.accelerators[0]
        metric = GPU_ACCELERATORS[accelerator.accelerator_type][0]
        per_node = sum(a.accelerator_count for a in config.accelerators)
    elif config.machine_type in GPU_MACHINE_TYPES:
        kind, per_node = GPU_MACHINE_TYPES[config.machine_type]
        metric = GPU_ACCELERATORS[kind][0]
    else:
        return None
    if config.spot or config.preemptible or config.flex_start or pool.queued_provisioning.enabled:
        metric = "PREEMPTIBLE_" + metric
    return QuotaUse(metric, nodes * per_node)


def fill_pool_defaults(project, cluster, pool):
    """What GKE fills in on a new node pool: config defaults, locations, version, links, management."""
    config = pool.config
    if not config.machine_type:
        config.machine_type = DEFAULT_MACHINE_TYPE
    if not config.disk_size_gb:
        config.disk_size_gb = 100
    if not config.disk_type:
        config.disk_type = "pd-balanced"
    if not config.image_type:
        config.image_type = "COS_CONTAINERD"
    if not config.oauth_scopes:
        config.oauth_scopes.extend(DEFAULT_OAUTH_SCOPES)
    if not config.service_account:
        config.service_account = "default"
    if "disable-legacy-endpoints" not in config.metadata:
        config.metadata["disable-legacy-endpoints"] = "true"
    if not pool.locations:
        pool.locations.extend(pool_zones(cluster, pool))
    if not pool.version or pool.version in ("-", "latest"):
        pool.version = cluster.current_master_version or DEFAULT_VERSION
    if not pool.HasField("management"):
        pool.management.auto_upgrade = True
        pool.management.auto_repair = True
    if not pool.HasField("upgrade_settings"):
        pool.upgrade_settings.max_surge = 1
    if not pool.HasField("max_pods_constraint"):
        pool.max_pods_constraint.max_pods_per_node = 110
    if not pool.pod_ipv4_cidr_size:
        pool.pod_ipv4_cidr_size = 24
    form = link_form(cluster.location)
    pool.self_link = self_link(pool_path(project, cluster.location, cluster.name, pool.name, form))
    del pool.instance_group_urls[:]
    for zone in pool.locations:
        pool.instance_group_urls.append(
            "https://www.googleapis.com/compute/v1/projects/%s/zones/%s/instanceGroupManagers/gke-%s-%s-grp"
            % (project, zone, cluster.name[:20], pool.name[:20]))


def fill_cluster_defaults(project, location, cluster, created_at, endpoint_seed):
    """What GKE fills in on a new cluster: location, links, versions, endpoint, label fingerprint."""
    cluster.location = location
    if is_zone(location):
        cluster.zone = location
        if not cluster.locations:
            cluster.locations.append(location)
    elif not cluster.locations:
        cluster.locations.extend(zones_of_region(location))
    form = link_form(location)
    cluster.self_link = self_link(cluster_path(project, location, cluster.name, form))
    version = cluster.initial_cluster_version
    if not version or version in ("-", "latest"):
        version = DEFAULT_VERSION
    cluster.initial_cluster_version = version
    cluster.current_master_version = version
    cluster.current_node_version = version
    cluster.create_time = created_at
    digest = hashlib.sha256(endpoint_seed.encode("utf-8")).digest()
    cluster.endpoint = "34.%d.%d.%d" % (digest[0], digest[1], max(1, digest[2]))
    cluster.id = hashlib.sha256(("id:" + endpoint_seed).encode("utf-8")).hexdigest()[:32]
    if not cluster.network:
        cluster.network = "default"
    if not cluster.subnetwork:
        cluster.subnetwork = "default"
    if not cluster.logging_service:
        cluster.logging_service = "logging.googleapis.com/kubernetes"
    if not cluster.monitoring_service:
        cluster.monitoring_service = "monitoring.googleapis.com/kubernetes"
    if not cluster.cluster_ipv4_cidr:
        cluster.cluster_ipv4_cidr = "10.%d.0.0/14" % (digest[3] % 64 * 4)
    if not cluster.services_ipv4_cidr:
        cluster.services_ipv4_cidr = "34.118.224.0/20"
    if not cluster.HasField("release_channel"):
        cluster.release_channel.channel = types.ReleaseChannel.Channel.REGULAR.value
    cluster.label_fingerprint = label_fingerprint(cluster.resource_labels)

"""What GKE checks and fills in when a cluster or node pool is written: validation, defaults, quota use.

Functions here work on raw protobuf messages (``types.X.pb()`` classes) and raise ApiError for what the real API
rejects synchronously. Checks that the real API only reports inside the long-running operation (a TPU slice size
that does not fit the gang, a 7x slice without a workload policy) are returned as an ``AsyncFailure`` for the caller
to put into the operation.
"""

import base64
import datetime
import functools
import hashlib
import json
import re
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from google.cloud.container_v1 import types

from .errors import invalid_argument
from .machines import (
    GPU_ACCELERATORS, GPU_MACHINE_TYPES, GPU_SHARING_CLIENTS, MIG_PARTITION_SIZES, N1_GPU_COUNTS, TPU_MACHINE_TYPES,
    boot_disk_types, cpu_quota_metric, is_zone, machine_vcpus, parse_topology, region_of, zones_of_region,
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
BALANCED = types.NodePoolAutoscaling.LocationPolicy.BALANCED.value
ANY = types.NodePoolAutoscaling.LocationPolicy.ANY.value
SURGE = types.NodePool.UpgradeSettings.pb().DESCRIPTOR.fields_by_name["strategy"].enum_type.values_by_name[
    "SURGE"].number
NO_SCHEDULE = types.NodeTaint.Effect.NO_SCHEDULE.value
GKE_METADATA = types.WorkloadMetadataConfig.Mode.GKE_METADATA.value
UNSPECIFIED_CHANNEL = types.ReleaseChannel.Channel.UNSPECIFIED.value
# The taint GKE puts on GPU node pools and keeps there (GKE docs "GPUs"; Terraform suppresses its diff:
# magic-modules 2516, terraform-provider-google 7928).
GPU_TAINT = ("nvidia.com/gpu", "present", NO_SCHEDULE)
SLICE_MAX_ZERO = "Maximum node count 0 is not a valid size of TPU pod slice"


@dataclass
class AsyncFailure:
    """A failure the real API reports inside the operation: google.rpc code and message."""

    code: int
    message: str


@dataclass
class QuotaUse:
    """What some nodes are charged: quota metric and amount."""

    metric: str
    amount: float


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
    """The operation failure for node counts that do not fit a multi-host slice, or None.

    One multi-host pool is one slice: each count is 0 or exactly the slice's VMs (GKE docs "TPUs in GKE": nodes
    cannot be added to a multi-host slice pool). ``counts`` are (name, value) pairs; "max" is the autoscaling
    maximum. Texts: xpk issue 751 (gang size); the maximum-0 text is as reported for GKE, source unverified.
    """
    vms = tpu_slice_vms(pool)
    if vms <= 1:
        return None
    for name, count in counts:
        if name == "max" and count == 0:
            return AsyncFailure(3, SLICE_MAX_ZERO)
        if count and count != vms:
            return AsyncFailure(3, "Requested invalid target size '%d' for a Managed Instance Group in the gang mode "
                                   "of size '%d'. Should be equal to the gang size." % (count, vms))
    return None


def pool_node_counts(pool):
    """Every node count a pool asks for, as (name, value): initial, and the autoscaling limits when it is on."""
    counts = [("initial", pool.initial_node_count)]
    counts += autoscaling_counts(pool.autoscaling)
    return counts


def autoscaling_counts(scaling):
    """The (name, value) node counts of an autoscaling setting; none when autoscaling is off."""
    if not scaling.enabled:
        return []
    if scaling.total_min_node_count or scaling.total_max_node_count:  # total limits replace the per-zone ones
        return [("min", scaling.total_min_node_count), ("max", scaling.total_max_node_count)]
    return [("min", scaling.min_node_count), ("max", scaling.max_node_count)]


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
        check_gpu_sharing_and_partitions(accelerator, where)
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


def check_gpu_sharing_and_partitions(accelerator, where):
    """MIG partition sizes the GPU type has, and GPU sharing within 2-48 clients per GPU.

    The wording is the emulator's, in GKE's style; GKE's own texts for these two refusals are unverified.
    """
    kind = accelerator.accelerator_type
    size = accelerator.gpu_partition_size
    if size:
        sizes = MIG_PARTITION_SIZES.get(kind)
        if sizes is None:
            raise invalid_argument(
                "GPU partitioning is not supported for accelerator type \"%s\"." % kind,
                where + ".gpu_partition_size")
        if size not in sizes:
            raise invalid_argument(
                "Invalid GPU partition size \"%s\" for accelerator type \"%s\"; valid sizes are: %s."
                % (size, kind, ", ".join(sizes)), where + ".gpu_partition_size")
    if accelerator.HasField("gpu_sharing_config"):
        clients = accelerator.gpu_sharing_config.max_shared_clients_per_gpu
        low, high = GPU_SHARING_CLIENTS
        if not low <= clients <= high:
            raise invalid_argument(
                "Invalid value for max_shared_clients_per_gpu: %d. It must be between %d and %d."
                % (clients, low, high), where + ".gpu_sharing_config.max_shared_clients_per_gpu")


def boot_disk_type(config):
    """The boot disk type a NodeConfig asks for ("" when unset): boot_disk.disk_type wins over disk_type."""
    return config.boot_disk.disk_type or config.disk_type


def check_boot_disk(config, field):
    """A boot disk type the machine family takes.

    Compute Engine's wording for an unsupported pairing ("[pd-standard, n4-standard-16] features are not
    compatible for creating instance.", quoted in GoogleCloudPlatform/gcp-compute-persistent-disk-csi-driver and
    other public code); that GKE refuses it synchronously with this text is unverified.
    """
    disk = boot_disk_type(config)
    if not disk:
        return
    _default, refused = boot_disk_types(config.machine_type)
    if refused(disk):
        raise invalid_argument("[%s, %s] features are not compatible for creating instance."
                               % (disk, config.machine_type), field + ".disk_type")


def release_channel_name(cluster):
    """The cluster's release channel name, or None when it is on no channel."""
    channel = cluster.release_channel.channel
    if channel == UNSPECIFIED_CHANNEL:
        return None
    return types.ReleaseChannel.Channel(channel).name


def check_management(cluster, management, field):
    """Auto-upgrade stays on for a cluster on a release channel (HTTP 400 in GKE's words, as reported)."""
    channel = release_channel_name(cluster)
    if channel and not management.auto_upgrade:
        raise invalid_argument("Auto_upgrade cannot be false when release_channel %s is set" % channel,
                               field + ".auto_upgrade")


def check_capacity_options(cluster, pool, field):
    """GKE's refusals for capacity options: flex-start with queued provisioning on TPUs (xpk issue 900)."""
    if pool.config.flex_start and pool.queued_provisioning.enabled and pool.config.machine_type in TPU_MACHINE_TYPES:
        raise invalid_argument("Flex start node pools don't support TPUs with queued provisioning",
                               field + ".queued_provisioning.enabled")
    if pool.HasField("management"):
        check_management(cluster, pool.management, field + ".management")
    check_boot_disk(pool.config, field + ".config")


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
    check_capacity_options(cluster, pool, field)
    if pool.config.machine_type in TPU_MACHINE_TYPES:
        return _check_tpu(pool, field)
    if pool.placement_policy.tpu_topology:
        raise invalid_argument(
            "TPU topology can only be specified for TPU machine types, not \"%s\"." % pool.config.machine_type,
            field + ".placement_policy.tpu_topology")
    check_accelerators(pool.config, cluster.location, field + ".config")
    return None


def is_private(cluster, pool):
    """Whether a pool's nodes have no external address."""
    if pool.network_config.HasField("enable_private_nodes"):
        return pool.network_config.enable_private_nodes
    return cluster.private_cluster_config.enable_private_nodes


def quota_uses(cluster, pool, nodes_per_zone):
    """What ``nodes_per_zone`` nodes in each of the pool's zones are charged, metric by metric.

    GKE checks CPUs, boot disk GB, in-use addresses and accelerators synchronously (quota errors quoted in
    kaiwaehner/hivemq-mqtt-tensorflow-kafka-realtime-iot-machine-learning-training-inference 48 and
    terraform-google-kubernetes-engine 1795). Nodes that consume a specific reservation bring their machine and
    accelerators with them; their disks and addresses are still charged.
    """
    config = pool.config
    nodes = nodes_per_zone * len(pool_zones(cluster, pool))
    if nodes <= 0:
        return []
    uses = []
    reserved = config.reservation_affinity.consume_reservation_type == SPECIFIC_RESERVATION
    preemptible = config.spot or config.preemptible or config.flex_start or pool.queued_provisioning.enabled
    if not reserved:
        vcpus = 0 if config.machine_type in TPU_MACHINE_TYPES else machine_vcpus(config.machine_type)
        if vcpus:
            # Spot and preemptible VMs draw on Compute Engine's one PREEMPTIBLE_CPUS metric, whatever the family.
            metric = "PREEMPTIBLE_CPUS" if preemptible else cpu_quota_metric(config.machine_type)
            uses.append(QuotaUse(metric, nodes * vcpus))
        accelerator = accelerator_use(config)
        if accelerator:
            metric, per_node = accelerator
            uses.append(QuotaUse(("PREEMPTIBLE_" + metric) if preemptible else metric, nodes * per_node))
    disk = boot_disk_type(config) or "pd-balanced"
    size = config.boot_disk.size_gb or config.disk_size_gb or 100
    uses.append(QuotaUse("DISKS_TOTAL_GB" if disk == "pd-standard" else "SSD_TOTAL_GB", nodes * size))
    if not is_private(cluster, pool):
        uses.append(QuotaUse("IN_USE_ADDRESSES", nodes))
    return uses


def accelerator_use(config):
    """(quota metric, chips or GPUs per node) of a NodeConfig, or None for a machine without accelerators."""
    machine = TPU_MACHINE_TYPES.get(config.machine_type)
    if machine is not None:
        return machine.quota_metric, machine.chips_per_vm
    if config.accelerators:
        kind = config.accelerators[0].accelerator_type
        if kind in GPU_ACCELERATORS:
            return GPU_ACCELERATORS[kind][0], sum(a.accelerator_count for a in config.accelerators)
    if config.machine_type in GPU_MACHINE_TYPES:
        kind, per_node = GPU_MACHINE_TYPES[config.machine_type]
        return GPU_ACCELERATORS[kind][0], per_node
    return None


def is_gpu_pool(config):
    """A pool whose nodes carry NVIDIA GPUs: accelerators attached, or a machine type that comes with them."""
    return bool(config.accelerators) or config.machine_type in GPU_MACHINE_TYPES


def has_gpu_taint(config):
    return any((t.key, t.value, t.effect) == GPU_TAINT for t in config.taints)


def add_gpu_taint(config):
    """Add GKE's GPU taint to a NodeConfig that lacks it."""
    if not has_gpu_taint(config):
        taint = config.taints.add()
        taint.key, taint.value, taint.effect = GPU_TAINT


def fill_autoscaling_defaults(pool):
    """The location policy GKE returns on an autoscaled pool that sent none: ANY for spot and flex-start, else
    BALANCED (Terraform marks it Optional+Computed; terraform-google-kubernetes-engine 1445 and 1426)."""
    scaling = pool.autoscaling
    if scaling.enabled and not scaling.location_policy:
        scaling.location_policy = ANY if (pool.config.spot or pool.config.flex_start) else BALANCED


def fill_upgrade_defaults(settings):
    """Surge upgrades, one extra node at a time, unless blue-green was asked for."""
    if not settings.strategy and not settings.HasField("blue_green_settings"):
        settings.strategy = SURGE
    if not settings.max_surge and not settings.max_unavailable and settings.strategy == SURGE:
        settings.max_surge = 1


def fill_config_defaults(cluster, config):
    """NodeConfig fields GKE fills in when a pool is created without them."""
    if not config.machine_type:
        config.machine_type = DEFAULT_MACHINE_TYPE
    if not config.disk_size_gb:
        config.disk_size_gb = config.boot_disk.size_gb or 100
    if not config.disk_type:
        config.disk_type = config.boot_disk.disk_type or boot_disk_types(config.machine_type)[0]
    if not config.image_type:
        config.image_type = "COS_CONTAINERD"
    if not config.oauth_scopes:
        config.oauth_scopes.extend(DEFAULT_OAUTH_SCOPES)
    if not config.service_account:
        config.service_account = "default"
    if "disable-legacy-endpoints" not in config.metadata:
        config.metadata["disable-legacy-endpoints"] = "true"
    if not config.HasField("shielded_instance_config"):
        config.shielded_instance_config.enable_integrity_monitoring = True
    if not config.HasField("workload_metadata_config") and cluster.workload_identity_config.workload_pool:
        config.workload_metadata_config.mode = GKE_METADATA
    if not config.accelerators and config.machine_type in GPU_MACHINE_TYPES:
        # Accelerator-optimised machines report the GPUs they come with (Terraform's guest_accelerator is
        # Optional+Computed for this reason; unverified field by field).
        kind, count = GPU_MACHINE_TYPES[config.machine_type]
        config.accelerators.add(accelerator_type=kind, accelerator_count=count)


def fill_pool_defaults(project, cluster, pool, gpu_taint=True):
    """What GKE fills in on a new node pool: config defaults, GPU taint, autoscaling, management, upgrades, links.

    ``gpu_taint`` False leaves the GPU taint off: GKE does not add it when every pool of the cluster has GPUs
    (GKE docs, quoted in terraform-google-kubernetes-engine 703).
    """
    fill_config_defaults(cluster, pool.config)
    if gpu_taint and is_gpu_pool(pool.config):
        add_gpu_taint(pool.config)
    fill_autoscaling_defaults(pool)
    if not pool.locations:
        pool.locations.extend(pool_zones(cluster, pool))
    if not pool.version or pool.version in ("-", "latest"):
        pool.version = cluster.current_master_version or DEFAULT_VERSION
    if not pool.HasField("management"):
        pool.management.auto_upgrade = True
        pool.management.auto_repair = True
    fill_upgrade_defaults(pool.upgrade_settings)
    if not pool.HasField("max_pods_constraint"):
        pool.max_pods_constraint.max_pods_per_node = (
            cluster.default_max_pods_constraint.max_pods_per_node or 110)
    if not pool.pod_ipv4_cidr_size:
        pool.pod_ipv4_cidr_size = 24
    form = link_form(cluster.location)
    pool.self_link = self_link(pool_path(project, cluster.location, cluster.name, pool.name, form))
    del pool.instance_group_urls[:]
    for zone in pool.locations:
        pool.instance_group_urls.append(
            "https://www.googleapis.com/compute/v1/projects/%s/zones/%s/instanceGroupManagers/gke-%s-%s-grp"
            % (project, zone, cluster.name[:20], pool.name[:20]))


def fill_addons_defaults(addons):
    """Addons a new Standard cluster has unless told otherwise, as GetCluster shows them: HTTP load balancing
    and HPA on (empty messages), the dashboard and network policy off, the PD CSI driver on."""
    for name in ("http_load_balancing", "horizontal_pod_autoscaling"):
        if not addons.HasField(name):
            getattr(addons, name).SetInParent()
    for name in ("kubernetes_dashboard", "network_policy_config"):
        if not addons.HasField(name):
            getattr(addons, name).disabled = True
    if not addons.HasField("gce_persistent_disk_csi_driver_config"):
        addons.gce_persistent_disk_csi_driver_config.enabled = True


def fill_cluster_settings(project, cluster):
    """Cluster-wide settings GKE returns on a new Standard cluster (as public GetCluster replies show them)."""
    fill_addons_defaults(cluster.addons_config)
    if not cluster.HasField("release_channel"):
        cluster.release_channel.channel = types.ReleaseChannel.Channel.REGULAR.value
    if not cluster.HasField("default_max_pods_constraint"):
        cluster.default_max_pods_constraint.max_pods_per_node = 110
    if not cluster.HasField("database_encryption"):
        cluster.database_encryption.state = types.DatabaseEncryption.State.DECRYPTED.value
    if not cluster.HasField("shielded_nodes"):
        cluster.shielded_nodes.enabled = True
    if not cluster.HasField("ip_allocation_policy"):
        cluster.ip_allocation_policy.use_ip_aliases = True
    if not cluster.HasField("network_config"):
        cluster.network_config.network = "projects/%s/global/networks/%s" % (project, cluster.network)
        cluster.network_config.subnetwork = "projects/%s/regions/%s/subnetworks/%s" % (
            project, region_of(cluster.location), cluster.subnetwork)
    if not cluster.HasField("logging_config"):
        cluster.logging_config.component_config.enable_components.extend([
            types.LoggingComponentConfig.Component.SYSTEM_COMPONENTS.value,
            types.LoggingComponentConfig.Component.WORKLOADS.value])
    if not cluster.HasField("monitoring_config"):
        cluster.monitoring_config.component_config.enable_components.append(
            types.MonitoringComponentConfig.Component.SYSTEM_COMPONENTS.value)
        cluster.monitoring_config.managed_prometheus_config.enabled = True


@functools.lru_cache(maxsize=1)
def cluster_ca_certificate():
    """masterAuth.clusterCaCertificate of a cluster with no local control plane behind it: base64 of a real
    self-signed CA certificate's PEM, as GKE returns (one per emulator process; nothing can connect to it)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "emulated-cluster-ca")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return base64.b64encode(cert.public_bytes(serialization.Encoding.PEM)).decode("ascii")


def fill_cluster_defaults(project, location, cluster, created_at, endpoint_seed):
    """What GKE fills in on a new cluster: location, links, versions, endpoint, settings, label fingerprint."""
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
    fill_cluster_settings(project, cluster)
    cluster.label_fingerprint = label_fingerprint(cluster.resource_labels)

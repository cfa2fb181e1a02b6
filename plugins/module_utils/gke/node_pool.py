# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""GKE node pools: input checks, the request body, and the diff against what the API returns.

Pure functions over plain dicts (snake_case proto field names, enums as names) so they are unit-tested
without Ansible or a server. ``node_pool_manager.py`` does the I/O. Input GKE would refuse raises InputError
(or the catalog's AcceleratorError, an InputError) naming the option, before any call.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import InputError
from ansible_collections.accelci.runners.plugins.module_utils.gcp.locations import check_location, is_region
from ansible_collections.accelci.runners.plugins.module_utils.gke.catalog import (
    check_boot_disk_type,
    check_slice_node_counts,
    gke_managed_taints,
    resolve_gpu,
    resolve_tpu,
    validate_gpu_partition_size,
    validate_gpu_sharing,
)
from ansible_collections.accelci.runners.plugins.module_utils.gke.names import validate_name
from ansible_collections.accelci.runners.plugins.module_utils.k8s.labels import check_labels

TAINT_EFFECTS = ("NO_SCHEDULE", "PREFER_NO_SCHEDULE", "NO_EXECUTE")
WORKLOAD_METADATA_MODES = ("GKE_METADATA", "GCE_METADATA")
LOCATION_POLICIES = ("ANY", "BALANCED")
RESERVATION_AFFINITIES = ("NO_RESERVATION", "ANY_RESERVATION", "SPECIFIC_RESERVATION")
GPU_DRIVER_VERSIONS = ("DEFAULT", "LATEST", "INSTALLATION_DISABLED")
RESERVATION_NAME_KEY = "compute.googleapis.com/reservation-name"
# GKE's limits: nodes per node pool per zone, and the boot disk sizes Compute Engine takes (GB).
MAX_NODES_PER_ZONE = 1000
DISK_SIZE_GB_RANGE = (10, 65536)

# Where each changeable field goes. Paths are dotted snake_case proto paths inside NodePool.
# "update" groups are sent as one UpdateNodePool call each; locations must travel alone.
UPDATE_GROUPS = (
    ("node settings", ("config.labels", "config.taints", "config.workload_metadata_config")),
    ("machine", ("config.machine_type", "config.disk_type", "config.disk_size_gb")),
    ("locations", ("locations",)),
)
SET_AUTOSCALING = ("autoscaling",)
SET_MANAGEMENT = ("management",)
# Create-time only: a change means delete + create.
RECREATE_ONLY = (
    "config.spot", "config.preemptible", "config.reservation_affinity", "config.service_account",
    "config.oauth_scopes", "config.accelerators", "config.flex_start", "placement_policy",
    "queued_provisioning",
)


def workload_metadata_mode(params):
    """The pool's workload metadata mode: ``workload_metadata_mode`` when given, else GKE_METADATA on a cluster
    with workload identity (``cluster_workload_identity``), else None (GKE's default).

    Pods reach workload identity (GCS FUSE, any Google client) only through the GKE metadata server, so a pool of a
    workload-identity cluster gets it unless it says otherwise. This is the one home of that rule.
    """
    if params.get("workload_metadata_mode"):
        return params["workload_metadata_mode"]
    return "GKE_METADATA" if params.get("cluster_workload_identity") else None


def _resolve_shape(params):
    """Resolve the pool's accelerator from ``tpu``/``gpu``/``machine_type``; return (kind, shape, machine_type).

    Raises the catalog's AcceleratorError (``tpu.topology: ...``) or InputError.
    """
    tpu, gpu, machine_type = params.get("tpu"), params.get("gpu"), params.get("machine_type")
    if tpu:
        if machine_type and tpu.get("machine_type") and machine_type != tpu["machine_type"]:
            raise InputError("machine_type", "%r and tpu.machine_type %r disagree; give the machine type in "
                             "tpu.machine_type only" % (machine_type, tpu["machine_type"]))
        shape = resolve_tpu(tpu.get("accelerator"), tpu.get("topology"), tpu.get("machine_type") or machine_type)
        return "tpu", shape, shape["machine_type"]
    if gpu:
        shape = resolve_gpu(gpu.get("type"), gpu.get("count"), machine_type)
        return "gpu", shape, shape["machine_type"]
    if not machine_type:
        raise InputError("machine_type", "one of tpu, gpu or machine_type is required for a node pool")
    return "cpu", None, machine_type


def _autoscaling_on(params):
    autoscaling = params.get("autoscaling")
    return bool(autoscaling and autoscaling.get("enabled", True))


def _check_node_limit(field, value):
    if value is not None and not 0 <= value <= MAX_NODES_PER_ZONE:
        raise InputError(field, "%s is outside what GKE takes; accepted: 0 to %d nodes per zone"
                         % (value, MAX_NODES_PER_ZONE))


def _check_sizes(params, kind, shape):
    """Autoscaling limits and node_count: a multi-host TPU pool is exactly one slice."""
    autoscaling = params.get("autoscaling")
    slice_shape = shape if kind == "tpu" else {}
    if _autoscaling_on(params):
        low, high = autoscaling.get("min_nodes", 0), autoscaling.get("max_nodes")
        if high is None:
            raise InputError("autoscaling.max_nodes", "is required when autoscaling is enabled")
        _check_node_limit("autoscaling.min_nodes", low)
        _check_node_limit("autoscaling.max_nodes", high)
        # The catalog's check covers min <= max for every pool and the one-slice rule for multi-host TPUs.
        check_slice_node_counts(slice_shape, low, high)
        if high < 1:
            raise InputError("autoscaling.max_nodes", "%s; accepted: 1 or more (min_nodes 0 scales to zero)" % high)
        policy = autoscaling.get("location_policy")
        if policy and policy not in LOCATION_POLICIES:
            raise InputError("autoscaling.location_policy", "must be one of %s" % ", ".join(LOCATION_POLICIES))
    node_count = params.get("node_count")
    if node_count is None:
        return
    if node_count < 0:
        raise InputError("node_count", "must be >= 0 (got %s)" % node_count)
    _check_node_limit("node_count", node_count)
    check_slice_node_counts(slice_shape, None, node_count, fields=("node_count", "node_count"))


def _check_disk(params, machine_type):
    size = params.get("disk_size_gb")
    if size is not None and not DISK_SIZE_GB_RANGE[0] <= size <= DISK_SIZE_GB_RANGE[1]:
        raise InputError("disk_size_gb", "%s is outside what Compute Engine takes; accepted: %d to %d GB"
                         % (size, DISK_SIZE_GB_RANGE[0], DISK_SIZE_GB_RANGE[1]))
    check_boot_disk_type(machine_type, params.get("disk_type"), params.get("ignore_unverified"))


def _check_locations(params, shape):
    """Pool zones are zones; a multi-host slice lives in one zone (compact placement is single-zone)."""
    locations = params.get("locations") or []
    for index, zone in enumerate(locations):
        check_location("locations[%d]" % index, zone, regions=False)
    if shape and shape.get("multi_host") and len(locations) > 1:
        raise InputError("locations", "a multi-host %s %s slice lives in one zone (compact placement); accepted: "
                         "one zone, or none to use the cluster's first zone (got %s)"
                         % (shape["generation"], shape["topology"], ", ".join(locations)))


def _check_node_settings(params):
    for index, taint in enumerate(params.get("taints") or []):
        if not taint.get("key") or taint.get("effect") not in TAINT_EFFECTS:
            raise InputError("taints[%d]" % index, "needs a key and an effect among %s (got %r)"
                             % (", ".join(TAINT_EFFECTS), taint))
    mode = params.get("workload_metadata_mode")
    if mode and mode not in WORKLOAD_METADATA_MODES:
        raise InputError("workload_metadata_mode", "must be one of %s" % ", ".join(WORKLOAD_METADATA_MODES))
    check_labels("labels", params.get("labels"))


def _check_reservation(params):
    reservation = params.get("reservation") or {}
    affinity = reservation.get("affinity")
    if not affinity:
        return
    if affinity not in RESERVATION_AFFINITIES:
        raise InputError("reservation.affinity", "must be one of %s" % ", ".join(RESERVATION_AFFINITIES))
    if affinity == "SPECIFIC_RESERVATION" and not reservation.get("name"):
        raise InputError("reservation.name", "is required with reservation.affinity SPECIFIC_RESERVATION")
    if affinity != "SPECIFIC_RESERVATION" and reservation.get("name"):
        raise InputError("reservation.name", "only goes with reservation.affinity SPECIFIC_RESERVATION")


def _check_provisioning(params, kind):
    """Capacity options as GKE enforces them (sources in docs/cluster.md, "Capacity options").

    flex-start: not spot, no reservation, auto repair off, autoscaled from 0. Queued provisioning: no reservation,
    minimum 0, not spot, and not with flex-start on TPUs. Spot: no ANY or SPECIFIC reservation.
    """
    affinity = (params.get("reservation") or {}).get("affinity")
    reserved = bool(affinity) and affinity != "NO_RESERVATION"
    autoscaling = params.get("autoscaling") or {}
    node_count = params.get("node_count")
    if params.get("spot") and reserved:
        raise InputError("reservation.affinity", "%s does not go with spot: spot VMs consume no reservation; "
                         "accepted with spot: NO_RESERVATION (or none)" % affinity)
    if params.get("flex_start"):
        if params.get("spot"):
            raise InputError("spot", "flex_start and spot exclude each other: flex-start VMs are their own model")
        if reserved:
            raise InputError("flex_start", "needs reservation.affinity NO_RESERVATION (or none)")
        if not _autoscaling_on(params):
            raise InputError("flex_start", "needs autoscaling (min_nodes 0): nodes come and go with demand")
        if node_count:
            raise InputError("node_count", "flex_start pools start with node_count 0")
        if params.get("auto_repair"):
            raise InputError("auto_repair", "must be false (or left out) on a flex-start pool: a repaired node "
                             "would give its capacity back")
    if params.get("queued_provisioning"):
        if params.get("spot"):
            raise InputError("spot", "queued_provisioning and spot exclude each other; accepted: one of them")
        if params.get("flex_start") and kind == "tpu":
            raise InputError("queued_provisioning", "GKE's flex-start pools do not take TPUs with queued "
                             "provisioning; accepted: flex_start alone, or queued_provisioning alone")
        if reserved:
            raise InputError("queued_provisioning", "needs reservation.affinity NO_RESERVATION (or none)")
        if not _autoscaling_on(params):
            raise InputError("queued_provisioning", "needs autoscaling: nodes come only through ProvisioningRequests")
        if autoscaling.get("min_nodes", 0) != 0 or node_count:
            raise InputError("queued_provisioning", "needs autoscaling.min_nodes 0 and no node_count")


def _check_accelerator(params, kind, shape):
    if kind == "tpu" and shape.get("placement") == "workload_policy" and not params.get("placement_policy_name"):
        raise InputError(
            "placement_policy_name",
            "is required for a multi-host %s slice: GKE needs a workload policy (type HIGH_THROUGHPUT, accelerator "
            "topology %s) created first; COMPACT placement is not accepted" % (shape["generation"], shape["topology"]),
        )
    gpu = params.get("gpu")
    if not gpu:
        return
    if gpu.get("driver_version") not in GPU_DRIVER_VERSIONS:
        raise InputError("gpu.driver_version", "must be one of %s" % ", ".join(GPU_DRIVER_VERSIONS))
    if gpu.get("sharing"):
        validate_gpu_sharing(gpu["sharing"].get("strategy"), gpu["sharing"].get("max_shared_clients"))
    validate_gpu_partition_size(gpu.get("type"), gpu.get("partition_size"))


def validate_node_pool(params):
    """Check everything GKE would reject, before any call. Returns (kind, shape, machine_type).

    Raises InputError (or the catalog's AcceleratorError) naming the option, e.g. ``autoscaling.max_nodes``.
    """
    validate_name("name", params.get("name"))
    validate_name("cluster", params.get("cluster"))
    check_location("location", params.get("location"))
    kind, shape, machine_type = _resolve_shape(params)
    _check_sizes(params, kind, shape)
    _check_disk(params, machine_type)
    _check_locations(params, shape if kind == "tpu" else None)
    _check_node_settings(params)
    _check_reservation(params)
    _check_provisioning(params, kind)
    _check_accelerator(params, kind, shape)
    return kind, shape, machine_type


def single_zone_default(params, shape, cluster_locations):
    """The zone a multi-host slice of a regional cluster goes to when ``locations`` is not given, else None.

    Compact placement is single-zone: GKE cannot spread one slice. The cluster's first node zone (sorted) is a
    stable choice; users who know where their TPU capacity is name the zone in ``locations``.
    """
    if not shape or not shape.get("multi_host") or params.get("locations") or not is_region(params.get("location")):
        return None
    zones = sorted(cluster_locations or [])
    return zones[0] if zones else None


def _node_config(params, machine_type):
    """NodeConfig: machine, disks, identity, labels, taints, workload metadata and reservation."""
    # spot and flex_start are always stated, so turning them off is seen as the (recreate-only) change it is.
    config = {"machine_type": machine_type, "spot": bool(params.get("spot")),
              "flex_start": bool(params.get("flex_start"))}
    for key in ("disk_size_gb", "disk_type", "service_account", "oauth_scopes", "labels"):
        if params.get(key) not in (None, {}, []) or (key == "labels" and params.get(key) == {}):
            config[key] = copy.deepcopy(params[key])
    if params.get("taints") is not None:
        config["taints"] = [
            {"key": t["key"], "value": t.get("value") or "", "effect": t["effect"]} for t in params["taints"]
        ]
    mode = workload_metadata_mode(params)
    if mode:
        config["workload_metadata_config"] = {"mode": mode}
    reservation = params.get("reservation") or {}
    if reservation.get("affinity"):
        affinity = {"consume_reservation_type": reservation["affinity"]}
        if reservation.get("name"):
            affinity["key"] = RESERVATION_NAME_KEY
            affinity["values"] = [reservation["name"]]
        config["reservation_affinity"] = affinity
    elif params.get("flex_start") or params.get("queued_provisioning"):
        config["reservation_affinity"] = {"consume_reservation_type": "NO_RESERVATION"}
    return config


def _gpu_accelerator(gpu, shape):
    accelerator = {
        "accelerator_type": shape["type"],
        "accelerator_count": shape["count"],
        # Leaving this out installs no driver at all: always say what we want.
        "gpu_driver_installation_config": {"gpu_driver_version": gpu["driver_version"]},
    }
    if gpu.get("partition_size"):
        accelerator["gpu_partition_size"] = validate_gpu_partition_size(shape["type"], gpu["partition_size"])
    if gpu.get("sharing"):
        sharing = validate_gpu_sharing(gpu["sharing"]["strategy"], gpu["sharing"]["max_shared_clients"])
        accelerator["gpu_sharing_config"] = {
            "gpu_sharing_strategy": sharing["strategy"],
            "max_shared_clients_per_gpu": sharing["max_shared_clients_per_gpu"],
        }
    return accelerator


def _tpu_placement(params, shape):
    """Placement of a multi-host slice; single-host slices get none (GKE rejects a tpu_topology for them)."""
    if shape.get("placement") == "workload_policy":
        return {"policy_name": params["placement_policy_name"]}
    placement = {"type_": "COMPACT", "tpu_topology": shape["topology"]}
    if params.get("placement_policy_name"):
        placement["policy_name"] = params["placement_policy_name"]
    return placement


def _sizing(params, kind, shape, pool):
    """autoscaling and initial_node_count."""
    autoscaling = params.get("autoscaling")
    if _autoscaling_on(params):
        spec = {
            "enabled": True,
            "min_node_count": autoscaling.get("min_nodes", 0),
            "max_node_count": autoscaling["max_nodes"],
        }
        policy = autoscaling.get("location_policy")
        if not policy and (params.get("spot") or params.get("flex_start") or params.get("queued_provisioning")):
            policy = "ANY"  # obtainable capacity first for spot and flex-start
        if policy:
            spec["location_policy"] = policy
        pool["autoscaling"] = spec
        pool["initial_node_count"] = params.get("node_count") or spec["min_node_count"]
        return
    if autoscaling is not None:
        pool["autoscaling"] = {"enabled": False}
    default_count = shape["vms"] if kind == "tpu" else 1
    pool["initial_node_count"] = params["node_count"] if params.get("node_count") is not None else default_count


def desired_node_pool(params, kind, shape, machine_type):
    """The NodePool body this module wants, as a snake_case dict. Keys absent are left to GKE's defaults."""
    pool = {"name": params["name"], "config": _node_config(params, machine_type)}
    if kind == "gpu":
        pool["config"]["accelerators"] = [_gpu_accelerator(params["gpu"], shape)]
    if kind == "tpu" and shape["multi_host"]:
        pool["placement_policy"] = _tpu_placement(params, shape)
    _sizing(params, kind, shape, pool)
    management = dict((key, params[key]) for key in ("auto_repair", "auto_upgrade") if params.get(key) is not None)
    if params.get("flex_start"):
        management.setdefault("auto_repair", False)  # flex-start capacity goes back if GKE repairs the node
    if management:
        pool["management"] = management
    if params.get("queued_provisioning"):
        pool["queued_provisioning"] = {"enabled": True}
    if params.get("locations"):
        pool["locations"] = list(params["locations"])
    return pool


_ZERO_VALUES = (None, False, 0, "", [], {})


def _get(tree, path):
    node = tree
    for part in path.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def _leaf_paths(tree, prefix=""):
    for key, value in tree.items():
        path = prefix + key
        if isinstance(value, dict) and value and path not in _UNITS:
            yield from _leaf_paths(value, path + ".")
        else:
            yield path


# The units we compare and change: the API replaces each of them whole in an update.
_UNITS = frozenset([
    "config.labels", "config.taints", "config.workload_metadata_config", "config.reservation_affinity",
    "config.accelerators", "placement_policy", "autoscaling", "management", "queued_provisioning",
])
# Maps and lists the user owns whole: a key or item not asked for is removed. Everything else is compared only
# in the keys the module sends, since GKE fills in the rest (location policy, management, 7x tpu_topology, ...).
_OWNED_WHOLE = frozenset(["config.labels", "config.oauth_scopes", "locations"])
# Only meaningful when creating (GKE does not report a pool's current size).
_CREATE_ONLY_INFORMATIONAL = frozenset(["name", "initial_node_count"])


def _owner(path):
    """The unit that contains ``path``."""
    for unit in _UNITS:
        if path == unit or path.startswith(unit + "."):
            return unit
    return path


def _covers(prefixes, path):
    return any(path == p or path.startswith(p + ".") for p in prefixes)


def _is_zero(value):
    return value in _ZERO_VALUES


def _matches(managed, want, have):
    """Whether ``have`` holds what ``want`` asks for, in the keys ``managed`` (the raw request) names.

    Proto JSON drops zero values from ``want``, so a key the request states with a zero value matches an absent or
    zero value. Lists of objects match item by item; lists of strings as sets.
    """
    if isinstance(managed, dict):
        want = want if isinstance(want, dict) else {}
        have = have if isinstance(have, dict) else {}
        return all(_matches(managed[key], want.get(key), have.get(key)) for key in managed)
    if isinstance(managed, list):
        want, have = want or [], have or []
        if managed and isinstance(managed[0], dict):
            want = list(want) + [None] * (len(managed) - len(want))
            return len(have) == len(managed) and all(_matches(*item) for item in zip(managed, want, have))
        return sorted(str(v) for v in want) == sorted(str(v) for v in have)
    if _is_zero(want) and _is_zero(have):
        return True
    return want == have


def _taint_key(taint):
    return (taint.get("key"), taint.get("value") or "", taint.get("effect"))


def user_taints(current_taints, wanted):
    """The live taints minus those GKE adds and manages itself (the GPU taint) that the user did not ask for."""
    managed = set(_taint_key(t) for t in gke_managed_taints())
    asked = set(_taint_key(t) for t in wanted or [])
    return [t for t in current_taints or [] if _taint_key(t) not in managed or _taint_key(t) in asked]


def taints_to_send(wanted, current_taints):
    """An update's taints: the user's, plus those GKE manages on the live pool, so the update never removes them."""
    asked = set(_taint_key(t) for t in wanted or [])
    kept = [t for t in current_taints or [] if t not in user_taints(current_taints, wanted)
            and _taint_key(t) not in asked]
    return list(wanted or []) + kept


def _unit_matches(path, managed, want, have):
    if path == "config.taints":
        return sorted(_taint_key(t) for t in want or []) == sorted(_taint_key(t) for t in user_taints(have, want))
    if path in _OWNED_WHOLE:
        if isinstance(want, dict) or isinstance(have, dict):
            return dict(want or {}) == dict(have or {})
        return _matches(managed, want, have)
    return _matches(managed, want, have)


class NodePoolDiff:
    """What differs between the desired body and the live pool, and how each difference can be made."""

    def __init__(self):
        self.changed_paths = []
        self.updates = []  # list of (group name, {path: desired value})
        self.set_autoscaling = None
        self.set_management = None
        self.recreate = []

    @property
    def changed(self):
        return bool(self.changed_paths)


def _record(diff, groups, path, desired):
    diff.changed_paths.append(path)
    if _covers(RECREATE_ONLY, path):
        diff.recreate.append(path)
    elif path == "autoscaling":
        diff.set_autoscaling = _get(desired, path)
    elif path == "management":
        diff.set_management = _get(desired, path)
    else:
        for name, paths in UPDATE_GROUPS:
            if _covers(paths, path):
                groups[name][path] = _get(desired, path)
                break
        else:  # a field we set but have no in-place call for
            diff.recreate.append(path)


def node_pool_diff(desired, current, managed=None):
    """Compare a desired body with the live pool (both snake_case dicts, enums as names).

    ``managed`` is the body whose keys say what to compare (default: desired itself); pass the raw body when
    ``desired`` went through proto JSON, which drops false and zero values. Only what the module sends is compared:
    an option left out means "whatever GKE chose", and the taint GKE adds to GPU pools is not the user's to remove.
    """
    managed = managed or desired
    diff = NodePoolDiff()
    groups = dict((name, {}) for name, _paths in UPDATE_GROUPS)
    seen = set()
    for leaf in _leaf_paths(managed):
        path = _owner(leaf)
        if path in seen or path in _CREATE_ONLY_INFORMATIONAL:
            continue
        seen.add(path)
        want, have = _get(desired, path), _get(current, path)
        if path == "autoscaling" and not (want or {}).get("enabled") and not (have or {}).get("enabled"):
            continue
        if not _unit_matches(path, _get(managed, path), want, have):
            _record(diff, groups, path, desired)
    diff.updates = [(name, groups[name]) for name, _paths in UPDATE_GROUPS if groups[name]]
    return diff


def update_request_fields(changes):
    """UpdateNodePoolRequest fields for one update group's {path: value}."""
    fields = {}
    for path, value in changes.items():
        if path == "config.labels":
            fields["labels"] = {"labels": value}
        elif path == "config.taints":
            fields["taints"] = {"taints": value}
        elif path == "config.workload_metadata_config":
            fields["workload_metadata_config"] = value
        elif path.startswith("config."):
            fields[path.split(".", 1)[1]] = value
        else:
            fields[path] = value
    return fields


def summarize_pool(pool, shape=None):
    """The module's result: a compact, snake_case view of the pool for users and later tasks."""
    config = pool.get("config") or {}
    summary = {
        "name": pool.get("name"),
        "status": pool.get("status"),
        "machine_type": config.get("machine_type"),
        "spot": bool(config.get("spot")),
        "autoscaling": pool.get("autoscaling") or {},
        "placement_policy": pool.get("placement_policy") or {},
        "labels": config.get("labels") or {},
        "taints": config.get("taints") or [],
        "accelerators": config.get("accelerators") or [],
        "self_link": pool.get("self_link"),
        "version": pool.get("version"),
    }
    if shape is not None:
        summary["shape"] = dict(shape)
    return summary

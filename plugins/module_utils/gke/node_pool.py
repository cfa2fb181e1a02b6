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
from ansible_collections.accelci.runners.plugins.module_utils.gke.catalog import (
    check_slice_node_counts,
    resolve_gpu,
    resolve_tpu,
    validate_gpu_partition_size,
    validate_gpu_sharing,
)
from ansible_collections.accelci.runners.plugins.module_utils.gke.names import validate_name

TAINT_EFFECTS = ("NO_SCHEDULE", "PREFER_NO_SCHEDULE", "NO_EXECUTE")
WORKLOAD_METADATA_MODES = ("GKE_METADATA", "GCE_METADATA")
LOCATION_POLICIES = ("ANY", "BALANCED")
RESERVATION_AFFINITIES = ("NO_RESERVATION", "ANY_RESERVATION", "SPECIFIC_RESERVATION")
GPU_DRIVER_VERSIONS = ("DEFAULT", "LATEST", "INSTALLATION_DISABLED")
RESERVATION_NAME_KEY = "compute.googleapis.com/reservation-name"

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


def _check_sizes(params, kind, shape):
    """Autoscaling limits and node_count: whole slices for multi-host TPUs."""
    autoscaling = params.get("autoscaling")
    if _autoscaling_on(params):
        low, high = autoscaling.get("min_nodes", 0), autoscaling.get("max_nodes")
        if high is None:
            raise InputError("autoscaling.max_nodes", "is required when autoscaling is enabled")
        # The catalog's check covers min <= max for every pool and whole slices for multi-host TPUs.
        check_slice_node_counts(shape if kind == "tpu" else {}, low, high)
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
    if kind == "tpu" and shape["multi_host"] and node_count % shape["vms"]:
        raise InputError("node_count", "%s does not fit: a multi-host %s slice needs node_count 0 or a multiple of "
                         "%d VMs" % (node_count, shape["topology"], shape["vms"]))


def _check_node_settings(params):
    for index, taint in enumerate(params.get("taints") or []):
        if not taint.get("key") or taint.get("effect") not in TAINT_EFFECTS:
            raise InputError("taints[%d]" % index, "needs a key and an effect among %s (got %r)"
                             % (", ".join(TAINT_EFFECTS), taint))
    mode = params.get("workload_metadata_mode")
    if mode and mode not in WORKLOAD_METADATA_MODES:
        raise InputError("workload_metadata_mode", "must be one of %s" % ", ".join(WORKLOAD_METADATA_MODES))


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


def _check_provisioning(params):
    """flex_start and queued_provisioning: no reservation, autoscaling, nodes only on demand."""
    affinity = (params.get("reservation") or {}).get("affinity")
    reserved = bool(affinity) and affinity != "NO_RESERVATION"
    autoscaling = params.get("autoscaling") or {}
    node_count = params.get("node_count")
    if params.get("flex_start"):
        if params.get("spot"):
            raise InputError("spot", "flex_start and spot exclude each other: flex-start VMs are their own model")
        if reserved:
            raise InputError("flex_start", "needs reservation.affinity NO_RESERVATION (or none)")
        if not _autoscaling_on(params):
            raise InputError("flex_start", "needs autoscaling (min_nodes 0): nodes come and go with demand")
        if node_count:
            raise InputError("node_count", "flex_start pools start with node_count 0")
    if params.get("queued_provisioning"):
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
    kind, shape, machine_type = _resolve_shape(params)
    _check_sizes(params, kind, shape)
    _check_node_settings(params)
    _check_reservation(params)
    _check_provisioning(params)
    _check_accelerator(params, kind, shape)
    return kind, shape, machine_type


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


def _normalise(value):
    """API replies omit zero values and may order lists; compare on a canonical form."""
    if isinstance(value, dict):
        return dict((k, _normalise(v)) for k, v in value.items() if v not in _ZERO_VALUES)
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    return value


def _leaf_paths(tree, prefix=""):
    for key, value in tree.items():
        path = prefix + key
        if isinstance(value, dict) and value and path not in _WHOLE_VALUE_PATHS:
            yield from _leaf_paths(value, path + ".")
        else:
            yield path


# Compared as a whole: the API replaces them whole, so a partial match is a difference.
_WHOLE_VALUE_PATHS = frozenset([
    "config.labels", "config.taints", "config.workload_metadata_config", "config.reservation_affinity",
    "config.accelerators", "placement_policy", "autoscaling", "management", "queued_provisioning",
])
# Only meaningful when creating (GKE does not report a pool's current size).
_CREATE_ONLY_INFORMATIONAL = frozenset(["name", "initial_node_count"])


def _owner(path):
    """The managed path that contains ``path`` (the unit we compare and change)."""
    for whole in _WHOLE_VALUE_PATHS:
        if path == whole or path.startswith(whole + "."):
            return whole
    return path


def _covers(prefixes, path):
    return any(path == p or path.startswith(p + ".") for p in prefixes)


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


def node_pool_diff(desired, current, managed=None):
    """Compare a desired body with the live pool (both snake_case dicts, enums as names).

    ``managed`` is the body whose keys say what to compare (default: desired itself); pass the raw body when
    ``desired`` went through proto JSON, which drops false and zero values.
    """
    diff = NodePoolDiff()
    groups = dict((name, {}) for name, _paths in UPDATE_GROUPS)
    seen = set()
    for leaf in _leaf_paths(managed or desired):
        path = _owner(leaf)
        if path in seen or path in _CREATE_ONLY_INFORMATIONAL:
            continue
        seen.add(path)
        want = _normalise(_get(desired, path))
        have = _normalise(_get(current, path))
        if path == "autoscaling" and not want.get("enabled") and not have.get("enabled"):
            continue
        if path == "management":
            # Compare only the flags asked for; GKE fills in the others.
            have = dict((k, bool(have.get(k))) for k in want)
            want = dict((k, bool(v)) for k, v in want.items())
        if want in _ZERO_VALUES and have in _ZERO_VALUES:
            continue
        if want == have:
            continue
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

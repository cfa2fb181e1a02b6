# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""GKE node pools: input checks, the request body, and the diff against what the API returns.

Pure functions over plain dicts (snake_case proto field names, enums as names) so they are unit-tested
without Ansible or a server. The manager in gke_node_pool_manager.py does the I/O.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re

from ansible_collections.accelci.runners.plugins.module_utils.accelerators import (
    resolve_gpu,
    resolve_tpu,
    slice_node_counts_ok,
    validate_gpu_partition_size,
    validate_gpu_sharing,
)

NAME_RE = re.compile(r"^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$")
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


class NodePoolSpecError(ValueError):
    """Invalid input; the message names the field and what is accepted."""


def validate_name(field, value):
    if not value or not NAME_RE.match(value):
        raise NodePoolSpecError(
            "%s %r is not a valid GKE name: 1-40 characters, lowercase letters, digits and hyphens, starting "
            "with a letter and not ending with a hyphen" % (field, value)
        )


def resolve_shape(params):
    """Resolve the pool's accelerator from ``tpu``/``gpu``/``machine_type``; return (kind, shape, machine_type)."""
    tpu, gpu, machine_type = params.get("tpu"), params.get("gpu"), params.get("machine_type")
    if tpu:
        if machine_type and tpu.get("machine_type") and machine_type != tpu["machine_type"]:
            raise NodePoolSpecError(
                "machine_type %r and tpu.machine_type %r disagree; give the machine type in tpu.machine_type only"
                % (machine_type, tpu["machine_type"])
            )
        try:
            shape = resolve_tpu(tpu.get("accelerator"), tpu.get("topology"),
                                tpu.get("machine_type") or machine_type)
        except ValueError as exc:  # the catalog's message names the field (tpu.topology: ...)
            raise NodePoolSpecError(str(exc))
        return "tpu", shape, shape["machine_type"]
    if gpu:
        try:
            shape = resolve_gpu(gpu.get("type"), gpu.get("count"), machine_type)
        except ValueError as exc:
            raise NodePoolSpecError(str(exc))
        return "gpu", shape, shape["machine_type"]
    if not machine_type:
        raise NodePoolSpecError("one of tpu, gpu or machine_type is required for a node pool")
    return "cpu", None, machine_type


def validate_node_pool(params):
    """Check everything GKE would reject, before any call. Returns (kind, shape, machine_type)."""
    validate_name("name", params.get("name"))
    validate_name("cluster", params.get("cluster"))
    kind, shape, machine_type = resolve_shape(params)

    autoscaling = params.get("autoscaling")
    if autoscaling and autoscaling.get("enabled", True):
        low, high = autoscaling.get("min_nodes", 0), autoscaling.get("max_nodes")
        if high is None:
            raise NodePoolSpecError("autoscaling.max_nodes is required when autoscaling is enabled")
        # The catalog's check covers min <= max for every pool and whole slices for multi-host TPUs.
        problem = slice_node_counts_ok(shape if kind == "tpu" else {}, low, high)
        if problem:
            raise NodePoolSpecError(problem)
        if high < 1:
            raise NodePoolSpecError("autoscaling.max_nodes: %s; accepted: 1 or more (min_nodes 0 scales to zero)" % high)
        policy = autoscaling.get("location_policy")
        if policy and policy not in LOCATION_POLICIES:
            raise NodePoolSpecError("autoscaling.location_policy must be one of %s" % ", ".join(LOCATION_POLICIES))
    node_count = params.get("node_count")
    if node_count is not None:
        if node_count < 0:
            raise NodePoolSpecError("node_count must be >= 0 (got %s)" % node_count)
        if kind == "tpu" and shape["multi_host"] and node_count % shape["vms"]:
            raise NodePoolSpecError(
                "node_count=%s: a multi-host %s slice needs node_count 0 or a multiple of %d VMs"
                % (node_count, shape["topology"], shape["vms"])
            )

    for index, taint in enumerate(params.get("taints") or []):
        if not taint.get("key") or taint.get("effect") not in TAINT_EFFECTS:
            raise NodePoolSpecError(
                "taints[%d] needs a key and an effect among %s (got %r)" % (index, ", ".join(TAINT_EFFECTS), taint)
            )

    mode = params.get("workload_metadata_mode")
    if mode and mode not in WORKLOAD_METADATA_MODES:
        raise NodePoolSpecError("workload_metadata_mode must be one of %s" % ", ".join(WORKLOAD_METADATA_MODES))

    reservation = params.get("reservation") or {}
    affinity = reservation.get("affinity")
    if affinity:
        if affinity not in RESERVATION_AFFINITIES:
            raise NodePoolSpecError("reservation.affinity must be one of %s" % ", ".join(RESERVATION_AFFINITIES))
        if affinity == "SPECIFIC_RESERVATION" and not reservation.get("name"):
            raise NodePoolSpecError("reservation.name is required with reservation.affinity SPECIFIC_RESERVATION")
        if affinity != "SPECIFIC_RESERVATION" and reservation.get("name"):
            raise NodePoolSpecError("reservation.name only goes with reservation.affinity SPECIFIC_RESERVATION")

    if params.get("flex_start"):
        if params.get("spot"):
            raise NodePoolSpecError("flex_start and spot exclude each other: flex-start VMs are their own model")
        if affinity and affinity != "NO_RESERVATION":
            raise NodePoolSpecError("flex_start needs reservation.affinity NO_RESERVATION (or none)")
        if not (autoscaling and autoscaling.get("enabled", True)):
            raise NodePoolSpecError("flex_start needs autoscaling (min_nodes 0): nodes come and go with demand")
        if node_count:
            raise NodePoolSpecError("flex_start pools start with node_count 0")
    if params.get("queued_provisioning"):
        if affinity and affinity != "NO_RESERVATION":
            raise NodePoolSpecError("queued_provisioning needs reservation.affinity NO_RESERVATION (or none)")
        if not (autoscaling and autoscaling.get("enabled", True)):
            raise NodePoolSpecError("queued_provisioning needs autoscaling: nodes come only through ProvisioningRequests")
        if autoscaling.get("min_nodes", 0) != 0 or node_count:
            raise NodePoolSpecError("queued_provisioning needs autoscaling.min_nodes 0 and no node_count")

    if kind == "tpu" and shape.get("placement") == "workload_policy" and not params.get("placement_policy_name"):
        raise NodePoolSpecError(
            "placement_policy_name is required for a multi-host %s slice: GKE needs a workload policy (type "
            "HIGH_THROUGHPUT, accelerator topology %s) created first; COMPACT placement is not accepted"
            % (shape["generation"], shape["topology"])
        )

    gpu = params.get("gpu")
    if gpu:
        driver = gpu.get("driver_version")
        if driver not in GPU_DRIVER_VERSIONS:
            raise NodePoolSpecError("gpu.driver_version must be one of %s" % ", ".join(GPU_DRIVER_VERSIONS))
        try:
            if gpu.get("sharing"):
                validate_gpu_sharing(gpu["sharing"].get("strategy"), gpu["sharing"].get("max_shared_clients"))
            validate_gpu_partition_size(gpu.get("type"), gpu.get("partition_size"))
        except ValueError as exc:
            raise NodePoolSpecError(str(exc))
    return kind, shape, machine_type


def desired_node_pool(params, kind, shape, machine_type):
    """The NodePool body this module wants, as a snake_case dict. Keys absent are left to GKE's defaults."""
    config = {"machine_type": machine_type}
    pool = {"name": params["name"], "config": config}

    # Always stated, so turning spot or flex-start off is seen as the (recreate-only) change it is.
    config["spot"] = bool(params.get("spot"))
    config["flex_start"] = bool(params.get("flex_start"))
    for key in ("disk_size_gb", "disk_type", "service_account", "oauth_scopes", "labels"):
        if params.get(key) not in (None, {}, []) or (key == "labels" and params.get(key) == {}):
            config[key] = copy.deepcopy(params[key])
    if params.get("taints") is not None:
        config["taints"] = [
            {"key": t["key"], "value": t.get("value") or "", "effect": t["effect"]} for t in params["taints"]
        ]
    if params.get("workload_metadata_mode"):
        config["workload_metadata_config"] = {"mode": params["workload_metadata_mode"]}

    reservation = params.get("reservation") or {}
    if reservation.get("affinity"):
        affinity = {"consume_reservation_type": reservation["affinity"]}
        if reservation.get("name"):
            affinity["key"] = RESERVATION_NAME_KEY
            affinity["values"] = [reservation["name"]]
        config["reservation_affinity"] = affinity
    elif params.get("flex_start") or params.get("queued_provisioning"):
        config["reservation_affinity"] = {"consume_reservation_type": "NO_RESERVATION"}

    if kind == "gpu":
        gpu = params["gpu"]
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
        config["accelerators"] = [accelerator]

    if kind == "tpu" and shape["multi_host"]:
        if shape.get("placement") == "workload_policy":
            pool["placement_policy"] = {"policy_name": params["placement_policy_name"]}
        else:
            placement = {"type_": "COMPACT", "tpu_topology": shape["topology"]}
            if params.get("placement_policy_name"):
                placement["policy_name"] = params["placement_policy_name"]
            pool["placement_policy"] = placement
    # Single-host TPU slices are written with the machine type alone: GKE rejects a tpu_topology for them.

    autoscaling = params.get("autoscaling")
    if autoscaling and autoscaling.get("enabled", True):
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
    else:
        if autoscaling is not None:
            pool["autoscaling"] = {"enabled": False}
        default_count = shape["vms"] if kind == "tpu" else 1
        pool["initial_node_count"] = params["node_count"] if params.get("node_count") is not None else default_count

    management = {}
    for key in ("auto_repair", "auto_upgrade"):
        if params.get(key) is not None:
            management[key] = params[key]
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

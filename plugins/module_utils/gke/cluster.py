# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""GKE clusters: input checks, the create body, and the list of in-place changes (one per request).

Only the options a caller gives are managed: a role that passes just ``addons`` leaves labels, release channel
and the system pool of an existing cluster alone.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import InputError
from ansible_collections.accelci.runners.plugins.module_utils.gcp.labels import check_resource_labels
from ansible_collections.accelci.runners.plugins.module_utils.gcp.locations import check_location
from ansible_collections.accelci.runners.plugins.module_utils.gke.names import validate_name
from ansible_collections.accelci.runners.plugins.module_utils.gke.node_pool import validate_node_pool

RELEASE_CHANNELS = {"rapid": "RAPID", "regular": "REGULAR", "stable": "STABLE", "extended": "EXTENDED",
                    "none": "UNSPECIFIED"}
ADDONS = {
    "gcs_fuse_csi_driver": "gcs_fuse_csi_driver_config",
    "filestore_csi_driver": "gcp_filestore_csi_driver_config",
}
# The system pool for controllers and listeners, when the cluster is created without one described.
SYSTEM_POOL_DEFAULTS = {"name": "system", "machine_type": "e2-standard-4", "min_nodes": 1, "max_nodes": 3}
# Create-time only for clusters. There is no recreate for a cluster: we refuse and say what differs.
RECREATE_ONLY = ("network", "subnetwork")
# Fields of the system pool's gke_node_pool options -> the gke_cluster option the user wrote.
_SYSTEM_POOL_FIELDS = {
    "cluster": "name",
    "location": "location",
    "name": "system_pool.name",
    "autoscaling.min_nodes": "system_pool.min_nodes",
    "autoscaling.max_nodes": "system_pool.max_nodes",
}


def workload_pool(project):
    """The workload identity pool of a project's clusters."""
    return "%s.svc.id.goog" % project


def system_pool_params(params):
    """The system pool as gke_node_pool options (with the cluster's name and its workload identity)."""
    system = dict((k, v) for k, v in (params.get("system_pool") or {}).items() if v is not None)
    size = dict(SYSTEM_POOL_DEFAULTS, **system)
    return {
        "name": size["name"],
        "cluster": params["name"],
        "location": params.get("location"),
        "machine_type": size["machine_type"],
        "autoscaling": {"enabled": True, "min_nodes": size["min_nodes"], "max_nodes": size["max_nodes"],
                        "location_policy": None},
        "spot": bool(system.get("spot")),
        "disk_size_gb": system.get("disk_size_gb"),
        "disk_type": system.get("disk_type"),
        "labels": system.get("labels"),
        "taints": system.get("taints"),
        "workload_metadata_mode": system.get("workload_metadata_mode"),
        "cluster_workload_identity": bool(params.get("workload_identity")),
        "recreate": bool(system.get("recreate")),
        "flex_start": False,
        "queued_provisioning": False,
    }


def validate_cluster(params):
    """Everything GKE would reject about the cluster options, before any call (InputError naming the option)."""
    validate_name("name", params.get("name"))
    check_location("location", params.get("location"))
    check_resource_labels("labels", params.get("labels"))
    channel = params.get("release_channel")
    if channel is not None and channel not in RELEASE_CHANNELS:
        raise InputError("release_channel", "must be one of %s" % ", ".join(RELEASE_CHANNELS))
    for key in (params.get("addons") or {}):
        if key not in ADDONS:
            raise InputError("addons.%s" % key, "is not supported; known: %s" % ", ".join(sorted(ADDONS)))


def validate_system_pool(params):
    """Check the system pool as gke_node_pool would; errors name the gke_cluster option (system_pool.max_nodes).

    Returns the system pool's gke_node_pool options.
    """
    pool = system_pool_params(params)
    try:
        validate_node_pool(pool)
    except InputError as exc:
        field = _SYSTEM_POOL_FIELDS.get(exc.field, "system_pool.%s" % exc.field)
        raise InputError(field, exc.message, **exc.details)
    return pool


def desired_cluster(params, create=False):
    """The managed part of the Cluster body, as a snake_case dict; with create=True, the full create body."""
    body = {"name": params["name"]}
    if params.get("labels") is not None:
        body["resource_labels"] = dict(params["labels"])
    if params.get("release_channel") is not None:
        body["release_channel"] = {"channel": RELEASE_CHANNELS[params["release_channel"]]}
    if params.get("workload_identity") is not None:
        body["workload_identity_config"] = (
            {"workload_pool": workload_pool(params["project"])} if params["workload_identity"] else {}
        )
    addons = dict((ADDONS[k], {"enabled": bool(v)}) for k, v in (params.get("addons") or {}).items()
                  if v is not None)
    if addons:
        body["addons_config"] = addons
    for key in RECREATE_ONLY:
        if params.get(key):
            body[key] = params[key]
    if create:
        body["ip_allocation_policy"] = {"use_ip_aliases": True}  # VPC-native, as seed 000's --enable-ip-alias
        if params.get("kubernetes_version"):
            body["initial_cluster_version"] = params["kubernetes_version"]
    return body


def _addons_view(addons, keys):
    return dict((k, {"enabled": bool((addons.get(k) or {}).get("enabled"))}) for k in keys)


def desired_labels(labels, current_labels, purge=False):
    """The cluster's labels after a converge: the given ones set, others kept unless ``purge`` (labels added by
    hand or by other tools are the user's too)."""
    if purge:
        return dict(labels)
    return dict(current_labels or {}, **labels)


def cluster_changes(desired, current, purge_labels=False):
    """In-place changes, in order, as (kind, path, payload): kind is 'update' (one ClusterUpdate field) or
    'labels' (setResourceLabels). Recreate-only differences come back separately as a list of paths.
    """
    changes, recreate = [], []
    for key in RECREATE_ONLY:
        if key in desired and desired[key] != current.get(key):
            recreate.append(key)
    if "addons_config" in desired:
        want = desired["addons_config"]
        have = _addons_view(current.get("addons_config") or {}, want)
        if want != have:
            # One request carries the whole AddonsConfig; keep the addons we do not manage as they are.
            merged = dict(current.get("addons_config") or {}, **want)
            changes.append(("update", "addons_config", {"desired_addons_config": merged}, have, want))
    if "workload_identity_config" in desired:
        want = desired["workload_identity_config"].get("workload_pool", "")
        have = (current.get("workload_identity_config") or {}).get("workload_pool", "")
        if want != have:
            changes.append(("update", "workload_identity_config",
                            {"desired_workload_identity_config": {"workload_pool": want}},
                            {"workload_pool": have}, {"workload_pool": want}))
    if "release_channel" in desired:
        want = desired["release_channel"]["channel"]
        have = (current.get("release_channel") or {}).get("channel") or "UNSPECIFIED"
        if want != have:
            changes.append(("update", "release_channel", {"desired_release_channel": {"channel": want}},
                            {"channel": have}, {"channel": want}))
    if "resource_labels" in desired:
        have = current.get("resource_labels") or {}
        want = desired_labels(desired["resource_labels"], have, purge_labels)
        if want != have:
            changes.append(("labels", "resource_labels", want, have, want))
    return changes, recreate

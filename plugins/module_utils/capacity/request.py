# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What a capacity question asks: one accelerator, spot or not, where, and for how many nodes.

- ``capacity_request(params)``: the options of accelerator_capacity_info - ``tpu`` or ``gpu`` with ``spot``,
  ``regions``, ``zones`` or ``location``, and ``nodes``; or a whole ``node_pool`` entry of the estate with the
  cluster's ``location`` - checked and resolved through the accelerator catalog before any API call.

Location names are spelled as ``gcp.locations`` says.
Pure: plain data in, a request dict out; InputError (or the catalog's AcceleratorError) names the option at fault.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import InputError
from ansible_collections.accelci.runners.plugins.module_utils._common.numbers import whole_number
from ansible_collections.accelci.runners.plugins.module_utils.gcp.locations import is_region, is_zone
from ansible_collections.accelci.runners.plugins.module_utils.gke.catalog import (
    AcceleratorError,
    gpu_spec,
    quota_metrics,
    resolve_gpu,
    resolve_tpu,
    scheduling_profile,
)

# GKE spreads the pools of a regional cluster over three zones of its region unless told otherwise
# (GKE docs, "Regional clusters"): the count a pool without locations is multiplied by.
REGIONAL_DEFAULT_ZONE_COUNT = 3
# Spot, flex-start and queued provisioning all draw on the preemptible quota (GKE: flex-start and queued
# provisioning VMs are preemptible capacity).
_PREEMPTIBLE_KEYS = ("spot", "flex_start", "queued_provisioning")
SPECIFIC_RESERVATION = "SPECIFIC_RESERVATION"


def _names(field, values, zone):
    """Location names, lower-cased and de-duplicated in order; InputError for anything not a region/zone name."""
    spelled, what, example = (is_zone, "zone", "us-central1-b") if zone else (is_region, "region", "us-central1")
    names = []
    for value in values or []:
        text = value.strip().lower() if isinstance(value, str) else ""
        if not spelled(text):
            raise InputError(field, "%r is not a %s name; accepted: names such as %s" % (value, what, example))
        if text not in names:
            names.append(text)
    return names


def _tpu_accelerator(tpu):
    shape = resolve_tpu(tpu.get("accelerator"), tpu.get("topology"), tpu.get("machine_type"))
    return {
        "kind": "tpu",
        "name": shape["generation"],
        "description": shape["description"],
        "machine_type": shape["machine_type"],
        "units_per_node": shape["chips_per_vm"],
        "unit": "chips",
        "vms_per_slice": shape["vms"],
        # TPU VMs are machine types of their zone (ct6e-standard-4t is listed where v6e is sold).
        "offer": {"resource": "machineTypes", "name": shape["machine_type"]},
        "quota": quota_metrics(shape),
    }


def _gpu_accelerator(gpu, machine_type=None):
    spec = resolve_gpu(gpu.get("type"), gpu.get("count"), machine_type or gpu.get("machine_type"))
    # N1 machine types exist in nearly every zone; what a zone offers there is the attachable GPU type.
    attached = "n1_counts" in gpu_spec(spec["type"])[1]
    return {
        "kind": "gpu",
        "name": spec["type"],
        "description": spec["description"],
        "machine_type": spec["machine_type"],
        "units_per_node": spec["count"],
        "unit": "GPUs",
        "vms_per_slice": 1,
        "offer": ({"resource": "acceleratorTypes", "name": spec["type"]} if attached
                  else {"resource": "machineTypes", "name": spec["machine_type"]}),
        "quota": quota_metrics(spec),
    }


def _count(field, value, minimum=0):
    return None if value is None else whole_number(field, value, low=minimum)


def _where(params):
    """(regions, zones) asked about: ``regions``, ``zones``, or ``location`` (a zone or a region)."""
    regions = _names("regions", params.get("regions"), zone=False)
    zones = _names("zones", params.get("zones"), zone=True)
    location = params.get("location")
    if location:
        text = location.strip().lower() if isinstance(location, str) else ""
        if is_zone(text):
            zones = [text]
        elif is_region(text):
            regions = [text]
        else:
            raise InputError("location", "%r is neither a zone nor a region; accepted: e.g. us-central1-b or "
                                         "us-central1" % (location,))
    if not regions and not zones:
        raise InputError("regions", "give at least one region (regions), zone (zones) or location")
    return regions, zones


def _pool_sizing(pool, field, vms_per_slice):
    """(most nodes per zone, whether the pool starts empty and grows from zero) of a node pool entry."""
    autoscaling = pool.get("autoscaling")
    initial = _count(field + ".node_count", pool.get("node_count"))
    if isinstance(autoscaling, dict) and autoscaling.get("enabled", True):
        most = _count(field + ".autoscaling.max_nodes", autoscaling.get("max_nodes"))
        if most is None:
            raise InputError(field + ".autoscaling.max_nodes", "is required when autoscaling is enabled")
        least = _count(field + ".autoscaling.min_nodes", autoscaling.get("min_nodes")) or 0
        from_zero = least == 0 and not initial
    else:
        # gke_node_pool's default size without autoscaling: one node, or one whole multi-host slice.
        most = initial if initial is not None else vms_per_slice
        from_zero = most == 0
    if pool.get("flex_start") or pool.get("queued_provisioning"):
        from_zero = True  # both start at 0 nodes and get nodes only when capacity is granted
    return most, from_zero


def _pool_request(params):
    """The request for a ``node_pool`` entry of the estate on a cluster at ``location``."""
    pool = params["node_pool"]
    if not isinstance(pool, dict) or not pool.get("name"):
        raise InputError("node_pool", "needs an accelci_node_pools entry with a name")
    profile = scheduling_profile(pool)
    name = profile["pool"]
    field = "node_pool[%s]" % name
    if not profile["gke"] or profile["kind"] not in ("tpu", "nvidia"):
        raise InputError(field, "has no TPU or GPU on GKE (kind %s); nothing to check" % profile["kind"])
    try:
        if profile["kind"] == "tpu":
            accelerator = _tpu_accelerator(pool["tpu"])
        else:
            accelerator = _gpu_accelerator(pool["gpu"], pool.get("machine_type"))
    except AcceleratorError as exc:
        raise AcceleratorError(field, str(exc))
    regions, zones = _where({"location": params.get("location")})
    pool_zones = _names(field + ".locations", pool.get("locations"), zone=True)
    zone_count = len(pool_zones) or len(zones) or REGIONAL_DEFAULT_ZONE_COUNT
    if accelerator["vms_per_slice"] > 1:
        zone_count = 1  # a multi-host slice is compact-placed in one zone (gke/node_pool.single_zone_default)
    most, from_zero = _pool_sizing(pool, field, accelerator["vms_per_slice"])
    slices = _count(field + ".slices", pool.get("slices", 1), minimum=1)
    reservation = pool.get("reservation") if isinstance(pool.get("reservation"), dict) else {}
    return {
        "accelerator": accelerator,
        "spot": any(bool(pool.get(key)) for key in _PREEMPTIBLE_KEYS),
        "regions": [] if pool_zones or zones else regions,
        "zones": pool_zones or zones,
        "nodes": most * zone_count * slices,
        "pool": {"name": name, "scales_from_zero": from_zero, "nodes_per_zone": most, "zone_count": zone_count,
                 "zones_assumed": not (pool_zones or zones), "slices": slices,
                 "reservation": (reservation.get("name") or "(unnamed)")
                 if reservation.get("affinity") == SPECIFIC_RESERVATION else None},
    }


def capacity_request(params):
    """Check and resolve accelerator_capacity_info's options; InputError names the option at fault.

    Returns a dict: accelerator (kind, name, machine_type, units_per_node, unit, offer {resource, name}, quota
    from the catalog's quota_metrics), spot, regions, zones, nodes (or None) and pool (None, or for a node_pool
    entry: name, scales_from_zero, nodes_per_zone, zone_count, zones_assumed, slices, reservation).
    """
    if params.get("node_pool") is not None:
        return _pool_request(params)
    if params.get("tpu"):
        accelerator = _tpu_accelerator(params["tpu"])
    elif params.get("gpu"):
        accelerator = _gpu_accelerator(params["gpu"])
    else:
        raise InputError("tpu", "give tpu ({accelerator, topology}), gpu ({type, count}) or node_pool")
    regions, zones = _where(params)
    return {"accelerator": accelerator, "spot": bool(params.get("spot")), "regions": regions, "zones": zones,
            "nodes": _count("nodes", params.get("nodes")), "pool": None}

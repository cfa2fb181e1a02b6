# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The Filestore share behind the NFS model cache, pure: input checks, desired state, diff and request building.

``filestore_input_errors(params)`` lists what is wrong before any API call, as ``(option, message)`` pairs;
``instance_view(instance)`` gives a plain dict (with the IP and the CSI ``volume_handle`` a PersistentVolume needs);
``instance_changes`` splits differences into in-place updates and create-time-only conflicts; ``build_instance`` and
``patch_instance`` build the requests. ``storage.filestore_manager`` does the I/O.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.accelci.runners.plugins.module_utils.gcp.locations import is_region, is_zone, region_of
from ansible_collections.accelci.runners.plugins.module_utils.storage.bucket import LABEL_KEY, LABEL_VALUE, REGIONS

try:
    from google.cloud import filestore_v1

    HAS_FILESTORE = True
except ImportError:
    HAS_FILESTORE = False

# Capacity limits in GiB per tier (Filestore service tiers documentation), and whether the tier is zonal.
TIERS = {
    "BASIC_HDD": {"min": 1024, "max": 65434, "zonal": True, "shrink": False, "share_max": 16},
    "BASIC_SSD": {"min": 2560, "max": 65434, "zonal": True, "shrink": False, "share_max": 16},
    "ZONAL": {"min": 1024, "max": 102400, "zonal": True, "shrink": True, "share_max": 64},
    "HIGH_SCALE_SSD": {"min": 10240, "max": 102400, "zonal": True, "shrink": True, "share_max": 64},
    "REGIONAL": {"min": 1024, "max": 102400, "zonal": False, "shrink": True, "share_max": 64},
    "ENTERPRISE": {"min": 1024, "max": 10240, "zonal": False, "shrink": True, "share_max": 64},
}
CONNECT_MODES = ("DIRECT_PEERING", "PRIVATE_SERVICE_ACCESS")
INSTANCE_ID = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
NETWORK = re.compile(r"^(?:projects/[a-z][-a-z0-9]{4,28}[a-z0-9]/global/networks/)?[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
CIDR = re.compile(r"^\d{1,3}(\.\d{1,3}){3}/\d{1,2}$")
# States in which an instance is still becoming usable.
TRANSIENT_STATES = ("CREATING", "REPAIRING", "RESTORING")


def _share_name_pattern(tier):
    """File share names start with a letter and hold lowercase letters, digits and '_' (16 on basic tiers)."""
    limit = TIERS.get(tier, {}).get("share_max", 16)
    return re.compile(r"^[a-z][a-z0-9_]{0,%d}$" % (limit - 1))


def _unknown_region(location):
    """Why a well-spelled location names no Google Cloud region (the regions Cloud Storage lists), or None."""
    if region_of(location).upper() in REGIONS:
        return None
    return ("location %r is in no Google Cloud region; accepted: a zone or region of %s"
            % (location, ", ".join(region.lower() for region in REGIONS[:4]) + ", ..."))


def _location_errors(params, info):
    tier = params.get("tier")
    location = params.get("location") or ""
    if info["zonal"] and not is_zone(location):
        yield "location", "location %r: tier %s is zonal, give a zone such as us-central1-b" % (location, tier)
    elif not info["zonal"] and not is_region(location):
        yield "location", "location %r: tier %s is regional, give a region such as us-central1" % (location, tier)
    elif _unknown_region(location):
        yield "location", _unknown_region(location)


def _share_errors(params, info):
    tier = params.get("tier")
    capacity = params.get("capacity_gb")
    if isinstance(capacity, bool) or not isinstance(capacity, int) or not info["min"] <= capacity <= info["max"]:
        yield "capacity_gb", ("capacity_gb %s is outside what tier %s allows (%d-%d GiB)"
                              % (capacity, tier, info["min"], info["max"]))
    share = params.get("share_name") or ""
    if not _share_name_pattern(tier).match(share):
        yield "share_name", ("share_name %r must start with a lowercase letter and hold at most %d lowercase letters, "
                             "digits and '_'" % (share, info["share_max"]))


def _network_errors(params):
    if not NETWORK.match(params.get("network") or ""):
        yield "network", "network %r must be a VPC name or projects/PROJECT/global/networks/NAME" % (
            params.get("network"),)
    reserved = params.get("reserved_ip_range")
    if reserved and params.get("connect_mode") == "DIRECT_PEERING" and not CIDR.match(reserved):
        yield "reserved_ip_range", ("reserved_ip_range %r must be a CIDR block such as 10.0.10.0/29 with "
                                    "DIRECT_PEERING" % reserved)


def filestore_input_errors(params):
    """Everything wrong with the filestore_instance options, as (option, message) pairs naming what is accepted."""
    errors = []
    name = params.get("name") or ""
    if not INSTANCE_ID.match(name):
        errors.append(("name", "name %r must be 1-63 lowercase letters, digits and '-', starting with a letter" % name))
    location = params.get("location") or ""
    if params.get("state", "present") == "absent":
        if not (is_zone(location) or is_region(location)):
            errors.append(("location", "location %r must be a zone (us-central1-b) or a region (us-central1)"
                           % location))
        return errors
    info = TIERS.get(params.get("tier"))
    if info is None:
        errors.append(("tier", "tier %r must be one of %s" % (params.get("tier"), ", ".join(sorted(TIERS)))))
        info = TIERS["BASIC_HDD"]
    errors.extend(_location_errors(params, info))
    errors.extend(_share_errors(params, info))
    errors.extend(_network_errors(params))
    for key, value in (params.get("labels") or {}).items():
        if not LABEL_KEY.match(str(key)) or not LABEL_VALUE.match(str(value)):
            errors.append(("labels", "labels %s=%s: keys start with a lowercase letter; keys and values hold at most "
                                     "63 lowercase letters, digits, '_' or '-'" % (key, value)))
    return errors


def instance_path(project, location, name):
    """projects/P/locations/L/instances/N."""
    return "projects/%s/locations/%s/instances/%s" % (project, location, name)


def volume_handle(location, name, share):
    """The Filestore CSI driver's volumeHandle for a pre-existing instance."""
    return "modeInstance/%s/%s/%s" % (location, name, share)


def enum_name(value):
    """The name of a proto enum value (or the value itself when it is already a name)."""
    return getattr(value, "name", value)


def instance_view(instance, location):
    """A filestore_v1.Instance as a plain dict of what this module manages, plus the IP and volume handle."""
    share = instance.file_shares[0] if instance.file_shares else None
    network = instance.networks[0] if instance.networks else None
    name = instance.name.rsplit("/", 1)[-1]
    share_name = share.name if share else None
    return {
        "name": name,
        "location": location,
        "tier": enum_name(instance.tier),
        "capacity_gb": int(share.capacity_gb) if share else None,
        "share_name": share_name,
        "network": network.network if network else None,
        "connect_mode": enum_name(network.connect_mode) if network else None,
        "reserved_ip_range": (network.reserved_ip_range or None) if network else None,
        "ip_address": network.ip_addresses[0] if network and network.ip_addresses else None,
        "labels": dict(instance.labels),
        "description": instance.description or None,
        "deletion_protection": bool(instance.deletion_protection_enabled),
        "state": enum_name(instance.state),
        "volume_handle": volume_handle(location, name, share_name) if share_name else None,
    }


def desired_instance(params):
    """What the options ask for, shaped like instance_view."""
    return {
        "name": params["name"],
        "location": params["location"],
        "tier": params["tier"],
        "capacity_gb": params["capacity_gb"],
        "share_name": params["share_name"],
        "network": params["network"],
        "connect_mode": params["connect_mode"],
        "reserved_ip_range": params.get("reserved_ip_range"),
        "labels": dict(params.get("labels") or {}),
        "description": params.get("description"),
        "deletion_protection": params.get("deletion_protection"),
    }


def _network_name(value):
    return (value or "").rsplit("/", 1)[-1]


def _fixed_differences(desired, current):
    """(option, message) for each create-time-only setting that differs."""
    for field in ("tier", "share_name", "connect_mode"):
        if desired[field] != current[field]:
            yield field, "%s is %s, asked for %s" % (field, current[field], desired[field])
    if _network_name(desired["network"]) != _network_name(current["network"]):
        yield "network", "network is %s, asked for %s" % (current["network"], desired["network"])
    if desired["reserved_ip_range"] and desired["reserved_ip_range"] != current["reserved_ip_range"]:
        yield "reserved_ip_range", ("reserved_ip_range is %s, asked for %s"
                                    % (current["reserved_ip_range"], desired["reserved_ip_range"]))
    if desired["capacity_gb"] < current["capacity_gb"] and not TIERS[current["tier"]]["shrink"]:
        yield "capacity_gb", ("capacity_gb is %s; a %s share cannot shrink (asked for %s)"
                              % (current["capacity_gb"], current["tier"], desired["capacity_gb"]))


def instance_changes(desired, current):
    """(in-place changes as update-mask paths, create-time-only differences as (option, message) pairs)."""
    fixed = list(_fixed_differences(desired, current))
    updates = []
    if desired["capacity_gb"] != current["capacity_gb"] and "capacity_gb" not in [f for f, _m in fixed]:
        updates.append("file_shares")
    if desired["labels"] != current["labels"]:
        updates.append("labels")
    if desired["description"] is not None and desired["description"] != current["description"]:
        updates.append("description")
    if desired["deletion_protection"] is not None and desired["deletion_protection"] != current["deletion_protection"]:
        updates.append("deletion_protection_enabled")
    return updates, fixed


def updated_view(before, desired, updates):
    """The instance view once the update-mask paths are applied."""
    after = dict(before)
    if "file_shares" in updates:
        after["capacity_gb"] = desired["capacity_gb"]
    if "labels" in updates:
        after["labels"] = desired["labels"]
    if "description" in updates:
        after["description"] = desired["description"]
    if "deletion_protection_enabled" in updates:
        after["deletion_protection"] = desired["deletion_protection"]
    return after


def build_instance(desired):
    """A filestore_v1.Instance for create."""
    network = filestore_v1.NetworkConfig(
        network=desired["network"], modes=[filestore_v1.NetworkConfig.AddressMode.MODE_IPV4],
        connect_mode=filestore_v1.NetworkConfig.ConnectMode[desired["connect_mode"]],
    )
    if desired["reserved_ip_range"]:
        network.reserved_ip_range = desired["reserved_ip_range"]
    instance = filestore_v1.Instance(
        tier=filestore_v1.Instance.Tier[desired["tier"]],
        file_shares=[filestore_v1.FileShareConfig(name=desired["share_name"], capacity_gb=desired["capacity_gb"])],
        networks=[network], labels=desired["labels"],
    )
    if desired["description"]:
        instance.description = desired["description"]
    if desired["deletion_protection"]:
        instance.deletion_protection_enabled = True
    return instance


def patch_instance(path, before, after):
    """A filestore_v1.Instance carrying the updatable settings of ``after``, for update_instance."""
    patch = filestore_v1.Instance(
        name=path, labels=after["labels"],
        file_shares=[filestore_v1.FileShareConfig(name=before["share_name"], capacity_gb=after["capacity_gb"])],
    )
    if after["description"]:
        patch.description = after["description"]
    patch.deletion_protection_enabled = bool(after["deletion_protection"])
    return patch

# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The Filestore share behind the NFS model cache: input checks, desired state, diff, and the manager.

``filestore_spec_errors(params)`` lists what is wrong before any API call; ``instance_view(instance)`` gives a plain
dict (with the IP and the CSI ``volume_handle`` a PersistentVolume needs); ``FilestoreManager`` creates, grows,
relabels or deletes an instance, waiting for the operation when asked, and never mutates in check mode.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import time

try:
    from google.api_core import exceptions as gexc
    from google.cloud import filestore_v1
    from google.protobuf import field_mask_pb2

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
ZONE = re.compile(r"^[a-z]+-[a-z]+[0-9]+-[a-z]$")
REGION = re.compile(r"^[a-z]+-[a-z]+[0-9]+$")
NETWORK = re.compile(r"^(?:projects/[a-z][-a-z0-9]{4,28}[a-z0-9]/global/networks/)?[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
CIDR = re.compile(r"^\d{1,3}(\.\d{1,3}){3}/\d{1,2}$")
LABEL_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
LABEL_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")


def share_name_pattern(tier):
    """File share names start with a letter and hold lowercase letters, digits and '_' (16 on basic tiers)."""
    limit = TIERS.get(tier, {}).get("share_max", 16)
    return re.compile(r"^[a-z][a-z0-9_]{0,%d}$" % (limit - 1))


def filestore_spec_errors(params):
    """Everything wrong with the options, each naming the option and what is accepted."""
    errors = []
    name = params.get("name") or ""
    if not INSTANCE_ID.match(name):
        errors.append("name %r must be 1-63 lowercase letters, digits and '-', starting with a letter" % name)
    tier = params.get("tier")
    location = params.get("location") or ""
    info = TIERS.get(tier)
    if params.get("state", "present") == "absent":
        if not (ZONE.match(location) or REGION.match(location)):
            errors.append("location %r must be a zone (us-central1-b) or a region (us-central1)" % location)
        return errors
    if info is None:
        errors.append("tier %r must be one of %s" % (tier, ", ".join(sorted(TIERS))))
        info = TIERS["BASIC_HDD"]
    if info["zonal"] and not ZONE.match(location):
        errors.append("location %r: tier %s is zonal, give a zone such as us-central1-b" % (location, tier))
    if not info["zonal"] and not REGION.match(location):
        errors.append("location %r: tier %s is regional, give a region such as us-central1" % (location, tier))
    capacity = params.get("capacity_gb")
    if capacity is None or not info["min"] <= capacity <= info["max"]:
        errors.append("capacity_gb %s is outside what tier %s allows (%d-%d GiB)"
                      % (capacity, tier, info["min"], info["max"]))
    share = params.get("share_name") or ""
    if not share_name_pattern(tier).match(share):
        errors.append("share_name %r must start with a lowercase letter and hold at most %d lowercase letters, "
                      "digits and '_'" % (share, info["share_max"]))
    if not NETWORK.match(params.get("network") or ""):
        errors.append("network %r must be a VPC name or projects/PROJECT/global/networks/NAME"
                      % (params.get("network"),))
    if params.get("reserved_ip_range") and params.get("connect_mode") == "DIRECT_PEERING" and not CIDR.match(
            params["reserved_ip_range"]):
        errors.append("reserved_ip_range %r must be a CIDR block such as 10.0.10.0/29 with DIRECT_PEERING"
                      % params["reserved_ip_range"])
    for key, value in (params.get("labels") or {}).items():
        if not LABEL_KEY.match(str(key)) or not LABEL_VALUE.match(str(value)):
            errors.append("labels %s=%s: keys start with a lowercase letter; keys and values hold at most 63 "
                          "lowercase letters, digits, '_' or '-'" % (key, value))
    return errors


def instance_path(project, location, name):
    """projects/P/locations/L/instances/N."""
    return "projects/%s/locations/%s/instances/%s" % (project, location, name)


def volume_handle(location, name, share):
    """The Filestore CSI driver's volumeHandle for a pre-existing instance."""
    return "modeInstance/%s/%s/%s" % (location, name, share)


def _enum_name(value):
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
        "tier": _enum_name(instance.tier),
        "capacity_gb": int(share.capacity_gb) if share else None,
        "share_name": share_name,
        "network": network.network if network else None,
        "connect_mode": _enum_name(network.connect_mode) if network else None,
        "reserved_ip_range": (network.reserved_ip_range or None) if network else None,
        "ip_address": network.ip_addresses[0] if network and network.ip_addresses else None,
        "labels": dict(instance.labels),
        "description": instance.description or None,
        "deletion_protection": bool(instance.deletion_protection_enabled),
        "state": _enum_name(instance.state),
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


def instance_changes(desired, current):
    """(in-place changes as update-mask paths, create-time-only differences as messages)."""
    updates, fixed = [], []
    for field in ("tier", "share_name", "connect_mode"):
        if desired[field] != current[field]:
            fixed.append("%s is %s, asked for %s" % (field, current[field], desired[field]))
    if _network_name(desired["network"]) != _network_name(current["network"]):
        fixed.append("network is %s, asked for %s" % (current["network"], desired["network"]))
    if desired["reserved_ip_range"] and desired["reserved_ip_range"] != current["reserved_ip_range"]:
        fixed.append("reserved_ip_range is %s, asked for %s"
                     % (current["reserved_ip_range"], desired["reserved_ip_range"]))
    if desired["capacity_gb"] != current["capacity_gb"]:
        if desired["capacity_gb"] < current["capacity_gb"] and not TIERS[current["tier"]]["shrink"]:
            fixed.append("capacity_gb is %s; a %s share cannot shrink (asked for %s)"
                         % (current["capacity_gb"], current["tier"], desired["capacity_gb"]))
        else:
            updates.append("file_shares")
    if desired["labels"] != current["labels"]:
        updates.append("labels")
    if desired["description"] is not None and desired["description"] != current["description"]:
        updates.append("description")
    if desired["deletion_protection"] is not None and desired["deletion_protection"] != current["deletion_protection"]:
        updates.append("deletion_protection_enabled")
    return updates, fixed


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


class FilestoreManager(object):
    """Converge one Filestore instance through a GcpModule for 'filestore'."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.path = instance_path(self.params["project"], self.params["location"], self.params["name"])

    def read(self):
        return self.module.call("read Filestore instance %s" % self.path, self.module.client.get_instance,
                                name=self.path, not_found_ok=True)

    def wait_operation(self, operation, action):
        """Wait for a long-running operation (api_core future) within wait_timeout; fail with its error."""
        if not self.params.get("wait"):
            return None
        try:
            return operation.result(timeout=self.params["wait_timeout"])
        except gexc.GoogleAPIError as exc:
            self.module.fail_api(action, exc)
        except TimeoutError:
            self.module.fail_json(msg="Timeout trying to %s after %s seconds; the operation continues in the "
                                      "background, run again to pick it up" % (action, self.params["wait_timeout"]))
        except Exception as exc:  # concurrent.futures.TimeoutError before 3.11
            if type(exc).__name__ == "TimeoutError":
                self.module.fail_json(msg="Timeout trying to %s after %s seconds" % (action,
                                                                                     self.params["wait_timeout"]))
            raise

    def wait_ready(self, instance):
        """An instance still CREATING (an earlier run that did not wait): poll until READY when waiting."""
        deadline = time.monotonic() + self.params["wait_timeout"]
        while self.params.get("wait") and _enum_name(instance.state) in ("CREATING", "REPAIRING", "RESTORING"):
            if time.monotonic() > deadline:
                self.module.fail_json(msg="Timeout trying to wait for Filestore instance %s to be READY (state %s)"
                                          % (self.path, _enum_name(instance.state)))
            time.sleep(max(0, self.params.get("poll_interval", 10)))
            instance = self.read()
        return instance

    def run(self):
        if not HAS_FILESTORE:
            from ansible.module_utils.basic import missing_required_lib

            self.module.fail_json(msg=missing_required_lib("google-cloud-filestore"))
        errors = filestore_spec_errors(self.params)
        if errors:
            self.module.fail_json(msg="Invalid filestore_instance options: %s" % "; ".join(errors), errors=errors)
        if self.params["state"] == "absent":
            return self.absent()
        return self.present()

    def present(self):
        desired = desired_instance(self.params)
        instance = self.read()
        if instance is None:
            after = dict(desired, ip_address=None, state="CREATING",
                         volume_handle=volume_handle(desired["location"], desired["name"], desired["share_name"]))
            if not self.module.check_mode:
                operation = self.module.call(
                    "create Filestore instance %s" % self.path, self.module.client.create_instance,
                    parent="projects/%s/locations/%s" % (self.params["project"], self.params["location"]),
                    instance_id=self.params["name"], instance=build_instance(desired))
                self.wait_operation(operation, "create Filestore instance %s" % self.path)
                if self.params.get("wait"):
                    after = instance_view(self.read(), self.params["location"])
            return dict(changed=True, changes=["(new instance)"], instance=after,
                        diff=dict(before=None, after=after))
        instance = self.wait_ready(instance)
        before = instance_view(instance, self.params["location"])
        updates, fixed = instance_changes(desired, before)
        if fixed:
            self.module.fail_json(
                msg="Filestore instance %s cannot change in place: %s. Create a new instance (another name) and "
                    "move the models; this module never deletes a share that holds data on its own."
                    % (self.path, "; ".join(fixed)), instance=before)
        after = dict(before)
        if "file_shares" in updates:
            after["capacity_gb"] = desired["capacity_gb"]
        if "labels" in updates:
            after["labels"] = desired["labels"]
        if "description" in updates:
            after["description"] = desired["description"]
        if "deletion_protection_enabled" in updates:
            after["deletion_protection"] = desired["deletion_protection"]
        if updates and not self.module.check_mode:
            patch = filestore_v1.Instance(
                name=self.path, labels=after["labels"],
                file_shares=[filestore_v1.FileShareConfig(name=before["share_name"],
                                                          capacity_gb=after["capacity_gb"])],
            )
            if after["description"]:
                patch.description = after["description"]
            patch.deletion_protection_enabled = bool(after["deletion_protection"])
            operation = self.module.call(
                "update Filestore instance %s (%s)" % (self.path, ", ".join(updates)),
                self.module.client.update_instance, instance=patch,
                update_mask=field_mask_pb2.FieldMask(paths=updates))
            self.wait_operation(operation, "update Filestore instance %s" % self.path)
            if self.params.get("wait"):
                after = instance_view(self.read(), self.params["location"])
        return dict(changed=bool(updates), changes=updates, instance=after, diff=dict(before=before, after=after))

    def absent(self):
        instance = self.read()
        if instance is None:
            return dict(changed=False, changes=[], instance=None, diff=dict(before=None, after=None))
        before = instance_view(instance, self.params["location"])
        if not self.module.check_mode:
            operation = self.module.call("delete Filestore instance %s" % self.path,
                                         self.module.client.delete_instance, name=self.path)
            self.wait_operation(operation, "delete Filestore instance %s" % self.path)
        return dict(changed=True, changes=["(deleted)"], instance=None, diff=dict(before=before, after=None))

# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The node pool a scale set runs on, as the catalog resolved it (pure; raises InputError naming ``node_pool``).

The scale set receives one scheduling profile (``gke.catalog.scheduling_profile``, the
``accelci.runners.scheduling_profile`` filter): this module checks its shape and adds ARC's own rule, that one
runner pod cannot span the VMs of a multi-host TPU slice. It types no GKE label or taint: the profile carries them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import InputError

FIELD = "node_pool"
KINDS = ("cpu", "tpu", "nvidia", "amd")
# key -> (accepted types, what to say about it)
_PROFILE_KEYS = {
    "pool": ((str,), "the pool's name"),
    "kind": ((str,), "one of %s" % ", ".join(KINDS)),
    "resource_name": ((str, type(None)), "the extended resource name or null"),
    "count": ((int,), "accelerators per node, an integer"),
    "node_selector": ((dict,), "a mapping of node labels"),
    "tolerations": ((list,), "a list of tolerations"),
    "supplemental_groups": ((list,), "a list of group IDs"),
    "devices": ((list,), "a list of device paths"),
    "spot": ((bool,), "true or false"),
    "gke": ((bool,), "true or false"),
    "details": ((dict,), "a mapping"),
}
_HOW = "pass the profile the accelci.runners.scheduling_profile filter returns for the pool"
# No node pool: a plain runner anywhere in the cluster (GKE assumed, for the DinD MTU).
_ANYWHERE = dict(pool=None, kind="cpu", resource_name=None, count=0, node_selector={}, tolerations=[],
                 supplemental_groups=[], devices=[], spot=False, gke=True, details={})


def _check_keys(profile):
    if not isinstance(profile, dict):
        raise InputError(FIELD, "must be a scheduling profile (a mapping), got %s; %s" % (type(profile).__name__, _HOW))
    if "name" in profile and "pool" not in profile:
        raise InputError(FIELD, "got a node pool entry (%s), not its scheduling profile; %s, for example "
                                "node_pool: \"{{ pool | accelci.runners.scheduling_profile }}\""
                         % (profile.get("name"), _HOW))
    unknown = sorted(set(profile) - set(_PROFILE_KEYS))
    missing = sorted(set(_PROFILE_KEYS) - set(profile))
    if unknown or missing:
        problems = (["unknown keys %s" % ", ".join(unknown)] if unknown else []) + (
            ["missing keys %s" % ", ".join(missing)] if missing else [])
        raise InputError(FIELD, "%s; a scheduling profile has exactly %s; %s"
                         % ("; ".join(problems), ", ".join(sorted(_PROFILE_KEYS)), _HOW))


def _check_values(profile):
    for key, (types, expected) in sorted(_PROFILE_KEYS.items()):
        value = profile[key]
        wrong_bool = isinstance(value, bool) and bool not in types
        if wrong_bool or not isinstance(value, types):
            raise InputError("%s.%s" % (FIELD, key), "must be %s, got %r" % (expected, value))
    if profile["kind"] not in KINDS:
        raise InputError(FIELD + ".kind", "must be one of %s, got %r" % (", ".join(KINDS), profile["kind"]))
    if profile["count"] < 0 or (profile["resource_name"] and profile["count"] < 1):
        raise InputError(FIELD + ".count", "must be at least 1 with resource_name %s, got %d"
                         % (profile["resource_name"], profile["count"]))
    if not all(isinstance(t, dict) for t in profile["tolerations"]):
        raise InputError(FIELD + ".tolerations", "must be a list of mappings")


def _refuse_multi_host(profile):
    details = profile["details"]
    if profile["kind"] == "tpu" and details.get("multi_host"):
        shape = (profile["pool"], details.get("gke_accelerator"), details.get("topology"), details.get("vms"),
                 details.get("chips_per_vm"))
        raise InputError(FIELD, "%s is a multi-host TPU slice (%s %s: %s VMs of %s chips); one runner pod cannot "
                                "span VMs, so a scale set needs a single-host pool (v6e 1x1, 2x2 or 2x4 on "
                                "ct6e-standard-8t)" % shape)


def runner_profile(profile):
    """The checked scheduling profile of the pool runner pods run on (a copy), or the anywhere profile for None.

    Raises InputError naming ``node_pool`` (or ``node_pool.<key>``) for anything that is not a scheduling profile,
    and for a multi-host TPU slice.
    """
    if profile is None:
        return copy.deepcopy(_ANYWHERE)
    _check_keys(profile)
    _check_values(profile)
    _refuse_multi_host(profile)
    return copy.deepcopy(profile)

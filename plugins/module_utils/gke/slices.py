# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""``slices: N`` on an ``accelci_node_pools`` entry: N identical multi-host TPU slices, one GKE node pool each.

GKE cannot add nodes to a multi-host slice pool, so more slices are more pools. Slice 1 is the pool named after the
entry; slice i (2..N) is ``<name>-s<i>``. Growing N keeps the existing pools; shrinking it leaves the extra pools in
place, reported as undeclared by the cluster role (never deleted without a flag). All slices carry the
``SLICE_GROUP_LABEL`` node label, which the entry's scheduling profile selects on.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import InputError
from ansible_collections.accelci.runners.plugins.module_utils.gke.catalog import SLICE_GROUP_LABEL, resolve_tpu
from ansible_collections.accelci.runners.plugins.module_utils.gke.names import validate_name

MAX_SLICES = 64


def slice_pool_name(name, index):
    """The GKE pool name of slice ``index`` (1-based) of the entry ``name``."""
    return name if index == 1 else "%s-s%d" % (name, index)


def _slice_count(entry):
    field = "accelci_node_pools[%s].slices" % entry.get("name")
    slices = entry.get("slices", 1)
    if isinstance(slices, bool) or not isinstance(slices, int) or not 1 <= slices <= MAX_SLICES:
        raise InputError(field, "%r is not accepted; accepted: a whole number from 1 to %d" % (slices, MAX_SLICES))
    if slices > 1:
        tpu = entry.get("tpu") or {}
        shape = resolve_tpu(tpu.get("accelerator"), tpu.get("topology"), tpu.get("machine_type")) if tpu else None
        if not shape or not shape["multi_host"]:
            raise InputError(field, "only multi-host TPU pools come in slices; other pools grow with "
                             "autoscaling.max_nodes (accepted here: 1)")
        validate_name(field, slice_pool_name(entry["name"], slices))
    return slices


def expand_slices(entries):
    """The GKE node pools a list of ``accelci_node_pools`` entries stands for, in order (entries off GKE included,
    unchanged). Each pool of a sliced entry has ``slice_of`` (the entry's name) and the group label.

    Raises InputError naming ``accelci_node_pools[NAME].slices``.
    """
    pools = []
    for entry in entries or []:
        if not isinstance(entry, dict):
            raise InputError("accelci_node_pools", "each entry must be a mapping with a name, got %r" % (entry,))
        slices = _slice_count(entry)
        if slices == 1:
            pools.append(entry)
            continue
        for index in range(1, slices + 1):
            pool = copy.deepcopy(entry)
            pool.pop("slices", None)
            pool["name"] = slice_pool_name(entry["name"], index)
            pool["slice_of"] = entry["name"]
            pool["labels"] = dict(entry.get("labels") or {}, **{SLICE_GROUP_LABEL: entry["name"]})
            pools.append(pool)
    names = [pool.get("name") for pool in pools]
    repeated = sorted(set(name for name in names if names.count(name) > 1))
    if repeated:
        raise InputError("accelci_node_pools", "pool names must be unique, slices included (NAME-s2, ...); "
                         "repeated: %s" % ", ".join(str(name) for name in repeated))
    return pools

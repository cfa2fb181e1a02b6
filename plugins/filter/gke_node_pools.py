# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The gke_node_pools filter: the GKE node pools an accelci_node_pools list stands for (docs in
gke_node_pools.yml)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.accelci.runners.plugins.module_utils.gke.catalog import scheduling_profile
from ansible_collections.accelci.runners.plugins.module_utils.gke.slices import expand_slices

_VARIABLE = "accelci_node_pools"


def gke_node_pools(entries):
    """Expand ``slices: N`` entries into one pool per slice."""
    if not isinstance(entries, list):
        raise AnsibleFilterError("accelci_node_pools: expected a list of node pool entries, got %s"
                                 % type(entries).__name__)
    try:
        return expand_slices(entries)
    except ValueError as exc:
        raise AnsibleFilterError(str(exc))


def _named(message):
    """Catalog messages say node_pools[NAME]...; name the inventory variable the user wrote."""
    text = str(message)
    return text if text.startswith(_VARIABLE) else (
        "accelci_" + text if text.startswith("node_pools") else "%s: %s" % (_VARIABLE, text))


def node_pool_problems(entries):
    """Every problem of the entries (catalog shapes, slices, names), as messages naming accelci_node_pools.

    For a preflight assert: an empty list means the filters scheduling_profiles and gke_node_pools will succeed.
    """
    if not isinstance(entries, list):
        return ["%s: expected a list of node pool entries, got %s" % (_VARIABLE, type(entries).__name__)]
    problems = []
    for entry in entries:
        try:
            scheduling_profile(entry)
        except ValueError as exc:
            problems.append(_named(exc))
    if not problems:
        try:
            expand_slices(entries)
        except ValueError as exc:
            problems.append(_named(exc))
    return problems


class FilterModule(object):
    """Node pool expansion and checks."""

    def filters(self):
        return {"gke_node_pools": gke_node_pools, "node_pool_problems": node_pool_problems}

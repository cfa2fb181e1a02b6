# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The scheduling_profile filter: the accelerator catalog's scheduling_profile for roles and templates
(docs in scheduling_profile.yml)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.accelci.runners.plugins.module_utils.gke.catalog import scheduling_profile as _profile


def scheduling_profile(pool):
    """Resolve one node pool entry of the estate to what a pod needs to run on it."""
    try:
        return _profile(pool)
    except ValueError as exc:
        raise AnsibleFilterError(str(exc))


def scheduling_profiles(pools):
    """Resolve every node pool entry of the estate; a mapping of pool name to profile."""
    if not isinstance(pools, list):
        raise AnsibleFilterError("node_pools: expected a list of node pool entries, got %s" % type(pools).__name__)
    return dict((profile["pool"], profile) for profile in (scheduling_profile(pool) for pool in pools))


class FilterModule(object):
    """Node pool scheduling filters."""

    def filters(self):
        return {"scheduling_profile": scheduling_profile, "scheduling_profiles": scheduling_profiles}

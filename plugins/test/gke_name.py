# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The gke_name test: GKE's name rule for clusters and node pools, for role preflights (docs in gke_name.yml)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.accelci.runners.plugins.module_utils.gke.names import is_valid_name


def gke_name(value):
    """True when GKE accepts value as a cluster or node pool name."""
    return is_valid_name(value)


class TestModule(object):
    """GKE name tests."""

    def tests(self):
        return {"gke_name": gke_name}

# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The arc_settings filter: the estate's accelci_arc with ARC's defaults filled in (docs in arc_settings.yml)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.accelci.runners.plugins.module_utils.arc.defaults import arc_settings as _arc_settings


def arc_settings(settings):
    """accelci_arc with every default filled in and the chart references derived."""
    try:
        return _arc_settings(settings)
    except ValueError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule(object):
    """ARC settings filters."""

    def filters(self):
        return {"arc_settings": arc_settings}

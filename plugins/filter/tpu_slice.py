# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The tpu_slice filter: the accelerator catalog's resolve_tpu for templates (docs in tpu_slice.yml)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.accelci.runners.plugins.module_utils.gke.catalog import resolve_tpu


def tpu_slice(accelerator, topology, machine_type=None):
    """Resolve a TPU generation (or node label value) and topology to its slice shape."""
    try:
        return resolve_tpu(accelerator, topology, machine_type=machine_type)
    except ValueError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule(object):
    """TPU slice filters."""

    def filters(self):
        return {"tpu_slice": tpu_slice}

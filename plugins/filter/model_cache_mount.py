# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The model_cache_mount filter: what runner pods need to mount the model cache (docs in model_cache_mount.yml)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.accelci.runners.plugins.module_utils.storage.model_cache import (
    model_cache_mount as _model_cache_mount,
)


def model_cache_mount(model_cache, namespace, service_account, gcsfuse=None, env=None):
    """The accelci_runner_model_cache dict for the estate's accelci_model_cache."""
    if model_cache is not None and not isinstance(model_cache, dict):
        raise AnsibleFilterError("accelci_model_cache: expected a mapping, got %s" % type(model_cache).__name__)
    try:
        return _model_cache_mount(model_cache, namespace, service_account, gcsfuse=gcsfuse, env=env)
    except ValueError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule(object):
    """Model cache filters."""

    def filters(self):
        return {"model_cache_mount": model_cache_mount}

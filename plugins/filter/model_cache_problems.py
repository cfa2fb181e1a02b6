# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The model_cache_problems filter: what the storage modules would refuse about the model cache (docs in
model_cache_problems.yml)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.accelci.runners.plugins.module_utils.storage.model_cache import (
    model_cache_problems as _model_cache_problems,
)


def model_cache_problems(model_cache, bucket_location=None, filestore=None):
    """Messages naming accelci_model_cache.<key> for everything gcs_bucket or filestore_instance would refuse."""
    if model_cache is not None and not isinstance(model_cache, dict):
        raise AnsibleFilterError("accelci_model_cache: expected a mapping, got %s" % type(model_cache).__name__)
    if filestore is not None and not isinstance(filestore, dict):
        raise AnsibleFilterError("accelci_model_cache.filestore: expected a mapping, got %s" % type(filestore).__name__)
    return _model_cache_problems(model_cache, bucket_location=bucket_location, filestore=filestore)


class FilterModule(object):
    """Model cache checks."""

    def filters(self):
        return {"model_cache_problems": model_cache_problems}

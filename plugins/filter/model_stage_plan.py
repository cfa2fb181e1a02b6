# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The model_stage_plan filter: the models role's checked, token-free plan (docs in model_stage_plan.yml)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.accelci.runners.plugins.module_utils.models.options import (
    model_stage_plan as _model_stage_plan,
)


def model_stage_plan(models, model_cache, settings=None):
    """The estate's models and model cache checked: {backend, dest, models, problems}."""
    if settings is not None and not isinstance(settings, dict):
        raise AnsibleFilterError("model_stage_plan: settings must be a mapping, got %s" % type(settings).__name__)
    return _model_stage_plan(models, model_cache, settings)


class FilterModule(object):
    """Model staging filters."""

    def filters(self):
        return {"model_stage_plan": model_stage_plan}

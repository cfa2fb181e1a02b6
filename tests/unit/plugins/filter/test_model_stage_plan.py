"""The model_stage_plan filter: the models module_utils' plan for the models role."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.accelci.runners.plugins.filter.model_stage_plan import FilterModule
from ansible_collections.accelci.runners.plugins.module_utils.models.options import model_stage_plan

FILTER = FilterModule().filters()["model_stage_plan"]


def test_same_answer_as_module_utils():
    models = [{"repo": "org/a", "token": "hf_x"}, {"repo": "org/b", "repo_type": "space"}]
    cache = {"backend": "gcs", "bucket": "acme-ci-models", "prefix": "hf"}
    assert FILTER(models, cache, {"concurrency": 4}) == model_stage_plan(models, cache, {"concurrency": 4})
    assert FILTER(models, cache)["problems"] == ["accelci_models[1].repo_type: 'space' is not supported: Spaces are "
                                                 "applications, not files to cache; only Hugging Face models and "
                                                 "datasets are staged (use model or dataset)"]


def test_settings_must_be_a_mapping():
    with pytest.raises(AnsibleFilterError, match="settings must be a mapping"):
        FILTER([], {"backend": "none"}, ["concurrency"])

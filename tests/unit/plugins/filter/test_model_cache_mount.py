"""The model_cache_mount filter: the storage module_utils' mount, with filter errors."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.accelci.runners.plugins.filter.model_cache_mount import FilterModule
from ansible_collections.accelci.runners.plugins.module_utils.storage.model_cache import model_cache_mount

FILTER = FilterModule().filters()["model_cache_mount"]


def test_same_answer_as_module_utils():
    cache = {"backend": "gcs", "bucket": "acme-ci-models"}
    assert FILTER(cache, "arc-runners", "arc-runner", gcsfuse={"cpu_limit": "1"}, env={"A": "b"}) == \
        model_cache_mount(cache, "arc-runners", "arc-runner", gcsfuse={"cpu_limit": "1"}, env={"A": "b"})


@pytest.mark.parametrize("cache, message", [
    ({"backend": "nfs"}, "accelci_model_cache.backend: must be one of gcs, filestore, none, got 'nfs'"),
    ("gcs", "accelci_model_cache: expected a mapping"),
])
def test_errors_name_the_estate_variable(cache, message):
    with pytest.raises(AnsibleFilterError, match=message):
        FILTER(cache, "arc-runners", "arc-runner")

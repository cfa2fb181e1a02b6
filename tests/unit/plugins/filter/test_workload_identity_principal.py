"""The workload_identity_principal filter: the runner principal format, built in one place."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.accelci.runners.plugins.filter.workload_identity_principal import FilterModule
from tests.unit.recorded_http import recorded

FILTER = FilterModule().filters()["workload_identity_principal"]


def test_runner_principal():
    assert FILTER("arc-runner", "arc-runners", "acme-ci", "123456789012") == \
        recorded("gcs_bucket_acme_ci_models.json")["runner_principal"]
    assert FILTER("arc-runner", "arc-runners", "acme-ci", 123456789012).startswith(
        "principal://iam.googleapis.com/projects/123456789012/")


@pytest.mark.parametrize("args, message", [
    (("arc-runner", "arc-runners", "acme-ci", ""), "accelci_project_number"),
    (("arc-runner", "arc-runners", "acme-ci", "12ab"), "accelci_project_number"),
    (("", "arc-runners", "acme-ci", "1"), "service_account is empty"),
])
def test_refuses_what_iam_would(args, message):
    with pytest.raises(AnsibleFilterError, match=message):
        FILTER(*args)

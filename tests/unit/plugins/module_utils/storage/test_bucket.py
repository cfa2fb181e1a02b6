"""storage.bucket: the pure side of gcs_bucket - input checks naming the option, the diff, the IAM bindings and the
runners' workload identity principal."""

import pytest

from ansible_collections.accelci.runners.plugins.module_utils.storage import bucket
from tests.unit.recorded_http import recorded

REC = recorded("gcs_bucket_acme_ci_models.json")
RUNNER = REC["runner_principal"]
STAGER = REC["stager_member"]


def options(**overrides):
    base = {"name": "acme-ci-models", "state": "present", "location": "US-CENTRAL1", "readers": [RUNNER],
            "writers": [STAGER], "reader_role": bucket.READER_ROLE, "writer_role": bucket.WRITER_ROLE}
    base.update(overrides)
    return base


def test_workload_identity_principal_format():
    assert bucket.workload_identity_principal("123456789012", "acme-ci", "arc-runners", "arc-runner") == RUNNER


def test_good_options_have_no_errors():
    assert bucket.bucket_input_errors(options()) == []


@pytest.mark.parametrize("overrides, field", [
    ({"name": "Acme_Models"}, "name"),
    ({"location": "us-central1-b"}, "location"),
    ({"storage_class": "HOT"}, "storage_class"),
    ({"soft_delete_retention_days": 3}, "soft_delete_retention_days"),
    ({"abort_incomplete_uploads_days": 0}, "abort_incomplete_uploads_days"),
    ({"lifecycle_rules": [{"action": {"type": "Delete"}, "condition": {}}]}, "lifecycle_rules"),
    ({"labels": {"Team": "x"}}, "labels"),
    ({"readers": ["allUsers"]}, "readers"),
    ({"writers": [RUNNER]}, "writers"),
    ({"reader_role": "storage.objectViewer"}, "reader_role"),
    ({"writer_role": bucket.READER_ROLE}, "writer_role"),
])
def test_each_error_names_its_option(overrides, field):
    errors = bucket.bucket_input_errors(options(**overrides))
    assert [option for option, _message in errors] == [field]
    assert field in errors[0][1]


def test_absent_checks_only_the_name():
    assert bucket.bucket_input_errors({"name": "acme-ci-models", "state": "absent", "location": "nowhere"}) == []


def test_create_time_conflicts():
    current = {"location": "US-CENTRAL1", "hierarchical_namespace": False}
    desired = {"name": "b-1", "location": "EU", "hierarchical_namespace": True}
    assert [option for option, _m in bucket.create_time_conflicts(desired, current)] == [
        "location", "hierarchical_namespace"]
    assert bucket.create_time_conflicts(dict(desired, location=None, hierarchical_namespace=None), current) == []


def test_desired_bindings_keeps_conditional_and_other_roles():
    current = [{"role": "roles/storage.objectViewer", "members": {"user:bob@acme.example"},
                "condition": {"title": "temp", "expression": "request.time < timestamp('2027-01-01T00:00:00Z')"}},
               {"role": "roles/storage.admin", "members": {"group:storage-admins@acme.example"}}]
    result = bucket.desired_bindings(current, [RUNNER], [STAGER], exclusive=True)
    assert result == [
        {"role": "roles/storage.objectViewer", "members": ["user:bob@acme.example"],
         "condition": current[0]["condition"]},
        {"role": "roles/storage.admin", "members": ["group:storage-admins@acme.example"]},
        {"role": "roles/storage.objectViewer", "members": [RUNNER]},
        {"role": "roles/storage.objectUser", "members": [STAGER]},
    ]


def test_desired_bindings_folds_a_second_binding_of_a_managed_role():
    current = [{"role": bucket.WRITER_ROLE, "members": ["user:a@acme.example"]},
               {"role": bucket.WRITER_ROLE, "members": ["user:b@acme.example", RUNNER]}]
    assert bucket.desired_bindings(current, [RUNNER], [STAGER]) == [
        {"role": bucket.WRITER_ROLE, "members": sorted([STAGER, "user:a@acme.example", "user:b@acme.example"])},
        {"role": bucket.READER_ROLE, "members": [RUNNER]},
    ]


def test_bucket_changes_ignores_unmanaged_fields():
    desired = bucket.desired_bucket({"name": "b-1", "location": "us", "labels": None,
                                     "uniform_bucket_level_access": True, "public_access_prevention": "enforced"})
    current = {"location": "US", "uniform_bucket_level_access": True, "public_access_prevention": "enforced",
               "labels": {"x": "y"}, "lifecycle_rules": [{"action": {"type": "Delete"}, "condition": {"age": 3}}]}
    assert bucket.bucket_changes(desired, current) == []


def test_lifecycle_from_options():
    assert bucket.desired_bucket({"name": "b-1"})["lifecycle_rules"] is None
    assert bucket.desired_bucket({"name": "b-1", "noncurrent_version_retention_days": 3, "lifecycle_rules": [
        {"action": {"type": "SetStorageClass", "storageClass": "nearline"}, "condition": {"age": "30"}}]})[
        "lifecycle_rules"] == [
        {"action": {"type": "Delete"}, "condition": {"daysSinceNoncurrentTime": 3, "isLive": False}},
        {"action": {"type": "SetStorageClass", "storageClass": "NEARLINE"}, "condition": {"age": 30}},
    ]

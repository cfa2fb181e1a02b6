"""gcs_bucket against recorded Cloud Storage JSON API responses (what fake-gcs-server cannot answer: IAM policies,
iamConfiguration, labels, lifecycle, soft delete). The pure functions are tested in module_utils/storage."""

import copy
import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.accelci.runners.plugins.module_utils._common.retries import RetryPolicy
from ansible_collections.accelci.runners.plugins.module_utils.storage import bucket_manager
from ansible_collections.accelci.runners.plugins.modules import gcs_bucket
from tests.unit.recorded_http import RecordedHttp, recorded

REC = recorded("gcs_bucket_acme_ci_models.json")
RUNNER = REC["runner_principal"]
STAGER = REC["stager_member"]
BUCKET = "/storage/v1/b/acme-ci-models"
IAM = BUCKET + "/iam"


def rec(name, status=200, **changes):
    body = copy.deepcopy(REC[name])
    body.update(changes)
    return (status, body)


@pytest.fixture
def fast_retries(monkeypatch):
    """Retry timing is the tests' to choose, in-process: no wait between retried calls."""
    monkeypatch.setattr(RetryPolicy, "DEFAULT_BASE", 0.0)


@pytest.fixture
def gcs(monkeypatch, fast_retries):
    """Recorded Cloud Storage answers. They come over plain HTTP from the replay server, which the module would take
    for fake-gcs-server; these answers are Cloud Storage's, so every setting and the IAM policy apply."""
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    monkeypatch.setattr(bucket_manager, "is_fake_gcs_server", lambda params: False)
    with RecordedHttp() as server:
        yield server


def run(server, capsys, check_mode=False, **options):
    args = {"project": "acme-ci", "name": "acme-ci-models", "location": "us-central1", "api_endpoint": server.endpoint,
            "soft_delete_retention_days": 7, "abort_incomplete_uploads_days": 1,
            "labels": {"accelci-model-cache": "gcs"}, "readers": [RUNNER], "writers": [STAGER],
            "_ansible_check_mode": check_mode, "_ansible_diff": True}
    args.update(options)
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            gcs_bucket.main()
    return json.loads(capsys.readouterr().out)


def mutating(server):
    return [c for c in server.calls() if not c.startswith("GET ")]


def put_bindings(server):
    puts = [r for r in server.requests if r["method"] == "PUT" and r["path"] == IAM]
    # The order of bindings carries no meaning; compare them sorted by role.
    return sorted((dict(role=b["role"], members=sorted(b["members"])) for b in puts[-1]["body"]["bindings"]),
                  key=lambda b: b["role"])


def test_create_sets_everything_and_exact_bindings(gcs, capsys):
    gcs.route("GET " + BUCKET, rec("bucket_not_found", 404))
    gcs.route("POST /storage/v1/b", rec("bucket_created"))
    gcs.route("GET " + IAM, rec("policy_default"))
    gcs.route("PUT " + IAM, rec("policy_configured"))
    result = run(gcs, capsys)
    assert result["changed"] is True
    assert mutating(gcs) == ["POST /storage/v1/b", "PUT " + IAM]
    create = [r for r in gcs.requests if r["method"] == "POST"][0]
    assert create["query"]["project"] == "acme-ci"
    body = create["body"]
    assert body["name"] == "acme-ci-models" and body["location"] == "US-CENTRAL1"
    assert body["iamConfiguration"]["uniformBucketLevelAccess"]["enabled"] is True
    assert body["iamConfiguration"]["publicAccessPrevention"] == "enforced"
    assert int(body["softDeletePolicy"]["retentionDurationSeconds"]) == 604800
    assert body["labels"] == {"accelci-model-cache": "gcs"}
    assert body["lifecycle"] == {"rule": [{"action": {"type": "AbortIncompleteMultipartUpload"},
                                           "condition": {"age": 1}}]}
    assert "hierarchicalNamespace" not in body
    put = [r for r in gcs.requests if r["method"] == "PUT"][0]
    assert put["body"]["etag"] == "CAE=" and put["body"]["version"] == 3
    assert put_bindings(gcs) == [
        {"role": "roles/storage.legacyBucketOwner", "members": ["projectEditor:acme-ci", "projectOwner:acme-ci"]},
        {"role": "roles/storage.legacyBucketReader", "members": ["projectViewer:acme-ci"]},
        {"role": "roles/storage.objectUser", "members": [STAGER]},
        {"role": "roles/storage.objectViewer", "members": [RUNNER]},
    ]
    # The runner principal holds exactly one role, the read-only one.
    assert [b["role"] for b in put_bindings(gcs) if RUNNER in b["members"]] == ["roles/storage.objectViewer"]
    assert result["bucket"]["iam_bindings"]["roles/storage.objectViewer"] == [RUNNER]


def test_second_run_changes_nothing(gcs, capsys):
    gcs.route("GET " + BUCKET, rec("bucket_configured"))
    gcs.route("GET " + IAM, rec("policy_configured"))
    result = run(gcs, capsys)
    assert result["changed"] is False and result["changes"] == []
    assert mutating(gcs) == []
    assert result["diff"]["before"] == result["diff"]["after"]
    # The policy is read as version 3 (conditional bindings visible).
    iam_read = [r for r in gcs.requests if r["path"] == IAM][0]
    assert iam_read["query"]["optionsRequestedPolicyVersion"] == "3"


def test_check_mode_makes_no_mutating_call(gcs, capsys):
    gcs.route("GET " + BUCKET, rec("bucket_default"))
    gcs.route("GET " + IAM, rec("policy_default"))
    result = run(gcs, capsys, check_mode=True)
    assert result["changed"] is True
    assert set(result["changes"]) == {"uniform_bucket_level_access", "public_access_prevention", "lifecycle_rules",
                                      "labels", "iam_bindings"}
    assert mutating(gcs) == []


def test_check_mode_on_missing_bucket_reads_once(gcs, capsys):
    gcs.route("GET " + BUCKET, rec("bucket_not_found", 404))
    result = run(gcs, capsys, check_mode=True)
    assert result["changed"] is True and mutating(gcs) == [] and gcs.calls() == ["GET " + BUCKET]
    assert result["diff"]["after"]["iam_bindings"] == {"roles/storage.objectUser": [STAGER],
                                                       "roles/storage.objectViewer": [RUNNER]}


def test_hand_made_bucket_is_patched_with_metageneration(gcs, capsys):
    gcs.route("GET " + BUCKET, rec("bucket_default"))
    gcs.route("PATCH " + BUCKET, rec("bucket_configured"))
    gcs.route("GET " + IAM, rec("policy_configured"))
    result = run(gcs, capsys)
    assert result["changed"] is True
    assert mutating(gcs) == ["PATCH " + BUCKET]
    patch = [r for r in gcs.requests if r["method"] == "PATCH"][0]
    assert patch["query"]["ifMetagenerationMatch"] == "1"
    assert set(patch["body"]) == {"iamConfiguration", "labels", "lifecycle"}
    assert patch["body"]["iamConfiguration"]["uniformBucketLevelAccess"]["enabled"] is True
    assert patch["body"]["iamConfiguration"]["publicAccessPrevention"] == "enforced"
    assert result["diff"]["before"]["uniform_bucket_level_access"] is False
    assert result["diff"]["after"]["uniform_bucket_level_access"] is True


def test_labels_merge_unless_purged(gcs, capsys):
    gcs.route("GET " + BUCKET, rec("bucket_configured"))
    gcs.route("GET " + IAM, rec("policy_configured"))
    assert run(gcs, capsys)["changed"] is False  # team=ml-infra, set by someone else, is kept
    gcs.route("PATCH " + BUCKET, rec("bucket_configured"))
    result = run(gcs, capsys, purge_labels=True)
    assert result["changes"] == ["labels"]
    patch = [r for r in gcs.requests if r["method"] == "PATCH"][0]
    assert patch["body"]["labels"] == {"accelci-model-cache": "gcs", "team": None}


def test_runner_removed_from_writer_role(gcs, capsys):
    gcs.route("GET " + BUCKET, rec("bucket_configured"))
    gcs.route("GET " + IAM, rec("policy_runner_can_write"))
    gcs.route("PUT " + IAM, rec("policy_configured"))
    result = run(gcs, capsys)
    assert result["changes"] == ["iam_bindings"]
    bindings = put_bindings(gcs)
    assert {"role": "roles/storage.objectUser", "members": [STAGER, "user:alice@acme.example"]} in bindings
    assert [b["role"] for b in bindings if RUNNER in b["members"]] == ["roles/storage.objectViewer"]


def test_exclusive_removes_other_members_of_managed_roles_only(gcs, capsys):
    gcs.route("GET " + BUCKET, rec("bucket_configured"))
    gcs.route("GET " + IAM, rec("policy_runner_can_write"))
    gcs.route("PUT " + IAM, rec("policy_configured"))
    run(gcs, capsys, iam_exclusive=True)
    assert put_bindings(gcs) == [
        {"role": "roles/storage.legacyBucketOwner", "members": ["projectEditor:acme-ci", "projectOwner:acme-ci"]},
        {"role": "roles/storage.legacyBucketReader", "members": ["projectViewer:acme-ci"]},
        {"role": "roles/storage.objectUser", "members": [STAGER]},
        {"role": "roles/storage.objectViewer", "members": [RUNNER]},
    ]


def test_stale_etag_rereads_policy(gcs, capsys):
    gcs.route("GET " + BUCKET, rec("bucket_configured"))
    gcs.route("GET " + IAM, rec("policy_default"), rec("policy_default", etag="CAF="))
    gcs.route("PUT " + IAM, rec("precondition_failed", 412), rec("policy_configured"))
    result = run(gcs, capsys)
    assert result["changed"] is True
    assert gcs.calls() == ["GET " + BUCKET, "GET " + IAM, "PUT " + IAM, "GET " + IAM, "PUT " + IAM]
    etags = [r["body"]["etag"] for r in gcs.requests if r["method"] == "PUT"]
    assert etags == ["CAE=", "CAF="]


def test_permission_error_is_named(gcs, capsys):
    gcs.route("GET " + BUCKET, rec("bucket_configured"))
    gcs.route("GET " + IAM, rec("policy_default"))
    gcs.route("PUT " + IAM, rec("forbidden", 403))
    result = run(gcs, capsys)
    assert result["failed"] is True
    assert result["msg"].startswith("Failed to set the IAM policy of bucket acme-ci-models: HTTP 403")
    assert "storage.buckets.setIamPolicy" in result["msg"]


def test_location_change_refused_without_write(gcs, capsys):
    gcs.route("GET " + BUCKET, rec("bucket_configured"))
    result = run(gcs, capsys, location="EU")
    assert result["failed"] is True and "cannot change" in result["msg"] and "US-CENTRAL1" in result["msg"]
    assert result["field"] == "location"
    assert mutating(gcs) == []


def test_hierarchical_namespace_change_refused(gcs, capsys):
    gcs.route("GET " + BUCKET, rec("bucket_configured"))
    result = run(gcs, capsys, hierarchical_namespace=True)
    assert result["failed"] is True and "only be chosen when the bucket is created" in result["msg"]
    assert mutating(gcs) == []


@pytest.mark.parametrize("options, message", [
    ({"name": "Acme_Models"}, "name 'Acme_Models' may contain only lowercase"),
    ({"name": "ab"}, "3-63 characters"),
    ({"name": "google-models"}, "contain 'google'"),
    ({"location": "us-central1-b"}, "location 'us-central1-b' is not a Cloud Storage location"),
    ({"soft_delete_retention_days": 3}, "soft_delete_retention_days must be 0 (off) or 7-90"),
    ({"readers": ["allUsers"]}, "would make the bucket public"),
    ({"readers": ["arc-runner"]}, "is not an IAM principal"),
    ({"writers": [RUNNER]}, "runner principals must be read-only"),
    ({"labels": {"Team": "x"}}, "labels key 'Team'"),
    ({"hierarchical_namespace": True, "uniform_bucket_level_access": False}, "needs uniform_bucket_level_access"),
    ({"lifecycle_rules": [{"action": {"type": "Delete"}, "condition": {"agee": 3}}]}, "unknown condition agee"),
])
def test_invalid_input_refused_before_any_call(gcs, capsys, options, message):
    result = run(gcs, capsys, **options)
    assert result["failed"] is True and message in result["msg"]
    assert gcs.requests == []


def test_no_emulator_option(capsys, monkeypatch):
    # fake-gcs-server is recognised by its endpoint; there is no option to say so.
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    args = {"project": "acme-ci", "name": "acme-ci-models", "location": "US", "emulator": True,
            "api_endpoint": "https://storage.googleapis.com", "auth_kind": "accesstoken", "access_token": "x"}
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            gcs_bucket.main()
    result = json.loads(capsys.readouterr().out)
    assert result["failed"] is True and "emulator" in result["msg"] and "Unsupported parameters" in result["msg"]
    assert "emulator" not in gcs_bucket.DOCUMENTATION


@pytest.mark.parametrize("endpoint, fake", [
    ("http://127.0.0.1:4443", True), ("https://storage.googleapis.com", False), (None, False)])
def test_plain_http_endpoint_is_fake_gcs_server(endpoint, fake):
    assert bucket_manager.is_fake_gcs_server({"api_endpoint": endpoint}) is fake


def test_plain_http_endpoint_reports_what_it_cannot_apply(capsys, monkeypatch, fast_retries):
    # Without the fixture's override: the same replay server, taken for fake-gcs-server.
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    args = {"project": "acme-ci", "name": "acme-ci-models", "location": "US-CENTRAL1", "labels": {"a": "b"},
            "readers": [RUNNER], "writers": [STAGER]}
    with RecordedHttp() as server:
        server.route("GET " + BUCKET, rec("bucket_default"))
        with patch_module_args(dict(args, api_endpoint=server.endpoint)):
            with pytest.raises(SystemExit):
                gcs_bucket.main()
        assert server.calls() == ["GET " + BUCKET]  # no IAM read, no PATCH of settings it does not store
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert result["changed"] is False
    assert "iam_bindings" in result["not_applied"] and "labels" in result["not_applied"]
    assert result["iam_bindings_not_applied"] == {"roles/storage.objectUser": [STAGER],
                                                  "roles/storage.objectViewer": [RUNNER]}
    # The warning is in the result, or printed directly when a controller is loaded in the same process.
    assert "IAM bindings not applied (fake-gcs-server has no IAM)" in json.dumps(result.get("warnings")) + captured.err


def test_invalid_input_names_the_option(gcs, capsys):
    result = run(gcs, capsys, location="us-central1-b", soft_delete_retention_days=3)
    assert result["field"] == "location"
    assert result["errors"] == [
        "location 'us-central1-b' is not a Cloud Storage location: use a region (US-CENTRAL1, EUROPE-WEST4, ...), "
        "a dual-region (ASIA1, EUR4, EUR5, EUR7, EUR8, NAM4) or a multi-region (US, EU, ASIA); a zone is not a bucket "
        "location",
        "soft_delete_retention_days must be 0 (off) or 7-90, got 3"]


def test_delete_non_empty_needs_flag(gcs, capsys):
    gcs.route("GET " + BUCKET, rec("bucket_configured"))
    gcs.route("GET " + BUCKET + "/o", rec("objects_one"))
    result = run(gcs, capsys, state="absent")
    assert result["failed"] is True and "delete_objects=true" in result["msg"]
    assert result["field"] == "delete_objects"
    assert "Wan-AI/Wan2.1-T2V-1.3B-Diffusers" in result["msg"]
    assert mutating(gcs) == []


def test_delete_empty_bucket(gcs, capsys):
    gcs.route("GET " + BUCKET, rec("bucket_configured"))
    gcs.route("GET " + BUCKET + "/o", rec("objects_none"))
    gcs.route("DELETE " + BUCKET, (204, None))
    check = run(gcs, capsys, state="absent", check_mode=True)
    assert check["changed"] is True and mutating(gcs) == []
    result = run(gcs, capsys, state="absent")
    assert result["changed"] is True and mutating(gcs) == ["DELETE " + BUCKET]


def test_absent_bucket_is_unchanged(gcs, capsys):
    gcs.route("GET " + BUCKET, rec("bucket_not_found", 404))
    assert run(gcs, capsys, state="absent")["changed"] is False

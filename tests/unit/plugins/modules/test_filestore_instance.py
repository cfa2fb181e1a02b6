"""filestore_instance against recorded Filestore v1 REST responses (the real client over HTTP, operations included)."""

import copy
import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.accelci.runners.plugins.module_utils._common.retries import RetryPolicy
from ansible_collections.accelci.runners.plugins.modules import filestore_instance
from tests.unit.recorded_http import RecordedHttp, recorded

REC = recorded("filestore_sglang_models.json")
INSTANCE = "/v1/" + REC["instance_path"]
INSTANCES = INSTANCE.rsplit("/", 1)[0]


def rec(name, status=200):
    return (status, copy.deepcopy(REC[name]))


def op_path(key):
    return "/v1/" + REC[key]


@pytest.fixture
def api(monkeypatch):
    monkeypatch.delenv("ACCELCI_FILESTORE_API_ENDPOINT", raising=False)
    # Retry timing is the tests' to choose, in-process: no wait between retried calls.
    monkeypatch.setattr(RetryPolicy, "DEFAULT_BASE", 0.0)
    with RecordedHttp() as server:
        yield server


def run(server, capsys, check_mode=False, **options):
    args = {"project": "acme-ci", "location": "us-central1-b", "name": "sglang-models", "tier": "BASIC_HDD",
            "capacity_gb": 1024, "share_name": "models", "network": "default",
            "labels": {"accelci-model-cache": "filestore"}, "api_endpoint": server.endpoint,
            "poll_interval": 0, "_ansible_check_mode": check_mode, "_ansible_diff": True}
    args.update(options)
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            filestore_instance.main()
    return json.loads(capsys.readouterr().out)


def mutating(server):
    return [c for c in server.calls() if not c.startswith("GET ")]


def test_create_waits_and_returns_ip_and_volume_handle(api, capsys):
    api.route("GET " + INSTANCE, rec("instance_not_found", 404), rec("instance_ready"))
    api.route("POST " + INSTANCES, rec("op_create"))
    api.route("GET " + op_path("operation_create"), rec("op_create_done"))
    result = run(api, capsys)
    assert result["changed"] is True
    assert mutating(api) == ["POST " + INSTANCES]
    create = [r for r in api.requests if r["method"] == "POST"][0]
    assert create["query"]["instanceId"] == "sglang-models"
    body = create["body"]
    # enum-encoding=int: the REST client sends enums as numbers (BASIC_HDD=3, DIRECT_PEERING=1, MODE_IPV4=1).
    assert body["tier"] == 3
    assert body["fileShares"] == [{"name": "models", "capacityGb": "1024"}]
    assert body["networks"] == [{"network": "default", "modes": [1], "connectMode": 1}]
    assert body["labels"] == {"accelci-model-cache": "filestore"}
    instance = result["instance"]
    assert instance["ip_address"] == "10.24.0.2"
    assert instance["volume_handle"] == "modeInstance/us-central1-b/sglang-models/models"
    assert instance["state"] == "READY"


def test_second_run_changes_nothing(api, capsys):
    api.route("GET " + INSTANCE, rec("instance_ready"))
    result = run(api, capsys)
    assert result["changed"] is False and mutating(api) == []
    assert result["instance"]["ip_address"] == "10.24.0.2"


def test_check_mode_makes_no_mutating_call(api, capsys):
    api.route("GET " + INSTANCE, rec("instance_not_found", 404))
    result = run(api, capsys, check_mode=True)
    assert result["changed"] is True and mutating(api) == []
    api.route("GET " + INSTANCE, rec("instance_ready"))
    result = run(api, capsys, check_mode=True, capacity_gb=2048)
    assert result["changed"] is True and result["changes"] == ["file_shares"] and mutating(api) == []


def test_grow_updates_with_mask(api, capsys):
    api.route("GET " + INSTANCE, rec("instance_ready"), rec("instance_grown"))
    api.route("PATCH " + INSTANCE, rec("op_update"))
    api.route("GET " + op_path("operation_update"), rec("op_update_done"))
    result = run(api, capsys, capacity_gb=2048)
    assert result["changes"] == ["file_shares"]
    patch = [r for r in api.requests if r["method"] == "PATCH"][0]
    assert patch["query"]["updateMask"] == "fileShares"
    assert patch["body"]["fileShares"] == [{"name": "models", "capacityGb": "2048"}]
    assert result["diff"]["before"]["capacity_gb"] == 1024 and result["diff"]["after"]["capacity_gb"] == 2048


def test_basic_share_cannot_shrink_and_tier_is_fixed(api, capsys):
    api.route("GET " + INSTANCE, rec("instance_grown"))
    result = run(api, capsys, capacity_gb=1024)
    assert result["failed"] is True and "cannot shrink" in result["msg"] and result["field"] == "capacity_gb"
    assert result["instance"]["capacity_gb"] == 2048
    result = run(api, capsys, tier="BASIC_SSD", capacity_gb=2560)
    assert result["failed"] is True and "tier is BASIC_HDD, asked for BASIC_SSD" in result["msg"]
    assert result["field"] == "tier"
    assert mutating(api) == []


def test_failed_operation_is_reported(api, capsys):
    api.route("GET " + INSTANCE, rec("instance_not_found", 404))
    api.route("POST " + INSTANCES, rec("op_create"))
    api.route("GET " + op_path("operation_create"), rec("op_create_quota_failed"))
    result = run(api, capsys)
    assert result["failed"] is True
    assert "BasicHddCapacityPerRegion" in result["msg"]


def test_creating_instance_is_waited_for(api, capsys):
    api.route("GET " + INSTANCE, rec("instance_creating"), rec("instance_ready"))
    result = run(api, capsys)
    assert result["changed"] is False and result["instance"]["ip_address"] == "10.24.0.2"
    assert api.calls() == ["GET " + INSTANCE, "GET " + INSTANCE]


def test_delete(api, capsys):
    api.route("GET " + INSTANCE, rec("instance_ready"))
    api.route("DELETE " + INSTANCE, rec("op_delete"))
    api.route("GET " + op_path("operation_delete"), rec("op_delete_done"))
    assert run(api, capsys, state="absent", check_mode=True)["changed"] is True
    assert mutating(api) == []
    assert run(api, capsys, state="absent")["changed"] is True
    assert mutating(api) == ["DELETE " + INSTANCE]


@pytest.mark.parametrize("options, field, message", [
    ({"name": "Models"}, "name", "name 'Models' must be 1-63"),
    ({"location": "us-central1"}, "location", "tier BASIC_HDD is zonal"),
    ({"tier": "ENTERPRISE"}, "location", "tier ENTERPRISE is regional"),
    ({"capacity_gb": 100}, "capacity_gb", "capacity_gb 100 is outside what tier BASIC_HDD allows (1024-65434 GiB)"),
    ({"tier": "BASIC_SSD"}, "capacity_gb", "capacity_gb 1024 is outside what tier BASIC_SSD allows"),
    ({"share_name": "models-share"}, "share_name", "share_name 'models-share'"),
    ({"share_name": "a_very_long_share_name"}, "share_name", "at most 16"),
    ({"network": "Bad Net"}, "network", "network 'Bad Net'"),
])
def test_invalid_input_refused_before_any_call(api, capsys, options, field, message):
    result = run(api, capsys, **options)
    assert result["failed"] is True and message in result["msg"]
    assert result["field"] == field and any(message in error for error in result["errors"])
    assert api.requests == []

"""storage.filestore: the pure side of filestore_instance - input checks naming the option and the diff."""

import pytest

from ansible_collections.accelci.runners.plugins.module_utils.storage import filestore


def options(**overrides):
    base = {"name": "sglang-models", "location": "us-central1-b", "state": "present", "tier": "BASIC_HDD",
            "capacity_gb": 1024, "share_name": "models", "network": "default", "connect_mode": "DIRECT_PEERING",
            "reserved_ip_range": None, "labels": {}, "description": None, "deletion_protection": None}
    base.update(overrides)
    return base


def test_volume_handle_format():
    assert filestore.volume_handle("us-central1-b", "sglang-models", "models") == \
        "modeInstance/us-central1-b/sglang-models/models"


@pytest.mark.parametrize("overrides, field", [
    ({"name": "Models"}, "name"),
    ({"tier": "FAST"}, "tier"),
    ({"location": "us-central1"}, "location"),
    ({"capacity_gb": 100}, "capacity_gb"),
    ({"share_name": "models-share"}, "share_name"),
    ({"network": "Bad Net"}, "network"),
    ({"reserved_ip_range": "10.0.0.0"}, "reserved_ip_range"),
    ({"labels": {"Team": "x"}}, "labels"),
])
def test_each_error_names_its_option(overrides, field):
    assert [option for option, _message in filestore.filestore_input_errors(options(**overrides))] == [field]


def test_instance_changes_split_updates_from_create_time_settings():
    current = dict(filestore.desired_instance(options(capacity_gb=2048)), state="READY", ip_address="10.24.0.2")
    updates, fixed = filestore.instance_changes(filestore.desired_instance(options(capacity_gb=4096)), current)
    assert updates == ["file_shares"] and fixed == []
    updates, fixed = filestore.instance_changes(filestore.desired_instance(options(tier="ZONAL")), current)
    assert [option for option, _m in fixed] == ["tier", "capacity_gb"]
    assert "file_shares" not in updates


def test_updated_view_applies_the_mask():
    before = {"capacity_gb": 1024, "labels": {}, "description": None, "deletion_protection": False}
    desired = {"capacity_gb": 2048, "labels": {"a": "b"}, "description": "x", "deletion_protection": True}
    assert filestore.updated_view(before, desired, ["file_shares", "labels"]) == dict(
        before, capacity_gb=2048, labels={"a": "b"})

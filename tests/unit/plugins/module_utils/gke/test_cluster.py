"""Cluster request building, input checks and the list of in-place changes (no server)."""

import pytest

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import InputError
from ansible_collections.accelci.runners.plugins.module_utils.gke.cluster import (
    cluster_changes,
    desired_cluster,
    system_pool_params,
    validate_cluster,
    validate_system_pool,
)
from ansible_collections.accelci.runners.plugins.module_utils.gke.node_pool import (
    desired_node_pool,
    workload_metadata_mode,
)


def test_cluster_changes_are_one_per_request():
    params = {"name": "ci-runners", "project": "p", "location": "us-central1", "workload_identity": True, "release_channel": "regular",
              "addons": {"gcs_fuse_csi_driver": True, "filestore_csi_driver": None}, "labels": {"a": "b"},
              "network": None, "subnetwork": None}
    validate_cluster(params)
    desired = desired_cluster(params)
    changes, recreate = cluster_changes(desired, {"name": "ci-runners", "addons_config": {
        "http_load_balancing": {"disabled": False}}})
    assert recreate == []
    assert [c[1] for c in changes] == ["addons_config", "workload_identity_config", "release_channel",
                                       "resource_labels"]
    addons_update = changes[0][2]["desired_addons_config"]
    assert addons_update["gcs_fuse_csi_driver_config"] == {"enabled": True}
    assert addons_update["http_load_balancing"] == {"disabled": False}  # kept as it was
    assert changes[1][2] == {"desired_workload_identity_config": {"workload_pool": "p.svc.id.goog"}}
    current = {"name": "ci-runners", "addons_config": {"gcs_fuse_csi_driver_config": {"enabled": True}},
               "workload_identity_config": {"workload_pool": "p.svc.id.goog"},
               "release_channel": {"channel": "REGULAR"}, "resource_labels": {"a": "b"}}
    assert cluster_changes(desired, current) == ([], [])


def test_cluster_network_change_is_refused():
    params = {"name": "c", "project": "p", "network": "other"}
    _changes, recreate = cluster_changes(desired_cluster(params), {"name": "c", "network": "default"})
    assert recreate == ["network"]


def test_system_pool_defaults_follow_workload_identity():
    pool = system_pool_params({"name": "c", "workload_identity": True, "system_pool": None})
    assert pool["machine_type"] == "e2-standard-4"
    assert pool["cluster_workload_identity"] is True and pool["workload_metadata_mode"] is None
    assert workload_metadata_mode(pool) == "GKE_METADATA"
    assert pool["autoscaling"]["min_nodes"] == 1 and pool["autoscaling"]["max_nodes"] == 3
    body = desired_node_pool(pool, "cpu", None, pool["machine_type"])
    assert body["config"]["workload_metadata_config"] == {"mode": "GKE_METADATA"}
    chosen = system_pool_params({"name": "c", "workload_identity": True,
                                 "system_pool": {"workload_metadata_mode": "GCE_METADATA"}})
    assert workload_metadata_mode(chosen) == "GCE_METADATA"
    assert workload_metadata_mode(system_pool_params({"name": "c", "system_pool": None})) is None


@pytest.mark.parametrize("params, field, message", [
    ({"name": "CI"}, "name", "'CI' is not a valid GKE name"),
    ({"name": "c", "location": "us-central1", "release_channel": "beta"}, "release_channel", "must be one of rapid, regular"),
    ({"name": "c", "location": "us-central1", "addons": {"dns_cache": True}}, "addons.dns_cache",
     "is not supported; known: filestore_csi_driver, gcs_fuse_csi_driver"),
])
def test_cluster_errors_are_input_errors_naming_the_option(params, field, message):
    with pytest.raises(InputError) as err:
        validate_cluster(params)
    assert err.value.field == field
    assert str(err.value).startswith("%s: %s" % (field, message))


@pytest.mark.parametrize("system_pool, field, message", [
    ({"min_nodes": 3, "max_nodes": 1}, "system_pool.min_nodes", "3 is greater than autoscaling.max_nodes 1"),
    ({"name": "System"}, "system_pool.name", "'System' is not a valid GKE name"),
    ({"taints": [{"key": "", "effect": "NO_SCHEDULE"}]}, "system_pool.taints[0]", "needs a key and an effect"),
])
def test_system_pool_errors_name_the_cluster_option(system_pool, field, message):
    with pytest.raises(InputError) as err:
        validate_system_pool({"name": "ci-runners", "location": "us-central1-b", "system_pool": system_pool})
    assert err.value.field == field
    assert str(err.value).startswith("%s: %s" % (field, message))

"""Request building, input checks and diffing for GKE node pools (no server)."""

import copy

import pytest

from ansible_collections.accelci.runners.plugins.module_utils.gke_cluster_spec import (
    cluster_changes,
    desired_cluster,
    system_pool_params,
    validate_cluster,
)
from ansible_collections.accelci.runners.plugins.module_utils.gke_node_pool_spec import (
    NodePoolSpecError,
    desired_node_pool,
    node_pool_diff,
    update_request_fields,
    validate_node_pool,
)


def pool_params(**overrides):
    params = {
        "name": "tpu-v6e-1", "cluster": "ci-runners", "project": "p", "location": "us-central1-b",
        "tpu": None, "gpu": None, "machine_type": None, "spot": False, "reservation": None, "flex_start": False,
        "queued_provisioning": False, "autoscaling": None, "node_count": None, "labels": None, "taints": None,
        "disk_size_gb": None, "disk_type": None, "service_account": None, "oauth_scopes": None,
        "workload_metadata_mode": None, "auto_repair": None, "auto_upgrade": None, "locations": None,
        "placement_policy_name": None, "recreate": False,
    }
    params.update(overrides)
    return params


def build(**overrides):
    params = pool_params(**overrides)
    kind, shape, machine_type = validate_node_pool(params)
    return desired_node_pool(params, kind, shape, machine_type)


def test_single_host_tpu_is_sent_without_topology():
    body = build(tpu={"accelerator": "v6e", "topology": "1x1"}, spot=True,
                 autoscaling={"enabled": True, "min_nodes": 0, "max_nodes": 4})
    assert body["config"]["machine_type"] == "ct6e-standard-1t"
    assert "placement_policy" not in body
    assert body["config"]["spot"] is True
    assert body["autoscaling"] == {"enabled": True, "min_node_count": 0, "max_node_count": 4,
                                   "location_policy": "ANY"}
    assert body["initial_node_count"] == 0


def test_multi_host_tpu_gets_compact_placement_and_whole_slices():
    body = build(tpu={"accelerator": "v5e", "topology": "4x4"},
                 autoscaling={"enabled": True, "min_nodes": 0, "max_nodes": 8})
    assert body["config"]["machine_type"] == "ct5lp-hightpu-4t"
    assert body["placement_policy"] == {"type_": "COMPACT", "tpu_topology": "4x4"}


def test_multi_host_without_autoscaling_is_one_slice():
    body = build(tpu={"accelerator": "v6e", "topology": "4x4"})
    assert body["initial_node_count"] == 4
    assert "autoscaling" not in body


def test_7x_multi_host_needs_a_workload_policy():
    with pytest.raises(NodePoolSpecError, match="placement_policy_name is required"):
        build(name="tpu7x", tpu={"accelerator": "7x", "topology": "2x2x2"})
    body = build(name="tpu7x", tpu={"accelerator": "7x", "topology": "2x2x2"}, placement_policy_name="wp-2x2x2")
    assert body["placement_policy"] == {"policy_name": "wp-2x2x2"}


def test_gpu_pool_always_sets_the_driver():
    body = build(name="gpu-l4", gpu={"type": "nvidia-l4", "count": 1, "driver_version": "LATEST",
                                     "sharing": None, "partition_size": None},
                 machine_type="g2-standard-8")
    accelerator = body["config"]["accelerators"][0]
    assert accelerator == {"accelerator_type": "nvidia-l4", "accelerator_count": 1,
                           "gpu_driver_installation_config": {"gpu_driver_version": "LATEST"}}


def test_gpu_sharing_is_written_in_api_spelling():
    body = build(name="gpu-t4", machine_type="n1-standard-4",
                 gpu={"type": "nvidia-tesla-t4", "count": 1, "driver_version": "DEFAULT",
                      "sharing": {"strategy": "TIME_SHARING", "max_shared_clients": 4}, "partition_size": None})
    assert body["config"]["accelerators"][0]["gpu_sharing_config"] == {
        "gpu_sharing_strategy": "TIME_SHARING", "max_shared_clients_per_gpu": 4}


@pytest.mark.parametrize("overrides, field", [
    ({"tpu": {"accelerator": "v9", "topology": "1x1"}}, "tpu.accelerator"),
    ({"tpu": {"accelerator": "v6e", "topology": "3x3"}}, "tpu.topology"),
    ({"tpu": {"accelerator": "v5p", "topology": "2x2"}}, "tpu.topology"),
    ({"gpu": {"type": "nvidia-l4", "count": 2, "driver_version": "LATEST"}, "machine_type": "g2-standard-8"},
     "gpu.count"),
    ({"gpu": {"type": "nvidia-l4", "count": 1, "driver_version": "LATEST"}, "machine_type": "n1-standard-4"},
     "machine_type"),
    ({"machine_type": "e2-standard-4", "autoscaling": {"enabled": True, "min_nodes": 3, "max_nodes": 1}},
     "autoscaling.min_nodes"),
    ({"tpu": {"accelerator": "v6e", "topology": "4x4"}, "autoscaling": {"enabled": True, "min_nodes": 0,
                                                                        "max_nodes": 6}},
     "autoscaling.max_nodes"),
    ({"name": "Bad_Name", "machine_type": "e2-standard-4"}, "name"),
    ({"machine_type": "e2-standard-4", "flex_start": True, "spot": True}, "flex_start"),
    ({"machine_type": "e2-standard-4", "reservation": {"affinity": "SPECIFIC_RESERVATION", "name": None}},
     "reservation.name"),
    ({}, "one of tpu, gpu or machine_type"),
])
def test_invalid_input_names_the_field(overrides, field):
    with pytest.raises(NodePoolSpecError) as err:
        build(**overrides)
    assert field in str(err.value)


def live(body, **changes):
    """What GKE returns for a body: the same fields plus status and self link."""
    current = copy.deepcopy(body)
    current.update(status="RUNNING", self_link="https://container.googleapis.com/v1/...", version="1.33.5")
    current.pop("initial_node_count", None)
    for path, value in changes.items():
        node = current
        parts = path.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return current


def test_no_difference_means_no_change():
    body = build(tpu={"accelerator": "v6e", "topology": "2x2"}, spot=True, labels={"team": "ml"},
                 autoscaling={"enabled": True, "min_nodes": 0, "max_nodes": 2})
    assert not node_pool_diff(body, live(body)).changed


def test_omitted_zero_values_are_not_differences():
    body = build(machine_type="e2-standard-4", autoscaling={"enabled": True, "min_nodes": 0, "max_nodes": 3})
    current = live(body)
    del current["autoscaling"]["min_node_count"]  # GKE omits zeros
    assert not node_pool_diff(body, current).changed


def test_labels_and_taints_go_in_one_update_autoscaling_separately():
    body = build(machine_type="e2-standard-4", labels={"a": "1"},
                 taints=[{"key": "k", "value": "v", "effect": "NO_SCHEDULE"}],
                 autoscaling={"enabled": True, "min_nodes": 0, "max_nodes": 3})
    current = live(body, **{"config.labels": {"a": "0"}, "config.taints": [], "autoscaling.max_node_count": 5})
    diff = node_pool_diff(body, current)
    assert diff.recreate == []
    assert [update[0] for update in diff.updates] == ["node settings"]
    assert update_request_fields(diff.updates[0][1]) == {
        "labels": {"labels": {"a": "1"}},
        "taints": {"taints": [{"key": "k", "value": "v", "effect": "NO_SCHEDULE"}]},
    }
    assert diff.set_autoscaling["max_node_count"] == 3


def test_machine_type_change_is_an_update_spot_is_a_recreate():
    body = build(machine_type="e2-standard-8", spot=True)
    current = live(body, **{"config.machine_type": "e2-standard-4", "config.spot": False})
    diff = node_pool_diff(body, current)
    assert diff.recreate == ["config.spot"]
    assert diff.updates == [("machine", {"config.machine_type": "e2-standard-8"})]


def test_topology_change_is_a_recreate():
    body = build(tpu={"accelerator": "v6e", "topology": "4x4"})
    current = live(body, **{"placement_policy.tpu_topology": "2x4"})
    assert node_pool_diff(body, current).recreate == ["placement_policy"]


def test_cluster_changes_are_one_per_request():
    params = {"name": "ci-runners", "project": "p", "workload_identity": True, "release_channel": "regular",
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
    assert pool["workload_metadata_mode"] == "GKE_METADATA"
    assert pool["autoscaling"]["min_nodes"] == 1 and pool["autoscaling"]["max_nodes"] == 3

"""Request building, input checks and diffing for GKE node pools (no server)."""

import copy

import pytest

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import InputError
from ansible_collections.accelci.runners.plugins.module_utils.gke.catalog import AcceleratorError
from ansible_collections.accelci.runners.plugins.module_utils.gke.node_pool import (
    desired_node_pool,
    node_pool_diff,
    update_request_fields,
    validate_node_pool,
    workload_metadata_mode,
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
                 autoscaling={"enabled": True, "min_nodes": 0, "max_nodes": 4})
    assert body["config"]["machine_type"] == "ct5lp-hightpu-4t"
    assert body["placement_policy"] == {"type_": "COMPACT", "tpu_topology": "4x4"}


def test_multi_host_without_autoscaling_is_one_slice():
    body = build(tpu={"accelerator": "v6e", "topology": "4x4"})
    assert body["initial_node_count"] == 4
    assert "autoscaling" not in body


def test_7x_multi_host_needs_a_workload_policy():
    with pytest.raises(InputError, match="placement_policy_name: is required") as err:
        build(name="tpu7x", tpu={"accelerator": "7x", "topology": "2x2x2"})
    assert err.value.field == "placement_policy_name"
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


@pytest.mark.parametrize("overrides, field, message", [
    ({"tpu": {"accelerator": "v9", "topology": "1x1"}}, "tpu.accelerator", "unknown TPU accelerator v9"),
    ({"tpu": {"accelerator": "v6e", "topology": "3x3"}}, "tpu.topology", "v6e has no topology 3x3"),
    ({"tpu": {"accelerator": "v5p", "topology": "2x2"}}, "tpu.topology", "v5p takes 3-D topologies, got 2x2"),
    ({"tpu": {"accelerator": "v6e", "topology": "2x2", "machine_type": "ct6e-standard-4t"},
      "machine_type": "ct6e-standard-8t"}, "machine_type", "'ct6e-standard-8t' and tpu.machine_type "
     "'ct6e-standard-4t' disagree"),
    ({"gpu": {"type": "nvidia-l4", "count": 2, "driver_version": "LATEST"}, "machine_type": "g2-standard-8"},
     "gpu.count", "g2-standard-8 carries exactly 1 nvidia-l4 GPU(s), not 2"),
    ({"gpu": {"type": "nvidia-l4", "count": 1, "driver_version": "LATEST"}, "machine_type": "n1-standard-4"},
     "machine_type", "n1-standard-4 does not carry nvidia-l4 GPUs"),
    ({"gpu": {"type": "nvidia-l4", "count": 1, "driver_version": "NEWEST"}, "machine_type": "g2-standard-8"},
     "gpu.driver_version", "must be one of DEFAULT, LATEST, INSTALLATION_DISABLED"),
    ({"machine_type": "e2-standard-4", "autoscaling": {"enabled": True, "min_nodes": 3, "max_nodes": 1}},
     "autoscaling.min_nodes", "3 is greater than autoscaling.max_nodes 1"),
    ({"machine_type": "e2-standard-4", "autoscaling": {"enabled": True, "min_nodes": 0, "max_nodes": None}},
     "autoscaling.max_nodes", "is required when autoscaling is enabled"),
    ({"machine_type": "e2-standard-4", "autoscaling": {"enabled": True, "min_nodes": 0, "max_nodes": 0}},
     "autoscaling.max_nodes", "0; accepted: 1 or more"),
    ({"tpu": {"accelerator": "v6e", "topology": "4x4"}, "autoscaling": {"enabled": True, "min_nodes": 0,
                                                                        "max_nodes": 6}},
     "autoscaling.max_nodes", "6 does not fit: a v6e 4x4 pool is one slice of 4 nodes"),
    ({"tpu": {"accelerator": "v6e", "topology": "4x4"}, "node_count": 6}, "node_count",
     "6 does not fit: a v6e 4x4 pool is one slice of 4 nodes"),
    ({"machine_type": "e2-standard-4", "node_count": -1}, "node_count", "must be >= 0 (got -1)"),
    ({"name": "Bad_Name", "machine_type": "e2-standard-4"}, "name", "'Bad_Name' is not a valid GKE name"),
    ({"cluster": "ci_runners", "machine_type": "e2-standard-4"}, "cluster", "'ci_runners' is not a valid GKE name"),
    ({"machine_type": "e2-standard-4", "taints": [{"key": "k", "effect": "NoSchedule"}]}, "taints[0]",
     "needs a key and an effect among NO_SCHEDULE"),
    ({"machine_type": "e2-standard-4", "flex_start": True, "spot": True}, "spot",
     "flex_start and spot exclude each other"),
    ({"machine_type": "e2-standard-4", "flex_start": True}, "flex_start", "needs autoscaling (min_nodes 0)"),
    ({"machine_type": "e2-standard-4", "queued_provisioning": True,
      "autoscaling": {"enabled": True, "min_nodes": 1, "max_nodes": 2}}, "queued_provisioning",
     "needs autoscaling.min_nodes 0 and no node_count"),
    ({"machine_type": "e2-standard-4", "reservation": {"affinity": "SPECIFIC_RESERVATION", "name": None}},
     "reservation.name", "is required with reservation.affinity SPECIFIC_RESERVATION"),
    ({"machine_type": "e2-standard-4", "reservation": {"affinity": "ANY_RESERVATION", "name": "r1"}},
     "reservation.name", "only goes with reservation.affinity SPECIFIC_RESERVATION"),
    ({}, "machine_type", "one of tpu, gpu or machine_type is required for a node pool"),
])
def test_invalid_input_names_the_field(overrides, field, message):
    with pytest.raises(InputError) as err:
        build(**overrides)
    assert err.value.field == field
    assert str(err.value) == "%s: %s" % (field, err.value.message)
    assert str(err.value).startswith("%s: %s" % (field, message))
    assert err.value.fail_json_kwargs()["field"] == field


def test_catalog_errors_come_through_unchanged():
    with pytest.raises(AcceleratorError) as err:
        build(tpu={"accelerator": "v6e", "topology": "3x3"})
    assert err.value.field == "tpu.topology"


def test_workload_metadata_rule():
    assert workload_metadata_mode({"cluster_workload_identity": True}) == "GKE_METADATA"
    assert workload_metadata_mode({"cluster_workload_identity": True, "workload_metadata_mode": "GCE_METADATA"}) \
        == "GCE_METADATA"
    assert workload_metadata_mode({"cluster_workload_identity": False}) is None
    assert workload_metadata_mode({"workload_metadata_mode": "GKE_METADATA"}) == "GKE_METADATA"
    assert workload_metadata_mode({}) is None


def test_pools_of_a_workload_identity_cluster_get_the_gke_metadata_server():
    body = build(machine_type="e2-standard-4", cluster_workload_identity=True)
    assert body["config"]["workload_metadata_config"] == {"mode": "GKE_METADATA"}
    body = build(machine_type="e2-standard-4", cluster_workload_identity=True, workload_metadata_mode="GCE_METADATA")
    assert body["config"]["workload_metadata_config"] == {"mode": "GCE_METADATA"}
    assert "workload_metadata_config" not in build(machine_type="e2-standard-4")["config"]


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

"""capacity.request: the options of accelerator_capacity_info, resolved through the catalog before any call."""

import pytest

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import InputError
from ansible_collections.accelci.runners.plugins.module_utils.capacity.request import (
    REGIONAL_DEFAULT_ZONE_COUNT,
    capacity_request,
)
from ansible_collections.accelci.runners.plugins.module_utils.gke.catalog import quota_metrics, resolve_tpu


def test_a_tpu_request_reads_machine_types_and_the_catalogs_quota_entry():
    request = capacity_request({"tpu": {"accelerator": "tpu-v6e-slice", "topology": "2x2"}, "spot": True,
                                "regions": ["us-central1", "US-EAST5", "us-central1"], "nodes": 2})
    accelerator = request["accelerator"]
    assert (accelerator["kind"], accelerator["name"]) == ("tpu", "v6e")
    assert accelerator["machine_type"] == "ct6e-standard-4t"
    assert (accelerator["units_per_node"], accelerator["unit"]) == (4, "chips")
    assert accelerator["offer"] == {"resource": "machineTypes", "name": "ct6e-standard-4t"}
    # The metric names are the catalog's, not retyped here.
    assert accelerator["quota"] == quota_metrics(resolve_tpu("v6e", "2x2"))
    assert request["regions"] == ["us-central1", "us-east5"]  # normalised, duplicates dropped, order kept
    assert (request["zones"], request["nodes"], request["spot"], request["pool"]) == ([], 2, True, None)


def test_an_n1_gpu_is_offered_through_accelerator_types_and_a_g2_gpu_through_machine_types():
    t4 = capacity_request({"gpu": {"type": "nvidia-tesla-t4", "count": 2}, "zones": ["us-east1-c"]})["accelerator"]
    assert t4["offer"] == {"resource": "acceleratorTypes", "name": "nvidia-tesla-t4"}
    assert (t4["machine_type"], t4["units_per_node"], t4["unit"]) == ("n1-standard-4", 2, "GPUs")
    assert t4["quota"]["project_metric"] == "GPUS_ALL_REGIONS"
    l4 = capacity_request({"gpu": {"type": "nvidia-l4"}, "location": "us-central1"})["accelerator"]
    assert l4["offer"] == {"resource": "machineTypes", "name": "g2-standard-8"}


@pytest.mark.parametrize("params, field, text", [
    ({"tpu": {"accelerator": "v9", "topology": "1x1"}, "regions": ["us-central1"]}, "tpu.accelerator", "v9"),
    ({"tpu": {"accelerator": "v6e", "topology": "3x3"}, "regions": ["us-central1"]}, "tpu.topology", "3x3"),
    ({"gpu": {"type": "nvidia-l4", "count": 2, "machine_type": "g2-standard-8"}, "regions": ["us-central1"]},
     "gpu.count", "carries exactly 1"),
    ({"gpu": {"type": "nvidia-l4"}, "regions": ["us-central1-b"]}, "regions", "not a region name"),
    ({"gpu": {"type": "nvidia-l4"}, "zones": ["us-central1"]}, "zones", "not a zone name"),
    ({"gpu": {"type": "nvidia-l4"}, "zones": ["us-central1-b; rm"]}, "zones", "not a zone name"),
    ({"gpu": {"type": "nvidia-l4"}, "location": "earth"}, "location", "neither a zone nor a region"),
    ({"gpu": {"type": "nvidia-l4"}}, "regions", "at least one region"),
    ({"gpu": {"type": "nvidia-l4"}, "regions": ["us-central1"], "nodes": -1}, "nodes",
     "-1 is negative; accepted: 0 or more"),
    ({"regions": ["us-central1"]}, "tpu", "give tpu"),
])
def test_bad_input_names_the_option(params, field, text):
    with pytest.raises(InputError) as caught:
        capacity_request(params)
    assert caught.value.field == field
    assert text in str(caught.value)


def pool_request(pool, location="us-central1-b"):
    return capacity_request({"node_pool": pool, "location": location})


def test_a_pool_that_scales_from_zero_counts_its_most_nodes_in_its_zone():
    request = pool_request({"name": "tpu-v6e-4", "tpu": {"accelerator": "v6e", "topology": "2x2"}, "spot": True,
                            "autoscaling": {"min_nodes": 0, "max_nodes": 2}})
    assert (request["zones"], request["regions"], request["nodes"], request["spot"]) == (["us-central1-b"], [], 2,
                                                                                         True)
    assert request["pool"]["scales_from_zero"] is True
    assert request["pool"]["zones_assumed"] is False


def test_a_pool_with_a_floor_or_initial_nodes_does_not_scale_from_zero():
    floor = pool_request({"name": "p", "gpu": {"type": "nvidia-l4"}, "autoscaling": {"min_nodes": 1, "max_nodes": 3}})
    assert (floor["nodes"], floor["pool"]["scales_from_zero"]) == (3, False)
    initial = pool_request({"name": "p", "gpu": {"type": "nvidia-l4"}, "node_count": 1,
                            "autoscaling": {"min_nodes": 0, "max_nodes": 3}})
    assert initial["pool"]["scales_from_zero"] is False


def test_fixed_size_pools_default_to_one_node_or_one_slice():
    single = pool_request({"name": "p", "gpu": {"type": "nvidia-l4"}})
    assert (single["nodes"], single["pool"]["scales_from_zero"]) == (1, False)
    slice_pool = pool_request({"name": "p", "tpu": {"accelerator": "v5e", "topology": "4x4"}})
    assert slice_pool["nodes"] == 4  # one 4x4 slice is 4 VMs of 4 chips


def test_locations_slices_and_regional_clusters_multiply_the_nodes():
    spread = pool_request({"name": "p", "gpu": {"type": "nvidia-l4"}, "locations": ["us-central1-a", "us-central1-c"],
                           "autoscaling": {"min_nodes": 0, "max_nodes": 3}})
    assert (spread["zones"], spread["nodes"]) == (["us-central1-a", "us-central1-c"], 6)
    slices = pool_request({"name": "p", "tpu": {"accelerator": "v5e", "topology": "2x4",
                                                "machine_type": "ct5lp-hightpu-4t"},
                           "slices": 2, "autoscaling": {"min_nodes": 0, "max_nodes": 2}})
    assert slices["nodes"] == 4  # two slices of two VMs
    regional = pool_request({"name": "p", "gpu": {"type": "nvidia-l4"}, "autoscaling": {"max_nodes": 2}},
                            location="us-central1")
    assert (regional["regions"], regional["zones"]) == (["us-central1"], [])
    assert regional["nodes"] == 2 * REGIONAL_DEFAULT_ZONE_COUNT
    assert regional["pool"]["zones_assumed"] is True
    # A multi-host slice is placed in one zone, even on a regional cluster: its quota is one zone's worth.
    regional_slice = pool_request({"name": "p", "tpu": {"accelerator": "v5e", "topology": "2x4",
                                                        "machine_type": "ct5lp-hightpu-4t"},
                                   "slices": 3, "autoscaling": {"min_nodes": 0, "max_nodes": 2}},
                                  location="us-central1")
    assert (regional_slice["pool"]["zone_count"], regional_slice["nodes"]) == (1, 6)


def test_flex_start_and_queued_provisioning_are_preemptible_and_start_empty():
    flex = pool_request({"name": "p", "gpu": {"type": "nvidia-l4"}, "flex_start": True,
                         "autoscaling": {"min_nodes": 0, "max_nodes": 2}})
    assert flex["spot"] is True and flex["pool"]["scales_from_zero"] is True


def test_a_specific_reservation_is_recorded():
    pool = pool_request({"name": "p", "gpu": {"type": "nvidia-l4"}, "autoscaling": {"max_nodes": 2},
                         "reservation": {"affinity": "SPECIFIC_RESERVATION", "name": "l4-block"}})
    assert pool["pool"]["reservation"] == "l4-block"


@pytest.mark.parametrize("pool, field", [
    ({"name": "cpu", "machine_type": "e2-standard-4"}, "node_pool[cpu]"),
    ({"name": "amd", "amd_gpu": {"count": 1}, "node_selector": {"a": "b"}}, "node_pool[amd]"),
    ({"name": "t", "tpu": {"accelerator": "v6e", "topology": "9x9"}}, "node_pools[t].tpu"),
    ({"name": "t", "gpu": {"type": "nvidia-l4"}, "autoscaling": {"min_nodes": 0}},
     "node_pool[t].autoscaling.max_nodes"),
    ({"name": "t", "gpu": {"type": "nvidia-l4"}, "locations": ["nowhere"]}, "node_pool[t].locations"),
    ({"tpu": {"accelerator": "v6e", "topology": "1x1"}}, "node_pool"),
])
def test_pools_that_cannot_be_checked_are_refused(pool, field):
    with pytest.raises(InputError) as caught:
        pool_request(pool)
    assert caught.value.field == field

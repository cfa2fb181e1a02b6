"""capacity.report: locations, seed 002's zone choice, and whether nodes fit."""

import pytest

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import InputError
from ansible_collections.accelci.runners.plugins.module_utils.capacity.quota import project_quota
from ansible_collections.accelci.runners.plugins.module_utils.capacity.report import (
    best_zone,
    demand_check,
    plan_locations,
    quota_verdict,
    region_row,
)
from ansible_collections.accelci.runners.plugins.module_utils.capacity.request import capacity_request

ZONES = {
    "us-east1-c": {"region": "us-east1", "status": "UP"},
    "us-east1-d": {"region": "us-east1", "status": "UP"},
    "us-central1-a": {"region": "us-central1", "status": "UP"},
    "us-central1-b": {"region": "us-central1", "status": "DOWN"},
    "us-west1-a": {"region": "us-west1", "status": "UP"},
}
# Seed 002's example: us-east1 5 free, us-central1 3 free, us-west1 0 free.
T4_QUOTAS = {"us-east1": (8, 3), "us-central1": (8, 5), "us-west1": (4, 4)}


def compute(limit, usage, metric="NVIDIA_T4_GPUS"):
    return {"quotas": {metric: {"limit": limit, "usage": usage}}, "warning": None}


def t4_rows(params, offers=None, quotas=None):
    request = capacity_request(dict({"gpu": {"type": "nvidia-tesla-t4"}}, **params))
    offers = offers or dict((zone, True) for zone in ZONES)
    rows = []
    for region, zones in plan_locations(request, ZONES, "p1"):
        limit, usage = (quotas or T4_QUOTAS)[region]
        rows.append(region_row(request, region, zones, ZONES, offers, compute(limit, usage), {}))
    return request, rows


def test_seed_002s_choice_the_region_with_most_free_quota_then_its_first_zone():
    request, rows = t4_rows({"zones": ["us-central1-a", "us-east1-d", "us-east1-c", "us-west1-a"]})
    assert [row["region"] for row in rows] == ["us-central1", "us-east1", "us-west1"]
    assert rows[1]["zones"] == ["us-east1-d", "us-east1-c"]  # the order asked
    zone, region, reason = best_zone(rows, None, request["accelerator"])
    assert (zone, region) == ("us-east1-d", "us-east1")
    assert "us-central1 3, us-east1 5, us-west1 0" in reason


def test_zones_that_do_not_offer_the_type_are_skipped_and_down_zones_offer_nothing():
    request, rows = t4_rows({"regions": ["us-east1", "us-central1"]},
                            offers={"us-east1-c": False, "us-east1-d": False, "us-central1-a": True})
    east, central = rows
    assert (east["zones_offering"], east["zones_not_offering"]) == ([], ["us-east1-c", "us-east1-d"])
    assert (central["zones_offering"], central["zones_down"]) == (["us-central1-a"], ["us-central1-b"])
    zone, region, _reason = best_zone(rows, None, request["accelerator"])
    assert (zone, region) == ("us-central1-a", "us-central1")  # fewer free GPUs, but it offers T4


def test_every_region_full_means_no_zone():
    request, rows = t4_rows({"regions": ["us-east1", "us-west1"]},
                            quotas={"us-east1": (8, 8), "us-west1": (0, 0)})
    zone, region, reason = best_zone(rows, None, request["accelerator"])
    assert (zone, region) == (None, None)
    assert reason.startswith("every region that offers nvidia-tesla-t4 is full")


def test_no_free_gpu_in_the_project_means_no_zone():
    request, rows = t4_rows({"regions": ["us-east1"]})
    project = project_quota(request["accelerator"], compute(16, 16, "GPUS_ALL_REGIONS"), "p1")
    zone, _region, reason = best_zone(rows, project, request["accelerator"])
    assert zone is None and "GPUS_ALL_REGIONS" in reason


def test_unknown_zones_and_regions_are_refused_with_what_the_project_has():
    request = capacity_request({"gpu": {"type": "nvidia-tesla-t4"}, "zones": ["us-east1-z"]})
    with pytest.raises(InputError) as caught:
        plan_locations(request, ZONES, "p1")
    assert caught.value.field == "zones" and "us-east1-c" in str(caught.value)
    request = capacity_request({"gpu": {"type": "nvidia-tesla-t4"}, "regions": ["asia-east9"]})
    with pytest.raises(InputError) as caught:
        plan_locations(request, ZONES, "p1")
    assert "accepted: us-central1, us-east1, us-west1" in str(caught.value)


ROW = {"metric": "PREEMPTIBLE_TPU_LITE_PODSLICE_V5", "found": True, "unlimited": False, "limit": 4, "usage": 0,
       "free": 4, "note": None}


@pytest.mark.parametrize("quota, demand, verdict, text", [
    (ROW, 4, "fits", "4 are free"),
    (ROW, 8, "short", "not enough v5e spot quota in us-central1: the pool can use 8 chips, 4 are free"),
    (dict(ROW, limit=16, usage=12, free=4), 8, "may_be_short", "may include this pool's own nodes"),
    (dict(ROW, limit=16, usage=12, free=4), 20, "short", "4 are free"),
    (dict(ROW, usage=3, free=1), 1, "fits", "1 is free"),
    (dict(ROW, usage=None, free=None), 4, "fits", "the limit is 4"),
    (dict(ROW, usage=None, free=None), 8, "short", "the limit is 4"),
    (dict(ROW, found=False, limit=None, usage=None, free=None, note="gone"), 8, "unknown", "not checked: gone"),
    (dict(ROW, unlimited=True, limit=None), 800, "fits", "sets no limit"),
])
def test_quota_verdicts(quota, demand, verdict, text):
    got, message = quota_verdict(quota, demand, "chips", "v5e spot quota in us-central1")
    assert got == verdict
    assert text in message


def pool_check(pool, offers, quotas, location="us-central1-a"):
    request = capacity_request({"node_pool": pool, "location": location})
    rows = [region_row(request, region, zones, ZONES, offers, quotas, {})
            for region, zones in plan_locations(request, ZONES, "p1")]
    return demand_check(request, rows, None)


V5E_POOL = {"name": "v5e", "tpu": {"accelerator": "v5e", "topology": "2x2"}, "spot": True,
            "autoscaling": {"min_nodes": 0, "max_nodes": 2}}


def test_a_pool_whose_zone_does_not_offer_its_machine_is_not_offered():
    check = pool_check(V5E_POOL, {"us-central1-a": False}, compute(16, 0, "PREEMPTIBLE_TPU_LITE_PODSLICE_V5"))
    assert check["verdict"] == "not_offered"
    assert check["problems"][0].startswith("ct5lp-hightpu-4t is not offered in us-central1-a")


def test_a_pool_check_carries_demand_and_scale_from_zero():
    check = pool_check(V5E_POOL, {"us-central1-a": True}, compute(4, 0, "PREEMPTIBLE_TPU_LITE_PODSLICE_V5"))
    assert (check["nodes"], check["demand"], check["verdict"], check["scales_from_zero"]) == (2, 8, "short", True)
    assert check["message"].startswith("not enough v5e spot quota in us-central1: the pool can use 8 chips, "
                                       "4 are free")


def test_a_reserved_pool_is_not_checked_against_quota():
    pool = dict(V5E_POOL, spot=False, reservation={"affinity": "SPECIFIC_RESERVATION", "name": "v5e-block"})
    check = pool_check(pool, {"us-central1-a": True}, compute(0, 0, "TPU_LITE_PODSLICE_V5"))
    assert check["verdict"] == "reserved" and "v5e-block" in check["message"]


def test_the_gpu_project_quota_can_be_what_is_short():
    request = capacity_request({"gpu": {"type": "nvidia-tesla-t4"}, "zones": ["us-east1-c"], "nodes": 4})
    rows = [region_row(request, "us-east1", ["us-east1-c"], ZONES, {"us-east1-c": True}, compute(8, 0), {})]
    project = project_quota(request["accelerator"], compute(2, 0, "GPUS_ALL_REGIONS"), "p1")
    check = demand_check(request, rows, project)
    assert check["verdict"] == "short"
    assert check["problems"] == ["not enough GPU quota across all regions (GPUS_ALL_REGIONS): the pool can use "
                                 "4 GPUs, 2 are free (GPUS_ALL_REGIONS: limit 2, usage 0)"]
    assert check["notes"][0].startswith("nvidia-tesla-t4 quota in us-east1: the pool can use 4 GPUs, 8 are free")


def test_without_nodes_there_is_no_check():
    request, rows = t4_rows({"regions": ["us-east1"]})
    assert demand_check(request, rows, None) is None

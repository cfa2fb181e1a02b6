"""capacity.quota: reading Compute and Cloud Quotas answers, and which metric a request draws on."""

from ansible_collections.accelci.runners.plugins.module_utils.capacity.quota import (
    cloudquotas_quota,
    compute_quota,
    project_quota,
    quota_ids,
    regional_quota,
)
from ansible_collections.accelci.runners.plugins.module_utils.capacity.request import capacity_request

V6E_ON_DEMAND = "TPUS-PER-TPU-FAMILY-per-project-region"
V6E_SPOT = "PREEMPTIBLE-TPU-V6E-per-project-region"


def accelerator(**params):
    params.setdefault("regions", ["us-central1"])
    return capacity_request(params)["accelerator"]


def region(**quotas):
    return {"quotas": dict((metric, {"limit": limit, "usage": usage}) for metric, (limit, usage) in quotas.items()),
            "warning": None}


def test_compute_quota_reports_limit_usage_and_free_as_whole_numbers():
    row = compute_quota({"NVIDIA_L4_GPUS": {"limit": 8.0, "usage": 3.0}}, "NVIDIA_L4_GPUS", "us-central1")
    assert (row["found"], row["limit"], row["usage"], row["free"]) == (True, 8, 3, 5)
    assert isinstance(row["limit"], int)
    over = compute_quota({"NVIDIA_L4_GPUS": {"limit": 2.0, "usage": 3.0}}, "NVIDIA_L4_GPUS", "us-central1")
    assert over["free"] == 0  # usage above a lowered limit frees nothing


def test_a_missing_metric_and_a_region_without_quotas_are_not_found_and_say_why():
    missing = compute_quota({"CPUS": {"limit": 24, "usage": 0}}, "NVIDIA_L4_GPUS", "us-west1")
    assert not missing["found"] and missing["limit"] is None
    assert "us-west1 reports no NVIDIA_L4_GPUS quota" in missing["note"]
    unavailable = compute_quota(None, "NVIDIA_L4_GPUS", "us-west1", "QUOTA_INFO_UNAVAILABLE: try later")
    assert not unavailable["found"] and "QUOTA_INFO_UNAVAILABLE" in unavailable["note"]


V6E_INFO = {"quota_id": V6E_ON_DEMAND, "dimensions_infos": [
    {"dimensions": {"region": "us-east5", "tpu_family": "CT6E"}, "details": {"value": 32},
     "applicable_locations": ["us-east5"]},
    {"dimensions": {"region": "us-central1", "tpu_family": "CT5LP"}, "details": {"value": 64},
     "applicable_locations": ["us-central1"]},
    {"dimensions": {"tpu_family": "CT6E"}, "details": {"value": 4},
     "applicable_locations": ["us-central1", "europe-west4"]},
    {"dimensions": {}, "details": {"value": 0}, "applicable_locations": ["us-central1", "us-east5", "europe-west4"]},
]}


def test_cloudquotas_takes_the_most_specific_entry_that_applies():
    dims = {"tpu_family": "CT6E"}
    assert cloudquotas_quota(V6E_INFO, "us-east5", dims, V6E_ON_DEMAND)["limit"] == 32
    # The CT5LP entry of us-central1 is another family; the CT6E default covers us-central1.
    central = cloudquotas_quota(V6E_INFO, "us-central1", dims, V6E_ON_DEMAND)
    assert (central["found"], central["limit"], central["usage"], central["free"]) == (True, 4, None, None)
    assert "Cloud Monitoring" in central["note"]
    # A region outside every entry's applicable locations has no value.
    west = cloudquotas_quota(V6E_INFO, "us-west1", dims, V6E_ON_DEMAND)
    assert not west["found"] and "sets no value for us-west1 tpu_family=CT6E" in west["note"]


def test_cloudquotas_missing_quota_and_no_limit():
    missing = cloudquotas_quota(None, "us-central1", {}, V6E_SPOT, verified=False)
    assert not missing["found"] and "unverified" in missing["note"]
    unlimited = cloudquotas_quota({"dimensions_infos": [{"dimensions": {}, "details": {"value": -1},
                                                         "applicable_locations": []}]}, "us-central1", {}, V6E_SPOT)
    assert unlimited["found"] and unlimited["unlimited"]


def test_v6e_reads_the_catalogs_cloud_quotas_ids():
    v6e = accelerator(tpu={"accelerator": "v6e", "topology": "2x2"})
    assert quota_ids(v6e, spot=True) == [V6E_SPOT]
    assert quota_ids(v6e, spot=False) == [V6E_ON_DEMAND]
    assert quota_ids(accelerator(gpu={"type": "nvidia-l4"}), spot=False) == []
    spot = regional_quota(v6e, True, "us-central1", None, {V6E_SPOT: {"dimensions_infos": [
        {"dimensions": {"region": "us-central1"}, "details": {"value": 8}, "applicable_locations": ["us-central1"]}]}})
    assert (spot["api"], spot["metric"], spot["limit"], spot["verified"]) == ("cloudquotas", V6E_SPOT, 8, False)


def test_spot_and_on_demand_read_different_compute_metrics():
    v5e = accelerator(tpu={"accelerator": "v5e", "topology": "2x2"})
    data = region(TPU_LITE_PODSLICE_V5=(16, 0), PREEMPTIBLE_TPU_LITE_PODSLICE_V5=(4, 1))
    assert regional_quota(v5e, False, "us-central1", data, {})["metric"] == "TPU_LITE_PODSLICE_V5"
    spot = regional_quota(v5e, True, "us-central1", data, {})
    assert (spot["metric"], spot["free"]) == ("PREEMPTIBLE_TPU_LITE_PODSLICE_V5", 3)


def test_spot_tpus_never_fall_back_to_the_on_demand_quota():
    v5e = accelerator(tpu={"accelerator": "v5e", "topology": "2x2"})
    spot = regional_quota(v5e, True, "us-central1", region(TPU_LITE_PODSLICE_V5=(16, 0)), {})
    assert (spot["metric"], spot["found"], spot["fallback_from"]) == ("PREEMPTIBLE_TPU_LITE_PODSLICE_V5", False, None)


def test_spot_gpus_fall_back_to_the_standard_quota_without_preemptible_quota():
    t4 = accelerator(gpu={"type": "nvidia-tesla-t4"})
    own = regional_quota(t4, True, "us-east1", region(NVIDIA_T4_GPUS=(8, 3), PREEMPTIBLE_NVIDIA_T4_GPUS=(16, 2)), {})
    assert (own["metric"], own["free"], own["fallback_from"]) == ("PREEMPTIBLE_NVIDIA_T4_GPUS", 14, None)
    zero = regional_quota(t4, True, "us-central1", region(NVIDIA_T4_GPUS=(8, 5), PREEMPTIBLE_NVIDIA_T4_GPUS=(0, 0)), {})
    assert (zero["metric"], zero["free"], zero["fallback_from"]) == ("NVIDIA_T4_GPUS", 3, "PREEMPTIBLE_NVIDIA_T4_GPUS")
    assert "Spot VMs draw on the standard NVIDIA_T4_GPUS quota" in zero["note"]
    # L4 has no preemptible metric in the catalog: the standard one, said so.
    l4 = regional_quota(accelerator(gpu={"type": "nvidia-l4"}), True, "us-central1", region(NVIDIA_L4_GPUS=(8, 0)),
                        {})
    assert l4["metric"] == "NVIDIA_L4_GPUS" and "no preemptible metric recorded" in l4["note"]


def test_no_metric_recorded_is_not_checked():
    v5p = accelerator(tpu={"accelerator": "v5p", "topology": "2x2x1"})
    row = regional_quota(v5p, False, "us-east5", region(), {})
    assert row["metric"] is None and "records no on-demand quota metric for v5p" in row["note"]


def test_the_project_wide_gpu_quota_is_read_for_gpus_only():
    data = {"quotas": {"GPUS_ALL_REGIONS": {"limit": 16.0, "usage": 12.0}}, "warning": None}
    row = project_quota(accelerator(gpu={"type": "nvidia-l4"}), data, "p1")
    assert (row["metric"], row["free"]) == ("GPUS_ALL_REGIONS", 4)
    assert project_quota(accelerator(tpu={"accelerator": "v5e", "topology": "1x1"}), data, "p1") is None

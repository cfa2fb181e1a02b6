"""cost.estimate: seed 000's cost table reproduced, overrides, missing prices, slices, flex-start, GitHub-hosted."""

from decimal import Decimal

import pytest

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import InputError
from ansible_collections.accelci.runners.plugins.module_utils.cost import prices
from ansible_collections.accelci.runners.plugins.module_utils.cost.estimate import estimate_cost

SEED_000_POOLS = [
    {"name": "tpu-v6e-1", "tpu": {"accelerator": "v6e", "topology": "1x1"}, "spot": True,
     "autoscaling": {"min_nodes": 0, "max_nodes": 4}},
    {"name": "tpu-v6e-4", "tpu": {"accelerator": "v6e", "topology": "2x2"}, "spot": True,
     "autoscaling": {"min_nodes": 0, "max_nodes": 2}},
]
SEED_000_SCALE_SETS = [{"name": "arc-runner-v6e-1", "node_pool": "tpu-v6e-1"},
                       {"name": "arc-runner-v6e-4", "node_pool": "tpu-v6e-4"}]
# Seed 000's CI load: TPU-hours per month on the v6e-4 runners, and the spot cost its table gives.
SEED_000_CI_ROWS = {"light": (5, 20), "medium": (25, 100), "heavy": (50, 200)}


def seed_000(**overrides):
    """Seed 000's estate as its cost table prices it: 2 e2-standard-4 system nodes and a 1 TB Basic HDD share."""
    params = {
        "location": "us-central1-b",
        "cluster": {"name": "sglang-arc-runners", "release_channel": "regular",
                    "system_pool": {"machine_type": "e2-standard-4", "min_nodes": 1, "max_nodes": 3}},
        "system_nodes": 2,
        "node_pools": [dict(pool) for pool in SEED_000_POOLS],
        "scale_sets": list(SEED_000_SCALE_SETS),
        "model_cache": {"backend": "filestore", "filestore": {"tier": "BASIC_HDD", "capacity_gb": 1024}},
        "usage_scenarios": dict((name, {"arc-runner-v6e-4": hours}) for name, (hours, _c) in SEED_000_CI_ROWS.items()),
    }
    if "node_pools" in overrides:
        params["usage_scenarios"] = {}
    params.update(overrides)
    return params


def base_line(estimate, item):
    return next(line for line in estimate["base"] if line["item"] == item)


def pool_line(estimate, name):
    return next(line for line in estimate["pools"] if line["pool"] == name)


def test_seed_000_base_reproduced_exactly():
    estimate = estimate_cost(seed_000())
    columns = dict((item, (base_line(estimate, item)["on_demand"], base_line(estimate, item)["spot"]))
                   for item in ("control_plane", "system_nodes", "model_cache"))
    # Seed 000: | GKE Control Plane | $73 | $73 |, | e2-standard-4 x 2 | $97 | $29 |, | Filestore 1TB | $204 | $204 |
    assert columns == {"control_plane": (73.0, 73.0), "system_nodes": (97.0, 29.0), "model_cache": (204.0, 204.0)}
    # | Base monthly (no CI runs) | $374 | $306 |
    assert estimate["totals"]["base"] == {"on_demand": 374.0, "spot": 306.0, "configured": 374.0}
    assert estimate["totals"]["usage"] == {"on_demand": 0.0, "spot": 0.0, "configured": 0.0}
    assert [line["item"] for line in estimate["base"]] == ["control_plane", "system_nodes", "model_cache"]
    assert estimate["prices"]["as_of"] == prices.PRICES_AS_OF and estimate["prices"]["region"] == "us-central1"


@pytest.mark.parametrize("scenario", sorted(SEED_000_CI_ROWS))
def test_seed_000_ci_rows_exact_and_as_the_seed_rounds(scenario):
    hours, seed_cost = SEED_000_CI_ROWS[scenario]
    estimate = estimate_cost(seed_000())
    row = next(s for s in estimate["scenarios"] if s["name"] == scenario)
    line = row["pools"][0]
    assert (line["pool"], line["usage_hours"], line["machine_type"]) == ("tpu-v6e-4", hours, "ct6e-standard-4t")
    # The exact figure: the v6e-4 spot price, $3.86 an hour.
    assert line["spot"] == line["configured"] == float(Decimal("3.86") * hours)
    assert line["on_demand"] == float(Decimal("12.88") * hours)
    # The seed's "about $4 per hour": $3.86 rounded to whole dollars, times the hours.
    assert round(line["slice_rates"]["spot"]) * hours == seed_cost
    assert row["usage"]["spot"] == line["spot"]
    assert row["monthly"]["spot"] == round(306 + 3.86 * hours, 2)


def test_seed_000_exact_ci_figures():
    estimate = estimate_cost(seed_000())
    assert [(s["name"], s["usage"]["spot"]) for s in estimate["scenarios"]] == [
        ("light", 19.3), ("medium", 96.5), ("heavy", 193.0)]
    medium = next(s for s in estimate["scenarios"] if s["name"] == "medium")
    # "Estimated total: $330-500/month for medium usage with spot instances."
    assert 330 <= medium["monthly"]["spot"] <= 500 and 330 <= medium["monthly"]["configured"] <= 500


def test_system_node_price_is_seed_000s_monthly_figure_over_two_nodes_and_730_hours():
    rates = prices.node_rates(prices.price_table(), "us-central1", "e2-standard-4", "f")
    assert (rates["on_demand"] * 2 * 730).quantize(Decimal("0.01")) == Decimal("97.00")
    assert (rates["spot"] * 2 * 730).quantize(Decimal("0.01")) == Decimal("29.00")
    one_node = estimate_cost(seed_000(system_nodes=None))
    assert (base_line(one_node, "system_nodes")["nodes"], base_line(one_node, "system_nodes")["on_demand"]) == (1, 48.5)


def test_usage_hours_by_scale_set_add_to_their_pool():
    estimate = estimate_cost(seed_000(usage_hours={"arc-runner-v6e-4": 20, "tpu-v6e-4": 5, "arc-runner-v6e-1": 10}))
    assert pool_line(estimate, "tpu-v6e-4")["usage_hours"] == 25
    assert pool_line(estimate, "tpu-v6e-1")["spot"] == 9.7
    assert estimate["totals"]["usage"]["spot"] == 96.5 + 9.7
    assert estimate["totals"]["monthly"]["spot"] == round(306 + 96.5 + 9.7, 2)
    # As configured, the system pool is on-demand and the TPU pools spot.
    assert estimate["totals"]["monthly"]["configured"] == round(374 + 96.5 + 9.7, 2)


def test_spot_system_pool_is_configured_spot():
    cluster = seed_000()["cluster"]
    cluster["system_pool"]["spot"] = True
    estimate = estimate_cost(seed_000(cluster=cluster))
    assert base_line(estimate, "system_nodes")["configured"] == 29.0
    assert estimate["totals"]["base"]["configured"] == 306.0


def test_gcs_model_cache_is_billed_for_what_it_stores():
    estimate = estimate_cost(seed_000(model_cache={"backend": "gcs", "bucket": "models"}, storage_tib=0.5))
    assert base_line(estimate, "model_cache")["on_demand"] == 13.0
    with pytest.raises(InputError) as error:
        estimate_cost(seed_000(model_cache={"backend": "gcs", "bucket": "models"}))
    assert error.value.field == "storage_tib"


def test_filestore_defaults_match_the_storage_role_and_unpriced_tiers_fail():
    estimate = estimate_cost(seed_000(model_cache={"backend": "filestore"}))
    assert base_line(estimate, "model_cache")["on_demand"] == 204.0
    with pytest.raises(InputError) as error:
        estimate_cost(seed_000(model_cache={"backend": "filestore", "filestore": {"tier": "BASIC_SSD",
                                                                                  "capacity_gb": 2560}}))
    assert error.value.field == "model_cache.filestore.tier" and "BASIC_SSD" in str(error.value)
    assert "model_cache" not in [line["item"] for line in estimate_cost(seed_000(model_cache=None))["base"]]


L4_POOL = {"name": "gpu-l4", "gpu": {"type": "nvidia-l4", "count": 1}, "machine_type": "g2-standard-8",
           "spot": True, "autoscaling": {"min_nodes": 0, "max_nodes": 4}}
T4_POOL = {"name": "gpu-t4", "gpu": {"type": "nvidia-tesla-t4", "count": 1}, "machine_type": "n1-standard-4",
           "autoscaling": {"min_nodes": 0, "max_nodes": 2}}


def test_missing_price_is_an_error_naming_the_machine_type_not_a_zero():
    # No busy hours at all: the pool is still priced, so the missing price still fails.
    with pytest.raises(InputError) as error:
        estimate_cost(seed_000(node_pools=SEED_000_POOLS + [L4_POOL]))
    assert error.value.field == "node_pools[gpu-l4].gpu"
    assert "g2-standard-8" in error.value.message and error.value.details["machine_type"] == "g2-standard-8"
    assert "prices.regions.us-central1.machine_types.g2-standard-8" in error.value.message
    cpu_pool = {"name": "builders", "machine_type": "c3-standard-8", "autoscaling": {"min_nodes": 0, "max_nodes": 2}}
    with pytest.raises(InputError) as error:
        estimate_cost(seed_000(node_pools=[cpu_pool]))
    assert error.value.field == "node_pools[builders].machine_type" and "c3-standard-8" in error.value.message
    cluster = {"name": "c", "system_pool": {"machine_type": "n2-standard-4"}}
    with pytest.raises(InputError) as error:
        estimate_cost(seed_000(cluster=cluster))
    assert error.value.field == "cluster.system_pool.machine_type" and "n2-standard-4" in error.value.message


def test_a_spot_pool_needs_a_spot_price():
    spot_t4 = dict(T4_POOL, spot=True)
    with pytest.raises(InputError) as error:
        estimate_cost(seed_000(node_pools=[spot_t4]))
    assert error.value.field == "node_pools[gpu-t4].spot"
    assert "no spot price for machine type n1-standard-4+1xnvidia-tesla-t4 in us-central1" in error.value.message


def test_overrides_extend_and_replace_per_region_and_machine_type():
    overrides = {"as_of": "2026-03", "regions": {"us-central1": {"machine_types": {
        "g2-standard-8": {"on_demand": 0.85, "spot": "0.34", "source": "test bill"},
        "ct6e-standard-4t": {"spot": 3.5}}}}}
    estimate = estimate_cost(seed_000(node_pools=SEED_000_POOLS + [L4_POOL], prices=overrides,
                                      usage_hours={"gpu-l4": 10, "tpu-v6e-4": 10}))
    assert pool_line(estimate, "gpu-l4")["spot"] == 3.4 and pool_line(estimate, "gpu-l4")["on_demand"] == 8.5
    v6e4 = pool_line(estimate, "tpu-v6e-4")
    # Only the spot field was replaced: the table's on-demand price stays.
    assert v6e4["spot"] == 35.0 and v6e4["on_demand"] == 128.8
    assert estimate["prices"]["overridden"] == ["regions.us-central1.machine_types.ct6e-standard-4t",
                                                "regions.us-central1.machine_types.g2-standard-8"]
    assert estimate["prices"]["overrides_as_of"] == "2026-03" and estimate["prices"]["as_of"] == prices.PRICES_AS_OF
    # The shipped table is left alone.
    assert prices.PRICE_TABLE["regions"]["us-central1"]["machine_types"]["ct6e-standard-4t"]["spot"] == 3.86


def test_another_region_needs_its_prices_or_price_region():
    with pytest.raises(InputError) as error:
        estimate_cost(seed_000(location="us-east5-b"))
    assert error.value.field == "price_region" and "us-east5" in error.value.message
    estimate = estimate_cost(seed_000(location="us-east5-b", price_region="us-central1"))
    assert estimate["totals"]["base"]["on_demand"] == 374.0
    assert any("us-central1 used for an estate in us-east5" in note for note in estimate["notes"])
    east = {"regions": {"us-east5": {"gke_control_plane": {"monthly": 73}, "machine_types": {
        "e2-standard-4": {"on_demand": 0.1, "spot": 0.03}, "ct6e-standard-1t": {"on_demand": 2.7, "spot": 0.9},
        "ct6e-standard-4t": {"on_demand": 10.8, "spot": 3.6}}, "filestore": {"BASIC_HDD": {"tib_monthly": 200}}}}}
    estimate = estimate_cost(seed_000(location="us-east5-b", prices=east, usage_hours={"tpu-v6e-4": 10}))
    assert estimate["prices"]["region"] == "us-east5" and pool_line(estimate, "tpu-v6e-4")["spot"] == 36.0
    assert base_line(estimate, "system_nodes")["on_demand"] == 146.0


def test_multi_host_slice_costs_all_its_vms():
    slice_pool = {"name": "tpu-v5e-2x4", "tpu": {"accelerator": "v5e", "topology": "2x4",
                                                 "machine_type": "ct5lp-hightpu-4t"},
                  "spot": True, "autoscaling": {"min_nodes": 2, "max_nodes": 4}}
    v5e_prices = {"ct5lp-hightpu-4t": {"on_demand": 4.8, "spot": 1.5}}
    overrides = {"regions": {"us-central1": {"machine_types": v5e_prices}}}
    estimate = estimate_cost(seed_000(node_pools=[slice_pool], prices=overrides, usage_hours={"tpu-v5e-2x4": 10}))
    line = pool_line(estimate, "tpu-v5e-2x4")
    assert (line["vms_per_slice"], line["node_hours"]) == (2, 20)
    assert line["slice_rates"] == {"on_demand": 9.6, "spot": 3.0, "flex_start": None}
    assert (line["on_demand"], line["spot"], line["configured"]) == (96.0, 30.0, 30.0)
    # min_nodes 2 is one slice kept running all month: its two VMs are in the fixed base.
    minimum = base_line(estimate, "pool_minimum")
    assert (minimum["pool"], minimum["nodes"], minimum["spot"]) == ("tpu-v5e-2x4", 2, 2 * 730 * 1.5)
    # Two slices at most: more busy slice-hours than 2 x 730 cannot happen.
    with pytest.raises(InputError) as error:
        estimate_cost(seed_000(node_pools=[slice_pool], prices=overrides, usage_hours={"tpu-v5e-2x4": 1461}))
    assert error.value.field == "usage_hours.tpu-v5e-2x4" and "0 to 1460" in error.value.message


def test_an_entry_of_several_slices_is_priced_as_one_with_room_for_each():
    v5e = {"accelerator": "v5e", "topology": "2x4", "machine_type": "ct5lp-hightpu-4t"}
    sliced = {"name": "tpu-v5e-2x4", "tpu": v5e, "spot": True, "slices": 3,
              "autoscaling": {"min_nodes": 0, "max_nodes": 2}}
    overrides = {"regions": {"us-central1": {"machine_types": {"ct5lp-hightpu-4t": {"on_demand": 4.8, "spot": 1.5}}}}}
    params = seed_000(node_pools=[sliced], prices=overrides, scale_sets=[{"name": "v5e", "node_pool": "tpu-v5e-2x4"}])
    estimate = estimate_cost(dict(params, usage_hours={"v5e": 3 * 730}))
    assert [line["pool"] for line in estimate["pools"]] == ["tpu-v5e-2x4"]
    assert estimate["pools"][0]["spot"] == 3 * 730 * 2 * 1.5
    with pytest.raises(InputError) as error:
        estimate_cost(dict(params, usage_hours={"v5e": 3 * 730 + 1}))
    assert "0 to 2190" in error.value.message
    with pytest.raises(InputError) as error:
        estimate_cost(dict(params, node_pools=[dict(SEED_000_POOLS[0], slices=2)]))
    assert error.value.field.endswith("[tpu-v6e-1].slices")


def test_flex_start_at_spot_rate_unless_the_table_has_its_own():
    flex_pool = dict(SEED_000_POOLS[1], spot=False, flex_start=True)
    estimate = estimate_cost(seed_000(node_pools=[flex_pool], usage_hours={"tpu-v6e-4": 10}))
    line = pool_line(estimate, "tpu-v6e-4")
    assert (line["provisioning"], line["rate_basis"], line["configured"]) == ("flex_start", "spot", 38.6)
    assert any("flex-start priced at the spot rate" in note for note in estimate["notes"])
    own = {"regions": {"us-central1": {"machine_types": {"ct6e-standard-4t": {"flex_start": 6.0}}}}}
    estimate = estimate_cost(seed_000(node_pools=[flex_pool], usage_hours={"tpu-v6e-4": 10}, prices=own))
    line = pool_line(estimate, "tpu-v6e-4")
    assert (line["rate_basis"], line["configured"], line["spot"]) == ("flex_start", 60.0, 38.6)


def test_github_hosted_equivalent_for_the_same_hours():
    estimate = estimate_cost(seed_000(node_pools=SEED_000_POOLS + [T4_POOL],
                                      usage_hours={"gpu-t4": 30, "tpu-v6e-4": 5}))
    t4 = pool_line(estimate, "gpu-t4")
    assert t4["price_key"] == "n1-standard-4+1xnvidia-tesla-t4" and t4["configured"] == 21.0
    # Seed 001: $0.07 a minute.
    assert t4["github_hosted"] == {"runner": "linux-gpu-t4-4-core", "per_minute": 0.07, "minutes": 1800,
                                   "monthly": 126.0,
                                   "description": "GitHub-hosted Linux GPU runner, 4 cores, NVIDIA T4"}
    assert pool_line(estimate, "tpu-v6e-4")["github_hosted"] is None
    assert estimate["totals"]["github_hosted"] == {"pools": ["gpu-t4"], "monthly": 126.0,
                                                   "self_hosted_configured": 21.0}
    # No spot price for the T4 node: the spot column is unknown, not zero.
    assert t4["spot"] is None and estimate["totals"]["usage"]["spot"] is None
    assert estimate["totals"]["usage"]["configured"] == 21.0 + 19.3


def test_pools_off_gke_are_listed_not_priced():
    rocm = {"name": "mi300", "amd_gpu": {"count": 2}, "node_selector": {"pytorch": "yes"}}
    estimate = estimate_cost({"location": "us-central1-b", "node_pools": [rocm],
                              "scale_sets": [{"name": "linux-mi300-gpu-2", "node_pool": "mi300"}]})
    assert estimate["pools"] == [] and estimate["base"] == []
    assert estimate["unpriced"][0]["pool"] == "mi300"
    assert estimate["totals"]["monthly"] == {"on_demand": 0.0, "spot": 0.0, "configured": 0.0}
    with pytest.raises(InputError) as error:
        estimate_cost({"location": "us-central1-b", "node_pools": [rocm], "usage_hours": {"mi300": 3}})
    assert error.value.field == "usage_hours.mi300"


@pytest.mark.parametrize("overrides, field", [
    ({"usage_hours": {"arc-runner-v6e-9": 3}}, "usage_hours.arc-runner-v6e-9"),
    ({"usage_hours": {"tpu-v6e-4": -1}}, "usage_hours.tpu-v6e-4"),
    ({"usage_hours": {"tpu-v6e-4": "many"}}, "usage_hours.tpu-v6e-4"),
    ({"usage_scenarios": {"heavy": {"nobody": 1}}}, "usage_scenarios.heavy.nobody"),
    ({"location": "mars"}, "location"),
    ({"system_nodes": -2}, "system_nodes"),
    ({"node_pools": [{"name": "tpu", "tpu": {"accelerator": "v6e", "topology": "3x3"}}]}, "node_pools[tpu].tpu"),
    ({"node_pools": [{"name": "gpu", "gpu": {"type": "nvidia-l4", "count": 3}}]}, "node_pools[gpu].gpu"),
    ({"node_pools": [{"name": "empty"}]}, "node_pools[empty]"),
    ({"node_pools": [dict(SEED_000_POOLS[0], gpu={"type": "nvidia-l4"})]}, "node_pools[tpu-v6e-1]"),
    ({"node_pools": SEED_000_POOLS + SEED_000_POOLS[:1]}, "accelci_node_pools"),
    ({"scale_sets": [{"name": "x"}]}, "scale_sets[0]"),
    ({"scale_sets": [{"name": "orphan", "node_pool": "gone"}], "usage_hours": {"orphan": 1}}, "usage_hours.orphan"),
    ({"model_cache": {"backend": "nfs"}}, "model_cache.backend"),
    ({"prices": {"regions": {"us-central1": {"machine_types": {"e2-standard-4": {"spot": -1}}}}}},
     "prices.regions.us-central1.machine_types.e2-standard-4.spot"),
    ({"prices": {"regions": {"us-central1": {"machine_types": {"e2-standard-4": {"hourly": 1}}}}}},
     "prices.regions.us-central1.machine_types.e2-standard-4.hourly"),
    ({"prices": {"regions": {"us-central1": {"tpus": {}}}}}, "prices.regions.us-central1.tpus"),
    ({"prices": {"regions": {"us-central1": {"machine_types": {"x-1": {"source": "no price"}}}}}},
     "prices.regions.us-central1.machine_types.x-1"),
    ({"prices": {"currency": "EUR"}}, "prices.currency"),
    ({"prices": {"github_hosted": {"r": {"per_minute": True}}}}, "prices.github_hosted.r.per_minute"),
])
def test_bad_input_names_its_field(overrides, field):
    with pytest.raises(InputError) as error:
        estimate_cost(seed_000(**overrides))
    assert error.value.field == field


def test_an_estate_off_gke_needs_no_location_but_one_on_gke_does():
    rocm = {"name": "mi300", "amd_gpu": {"count": 2}, "node_selector": {"pytorch": "yes"}}
    estimate = estimate_cost({"node_pools": [rocm]})
    assert estimate["prices"]["region"] is None and estimate["unpriced"][0]["pool"] == "mi300"
    with pytest.raises(InputError) as error:
        estimate_cost(seed_000(location=None))
    assert error.value.field == "location"
    assert estimate_cost(seed_000(location=None, price_region="us-central1"))["totals"]["base"]["on_demand"] == 374.0


def test_the_locations_region_picks_the_prices():
    for location in ("europe-west4", "europe-west4-a"):
        with pytest.raises(InputError) as error:
            estimate_cost(seed_000(location=location))
        assert "no prices for region europe-west4" in error.value.message


def test_regional_location_is_said_in_notes():
    estimate = estimate_cost(seed_000(location="us-central1"))
    assert any("regional location us-central1" in note for note in estimate["notes"])
    assert not any("regional" in note for note in estimate_cost(seed_000())["notes"])


def test_pool_locations_multiply_per_zone_counts():
    pool = dict(SEED_000_POOLS[0], locations=["us-central1-a", "us-central1-b"],
                autoscaling={"min_nodes": 1, "max_nodes": 1})
    estimate = estimate_cost(seed_000(node_pools=[pool]))
    assert base_line(estimate, "pool_minimum")["nodes"] == 2
    with pytest.raises(InputError):
        estimate_cost(seed_000(node_pools=[pool], usage_hours={"tpu-v6e-1": 1461}))

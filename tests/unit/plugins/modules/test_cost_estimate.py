"""cost_estimate: the module end to end in-process - result keys, check mode, and refused input naming its field."""

import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.accelci.runners.plugins.modules import cost_estimate
from tests.unit.plugins.module_utils.cost.test_estimate import SEED_000_POOLS, SEED_000_SCALE_SETS


def run(capsys, check_mode=False, **options):
    args = {"location": "us-central1-b",
            "cluster": {"name": "sglang-arc-runners",
                        "system_pool": {"machine_type": "e2-standard-4", "min_nodes": 1, "max_nodes": 3}},
            "system_nodes": 2, "node_pools": SEED_000_POOLS, "scale_sets": SEED_000_SCALE_SETS,
            "model_cache": {"backend": "filestore", "filestore": {"tier": "BASIC_HDD", "capacity_gb": 1024}},
            "usage_hours": {"arc-runner-v6e-4": 25}, "_ansible_check_mode": check_mode}
    args.update(options)
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            cost_estimate.main()
    return json.loads(capsys.readouterr().out)


def test_seed_000_estimate_never_changes_anything(capsys):
    result = run(capsys)
    assert result["changed"] is False and "failed" not in result
    estimate = result["cost_estimate"]
    assert estimate["totals"]["base"] == {"on_demand": 374.0, "spot": 306.0, "configured": 374.0}
    assert estimate["totals"]["usage"]["spot"] == 96.5
    assert estimate["prices"]["as_of"] == "2026-01"
    assert result["markdown"].startswith("# Monthly cost estimate: sglang-arc-runners")


def test_check_mode_gives_the_same_estimate(capsys):
    normal = run(capsys)
    checked = run(capsys, check_mode=True)
    assert checked["changed"] is False
    assert checked["cost_estimate"] == normal["cost_estimate"] and checked["markdown"] == normal["markdown"]


def test_string_options_from_templates_are_converted(capsys):
    result = run(capsys, system_nodes="2", storage_tib="0.5", model_cache={"backend": "gcs", "bucket": "m"})
    base = dict((line["item"], line) for line in result["cost_estimate"]["base"])
    assert base["system_nodes"]["on_demand"] == 97.0 and base["model_cache"]["on_demand"] == 13.0


def test_unknown_machine_type_fails_naming_field_and_machine_type(capsys):
    l4 = {"name": "gpu-l4", "gpu": {"type": "nvidia-l4", "count": 1}, "machine_type": "g2-standard-8",
          "autoscaling": {"min_nodes": 0, "max_nodes": 2}}
    result = run(capsys, node_pools=SEED_000_POOLS + [l4])
    assert result["failed"] is True and result["changed"] is False
    assert result["field"] == "node_pools[gpu-l4].gpu" and result["machine_type"] == "g2-standard-8"
    assert "no price for machine type g2-standard-8 in us-central1" in result["msg"]
    assert "cost_estimate" not in result


def test_price_override_through_the_module(capsys):
    prices = {"regions": {"us-central1": {"machine_types": {"ct6e-standard-4t": {"spot": 4}}}}}
    result = run(capsys, prices=prices)
    assert result["cost_estimate"]["totals"]["usage"]["spot"] == 100.0
    assert result["cost_estimate"]["prices"]["overridden"] == ["regions.us-central1.machine_types.ct6e-standard-4t"]

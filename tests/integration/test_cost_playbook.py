"""playbooks/cost.yml with ansible-playbook: the sandbox estate's table and files, seed 000 reproduced from the
tpu-v6e inventory, check mode, and a machine type without a price refused by name."""

import json
import os
import re
import textwrap

import pytest

from tests.integration.playbook_runner import ROOT, run_playbook

pytestmark = pytest.mark.integration

PLAYBOOK = "playbooks/cost.yml"


def inventory(name):
    return os.path.join(ROOT, "inventories", name)


def printed_report(stdout):
    """The report the 'Show the estimate' task printed (a YAML block scalar under msg), dedented."""
    match = re.search(r"TASK \[Show the estimate\].*?msg: \|-?\n(.*?)\n\n(?:TASK|PLAY) ", stdout, re.S)
    assert match, stdout[-4000:]
    return textwrap.dedent(match.group(1))


def cells(report, first_cell):
    for line in report.splitlines():
        row = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and row[0] == first_cell:
            return row
    raise AssertionError("no row %r in\n%s" % (first_cell, report))


def money(amount):
    return "$%s" % format(amount, ",.2f")


def test_sandbox_estimate_table_and_files(tmp_path):
    report = tmp_path / "reports" / "sandbox"
    run = run_playbook(PLAYBOOK, inventory("sandbox"), extra_vars={"accelci_cost_report": str(report)})
    assert run.rc == 0 and run.failed == 0, run
    printed = printed_report(run.stdout)
    with open(str(report) + ".md") as handle:
        assert handle.read() == printed + "\n"
    with open(str(report) + ".json") as handle:
        estimate = json.load(handle)

    # Every GKE pool of the sandbox is priced; the multi-host v5e slice pays for both its VMs.
    pools = dict((line["pool"], line) for line in estimate["pools"])
    assert sorted(pools) == ["gpu-l4", "tpu-v5e-2x4", "tpu-v6e-1", "tpu-v6e-4"]
    v5e = pools["tpu-v5e-2x4"]
    assert v5e["vms_per_slice"] == 2 and v5e["node_hours"] == 2 * v5e["usage_hours"]
    # Usage given per scale set lands on its pool.
    assert pools["tpu-v6e-1"]["usage_hours"] > 0 and pools["gpu-l4"]["usage_hours"] > 0
    assert estimate["prices"]["as_of"] == "2026-01"
    assert "regions.us-central1.machine_types.g2-standard-8" in estimate["prices"]["overridden"]

    # The printed table carries the JSON's figures.
    totals = estimate["totals"]
    assert cells(printed, "**Base**")[2:] == ["**%s**" % money(totals["base"][c]) for c in
                                              ("on_demand", "spot", "configured")]
    assert cells(printed, "Usage")[1] == money(totals["usage"]["on_demand"])
    assert cells(printed, "**Total**")[3] == "**%s**" % money(totals["monthly"]["configured"])
    assert cells(printed, "tpu-v5e-2x4")[1] == "ct5lp-hightpu-4t x 2"
    # The L4 placeholder has no spot price: n/a, never $0.00.
    assert totals["monthly"]["spot"] is None and cells(printed, "**Total**")[2] == "**n/a**"
    assert [s["name"] for s in estimate["scenarios"]] == ["light", "medium", "heavy"]

    again = run_playbook(PLAYBOOK, inventory("sandbox"), extra_vars={"accelci_cost_report": str(report)})
    assert again.rc == 0 and again.changed == 0, again


def test_check_mode_prints_and_writes_nothing(tmp_path):
    report = tmp_path / "sandbox"
    run = run_playbook(PLAYBOOK, inventory("sandbox"), extra_args=["--check"],
                       extra_vars={"accelci_cost_report": str(report)})
    assert run.rc == 0, run
    assert "## Fixed base" in printed_report(run.stdout)
    assert not os.path.exists(str(report) + ".json") and not os.path.exists(str(report) + ".md")


def test_seed_000_reproduced_from_the_tpu_v6e_inventory(tmp_path):
    # Seed 000's cost table assumes 2 system nodes and a 1 TB Basic HDD Filestore share.
    seed_inputs = {
        "accelci_cost_report": str(tmp_path / "seed-000"),
        "accelci_cost_system_nodes": 2,
        "accelci_model_cache": {"backend": "filestore", "mount_path": "/models",
                                "filestore": {"tier": "BASIC_HDD", "capacity_gb": 1024}},
        "accelci_cost_usage_scenarios": {"light": {"arc-runner-v6e-4": 5}, "medium": {"arc-runner-v6e-4": 25},
                                         "heavy": {"arc-runner-v6e-4": 50}},
    }
    run = run_playbook(PLAYBOOK, inventory("tpu-v6e"), extra_vars=seed_inputs)
    assert run.rc == 0, run
    with open(str(tmp_path / "seed-000.json")) as handle:
        estimate = json.load(handle)
    assert estimate["totals"]["base"]["on_demand"] == 374.0 and estimate["totals"]["base"]["spot"] == 306.0
    assert [(s["name"], s["usage"]["spot"]) for s in estimate["scenarios"]] == [
        ("light", 19.3), ("medium", 96.5), ("heavy", 193.0)]
    printed = printed_report(run.stdout)
    assert cells(printed, "System nodes")[2:4] == ["$97.00", "$29.00"]
    assert cells(printed, "Model cache")[2] == "$204.00"


def test_unpriced_machine_type_fails_naming_it(tmp_path):
    builders = {"name": "builders", "machine_type": "c3-standard-8", "autoscaling": {"min_nodes": 0, "max_nodes": 2}}
    run = run_playbook(PLAYBOOK, inventory("tpu-v6e"), extra_vars={
        "accelci_cost_report": str(tmp_path / "tpu"), "accelci_node_pools": [builders]})
    assert run.rc != 0 and run.failed == 1
    assert "node_pools[builders].machine_type: no price for machine type c3-standard-8 in us-central1" in " ".join(
        run.stdout.split())
    assert not os.path.exists(str(tmp_path / "tpu.json"))

"""The molecule scenarios under molecule/, each through the harness `make molecule` uses (tests/molecule/harness.py),
against stand-ins of its own: molecule's steps ran in order, the first converge made the estate, the second changed
nothing, and playbooks/verify.yml passed (when it is in the tree; molecule skips a missing verify playbook).

`make test` runs the scenarios in DEFAULT_SCENARIOS (a few minutes each); `make molecule` runs every scenario.
ACCELCI_MOLECULE_SCENARIOS=all (or a comma-separated list of names) makes pytest run others too.
"""

import os
import re

import pytest

from tests.molecule.harness import VERIFY_PLAYBOOK, run_scenario, scenario_names

pytestmark = [pytest.mark.integration, pytest.mark.kube, pytest.mark.molecule]

DEFAULT_SCENARIOS = ("default",)
KUBECONFIG_TASK_RE = re.compile(r"^TASK \[accelci\.runners\.cluster : Write the kubeconfig that reaches cluster \S+\] \**\n"
                                r"(changed|ok|skipping):", re.M)
STEPS = ["syntax", "converge", "idempotence", "verify", "cleanup", "destroy"]


def selected(name):
    wanted = os.environ.get("ACCELCI_MOLECULE_SCENARIOS", "").strip()
    if wanted == "all":
        return True
    return name in ([w.strip() for w in wanted.split(",")] if wanted else DEFAULT_SCENARIOS)


def scenario_params():
    return [pytest.param(name, marks=() if selected(name) else pytest.mark.skip(
        reason="make molecule runs it (or ACCELCI_MOLECULE_SCENARIOS=%s)" % name)) for name in scenario_names()]


@pytest.fixture(scope="module", params=scenario_params())
def scenario(request):
    return run_scenario(request.param)


def test_every_step_runs_in_order_and_the_scenario_passes(scenario):
    assert list(scenario.steps) == STEPS, scenario
    for step in ("syntax", "converge", "idempotence"):
        assert scenario.steps[step] == "Executed: Successful", scenario
    assert scenario.passed, scenario


def test_the_first_converge_makes_the_estate_and_the_second_changes_nothing(scenario):
    first, second = scenario.recap("converge"), scenario.recap("idempotence")
    assert list(first) == ["localhost"] and list(second) == ["localhost"], scenario
    # Fresh stand-ins: the first converge creates the cluster, its pools, the bucket and the rest.
    assert first["localhost"]["changed"] > 0 and first["localhost"]["failed"] == 0, scenario
    assert second["localhost"]["changed"] == 0 and second["localhost"]["failed"] == 0, scenario
    assert second["localhost"]["ok"] == first["localhost"]["ok"], scenario


def test_verify_runs_the_verify_playbook_and_passes(scenario):
    if not os.path.exists(VERIFY_PLAYBOOK):
        assert scenario.steps["verify"].startswith("Executed: Missing playbook"), scenario
        pytest.skip("playbooks/verify.yml is not in the tree: molecule skipped the verify step")
    assert scenario.steps["verify"] == "Executed: Successful", scenario
    recap = scenario.recap("verify")
    assert recap["localhost"]["failed"] == 0, scenario
    assert "PASS" in scenario.step_output("verify") and "FAIL " not in scenario.step_output("verify"), scenario


def kubeconfig_task_result(scenario):
    """What the first converge's "Write the kubeconfig" task did: changed (apply) or skipping (render)."""
    match = KUBECONFIG_TASK_RE.search(scenario.step_output("converge"))
    assert match, scenario
    return match.group(1)


def test_only_the_render_scenario_writes_files_instead_of_applying(scenario):
    if scenario.name != "render":
        assert scenario.rendered == [], scenario.rendered
        assert kubeconfig_task_result(scenario) == "changed", scenario
        return
    tops = {path.split(os.sep, 1)[0] for path in scenario.rendered}
    assert {"arc", "storage", "_cluster"} <= tops, scenario.rendered
    assert kubeconfig_task_result(scenario) == "skipping", scenario

"""A scale set release as plan / render / apply: install / upgrade / no-op / recreate decisions from recorded helm
outputs, the GitHub Secret's owner rule, and render mode writing files (no Kubernetes API here)."""
import json
import os

import pytest
import yaml

from ansible_collections.accelci.runners.plugins.module_utils.arc import release_manager, scale_set
from ansible_collections.accelci.runners.plugins.module_utils.arc.scale_set_manager import run_scale_set
from ansible_collections.accelci.runners.plugins.module_utils.gke.catalog import scheduling_profile
from ansible_collections.accelci.runners.plugins.module_utils.helm.release import release_action
from ansible_collections.accelci.runners.plugins.module_utils.k8s.delivery_manager import K8sDelivery

from tests.unit.plugins.module_utils.arc.helm_fakes import (
    PEM,
    TPU_V6E_1,
    FakeModule,
    ObjectRecorder,
    failure,
    recorded,
    scale_set_params,
    scale_set_routes,
)


@pytest.fixture(autouse=True)
def record_objects(monkeypatch):
    ObjectRecorder.ensured = []
    monkeypatch.setattr(release_manager, "K8sDelivery", ObjectRecorder)


def desired_values(params):
    return scale_set.plan_scale_set(params)["values"]


def test_release_action_from_recorded_lists():
    entry = json.loads(recorded("list-scale-set-deployed.json"))[0]
    assert release_action(None, {}, "gha-runner-scale-set", "0.14.2", {"a": 1}) == ("install", "release not found")
    assert release_action(entry, {"a": 1}, "gha-runner-scale-set", "0.14.2", {"a": 1})[0] == "none"
    assert release_action(entry, {"a": 1}, "gha-runner-scale-set", "0.14.2", {"a": 2}) == ("upgrade", "values differ")
    old = json.loads(recorded("list-scale-set-old.json"))[0]
    assert release_action(old, {"a": 1}, "gha-runner-scale-set", "0.14.2", {"a": 1}) == (
        "upgrade", "chart version 0.13.1 -> 0.14.2")
    failed = json.loads(recorded("list-scale-set-failed.json"))[0]
    assert release_action(failed, {"a": 1}, "gha-runner-scale-set", "0.14.2", {"a": 1}) == (
        "upgrade", "release status is failed")


# -- plan (pure) --------------------------------------------------------------------------------------------------------


def test_plan_builds_values_and_objects_without_touching_anything():
    params = scale_set_params(existing_secret=None, github_secret_name="accelci-github", github_token="ghp_plan",
                              job_policy={"allowed_events": ["push"]})
    plan = scale_set.plan_scale_set(params)
    assert plan["values"]["githubConfigSecret"] == "accelci-github"
    assert [(m["kind"], m["metadata"]["name"], secret) for m, secret in plan["objects"]] == [
        ("Secret", "accelci-github", True), ("ConfigMap", "arc-runner-v6e-1-accelci-hooks", False)]
    assert plan["secrets"] == ["ghp_plan"]
    assert plan["summary"]["runs_on"] == ["arc-runner-v6e-1"]
    assert "ghp_plan" not in json.dumps(plan["values"]) and ObjectRecorder.ensured == []


@pytest.mark.parametrize("params, expected", [
    (dict(existing_secret="pytorch-secret"), ("pytorch-secret", None)),
    (dict(existing_secret=None, github_secret_name="accelci-github"), ("accelci-github", None)),
    (dict(existing_secret=None), ("arc-runner-v6e-1-github-config", "arc-runner-v6e-1-github-config")),
])
def test_secret_names_and_ownership(params, expected):
    assert scale_set.secret_names(scale_set_params(**params)) == expected


def test_scale_set_action_decisions():
    plan = scale_set.plan_scale_set(scale_set_params(labels=["tpu"]))
    deployed = json.loads(recorded("list-scale-set-deployed.json"))[0]
    assert scale_set.scale_set_action(plan, None, {}, "0.14.2", False) == ("install", "release not found")
    assert scale_set.scale_set_action(plan, deployed, plan["values"], "0.14.2", False)[0] == "none"
    relabelled = dict(plan["values"], scaleSetLabels=["gpu"])
    assert scale_set.scale_set_action(plan, deployed, relabelled, "0.14.2", True) == (
        "recreate", "labels ['gpu'] -> ['tpu']")
    with pytest.raises(Exception, match="was created with labels"):
        scale_set.scale_set_action(plan, deployed, relabelled, "0.14.2", False)


# -- apply --------------------------------------------------------------------------------------------------------------


def test_scale_set_install_then_no_op():
    params = scale_set_params()
    module = FakeModule(params, scale_set_routes("list-empty.json"))
    result = run_scale_set(module)
    assert result["changed"] and result["scale_set"]["action"] == "install"
    upgrade = next(c for c in module.commands if c[0] == "upgrade")
    assert upgrade[:4] == ["upgrade", "arc-runner-v6e-1",
                           "oci://ghcr.io/actions/actions-runner-controller-charts/gha-runner-scale-set", "--install"]
    assert "--version" in upgrade and upgrade[upgrade.index("--version") + 1] == "0.14.2"

    module = FakeModule(params, scale_set_routes("list-scale-set-deployed.json", desired_values(params)))
    result = run_scale_set(module)
    assert not result["changed"] and result["scale_set"]["action"] == "none"
    assert "upgrade" not in module.verbs()


def test_scale_set_upgrade_on_value_change_and_check_mode_changes_nothing():
    params = scale_set_params()
    current = desired_values(params)
    current["maxRunners"] = 2
    module = FakeModule(params, scale_set_routes("list-scale-set-deployed.json", current), check_mode=True)
    result = run_scale_set(module)
    assert result["changed"] and result["scale_set"]["action"] == "upgrade"
    assert "maxRunners" in result["scale_set"]["changed_values"]
    assert result["diff"]["before"]["maxRunners"] == 2 and result["diff"]["after"]["maxRunners"] == 4
    assert "upgrade" not in module.verbs() and "uninstall" not in module.verbs()


def test_label_change_is_refused_with_an_explanation():
    params = scale_set_params(labels=["tpu", "v6e"])
    current = desired_values(scale_set_params(labels=["tpu"]))
    module = FakeModule(params, scale_set_routes("list-scale-set-deployed.json", current))
    msg = failure(run_scale_set, module)["msg"]
    assert "was created with labels ['tpu'] and now asks for ['tpu', 'v6e']" in msg
    assert "recreate_on_label_change=true" in msg
    assert "upgrade" not in module.verbs() and ObjectRecorder.ensured == []


def test_label_change_recreates_when_asked():
    params = scale_set_params(labels=["tpu", "v6e"], recreate_on_label_change=True)
    current = desired_values(scale_set_params(labels=["tpu"]))
    module = FakeModule(params, scale_set_routes("list-scale-set-deployed.json", current))
    result = run_scale_set(module)
    assert result["scale_set"]["action"] == "recreate"
    verbs = module.verbs()
    assert verbs.index("uninstall") < verbs.index("upgrade")
    uninstall = next(c for c in module.commands if c[0] == "uninstall")
    assert "--wait=watcher" in uninstall


def test_failed_release_is_upgraded_without_rollback_target():
    params = scale_set_params()
    module = FakeModule(params, scale_set_routes("list-scale-set-failed.json", desired_values(params),
                                                 upgrade=(1, "", "Error: UPGRADE FAILED: context deadline exceeded")))
    failed = failure(run_scale_set, module)
    assert failed["rc"] == 1 and "UPGRADE FAILED" in failed["stderr"]
    assert "rollback" not in module.verbs()  # a failed release has no deployed revision to return to


def test_failed_upgrade_of_a_deployed_release_rolls_back():
    params = scale_set_params(max_runners=6)
    module = FakeModule(params, scale_set_routes("list-scale-set-deployed.json", desired_values(scale_set_params()),
                                                 upgrade=(1, "", "Error: UPGRADE FAILED: timed out waiting")))
    assert "rolled back to revision 3" in failure(run_scale_set, module)["msg"]
    rollback = next(c for c in module.commands if c[0] == "rollback")
    assert rollback[:3] == ["rollback", "arc-runner-v6e-1", "3"]


def test_scale_set_refused_when_the_controller_runs_another_version():
    module = FakeModule(scale_set_params(), scale_set_routes("list-empty.json", controller="list-controller-old.json"))
    assert "runs chart 0.13.1 but this scale set asks for 0.14.2" in failure(run_scale_set, module)["msg"]


def test_scale_set_refused_when_the_controller_runs_as_another_service_account():
    routes = scale_set_routes("list-empty.json", controller_values="get-values-all-controller-custom-sa.json")
    assert failure(run_scale_set, FakeModule(scale_set_params(), routes))["msg"] == (
        "The ARC controller arc-systems/arc runs as service account platform-arc but this scale set would grant "
        "arc-gha-rs-controller: set controller_service_account=platform-arc")
    module = FakeModule(scale_set_params(controller_service_account="platform-arc"), routes)
    assert run_scale_set(module)["scale_set"]["action"] == "install"


def test_app_credentials_go_to_a_secret_never_to_helm():
    params = scale_set_params(existing_secret=None, github_app_id="1234567", github_app_installation_id="89012345",
                              github_app_private_key=PEM, job_policy={"allowed_events": ["push"]})
    module = FakeModule(params, scale_set_routes("list-empty.json"))
    result = run_scale_set(module)
    assert ("Secret", "arc-runner-v6e-1-github-config", True) in ObjectRecorder.ensured
    assert ("ConfigMap", "arc-runner-v6e-1-accelci-hooks", False) in ObjectRecorder.ensured
    assert all("MIIdecisiontestsecret" not in " ".join(c) for c in module.commands)
    assert "MIIdecisiontestsecret" not in json.dumps(result)
    assert PEM in module.no_log_values
    assert result["scale_set"]["values"]["githubConfigSecret"] == "arc-runner-v6e-1-github-config"


def test_shared_secret_is_written_by_every_scale_set_with_the_same_content():
    written = []
    for name in ("arc-runner-v6e-1", "arc-runner-v6e-4"):
        params = scale_set_params(name=name, existing_secret=None, github_secret_name="accelci-github",
                                  github_token="ghp_shared")
        plan = scale_set.plan_scale_set(params)
        written.append(next(m for m, secret in plan["objects"] if secret))
        result = run_scale_set(FakeModule(params, scale_set_routes("list-empty.json")))
        assert result["scale_set"]["values"]["githubConfigSecret"] == "accelci-github"
    assert written[0] == written[1] and written[0]["metadata"]["name"] == "accelci-github"
    assert [e for e in ObjectRecorder.ensured if e[0] == "Secret"] == [("Secret", "accelci-github", True)] * 2


@pytest.mark.parametrize("params, removed_secret", [
    (dict(existing_secret=None), "arc-runner-v6e-1-github-config"),
    (dict(existing_secret=None, github_secret_name="accelci-github"), None),
    (dict(existing_secret="accelci-github"), None),
])
def test_absent_deletes_only_the_secret_the_scale_set_owns(params, removed_secret):
    module = FakeModule(scale_set_params(state="absent", **params), scale_set_routes("list-scale-set-deployed.json"))
    result = run_scale_set(module)
    assert result["changed"] and result["scale_set"]["action"] == "uninstall"
    removed = [name for kind, name, _s in ObjectRecorder.ensured if kind == "remove Secret"]
    assert removed == ([removed_secret] if removed_secret else [])
    assert ("remove ConfigMap", "arc-runner-v6e-1-accelci-hooks", False) in ObjectRecorder.ensured
    assert module.verbs() == ["version", "list", "uninstall"]


@pytest.mark.parametrize("overrides, message", [
    (dict(name="a-very-long-scale-set-name-that-is-over-45-chars"), "ARC accepts at most 45"),
    (dict(min_runners=5, max_runners=2), "min_runners (5) is greater than max_runners (2)"),
    (dict(existing_secret=None), "GitHub credentials are missing"),
    (dict(existing_secret=None, github_token="ghp_abc", github_app_id="1", github_app_installation_id="2",
          github_app_private_key=PEM), "not both"),
    (dict(node_pool=scheduling_profile({"name": "big", "tpu": {"accelerator": "v6e", "topology": "4x4"}})),
     "multi-host TPU slice"),
    (dict(node_pool={"name": "tpu-v6e-1", "tpu": {"accelerator": "v6e", "topology": "1x1"}}),
     "node_pool: got a node pool entry (tpu-v6e-1), not its scheduling profile"),
    (dict(node_pool=dict(TPU_V6E_1, extra=1)), "node_pool: unknown keys extra"),
    (dict(labels=["x" * 300]), "non-empty string of less than 256 characters"),
])
def test_invalid_inputs_fail_before_any_helm_call(overrides, message):
    module = FakeModule(scale_set_params(**overrides), scale_set_routes("list-empty.json"))
    assert message in failure(run_scale_set, module)["msg"]
    assert module.commands == [] and ObjectRecorder.ensured == []


# -- render -------------------------------------------------------------------------------------------------------------


def render_params(tmp_path, **overrides):
    return scale_set_params(delivery="render", render_dir=str(tmp_path), job_policy={"allowed_events": ["push"]},
                            **overrides)


@pytest.fixture
def rendering(monkeypatch):
    """The real K8sDelivery: render mode writes files and needs no cluster."""
    monkeypatch.setattr(release_manager, "K8sDelivery", K8sDelivery)


def test_render_writes_values_gitops_and_hooks_but_never_the_secret(tmp_path, rendering):
    params = render_params(tmp_path, existing_secret=None, github_secret_name="accelci-github",
                           github_token="ghp_render_only")
    module = FakeModule(params, [])
    result = run_scale_set(module)
    summary = result["scale_set"]
    assert result["changed"] and summary["action"] == "render" and module.commands == []
    arc = os.path.join(str(tmp_path), "arc")
    assert sorted(os.listdir(os.path.join(arc, "arc-runners"))) == [
        "configmap-arc-runner-v6e-1-accelci-hooks.yaml", "helmrelease-arc-runner-v6e-1.yaml",
        "ocirepository-arc-runner-v6e-1.yaml"]
    with open(os.path.join(arc, "values", "arc-runner-v6e-1.yaml")) as handle:
        assert yaml.safe_load(handle)["githubConfigSecret"] == "accelci-github"
    assert any("Secret arc-runners/accelci-github is a secret and is not rendered" in n for n in summary["notes"])
    text = "".join(open(os.path.join(d, f)).read() for d, _s, fs in os.walk(str(tmp_path)) for f in fs)
    assert "ghp_render_only" not in text and "ghp_render_only" not in json.dumps(result)

    again = run_scale_set(FakeModule(params, []))
    assert not again["changed"]

    removed = run_scale_set(FakeModule(dict(params, state="absent"), []))
    assert removed["changed"] and removed["scale_set"]["action"] == "remove"
    assert os.listdir(os.path.join(arc, "arc-runners")) == []
    assert not os.path.exists(os.path.join(arc, "values", "arc-runner-v6e-1.yaml"))


def test_render_without_credentials_says_which_secret_to_create(tmp_path, rendering):
    result = run_scale_set(FakeModule(render_params(tmp_path), []))
    assert result["scale_set"]["notes"] == [
        "githubConfigSecret names Secret arc-runners/accelci-github: create it out of band with github_app_id, "
        "github_app_installation_id and github_app_private_key (or github_token)"]

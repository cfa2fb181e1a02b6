"""The controller release: the documented upgrade order, removal order and no-op, from recorded helm outputs."""
import pytest

from ansible_collections.accelci.runners.plugins.module_utils.arc import controller_manager, release_manager
from ansible_collections.accelci.runners.plugins.module_utils.arc.controller_manager import run_controller
from ansible_collections.accelci.runners.plugins.module_utils.arc.values import controller_values

from tests.unit.plugins.module_utils.arc.helm_fakes import (
    FakeModule,
    ObjectRecorder,
    controller_params,
    controller_routes,
    failure,
)


@pytest.fixture(autouse=True)
def record_objects(monkeypatch):
    ObjectRecorder.ensured = []
    monkeypatch.setattr(release_manager, "K8sDelivery", ObjectRecorder)
    monkeypatch.setattr(controller_manager, "K8sDelivery", ObjectRecorder)


def test_controller_upgrade_refused_while_old_scale_sets_exist():
    routes = controller_routes("list-controller-old.json", "list-all-namespaces.json", {"flags": {"logLevel": "info"}})
    module = FakeModule(controller_params(), routes)
    msg = failure(run_controller, module)["msg"]
    assert "0.13.1 -> 0.14.2" in msg and "arc-runners/arc-runner-v6e-1, arc-runners/arc-runner-v6e-4" in msg
    assert "reinstall_scale_sets=true" in msg
    assert "upgrade" not in module.verbs() and "uninstall" not in module.verbs()


def test_controller_upgrade_in_the_documented_order():
    module = FakeModule(controller_params(reinstall_scale_sets=True),
                        controller_routes("list-controller-old.json", "list-all-namespaces.json", {}))
    result = run_controller(module)
    verbs = module.verbs()
    uninstalled = [c[1] for c in module.commands if c[0] == "uninstall"]
    assert uninstalled == ["arc-runner-v6e-1", "arc-runner-v6e-4"]  # ingress-nginx is left alone
    assert verbs.index("uninstall") < verbs.index("upgrade")
    crds = [name for kind, name, _s in ObjectRecorder.ensured if kind == "CustomResourceDefinition"]
    assert "autoscalingrunnersets.actions.github.com" in crds and len(crds) == 4
    assert result["controller"]["action"] == "upgrade"
    assert [s["name"] for s in result["controller"]["removed_scale_sets"]] == ["arc-runner-v6e-1", "arc-runner-v6e-4"]


def test_controller_upgrade_in_check_mode_touches_nothing():
    module = FakeModule(controller_params(reinstall_scale_sets=True),
                        controller_routes("list-controller-old.json", "list-all-namespaces.json", {}), check_mode=True)
    result = run_controller(module)
    assert result["changed"] and result["controller"]["action"] == "upgrade"
    assert "uninstall" not in module.verbs() and "upgrade" not in module.verbs()


def test_controller_no_op():
    params = controller_params()
    module = FakeModule(params, controller_routes("list-controller-deployed.json", "list-controller-deployed.json",
                                                  controller_values(params)))
    result = run_controller(module)
    assert not result["changed"] and result["controller"]["action"] == "none"
    assert result["controller"]["service_account"] == {"name": "arc-gha-rs-controller", "namespace": "arc-systems"}


def test_controller_removal_refused_while_scale_sets_exist_then_done_in_order():
    routes = controller_routes("list-controller-old.json", "list-all-namespaces.json")
    msg = failure(run_controller, FakeModule(controller_params(state="absent"), routes))["msg"]
    assert "Refusing to remove the ARC controller arc-systems/arc while scale sets exist" in msg
    module = FakeModule(controller_params(state="absent", remove_scale_sets=True), routes)
    run_controller(module)
    assert [c[1] for c in module.commands if c[0] == "uninstall"] == ["arc-runner-v6e-1", "arc-runner-v6e-4", "arc"]

"""ARC input checked before use: the estate's accelci_arc settings, the chart version, and validate_only (the arc
role's preflight pass) refusing or accepting without a helm call, a file or an object."""

import os

import pytest

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import InputError
from ansible_collections.accelci.runners.plugins.module_utils.arc import release_manager
from ansible_collections.accelci.runners.plugins.module_utils.arc.controller_manager import run_controller
from ansible_collections.accelci.runners.plugins.module_utils.arc.defaults import arc_settings
from ansible_collections.accelci.runners.plugins.module_utils.arc.scale_set_manager import run_scale_set
from tests.unit.plugins.module_utils.arc.helm_fakes import (
    PEM,
    FakeModule,
    ObjectRecorder,
    controller_params,
    scale_set_params,
)


@pytest.fixture(autouse=True)
def record_objects(monkeypatch):
    ObjectRecorder.ensured = []
    monkeypatch.setattr(release_manager, "K8sDelivery", ObjectRecorder)


@pytest.mark.parametrize("settings, field, accepted", [
    ({"version": "latest"}, "accelci_arc.version", "accepted: MAJOR.MINOR.PATCH such as 0.14.2"),
    ({"version": "0.14"}, "accelci_arc.version", "accepted: MAJOR.MINOR.PATCH"),
    ({"version": "0.14.2; rm -rf /"}, "accelci_arc.version", "accepted: MAJOR.MINOR.PATCH"),
    ({"version": "v0.14.2"}, "accelci_arc.version", "accepted: MAJOR.MINOR.PATCH"),
    ({"runners_namespace": "Team_A"}, "accelci_arc.runners_namespace", "not a namespace name"),
    ({"controller_namespace": "x" * 64}, "accelci_arc.controller_namespace", "at most 63"),
    ({"controller_release": "ARC!"}, "accelci_arc.controller_release", "not a Helm release name"),
    ({"controller": "metrics"}, "accelci_arc.controller", "must be a mapping"),
    ("0.14.2", "accelci_arc", "must be a mapping"),
])
def test_arc_settings_refuse_what_the_charts_would(settings, field, accepted):
    with pytest.raises(InputError) as failure:
        arc_settings(settings)
    assert failure.value.field == field
    assert accepted in failure.value.message


def test_arc_settings_accept_a_prerelease_version():
    assert arc_settings({"version": "0.15.0-rc.1"})["version"] == "0.15.0-rc.1"


@pytest.mark.parametrize("version", ["latest", "0.14", "", None])
def test_modules_refuse_a_version_that_is_not_a_chart_version(version):
    module = FakeModule(scale_set_params(version=version, validate_only=True), [])
    with pytest.raises(InputError) as failure:
        run_scale_set(module)
    assert failure.value.field == "version"
    module = FakeModule(controller_params(version=version, validate_only=True), [])
    with pytest.raises(InputError) as failure:
        run_controller(module)
    assert failure.value.field == "version"
    assert module.commands == []


def test_validate_only_checks_everything_and_touches_nothing(tmp_path):
    params = scale_set_params(delivery="render", render_dir=str(tmp_path / "r"), validate_only=True,
                              existing_secret=None, github_secret_name="accelci-github", github_app_id="1",
                              github_app_installation_id="2", github_app_private_key=PEM)
    module = FakeModule(params, [])  # no helm route: any helm call would fail the test
    result = run_scale_set(module)
    assert result["changed"] is False and result["scale_set"]["action"] == "validate"
    assert result["scale_set"]["runner_pod"]["resources"]["limits"]["google.com/tpu"] == 1
    assert module.commands == [] and ObjectRecorder.ensured == []
    assert not os.path.exists(str(tmp_path / "r"))
    assert "MIIdecisiontestsecret" not in repr(result)

    controller = FakeModule(controller_params(delivery="render", render_dir=str(tmp_path / "r"), chart_ref=None,
                                              validate_only=True), [])
    result = run_controller(controller)
    assert result["changed"] is False and result["controller"]["action"] == "validate"
    assert controller.commands == [] and not os.path.exists(str(tmp_path / "r"))


def test_validate_only_refuses_a_bad_scale_set_before_anything_is_written(tmp_path):
    params = scale_set_params(delivery="render", render_dir=str(tmp_path / "r"), validate_only=True,
                              resources={"requests": {"cpu": "lots"}})
    module = FakeModule(params, [])
    with pytest.raises(InputError) as failure:
        run_scale_set(module)
    assert failure.value.field == "resources.requests.cpu"
    assert module.commands == [] and ObjectRecorder.ensured == [] and not os.path.exists(str(tmp_path / "r"))

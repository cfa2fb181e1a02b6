"""k8s: input from outside never escapes the render directory, Secret values never reach a message, and the
default Kubernetes version is one kubernetes-validate can check."""

import json

import pytest
from kubernetes_validate import utils as kv_utils

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import InputError
from ansible_collections.accelci.runners.plugins.module_utils.k8s import delivery_manager as kd
from ansible_collections.accelci.runners.plugins.module_utils.k8s import manifests, validation
from tests.unit.plugins.module_utils.k8s.test_delivery_manager import SERVICE_ACCOUNT, ExitModule

PLANTED = "planted-secret-Zq8v3"
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEplantedkeybody%s\n-----END RSA PRIVATE KEY-----\n" % PLANTED


def files_under(path):
    return sorted(str(p) for p in path.rglob("*")) if path.exists() else []


@pytest.mark.parametrize("subdir", ["../../x", "../x", "a/../../x", "/tmp/x", "a//b", "./a", "a\\..\\x", "a\x00b"])
def test_render_subdir_outside_the_render_dir_is_refused_before_anything_is_written(tmp_path, subdir):
    module = ExitModule({"delivery": "render", "render_dir": str(tmp_path / "out"), "kubernetes_version": "1.33",
                         "render_subdir": subdir, "objects": [SERVICE_ACCOUNT]})
    with pytest.raises(InputError) as failure:
        kd.run_k8s_objects(module)
    assert failure.value.field == "render_subdir"
    assert "must stay inside the render directory" in failure.value.message
    assert files_under(tmp_path) == []


def test_render_subdir_of_plain_names_is_accepted(tmp_path):
    assert manifests.check_render_subdir("storage") == "storage"
    assert manifests.check_render_subdir("team-a/arc") == "team-a/arc"
    assert manifests.check_render_subdir("") == ""


@pytest.mark.parametrize("field, value", [("kind", "../../etc/passwd"), ("kind", "Config Map"),
                                          ("apiVersion", "v1/../x"), ("apiVersion", "apps")])
def test_identity_fields_that_would_shape_a_path_are_refused(tmp_path, field, value):
    manifest = dict(SERVICE_ACCOUNT, **{field: value})
    module = ExitModule({"delivery": "render", "render_dir": str(tmp_path / "out"), "objects": [manifest]})
    with pytest.raises(InputError) as failure:
        kd.run_k8s_objects(module)
    assert failure.value.field == "objects[0].%s" % field
    assert "accepted:" in failure.value.message
    assert files_under(tmp_path) == []


def test_render_path_refuses_names_that_escape_even_unvalidated():
    with pytest.raises(InputError):
        manifests.render_path("/r", "", {"kind": "ConfigMap", "metadata": {"name": "../x", "namespace": "a"}})
    with pytest.raises(InputError):
        manifests.render_path("/r", "", {"kind": "ConfigMap", "metadata": {"name": "x", "namespace": ".."}})


def secret(**fields):
    manifest = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "gh", "namespace": "arc-runners"}}
    manifest.update(fields)
    return manifest


@pytest.mark.parametrize("manifest", [
    secret(stringData={"github_app_private_key": PEM}, type=7),  # a bad sibling field
    secret(stringData={"github_token": PLANTED, "n": 5}),  # a value of the wrong type next to the secret
    secret(stringData=PEM),  # stringData that is not a mapping
    secret(data=[PLANTED]),
    secret(data={"token": {"nested": PLANTED}}),
    secret(stringData={"github_token": PLANTED}, spec={"bogus": PLANTED}),
])
def test_invalid_secret_never_quotes_its_values(tmp_path, manifest):
    module = ExitModule({"delivery": "render", "render_dir": str(tmp_path / "out"), "kubernetes_version": "1.33",
                         "objects": [SERVICE_ACCOUNT, manifest]})
    with pytest.raises(InputError) as failure:
        kd.run_k8s_objects(module)
    reported = json.dumps(failure.value.fail_json_kwargs())
    assert "Secret arc-runners/gh" in reported  # the object at fault is still named
    for needle in (PLANTED, "MIIEplantedkeybody"):
        assert needle not in reported
    # Ansible masks no_log_values in the whole result, the echoed module arguments included.
    assert any(PLANTED in value for value in module.no_log_values)
    assert files_under(tmp_path) == []


def test_mask_text_masks_lines_and_repr_forms():
    text = "bad value %r and line MIIEplantedkeybody%s" % (PEM, PLANTED)
    masked = manifests.mask_text(text, [PEM])
    assert PLANTED not in masked and "MIIE" not in masked


def test_default_kubernetes_version_is_the_newest_shipped_schema(tmp_path):
    newest = kv_utils.major_minor(kv_utils.latest_version())
    assert validation.schema_version(None) == newest
    module = ExitModule({"delivery": "render", "render_dir": str(tmp_path / "out"), "kubernetes_version": None,
                         "objects": [SERVICE_ACCOUNT]})
    result = kd.run_k8s_objects(module)
    assert result["changed"] is True
    assert validation.validate_manifests([SERVICE_ACCOUNT], None) == []


def test_secret_values_are_no_log_before_the_invocation_is_logged(monkeypatch):
    from ansible.module_utils import basic
    from ansible.module_utils.testing import patch_module_args

    logged = []
    monkeypatch.setattr(basic.AnsibleModule, "log", lambda self, msg, log_args=None: logged.append(msg))
    with patch_module_args({"objects": [secret(stringData={"token": PLANTED})], "delivery": "render",
                            "render_dir": "/nonexistent"}):
        module = kd.K8sObjectsModule(argument_spec=dict(kd.kubernetes_argument_spec(), objects=dict(type="list"),
                                                        state=dict(default="present"), render_subdir=dict(default="")))
    assert PLANTED in module.no_log_values
    assert logged and not any(PLANTED in message for message in logged)

"""k8s.validation: structural checks and the built-in schemas of one Kubernetes version."""

import copy

import pytest

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import InputError
from ansible_collections.accelci.runners.plugins.module_utils.k8s import validation

SERVICE_ACCOUNT = {"apiVersion": "v1", "kind": "ServiceAccount",
                   "metadata": {"name": "arc-runner", "namespace": "arc-runners",
                                "annotations": {"accelci.io/model-cache": "gcs"}}}


def test_validate_reports_object_and_path():
    bad = copy.deepcopy(SERVICE_ACCOUNT)
    bad["automountServiceAccountToken"] = "yes"
    errors = validation.validate_manifests([SERVICE_ACCOUNT, bad], "1.33")
    assert len(errors) == 1
    assert errors[0].startswith("ServiceAccount arc-runners/arc-runner: automountServiceAccountToken: ")
    assert "1.33" in errors[0]


def test_validate_is_strict_about_unknown_fields():
    typo = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "m", "namespace": "n"},
            "spec": {"accesModes": ["ReadOnlyMany"]}}
    errors = validation.validate_manifests([typo], "1.33")
    assert len(errors) == 1 and "accesModes" in errors[0]


def test_validate_skips_custom_resources_explicitly():
    skipped = []
    runner_set = {"apiVersion": "actions.github.com/v1alpha1", "kind": "AutoscalingRunnerSet",
                  "metadata": {"name": "x", "namespace": "arc-runners"}, "spec": {"anything": 1}}
    assert validation.validate_manifests([runner_set], "1.33", skipped=skipped) == []
    assert skipped == ["AutoscalingRunnerSet arc-runners/x: no schema for actions.github.com/v1alpha1 "
                       "AutoscalingRunnerSet in Kubernetes 1.33 (custom resource?); not validated"]


@pytest.mark.parametrize("version", ["1.2", "2.0", "latest"])
def test_validate_refuses_unknown_versions(version):
    with pytest.raises(InputError, match="kubernetes_version") as failure:
        validation.validate_manifests([SERVICE_ACCOUNT], version)
    assert failure.value.field == "kubernetes_version"


def test_validate_uses_version_specific_schemas():
    # VolumeAttributesClass went GA (storage.k8s.io/v1) in Kubernetes 1.34: no v1 schema exists for 1.33.
    vac = {"apiVersion": "storage.k8s.io/v1", "kind": "VolumeAttributesClass", "metadata": {"name": "fast"},
           "driverName": "pd.csi.storage.gke.io", "parameters": {"iops": "3000"}}
    skipped = []
    assert validation.validate_manifests([vac], "1.34", skipped=skipped) == [] and skipped == []
    validation.validate_manifests([vac], "1.33", skipped=skipped)
    assert len(skipped) == 1


def test_schema_version_accepts_patch_and_v_prefix():
    assert validation.schema_version("v1.33.2") == "1.33"
    assert validation.schema_version("1.34") == "1.34"


@pytest.mark.parametrize("manifest, path", [
    ({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "arc-runner"}}, "metadata.namespace"),
    ({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x", "namespace": "y"}}, "metadata.namespace"),
    ({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "Bad_Name", "namespace": "a"}}, "metadata.name"),
    ({"kind": "ConfigMap", "metadata": {"name": "a", "namespace": "a"}}, "apiVersion"),
    ({"apiVersion": "v1", "kind": "ConfigMap"}, "metadata"),
    ("not a mapping", ""),
])
def test_manifest_problems_name_the_path(manifest, path):
    assert validation.manifest_problems(manifest)[0][0] == path
    assert validation.manifest_errors(manifest) == [message for _p, message in validation.manifest_problems(manifest)]


def test_object_ref():
    assert validation.object_ref(SERVICE_ACCOUNT) == "ServiceAccount arc-runners/arc-runner"
    assert validation.object_ref({"kind": "Namespace", "metadata": {"name": "a"}}) == "Namespace a"
    assert validation.object_ref("junk") == "<no kind> <no name>"

"""k8s.manifests: comparing live objects with what we apply, render paths, Secret protection."""

from ansible_collections.accelci.runners.plugins.module_utils.k8s import manifests


def test_subset_differences_ignores_server_fields_and_empty_values():
    live = {"metadata": {"name": "a", "uid": "u", "labels": {"x": "1"}}, "spec": {"finalizers": ["kubernetes"]}}
    assert manifests.subset_differences({"metadata": {"name": "a", "annotations": {}}}, live) == []
    assert manifests.subset_differences({"metadata": {"labels": {"x": "2"}}}, live) == ["metadata.labels.x"]
    assert manifests.subset_differences({"spec": {"finalizers": []}}, live) == ["spec.finalizers"]


def test_managed_field_removals_handles_keyed_list_items():
    fields = {"f:spec": {"f:volumes": {"k:{\"name\":\"models\"}": {".": {}, "f:name": {}, "f:csi": {}},
                                       "k:{\"name\":\"old\"}": {".": {}, "f:name": {}}}}}
    desired = {"spec": {"volumes": [{"name": "models", "csi": {"driver": "x"}}]}}
    assert manifests.managed_field_removals(fields, desired) == ['spec.volumes[{"name":"old"}]']


def test_project_onto_keeps_only_the_fields_we_set():
    live = {"metadata": {"name": "a", "uid": "u", "labels": {"x": "1", "y": "2"}}}
    assert manifests.project_onto(live, {"metadata": {"labels": {"x": "9"}}}) == {"metadata": {"labels": {"x": "1"}}}


def test_render_path_puts_cluster_objects_under_cluster_dir():
    namespaced = {"kind": "ServiceAccount", "metadata": {"name": "arc-runner", "namespace": "arc-runners"}}
    cluster = {"kind": "Namespace", "metadata": {"name": "arc-runners"}}
    assert manifests.render_path("out", "storage", namespaced) == "out/storage/arc-runners/serviceaccount-arc-runner.yaml"
    assert manifests.render_path("out", "", cluster) == "out/_cluster/namespace-arc-runners.yaml"


def test_secret_as_data_and_mask():
    secret = {"kind": "Secret", "stringData": {"key": "value"}, "data": {"other": "b3RoZXI="}}
    assert manifests.secret_as_data(secret)["data"] == {"other": "b3RoZXI=", "key": "dmFsdWU="}
    assert manifests.mask_secret(secret)["stringData"] == {"key": manifests.SECRET_MASK}
    assert manifests.mask_secret(None) is None


def test_public_keys_are_not_added_to_no_log_values():
    manifest = {"kind": "Secret", "stringData": {"github_app_id": "123", "github_app_private_key": "-----BEGIN x"}}
    values = manifests.secret_values(manifest, public_keys=("github_app_id",))
    assert "123" not in values
    assert "-----BEGIN x" in values
    assert "123" in manifests.secret_values(manifest)

"""The storage role with delivery=apply: server-side apply against recorded Kubernetes API responses (no cluster
here), with the bucket in fake-gcs-server and the addon in the GKE emulator: check mode, apply, repeat."""

import copy

import pytest

from tests.emulators.fake_gcs import FakeGcs
from tests.emulators.gke import GkeEmulator
from tests.integration.playbook_runner import run_playbook, write_inventory
from tests.integration.test_storage import create_cluster, estate
from tests.unit.recorded_http import RecordedKubeApi, recorded

pytestmark = pytest.mark.integration

OBJECTS = recorded("k8s_storage_objects.json")
NS = "/api/v1/namespaces/arc-runners"
# ARC's controller namespace: the storage role delivers ARC's namespaces through the arc role, their one owner.
CONTROLLER_NS = "/api/v1/namespaces/arc-systems"
SA = NS + "/serviceaccounts/arc-runner"
CM = NS + "/configmaps/accelci-model-cache"
ROLE = "/apis/rbac.authorization.k8s.io/v1/namespaces/arc-runners/roles/arc-runner-model-cache-reader"
BINDING = "/apis/rbac.authorization.k8s.io/v1/namespaces/arc-runners/rolebindings/arc-runner-model-cache-reader"
LABELS = {"app.kubernetes.io/managed-by": "accelci-runners", "app.kubernetes.io/component": "model-cache"}


def answer(name, status=200):
    return (status, copy.deepcopy(OBJECTS[name]))


def test_apply_mode_check_apply_repeat(tmp_path):
    with GkeEmulator(operation_seconds=0.1) as gke, FakeGcs() as gcs, RecordedKubeApi() as kube:
        create_cluster(gke)
        # Reads in order: check run (marker, then each object), apply run (same), repeat run (all present).
        kube.route("GET " + CM, *([answer("configmap_not_found", 404)] * 4 + [answer("configmap_applied")]))
        kube.route("GET " + CONTROLLER_NS, *([answer("controller_namespace_not_found", 404)] * 2
                                             + [answer("controller_namespace_applied")]))
        kube.route("GET " + NS, *([answer("namespace_not_found", 404)] * 2 + [answer("namespace_applied")]))
        kube.route("GET " + SA, *([answer("serviceaccount_not_found", 404)] * 2 + [answer("serviceaccount_applied")]))
        kube.route("GET " + ROLE, *([answer("role_not_found", 404)] * 2 + [answer("role_applied")]))
        kube.route("GET " + BINDING, *([answer("rolebinding_not_found", 404)] * 2 + [answer("rolebinding_applied")]))
        kube.route("PATCH " + CONTROLLER_NS, answer("controller_namespace_applied"))
        kube.route("PATCH " + NS, answer("namespace_applied"))
        kube.route("PATCH " + SA, answer("serviceaccount_applied"))
        kube.route("PATCH " + ROLE, answer("role_applied"))
        kube.route("PATCH " + BINDING, answer("rolebinding_applied"))
        kube.route("PATCH " + CM, answer("configmap_applied"))
        variables = estate(tmp_path / "unused")
        variables.update({"accelci_k8s_delivery": "apply", "accelci_kubeconfig": kube.kubeconfig(str(tmp_path))})
        inventory = write_inventory(tmp_path, variables)
        env = {"ACCELCI_GKE_API_ENDPOINT": gke.url, "STORAGE_EMULATOR_HOST": gcs.endpoint}

        check = run_playbook("playbooks/storage.yml", inventory, env=env, extra_args=["--check"])
        assert check.rc == 0, check
        assert kube.calls("PATCH") == [] and kube.calls("DELETE") == []

        first = run_playbook("playbooks/storage.yml", inventory, env=env)
        assert first.rc == 0, first
        patches = [r for r in kube.requests if r["method"] == "PATCH"]
        assert [r["path"] for r in patches] == [CONTROLLER_NS, NS, SA, ROLE, BINDING, CM]
        for request in patches:
            assert request["query"] == {"fieldManager": "accelci-runners", "force": "false"}
            assert request["content_type"] == "application/apply-patch+yaml"
        for request, name in zip(patches, ("arc-systems", "arc-runners")):
            assert request["body"] == {"apiVersion": "v1", "kind": "Namespace", "metadata": {
                "name": name, "labels": {"app.kubernetes.io/managed-by": "accelci-runners"}}}
        assert patches[2]["body"] == {"apiVersion": "v1", "kind": "ServiceAccount", "automountServiceAccountToken": False,
                                      "metadata": {"name": "arc-runner", "namespace": "arc-runners", "labels": LABELS}}
        assert patches[3]["body"] == {
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": "arc-runner-model-cache-reader", "namespace": "arc-runners", "labels": LABELS},
            "rules": [{"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["accelci-model-cache"],
                       "verbs": ["get", "watch"]}]}
        assert patches[4]["body"]["subjects"] == [{"kind": "ServiceAccount", "name": "arc-runner",
                                                   "namespace": "arc-runners"}]
        assert patches[5]["body"] == {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
            "name": "accelci-model-cache", "namespace": "arc-runners", "labels": LABELS}, "data": {
            "backend": "gcs", "location": "gs://acme-ci-models", "mount_path": "/models",
            "service_account": "arc-runner"}}
        assert not (tmp_path / "unused").exists()

        second = run_playbook("playbooks/storage.yml", inventory, env=env)
        assert second.rc == 0, second
        assert second.changed == 0, second
        assert len(kube.calls("PATCH")) == 6  # none more

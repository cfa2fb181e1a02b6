"""k8s_objects against a real kube-apiserver: server-side apply, field-manager conflicts, check and diff mode,
a CRD too large for client-side apply, and namespace deletion through the real namespace controller."""

import json
import re
import time

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException
from kubernetes.dynamic import DynamicClient

from tests.kube.plays import run_tasks

pytestmark = [pytest.mark.integration, pytest.mark.kube]


def configmap(namespace, data):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": namespace},
            "data": data}


def namespace(name):
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def objects_task(objects, **options):
    return {"name": "Deliver objects", "accelci.runners.k8s_objects": dict(objects=objects, **options)}


def test_apply_is_idempotent_and_check_mode_changes_nothing(tmp_path, control_plane, kube_client):
    core = client.CoreV1Api(kube_client)
    objects = [namespace("ssa-idem"), configmap("ssa-idem", {"mode": "fast"})]

    check = run_tasks(tmp_path, [objects_task(objects)], control_plane.admin_kubeconfig, extra_args=["--check"])
    assert check.rc == 0 and check.changed == 1, check
    with pytest.raises(ApiException) as absent:
        core.read_namespace("ssa-idem")
    assert absent.value.status == 404

    first = run_tasks(tmp_path, [objects_task(objects)], control_plane.admin_kubeconfig)
    assert first.rc == 0 and first.changed == 1, first
    live = core.read_namespaced_config_map("settings", "ssa-idem")
    assert live.data == {"mode": "fast"}
    assert [(m.manager, m.operation) for m in live.metadata.managed_fields] == [("accelci-runners", "Apply")]

    second = run_tasks(tmp_path, [objects_task(objects)], control_plane.admin_kubeconfig, extra_args=["--diff"])
    assert second.rc == 0 and second.changed == 0, second

    changed = [namespace("ssa-idem"), configmap("ssa-idem", {"mode": "slow"})]
    diff = run_tasks(tmp_path, [objects_task(changed)], control_plane.admin_kubeconfig,
                     extra_args=["--check", "--diff"])
    assert diff.rc == 0 and diff.changed == 1, diff
    assert re.search(r"^-\s+mode: fast$", diff.stdout, re.M) and re.search(r"^\+\s+mode: slow$", diff.stdout, re.M), diff
    assert core.read_namespaced_config_map("settings", "ssa-idem").data == {"mode": "fast"}


def test_a_field_another_manager_owns_is_a_conflict_until_forced(tmp_path, control_plane, kube_client):
    core = client.CoreV1Api(kube_client)
    first = run_tasks(tmp_path, [objects_task([namespace("ssa-conflict"),
                                               configmap("ssa-conflict", {"mode": "fast"})])],
                      control_plane.admin_kubeconfig)
    assert first.rc == 0, first
    # Someone else (a person with kubectl, another controller) takes the field over with force.
    dynamic = DynamicClient(kube_client)
    dynamic.server_side_apply(dynamic.resources.get(api_version="v1", kind="ConfigMap"),
                              body=configmap("ssa-conflict", {"mode": "manual"}), name="settings",
                              namespace="ssa-conflict", field_manager="kubectl", force_conflicts=True)

    ours = [namespace("ssa-conflict"), configmap("ssa-conflict", {"mode": "fast"})]
    refused = run_tasks(tmp_path, [objects_task(ours)], control_plane.admin_kubeconfig)
    assert refused.rc != 0, refused
    assert ('HTTP 409 Conflict: Apply failed with 1 conflict: conflict with "kubectl": .data.mode. Another field '
            'manager owns these fields; change them there, or set force_conflicts=true to take them over'
            in refused.stdout), refused
    assert core.read_namespaced_config_map("settings", "ssa-conflict").data == {"mode": "manual"}

    forced = run_tasks(tmp_path, [objects_task(ours, force_conflicts=True)], control_plane.admin_kubeconfig)
    assert forced.rc == 0 and forced.changed == 1, forced
    assert core.read_namespaced_config_map("settings", "ssa-conflict").data == {"mode": "fast"}


def large_crd(properties=2600):
    """A CRD of about 1.2 MB, the size of ARC's AutoscalingRunnerSet CRD (its pod template schema)."""
    fields = {"field%04d" % i: {"type": "string", "description": "A documented field of the pod template. " * 10}
              for i in range(properties)}
    return {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "largesets.test.accelci.io"},
        "spec": {"group": "test.accelci.io", "scope": "Namespaced",
                 "names": {"kind": "LargeSet", "plural": "largesets", "singular": "largeset", "listKind": "LargeSetList"},
                 "versions": [{"name": "v1", "served": True, "storage": True,
                               "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                                   "spec": {"type": "object", "properties": fields}}}}}]},
    }


def test_a_crd_too_large_for_client_side_apply_is_applied_server_side(tmp_path, control_plane, kube_client):
    crd = large_crd()
    size = len(json.dumps(crd))
    assert size > 1_000_000
    extensions = client.ApiextensionsV1Api(kube_client)
    # The naive way, client-side apply, keeps the whole object in an annotation; the API server refuses it.
    naive = json.loads(json.dumps(crd))
    naive["metadata"]["name"] = "naivesets.test.accelci.io"
    naive["spec"]["names"] = {"kind": "NaiveSet", "plural": "naivesets", "singular": "naiveset"}
    naive["metadata"]["annotations"] = {"kubectl.kubernetes.io/last-applied-configuration": json.dumps(naive)}
    with pytest.raises(ApiException) as too_long:
        extensions.create_custom_resource_definition(naive)
    assert too_long.value.status == 422 and "Too long" in too_long.value.body

    first = run_tasks(tmp_path, [objects_task([crd])], control_plane.admin_kubeconfig)
    assert first.rc == 0 and first.changed == 1, first
    live = extensions.read_custom_resource_definition("largesets.test.accelci.io")
    assert len(live.spec.versions[0].schema.open_apiv3_schema.properties["spec"].properties) == 2600
    assert not (live.metadata.annotations or {})
    second = run_tasks(tmp_path, [objects_task([crd])], control_plane.admin_kubeconfig)
    assert second.rc == 0 and second.changed == 0, second


def test_deleting_a_namespace_removes_what_it_holds(tmp_path, control_plane, kube_client):
    core = client.CoreV1Api(kube_client)
    objects = [namespace("ssa-gone"), configmap("ssa-gone", {"mode": "fast"})]
    assert run_tasks(tmp_path, [objects_task(objects)], control_plane.admin_kubeconfig).rc == 0
    removed = run_tasks(tmp_path, [objects_task([namespace("ssa-gone")], state="absent")],
                        control_plane.admin_kubeconfig)
    assert removed.rc == 0 and removed.changed == 1, removed
    # The namespace controller (kube-controller-manager) empties it, then the namespace goes.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            core.read_namespace("ssa-gone")
        except ApiException as exc:
            assert exc.status == 404
            break
        time.sleep(0.5)
    else:
        pytest.fail("namespace ssa-gone was not deleted within 60 s")
    assert not core.list_namespaced_config_map("ssa-gone").items
    again = run_tasks(tmp_path, [objects_task([namespace("ssa-gone")], state="absent")],
                      control_plane.admin_kubeconfig)
    assert again.rc == 0 and again.changed == 0, again

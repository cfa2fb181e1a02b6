"""ARC on a real API server: helm install, upgrade, rollback and uninstall of the controller; the documented
upgrade order with resources that carry ARC's finalizer (a stand-in plays the controller's part in it), and a
finalizer nobody removes reported clearly."""

import json
import os
import shutil
import subprocess
import time

import pytest
import yaml
from kubernetes import client
from kubernetes.client.rest import ApiException
from kubernetes.dynamic import DynamicClient

from tests.emulators.arc_controller import FINALIZER, ArcControllerStandIn
from tests.integration.playbook_runner import ROOT
from tests.kube.plays import run_tasks

pytestmark = [pytest.mark.integration, pytest.mark.kube]

CHARTS = os.path.join(ROOT, "tests", "fixtures", "charts")
HELM_DIR = os.path.join(ROOT, "build", "bin")
ENV = {"PATH": HELM_DIR + os.pathsep + os.environ["PATH"]}
SYSTEM_NODE = "test-system-node"


@pytest.fixture(scope="module")
def system_node(kube_client):
    """One node without taints for the controller's pods (kwok runs them)."""
    core = client.CoreV1Api(kube_client)
    allocatable = {"cpu": "4", "memory": "16Gi", "pods": "110"}
    core.create_node({"apiVersion": "v1", "kind": "Node",
                      "metadata": {"name": SYSTEM_NODE, "annotations": {"kwok.x-k8s.io/node": "fake"},
                                   "labels": {"test.accelci.io/pool": "system"}},
                      "status": {"allocatable": allocatable, "capacity": allocatable}})
    yield SYSTEM_NODE
    core.delete_node(SYSTEM_NODE)


def controller_task(namespace, state="present", **options):
    params = dict(name="arc", namespace=namespace, state=state, create_namespace=True, version="0.14.2",
                  chart_ref=os.path.join(CHARTS, "gha-runner-scale-set-controller"), wait_timeout=60)
    params.update(options)
    return {"name": "ARC controller", "accelci.runners.arc_controller": params}


def scale_set_task(name, namespace, controller_namespace, state="present", **options):
    params = dict(name=name, namespace=namespace, state=state, version="0.14.2",
                  chart_ref=os.path.join(CHARTS, "gha-runner-scale-set"),
                  github_config_url="https://github.com/accelci-tests/runners", existing_secret="accelci-github",
                  max_runners=2, controller_release="arc", controller_namespace=controller_namespace,
                  kubernetes_version="1.33", wait_timeout=20)
    params.update(options)
    return {"name": "Scale set %s" % name, "accelci.runners.arc_runner_scale_set": params}


def helm(kube, *args):
    return subprocess.run([os.path.join(HELM_DIR, "helm"), *args, "--kubeconfig", kube.admin_kubeconfig],
                          capture_output=True, text=True, check=False)


def helm_history(kube, release, namespace):
    proc = helm(kube, "history", release, "--namespace", namespace, "-o", "json")
    return json.loads(proc.stdout) if proc.returncode == 0 else proc.stderr


def clean_up(kube, kube_client, controller_namespace, runners_namespace):
    """Leave nothing a later test could collide with: the controller chart's ClusterRole is cluster-wide, so a
    second controller release of the same name in another namespace would be refused (as on a real cluster)."""
    runner_sets = DynamicClient(kube_client).resources.get(api_version="actions.github.com/v1alpha1",
                                                           kind="AutoscalingRunnerSet")
    for item in runner_sets.get(namespace=runners_namespace).items:
        runner_sets.patch(name=item.metadata.name, namespace=runners_namespace,
                          body={"metadata": {"finalizers": None}}, content_type="application/merge-patch+json")
    for line in helm(kube, "list", "--all-namespaces", "-q").stdout.split():
        for namespace in (controller_namespace, runners_namespace):
            helm(kube, "uninstall", line, "--namespace", namespace, "--wait", "--timeout", "60s")


def test_controller_install_upgrade_failed_upgrade_rolls_back_and_uninstall(
        tmp_path, control_plane, kube_client, system_node):
    apps = client.AppsV1Api(kube_client)
    kubeconfig = control_plane.admin_kubeconfig
    install = run_tasks(tmp_path, [controller_task("helm-life")], kubeconfig, env=ENV)
    assert install.rc == 0 and install.changed == 1, install
    deployment = apps.read_namespaced_deployment("arc-gha-rs-controller", "helm-life")
    assert deployment.status.available_replicas == 1

    again = run_tasks(tmp_path, [controller_task("helm-life")], kubeconfig, env=ENV)
    assert again.rc == 0 and again.changed == 0, again

    upgrade = run_tasks(tmp_path, [controller_task("helm-life", replicas=2)], kubeconfig, env=ENV)
    assert upgrade.rc == 0 and upgrade.changed == 1, upgrade
    assert apps.read_namespaced_deployment("arc-gha-rs-controller", "helm-life").status.available_replicas == 2

    # An upgrade whose pods can never run (no node has this label): helm --wait gives up, and the module rolls
    # the release back to the revision that worked.
    failing = run_tasks(tmp_path, [controller_task("helm-life", replicas=2, node_selector={"no-such": "node"},
                                                   wait_timeout=8)], kubeconfig, env=ENV)
    assert failing.rc != 0, failing
    assert "rolled back to revision 2" in failing.stdout, failing
    history = helm_history(control_plane, "arc", "helm-life")
    assert [(h["revision"], h["status"]) for h in history] == [(1, "superseded"), (2, "superseded"),
                                                               (3, "failed"), (4, "deployed")], history
    assert "Rollback to 2" in history[-1]["description"]
    live = apps.read_namespaced_deployment("arc-gha-rs-controller", "helm-life")
    assert not live.spec.template.spec.node_selector

    removed = run_tasks(tmp_path, [controller_task("helm-life", state="absent")], kubeconfig, env=ENV)
    assert removed.rc == 0 and removed.changed == 1, removed
    with pytest.raises(ApiException) as gone:
        apps.read_namespaced_deployment("arc-gha-rs-controller", "helm-life")
    assert gone.value.status == 404
    assert "not found" in str(helm_history(control_plane, "arc", "helm-life"))


def wait_for(predicate, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.3)
    return False


def test_scale_sets_go_before_the_controller_and_a_stuck_finalizer_is_named(tmp_path, control_plane, kube_client,
                                                                            system_node):
    kubeconfig = control_plane.admin_kubeconfig
    core = client.CoreV1Api(kube_client)
    core.create_namespace({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "fin-runners"}})
    setup = run_tasks(tmp_path, [controller_task("fin-systems"),
                                 scale_set_task("fin-a", "fin-runners", "fin-systems"),
                                 scale_set_task("fin-b", "fin-runners", "fin-systems")], kubeconfig, env=ENV)
    assert setup.rc == 0, setup
    standin = ArcControllerStandIn(kube_client, "fin-systems", "fin-runners")
    standin.start()
    try:
        runner_sets = standin.runner_sets
        assert wait_for(lambda: all(FINALIZER in (i.metadata.finalizers or [])
                                    for i in runner_sets.get(namespace="fin-runners").items))

        # The controller refuses to go while scale sets exist: their finalizers need it.
        refused = run_tasks(tmp_path, [controller_task("fin-systems", state="absent")], kubeconfig, env=ENV)
        assert refused.rc != 0 and "finalizers only the controller removes" in refused.stdout, refused

        # The documented order: scale set first (the controller removes its finalizer), then the controller.
        first = run_tasks(tmp_path, [scale_set_task("fin-a", "fin-runners", "fin-systems", state="absent")],
                          kubeconfig, env=ENV)
        assert first.rc == 0 and first.changed == 1, first
        assert standin.removed == ["fin-a"]
        assert [i.metadata.name for i in runner_sets.get(namespace="fin-runners").items] == ["fin-b"]

        # With the controller gone first (the wrong order), fin-b's finalizer stays: the uninstall says so.
        client.AppsV1Api(kube_client).delete_namespaced_deployment("arc-gha-rs-controller", "fin-systems")
        assert wait_for(lambda: not standin.controller_running())
        stuck = run_tasks(tmp_path, [scale_set_task("fin-b", "fin-runners", "fin-systems", state="absent",
                                                    wait_timeout=5)], kubeconfig, env=ENV)
        assert stuck.rc != 0, stuck
        assert ("AutoscalingRunnerSet fin-runners/fin-b is still being deleted: finalizer %s holds it" % FINALIZER
                in stuck.stdout), stuck
        assert "ARC controller" in stuck.stdout
    finally:
        standin.stopping.set()
        standin.join(timeout=5)
        clean_up(control_plane, kube_client, "fin-systems", "fin-runners")


def charts_at(tmp_path, version):
    """The test charts at another version (what a new ARC release looks like): both charts, and a CRD that
    changed (a new column), which helm would never upgrade by itself."""
    target = tmp_path / ("charts-" + version)
    shutil.copytree(CHARTS, target)
    for chart in ("gha-runner-scale-set-controller", "gha-runner-scale-set"):
        manifest = target / chart / "Chart.yaml"
        manifest.write_text(manifest.read_text().replace("0.14.2", version))
    crd_path = target / "gha-runner-scale-set-controller" / "crds" / "actions.github.com_autoscalingrunnersets.yaml"
    crd = yaml.safe_load(crd_path.read_text())
    crd["spec"]["versions"][0]["additionalPrinterColumns"] = [
        {"name": "Maximum Runners", "type": "integer", "jsonPath": ".spec.maxRunners"}]
    crd_path.write_text(yaml.safe_dump(crd))
    return target


def test_an_arc_upgrade_takes_scale_sets_out_through_their_finalizers_then_crds_then_controller(
        tmp_path, control_plane, kube_client, system_node):
    kubeconfig = control_plane.admin_kubeconfig
    core = client.CoreV1Api(kube_client)
    core.create_namespace({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "upg-runners"}})
    setup = run_tasks(tmp_path, [controller_task("upg-systems"),
                                 scale_set_task("upg-a", "upg-runners", "upg-systems")], kubeconfig, env=ENV)
    assert setup.rc == 0, setup
    standin = ArcControllerStandIn(kube_client, "upg-systems", "upg-runners")
    standin.start()
    try:
        assert wait_for(lambda: all(FINALIZER in (i.metadata.finalizers or [])
                                    for i in standin.runner_sets.get(namespace="upg-runners").items))
        new = charts_at(tmp_path, "0.14.3")
        controller = os.path.join(str(new), "gha-runner-scale-set-controller")
        scale_set = os.path.join(str(new), "gha-runner-scale-set")

        # Without reinstall_scale_sets the upgrade is refused before anything changes.
        refused = run_tasks(tmp_path, [controller_task("upg-systems", version="0.14.3", chart_ref=controller)],
                            kubeconfig, env=ENV)
        assert refused.rc != 0 and "The documented order is" in refused.stdout, refused

        upgrade = run_tasks(tmp_path, [controller_task("upg-systems", version="0.14.3", chart_ref=controller,
                                                       reinstall_scale_sets=True),
                                       scale_set_task("upg-a", "upg-runners", "upg-systems", version="0.14.3",
                                                      chart_ref=scale_set)], kubeconfig, env=ENV)
        assert upgrade.rc == 0, upgrade
        # The old scale set went through its finalizer (the controller was still there to remove it) ...
        assert standin.removed == ["upg-a"]
        # ... the CRD was applied server-side (helm never upgrades CRDs) ...
        crd = client.ApiextensionsV1Api(kube_client).read_custom_resource_definition(
            "autoscalingrunnersets.actions.github.com")
        assert [c.name for c in crd.spec.versions[0].additional_printer_columns or []] == ["Maximum Runners"]
        # ... then the controller and the scale set are at the new version.
        history = helm_history(control_plane, "arc", "upg-systems")
        assert history[-1]["chart"] == "gha-runner-scale-set-controller-0.14.3", history
        (runner_set,) = standin.runner_sets.get(namespace="upg-runners").items
        assert runner_set.metadata.labels["app.kubernetes.io/version"] == "0.14.3"
        assert not runner_set.metadata.deletionTimestamp

        # Back to 0.14.2 from scratch (a rollback of the upgrade, or a reinstall): the CRDs 0.14.3 left behind
        # are taken back by server-side apply, not refused as a conflict by helm's own CRD install.
        removed = run_tasks(tmp_path, [controller_task("upg-systems", version="0.14.3", chart_ref=controller,
                                                       state="absent", remove_scale_sets=True)], kubeconfig, env=ENV)
        assert removed.rc == 0, removed
        again = run_tasks(tmp_path, [controller_task("upg-systems")], kubeconfig, env=ENV)
        assert again.rc == 0 and again.changed == 1, again
        crd = client.ApiextensionsV1Api(kube_client).read_custom_resource_definition(
            "autoscalingrunnersets.actions.github.com")
        assert not crd.spec.versions[0].additional_printer_columns, (crd.metadata.managed_fields, again.stdout[-3000:])
    finally:
        standin.stopping.set()
        standin.join(timeout=5)
        clean_up(control_plane, kube_client, "upg-systems", "upg-runners")

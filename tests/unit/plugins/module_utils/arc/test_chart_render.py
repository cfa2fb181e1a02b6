"""Our values through `helm template --kube-version` of the test charts, then the Kubernetes schemas.

Every accelerator kind and container mode: the chart must accept the values and every object it renders (and the
runner pod template inside the AutoscalingRunnerSet) must validate for the target Kubernetes version.
"""
import os

import pytest
import yaml

from ansible_collections.accelci.runners.plugins.module_utils.arc import values as av
from ansible_collections.accelci.runners.plugins.module_utils.arc.names import controller_service_account
from ansible_collections.accelci.runners.plugins.module_utils.gke.catalog import scheduling_profile
from ansible_collections.accelci.runners.plugins.module_utils.helm.helm_client import Helm
from ansible_collections.accelci.runners.plugins.module_utils.k8s.validation import validate_manifests

from tests.paths import ROOT
HELM = os.path.join(ROOT, "build", "bin", "helm")
CHART = os.path.join(ROOT, "tests", "fixtures", "charts", "gha-runner-scale-set")
CONTROLLER_CHART = os.path.join(ROOT, "tests", "fixtures", "charts", "gha-runner-scale-set-controller")

pytestmark = pytest.mark.skipif(not os.path.exists(HELM), reason="build/bin/helm missing (make bootstrap)")

POOLS = {
    "tpu": {"name": "tpu-v6e-4", "tpu": {"accelerator": "v6e", "topology": "2x2"}, "spot": True},
    "nvidia": {"name": "gpu-l4", "gpu": {"type": "nvidia-l4", "count": 1}, "machine_type": "g2-standard-8"},
    "amd": {"name": "mi300", "amd_gpu": {"count": 2, "render_group": 110}, "node_selector": {"pytorch": "yes"}},
    "cpu": None,
}
CACHES = {
    "gcs": {"backend": "gcs", "mount_path": "/models", "namespace": "arc-runners", "service_account": "arc-runner",
            "pod_annotations": {"gke-gcsfuse/volumes": "true"},
            "volumes": [{"name": "models", "csi": {"driver": "gcsfuse.csi.storage.gke.io", "readOnly": True,
                                                   "volumeAttributes": {"bucketName": "b"}}}],
            "volume_mounts": [{"name": "models", "mountPath": "/models"}], "env": {}},
    "filestore": {"backend": "filestore", "mount_path": "/models", "namespace": "arc-runners",
                  "volumes": [{"name": "models", "persistentVolumeClaim": {"claimName": "models", "readOnly": True}}],
                  "volume_mounts": [{"name": "models", "mountPath": "/models"}]},
    "none": None,
}


def render(kind, mode, cache, kube="1.33"):
    spec = dict(name="rs-%s-%s" % (kind, mode.replace("-", "")), namespace="arc-runners",
                controller_namespace="arc-systems", controller_service_account="arc-gha-rs-controller",
                github_config_url="https://github.com/o/r", secret_name="accelci-github", min_runners=0,
                max_runners=2, container_mode=mode, model_cache=CACHES[cache],
                node_pool=scheduling_profile(POOLS[kind]) if POOLS[kind] else None,
                kubernetes_version=kube, labels=["x"], job_policy={"allowed_events": ["push"]},
                resources={"requests": {"cpu": "2", "memory": "8Gi"}})
    built = av.scale_set_values(spec)
    out = Helm(binary_path=HELM).template(spec["name"], CHART, "arc-runners", built["values"], kube_version=kube)
    return built, [d for d in yaml.safe_load_all(out) if d]


@pytest.mark.parametrize("kind", ["tpu", "nvidia", "amd", "cpu"])
@pytest.mark.parametrize("mode", ["none", "dind", "kubernetes", "kubernetes-novolume"])
def test_chart_accepts_values_and_objects_validate(kind, mode):
    cache = {"tpu": "gcs", "nvidia": "filestore", "amd": "none", "cpu": "gcs"}[kind]
    built, docs = render(kind, mode, cache)
    ars = next(d for d in docs if d["kind"] == "AutoscalingRunnerSet")
    pod_template = {"apiVersion": "v1", "kind": "PodTemplate",
                    "metadata": {"name": "runner", "namespace": "arc-runners"},
                    "template": ars["spec"]["template"]}
    manifests = [d for d in docs if d["kind"] != "AutoscalingRunnerSet"] + [pod_template, built["configmap"]]
    assert validate_manifests(manifests, "1.33") == []
    runner = next(c for c in ars["spec"]["template"]["spec"]["containers"] if c["name"] == "runner")
    resource = {"tpu": "google.com/tpu", "nvidia": "nvidia.com/gpu", "amd": "amd.com/gpu", "cpu": None}[kind]
    if resource and mode in ("none", "dind"):
        assert resource in runner["resources"]["limits"]
    if mode.startswith("kubernetes"):
        hooks = [e["value"] for e in runner["env"] if e["name"] == "ACTIONS_RUNNER_CONTAINER_HOOKS"]
        assert hooks == ["/home/runner/k8s/index.js" if mode == "kubernetes" else "/home/runner/k8s-novolume/index.js"]
    assert ars["spec"]["runnerScaleSetLabels"] == ["x"]
    assert ars["spec"]["minRunners"] == 0 and ars["spec"]["maxRunners"] == 2


def test_dind_on_kubernetes_1_28_validates_with_a_regular_sidecar():
    built, docs = render("nvidia", "dind", "none", kube="1.28")
    ars = next(d for d in docs if d["kind"] == "AutoscalingRunnerSet")
    names = [c["name"] for c in ars["spec"]["template"]["spec"]["containers"]]
    assert names == ["runner", "dind"]
    pod_template = {"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": "r", "namespace": "arc-runners"},
                    "template": ars["spec"]["template"]}
    assert validate_manifests([pod_template], "1.28") == []


def test_controller_values_render_and_validate():
    values = av.controller_values(dict(name="arc", namespace="arc-systems", metrics=True, replicas=2,
                                       node_selector={"cloud.google.com/gke-nodepool": "system"},
                                       resources={"requests": {"cpu": "100m", "memory": "128Mi"}}))
    out = Helm(binary_path=HELM).template("arc", CONTROLLER_CHART, "arc-systems", values, kube_version="1.33")
    docs = [d for d in yaml.safe_load_all(out) if d]
    assert validate_manifests(docs, "1.33") == []
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    assert "--enable-leader-election" in deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    assert deployment["metadata"]["labels"]["actions.github.com/controller-service-account-name"] == \
        controller_service_account("arc")

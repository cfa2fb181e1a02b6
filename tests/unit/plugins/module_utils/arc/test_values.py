"""Values building for runner scale sets and the controller: accelerators, container modes, model cache, refusals."""
import copy

import pytest

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import InputError
from ansible_collections.accelci.runners.plugins.module_utils._common.yaml_text import dump_yaml
from ansible_collections.accelci.runners.plugins.module_utils.arc import values as av
from ansible_collections.accelci.runners.plugins.module_utils.arc.github import (
    github_secret_data,
    parse_github_config_url,
)
from ansible_collections.accelci.runners.plugins.module_utils.arc.gitops import argocd_application, flux_helmrelease
from ansible_collections.accelci.runners.plugins.module_utils.arc.names import controller_service_account
from ansible_collections.accelci.runners.plugins.module_utils.gke.catalog import scheduling_profile

POOLS = [
    {"name": "tpu-v6e-1", "tpu": {"accelerator": "v6e", "topology": "1x1"}, "spot": True},
    {"name": "tpu-v6e-4", "tpu": {"accelerator": "v6e", "topology": "2x2"}, "spot": True},
    {"name": "tpu-v6e-16", "tpu": {"accelerator": "v6e", "topology": "4x4"}},
    {"name": "gpu-l4", "gpu": {"type": "nvidia-l4", "count": 1}, "machine_type": "g2-standard-8",
     "taints": [{"key": "team", "value": "ml", "effect": "NO_SCHEDULE"}]},
    {"name": "mi300", "amd_gpu": {"count": 2, "render_group": 110}, "node_selector": {"pytorch": "yes"}},
    {"name": "cpu", "machine_type": "e2-standard-8"},
]
# What the role passes: each pool resolved once by the catalog.
PROFILES = [scheduling_profile(pool) for pool in POOLS]
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAtestkeymaterial\n-----END RSA PRIVATE KEY-----\n"
GCS_CACHE = {
    "backend": "gcs", "mount_path": "/models", "namespace": "arc-runners", "service_account": "arc-runner",
    "pod_annotations": {"gke-gcsfuse/volumes": "true"},
    "volumes": [{"name": "models", "csi": {"driver": "gcsfuse.csi.storage.gke.io", "readOnly": True,
                                           "volumeAttributes": {"bucketName": "my-models",
                                                                "mountOptions": "implicit-dirs"}}}],
    "volume_mounts": [{"name": "models", "mountPath": "/models"}],
    "env": {"HF_HUB_OFFLINE": "1"},
}
FILESTORE_CACHE = {
    "backend": "filestore", "mount_path": "/models", "namespace": "arc-runners", "service_account": "",
    "pod_annotations": {},
    "volumes": [{"name": "models", "persistentVolumeClaim": {"claimName": "models-pvc", "readOnly": True}}],
    "volume_mounts": [{"name": "models", "mountPath": "/models", "readOnly": True}], "env": {},
}


def spec(**overrides):
    base = dict(name="arc-runner-v6e-4", namespace="arc-runners", controller_namespace="arc-systems",
                controller_service_account="arc-gha-rs-controller",
                github_config_url="https://github.com/alexshires/sglang-jax", secret_name="accelci-github",
                min_runners=0, max_runners=2, container_mode="none", node_pool=PROFILES[1],
                kubernetes_version="1.33")
    base.update(overrides)
    return base


def runner_of(values):
    return next(c for c in values["template"]["spec"]["containers"] if c["name"] == "runner")


def test_tpu_v6e_4_runner_gets_four_chips_selector_and_toleration():
    built = av.scale_set_values(spec(resources={"requests": {"cpu": "16", "memory": "64Gi"},
                                                "limits": {"cpu": "32", "memory": "128Gi"}}))
    values = built["values"]
    runner = runner_of(values)
    assert runner["resources"]["requests"]["google.com/tpu"] == 4
    assert runner["resources"]["limits"]["google.com/tpu"] == 4
    assert runner["resources"]["requests"]["cpu"] == "16"
    pod = values["template"]["spec"]
    assert pod["nodeSelector"] == {"cloud.google.com/gke-nodepool": "tpu-v6e-4",
                                   "cloud.google.com/gke-tpu-accelerator": "tpu-v6e-slice",
                                   "cloud.google.com/gke-tpu-topology": "2x2"}
    assert {"key": "google.com/tpu", "operator": "Equal", "value": "present", "effect": "NoSchedule"} in pod["tolerations"]
    assert values["controllerServiceAccount"] == {"name": "arc-gha-rs-controller", "namespace": "arc-systems"}
    assert values["minRunners"] == 0 and values["maxRunners"] == 2
    assert isinstance(values["minRunners"], int) and isinstance(values["maxRunners"], int)
    assert "containerMode" not in values
    assert values["githubConfigSecret"] == "accelci-github"
    assert {"name": "ACCELCI_SPOT", "value": "true"} in runner["env"]


def test_tpu_v6e_1_asks_for_one_chip():
    runner = runner_of(av.scale_set_values(spec(name="arc-runner-v6e-1", node_pool=PROFILES[0]))["values"])
    assert runner["resources"]["limits"]["google.com/tpu"] == 1


def test_multi_host_tpu_pool_is_refused():
    with pytest.raises(InputError) as err:
        av.scale_set_values(spec(node_pool=PROFILES[2]))
    assert err.value.field == "node_pool"
    assert "multi-host TPU slice" in str(err.value) and "one runner pod cannot span VMs" in str(err.value)


def test_nvidia_dind_passes_the_gpu_to_job_containers():
    built = av.scale_set_values(spec(name="gpu-l4-dind", node_pool=PROFILES[3], container_mode="dind"))
    pod = built["values"]["template"]["spec"]
    runner = runner_of(built["values"])
    assert runner["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert pod["nodeSelector"]["cloud.google.com/gke-accelerator"] == "nvidia-l4"
    keys = [t["key"] for t in pod["tolerations"]]
    assert keys == ["nvidia.com/gpu", "team"]
    assert pod["tolerations"][1]["effect"] == "NoSchedule"
    assert runner["command"] == ["/bin/bash", "/etc/accelci/hooks/gpu-entrypoint.sh"]
    dind = next(c for c in pod["initContainers"] if c["name"] == "dind")
    assert dind["restartPolicy"] == "Always"  # native sidecar on 1.29+
    assert "--mtu=1460" in dind["args"]
    assert {"name": "nvidia-driver", "mountPath": "/usr/local/nvidia", "readOnly": True} in dind["volumeMounts"]
    assert {"name": "nvidia-driver", "hostPath": {"path": "/home/kubernetes/bin/nvidia", "type": "Directory"}} in pod["volumes"]
    script = built["hook_files"]["gpu-entrypoint.sh"]
    assert "/dev/nvidia[0-9]*" in script and "exec /home/runner/run.sh" in script
    assert "containerMode" not in built["values"]  # the DinD layout is ours, in the template


def test_amd_pool_off_gke_gets_render_devices_and_group():
    built = av.scale_set_values(spec(name="rocm", node_pool=PROFILES[4], container_mode="dind"))
    pod = built["values"]["template"]["spec"]
    runner = runner_of(built["values"])
    assert runner["resources"]["requests"]["amd.com/gpu"] == 2
    assert pod["nodeSelector"] == {"pytorch": "yes"}  # no GKE labels off GKE
    assert pod["securityContext"]["supplementalGroups"] == [110]
    script = built["hook_files"]["gpu-entrypoint.sh"]
    assert "/dev/dri/renderD*" in script and "--group-add 110" in script and "/dev/kfd" in script
    dind = next(c for c in pod["initContainers"] if c["name"] == "dind")
    assert not any(a.startswith("--mtu") for a in dind["args"])  # docker's default off GKE


def test_dind_before_kubernetes_1_29_uses_a_regular_sidecar():
    built = av.scale_set_values(spec(container_mode="dind", kubernetes_version="1.28"))
    pod = built["values"]["template"]["spec"]
    assert [c["name"] for c in pod["containers"]] == ["runner", "dind"]
    assert [c["name"] for c in pod["initContainers"]] == ["init-dind-externals"]
    assert "restartPolicy" not in pod["containers"][1]


def test_kubernetes_mode_moves_accelerator_and_cache_to_the_job_pod():
    built = av.scale_set_values(spec(container_mode="kubernetes", model_cache=GCS_CACHE))
    values = built["values"]
    assert values["containerMode"]["type"] == "kubernetes"
    assert values["containerMode"]["kubernetesModeWorkVolumeClaim"]["resources"]["requests"]["storage"] == "20Gi"
    runner = runner_of(values)
    assert "google.com/tpu" not in (runner.get("resources") or {}).get("limits", {})
    assert values["template"]["spec"]["nodeSelector"]["cloud.google.com/gke-tpu-topology"] == "2x2"
    job = built["job_pod_template"]
    assert job["spec"]["containers"][0]["name"] == "$job"
    assert job["spec"]["containers"][0]["resources"]["limits"]["google.com/tpu"] == 4
    assert job["spec"]["serviceAccountName"] == "arc-runner"
    assert job["metadata"]["annotations"]["gke-gcsfuse/volumes"] == "true"
    assert {"name": "ACTIONS_RUNNER_CONTAINER_HOOK_TEMPLATE",
            "value": "/etc/accelci/hooks/job-pod-template.yaml"} in runner["env"]
    assert "job-pod-template.yaml" in built["configmap"]["data"]


def test_kubernetes_novolume_mode_has_no_claim():
    values = av.scale_set_values(spec(container_mode="kubernetes-novolume"))["values"]
    assert values["containerMode"] == {"type": "kubernetes-novolume"}


def test_gcs_model_cache_mounted_read_only_with_annotation_ksa_and_cache_options():
    built = av.scale_set_values(spec(model_cache=GCS_CACHE, gcsfuse={"file_cache_capacity": "50Gi",
                                                                     "metadata_cache_ttl_seconds": 600,
                                                                     "file_cache_for_range_read": True,
                                                                     "memory_limit": "4Gi"}))
    template = built["values"]["template"]
    runner = runner_of(built["values"])
    assert {"name": "models", "mountPath": "/models", "readOnly": True} in runner["volumeMounts"]
    assert template["metadata"]["annotations"]["gke-gcsfuse/volumes"] == "true"
    assert template["metadata"]["annotations"]["gke-gcsfuse/memory-limit"] == "4Gi"
    assert template["spec"]["serviceAccountName"] == "arc-runner"
    csi = next(v for v in template["spec"]["volumes"] if v["name"] == "models")["csi"]
    assert csi["volumeAttributes"]["fileCacheCapacity"] == "50Gi"
    assert csi["volumeAttributes"]["metadataCacheTTLSeconds"] == "600"
    assert csi["volumeAttributes"]["fileCacheForRangeRead"] == "true"
    assert {"name": "HF_HUB_OFFLINE", "value": "1"} in runner["env"]
    # The published cache is not modified in place.
    assert "fileCacheCapacity" not in GCS_CACHE["volumes"][0]["csi"]["volumeAttributes"]


def test_filestore_model_cache_uses_the_pvc_read_only():
    built = av.scale_set_values(spec(model_cache=FILESTORE_CACHE, container_mode="dind"))
    pod = built["values"]["template"]["spec"]
    assert {"name": "models", "persistentVolumeClaim": {"claimName": "models-pvc", "readOnly": True}} in pod["volumes"]
    dind = next(c for c in pod["initContainers"] if c["name"] == "dind")
    assert {"name": "models", "mountPath": "/models", "readOnly": True} in dind["volumeMounts"]
    assert "serviceAccountName" not in pod


def test_model_cache_in_another_namespace_is_refused():
    cache = dict(GCS_CACHE, namespace="other")
    with pytest.raises(InputError, match="published for namespace 'other'"):
        av.scale_set_values(spec(model_cache=cache))


def test_gcsfuse_options_need_the_gcs_backend():
    with pytest.raises(InputError, match="gcs model cache backend only"):
        av.scale_set_values(spec(model_cache=FILESTORE_CACHE, gcsfuse={"file_cache_capacity": "1Gi"}))


def test_job_policy_hook_is_mounted_from_a_configmap():
    built = av.scale_set_values(spec(job_policy={"allowed_events": ["push"], "deny_fork_pull_requests": True}))
    runner = runner_of(built["values"])
    assert {"name": "ACTIONS_RUNNER_HOOK_JOB_STARTED", "value": "/etc/accelci/hooks/job-started.sh"} in runner["env"]
    configmap = built["configmap"]
    assert configmap["kind"] == "ConfigMap" and configmap["metadata"]["namespace"] == "arc-runners"
    assert "ALLOWED_EVENTS=('push')" in configmap["data"]["job-started.sh"]
    volume = next(v for v in built["values"]["template"]["spec"]["volumes"] if v["name"] == "accelci-hooks")
    assert volume["configMap"] == {"name": "arc-runner-v6e-4-accelci-hooks", "defaultMode": 0o555}


def test_empty_policy_means_no_hook():
    built = av.scale_set_values(spec(job_policy={"deny_fork_pull_requests": False}))
    assert built["configmap"] is None
    assert not any(e["name"] == "ACTIONS_RUNNER_HOOK_JOB_STARTED" for e in runner_of(built["values"])["env"])


def test_labels_are_a_list_and_listener_placement_is_at_spec():
    values = av.scale_set_values(spec(labels=["tpu", "v6e"], listener_node_selector={"pool": "system"},
                                      listener_tolerations=[{"key": "x", "operator": "Exists"}]))["values"]
    assert values["scaleSetLabels"] == ["tpu", "v6e"]
    assert values["listenerTemplate"]["spec"]["nodeSelector"] == {"pool": "system"}
    assert values["listenerTemplate"]["spec"]["containers"] == [{"name": "listener"}]


def test_pod_template_merges_by_container_name():
    values = av.scale_set_values(spec(pod_template={"spec": {"containers": [
        {"name": "runner", "imagePullPolicy": "Always"}, {"name": "sidecar", "image": "busybox"}]}}))["values"]
    names = [c["name"] for c in values["template"]["spec"]["containers"]]
    assert names == ["runner", "sidecar"]
    assert runner_of(values)["imagePullPolicy"] == "Always"
    assert runner_of(values)["resources"]["limits"]["google.com/tpu"] == 4


def test_env_values_become_strings():
    runner = runner_of(av.scale_set_values(spec(env={"SGLANG_JAX_IS_IN_CI": True, "N": 3}))["values"])
    assert {"name": "SGLANG_JAX_IS_IN_CI", "value": "true"} in runner["env"]
    assert {"name": "N", "value": "3"} in runner["env"]


@pytest.mark.parametrize("overrides, field, message", [
    (dict(name="a" * 46), "name", "ARC accepts at most 45"),
    (dict(name="Arc_Runner"), "name", "lowercase letters"),
    (dict(min_runners=3, max_runners=2), "min_runners", "min_runners (3) is greater than max_runners (2)"),
    (dict(max_runners="5"), "max_runners", "accepted: a whole number from 0 to 2147483647"),
    (dict(labels=[""]), "labels[0]", "non-empty string of less than 256 characters"),
    (dict(labels=["x" * 256]), "labels[0]", "is 256 characters"),
    (dict(labels=["tpu", "tpu"]), "labels[1]", "listed twice"),
    (dict(github_config_url="http://github.com/o"), "github_config_url", "is not a GitHub configuration URL"),
    (dict(container_mode="podman"), "container_mode", "must be one of"),
    (dict(resources={"limits": {"google.com/tpu": 8}}), "resources.limits.google.com/tpu", "has 4 per node"),
    (dict(job_policy={"allowed_events": ["push"], "denied_events": ["push"]}), "job_policy", "both allowed and denied"),
    (dict(job_policy={"allowed_refs": ["refs/heads/$(id)"]}), "job_policy.allowed_refs", "no quotes, spaces"),
    (dict(dind_mtu=100, container_mode="dind"), "dind_mtu", "between 576 and 9000"),
    # Hostile and absurd values (issue: every value checked before use, naming the field and what is accepted).
    (dict(resources={"requests": {"cpu": "lots"}}), "resources.requests.cpu", "accepted: a Kubernetes quantity"),
    (dict(resources={"limits": {"memory": "-1Gi"}}), "resources.limits.memory", "accepted: a Kubernetes quantity"),
    (dict(resources={"limits": {"memory": "4 GB"}}), "resources.limits.memory", "accepted: a Kubernetes quantity"),
    (dict(resources={"requests": {"cpu": True}}), "resources.requests.cpu", "accepted: a Kubernetes quantity"),
    (dict(resources={"requests": {"cpu": "9" * 40}}), "resources.requests.cpu", "accepted: a Kubernetes quantity"),
    (dict(container_mode="dind", dind_resources={"limits": {"cpu": "many"}}), "dind_resources.limits.cpu",
     "accepted: a Kubernetes quantity"),
    (dict(work_dir_size_limit="huge"), "work_dir_size_limit", "accepted: a Kubernetes quantity"),
    (dict(container_mode="kubernetes", work_volume_claim={"resources": {"requests": {"storage": "1 TB"}}}),
     "work_volume_claim.resources.requests.storage", "accepted: a Kubernetes quantity"),
    (dict(max_runners=2 ** 31), "max_runners", "from 0 to 2147483647 (the AutoscalingRunnerSet API's int32)"),
    (dict(max_runners=10 ** 12), "max_runners", "from 0 to 2147483647"),
    (dict(max_runners=-1), "max_runners", "from 0 to 2147483647"),
    (dict(min_runners=-3), "min_runners", "from 0 to 2147483647"),
    (dict(min_runners=True), "min_runners", "from 0 to 2147483647"),
    (dict(spot_termination_grace_seconds=-5), "spot_termination_grace_seconds", "from 0 to 3600"),
    (dict(resources={"limits": {"google.com/tpu": "4Gi"}}), "resources.limits.google.com/tpu", "has 4 per node"),
])
def test_invalid_inputs_are_refused(overrides, field, message):
    with pytest.raises(InputError) as err:
        av.scale_set_values(spec(**overrides))
    assert err.value.field == field
    assert message in str(err.value)


def test_github_urls():
    assert parse_github_config_url("https://github.com/o/r")["kind"] == "repository"
    assert parse_github_config_url("https://github.com/o")["kind"] == "organization"
    assert parse_github_config_url("https://github.com/enterprises/e")["kind"] == "enterprise"
    ghes = parse_github_config_url("https://ghe.example.com/org/repo/")
    assert ghes["ghes"] and ghes["url"] == "https://ghe.example.com/org/repo"


def test_github_secret_data_app_pat_and_refusals():
    assert github_secret_data(token="ghp_x") == {"github_token": "ghp_x"}
    data = github_secret_data("123456", "7890", PEM)
    assert set(data) == {"github_app_id", "github_app_installation_id", "github_app_private_key"}
    with pytest.raises(InputError, match="GitHub credentials are missing"):
        github_secret_data()
    with pytest.raises(InputError, match="not both"):
        github_secret_data("123456", "7890", PEM, token="ghp_x")
    with pytest.raises(InputError, match="missing: github_app_private_key"):
        github_secret_data("123456", "7890", None)
    with pytest.raises(InputError, match="is not a PEM private key") as err:
        github_secret_data("123456", "7890", "not-a-key-secret-material")
    assert "not-a-key-secret-material" not in str(err.value)


def test_secrets_never_reach_values():
    built = av.scale_set_values(spec(model_cache=GCS_CACHE, job_policy={"allowed_events": ["push"]}))
    text = dump_yaml(built["values"]) + dump_yaml(built["configmap"])
    assert "PRIVATE KEY" not in text and "github_token" not in text
    assert isinstance(built["values"]["githubConfigSecret"], str)


def test_controller_values_and_service_account():
    values = av.controller_values(dict(name="arc", namespace="arc-systems", replicas=2, log_level="debug",
                                       log_format="text", metrics=True, metrics_port=8080,
                                       node_selector={"pool": "system"}))
    assert values["serviceAccount"]["name"] == "arc-gha-rs-controller"
    assert values["metrics"] == {"controllerManagerAddr": ":8080", "listenerAddr": ":8080",
                                 "listenerEndpoint": "/metrics"}
    assert values["replicaCount"] == 2
    assert controller_service_account("my-gha-rs-controller") == "my-gha-rs-controller"
    with pytest.raises(InputError, match="cannot be 'default'"):
        controller_service_account("arc", "default")


def test_gitops_objects():
    flux = flux_helmrelease("arc-runner-v6e-1", "arc-runners", "oci://ghcr.io/actions/actions-runner-controller-charts/"
                            "gha-runner-scale-set", "0.14.2", {"a": 1}, depends_on=[{"name": "arc", "namespace": "arc-systems"}])
    assert [o["kind"] for o in flux] == ["OCIRepository", "HelmRelease"]
    assert flux[0]["spec"]["url"] == "oci://ghcr.io/actions/actions-runner-controller-charts/gha-runner-scale-set"
    assert flux[0]["spec"]["ref"] == {"tag": "0.14.2"}
    assert flux[1]["spec"]["dependsOn"] == [{"name": "arc", "namespace": "arc-systems"}]
    app = argocd_application("arc", "arc-systems", "oci://ghcr.io/actions/actions-runner-controller-charts/"
                             "gha-runner-scale-set-controller", "0.14.2", {"a": 1})[0]
    assert app["spec"]["source"]["repoURL"] == "ghcr.io/actions/actions-runner-controller-charts"
    assert "ServerSideApply=true" in app["spec"]["syncPolicy"]["syncOptions"]


def test_runner_pod_summary():
    summary = av.runner_pod_summary(av.scale_set_values(spec(labels=["tpu"], model_cache=GCS_CACHE))["values"])
    assert summary["runs_on"] == ["arc-runner-v6e-4", "tpu"]
    assert summary["resources"]["limits"]["google.com/tpu"] == 4
    assert {"path": "/models", "volume": "models", "read_only": True} in summary["mounts"]
    assert summary["container_mode"] == "none"


def test_inputs_are_not_mutated():
    profiles = copy.deepcopy(PROFILES)
    cache = copy.deepcopy(GCS_CACHE)
    av.scale_set_values(spec(node_pool=profiles[1], model_cache=cache, gcsfuse={"file_cache_capacity": "1Gi"}))
    assert profiles == PROFILES and cache == GCS_CACHE

# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The runner pod of a scale set: runner container, DinD sidecar, hooks, model cache, placement (pure).

``container_layout()`` decides the pod's shape from the container mode and the pool; ``runner_hooks()`` builds the
hook scripts the pod mounts from a ConfigMap (job-start policy, the DinD GPU entrypoint, the kubernetes-mode job pod
template); ``runner_pod_template()`` builds the chart's ``template``. Placement, the accelerator resource, devices
and groups come from the node pool's scheduling profile.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import InputError
from ansible_collections.accelci.runners.plugins.module_utils._common.merge import deep_merge
from ansible_collections.accelci.runners.plugins.module_utils._common.yaml_text import dump_yaml
from ansible_collections.accelci.runners.plugins.module_utils.arc.defaults import (
    DIND_IMAGE,
    KUBERNETES_VERSION,
    RUNNER_IMAGE,
)
from ansible_collections.accelci.runners.plugins.module_utils.arc.job_policy import job_started_script
from ansible_collections.accelci.runners.plugins.module_utils.arc.names import hooks_configmap_name
from ansible_collections.accelci.runners.plugins.module_utils.k8s.validation import check_quantity, check_resources

CONTAINER_MODES = ("none", "dind", "kubernetes", "kubernetes-novolume")
KUBE_MODES = ("kubernetes", "kubernetes-novolume")
GKE_MTU = 1460
RUNNER_UID = 1001
DOCKER_GID = 123
# Kubernetes 1.29 made native sidecars (init containers with restartPolicy Always) the default.
NATIVE_SIDECAR_MINOR = 29
HOOKS_DIR = "/etc/accelci/hooks"
HOOKS_VOLUME = "accelci-hooks"
JOB_STARTED = "job-started.sh"
GPU_ENTRYPOINT = "gpu-entrypoint.sh"
JOB_POD_TEMPLATE = "job-pod-template.yaml"
GPU_ARGS_DIR = "/etc/accelci/gpu"
NVIDIA_HOST_DRIVER_DIR = "/home/kubernetes/bin/nvidia"  # where GKE installs the NVIDIA driver on the node
NVIDIA_DIR = "/usr/local/nvidia"
WORK_MOUNT = {"name": "work", "mountPath": "/home/runner/_work"}
DOCKER_SOCK_MOUNT = {"name": "dind-sock", "mountPath": "/var/run"}
DEFAULT_WORK_CLAIM = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "20Gi"}}}


# -- small pieces -----------------------------------------------------------------------------------------------------


def container_layout(spec, profile, cache, kubernetes_version):
    """What the pod looks like: the container mode and the choices that follow from it and the pool."""
    mode = spec.get("container_mode") or "none"
    if mode not in CONTAINER_MODES:
        raise InputError("container_mode", "must be one of %s, got %r" % (", ".join(CONTAINER_MODES), mode))
    kube = mode in KUBE_MODES
    return dict(mode=mode, kube=kube, dind=mode == "dind",
                native_sidecar=_kube_minor(kubernetes_version) >= NATIVE_SIDECAR_MINOR,
                gpu_passthrough=mode == "dind" and profile["kind"] in ("nvidia", "amd"),
                # In kubernetes modes the cache goes to job pods, not to the runner.
                runner_cache=cache if not kube else None)


def _kube_minor(kubernetes_version):
    match = re.match(r"^v?(\d+)\.(\d+)", str(kubernetes_version or ""))
    if not match:
        raise InputError("kubernetes_version", "%r is not a version like %s" % (kubernetes_version, KUBERNETES_VERSION))
    return int(match.group(2))


def _env_list(env):
    """env as a mapping (values stringified) or a Kubernetes list, to a list."""
    if not env:
        return []
    if isinstance(env, dict):
        return [{"name": str(k), "value": "" if v is None else (str(v).lower() if isinstance(v, bool) else str(v))}
                for k, v in env.items()]
    return [dict(item) for item in env]


def _merge_env(base, extra):
    """Env lists merged by name: a later entry replaces an earlier one in place."""
    names = [e["name"] for e in base]
    for item in extra:
        if item["name"] in names:
            base[names.index(item["name"])] = item
        else:
            base.append(item)
            names.append(item["name"])
    return base


def _runner_resources(user, profile, on_runner):
    """The runner's requests and limits: the user's (each a checked quantity), plus the pool's accelerator when the
    runner holds it."""
    unknown = sorted(set(user or {}) - {"requests", "limits"})
    if unknown:
        raise InputError("resources", "unknown keys %s; accepted: requests, limits" % ", ".join(unknown))
    check_resources("resources", user)
    resources = {"requests": {}, "limits": {}}
    for section in ("requests", "limits"):
        for key, value in ((user or {}).get(section) or {}).items():
            # Strings as given; an integer count of devices stays an integer for clarity.
            resources[section][str(key)] = check_quantity("resources.%s.%s" % (section, key), value)
    name = profile["resource_name"]
    if name and on_runner:
        for section in ("requests", "limits"):
            given = resources[section].get(name)
            if given is not None and str(given) != str(profile["count"]):
                raise InputError("resources.%s.%s" % (section, name), "is %s but node pool %s has %d per node; "
                                 "leave it out (it comes from the pool)" % (given, profile["pool"], profile["count"]))
            # Extended resources need requests == limits; both are set.
            resources[section][name] = profile["count"]
    return dict((k, v) for k, v in resources.items() if v)


def _accelerator_resources(profile):
    if not profile["resource_name"]:
        return {}
    return {"requests": {profile["resource_name"]: profile["count"]},
            "limits": {profile["resource_name"]: profile["count"]}}


def _work_dir(spec):
    """The job workspace emptyDir, capped when work_dir_size_limit is set (seed 000 used 100Gi)."""
    if not spec.get("work_dir_size_limit"):
        return {}
    return {"sizeLimit": str(check_quantity("work_dir_size_limit", spec["work_dir_size_limit"]))}


def _nvidia_driver_dir(profile):
    """Host directory of the NVIDIA driver DinD job containers need: GKE's, or the pool's driver_dir off GKE."""
    if profile["kind"] != "nvidia":
        return None
    return NVIDIA_HOST_DRIVER_DIR if profile["gke"] else profile["details"].get("driver_dir")


# -- hooks ------------------------------------------------------------------------------------------------------------


def gpu_entrypoint_script(profile):
    """Runner entrypoint for DinD on a GPU pool: find the devices this pod was given, hand them to job containers.

    The runner container holds the GPU (the device plugin puts only the allocated devices in it). The privileged
    dind sidecar sees every host device, so passing the runner's device paths (the profile's ``devices``) to
    ``docker run`` gives job containers exactly the GPUs of this runner, with the groups that may open them. The
    arguments are exported as ACCELCI_DOCKER_GPU_ARGS for steps (``docker run $ACCELCI_DOCKER_GPU_ARGS ...``) and
    written to /etc/accelci/gpu/docker-args.
    """
    lines = [
        'args=""',
        'for device in %s; do' % " ".join(profile["devices"]),
        '  [ -e "$device" ] && args="$args --device $device"',
        'done',
    ]
    lines += ['args="$args --group-add %d"' % group for group in profile["supplemental_groups"]]
    if profile["kind"] == "nvidia":
        lines += [
            'args="$args -v %s:%s:ro -e LD_LIBRARY_PATH=%s/lib64"' % (NVIDIA_DIR, NVIDIA_DIR, NVIDIA_DIR),
            'args="$args -e NVIDIA_VISIBLE_DEVICES=all -e NVIDIA_DRIVER_CAPABILITIES=compute,utility"',
        ]
    return """#!/bin/bash
# Runner entrypoint (rendered by accelci.runners): expose this pod's %(kind)s GPUs to DinD job containers.
set -eu
%(discover)s
export ACCELCI_DOCKER_GPU_ARGS="${args# }"
mkdir -p %(dir)s
printf '%%s\\n' "$ACCELCI_DOCKER_GPU_ARGS" > %(dir)s/docker-args
echo "accelci: job containers get: $ACCELCI_DOCKER_GPU_ARGS"
exec /home/runner/run.sh "$@"
""" % dict(kind=profile["kind"].upper() if profile["kind"] == "amd" else "NVIDIA", discover="\n".join(lines),
           dir=GPU_ARGS_DIR)


def _job_pod_template(profile, cache):
    """The container-hook template for kubernetes modes: job pods get the accelerator and the model cache."""
    job = {"name": "$job"}
    resources = _accelerator_resources(profile)
    if resources:
        job["resources"] = resources
    if cache:
        job["volumeMounts"] = copy.deepcopy(cache["mounts"])
        if cache["env"]:
            job["env"] = list(cache["env"])
    template = {"spec": {"containers": [job]}}
    if cache:
        template["spec"]["volumes"] = copy.deepcopy(cache["volumes"])
        if cache["annotations"]:
            template["metadata"] = {"annotations": dict(cache["annotations"])}
        if cache["service_account"]:
            template["spec"]["serviceAccountName"] = cache["service_account"]
    if profile["tolerations"]:
        template["spec"]["tolerations"] = copy.deepcopy(profile["tolerations"])
    if profile["node_selector"]:
        template["spec"]["nodeSelector"] = dict(profile["node_selector"])
    if profile["supplemental_groups"]:
        template["spec"]["securityContext"] = {"supplementalGroups": list(profile["supplemental_groups"])}
    return template


def runner_hooks(name, policy, profile, cache, layout):
    """The hook scripts of a scale set and the runner env that points at them.

    ``policy`` is the normalized job policy, or None when it is empty. Returns dict(files, env, job_pod_template).
    """
    files, env, job = {}, [], None
    if policy is not None:
        files[JOB_STARTED] = job_started_script(policy, name)
        env.append({"name": "ACTIONS_RUNNER_HOOK_JOB_STARTED", "value": "%s/%s" % (HOOKS_DIR, JOB_STARTED)})
    if layout["gpu_passthrough"]:
        files[GPU_ENTRYPOINT] = gpu_entrypoint_script(profile)
        env.append({"name": "ACCELCI_DOCKER_GPU_ARGS_FILE", "value": "%s/docker-args" % GPU_ARGS_DIR})
    if layout["kube"] and (profile["resource_name"] or cache or profile["supplemental_groups"]):
        job = _job_pod_template(profile, cache)
        files[JOB_POD_TEMPLATE] = dump_yaml(job)
        env.append({"name": "ACTIONS_RUNNER_CONTAINER_HOOK_TEMPLATE", "value": "%s/%s" % (HOOKS_DIR, JOB_POD_TEMPLATE)})
    return dict(files=files, env=env, job_pod_template=job)


# -- containers -------------------------------------------------------------------------------------------------------


def _runner_mounts(spec, layout, hooks):
    mounts = []
    if layout["gpu_passthrough"]:
        mounts.append({"name": "accelci-gpu", "mountPath": GPU_ARGS_DIR})
    if layout["runner_cache"]:
        mounts += copy.deepcopy(layout["runner_cache"]["mounts"])
    if hooks["files"]:
        mounts.append({"name": HOOKS_VOLUME, "mountPath": HOOKS_DIR, "readOnly": True})
    if layout["dind"]:
        mounts = [dict(WORK_MOUNT), dict(DOCKER_SOCK_MOUNT)] + mounts
    if layout["mode"] == "none" and spec.get("work_dir_size_limit"):
        mounts = [dict(WORK_MOUNT)] + mounts
    return mounts


def _runner_env(spec, profile, layout, hooks):
    env = list(hooks["env"])
    if profile["pool"]:
        env.append({"name": "ACCELCI_NODE_POOL", "value": profile["pool"]})
    if profile["spot"]:
        env.append({"name": "ACCELCI_SPOT", "value": "true"})
    if layout["runner_cache"]:
        env = _merge_env(env, layout["runner_cache"]["env"])
    env = _merge_env(env, _env_list(spec.get("env")))
    if layout["dind"]:
        env = _merge_env(env, [{"name": "DOCKER_HOST", "value": "unix:///var/run/docker.sock"},
                               {"name": "RUNNER_WAIT_FOR_DOCKER_IN_SECONDS", "value": "120"}])
    return env


def _runner_container(spec, profile, layout, hooks):
    """The runner container: image, entrypoint, env, accelerator resources, mounts; never root."""
    runner = {"name": "runner", "image": spec.get("runner_image") or RUNNER_IMAGE, "command": ["/home/runner/run.sh"]}
    if layout["gpu_passthrough"]:
        runner["command"] = ["/bin/bash", "%s/%s" % (HOOKS_DIR, GPU_ENTRYPOINT)]
    runner["env"] = _runner_env(spec, profile, layout, hooks)
    resources = _runner_resources(spec.get("resources"), profile, on_runner=not layout["kube"])
    if resources:
        runner["resources"] = resources
    # The runner itself never needs root; DinD puts the privileges in the dind sidecar only.
    runner["securityContext"] = {"runAsNonRoot": True, "runAsUser": RUNNER_UID, "runAsGroup": DOCKER_GID}
    mounts = _runner_mounts(spec, layout, hooks)
    if mounts:
        runner["volumeMounts"] = mounts
    return runner


def _dind_args(spec, profile):
    args = ["dockerd", "--host=unix:///var/run/docker.sock", "--group=%d" % DOCKER_GID]
    mtu = spec.get("dind_mtu")
    if mtu is None:
        # GKE's VPC MTU is 1460: docker's default 1500 on the bridge drops large packets (arc-contract pain point 6).
        # Clusters off GKE keep docker's default unless dind_mtu says otherwise.
        mtu = GKE_MTU if profile["gke"] else 0
    if mtu:
        if not 576 <= mtu <= 9000:
            raise InputError("dind_mtu", "must be between 576 and 9000 (or 0 for docker's default), got %d" % mtu)
        args += ["--mtu=%d" % mtu, "--default-network-opt=bridge=com.docker.network.driver.mtu=%d" % mtu]
    return args


def _dind_container(spec, profile, cache, native):
    """The privileged Docker daemon of DinD mode (a native sidecar from Kubernetes 1.29)."""
    container = {
        "name": "dind",
        "image": spec.get("dind_image") or DIND_IMAGE,
        "args": _dind_args(spec, profile),
        "securityContext": {"privileged": True},
        # Probe the daemon so the runner does not start jobs before docker answers (pain point 6).
        "startupProbe": {"exec": {"command": ["docker", "info"]}, "initialDelaySeconds": 0,
                         "periodSeconds": 5, "failureThreshold": 24},
        "volumeMounts": [dict(WORK_MOUNT), dict(DOCKER_SOCK_MOUNT),
                         {"name": "dind-externals", "mountPath": "/home/runner/externals"}],
    }
    if native:
        container["restartPolicy"] = "Always"
    if _nvidia_driver_dir(profile):
        container["volumeMounts"].append({"name": "nvidia-driver", "mountPath": NVIDIA_DIR, "readOnly": True})
    if cache:
        # Job containers bind-mount paths of dockerd's filesystem: give the dind container the cache too.
        container["volumeMounts"] += copy.deepcopy(cache["mounts"])
    if spec.get("dind_resources"):
        container["resources"] = copy.deepcopy(check_resources("dind_resources", spec["dind_resources"]))
    return container


# -- the pod ------------------------------------------------------------------------------------------------------------


def _dind_parts(spec, profile, cache, layout, runner_image):
    """(init containers, sidecar containers, volumes) of DinD mode."""
    init = [{
        "name": "init-dind-externals", "image": runner_image, "command": ["cp"],
        "args": ["-r", "/home/runner/externals/.", "/home/runner/tmpDir/"],
        "volumeMounts": [{"name": "dind-externals", "mountPath": "/home/runner/tmpDir"}],
    }]
    dind = _dind_container(spec, profile, cache, layout["native_sidecar"])
    sidecars = []
    if layout["native_sidecar"]:
        init.append(dind)
    else:
        sidecars.append(dind)
    volumes = [{"name": "work", "emptyDir": _work_dir(spec)}, {"name": "dind-sock", "emptyDir": {}},
               {"name": "dind-externals", "emptyDir": {}}]
    driver_dir = _nvidia_driver_dir(profile)
    if driver_dir:
        volumes.append({"name": "nvidia-driver", "hostPath": {"path": driver_dir, "type": "Directory"}})
    return init, sidecars, volumes


def _pod_volumes(spec, name, layout, hooks):
    volumes = []
    if layout["mode"] == "none" and spec.get("work_dir_size_limit"):
        volumes.append({"name": "work", "emptyDir": _work_dir(spec)})
    if layout["gpu_passthrough"]:
        volumes.append({"name": "accelci-gpu", "emptyDir": {}})
    if hooks["files"]:
        volumes.append({"name": HOOKS_VOLUME, "configMap": {"name": hooks_configmap_name(name), "defaultMode": 0o555}})
    if layout["runner_cache"]:
        volumes += copy.deepcopy(layout["runner_cache"]["volumes"])
    return volumes


def _place(pod, spec, profile):
    """Service account, node selector, tolerations, groups and the spot grace period of the runner pod."""
    if spec.get("service_account"):
        pod["serviceAccountName"] = spec["service_account"]
    if profile["node_selector"]:
        pod["nodeSelector"] = dict(profile["node_selector"])
    if profile["tolerations"]:
        pod["tolerations"] = copy.deepcopy(profile["tolerations"])
    security = {"fsGroup": DOCKER_GID}
    if profile["supplemental_groups"]:
        security["supplementalGroups"] = list(profile["supplemental_groups"])
    pod["securityContext"] = security
    grace = spec.get("spot_termination_grace_seconds")
    if grace is not None and (isinstance(grace, bool) or not isinstance(grace, int) or not 0 <= grace <= 3600):
        raise InputError("spot_termination_grace_seconds",
                         "%r is not accepted; accepted: whole seconds from 0 to 3600 (spot VMs get about 30 seconds "
                         "of notice)" % (grace,))
    if profile["spot"] and grace:
        # Spot VMs get about 30 s notice and kubelet gives pods part of it: SIGTERM reaches the runner, which
        # stops the job; GitHub marks the job failed and it must be re-run (see docs/arc.md).
        pod["terminationGracePeriodSeconds"] = int(spec["spot_termination_grace_seconds"])


def _runner_pod_spec(spec, profile, cache, layout, hooks):
    """The runner pod's spec: the runner, DinD when asked, volumes, then placement on the pool."""
    runner = _runner_container(spec, profile, layout, hooks)
    pod = {"containers": [runner], "restartPolicy": "Never"}
    init, volumes = [], []
    if layout["dind"]:
        init, sidecars, volumes = _dind_parts(spec, profile, cache, layout, runner["image"])
        pod["containers"] += sidecars
    volumes += _pod_volumes(spec, spec["name"], layout, hooks)
    if layout["runner_cache"] and layout["runner_cache"]["service_account"]:
        pod["serviceAccountName"] = layout["runner_cache"]["service_account"]
    _place(pod, spec, profile)
    if init:
        pod["initContainers"] = init
    if volumes:
        pod["volumes"] = volumes
    return pod


def runner_pod_template(spec, profile, cache, layout, hooks):
    """The chart's ``template``: metadata (autoscaler annotation, cache annotations, labels) and the pod spec,
    with the user's ``pod_template`` merged last (containers and volumes by name)."""
    name = spec["name"]
    annotations = {"cluster-autoscaler.kubernetes.io/safe-to-evict": "false"}
    if layout["runner_cache"]:
        annotations.update(layout["runner_cache"]["annotations"])
    labels = {"accelci.io/scale-set": name}
    if profile["pool"]:
        labels["accelci.io/node-pool"] = profile["pool"]
    template = {"metadata": {"annotations": annotations, "labels": labels},
                "spec": _runner_pod_spec(spec, profile, cache, layout, hooks)}
    if spec.get("pod_template"):
        template = deep_merge(template, spec["pod_template"])
        if not any(c.get("name") == "runner" for c in template["spec"].get("containers", [])):
            raise InputError("pod_template", "must keep the container named runner")
    return template


def work_volume_claim(spec):
    """kubernetes mode's work volume claim (the job workspace), with a storage request."""
    claim = spec.get("work_volume_claim") or copy.deepcopy(DEFAULT_WORK_CLAIM)
    if not (claim.get("resources") or {}).get("requests", {}).get("storage"):
        raise InputError("work_volume_claim", "needs resources.requests.storage (kubernetes mode puts the job "
                                              "workspace on this claim)")
    check_resources("work_volume_claim.resources", claim["resources"])
    return claim

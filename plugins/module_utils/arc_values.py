# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Values for the ARC charts (gha-runner-scale-set-controller and gha-runner-scale-set, 0.14.x).

Everything here is pure: inputs in, values and manifests out, ``ArcInputError`` (naming the field) for anything
the charts, GitHub or the cluster would refuse. The modules call these before touching anything.

- ``scale_set_values(spec)``: the values of one scale set plus the objects it needs (hook ConfigMap, GitHub Secret).
- ``controller_values(spec)``: the controller's values.
- ``accelerator_profile(pool)``: what a runner on a node pool asks for (resources, node selector, tolerations, ...).
- ``runner_pod_summary(values)``: what a runner pod gets, for reports.
- ``flux_helmrelease()`` / ``argocd_application()``: GitOps objects for render mode.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re
import traceback

try:
    import yaml

    HAS_YAML = True
    YAML_IMP_ERR = None
except ImportError:  # pragma: no cover - PyYAML ships with ansible-core
    HAS_YAML = False
    YAML_IMP_ERR = traceback.format_exc()

from ansible_collections.accelci.runners.plugins.module_utils.accelerators import resolve_gpu, resolve_tpu
from ansible_collections.accelci.runners.plugins.module_utils.arc_job_policy import (
    JobPolicyError,
    job_started_script,
    normalize_policy,
    policy_is_empty,
)

ARC_VERSION = "0.14.2"
CHART_REPOSITORY = "oci://ghcr.io/actions/actions-runner-controller-charts"
CONTROLLER_CHART = "gha-runner-scale-set-controller"
SCALE_SET_CHART = "gha-runner-scale-set"
RUNNER_IMAGE = "ghcr.io/actions/actions-runner:latest"
DIND_IMAGE = "docker:dind"
GKE_MTU = 1460
NAME_MAX = 45
LABEL_MAX = 255
NAMESPACE_MAX = 63
RUNNER_UID = 1001
DOCKER_GID = 123
# Kubernetes 1.29 made native sidecars (init containers with restartPolicy Always) the default.
NATIVE_SIDECAR_MINOR = 29
HOOKS_DIR = "/etc/accelci/hooks"
HOOKS_VOLUME = "accelci-hooks"
JOB_STARTED = "job-started.sh"
GPU_ENTRYPOINT = "gpu-entrypoint.sh"
JOB_POD_TEMPLATE = "job-pod-template.yaml"
NVIDIA_HOST_DRIVER_DIR = "/home/kubernetes/bin/nvidia"  # where GKE installs the NVIDIA driver on the node
NVIDIA_DIR = "/usr/local/nvidia"
GCSFUSE_DRIVER = "gcsfuse.csi.storage.gke.io"
CONTAINER_MODES = ("none", "dind", "kubernetes", "kubernetes-novolume")

NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
GITHUB_PATH_RE = re.compile(r"^/(?:enterprises/[A-Za-z0-9_.-]+|[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)?)/?$")
APP_ID_RE = re.compile(r"^(?:[0-9]+|Iv[0-9A-Za-z.]+)$")
DIGITS_RE = re.compile(r"^[0-9]+$")
PEM_RE = re.compile(r"-----BEGIN (?:RSA )?PRIVATE KEY-----.+-----END (?:RSA )?PRIVATE KEY-----", re.S)

GCSFUSE_VOLUME_OPTIONS = {
    "file_cache_capacity": "fileCacheCapacity",
    "file_cache_for_range_read": "fileCacheForRangeRead",
    "metadata_cache_ttl_seconds": "metadataCacheTTLSeconds",
    "metadata_stat_cache_capacity": "metadataStatCacheCapacity",
    "metadata_type_cache_capacity": "metadataTypeCacheCapacity",
}
GCSFUSE_SIDECAR_ANNOTATIONS = {
    "cpu_limit": "gke-gcsfuse/cpu-limit",
    "memory_limit": "gke-gcsfuse/memory-limit",
    "ephemeral_storage_limit": "gke-gcsfuse/ephemeral-storage-limit",
}


class ArcInputError(ValueError):
    """Input that ARC, GitHub or Kubernetes would refuse. ``field`` names the option."""

    def __init__(self, field, message):
        super(ArcInputError, self).__init__("%s: %s" % (field, message))
        self.field = field


# -- names, labels, GitHub ------------------------------------------------------------------------------------------


def validate_name(name):
    """The scale set name is the runs-on label, the Helm release and the AutoscalingRunnerSet name."""
    if not name:
        raise ArcInputError("name", "is required (the runs-on: label of the scale set)")
    if len(name) > NAME_MAX:
        raise ArcInputError("name", "%r is %d characters; ARC accepts at most %d (it is the runs-on: label and the "
                                    "AutoscalingRunnerSet name)" % (name, len(name), NAME_MAX))
    if not NAME_RE.match(name):
        raise ArcInputError("name", "%r must be lowercase letters, digits and '-', starting and ending with a letter "
                                    "or digit (it also names the Helm release and Kubernetes objects)" % name)
    return name


def validate_namespace(field, namespace):
    """A Kubernetes namespace name."""
    if not namespace or len(namespace) > NAMESPACE_MAX or not NAME_RE.match(namespace):
        raise ArcInputError(field, "%r is not a namespace name: lowercase letters, digits and '-', at most %d "
                                   "characters" % (namespace, NAMESPACE_MAX))
    return namespace


def validate_labels(labels, name=None):
    """Extra scale set labels: the chart refuses empty labels and labels of 256 characters or more."""
    result = []
    for index, label in enumerate(labels or []):
        if not isinstance(label, str):
            raise ArcInputError("labels[%d]" % index, "must be a string, got %r" % (label,))
        if not label.strip():
            raise ArcInputError("labels[%d]" % index, "is empty; each label must be a non-empty string of less "
                                                      "than 256 characters")
        if len(label) > LABEL_MAX:
            raise ArcInputError("labels[%d]" % index, "is %d characters; each label must be a non-empty string of "
                                                      "less than 256 characters" % len(label))
        if label != label.strip() or "," in label:
            raise ArcInputError("labels[%d]" % index, "%r has surrounding spaces or a comma; runs-on labels cannot "
                                                      "contain either" % label)
        if label in result:
            raise ArcInputError("labels[%d]" % index, "%r is listed twice" % label)
        if name and label == name:
            raise ArcInputError("labels[%d]" % index, "%r is the scale set name, which ARC always sends as a label; "
                                                      "remove it" % label)
        result.append(label)
    return result


def parse_github_config_url(url):
    """Classify a githubConfigUrl: repository, organization or enterprise, on github.com or a GHES host."""
    match = re.match(r"^https://([A-Za-z0-9.-]+(?::[0-9]+)?)(/.*)$", url or "")
    if not match or not GITHUB_PATH_RE.match(match.group(2)):
        raise ArcInputError("github_config_url", "%r is not a GitHub configuration URL; use https://HOST/ORG, "
                                                 "https://HOST/ORG/REPO or https://HOST/enterprises/ENTERPRISE "
                                                 "(HOST github.com or your GHES host)" % (url,))
    host = match.group(1)
    parts = [p for p in match.group(2).split("/") if p]
    if parts[0] == "enterprises":
        scope = dict(kind="enterprise", enterprise=parts[1])
    elif len(parts) == 2:
        scope = dict(kind="repository", owner=parts[0], repository=parts[1])
    else:
        scope = dict(kind="organization", owner=parts[0])
    scope.update(host=host, ghes=host.lower() not in ("github.com", "www.github.com"), url=url.rstrip("/"))
    return scope


def github_secret_data(app_id=None, installation_id=None, private_key=None, token=None):
    """The keys of the GitHub Secret ARC reads, from exactly one of GitHub App or PAT."""
    app_given = [v for v in (app_id, installation_id, private_key) if v]
    if token and app_given:
        raise ArcInputError("github_token", "give either a GitHub App (github_app_id, github_app_installation_id, "
                                            "github_app_private_key) or github_token, not both")
    if token:
        return {"github_token": str(token)}
    if not app_given:
        raise ArcInputError("github_app_id", "GitHub credentials are missing: give github_app_id, "
                                             "github_app_installation_id and github_app_private_key (recommended), "
                                             "github_token, or existing_secret (the name of a Secret you created)")
    missing = [n for n, v in (("github_app_id", app_id), ("github_app_installation_id", installation_id),
                              ("github_app_private_key", private_key)) if not v]
    if missing:
        raise ArcInputError(missing[0], "a GitHub App needs github_app_id, github_app_installation_id and "
                                        "github_app_private_key; missing: %s" % ", ".join(missing))
    if not APP_ID_RE.match(str(app_id)):
        raise ArcInputError("github_app_id", "must be the App's numeric ID or its client ID (Iv...)")
    if not DIGITS_RE.match(str(installation_id)):
        raise ArcInputError("github_app_installation_id", "must be the numeric installation ID")
    if not PEM_RE.search(str(private_key)):
        raise ArcInputError("github_app_private_key", "is not a PEM private key (-----BEGIN RSA PRIVATE KEY----- "
                                                      "... -----END RSA PRIVATE KEY-----)")
    return {"github_app_id": str(app_id), "github_app_installation_id": str(installation_id),
            "github_app_private_key": str(private_key)}


def github_secret_manifest(name, namespace, data):
    """The Secret ARC reads its GitHub credentials from (githubConfigSecret names it)."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace,
                     "labels": {"app.kubernetes.io/managed-by": "accelci-runners",
                                "app.kubernetes.io/part-of": "gha-rs"}},
        "type": "Opaque",
        "stringData": dict(data),
    }


# -- node pools and accelerators ------------------------------------------------------------------------------------


def find_node_pool(node_pools, name):
    """The node pool entry named ``name``; ArcInputError listing the known pools otherwise."""
    names = []
    for pool in node_pools or []:
        if isinstance(pool, dict) and pool.get("name"):
            names.append(pool["name"])
            if pool["name"] == name:
                return pool
    raise ArcInputError("node_pool", "%r is not a node pool of this estate; known pools: %s"
                        % (name, ", ".join(names) or "(none: set node_pools / accelci_node_pools)"))


def _toleration(taint):
    toleration = {"key": taint["key"], "operator": "Equal" if taint.get("value") not in (None, "") else "Exists",
                  "effect": _taint_effect(taint.get("effect"))}
    if taint.get("value") not in (None, ""):
        toleration["value"] = str(taint["value"])
    return toleration


def _taint_effect(effect):
    # The estate may use the GKE API's enum spelling (NO_SCHEDULE) or the Kubernetes one (NoSchedule).
    mapping = {"NO_SCHEDULE": "NoSchedule", "PREFER_NO_SCHEDULE": "PreferNoSchedule", "NO_EXECUTE": "NoExecute"}
    return mapping.get(str(effect or "NoSchedule").upper(), effect or "NoSchedule")


def _add_toleration(tolerations, toleration):
    if toleration not in tolerations:
        tolerations.append(toleration)


def accelerator_profile(pool):
    """What a runner on this node pool asks for and where it may run.

    GKE pools (``tpu:``, ``gpu:`` or a plain ``machine_type``) are pinned with ``cloud.google.com/gke-nodepool``
    and the accelerator labels GKE sets; pools off GKE describe the accelerator (``amd_gpu:``, ``nvidia_gpu:``)
    and give their own ``node_selector`` and ``tolerations``.
    """
    if not isinstance(pool, dict) or not pool.get("name"):
        raise ArcInputError("node_pool", "a node pool entry needs a name")
    name = pool["name"]
    kinds = [k for k in ("tpu", "gpu", "amd_gpu", "nvidia_gpu") if pool.get(k)]
    if len(kinds) > 1:
        raise ArcInputError("node_pools[%s]" % name, "describes more than one accelerator (%s); give one"
                            % ", ".join(kinds))
    off_gke = bool(pool.get("amd_gpu") or pool.get("nvidia_gpu") or pool.get("gke") is False)
    profile = dict(pool=name, kind="cpu", resource_name=None, count=0, node_selector={}, tolerations=[],
                   supplemental_groups=[], spot=bool(pool.get("spot")), gke=not off_gke, details={})
    if profile["gke"]:
        profile["node_selector"]["cloud.google.com/gke-nodepool"] = name
    if pool.get("tpu"):
        tpu = pool["tpu"]
        try:
            shape = resolve_tpu(tpu.get("accelerator"), tpu.get("topology"), tpu.get("machine_type"))
        except ValueError as exc:
            raise ArcInputError("node_pools[%s].tpu" % name, str(exc))
        if shape["multi_host"]:
            raise ArcInputError("node_pool", "%s is a multi-host TPU slice (%s %s: %d VMs of %d chips); one runner "
                                             "pod cannot span VMs, so a scale set needs a single-host pool "
                                             "(v6e 1x1, 2x2 or 2x4 on ct6e-standard-8t)"
                                % (name, shape["gke_accelerator"], shape["topology"], shape["vms"],
                                   shape["chips_per_vm"]))
        profile.update(kind="tpu", resource_name=shape["resource_name"], count=shape["chips_per_vm"])
        profile["node_selector"].update({"cloud.google.com/gke-tpu-accelerator": shape["gke_accelerator"],
                                         "cloud.google.com/gke-tpu-topology": shape["topology"]})
        _add_toleration(profile["tolerations"], {"key": "google.com/tpu", "operator": "Equal", "value": "present",
                                                 "effect": "NoSchedule"})
        profile["details"] = dict(machine_type=shape["machine_type"], topology=shape["topology"],
                                  gke_accelerator=shape["gke_accelerator"], chips_per_vm=shape["chips_per_vm"])
    elif pool.get("gpu"):
        gpu = pool["gpu"]
        try:
            spec = resolve_gpu(gpu.get("type"), gpu.get("count"), pool.get("machine_type") or gpu.get("machine_type"))
        except ValueError as exc:
            raise ArcInputError("node_pools[%s].gpu" % name, str(exc))
        profile.update(kind="nvidia", resource_name=spec["resource_name"], count=int(spec["count"]))
        profile["node_selector"]["cloud.google.com/gke-accelerator"] = spec["gke_accelerator"]
        _add_toleration(profile["tolerations"], {"key": "nvidia.com/gpu", "operator": "Equal", "value": "present",
                                                 "effect": "NoSchedule"})
        profile["details"] = dict(machine_type=spec["machine_type"], gpu_type=spec["gke_accelerator"])
    elif pool.get("amd_gpu") or pool.get("nvidia_gpu"):
        key = "amd_gpu" if pool.get("amd_gpu") else "nvidia_gpu"
        accel = pool[key]
        count = accel.get("count", 1)
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise ArcInputError("node_pools[%s].%s.count" % (name, key), "must be a positive integer, got %r"
                                % (count,))
        if key == "amd_gpu":
            group = accel.get("render_group", 110)
            if not isinstance(group, int) or isinstance(group, bool) or group < 0:
                raise ArcInputError("node_pools[%s].amd_gpu.render_group" % name, "must be the numeric GID of the "
                                    "nodes' render group (110 in seed 004), got %r" % (group,))
            profile.update(kind="amd", resource_name=accel.get("resource_name", "amd.com/gpu"), count=count,
                           supplemental_groups=[group])
            profile["details"] = dict(render_group=group)
        else:
            profile.update(kind="nvidia", resource_name=accel.get("resource_name", "nvidia.com/gpu"), count=count)
            profile["details"] = dict(driver_dir=accel.get("driver_dir"))
        if not pool.get("node_selector"):
            raise ArcInputError("node_pools[%s].node_selector" % name, "a pool off GKE needs node_selector (the "
                                "labels of the nodes that carry the accelerator, e.g. {pytorch: 'yes'})")
    for key, value in (pool.get("node_selector") or {}).items():
        profile["node_selector"][str(key)] = str(value)
    for taint in pool.get("taints") or []:
        if not isinstance(taint, dict) or not taint.get("key"):
            raise ArcInputError("node_pools[%s].taints" % name, "each taint needs key (and value, effect)")
        _add_toleration(profile["tolerations"], _toleration(taint))
    for toleration in pool.get("tolerations") or []:
        _add_toleration(profile["tolerations"], dict(toleration))
    return profile


# -- model cache ----------------------------------------------------------------------------------------------------


def model_cache_parts(model_cache, namespace, gcsfuse=None):
    """Merge-ready pieces of the storage role's published model cache, mounted read-only.

    Returns dict(backend, mount_path, annotations, volumes, mounts, env, service_account) or None (no cache).
    """
    if not model_cache or (model_cache.get("backend") or "none") == "none":
        return None
    backend = model_cache.get("backend")
    if backend not in ("gcs", "filestore"):
        raise ArcInputError("model_cache.backend", "must be gcs, filestore or none, got %r" % (backend,))
    cache_ns = model_cache.get("namespace")
    if cache_ns and cache_ns != namespace:
        raise ArcInputError("model_cache.namespace", "the model cache is published for namespace %r but the scale "
                                                     "set runs in %r: its service account and volume claim are "
                                                     "namespaced; publish it for %r" % (cache_ns, namespace, namespace))
    volumes = copy.deepcopy(model_cache.get("volumes") or [])
    mounts = copy.deepcopy(model_cache.get("volume_mounts") or [])
    if not volumes or not mounts:
        raise ArcInputError("model_cache", "backend %s needs volumes and volume_mounts (publish them with the "
                                           "storage role's publish step)" % backend)
    volume_names = set(v.get("name") for v in volumes)
    for mount in mounts:
        if mount.get("name") not in volume_names:
            raise ArcInputError("model_cache.volume_mounts", "mount %r names no volume in model_cache.volumes"
                                % (mount.get("name"),))
        # The cache is shared by every job: never writable from a runner.
        mount["readOnly"] = True
    annotations = dict((str(k), str(v)) for k, v in (model_cache.get("pod_annotations") or {}).items())
    gcsfuse = dict(gcsfuse or {})
    if gcsfuse:
        if backend != "gcs":
            raise ArcInputError("gcsfuse", "GCS FUSE options apply to the gcs model cache backend only (this one is "
                                           "%s)" % backend)
        unknown = sorted(set(gcsfuse) - set(GCSFUSE_VOLUME_OPTIONS) - set(GCSFUSE_SIDECAR_ANNOTATIONS))
        if unknown:
            raise ArcInputError("gcsfuse", "unknown options %s; accepted: %s" % (
                ", ".join(unknown), ", ".join(sorted(list(GCSFUSE_VOLUME_OPTIONS) + list(GCSFUSE_SIDECAR_ANNOTATIONS)))))
        for volume in volumes:
            csi = volume.get("csi") or {}
            if csi.get("driver") == GCSFUSE_DRIVER:
                attributes = csi.setdefault("volumeAttributes", {})
                for option, attribute in GCSFUSE_VOLUME_OPTIONS.items():
                    if gcsfuse.get(option) is not None:
                        value = gcsfuse[option]
                        attributes[attribute] = ("true" if value else "false") if isinstance(value, bool) else str(value)
        for option, annotation in GCSFUSE_SIDECAR_ANNOTATIONS.items():
            if gcsfuse.get(option) is not None:
                annotations[annotation] = str(gcsfuse[option])
    env = [{"name": str(k), "value": str(v)} for k, v in sorted((model_cache.get("env") or {}).items())]
    mount_path = model_cache.get("mount_path") or (mounts[0].get("mountPath") if mounts else None)
    return dict(backend=backend, mount_path=mount_path, annotations=annotations, volumes=volumes, mounts=mounts,
                env=env, service_account=model_cache.get("service_account") or None)


# -- pod template building ------------------------------------------------------------------------------------------


def _env_list(env):
    """env as a mapping (values stringified) or a Kubernetes list, to a list."""
    if not env:
        return []
    if isinstance(env, dict):
        return [{"name": str(k), "value": "" if v is None else (str(v).lower() if isinstance(v, bool) else str(v))}
                for k, v in env.items()]
    return [dict(item) for item in env]


def _merge_env(base, extra):
    names = [e["name"] for e in base]
    for item in extra:
        if item["name"] in names:
            base[names.index(item["name"])] = item
        else:
            base.append(item)
            names.append(item["name"])
    return base


def _merge_named(base, extra):
    """Merge lists of named things (containers, volumes): same name -> deep merge, else append."""
    result = [copy.deepcopy(item) for item in base]
    for item in extra or []:
        for index, existing in enumerate(result):
            if existing.get("name") == item.get("name"):
                result[index] = deep_merge(existing, item)
                break
        else:
            result.append(copy.deepcopy(item))
    return result


def deep_merge(base, extra):
    """Merge extra into a copy of base: mappings recursively, named lists by name, anything else replaced."""
    result = copy.deepcopy(base) if base else {}
    for key, value in (extra or {}).items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = deep_merge(result[key], value)
        elif (isinstance(value, list) and isinstance(result.get(key), list) and value
              and all(isinstance(v, dict) and v.get("name") for v in value + result[key])):
            result[key] = _merge_named(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def _quantity(value):
    """Resource quantities as strings (an integer count of devices stays an integer for clarity)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else str(value)


def _resources(user, profile, on_runner):
    resources = {"requests": {}, "limits": {}}
    for section in ("requests", "limits"):
        for key, value in ((user or {}).get(section) or {}).items():
            resources[section][str(key)] = _quantity(value)
    unknown = sorted(set(user or {}) - {"requests", "limits"})
    if unknown:
        raise ArcInputError("resources", "unknown keys %s; accepted: requests, limits" % ", ".join(unknown))
    if profile["resource_name"] and on_runner:
        name = profile["resource_name"]
        for section in ("requests", "limits"):
            given = resources[section].get(name)
            if given is not None and int(given) != profile["count"]:
                raise ArcInputError("resources.%s.%s" % (section, name), "is %s but node pool %s has %d per node; "
                                    "leave it out (it comes from the pool)" % (given, profile["pool"], profile["count"]))
            # Extended resources need requests == limits; both are set.
            resources[section][name] = profile["count"]
    return dict((k, v) for k, v in resources.items() if v)


def _accelerator_resources(profile):
    if not profile["resource_name"]:
        return {}
    return {"requests": {profile["resource_name"]: profile["count"]},
            "limits": {profile["resource_name"]: profile["count"]}}


def gpu_entrypoint_script(profile):
    """Runner entrypoint for DinD on a GPU pool: find the devices this pod was given, hand them to job containers.

    The runner container holds the GPU (the device plugin puts only the allocated devices in it). The privileged
    dind sidecar sees every host device, so passing the runner's device paths to ``docker run`` gives job
    containers exactly the GPUs of this runner. The arguments are exported as ACCELCI_DOCKER_GPU_ARGS for steps
    (``docker run $ACCELCI_DOCKER_GPU_ARGS ...``) and written to /etc/accelci/gpu/docker-args.
    """
    if profile["kind"] == "amd":
        lines = [
            'args="--device /dev/kfd --group-add %d"' % profile["supplemental_groups"][0],
            'for device in /dev/dri/renderD*; do',
            '  [ -e "$device" ] && args="$args --device $device"',
            'done',
        ]
    else:
        lines = [
            'args=""',
            'for device in /dev/nvidia[0-9]* /dev/nvidiactl /dev/nvidia-uvm /dev/nvidia-uvm-tools; do',
            '  [ -e "$device" ] && args="$args --device $device"',
            'done',
            'args="$args -v %s:%s:ro -e LD_LIBRARY_PATH=%s/lib64"' % (NVIDIA_DIR, NVIDIA_DIR, NVIDIA_DIR),
            'args="$args -e NVIDIA_VISIBLE_DEVICES=all -e NVIDIA_DRIVER_CAPABILITIES=compute,utility"',
        ]
    discover = "\n".join(lines)
    return """#!/bin/bash
# Runner entrypoint (rendered by accelci.runners): expose this pod's %(kind)s GPUs to DinD job containers.
set -eu
%(discover)s
export ACCELCI_DOCKER_GPU_ARGS="${args# }"
mkdir -p /etc/accelci/gpu
printf '%%s\\n' "$ACCELCI_DOCKER_GPU_ARGS" > /etc/accelci/gpu/docker-args
echo "accelci: job containers get: $ACCELCI_DOCKER_GPU_ARGS"
exec /home/runner/run.sh "$@"
""" % dict(kind=profile["kind"].upper() if profile["kind"] == "amd" else "NVIDIA", discover=discover)


def _dind_container(spec, profile, cache, native):
    args = ["dockerd", "--host=unix:///var/run/docker.sock", "--group=%d" % DOCKER_GID]
    mtu = spec.get("dind_mtu")
    if mtu is None:
        # GKE's VPC MTU is 1460: docker's default 1500 on the bridge drops large packets (arc-contract pain point 6).
        # Clusters off GKE keep docker's default unless dind_mtu says otherwise.
        mtu = GKE_MTU if profile["gke"] else 0
    if mtu:
        if not 576 <= mtu <= 9000:
            raise ArcInputError("dind_mtu", "must be between 576 and 9000 (or 0 for docker's default), got %d" % mtu)
        args += ["--mtu=%d" % mtu, "--default-network-opt=bridge=com.docker.network.driver.mtu=%d" % mtu]
    container = {
        "name": "dind",
        "image": spec.get("dind_image") or DIND_IMAGE,
        "args": args,
        "securityContext": {"privileged": True},
        # Probe the daemon so the runner does not start jobs before docker answers (pain point 6).
        "startupProbe": {"exec": {"command": ["docker", "info"]}, "initialDelaySeconds": 0,
                         "periodSeconds": 5, "failureThreshold": 24},
        "volumeMounts": [
            {"name": "work", "mountPath": "/home/runner/_work"},
            {"name": "dind-sock", "mountPath": "/var/run"},
            {"name": "dind-externals", "mountPath": "/home/runner/externals"},
        ],
    }
    if native:
        container["restartPolicy"] = "Always"
    if profile["kind"] == "nvidia" and profile["gke"]:
        container["volumeMounts"].append({"name": "nvidia-driver", "mountPath": NVIDIA_DIR, "readOnly": True})
    elif profile["kind"] == "nvidia" and profile["details"].get("driver_dir"):
        container["volumeMounts"].append({"name": "nvidia-driver", "mountPath": NVIDIA_DIR, "readOnly": True})
    if cache:
        # Job containers bind-mount paths of dockerd's filesystem: give the dind container the cache too.
        container["volumeMounts"] += copy.deepcopy(cache["mounts"])
    if spec.get("dind_resources"):
        container["resources"] = copy.deepcopy(spec["dind_resources"])
    return container


def _work_dir(spec):
    """The job workspace emptyDir, capped when work_dir_size_limit is set (seed 000 used 100Gi)."""
    return {"sizeLimit": str(spec["work_dir_size_limit"])} if spec.get("work_dir_size_limit") else {}


def _kube_minor(kubernetes_version):
    match = re.match(r"^v?(\d+)\.(\d+)", str(kubernetes_version or ""))
    if not match:
        raise ArcInputError("kubernetes_version", "%r is not a version like 1.33" % (kubernetes_version,))
    return int(match.group(2))


def _job_pod_template(profile, cache, env):
    """The container-hook template for kubernetes modes: job pods get the accelerator and the model cache."""
    job = {"name": "$job"}
    resources = _accelerator_resources(profile)
    if resources:
        job["resources"] = resources
    if cache:
        job["volumeMounts"] = copy.deepcopy(cache["mounts"])
    job_env = list(env)
    if job_env:
        job["env"] = job_env
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


def scale_set_values(spec):
    """Build one scale set's chart values and the objects it needs.

    ``spec`` holds the arc_runner_scale_set options (see the module) plus ``node_pool_entry`` (the resolved pool or
    None) and ``secret_name`` (what githubConfigSecret names). Returns dict(values, configmap (manifest or None),
    profile, job_pod_template, hook_files).
    """
    name = validate_name(spec["name"])
    namespace = validate_namespace("namespace", spec["namespace"])
    validate_namespace("controller_namespace", spec["controller_namespace"])
    github = parse_github_config_url(spec["github_config_url"])
    labels = validate_labels(spec.get("labels"), name)
    min_runners, max_runners = spec.get("min_runners", 0), spec.get("max_runners")
    for field, value in (("min_runners", min_runners), ("max_runners", max_runners)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            raise ArcInputError(field, "must be a non-negative integer, got %r" % (value,))
    if max_runners is not None and min_runners is not None and min_runners > max_runners:
        raise ArcInputError("min_runners", "min_runners (%d) is greater than max_runners (%d)"
                            % (min_runners, max_runners))
    mode = spec.get("container_mode") or "none"
    if mode not in CONTAINER_MODES:
        raise ArcInputError("container_mode", "must be one of %s, got %r" % (", ".join(CONTAINER_MODES), mode))
    minor = _kube_minor(spec.get("kubernetes_version") or "1.33")
    pool = spec.get("node_pool_entry")
    if pool:
        profile = accelerator_profile(pool)
    else:
        # No node pool: a plain runner anywhere in the cluster (GKE assumed for the DinD MTU).
        profile = accelerator_profile({"name": "any", "gke": False})
        profile.update(pool=None, gke=True)
    cache = model_cache_parts(spec.get("model_cache"), namespace, spec.get("gcsfuse"))
    try:
        policy_empty = policy_is_empty(spec.get("job_policy"))
        policy = normalize_policy(spec.get("job_policy"))
    except JobPolicyError as exc:
        raise ArcInputError("job_policy", str(exc))
    kube_modes = mode in ("kubernetes", "kubernetes-novolume")
    gpu_passthrough = mode == "dind" and profile["kind"] in ("nvidia", "amd")
    if kube_modes and cache and cache["service_account"] and spec.get("service_account"):
        raise ArcInputError("service_account", "in kubernetes modes the runner pod uses the chart's kube-mode "
                                               "service account; the model cache's service account goes to job pods")

    user_env = _env_list(spec.get("env"))
    runner = {"name": "runner", "image": spec.get("runner_image") or RUNNER_IMAGE,
              "command": ["/home/runner/run.sh"]}
    env = []
    hook_files = {}
    mounts = []
    if not policy_empty:
        hook_files[JOB_STARTED] = job_started_script(policy, name)
        env.append({"name": "ACTIONS_RUNNER_HOOK_JOB_STARTED", "value": "%s/%s" % (HOOKS_DIR, JOB_STARTED)})
    if gpu_passthrough:
        hook_files[GPU_ENTRYPOINT] = gpu_entrypoint_script(profile)
        runner["command"] = ["/bin/bash", "%s/%s" % (HOOKS_DIR, GPU_ENTRYPOINT)]
        env.append({"name": "ACCELCI_DOCKER_GPU_ARGS_FILE", "value": "/etc/accelci/gpu/docker-args"})
        mounts.append({"name": "accelci-gpu", "mountPath": "/etc/accelci/gpu"})
    job_pod_template = None
    if kube_modes and (profile["resource_name"] or cache or profile["supplemental_groups"]):
        job_pod_template = _job_pod_template(profile, cache, (cache or {}).get("env", []))
        hook_files[JOB_POD_TEMPLATE] = dump_yaml_block(job_pod_template)
        env.append({"name": "ACTIONS_RUNNER_CONTAINER_HOOK_TEMPLATE", "value": "%s/%s" % (HOOKS_DIR, JOB_POD_TEMPLATE)})
    if profile["pool"]:
        env.append({"name": "ACCELCI_NODE_POOL", "value": profile["pool"]})
    if profile["spot"]:
        env.append({"name": "ACCELCI_SPOT", "value": "true"})
    if cache and not kube_modes:
        env = _merge_env(env, cache["env"])
        mounts += copy.deepcopy(cache["mounts"])
    if hook_files:
        mounts.append({"name": HOOKS_VOLUME, "mountPath": HOOKS_DIR, "readOnly": True})
    runner["env"] = _merge_env(env, user_env)
    resources = _resources(spec.get("resources"), profile, on_runner=not kube_modes)
    if resources:
        runner["resources"] = resources
    # The runner itself never needs root; DinD puts the privileges in the dind sidecar only.
    runner["securityContext"] = {"runAsNonRoot": True, "runAsUser": RUNNER_UID, "runAsGroup": DOCKER_GID}
    if mode == "dind":
        runner["env"] = _merge_env(runner["env"], [
            {"name": "DOCKER_HOST", "value": "unix:///var/run/docker.sock"},
            {"name": "RUNNER_WAIT_FOR_DOCKER_IN_SECONDS", "value": "120"},
        ])
        mounts = [{"name": "work", "mountPath": "/home/runner/_work"},
                  {"name": "dind-sock", "mountPath": "/var/run"}] + mounts
    if mode == "none" and spec.get("work_dir_size_limit"):
        mounts = [{"name": "work", "mountPath": "/home/runner/_work"}] + mounts
    if mounts:
        runner["volumeMounts"] = mounts

    pod = {"containers": [runner], "restartPolicy": "Never"}
    volumes = []
    init_containers = []
    annotations = {"cluster-autoscaler.kubernetes.io/safe-to-evict": "false"}
    if mode == "dind":
        native = minor >= NATIVE_SIDECAR_MINOR
        init_containers.append({
            "name": "init-dind-externals", "image": runner["image"], "command": ["cp"],
            "args": ["-r", "/home/runner/externals/.", "/home/runner/tmpDir/"],
            "volumeMounts": [{"name": "dind-externals", "mountPath": "/home/runner/tmpDir"}],
        })
        dind = _dind_container(spec, profile, cache, native)
        if native:
            init_containers.append(dind)
        else:
            pod["containers"].append(dind)
        volumes += [{"name": "work", "emptyDir": _work_dir(spec)}, {"name": "dind-sock", "emptyDir": {}},
                    {"name": "dind-externals", "emptyDir": {}}]
        if profile["kind"] == "nvidia" and (profile["gke"] or profile["details"].get("driver_dir")):
            volumes.append({"name": "nvidia-driver", "hostPath": {
                "path": NVIDIA_HOST_DRIVER_DIR if profile["gke"] else profile["details"]["driver_dir"],
                "type": "Directory"}})
    if mode == "none" and spec.get("work_dir_size_limit"):
        volumes.append({"name": "work", "emptyDir": _work_dir(spec)})
    if gpu_passthrough:
        volumes.append({"name": "accelci-gpu", "emptyDir": {}})
    if hook_files:
        volumes.append({"name": HOOKS_VOLUME,
                        "configMap": {"name": hooks_configmap_name(name), "defaultMode": 0o555}})
    if cache and not kube_modes:
        volumes += copy.deepcopy(cache["volumes"])
        annotations.update(cache["annotations"])
        if cache["service_account"]:
            pod["serviceAccountName"] = cache["service_account"]
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
    if profile["spot"] and spec.get("spot_termination_grace_seconds"):
        # Spot VMs get about 30 s notice and kubelet gives pods part of it: SIGTERM reaches the runner, which
        # stops the job; GitHub marks the job failed and it must be re-run (see docs/arc.md).
        pod["terminationGracePeriodSeconds"] = int(spec["spot_termination_grace_seconds"])
    if init_containers:
        pod["initContainers"] = init_containers
    if volumes:
        pod["volumes"] = volumes
    template = {"metadata": {"annotations": annotations,
                             "labels": {"accelci.io/scale-set": name}},
                "spec": pod}
    if profile["pool"]:
        template["metadata"]["labels"]["accelci.io/node-pool"] = profile["pool"]
    if spec.get("pod_template"):
        template = deep_merge(template, spec["pod_template"])
        runners = [c for c in template["spec"].get("containers", []) if c.get("name") == "runner"]
        if not runners:
            raise ArcInputError("pod_template", "must keep the container named runner")

    values = {
        "githubConfigUrl": github["url"],
        "githubConfigSecret": spec["secret_name"],
        "runnerScaleSetName": name,
        "controllerServiceAccount": {"name": spec["controller_service_account"],
                                     "namespace": spec["controller_namespace"]},
        "template": template,
        "labels": {"accelci.io/managed-by": "accelci-runners"},
    }
    if labels:
        values["scaleSetLabels"] = labels
    if spec.get("runner_group"):
        values["runnerGroup"] = spec["runner_group"]
    # Integers, never strings: the chart silently drops "5" (arc-contract).
    if min_runners is not None:
        values["minRunners"] = int(min_runners)
    if max_runners is not None:
        values["maxRunners"] = int(max_runners)
    if kube_modes:
        container_mode = {"type": mode}
        if mode == "kubernetes":
            claim = spec.get("work_volume_claim") or {"accessModes": ["ReadWriteOnce"],
                                                      "resources": {"requests": {"storage": "20Gi"}}}
            if not (claim.get("resources") or {}).get("requests", {}).get("storage"):
                raise ArcInputError("work_volume_claim", "needs resources.requests.storage (kubernetes mode puts the "
                                                         "job workspace on this claim)")
            container_mode["kubernetesModeWorkVolumeClaim"] = claim
        values["containerMode"] = container_mode
    listener = {}
    if spec.get("listener_node_selector"):
        listener["nodeSelector"] = dict(spec["listener_node_selector"])
    if spec.get("listener_tolerations"):
        listener["tolerations"] = copy.deepcopy(spec["listener_tolerations"])
    if listener:
        # Listener placement belongs at listenerTemplate.spec (pain point 10); the controller fills the container.
        listener["containers"] = [{"name": "listener"}]
        values["listenerTemplate"] = {"spec": listener}
    if spec.get("extra_values"):
        values = deep_merge(values, spec["extra_values"])
        for key in ("minRunners", "maxRunners"):
            if key in values and not isinstance(values[key], int):
                raise ArcInputError("extra_values.%s" % key, "must be an integer (the chart drops strings)")
    configmap = None
    if hook_files:
        configmap = hooks_configmap(name, namespace, hook_files)
    return dict(values=values, configmap=configmap, profile=profile, job_pod_template=job_pod_template,
                hook_files=hook_files, github=github, cache=cache)


def hooks_configmap_name(name):
    """The ConfigMap holding a scale set's hook scripts."""
    return "%s-accelci-hooks" % name


def hooks_configmap(name, namespace, files):
    """The ConfigMap mounted read-only at /etc/accelci/hooks in every runner pod."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": hooks_configmap_name(name), "namespace": namespace,
                     "labels": {"app.kubernetes.io/managed-by": "accelci-runners",
                                "actions.github.com/scale-set-name": name}},
        "data": dict(sorted(files.items())),
    }


def dump_yaml_block(data):
    """YAML text of data, keys in the order built."""
    return yaml.safe_dump(data, default_flow_style=False, sort_keys=False)


def yaml_load(text):
    """One YAML document (None for empty text)."""
    return yaml.safe_load(text) if text else None


def yaml_load_all(text):
    """Every YAML document of a text."""
    return list(yaml.safe_load_all(text or ""))


# -- controller -----------------------------------------------------------------------------------------------------


def controller_service_account(release, service_account_name=None):
    """The controller's service account name as the chart computes it (release 'arc' -> 'arc-gha-rs-controller')."""
    if service_account_name:
        if service_account_name == "default":
            raise ArcInputError("service_account_name", "cannot be 'default' (the chart refuses it)")
        return service_account_name
    base = "gha-rs-controller"
    full = release if base in release else "%s-%s" % (release, base)
    return full[:63].rstrip("-")


def controller_values(spec):
    """The controller chart's values from arc_controller options."""
    validate_namespace("namespace", spec["namespace"])
    if not NAME_RE.match(spec["name"] or "") or len(spec["name"]) > 53:
        raise ArcInputError("name", "%r is not a Helm release name (lowercase letters, digits, '-', at most 53)"
                            % (spec["name"],))
    replicas = spec.get("replicas", 1)
    if not isinstance(replicas, int) or replicas < 1:
        raise ArcInputError("replicas", "must be a positive integer")
    values = {
        "replicaCount": replicas,
        "serviceAccount": {"create": True,
                           "name": controller_service_account(spec["name"], spec.get("service_account_name"))},
        "flags": {"logLevel": spec.get("log_level") or "info", "logFormat": spec.get("log_format") or "json"},
    }
    if spec.get("watch_single_namespace"):
        values["flags"]["watchSingleNamespace"] = validate_namespace("watch_single_namespace",
                                                                     spec["watch_single_namespace"])
    if spec.get("resources"):
        values["resources"] = copy.deepcopy(spec["resources"])
    if spec.get("node_selector"):
        values["nodeSelector"] = dict(spec["node_selector"])
    if spec.get("tolerations"):
        values["tolerations"] = copy.deepcopy(spec["tolerations"])
    if spec.get("affinity"):
        values["affinity"] = copy.deepcopy(spec["affinity"])
    if spec.get("priority_class_name"):
        values["priorityClassName"] = spec["priority_class_name"]
    if spec.get("metrics"):
        port = int(spec.get("metrics_port") or 8080)
        path = spec.get("metrics_path") or "/metrics"
        if not 0 < port < 65536 or not path.startswith("/"):
            raise ArcInputError("metrics_port", "metrics_port must be 1-65535 and metrics_path start with '/'")
        values["metrics"] = {"controllerManagerAddr": ":%d" % port, "listenerAddr": ":%d" % port,
                             "listenerEndpoint": path}
        values["podAnnotations"] = {"prometheus.io/scrape": "true", "prometheus.io/port": str(port),
                                    "prometheus.io/path": values["metrics"]["listenerEndpoint"]}
    if spec.get("extra_values"):
        values = deep_merge(values, spec["extra_values"])
    return values


# -- GitOps objects -------------------------------------------------------------------------------------------------


def split_chart_ref(chart_ref):
    """('oci://ghcr.io/actions/actions-runner-controller-charts', 'gha-runner-scale-set') from an OCI chart ref."""
    if chart_ref.startswith("oci://"):
        base, _sep, chart = chart_ref.rstrip("/").rpartition("/")
        return base, chart
    return None, chart_ref


def flux_helmrelease(release, namespace, chart_ref, version, values, depends_on=None, source_namespace=None):
    """A Flux OCIRepository + HelmRelease pair for one release (values inline; no secrets in them)."""
    base, chart = split_chart_ref(chart_ref)
    if not base:
        raise ArcInputError("chart_ref", "Flux rendering needs an OCI chart reference (oci://...); for a local chart "
                                         "publish it to a registry or use gitops=argocd with a Git source")
    source_ns = source_namespace or namespace
    source = {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "OCIRepository",
        "metadata": {"name": release, "namespace": source_ns},
        "spec": {"interval": "10m", "url": "%s/%s" % (base, chart), "ref": {"tag": str(version)},
                 "layerSelector": {"mediaType": "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
                                   "operation": "copy"}},
    }
    helmrelease = {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": release, "namespace": namespace},
        "spec": {
            "interval": "10m",
            "releaseName": release,
            "chartRef": {"kind": "OCIRepository", "name": release, "namespace": source_ns},
            # CRDs: Flux creates them on install; upgrades need the documented order (docs/arc.md).
            "install": {"crds": "Create", "remediation": {"retries": 3}},
            "upgrade": {"crds": "Skip", "remediation": {"retries": 3, "remediateLastFailure": True}},
            "values": values,
        },
    }
    if depends_on:
        helmrelease["spec"]["dependsOn"] = [dict(d) for d in depends_on]
    return [source, helmrelease]


def argocd_application(release, namespace, chart_ref, version, values, argocd_namespace="argocd", project="default",
                       sync_wave=None):
    """An Argo CD Application for one release (Helm values inline; no secrets in them)."""
    base, chart = split_chart_ref(chart_ref)
    if not base:
        raise ArcInputError("chart_ref", "Argo CD rendering needs an OCI chart reference (oci://...)")
    application = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": release, "namespace": argocd_namespace,
                     "finalizers": ["resources-finalizer.argocd.argoproj.io"]},
        "spec": {
            "project": project,
            "source": {"repoURL": base[len("oci://"):], "chart": chart, "targetRevision": str(version),
                       "helm": {"releaseName": release, "valuesObject": values}},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": namespace},
            # ServerSideApply: the AutoscalingRunnerSet CRD is too big for client-side apply's annotation.
            "syncPolicy": {"automated": {"prune": True, "selfHeal": True},
                           "syncOptions": ["ServerSideApply=true", "CreateNamespace=false"]},
        },
    }
    if sync_wave is not None:
        application["metadata"]["annotations"] = {"argocd.argoproj.io/sync-wave": str(sync_wave)}
    return [application]


# -- reports --------------------------------------------------------------------------------------------------------


def runner_pod_summary(values):
    """What each runner pod of a scale set gets: resources, node selector, tolerations, mounts, mode."""
    template = values.get("template") or {}
    spec = template.get("spec") or {}
    runner = next((c for c in spec.get("containers", []) if c.get("name") == "runner"), {})
    init = spec.get("initContainers") or []
    mode = (values.get("containerMode") or {}).get("type") or (
        "dind" if any(c.get("name") == "dind" for c in init + spec.get("containers", [])) else "none")
    return {
        "runs_on": [values.get("runnerScaleSetName")] + list(values.get("scaleSetLabels") or []),
        "container_mode": mode,
        "image": runner.get("image"),
        "resources": runner.get("resources") or {},
        "node_selector": spec.get("nodeSelector") or {},
        "tolerations": spec.get("tolerations") or [],
        "mounts": [dict(path=m.get("mountPath"), volume=m.get("name"), read_only=bool(m.get("readOnly")))
                   for m in runner.get("volumeMounts") or []],
        "service_account": spec.get("serviceAccountName"),
        "annotations": (template.get("metadata") or {}).get("annotations") or {},
        "env": dict((e["name"], e.get("value")) for e in runner.get("env") or [] if "value" in e),
        "min_runners": values.get("minRunners"),
        "max_runners": values.get("maxRunners"),
    }

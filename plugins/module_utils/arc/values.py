# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Values for the ARC charts (gha-runner-scale-set-controller and gha-runner-scale-set, 0.14.x).

Everything here is pure: inputs in, values and manifests out, ``InputError`` (naming the field) for anything the
charts, GitHub or the cluster would refuse. The managers call these before touching anything.

- ``scale_set_values(spec)``: the values of one scale set plus the objects it needs (hook ConfigMap), composed from
  ``names``, ``github``, ``scheduling``, ``model_cache``, ``job_policy`` and ``pod_template``.
- ``controller_values(spec)``: the controller's values.
- ``runner_pod_summary(values)``: what a runner pod gets, for reports.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import InputError
from ansible_collections.accelci.runners.plugins.module_utils._common.merge import deep_merge
from ansible_collections.accelci.runners.plugins.module_utils.arc.defaults import KUBERNETES_VERSION
from ansible_collections.accelci.runners.plugins.module_utils.arc.github import parse_github_config_url
from ansible_collections.accelci.runners.plugins.module_utils.arc.job_policy import (
    normalize_policy,
    policy_is_empty,
)
from ansible_collections.accelci.runners.plugins.module_utils.arc.model_cache import model_cache_parts
from ansible_collections.accelci.runners.plugins.module_utils.arc.names import (
    controller_service_account,
    hooks_configmap_name,
    validate_labels,
    validate_namespace,
    validate_scale_set_name,
    validate_release_name,
)
from ansible_collections.accelci.runners.plugins.module_utils.arc.pod_template import (
    container_layout,
    runner_hooks,
    runner_pod_template,
    work_volume_claim,
)
from ansible_collections.accelci.runners.plugins.module_utils.arc.scheduling import runner_profile

MANAGED_BY = "accelci-runners"


# -- scale sets -------------------------------------------------------------------------------------------------------


# minRunners and maxRunners are int32 in the AutoscalingRunnerSet API: the API server refuses anything larger.
RUNNERS_MAX = 2 ** 31 - 1


def _runner_counts(spec):
    min_runners, max_runners = spec.get("min_runners", 0), spec.get("max_runners")
    for field, value in (("min_runners", min_runners), ("max_runners", max_runners)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)
                                  or not 0 <= value <= RUNNERS_MAX):
            raise InputError(field, "%r is not accepted; accepted: a whole number from 0 to %d (the "
                                    "AutoscalingRunnerSet API's int32)" % (value, RUNNERS_MAX))
    if max_runners is not None and min_runners is not None and min_runners > max_runners:
        raise InputError("min_runners", "min_runners (%d) is greater than max_runners (%d); accepted: at most "
                                        "max_runners" % (min_runners, max_runners))
    return min_runners, max_runners


def _job_policy(spec):
    """The normalized job policy, or None when it refuses nothing (no hook then)."""
    policy = normalize_policy(spec.get("job_policy"))
    return None if policy_is_empty(policy) else policy


def _listener_template(spec):
    listener = {}
    if spec.get("listener_node_selector"):
        listener["nodeSelector"] = dict(spec["listener_node_selector"])
    if spec.get("listener_tolerations"):
        listener["tolerations"] = copy.deepcopy(spec["listener_tolerations"])
    if not listener:
        return None
    # Listener placement belongs at listenerTemplate.spec (pain point 10); the controller fills the container.
    listener["containers"] = [{"name": "listener"}]
    return {"spec": listener}


def _chart_values(spec, github, labels, counts, template, layout):
    values = {
        "githubConfigUrl": github["url"],
        "githubConfigSecret": spec["secret_name"],
        "runnerScaleSetName": spec["name"],
        "controllerServiceAccount": {"name": spec["controller_service_account"],
                                     "namespace": spec["controller_namespace"]},
        "template": template,
        "labels": {"accelci.io/managed-by": MANAGED_BY},
    }
    if labels:
        values["scaleSetLabels"] = labels
    if spec.get("runner_group"):
        values["runnerGroup"] = spec["runner_group"]
    # Integers, never strings: the chart silently drops "5" (arc-contract).
    for key, value in zip(("minRunners", "maxRunners"), counts):
        if value is not None:
            values[key] = int(value)
    if layout["kube"]:
        values["containerMode"] = {"type": layout["mode"]}
        if layout["mode"] == "kubernetes":
            values["containerMode"]["kubernetesModeWorkVolumeClaim"] = work_volume_claim(spec)
    listener = _listener_template(spec)
    if listener:
        values["listenerTemplate"] = listener
    return values


def _with_extra_values(values, extra):
    if not extra:
        return values
    values = deep_merge(values, extra)
    for key in ("minRunners", "maxRunners"):
        if key in values and not isinstance(values[key], int):
            raise InputError("extra_values.%s" % key, "must be an integer (the chart drops strings)")
    return values


def scale_set_values(spec):
    """Build one scale set's chart values and the objects it needs.

    ``spec`` holds the arc_runner_scale_set options (see the module), with ``node_pool`` the pool's scheduling
    profile (or None), ``secret_name`` (what githubConfigSecret names) and ``controller_service_account``.
    Returns dict(values, configmap (manifest or None), profile, job_pod_template, hook_files, github, cache).
    """
    name = validate_scale_set_name(spec["name"])
    namespace = validate_namespace("namespace", spec["namespace"])
    validate_namespace("controller_namespace", spec["controller_namespace"])
    github = parse_github_config_url(spec["github_config_url"])
    labels = validate_labels(spec.get("labels"), name)
    counts = _runner_counts(spec)
    profile = runner_profile(spec.get("node_pool"))
    cache = model_cache_parts(spec.get("model_cache"), namespace, spec.get("gcsfuse"))
    layout = container_layout(spec, profile, cache, spec.get("kubernetes_version") or KUBERNETES_VERSION)
    policy = _job_policy(spec)
    if layout["kube"] and cache and cache["service_account"] and spec.get("service_account"):
        raise InputError("service_account", "in kubernetes modes the runner pod uses the chart's kube-mode "
                                            "service account; the model cache's service account goes to job pods")
    hooks = runner_hooks(name, policy, profile, cache, layout)
    template = runner_pod_template(spec, profile, cache, layout, hooks)
    values = _with_extra_values(_chart_values(spec, github, labels, counts, template, layout), spec.get("extra_values"))
    configmap = hooks_configmap(name, namespace, hooks["files"]) if hooks["files"] else None
    return dict(values=values, configmap=configmap, profile=profile, job_pod_template=hooks["job_pod_template"],
                hook_files=hooks["files"], github=github, cache=cache)


def hooks_configmap(name, namespace, files):
    """The ConfigMap mounted read-only at /etc/accelci/hooks in every runner pod."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": hooks_configmap_name(name), "namespace": namespace,
                     "labels": {"app.kubernetes.io/managed-by": MANAGED_BY,
                                "actions.github.com/scale-set-name": name}},
        "data": dict(sorted(files.items())),
    }


# -- controller -------------------------------------------------------------------------------------------------------


def _metrics_values(spec):
    port = int(spec.get("metrics_port") or 8080)
    path = spec.get("metrics_path") or "/metrics"
    if not 0 < port < 65536 or not path.startswith("/"):
        raise InputError("metrics_port", "metrics_port must be 1-65535 and metrics_path start with '/'")
    metrics = {"controllerManagerAddr": ":%d" % port, "listenerAddr": ":%d" % port, "listenerEndpoint": path}
    annotations = {"prometheus.io/scrape": "true", "prometheus.io/port": str(port), "prometheus.io/path": path}
    return metrics, annotations


def controller_values(spec):
    """The controller chart's values from arc_controller options."""
    validate_namespace("namespace", spec["namespace"])
    validate_release_name(spec["name"])
    replicas = spec.get("replicas", 1)
    if not isinstance(replicas, int) or replicas < 1:
        raise InputError("replicas", "must be a positive integer")
    values = {
        "replicaCount": replicas,
        "serviceAccount": {"create": True,
                           "name": controller_service_account(spec["name"], spec.get("service_account_name"))},
        "flags": {"logLevel": spec.get("log_level") or "info", "logFormat": spec.get("log_format") or "json"},
    }
    if spec.get("watch_single_namespace"):
        values["flags"]["watchSingleNamespace"] = validate_namespace("watch_single_namespace",
                                                                     spec["watch_single_namespace"])
    for option, key in (("resources", "resources"), ("node_selector", "nodeSelector"), ("tolerations", "tolerations"),
                        ("affinity", "affinity"), ("priority_class_name", "priorityClassName")):
        if spec.get(option):
            values[key] = copy.deepcopy(spec[option])
    if spec.get("metrics"):
        values["metrics"], values["podAnnotations"] = _metrics_values(spec)
    return deep_merge(values, spec["extra_values"]) if spec.get("extra_values") else values


# -- reports ----------------------------------------------------------------------------------------------------------


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

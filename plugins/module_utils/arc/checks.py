# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Checks of the runners as they run: the controller Deployment, each AutoscalingRunnerSet against what the estate
declares (min/max, the runner pod template), and the troubleshooting table of the runbook this collection replaces
("runners not picking up jobs", "TPU not available", "OOM errors") turned into checks whose FAIL says the fix.

Reads only, through ``K8sDelivery`` (read/list). Each check is one ``_common.checks`` record.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

from ansible_collections.accelci.runners.plugins.module_utils._common.checks import failed, outcome, passed, skipped
from ansible_collections.accelci.runners.plugins.module_utils._common.errors import AccelciError
from ansible_collections.accelci.runners.plugins.module_utils.arc.github_registration import (
    GitHubRegistration,
    GitHubRegistrationError,
)
from ansible_collections.accelci.runners.plugins.module_utils.arc.names import controller_deployment_name
from ansible_collections.accelci.runners.plugins.module_utils.arc.release_manager import ARC_API_VERSION
from ansible_collections.accelci.runners.plugins.module_utils.arc.values import runner_pod_summary

# What ARC's controller writes on an AutoscalingRunnerSet once GitHub has accepted the scale set, and the labels it
# puts on the listener and runner objects of a scale set (actions-runner-controller, controllers/actions.github.com).
REGISTERED_ANNOTATION = "runner-scale-set-id"
SCALE_SET_NAME_LABEL = "actions.github.com/scale-set-name"
SCALE_SET_NAMESPACE_LABEL = "actions.github.com/scale-set-namespace"
# The Secret keys the scale set chart accepts (arc-contract: githubConfigSecret).
GITHUB_APP_KEYS = ("github_app_id", "github_app_installation_id", "github_app_private_key")
GITHUB_TOKEN_KEY = "github_token"
# A converge compares the release's values, so it does not see an AutoscalingRunnerSet edited in the cluster.
CHANGED_OUTSIDE_HELM = ("if the inventory changed, run ansible-playbook playbooks/arc.yml; if the object was edited in the "
                        "cluster, a converge does not see it (it compares the Helm release's values): restore it from "
                        "its release (helm rollback to the current revision, forcing the conflict with the editor's "
                        "field manager) or set the scale set's state to absent, converge, and add it back")
GITHUB_FIX = ("check the GitHub App's permissions (repository Administration read and write, or organization "
              "Self-hosted runners) and its installation, then the controller's log: kubectl -n {ns} logs "
              "deploy/{deployment}")


def _conditions(obj):
    return dict((c.get("type"), c) for c in ((obj.get("status") or {}).get("conditions") or []))


def _age_seconds(timestamp, now):
    if not timestamp:
        return 0
    try:
        then = datetime.datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return 0
    return (now - then).total_seconds()


def _selector_text(mapping):
    return ", ".join("%s=%s" % item for item in sorted(mapping.items())) or "-"


def _toleration_text(toleration):
    value = ("=" + str(toleration["value"])) if toleration.get("value") is not None else ""
    return "%s%s:%s" % (toleration.get("key", "*"), value, toleration.get("effect") or "*")


def _is_accelerator(resource):
    # Extended resources (google.com/tpu, nvidia.com/gpu, amd.com/gpu) carry a domain; cpu and memory do not.
    return "/" in resource


def _memory_limit(pod):
    return ((pod.get("resources") or {}).get("limits") or {}).get("memory")


class RunnerChecks(object):
    """The checks of one estate's runners. ``delivery`` is a K8sDelivery in apply mode."""

    def __init__(self, delivery, pending_grace_seconds=600, now=None, github_token=None, github_api_url=None,
                 github_factory=GitHubRegistration):
        self.delivery = delivery
        self.pending_grace_seconds = pending_grace_seconds
        self.now = now or datetime.datetime.utcnow()
        self.github_token = github_token
        self.github_api_url = github_api_url
        self._github_factory = github_factory
        self._github = {}

    # -- the controller -------------------------------------------------------------------------------------------

    def controller(self, release, namespace):
        """The controller Deployment exists and is Available."""
        name = controller_deployment_name(release)
        check = "ARC controller %s/%s available" % (namespace, name)
        deployment = self.delivery.read("apps/v1", "Deployment", name, namespace)
        if deployment is None:
            return failed(check, "Deployment %s/%s does not exist" % (namespace, name),
                          "install it: ansible-playbook playbooks/arc.yml --tags arc_controller")
        status = deployment.get("status") or {}
        wanted = (deployment.get("spec") or {}).get("replicas", 1)
        ready = status.get("availableReplicas") or 0
        available = _conditions(deployment).get("Available") or {}
        if available.get("status") != "True" or ready < 1:
            return failed(check, "%d of %d replicas available%s" % (
                ready, wanted, (": " + available["message"]) if available.get("message") else ""),
                "kubectl -n %s describe deployment %s (image pull, node selector or resources)" % (namespace, name))
        return passed(check, "%d of %d replicas available, image %s" % (ready, wanted, self._image(deployment)))

    @staticmethod
    def _image(deployment):
        containers = ((((deployment.get("spec") or {}).get("template") or {}).get("spec") or {})
                      .get("containers") or [{}])
        return containers[0].get("image") or "-"

    # -- one scale set --------------------------------------------------------------------------------------------

    def scale_set(self, expected, controller_release, controller_namespace):
        """Every check of one scale set. ``expected`` is the scale set as arc_runner_scale_set plans it
        (name, namespace, secret_name, runner_pod)."""
        name, namespace = expected["name"], expected["namespace"]
        ars = self.delivery.read(ARC_API_VERSION, "AutoscalingRunnerSet", name, namespace)
        checks = [self._present(expected, ars)]
        if ars is None:
            return checks
        live_pod = runner_pod_summary(ars.get("spec") or {})
        pods = self.delivery.list("v1", "Pod", namespace, label_selector="%s=%s" % (SCALE_SET_NAME_LABEL, name))
        checks.append(self._pod_template(expected, ars, live_pod))
        checks.append(self._picking_up_jobs(expected, ars, controller_release, controller_namespace))
        checks.append(self._scheduled(expected, pods))
        checks.append(self._oom(expected, pods, live_pod))
        if self.github_token:
            checks.append(self._registered(expected, ars))
        return checks

    def _registered(self, expected, ars):
        """With a GitHub token: GitHub holds the scale set under the id the controller recorded, with its name."""
        name = expected["name"]
        spec = ars.get("spec") or {}
        config_url = spec.get("githubConfigUrl") or ""
        check = "scale set %s registered with GitHub (%s)" % (name, config_url)
        scale_set_id = ((ars.get("metadata") or {}).get("annotations") or {}).get(REGISTERED_ANNOTATION)
        if not scale_set_id:
            return failed(check, "the controller recorded no scale set id (no %s annotation)" % REGISTERED_ANNOTATION,
                          "the controller could not register it: read its log for the GitHub error")
        try:
            github = self._github.get(config_url)
            if github is None:
                github = self._github[config_url] = self._github_factory(config_url, self.github_token,
                                                                         api_url=self.github_api_url)
            found = github.scale_set(scale_set_id)
        except (GitHubRegistrationError, AccelciError) as exc:
            return failed(check, str(exc), "check the token given to verify.yml (accelci_verify_github_token) and "
                                           "that GitHub is reachable from here")
        if found is None:
            return failed(check, "GitHub has no runner scale set %s (deleted there?)" % scale_set_id,
                          "take the scale set out (state: absent) and converge it again, so the controller registers "
                          "it anew")
        wanted = spec.get("runnerScaleSetName") or name
        if found.get("name") != wanted:
            return failed(check, "GitHub's scale set %s is named %s, not %s" % (scale_set_id, found.get("name"), wanted),
                          "the id belongs to another scale set: take this one out and converge it again")
        labels = ", ".join(sorted(label.get("name", "") for label in found.get("labels") or []))
        return passed(check, "id %s, name %s, runner group %s, labels %s" % (
            scale_set_id, found.get("name"), found.get("runnerGroupName") or found.get("runnerGroupId") or "-",
            labels or "-"))

    @staticmethod
    def _present(expected, ars):
        name, namespace = expected["name"], expected["namespace"]
        pod = expected["runner_pod"]
        check = "scale set %s AutoscalingRunnerSet %s/%s with runners %s-%s" % (
            name, namespace, name, pod.get("min_runners", 0), pod.get("max_runners"))
        if ars is None:
            return failed(check, "it does not exist",
                          "install it: ansible-playbook playbooks/arc.yml --tags arc_scale_sets")
        spec = ars.get("spec") or {}
        problems = []
        for key, live_key in (("min_runners", "minRunners"), ("max_runners", "maxRunners")):
            want, have = pod.get(key), spec.get(live_key)
            if (want or 0) != (have or 0) and not (want is None and have is None):
                problems.append("%s is %s, the estate says %s" % (live_key, have, want))
        return outcome(check, problems, "present, runners %s-%s" % (spec.get("minRunners", 0), spec.get("maxRunners")),
                       CHANGED_OUTSIDE_HELM)

    def _pod_template(self, expected, ars, live):
        want = expected["runner_pod"]
        name = expected["name"]
        check = "scale set %s runner pod template (accelerator, node selector, tolerations, model cache)" % name
        problems = []
        for kind in ("requests", "limits"):
            wanted = dict((k, v) for k, v in ((want.get("resources") or {}).get(kind) or {}).items()
                          if _is_accelerator(k))
            have = (live.get("resources") or {}).get(kind) or {}
            for resource, amount in sorted(wanted.items()):
                if str(have.get(resource)) != str(amount):
                    problems.append("runner %s %s is %s, the pool needs %s"
                                    % (kind, resource, have.get(resource), amount))
        for key, value in sorted((want.get("node_selector") or {}).items()):
            if live["node_selector"].get(key) != value:
                problems.append("node selector %s=%s missing (has %s)" % (key, value,
                                                                          _selector_text(live["node_selector"])))
        for toleration in want.get("tolerations") or []:
            if toleration not in live["tolerations"]:
                problems.append("toleration %s missing" % _toleration_text(toleration))
        volumes = dict((v.get("name"), v) for v in
                       ((((ars.get("spec") or {}).get("template") or {}).get("spec") or {}).get("volumes") or []))
        mounts = dict((m["path"], m) for m in live["mounts"])
        for mount in want.get("mounts") or []:
            if not mount.get("read_only"):
                continue
            found = mounts.get(mount["path"])
            if found is None:
                problems.append("nothing is mounted at %s" % mount["path"])
            elif not found["read_only"]:
                problems.append("%s is mounted read-write" % mount["path"])
            elif not _volume_read_only(volumes.get(found["volume"])):
                problems.append("volume %s behind %s is not read-only" % (found["volume"], mount["path"]))
        if want.get("service_account") and live.get("service_account") != want["service_account"]:
            problems.append("service account is %s, the estate says %s"
                            % (live.get("service_account") or "default", want["service_account"]))
        accelerators = ", ".join("%s=%s" % (k, v) for k, v in sorted(
            ((live.get("resources") or {}).get("limits") or {}).items()) if _is_accelerator(k)) or "no accelerator"
        read_only = [m["path"] for m in live["mounts"] if m["read_only"]]
        reason = "%s; node selector %s; tolerations %s; %s" % (
            accelerators, _selector_text(live["node_selector"]),
            ", ".join(_toleration_text(t) for t in live["tolerations"]) or "-",
            ("read-only " + ", ".join(read_only)) if read_only else "no model cache mount")
        return outcome(check, problems, reason, CHANGED_OUTSIDE_HELM)

    def _picking_up_jobs(self, expected, ars, controller_release, controller_namespace):
        """Runners not picking up jobs: registered with GitHub, a listener, the GitHub Secret complete."""
        name, namespace = expected["name"], expected["namespace"]
        check = "scale set %s runners not picking up jobs? (GitHub registration, listener, Secret)" % name
        fix = GITHUB_FIX.format(ns=controller_namespace, deployment=controller_deployment_name(controller_release))
        problems = []
        annotations = (ars.get("metadata") or {}).get("annotations") or {}
        registered = annotations.get(REGISTERED_ANNOTATION)
        if not registered:
            problems.append("the controller has not registered it with GitHub (no %s annotation)"
                            % REGISTERED_ANNOTATION)
        selector = "%s=%s,%s=%s" % (SCALE_SET_NAME_LABEL, name, SCALE_SET_NAMESPACE_LABEL, namespace)
        listeners = self.delivery.list(ARC_API_VERSION, "AutoscalingListener", label_selector=selector)
        if not listeners:
            problems.append("no AutoscalingListener: the controller has not started one")
        else:
            listener = listeners[0]["metadata"]
            pod = self.delivery.read("v1", "Pod", listener["name"], listener["namespace"])
            phase = ((pod or {}).get("status") or {}).get("phase")
            if phase != "Running":
                problems.append("listener pod %s/%s is %s" % (listener["namespace"], listener["name"],
                                                              phase or "missing"))
        secret_name = (ars.get("spec") or {}).get("githubConfigSecret") or expected.get("secret_name")
        secret = self.delivery.read("v1", "Secret", secret_name, namespace) if secret_name else None
        if secret is None:
            problems.append("GitHub Secret %s/%s does not exist" % (namespace, secret_name))
            fix = ("create Secret %s in %s with github_app_id, github_app_installation_id and github_app_private_key "
                   "(or github_token), or give accelci_github credentials; then %s" % (secret_name, namespace, fix))
        else:
            keys = set((secret.get("data") or {}).keys()) | set((secret.get("stringData") or {}).keys())
            if GITHUB_TOKEN_KEY not in keys and not set(GITHUB_APP_KEYS) <= keys:
                problems.append("Secret %s/%s has neither github_token nor all of %s (has %s)" % (
                    namespace, secret_name, ", ".join(GITHUB_APP_KEYS), ", ".join(sorted(keys)) or "no keys"))
        return outcome(check, problems, "registered with GitHub (scale set id %s), listener %s running, Secret %s "
                       "complete" % (registered, listeners[0]["metadata"]["name"] if listeners else "-", secret_name),
                       fix)

    def _scheduled(self, expected, pods):
        """TPU (or GPU) not available: runner pods left Pending because no node fits and the pool did not grow."""
        want = expected["runner_pod"]
        accelerators = sorted(k for k in ((want.get("resources") or {}).get("limits") or {}) if _is_accelerator(k))
        what = " / ".join(accelerators) if accelerators else "node"
        check = "scale set %s %s available to runners? (pending runner pods)" % (expected["name"], what)
        problems = []
        for pod in pods:
            status = pod.get("status") or {}
            scheduled = _conditions(pod).get("PodScheduled") or {}
            if status.get("phase") != "Pending" or scheduled.get("status") != "False":
                continue
            waited = _age_seconds((pod.get("metadata") or {}).get("creationTimestamp"), self.now)
            if waited >= self.pending_grace_seconds:
                problems.append("runner pod %s waits for a node for %d min: %s" % (
                    pod["metadata"]["name"], waited // 60, scheduled.get("message") or scheduled.get("reason")))
        node_selector = _selector_text(want.get("node_selector") or {})
        return outcome(check, problems, "no runner pod has waited for a node longer than %d min (%d runner pod(s) now)"
                       % (self.pending_grace_seconds // 60, len(pods)),
                       "the node pool (%s) did not scale up: check the accelerator quota and zones "
                       "(accelci.runners.accelerator_capacity_info), the pool's autoscaling maximum and its status "
                       "in playbooks/verify.yml's cluster checks; spot capacity may be exhausted" % node_selector)

    @staticmethod
    def _oom(expected, pods, live):
        check = "scale set %s runners OOM-killed? (memory)" % expected["name"]
        limit = _memory_limit(live) or "none"
        killed = []
        for pod in pods:
            for status in ((pod.get("status") or {}).get("containerStatuses") or []):
                for state in (status.get("state") or {}, status.get("lastState") or {}):
                    if (state.get("terminated") or {}).get("reason") == "OOMKilled":
                        killed.append("container %s of %s was OOM-killed" % (status.get("name"),
                                                                             pod["metadata"]["name"]))
                        break
        if killed:
            return failed(check, "%s (memory limit %s)" % ("; ".join(killed), limit),
                          "raise accelci_scale_sets[%s].resources.limits.memory (and requests.memory), within what a "
                          "node of its pool has" % expected["name"])
        if not pods:
            return skipped(check, "no runner pod is running now (memory limit %s)" % limit)
        return passed(check, "no runner container OOM-killed (memory limit %s)" % limit)


def _volume_read_only(volume):
    """A model cache volume that cannot be written through: CSI or a PVC mounted read-only (or no volume spec)."""
    if volume is None:
        return False
    for source in ("csi", "persistentVolumeClaim", "nfs"):
        if source in volume:
            return bool(volume[source].get("readOnly"))
    return True


def run_runner_checks(delivery, controller, scale_sets, pending_grace_seconds=600, now=None, github_token=None,
                      github_api_url=None):
    """All checks, controller first; the GitHub registration check only with a token."""
    checks = RunnerChecks(delivery, pending_grace_seconds=pending_grace_seconds, now=now, github_token=github_token,
                          github_api_url=github_api_url)
    results = [checks.controller(controller["release"], controller["namespace"])]
    for expected in scale_sets:
        results.extend(checks.scale_set(expected, controller["release"], controller["namespace"]))
    return results

"""A stand-in for ARC's controller (gha-runner-scale-set-controller), which cannot run here: it needs GitHub.

While the controller Deployment is available it does, for every AutoscalingRunnerSet in ``runners_namespace``, what
the real controller's reconciler does around GitHub (actions-runner-controller, controllers/actions.github.com):

- puts the finalizer ``actions.github.com/cleanup-protection`` on it;
- registers it with GitHub (with ``github``, a ``GitHubStandIn``, there; otherwise it plays GitHub accepting every
  scale set) and writes the scale set's id in the annotation ``runner-scale-set-id`` (and its name in
  ``actions.github.com/runner-scale-set-name``);
- creates its AutoscalingListener ``<name>-<hash of namespace>-listener`` in the controller's namespace, labelled
  ``actions.github.com/scale-set-name`` / ``-namespace``, and the listener's pod of the same name (kwok runs it);
- when the scale set is being deleted, deletes its listener and then removes the finalizer.

With the controller gone nothing happens, so a deletion stays held by the finalizer, as it does on a real cluster.
The GitHub side is assumed to accept the scale set: what GitHub itself answers is not emulated.
"""

import hashlib
import threading

from kubernetes import client
from kubernetes.client.rest import ApiException
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import NotFoundError

FINALIZER = "actions.github.com/cleanup-protection"
SCALE_SET_ID_ANNOTATION = "runner-scale-set-id"
SCALE_SET_NAME_ANNOTATION = "actions.github.com/runner-scale-set-name"
NAME_LABEL = "actions.github.com/scale-set-name"
NAMESPACE_LABEL = "actions.github.com/scale-set-namespace"
API_VERSION = "actions.github.com/v1alpha1"


def listener_name(name, namespace):
    """The listener's name as the controller forms it: the scale set's name and a short hash of its namespace."""
    return "%s-%s-listener" % (name, hashlib.sha256(namespace.encode()).hexdigest()[:8])


class ArcControllerStandIn(threading.Thread):
    """Runs until ``stop()``; ``removed`` lists the scale sets whose finalizer it removed."""

    def __init__(self, api_client, controller_namespace, runners_namespace, deployment="arc-gha-rs-controller",
                 version="0.14.2", github=None):
        super().__init__(daemon=True)
        self.apps = client.AppsV1Api(api_client)
        self.core = client.CoreV1Api(api_client)
        dynamic = DynamicClient(api_client)
        self.runner_sets = dynamic.resources.get(api_version=API_VERSION, kind="AutoscalingRunnerSet")
        self.listeners = dynamic.resources.get(api_version=API_VERSION, kind="AutoscalingListener")
        self.controller_namespace = controller_namespace
        self.namespace = runners_namespace
        self.deployment = deployment
        self.version = version
        self.stopping = threading.Event()
        self.removed = []
        self.errors = []
        self.github = github
        self._next_id = 1

    def stop(self):
        self.stopping.set()
        self.join(timeout=10)

    def controller_running(self):
        try:
            return bool(self.apps.read_namespaced_deployment(self.deployment, self.controller_namespace)
                        .status.available_replicas)
        except ApiException:
            return False

    def run(self):
        while not self.stopping.wait(0.3):
            if not self.controller_running():
                continue
            try:
                for item in self.runner_sets.get(namespace=self.namespace).items:
                    self.reconcile(item)
            except (ApiException, NotFoundError) as exc:  # a race with a deletion: try again next round
                self.errors.append(str(exc))

    def reconcile(self, item):
        meta = item.metadata
        finalizers = list(meta.finalizers or [])
        if meta.deletionTimestamp:
            if FINALIZER in finalizers:
                self._delete_listener(meta.name, meta.namespace)
                finalizers.remove(FINALIZER)
                self._patch(meta, {"metadata": {"finalizers": finalizers}})
                self.removed.append(meta.name)
            return
        annotations = dict(meta.annotations or {})
        if FINALIZER not in finalizers or SCALE_SET_ID_ANNOTATION not in annotations:
            if FINALIZER not in finalizers:
                finalizers.append(FINALIZER)
            patch = {"metadata": {"finalizers": finalizers}}
            if SCALE_SET_ID_ANNOTATION not in annotations:
                name = item.spec.runnerScaleSetName or meta.name
                if self.github is not None:
                    scale_set_id = self.github.register(item.spec.githubConfigUrl, name)
                else:
                    scale_set_id, self._next_id = self._next_id, self._next_id + 1
                patch["metadata"]["annotations"] = {SCALE_SET_ID_ANNOTATION: str(scale_set_id),
                                                    SCALE_SET_NAME_ANNOTATION: name}
            self._patch(meta, patch)
        self._ensure_listener(item)

    def _patch(self, meta, body):
        self.runner_sets.patch(name=meta.name, namespace=meta.namespace, body=body,
                               content_type="application/merge-patch+json")

    def _ensure_listener(self, item):
        meta = item.metadata
        name = listener_name(meta.name, meta.namespace)
        labels = {NAME_LABEL: meta.name, NAMESPACE_LABEL: meta.namespace,
                  "app.kubernetes.io/component": "runner-scale-set-listener"}
        try:
            self.listeners.get(name=name, namespace=self.controller_namespace)
        except NotFoundError:
            self.listeners.create(namespace=self.controller_namespace, body={
                "apiVersion": API_VERSION, "kind": "AutoscalingListener",
                "metadata": {"name": name, "namespace": self.controller_namespace, "labels": labels},
                "spec": {"githubConfigUrl": item.spec.githubConfigUrl,
                         "githubConfigSecret": item.spec.githubConfigSecret,
                         "autoscalingRunnerSetName": meta.name, "autoscalingRunnerSetNamespace": meta.namespace,
                         "minRunners": item.spec.minRunners or 0, "maxRunners": item.spec.maxRunners,
                         "image": "ghcr.io/actions/gha-runner-scale-set-controller:%s" % self.version}})
        try:
            self.core.read_namespaced_pod(name, self.controller_namespace)
        except ApiException as exc:
            if exc.status != 404:
                raise
            self.core.create_namespaced_pod(self.controller_namespace, {
                "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels},
                "spec": {"containers": [{"name": "listener", "command": ["/ghalistener"],
                                         "image": "ghcr.io/actions/gha-runner-scale-set-controller:%s" % self.version}],
                         "restartPolicy": "Never"}})

    def _delete_listener(self, name, namespace):
        listener = listener_name(name, namespace)
        try:
            self.core.delete_namespaced_pod(listener, self.controller_namespace, grace_period_seconds=0)
        except ApiException as exc:
            if exc.status != 404:
                raise
        try:
            self.listeners.delete(name=listener, namespace=self.controller_namespace)
        except NotFoundError:
            pass

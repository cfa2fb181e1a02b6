# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the controller and scale set releases share when they act: one helm runner per run, the rendered values
file, the local chart check, the helm-diff text, and Kubernetes objects through ``K8sDelivery``.

``ScaleSetManager`` (scale_set_manager.py) and ``ControllerManager`` (controller_manager.py) build on
``ReleaseManager``; errors are raised (``HelmError``, ``ApiError``, ``InputError``) for the module's main() to report.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.accelci.runners.plugins.module_utils._common.files import read_text, write_atomic
from ansible_collections.accelci.runners.plugins.module_utils._common.yaml_text import dump_yaml, load_yaml
from ansible_collections.accelci.runners.plugins.module_utils.arc.defaults import KUBERNETES_VERSION
from ansible_collections.accelci.runners.plugins.module_utils.arc.gitops import published_chart_ref
from ansible_collections.accelci.runners.plugins.module_utils.helm.helm_client import Helm, HelmError
from ansible_collections.accelci.runners.plugins.module_utils.helm.release import is_local_chart, rollback_target
from ansible_collections.accelci.runners.plugins.module_utils.k8s.delivery_manager import K8sDelivery

RENDER_SUBDIR = "arc"
# ARC's kinds whose objects carry finalizers only its controller removes (arc-contract: cleanup-protection).
ARC_API_VERSION = "actions.github.com/v1alpha1"
ARC_KINDS = ("AutoscalingRunnerSet", "EphemeralRunnerSet", "EphemeralRunner", "AutoscalingListener")


def _values_path(render_dir, release):
    """Where render mode writes a release's values: <render_dir>/arc/values/<release>.yaml."""
    return os.path.join(render_dir, RENDER_SUBDIR, "values", "%s.yaml" % release)


class ReleaseManager(object):
    """One ARC Helm release of a module run. Subclasses set ``chart`` (the chart name)."""

    chart = None

    def __init__(self, module, delivery=None):
        self.module = module
        self.params = module.params
        self.delivery = delivery if delivery is not None else K8sDelivery(module)
        self._helm = None

    @property
    def check_mode(self):
        return self.module.check_mode

    @property
    def chart_ref(self):
        """chart_ref, else the published chart."""
        return self.params.get("chart_ref") or published_chart_ref(self.chart)

    @property
    def kubernetes_version(self):
        return self.params.get("kubernetes_version") or KUBERNETES_VERSION

    def helm(self, secrets=()):
        """The helm runner of this run, its version checked once (secrets are masked in everything it reports)."""
        if self._helm is None:
            self._helm = Helm(self.module, binary_path=self.params.get("binary_path"),
                              kubeconfig=self.params.get("kubeconfig"), context=self.params.get("context"),
                              secrets=secrets, retry_timeout=self.params.get("retry_timeout"))
            self._helm.version()
        return self._helm

    # -- render ---------------------------------------------------------------------------------------------------

    def check_with_chart(self, release, namespace, values, secrets=()):
        """Render mode: ``helm template --kube-version`` of a local chart, so the chart's own checks run on our
        values. Repository charts are not fetched here."""
        if not is_local_chart(self.chart_ref) or not self.params.get("validate_with_chart", True):
            return None
        return self.helm(secrets).template(release, self.chart_ref, namespace, values,
                                           kube_version=self.kubernetes_version)

    def read_rendered_values(self, release):
        """The values rendered by an earlier run (None when there are none)."""
        return load_yaml(read_text(_values_path(self.params["render_dir"], release)))

    def write_values(self, release, values):
        """Write the values file unless unchanged (or in check mode). Returns (changed, path, text before)."""
        path = _values_path(self.params["render_dir"], release)
        before = read_text(path)
        content = dump_yaml(values)
        changed = before != content
        if changed and not self.check_mode:
            write_atomic(path, content)
        return changed, path, before

    def remove_values(self, release):
        """Delete the values file (render mode, state=absent). Returns (changed, path)."""
        path = _values_path(self.params["render_dir"], release)
        if not os.path.exists(path):
            return False, path
        if not self.check_mode:
            os.unlink(path)
        return True, path

    def render_objects(self, manifests):
        """Render GitOps objects under <render_dir>/arc/. Returns (changed, paths)."""
        changed, paths = False, []
        for manifest in manifests:
            outcome = self.delivery.ensure(manifest, render_subdir=RENDER_SUBDIR)
            changed |= outcome["changed"]
            paths.append(outcome["path"])
        return changed, paths

    # -- apply ----------------------------------------------------------------------------------------------------

    def diff_text(self, helm, release, namespace, values):
        """helm-diff's manifest diff in diff mode when the plugin is there (None otherwise)."""
        if not (self.module._diff and self.params.get("use_helm_diff")):
            return None
        try:
            if helm.has_diff_plugin():
                return helm.diff_upgrade(release, self.chart_ref, namespace, values, self.params["version"])[1]
        except HelmError as exc:
            self.module.warn("helm diff failed, diff shows values only: %s" % exc.msg)
        return None

    def upgrade_install(self, helm, release, namespace, values, current, create_namespace=False, skip_crds=False):
        """helm upgrade --install at the pinned version; a failed upgrade of a deployed release is rolled back."""
        helm.upgrade_install(release, self.chart_ref, namespace, values, version=self.params["version"],
                             skip_crds=skip_crds,
                             wait=self.params["wait"], timeout=self.params["wait_timeout"],
                             create_namespace=create_namespace,
                             rollback_on_failure=self.params["rollback_on_failure"],
                             previous=rollback_target(current))

    def uninstall(self, helm, release, namespace):
        """helm uninstall, waiting so the controller processes finalizers before the objects go. When the wait
        fails, the error names every ARC object still being deleted and the finalizer that holds it."""
        try:
            helm.uninstall(release, namespace, wait=True, timeout=self.params["wait_timeout"])
        except HelmError as exc:
            held = self.held_by_finalizers(namespace)
            if held:
                exc.msg = "%s. %s" % (exc.msg.rstrip("."), held)
            raise

    def held_by_finalizers(self, namespace):
        """What keeps ARC objects in ``namespace`` from going, and the fix; "" when nothing does."""
        lines = []
        for kind in ARC_KINDS:
            for name, finalizers, since in self.delivery.terminating(ARC_API_VERSION, kind, namespace):
                if not finalizers:
                    continue
                lines.append("%s %s/%s is still being deleted: finalizer %s holds it (deleting since %s)"
                             % (kind, namespace, name, ", ".join(finalizers), since))
        if not lines:
            return ""
        return ("%s. Only the ARC controller removes these finalizers: check that it is running (scale sets must "
                "be removed before the controller). If the controller is gone for good, remove a finalizer by "
                "hand, e.g. kubectl patch autoscalingrunnerset NAME -n %s --type=merge "
                "-p '{\"metadata\":{\"finalizers\":null}}'" % ("; ".join(lines), namespace))

# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Converge the ARC controller (the arc_controller module): plan, then render or apply.

- plan: ``values.controller_values`` checks the options and builds the values;
- render: values file and the Flux / Argo CD objects (Flux replaces CRDs on upgrade);
- apply: read the release and every scale set release, decide, then in the documented order uninstall scale sets
  of another version (when allowed), apply the chart's CRDs server-side and upgrade the controller;
- absent: uninstall scale sets first (when allowed; their finalizers need the controller), then the controller.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os
import shutil
import tempfile

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import AccelciError
from ansible_collections.accelci.runners.plugins.module_utils._common.files import read_text
from ansible_collections.accelci.runners.plugins.module_utils._common.yaml_text import load_yaml, load_yaml_all
from ansible_collections.accelci.runners.plugins.module_utils.arc.defaults import CONTROLLER_CHART, SCALE_SET_CHART
from ansible_collections.accelci.runners.plugins.module_utils.arc.gitops import gitops_objects
from ansible_collections.accelci.runners.plugins.module_utils.arc.names import validate_chart_version
from ansible_collections.accelci.runners.plugins.module_utils.arc.release_manager import ReleaseManager
from ansible_collections.accelci.runners.plugins.module_utils.arc.values import controller_values
from ansible_collections.accelci.runners.plugins.module_utils.helm.release import (
    chart_version_of,
    release_action,
    values_delta,
)
from ansible_collections.accelci.runners.plugins.module_utils.k8s.delivery_manager import K8sDelivery


def _scale_set_releases(releases):
    """gha-runner-scale-set releases from a helm list (every namespace)."""
    found = []
    for entry in releases:
        chart = entry.get("chart") or ""
        if chart.startswith(SCALE_SET_CHART + "-") and not chart.startswith(CONTROLLER_CHART):
            found.append(dict(name=entry.get("name"), namespace=entry.get("namespace"),
                              version=chart_version_of(chart, SCALE_SET_CHART), status=entry.get("status")))
    return found


def _refs(scale_sets):
    return ", ".join("%s/%s" % (s["namespace"], s["name"]) for s in scale_sets)


class ControllerManager(ReleaseManager):
    """The gha-runner-scale-set-controller release, its CRDs, and the scale sets its version change affects."""

    chart = CONTROLLER_CHART

    def run(self):
        """The module's result: converge to state, by render or apply."""
        plan = self.plan()
        if self.params.get("validate_only"):
            return self.validate(plan)
        if self.params["delivery"] == "render":
            return self.render(plan)
        return self.apply(plan)

    def validate(self, plan):
        """validate_only: the checked values (and the chart's own checks for a local chart in render mode); nothing
        read, written or installed."""
        if self.params["delivery"] == "render" and self.params["state"] == "present":
            self.check_with_chart(plan["name"], plan["namespace"], plan["values"])
        return dict(changed=False, controller=dict(plan["summary"], action="validate"),
                    diff=dict(before=None, after=plan["values"]))

    def plan(self):
        """The checked values and the summary every result starts from (nothing read yet)."""
        validate_chart_version("version", self.params["version"])
        values = controller_values(self.params)
        name, namespace = self.params["name"], self.params["namespace"]
        summary = dict(name=name, namespace=namespace, chart_ref=self.chart_ref, chart_version=self.params["version"],
                       service_account=dict(name=values["serviceAccount"]["name"], namespace=namespace),
                       values=values, removed_scale_sets=[], crds=[])
        return dict(name=name, namespace=namespace, values=values, summary=summary)

    # -- render ---------------------------------------------------------------------------------------------------

    def render(self, plan):
        """Values file and GitOps objects (state=present), or the values file removed (state=absent)."""
        name, namespace, values, summary = plan["name"], plan["namespace"], plan["values"], plan["summary"]
        if self.params["state"] == "absent":
            changed = self.remove_values(name)[0]
            return dict(changed=changed, controller=dict(summary, action="remove"))
        # Flux replaces CRDs on upgrade, which Helm alone never does (arc-contract: upgrades).
        gitops = gitops_objects(self.params, CONTROLLER_CHART, name, namespace, self.chart_ref, values, sync_wave=0,
                                upgrade_crds="CreateReplace")
        self.check_with_chart(name, namespace, values)
        changed, path, before = self.write_values(name, values)
        objects_changed, paths = self.render_objects(gitops)
        return dict(changed=changed or objects_changed, controller=dict(summary, action="render", rendered=[path] + paths),
                    diff=dict(before=load_yaml(before) if before else None, after=values))

    # -- apply ----------------------------------------------------------------------------------------------------

    def read(self, helm):
        """The controller's release (or None) and every scale set release."""
        current = helm.get_release(self.params["name"], self.params["namespace"])
        return current, _scale_set_releases(helm.list_releases(all_namespaces=True))

    def chart_crds(self, helm):
        """The CRD manifests shipped in the chart's crds/ directory (pulled into a temporary directory)."""
        workdir = tempfile.mkdtemp(prefix="accelci-arc-chart-")
        try:
            chart_dir = self.chart_ref
            if chart_dir.endswith(".tgz") or not os.path.isdir(chart_dir):
                chart_dir = helm.pull(self.chart_ref, self.params["version"], workdir)
            crds = []
            for path in sorted(glob.glob(os.path.join(chart_dir, "crds", "*.yaml"))):
                crds.extend(load_yaml_all(read_text(path)))
            return crds
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    def _stale_scale_sets(self, installed, current, scale_sets):
        """Scale sets of another version, which the controller would delete; refused unless reinstall_scale_sets."""
        version = str(self.params["version"])
        stale = [s for s in scale_sets if s["version"] != version]
        if not (stale and current):
            return []
        if not self.params["reinstall_scale_sets"]:
            raise AccelciError("Upgrading the ARC controller %s -> %s: scale sets %s run chart %s, and the controller "
                               "deletes scale sets of another version. The documented order is: uninstall the scale "
                               "sets, upgrade the controller and its CRDs, install the scale sets at the new version. "
                               "Set reinstall_scale_sets=true to uninstall them now (the arc role reinstalls them "
                               "right after)." % (installed, version, _refs(stale),
                                                  ", ".join(sorted(set(str(s["version"]) for s in stale)))))
        return stale

    def _apply_crds(self, helm, summary):
        """Helm installs CRDs only when absent and never upgrades them: apply them server-side ourselves."""
        crd_delivery = K8sDelivery(self.module, params=dict(self.params, force_conflicts=True))
        changed = False
        for crd in self.chart_crds(helm):
            # spec.versions is an atomic list: a field dropped inside it (a printer column, a schema property)
            # leaves the chart's CRD a subset of the live one, so the apply is always sent.
            outcome = crd_delivery.ensure(crd, always_apply=True)
            changed |= outcome["changed"]
            summary["crds"].append(dict(name=crd["metadata"]["name"], changed=outcome["changed"]))
        return changed

    def change_version(self, helm, installed, current, scale_sets, summary):
        """The documented upgrade order before the controller itself: scale sets of another version out, CRDs."""
        stale = self._stale_scale_sets(installed, current, scale_sets)
        if stale and not self.check_mode:
            for scale_set in stale:
                self.uninstall(helm, scale_set["name"], scale_set["namespace"])
        summary["removed_scale_sets"] = stale
        return self._apply_crds(helm, summary) or bool(stale)

    def apply(self, plan):
        """Read, decide, then act in the documented order (or remove, for state=absent)."""
        name, namespace, values, summary = plan["name"], plan["namespace"], plan["values"], plan["summary"]
        helm = self.helm()
        current, scale_sets = self.read(helm)
        if self.params["state"] == "absent":
            return self.remove(helm, plan, current, scale_sets)
        current_values = helm.get_values(name, namespace) if current else {}
        action, reason = release_action(current, current_values, CONTROLLER_CHART, self.params["version"], values)
        installed = chart_version_of(current.get("chart"), CONTROLLER_CHART) if current else None
        changed = False
        if action == "install" or installed != str(self.params["version"]):
            changed = self.change_version(helm, installed, current, scale_sets, summary)
        diff_text = None
        if action != "none":
            changed = True
            diff_text = self.diff_text(helm, name, namespace, values)
            if not self.check_mode:
                # The CRDs were applied server-side above (install or version change). helm 4 applies a chart's
                # crds/ on install too, without forcing, so CRDs another version left behind (a reinstall, a
                # downgrade) would conflict with ours: they have one owner, this module.
                self.upgrade_install(helm, name, namespace, values, current,
                                     create_namespace=self.params["create_namespace"], skip_crds=True)
        summary.update(action=action, reason=reason, installed_version=installed,
                       changed_values=values_delta(current_values, values) if current else [])
        result = dict(changed=changed, controller=summary,
                      diff=dict(before=current_values if current else None, after=values))
        if diff_text:
            result["diff"]["prepared"] = diff_text
        return result

    def remove(self, helm, plan, current, scale_sets):
        """Uninstall every scale set first (only with remove_scale_sets), then the controller; CRDs stay."""
        params = self.params
        if scale_sets and not params["remove_scale_sets"]:
            raise AccelciError("Refusing to remove the ARC controller %s/%s while scale sets exist (%s): their "
                               "resources carry finalizers only the controller removes. Remove them first, or set "
                               "remove_scale_sets=true to uninstall them before the controller."
                               % (params["namespace"], params["name"], _refs(scale_sets)))
        releases = [(s["name"], s["namespace"]) for s in scale_sets]
        if current:
            releases.append((params["name"], params["namespace"]))
        if not self.check_mode:
            for release, namespace in releases:
                self.uninstall(helm, release, namespace)
        summary = dict(plan["summary"], removed_scale_sets=scale_sets, action="uninstall" if current else "none")
        return dict(changed=bool(releases), controller=summary,
                    diff=dict(before={"release": params["name"]} if current else None, after=None))


def run_controller(module):
    """The arc_controller module: its result dict; raises AccelciError (and subclasses) on failure."""
    return ControllerManager(module).run()

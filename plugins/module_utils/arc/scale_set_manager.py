# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Converge one runner scale set (the arc_runner_scale_set module): plan, then render or apply.

- plan: ``scale_set.plan_scale_set`` checks every input and builds the values and objects (nothing read yet);
- render: values file, GitOps objects, hooks ConfigMap; the GitHub Secret is reported, never written to disk;
- apply: read the controller and the release, decide (``scale_set.scale_set_action``), then write the objects and
  run helm only when something differs;
- absent: uninstall (or unrender) and remove the objects the scale set owns.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import AccelciError
from ansible_collections.accelci.runners.plugins.module_utils.arc.defaults import CONTROLLER_CHART, SCALE_SET_CHART
from ansible_collections.accelci.runners.plugins.module_utils.arc.github import ID_KEYS, SECRET_KEYS
from ansible_collections.accelci.runners.plugins.module_utils.arc.gitops import gitops_objects, gitops_refs
from ansible_collections.accelci.runners.plugins.module_utils.arc.names import (
    controller_service_account,
    hooks_configmap_name,
)
from ansible_collections.accelci.runners.plugins.module_utils.arc.release_manager import RENDER_SUBDIR, ReleaseManager
from ansible_collections.accelci.runners.plugins.module_utils.arc.scale_set import (
    out_of_band_secret_note,
    plan_removal,
    plan_scale_set,
    rendered_label_warning,
    scale_set_action,
)
from ansible_collections.accelci.runners.plugins.module_utils.helm.release import (
    chart_version_of,
    mask_values,
    values_delta,
)


class ScaleSetManager(ReleaseManager):
    """One gha-runner-scale-set release and the objects that go with it."""

    chart = SCALE_SET_CHART

    def run(self):
        """The module's result: converge to state, by render or apply."""
        for key in SECRET_KEYS:
            if self.params.get(key):
                self.module.no_log_values.add(self.params[key])
        render = self.params["delivery"] == "render"
        if self.params["state"] == "absent":
            plan = plan_removal(self.params)
            if self.params.get("validate_only"):
                return self._removal_result(plan, False, action="validate")
            return self.unrender(plan) if render else self.uninstall_release(plan)
        plan = plan_scale_set(self.params)
        if self.params.get("validate_only"):
            return self.validate(plan)
        return self.render(plan) if render else self.apply(plan)

    def validate(self, plan):
        """validate_only: the plan, checked (with the chart's own checks for a local chart in render mode), and
        nothing read, written or installed."""
        if self.params["delivery"] == "render":
            self.check_with_chart(plan["name"], plan["namespace"], plan["values"], plan["secrets"])
        values = mask_values(plan["values"], plan["secrets"])
        return self._result(plan, False, None, values, action="validate")

    def _ensure_objects(self, plan):
        """The GitHub Secret (when the module holds credentials) and the hooks ConfigMap."""
        changed, outcomes = False, []
        for manifest, secret in plan["objects"]:
            outcome = self.delivery.ensure(manifest, render_subdir=RENDER_SUBDIR, secret=secret, public_keys=ID_KEYS)
            changed |= outcome["changed"]
            outcomes.append(outcome)
        return changed, outcomes

    def _result(self, plan, changed, before, after, **summary):
        summary = dict(plan["summary"], values=after, **summary)
        return dict(changed=changed, scale_set=summary, diff=dict(before=before, after=after))

    # -- render ---------------------------------------------------------------------------------------------------

    def render(self, plan):
        """Values file, GitOps objects (dependsOn the controller) and the hooks ConfigMap; Secrets only as notes."""
        name, namespace, values = plan["name"], plan["namespace"], plan["values"]
        controller = {"name": self.params["controller_release"], "namespace": self.params["controller_namespace"]}
        gitops = gitops_objects(self.params, SCALE_SET_CHART, name, namespace, plan["chart_ref"], values,
                                depends_on=[controller], sync_wave=1)
        self.check_with_chart(name, namespace, values, plan["secrets"])
        changed, outcomes = self._ensure_objects(plan)
        rendered = [o["path"] for o in outcomes if o.get("path")]
        notes = [o["note"] for o in outcomes if o.get("note")]
        if plan["secret_data"] is None:
            notes.append(out_of_band_secret_note(plan))
        previous = self.read_rendered_values(name)
        warning = rendered_label_warning(plan, previous)
        if warning:
            self.module.warn(warning)
        values_changed, path, _before = self.write_values(name, values)
        objects_changed, paths = self.render_objects(gitops)
        return self._result(plan, changed or values_changed or objects_changed, previous,
                            mask_values(values, plan["secrets"]), action="render",
                            rendered=rendered + [path] + paths, notes=notes)

    def unrender(self, plan):
        """Delete the values file, the hooks ConfigMap and the GitOps objects of a removed scale set."""
        name, namespace = plan["name"], plan["namespace"]
        changed, path = self.remove_values(name)
        removed = [path] if changed else []
        refs = [("v1", "ConfigMap", hooks_configmap_name(name), namespace)] + gitops_refs(self.params, name, namespace)
        for api_version, kind, obj_name, obj_ns in refs:
            outcome = self.delivery.remove(api_version, kind, obj_name, obj_ns, render_subdir=RENDER_SUBDIR)
            changed |= outcome["changed"]
            if outcome["changed"]:
                removed.append(outcome.get("path"))
        return self._removal_result(plan, changed, action="remove", removed=removed)

    # -- apply ----------------------------------------------------------------------------------------------------

    def read(self, helm):
        """The release's helm list entry (or None) and its user-supplied values."""
        current = helm.get_release(self.params["name"], self.params["namespace"])
        return current, (helm.get_values(self.params["name"], self.params["namespace"]) if current else {})

    def check_controller(self, helm, plan):
        """Scale sets must run the controller's chart version (the controller deletes mismatched ones) and bind the
        controller's real service account (else nothing reconciles the scale set and jobs wait forever)."""
        params = self.params
        where = "%s/%s" % (params["controller_namespace"], params["controller_release"])
        controller = helm.get_release(params["controller_release"], params["controller_namespace"])
        if not controller:
            self.module.warn("No ARC controller release %s in namespace %s: install it first (arc_controller), or the "
                             "scale set's resources are never reconciled" % (params["controller_release"],
                                                                             params["controller_namespace"]))
            return
        installed = chart_version_of(controller.get("chart"), CONTROLLER_CHART)
        if installed != str(params["version"]) and self.check_mode:
            # A check run of an upgrade: the controller task before this one only said it would upgrade.
            self.module.warn("The ARC controller %s runs chart %s and this scale set asks for %s: a real run needs the "
                             "controller upgraded first (the arc role does that in the same run)"
                             % (where, installed, params["version"]))
            return
        if installed != str(params["version"]):
            raise AccelciError("The ARC controller %s runs chart %s but this scale set asks for %s; the controller "
                               "deletes scale sets of another version. Upgrade the controller first (arc_controller "
                               "version=%s) or set version=%s here." % (where, installed, params["version"],
                                                                        params["version"], installed))
        # --all: the chart's defaults merged in, so a release installed without serviceAccount.name still tells us.
        effective = helm.get_values(params["controller_release"], params["controller_namespace"], all_values=True)
        actual = (effective.get("serviceAccount") or {}).get("name") or controller_service_account(
            params["controller_release"])
        wanted = plan["controller_service_account"]
        if actual != wanted:
            raise AccelciError("The ARC controller %s runs as service account %s but this scale set would grant %s: "
                               "set controller_service_account=%s" % (where, actual, wanted, actual))

    def apply(self, plan):
        """Read the controller and the release, decide, then write the objects and run helm if anything differs."""
        name, namespace, values = plan["name"], plan["namespace"], plan["values"]
        helm = self.helm(plan["secrets"])
        self.check_controller(helm, plan)
        current, current_values = self.read(helm)
        action, reason = scale_set_action(plan, current, current_values, self.params["version"],
                                          self.params["recreate_on_label_change"])
        before = mask_values(current_values, plan["secrets"]) if current else None
        changed = self._ensure_objects(plan)[0]
        diff_text = None
        if action != "none":
            changed = True
            diff_text = self.diff_text(helm, name, namespace, values)
            if not self.check_mode:
                if action == "recreate":
                    self.uninstall(helm, name, namespace)
                    current = None
                self.upgrade_install(helm, name, namespace, values, current)
        after = mask_values(values, plan["secrets"])
        result = self._result(plan, changed, before, after, action=action, reason=reason,
                              changed_values=values_delta(before or {}, after))
        if diff_text:
            result["diff"]["prepared"] = diff_text
        return result

    def uninstall_release(self, plan):
        """Uninstall the release (waiting for finalizers), then its hooks ConfigMap and the Secret it owns."""
        name, namespace = plan["name"], plan["namespace"]
        helm = self.helm()
        current = helm.get_release(name, namespace)
        changed = bool(current)
        if current and not self.check_mode:
            self.uninstall(helm, name, namespace)
        changed |= self.delivery.remove("v1", "ConfigMap", hooks_configmap_name(name), namespace)["changed"]
        if plan["owned_secret"]:
            # Only the scale set's own Secret: a shared (github_secret_name) or existing Secret serves others too.
            changed |= self.delivery.remove("v1", "Secret", plan["owned_secret"], namespace)["changed"]
        return self._removal_result(plan, changed, action="uninstall" if current else "none")

    def _removal_result(self, plan, changed, **summary):
        return dict(changed=changed, scale_set=dict(plan["summary"], **summary),
                    diff=dict(before={"release": plan["name"]} if changed else None, after=None))


def run_scale_set(module):
    """The arc_runner_scale_set module: its result dict; raises AccelciError (and subclasses) on failure."""
    return ScaleSetManager(module).run()

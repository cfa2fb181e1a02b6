# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the arc_controller and arc_runner_scale_set modules do: read state, decide, apply or render.

The modules are thin; ``run_controller(module)`` and ``run_scale_set(module)`` return their result dicts (and fail
the module with a clear message on error). Values come from ``arc_values``; helm runs through ``helm.Helm``;
Kubernetes objects (GitHub Secret, hook ConfigMap, CRDs, GitOps objects) go through ``k8s_delivery.K8sDelivery``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os
import shutil
import tempfile

from ansible.module_utils.common.text.converters import to_native, to_text

from ansible_collections.accelci.runners.plugins.module_utils import arc_values as av
from ansible_collections.accelci.runners.plugins.module_utils.helm import (
    Helm,
    HelmError,
    chart_version_of,
    dump_yaml,
    mask_values,
    release_action,
    values_delta,
)
from ansible_collections.accelci.runners.plugins.module_utils.k8s_delivery import (
    K8sDelivery,
    K8sDeliveryError,
    validate_manifests,
    write_atomic,
)

RENDER_SUBDIR = "arc"
# GitHub App and installation IDs are identifiers: masked in diffs, but not added to no_log_values, where a short
# number would hide unrelated output (fsGroup: 123).
GITHUB_ID_KEYS = ("github_app_id", "github_app_installation_id")
DEFAULT_KUBERNETES_VERSION = "1.33"


def arc_argument_spec():
    """Options both ARC modules share (doc fragment accelci.runners.helm.ARC)."""
    return dict(
        version=dict(type="str", default=av.ARC_VERSION),
        gitops=dict(type="str", choices=["flux", "argocd"], default="flux"),
        argocd_namespace=dict(type="str", default="argocd"),
        argocd_project=dict(type="str", default="default"),
        flux_source_namespace=dict(type="str"),
        chart_ref=dict(type="str"),
        gitops_chart_ref=dict(type="str"),
        validate_with_chart=dict(type="bool", default=True),
    )


def _kube_version(params):
    return params.get("kubernetes_version") or DEFAULT_KUBERNETES_VERSION


def _is_local(chart_ref):
    return os.path.isdir(chart_ref) or chart_ref.endswith(".tgz")


def _render_file(module, path, content):
    """Write a rendered file unless unchanged (or check mode); return (changed, before_text)."""
    before = None
    if os.path.exists(path):
        with open(path, "rb") as handle:
            before = to_text(handle.read())
    changed = before != content
    if changed and not module.check_mode:
        write_atomic(path, content)
    return changed, before


def _values_path(render_dir, release):
    return os.path.join(render_dir, RENDER_SUBDIR, "values", "%s.yaml" % release)


def _gitops_objects(params, chart_name, release, namespace, chart_ref, values, depends_on=None, sync_wave=None):
    """Flux or Argo CD objects for a release; they point at an OCI chart even when chart_ref is local."""
    if params.get("gitops_chart_ref"):
        chart_ref = params["gitops_chart_ref"]
    elif not chart_ref.startswith("oci://"):
        chart_ref = "%s/%s" % (av.CHART_REPOSITORY, chart_name)
    if params["gitops"] == "argocd":
        return av.argocd_application(release, namespace, chart_ref, params["version"], values,
                                     argocd_namespace=params["argocd_namespace"], project=params["argocd_project"],
                                     sync_wave=sync_wave)
    return av.flux_helmrelease(release, namespace, chart_ref, params["version"], values, depends_on=depends_on,
                               source_namespace=params.get("flux_source_namespace"))


def _template_check(module, helm, release, namespace, chart_ref, values, params):
    """helm template of a local chart with --kube-version: the chart's own checks run on our values."""
    if not _is_local(chart_ref):
        return None
    try:
        return helm.template(release, chart_ref, namespace, values, kube_version=_kube_version(params))
    except HelmError as exc:
        module.fail_json(**exc.as_dict())


def _fail_input(module, exc):
    module.fail_json(msg="Invalid input: %s" % to_native(exc), field=getattr(exc, "field", None))


def _helm(module, params, secrets=()):
    helm = Helm(module, binary_path=params.get("binary_path"), kubeconfig=params.get("kubeconfig"),
                context=params.get("context"), secrets=secrets)
    try:
        helm.version()
    except HelmError as exc:
        module.fail_json(**exc.as_dict())
    return helm


def _diff_text(helm, module, name, chart_ref, namespace, values, version):
    if not (module._diff and module.params.get("use_helm_diff")):
        return None
    try:
        if helm.has_diff_plugin():
            return helm.diff_upgrade(name, chart_ref, namespace, values, version)[1]
    except HelmError as exc:
        module.warn("helm diff failed, diff shows values only: %s" % exc.msg)
    return None


def scale_set_releases(releases, exclude_namespace_release=None):
    """gha-runner-scale-set releases from a helm list (every namespace)."""
    found = []
    for entry in releases:
        chart = entry.get("chart") or ""
        if chart.startswith(av.SCALE_SET_CHART + "-") and not chart.startswith(av.CONTROLLER_CHART):
            found.append(dict(name=entry.get("name"), namespace=entry.get("namespace"),
                              version=chart_version_of(chart, av.SCALE_SET_CHART), status=entry.get("status")))
    return found


# -- scale sets -------------------------------------------------------------------------------------------------------


def scale_set_spec(params):
    """arc_runner_scale_set options -> arc_values.scale_set_values() spec (pool resolved, secret named)."""
    spec = dict(params)
    spec["node_pool_entry"] = None
    if params.get("node_pool"):
        spec["node_pool_entry"] = av.find_node_pool(params.get("node_pools"), params["node_pool"])
    if params.get("existing_secret"):
        spec["secret_name"] = params["existing_secret"]
        secret_data = None
    else:
        secret_data = av.github_secret_data(params.get("github_app_id"), params.get("github_app_installation_id"),
                                            params.get("github_app_private_key"), params.get("github_token"))
        spec["secret_name"] = params.get("github_secret_name") or "%s-github-config" % params["name"]
    spec["controller_service_account"] = av.controller_service_account(params["controller_release"],
                                                                       params.get("controller_service_account"))
    spec["kubernetes_version"] = _kube_version(params)
    return spec, secret_data


def _pod_template_manifest(name, namespace, values):
    """The runner pod template as a core/v1 PodTemplate, so the Kubernetes schema checks what runners get."""
    template = values.get("template") or {}
    return {"apiVersion": "v1", "kind": "PodTemplate",
            "metadata": {"name": "%s-runner" % name, "namespace": namespace},
            "template": {"metadata": template.get("metadata") or {}, "spec": template.get("spec") or {}}}


def validate_scale_set_objects(name, namespace, built, kubernetes_version):
    """Schema errors of the runner pod template, the job pod template and the hook ConfigMap."""
    manifests = [_pod_template_manifest(name, namespace, built["values"])]
    if built["configmap"]:
        manifests.append(built["configmap"])
    if built["job_pod_template"]:
        job = built["job_pod_template"]
        spec = dict(job.get("spec") or {})
        spec["containers"] = [dict(c, name="job", image="placeholder") if c.get("name") == "$job" else c
                              for c in spec.get("containers", [])]
        manifests.append({"apiVersion": "v1", "kind": "PodTemplate",
                          "metadata": {"name": "%s-job" % name, "namespace": namespace},
                          "template": {"metadata": job.get("metadata") or {}, "spec": spec}})
    return validate_manifests(manifests, kubernetes_version)


def run_scale_set(module):
    """The arc_runner_scale_set module."""
    params = module.params
    for key in ("github_app_private_key", "github_token"):
        if params.get(key):
            module.no_log_values.add(params[key])
    name, namespace = params["name"], params["namespace"]
    delivery = K8sDelivery(module)
    if params["state"] == "absent":
        try:
            av.validate_name(name)
            av.validate_namespace("namespace", namespace)
        except av.ArcInputError as exc:
            _fail_input(module, exc)
        owned_secret = None
        if not params.get("existing_secret"):
            owned_secret = params.get("github_secret_name") or "%s-github-config" % name
        summary = dict(name=name, namespace=namespace, release=name, secret_name=owned_secret)
        return _remove_scale_set(module, params, delivery, summary, owned_secret)
    try:
        spec, secret_data = scale_set_spec(params)
        built = av.scale_set_values(spec)
        errors = validate_scale_set_objects(name, namespace, built, _kube_version(params))
    except av.ArcInputError as exc:
        _fail_input(module, exc)
    except K8sDeliveryError as exc:
        module.fail_json(msg=to_native(exc))
    if errors:
        module.fail_json(msg="The runner pod would not validate for Kubernetes %s: %s"
                         % (_kube_version(params), "; ".join(errors)), validation_errors=errors)
    values = built["values"]
    chart_ref = params.get("chart_ref") or "%s/%s" % (av.CHART_REPOSITORY, av.SCALE_SET_CHART)
    # The private key and the token are the secrets; app and installation IDs are identifiers.
    secrets = [v for k, v in (secret_data or {}).items() if k in ("github_app_private_key", "github_token")]
    result = dict(changed=False)
    summary = dict(name=name, namespace=namespace, release=name, chart_ref=chart_ref, chart_version=params["version"],
                   runs_on=[name] + list(values.get("scaleSetLabels") or []), secret_name=spec["secret_name"],
                   runner_pod=av.runner_pod_summary(values), github=built["github"])

    objects = []
    if secret_data is not None:
        objects.append(("secret", av.github_secret_manifest(spec["secret_name"], namespace, secret_data), True))
    if built["configmap"]:
        objects.append(("configmap", built["configmap"], False))

    before_values, after_values = None, mask_values(values, secrets)
    if params["delivery"] == "render":
        rendered, notes = [], []
        try:
            gitops = _gitops_objects(params, av.SCALE_SET_CHART, name, namespace, chart_ref, values,
                                     depends_on=[{"name": params["controller_release"],
                                                  "namespace": params["controller_namespace"]}], sync_wave=1)
        except av.ArcInputError as exc:
            _fail_input(module, exc)
        if _is_local(chart_ref) and params.get("validate_with_chart", True):
            helm = _helm(module, params, secrets)
            _template_check(module, helm, name, namespace, chart_ref, values, params)
        for _kind, manifest, secret in objects:
            outcome = delivery.ensure(manifest, render_subdir=RENDER_SUBDIR, secret=secret,
                                      public_keys=GITHUB_ID_KEYS)
            result["changed"] |= outcome["changed"]
            if outcome.get("path"):
                rendered.append(outcome["path"])
            if outcome.get("note"):
                notes.append(outcome["note"])
        if secret_data is None:
            notes.append("githubConfigSecret names Secret %s/%s: create it out of band with github_app_id, "
                         "github_app_installation_id and github_app_private_key (or github_token)"
                         % (namespace, spec["secret_name"]))
        path = _values_path(params["render_dir"], name)
        previous = None
        if os.path.exists(path):
            with open(path) as handle:
                previous = av.yaml_load(handle.read())
        labels_before = sorted((previous or {}).get("scaleSetLabels") or [])
        if previous is not None and labels_before != sorted(values.get("scaleSetLabels") or []):
            module.warn("Scale set %s was rendered before with labels %s; ARC sends labels to GitHub only when the "
                        "scale set is created, so after this change is synced, delete the release once (the "
                        "GitOps tool reinstalls it) for the new labels to take effect"
                        % (name, labels_before or "[]"))
        changed, _before = _render_file(module, path, dump_yaml(values))
        result["changed"] |= changed
        rendered.append(path)
        for manifest in gitops:
            outcome = delivery.ensure(manifest, render_subdir=RENDER_SUBDIR)
            result["changed"] |= outcome["changed"]
            rendered.append(outcome["path"])
        before_values = previous
        summary.update(action="render", rendered=rendered, notes=notes)
    else:
        helm = _helm(module, params, secrets)
        try:
            _check_controller(module, helm, params, spec["controller_service_account"])
            current = helm.get_release(name, namespace)
            current_values = helm.get_values(name, namespace) if current else {}
        except HelmError as exc:
            module.fail_json(**exc.as_dict())
        action, reason = release_action(current, current_values, av.SCALE_SET_CHART, params["version"], values)
        labels_now = sorted(current_values.get("scaleSetLabels") or [])
        if current and labels_now != sorted(values.get("scaleSetLabels") or []):
            if not params["recreate_on_label_change"]:
                module.fail_json(msg="Scale set %s/%s was created with labels %s and now asks for %s. ARC sends labels "
                                     "to GitHub only when a scale set is created, so an upgrade would not change "
                                     "them. Set recreate_on_label_change=true to uninstall and reinstall the scale "
                                     "set (jobs running on it are cancelled; queued jobs wait for the new one), or "
                                     "keep the labels." % (namespace, name, labels_now or "[]",
                                                           sorted(values.get("scaleSetLabels") or [])))
            action, reason = "recreate", "labels %s -> %s" % (labels_now, sorted(values.get("scaleSetLabels") or []))
        for _kind, manifest, secret in objects:
            outcome = delivery.ensure(manifest, secret=secret, public_keys=GITHUB_ID_KEYS)
            result["changed"] |= outcome["changed"]
        before_values = mask_values(current_values, secrets) if current else None
        diff_text = None
        if action != "none":
            diff_text = _diff_text(helm, module, name, chart_ref, namespace, values, params["version"])
            result["changed"] = True
            if not module.check_mode:
                try:
                    if action == "recreate":
                        helm.uninstall(name, namespace, wait=True, timeout=params["wait_timeout"])
                        current = None
                    helm.upgrade_install(name, chart_ref, namespace, values, version=params["version"],
                                         wait=params["wait"], timeout=params["wait_timeout"],
                                         rollback_on_failure=params["rollback_on_failure"],
                                         previous=current if (current or {}).get("status") == "deployed" else None)
                except HelmError as exc:
                    module.fail_json(**exc.as_dict())
        summary.update(action=action, reason=reason, changed_values=values_delta(before_values or {}, after_values))
        if diff_text:
            result.setdefault("diff", {})["prepared"] = diff_text
    summary["values"] = after_values
    result["scale_set"] = summary
    result.setdefault("diff", {}).update(before=before_values, after=after_values)
    return result


def _check_controller(module, helm, params, service_account):
    """Scale sets must run the controller's chart version (the controller deletes mismatched ones) and bind the
    controller's real service account (else nothing reconciles the scale set and jobs wait forever)."""
    controller = helm.get_release(params["controller_release"], params["controller_namespace"])
    if not controller:
        module.warn("No ARC controller release %s in namespace %s: install it first (arc_controller), or the scale "
                    "set's resources are never reconciled" % (params["controller_release"],
                                                              params["controller_namespace"]))
        return
    installed = chart_version_of(controller.get("chart"), av.CONTROLLER_CHART)
    if installed != str(params["version"]):
        module.fail_json(msg="The ARC controller %s/%s runs chart %s but this scale set asks for %s; the controller "
                             "deletes scale sets of another version. Upgrade the controller first (arc_controller "
                             "version=%s) or set version=%s here." % (params["controller_namespace"],
                                                                      params["controller_release"], installed,
                                                                      params["version"], params["version"], installed))
    # --all: the chart's defaults merged in, so a release installed without serviceAccount.name still tells us.
    effective = helm.get_values(params["controller_release"], params["controller_namespace"], all_values=True)
    account = (effective.get("serviceAccount") or {})
    actual = account.get("name") or av.controller_service_account(params["controller_release"])
    if actual != service_account:
        module.fail_json(msg="The ARC controller %s/%s runs as service account %s but this scale set would grant %s: "
                             "set controller_service_account=%s" % (params["controller_namespace"],
                                                                    params["controller_release"], actual,
                                                                    service_account, actual))


def _remove_scale_set(module, params, delivery, summary, owned_secret):
    name, namespace = params["name"], params["namespace"]
    result = dict(changed=False)
    if params["delivery"] == "render":
        removed = []
        path = _values_path(params["render_dir"], name)
        if os.path.exists(path):
            result["changed"] = True
            removed.append(path)
            if not module.check_mode:
                os.unlink(path)
        kinds = [("v1", "ConfigMap", av.hooks_configmap_name(name), namespace)]
        if params["gitops"] == "argocd":
            kinds.append(("argoproj.io/v1alpha1", "Application", name, params["argocd_namespace"]))
        else:
            kinds += [("helm.toolkit.fluxcd.io/v2", "HelmRelease", name, namespace),
                      ("source.toolkit.fluxcd.io/v1", "OCIRepository", name,
                       params.get("flux_source_namespace") or namespace)]
        for api_version, kind, obj_name, obj_ns in kinds:
            outcome = delivery.remove(api_version, kind, obj_name, obj_ns, render_subdir=RENDER_SUBDIR)
            result["changed"] |= outcome["changed"]
            if outcome["changed"]:
                removed.append(outcome.get("path"))
        summary.update(action="remove", removed=removed)
    else:
        helm = _helm(module, params)
        try:
            current = helm.get_release(name, namespace)
            if current:
                result["changed"] = True
                if not module.check_mode:
                    # Uninstall and wait, so the controller removes the finalizers before the objects go.
                    helm.uninstall(name, namespace, wait=True, timeout=params["wait_timeout"])
        except HelmError as exc:
            module.fail_json(**exc.as_dict())
        outcome = delivery.remove("v1", "ConfigMap", av.hooks_configmap_name(name), namespace)
        result["changed"] |= outcome["changed"]
        if owned_secret:
            # The Secret this module created; an existing_secret belongs to the user and stays.
            outcome = delivery.remove("v1", "Secret", owned_secret, namespace)
            result["changed"] |= outcome["changed"]
        summary.update(action="uninstall" if current else "none")
    result["scale_set"] = summary
    result["diff"] = dict(before={"release": name} if result["changed"] else None, after=None)
    return result


# -- controller -------------------------------------------------------------------------------------------------------


def chart_crds(helm, chart_ref, version):
    """The CRD manifests shipped in the chart's crds/ directory (pulled into a temporary directory)."""
    workdir = tempfile.mkdtemp(prefix="accelci-arc-chart-")
    try:
        if chart_ref.endswith(".tgz") or not os.path.isdir(chart_ref):
            chart_dir = helm.pull(chart_ref, version, workdir)
        else:
            chart_dir = chart_ref
        crds = []
        for path in sorted(glob.glob(os.path.join(chart_dir, "crds", "*.yaml"))):
            with open(path) as handle:
                crds.extend(doc for doc in av.yaml_load_all(handle.read()) if doc)
        return crds
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def run_controller(module):
    """The arc_controller module."""
    params = module.params
    try:
        values = av.controller_values(params)
    except av.ArcInputError as exc:
        _fail_input(module, exc)
    name, namespace = params["name"], params["namespace"]
    chart_ref = params.get("chart_ref") or "%s/%s" % (av.CHART_REPOSITORY, av.CONTROLLER_CHART)
    service_account = dict(name=values["serviceAccount"]["name"], namespace=namespace)
    summary = dict(name=name, namespace=namespace, chart_ref=chart_ref, chart_version=params["version"],
                   service_account=service_account, values=values, removed_scale_sets=[], crds=[])
    result = dict(changed=False)
    delivery = K8sDelivery(module)
    if params["delivery"] == "render":
        path = _values_path(params["render_dir"], name)
        rendered = []
        if params["state"] == "absent":
            for target in [path]:
                if os.path.exists(target):
                    result["changed"] = True
                    if not module.check_mode:
                        os.unlink(target)
            summary["action"] = "remove"
        else:
            try:
                gitops = _gitops_objects(params, av.CONTROLLER_CHART, name, namespace, chart_ref, values, sync_wave=0)
            except av.ArcInputError as exc:
                _fail_input(module, exc)
            if _is_local(chart_ref) and params.get("validate_with_chart", True):
                helm = _helm(module, params)
                _template_check(module, helm, name, namespace, chart_ref, values, params)
            changed, before = _render_file(module, path, dump_yaml(values))
            result["changed"] |= changed
            rendered.append(path)
            for manifest in gitops:
                if manifest["kind"] == "HelmRelease":
                    # Flux replaces CRDs on upgrade, which Helm alone never does (arc-contract: upgrades).
                    manifest["spec"]["upgrade"]["crds"] = "CreateReplace"
                outcome = delivery.ensure(manifest, render_subdir=RENDER_SUBDIR)
                result["changed"] |= outcome["changed"]
                rendered.append(outcome["path"])
            summary.update(action="render", rendered=rendered)
            result["diff"] = dict(before=av.yaml_load(before) if before else None, after=values)
        result["controller"] = summary
        return result

    helm = _helm(module, params)
    try:
        current = helm.get_release(name, namespace)
        releases = helm.list_releases(all_namespaces=True)
    except HelmError as exc:
        module.fail_json(**exc.as_dict())
    scale_sets = scale_set_releases(releases)
    if params["state"] == "absent":
        return _remove_controller(module, params, helm, current, scale_sets, summary)

    current_values = {}
    if current:
        try:
            current_values = helm.get_values(name, namespace)
        except HelmError as exc:
            module.fail_json(**exc.as_dict())
    action, reason = release_action(current, current_values, av.CONTROLLER_CHART, params["version"], values)
    installed = chart_version_of((current or {}).get("chart"), av.CONTROLLER_CHART) if current else None
    version_change = action == "install" or installed != str(params["version"])
    if version_change:
        # The documented upgrade order: scale sets out, controller, CRDs, scale sets back (arc-contract).
        stale = [s for s in scale_sets if s["version"] != str(params["version"])]
        if stale and current:
            if not params["reinstall_scale_sets"]:
                module.fail_json(msg="Upgrading the ARC controller %s -> %s: scale sets %s run chart %s, and the "
                                     "controller deletes scale sets of another version. The documented order is: "
                                     "uninstall the scale sets, upgrade the controller and its CRDs, install the "
                                     "scale sets at the new version. Set reinstall_scale_sets=true to uninstall them "
                                     "now (the arc role reinstalls them right after)."
                                 % (installed, params["version"],
                                    ", ".join("%s/%s" % (s["namespace"], s["name"]) for s in stale),
                                    ", ".join(sorted(set(str(s["version"]) for s in stale)))))
            result["changed"] = True
            if not module.check_mode:
                for scale_set in stale:
                    try:
                        helm.uninstall(scale_set["name"], scale_set["namespace"], wait=True,
                                       timeout=params["wait_timeout"])
                    except HelmError as exc:
                        module.fail_json(**exc.as_dict())
            summary["removed_scale_sets"] = stale
        # Helm installs CRDs only when absent and never upgrades them: apply them server-side ourselves.
        try:
            crds = chart_crds(helm, chart_ref, params["version"])
        except HelmError as exc:
            module.fail_json(**exc.as_dict())
        crd_delivery = K8sDelivery(module, params=dict(params, force_conflicts=True))
        for crd in crds:
            outcome = crd_delivery.ensure(crd)
            result["changed"] |= outcome["changed"]
            summary["crds"].append(dict(name=crd["metadata"]["name"], changed=outcome["changed"]))
    diff_text = None
    if action != "none":
        result["changed"] = True
        diff_text = _diff_text(helm, module, name, chart_ref, namespace, values, params["version"])
        if not module.check_mode:
            try:
                helm.upgrade_install(name, chart_ref, namespace, values, version=params["version"],
                                     wait=params["wait"], timeout=params["wait_timeout"],
                                     create_namespace=params["create_namespace"],
                                     rollback_on_failure=params["rollback_on_failure"],
                                     previous=current if (current or {}).get("status") == "deployed" else None)
            except HelmError as exc:
                module.fail_json(**exc.as_dict())
    summary.update(action=action, reason=reason, installed_version=installed,
                   changed_values=values_delta(current_values, values) if current else [])
    result["controller"] = summary
    result["diff"] = dict(before=current_values if current else None, after=values)
    if diff_text:
        result["diff"]["prepared"] = diff_text
    return result


def _remove_controller(module, params, helm, current, scale_sets, summary):
    result = dict(changed=False)
    if scale_sets and not params["remove_scale_sets"]:
        module.fail_json(msg="Refusing to remove the ARC controller %s/%s while scale sets exist (%s): their "
                             "resources carry finalizers only the controller removes. Remove them first, or set "
                             "remove_scale_sets=true to uninstall them before the controller."
                         % (params["namespace"], params["name"],
                            ", ".join("%s/%s" % (s["namespace"], s["name"]) for s in scale_sets)))
    if scale_sets:
        result["changed"] = True
        summary["removed_scale_sets"] = scale_sets
        if not module.check_mode:
            for scale_set in scale_sets:
                try:
                    helm.uninstall(scale_set["name"], scale_set["namespace"], wait=True, timeout=params["wait_timeout"])
                except HelmError as exc:
                    module.fail_json(**exc.as_dict())
    if current:
        result["changed"] = True
        if not module.check_mode:
            try:
                helm.uninstall(params["name"], params["namespace"], wait=True, timeout=params["wait_timeout"])
            except HelmError as exc:
                module.fail_json(**exc.as_dict())
    summary["action"] = "uninstall" if current else "none"
    result["controller"] = summary
    result["diff"] = dict(before={"release": params["name"]} if current else None, after=None)
    return result

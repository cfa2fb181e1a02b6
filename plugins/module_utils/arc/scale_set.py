# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One runner scale set release as a plan (pure): the values, the objects that go with them (GitHub Secret, hooks
ConfigMap), the GitHub Secret's owner rule, and the decisions that compare the plan with what is installed.

``scale_set_manager`` reads state and acts on these; nothing here talks to helm or Kubernetes.

The GitHub Secret: with credentials the module writes them to ``github_secret_name`` (a Secret several scale sets
share, written with the same content by each) or, by default, to ``<name>-github-config``, which belongs to this
scale set alone. ``existing_secret`` names a Secret the module never writes. On removal only the scale set's own
default Secret is deleted; a shared or existing Secret stays.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import AccelciError
from ansible_collections.accelci.runners.plugins.module_utils.arc.defaults import KUBERNETES_VERSION, SCALE_SET_CHART
from ansible_collections.accelci.runners.plugins.module_utils.arc.github import (
    SECRET_KEYS,
    github_secret_data,
    github_secret_manifest,
)
from ansible_collections.accelci.runners.plugins.module_utils.arc.gitops import published_chart_ref
from ansible_collections.accelci.runners.plugins.module_utils.arc.names import (
    controller_service_account,
    owned_secret_name,
    validate_chart_version,
    validate_namespace,
    validate_scale_set_name,
)
from ansible_collections.accelci.runners.plugins.module_utils.arc.values import runner_pod_summary, scale_set_values
from ansible_collections.accelci.runners.plugins.module_utils.helm.release import release_action
from ansible_collections.accelci.runners.plugins.module_utils.k8s.validation import validate_manifests


def secret_names(params):
    """(the Secret githubConfigSecret names, the Secret this scale set owns and may delete, or None)."""
    shared = params.get("existing_secret") or params.get("github_secret_name")
    if shared:
        return shared, None
    own = owned_secret_name(params["name"])
    return own, own


def _scale_set_spec(params):
    """arc_runner_scale_set options -> (scale_set_values() spec, GitHub Secret data or None)."""
    spec = dict(params)
    spec["secret_name"] = secret_names(params)[0]
    secret_data = None
    if not params.get("existing_secret"):
        secret_data = github_secret_data(params.get("github_app_id"), params.get("github_app_installation_id"),
                                         params.get("github_app_private_key"), params.get("github_token"))
    spec["controller_service_account"] = controller_service_account(params["controller_release"],
                                                                    params.get("controller_service_account"))
    spec["kubernetes_version"] = params.get("kubernetes_version") or KUBERNETES_VERSION
    return spec, secret_data


def _pod_template_manifest(name, namespace, template):
    """A pod template as a core/v1 PodTemplate, so the Kubernetes schema checks what pods get."""
    return {"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": name, "namespace": namespace},
            "template": {"metadata": template.get("metadata") or {}, "spec": template.get("spec") or {}}}


def _validate_scale_set_objects(name, namespace, built, kubernetes_version):
    """Schema errors of the runner pod template, the job pod template and the hook ConfigMap."""
    manifests = [_pod_template_manifest("%s-runner" % name, namespace, built["values"].get("template") or {})]
    if built["configmap"]:
        manifests.append(built["configmap"])
    job = built["job_pod_template"]
    if job:
        # The hook fills in the $job container's name and image; give the schema something to check.
        spec = dict(job.get("spec") or {})
        spec["containers"] = [dict(c, name="job", image="placeholder") if c.get("name") == "$job" else c
                              for c in spec.get("containers", [])]
        manifests.append(_pod_template_manifest("%s-job" % name, namespace, dict(job, spec=spec)))
    return validate_manifests(manifests, kubernetes_version)


def _checked_objects(name, namespace, built, kubernetes_version):
    errors = _validate_scale_set_objects(name, namespace, built, kubernetes_version)
    if errors:
        raise AccelciError("The runner pod would not validate for Kubernetes %s: %s"
                           % (kubernetes_version, "; ".join(errors)), validation_errors=errors)


def plan_scale_set(params):
    """Everything a present scale set needs, checked before anything is read or touched.

    Returns dict(name, namespace, chart_ref, values, built, controller_service_account, secrets (values to mask),
    objects (list of (manifest, is_secret)), secret_data (or None), summary).
    """
    validate_chart_version("version", params["version"])
    spec, secret_data = _scale_set_spec(params)
    built = scale_set_values(spec)
    name, namespace, values = params["name"], params["namespace"], built["values"]
    _checked_objects(name, namespace, built, spec["kubernetes_version"])
    objects = []
    if secret_data is not None:
        objects.append((github_secret_manifest(spec["secret_name"], namespace, secret_data), True))
    if built["configmap"]:
        objects.append((built["configmap"], False))
    chart_ref = params.get("chart_ref") or published_chart_ref(SCALE_SET_CHART)
    summary = dict(name=name, namespace=namespace, release=name, chart_ref=chart_ref, chart_version=params["version"],
                   runs_on=[name] + list(values.get("scaleSetLabels") or []), secret_name=spec["secret_name"],
                   runner_pod=runner_pod_summary(values), github=built["github"])
    return dict(name=name, namespace=namespace, chart_ref=chart_ref, values=values, built=built, objects=objects,
                controller_service_account=spec["controller_service_account"],
                secret_data=secret_data, secrets=[v for k, v in (secret_data or {}).items() if k in SECRET_KEYS],
                summary=summary)


def plan_removal(params):
    """What state=absent removes: the release, its hooks ConfigMap and only the Secret the scale set owns."""
    name = validate_scale_set_name(params["name"])
    namespace = validate_namespace("namespace", params["namespace"])
    secret_name, owned = secret_names(params)
    summary = dict(name=name, namespace=namespace, release=name, secret_name=secret_name)
    return dict(name=name, namespace=namespace, owned_secret=owned, summary=summary)


def _labels(values):
    return sorted((values or {}).get("scaleSetLabels") or [])


def scale_set_action(plan, current, current_values, version, recreate_on_label_change):
    """install | upgrade | recreate | none, and why, for the planned values against the installed release.

    ARC sends labels to GitHub only when a scale set is created: a label change is a recreate, refused (an
    AccelciError explaining why) unless ``recreate_on_label_change``.
    """
    action, reason = release_action(current, current_values, SCALE_SET_CHART, version, plan["values"])
    before, after = _labels(current_values), _labels(plan["values"])
    if not current or before == after:
        return action, reason
    if not recreate_on_label_change:
        raise AccelciError("Scale set %s/%s was created with labels %s and now asks for %s. ARC sends labels to "
                           "GitHub only when a scale set is created, so an upgrade would not change them. Set "
                           "recreate_on_label_change=true to uninstall and reinstall the scale set (jobs running on "
                           "it are cancelled; queued jobs wait for the new one), or keep the labels."
                           % (plan["namespace"], plan["name"], before or "[]", after))
    return "recreate", "labels %s -> %s" % (before, after)


def rendered_label_warning(plan, previous_values):
    """The warning for labels that changed since the last render (GitOps reinstalls nothing by itself), or None."""
    before = _labels(previous_values)
    if previous_values is None or before == _labels(plan["values"]):
        return None
    return ("Scale set %s was rendered before with labels %s; ARC sends labels to GitHub only when the scale set is "
            "created, so after this change is synced, delete the release once (the GitOps tool reinstalls it) for "
            "the new labels to take effect" % (plan["name"], before or "[]"))


def out_of_band_secret_note(plan):
    """Render mode without credentials: the Secret githubConfigSecret names must be created by other means."""
    return ("githubConfigSecret names Secret %s/%s: create it out of band with github_app_id, "
            "github_app_installation_id and github_app_private_key (or github_token)"
            % (plan["namespace"], plan["summary"]["secret_name"]))

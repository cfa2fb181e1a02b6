# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one home of ARC's defaults: pinned version, charts, release and namespace names, images.

Roles read them through the ``arc_settings`` filter; modules use them as argument defaults.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import InputError
from ansible_collections.accelci.runners.plugins.module_utils.arc.names import (
    SCALE_SET_NAME_PATTERN,
    validate_chart_version,
    validate_namespace,
    validate_release_name,
)

# The gha-runner-scale-set charts this collection release is tested with (controller and scale sets must match).
ARC_VERSION = "0.14.2"
CHART_REPOSITORY = "oci://ghcr.io/actions/actions-runner-controller-charts"
CONTROLLER_CHART = "gha-runner-scale-set-controller"
SCALE_SET_CHART = "gha-runner-scale-set"
CONTROLLER_RELEASE = "arc"
CONTROLLER_NAMESPACE = "arc-systems"
RUNNERS_NAMESPACE = "arc-runners"
# The Secret every scale set of an estate reads its GitHub credentials from (one per runners namespace).
GITHUB_SECRET_NAME = "accelci-github"
RUNNER_IMAGE = "ghcr.io/actions/actions-runner:latest"
DIND_IMAGE = "docker:dind"
GITOPS_TOOLS = ("flux", "argocd")
GITOPS = "flux"
# Kubernetes minor the rendered objects are validated against when the estate does not say.
KUBERNETES_VERSION = "1.33"

_SETTINGS_KEYS = ("version", "controller_release", "controller_namespace", "runners_namespace", "chart_repository",
                  "chart_dir", "gitops", "controller", "reinstall_scale_sets_on_upgrade")


def _check_settings(result):
    """The settings a role passes on unchecked, named as the estate writes them (accelci_arc.<key>)."""
    validate_chart_version("accelci_arc.version", result["version"])
    for key in ("controller_namespace", "runners_namespace"):
        validate_namespace("accelci_arc." + key, result[key])
    try:
        validate_release_name(result["controller_release"])
    except InputError as exc:
        raise InputError("accelci_arc.controller_release", exc.message)
    if not isinstance(result["controller"], dict):
        raise InputError("accelci_arc.controller", "must be a mapping of arc_controller options")


# The CustomResourceDefinitions the controller chart installs (one per ARC kind); teardown removes them last.
ARC_CRDS = ("autoscalingrunnersets.actions.github.com", "ephemeralrunnersets.actions.github.com",
            "ephemeralrunners.actions.github.com", "autoscalinglisteners.actions.github.com")


def arc_settings(settings=None):
    """The estate's ``accelci_arc`` with every default filled in, plus the chart references the releases use.

    Returns version, controller_release, controller_namespace, runners_namespace, chart_repository, chart_dir,
    gitops, controller (extra arc_controller options), reinstall_scale_sets_on_upgrade, and derived
    controller_chart_ref / scale_set_chart_ref (local charts when chart_dir is set) and
    controller_gitops_chart_ref / scale_set_gitops_chart_ref (always the OCI repository, for GitOps objects).
    It also carries defaults that are not accelci_arc keys, for roles that must not type them:
    github_secret_name (the estate's shared GitHub Secret), kubernetes_version (when the estate names none) and
    scale_set_name_pattern (the names ARC accepts, for checks before anything runs) and crds (the names of ARC's
    CustomResourceDefinitions, which teardown removes after the controller).
    Raises InputError naming ``accelci_arc.<key>`` for unknown keys, a version that is not a chart version, names
    Kubernetes or Helm would refuse, or a GitOps tool that is not supported.
    """
    if settings is not None and not isinstance(settings, dict):
        raise InputError("accelci_arc", "must be a mapping, got %s" % type(settings).__name__)
    settings = dict(settings or {})
    unknown = sorted(set(settings) - set(_SETTINGS_KEYS))
    if unknown:
        raise InputError("accelci_arc", "unknown keys %s; accepted: %s" % (", ".join(unknown), ", ".join(_SETTINGS_KEYS)))
    result = {
        "version": str(settings.get("version") or ARC_VERSION),
        "controller_release": settings.get("controller_release") or CONTROLLER_RELEASE,
        "controller_namespace": settings.get("controller_namespace") or CONTROLLER_NAMESPACE,
        "runners_namespace": settings.get("runners_namespace") or RUNNERS_NAMESPACE,
        "chart_repository": (settings.get("chart_repository") or CHART_REPOSITORY).rstrip("/"),
        "chart_dir": (settings.get("chart_dir") or "").rstrip("/"),
        "gitops": settings.get("gitops") or GITOPS,
        "controller": settings.get("controller") or {},
        "reinstall_scale_sets_on_upgrade": bool(settings.get("reinstall_scale_sets_on_upgrade", False)),
        "github_secret_name": GITHUB_SECRET_NAME,
        "kubernetes_version": KUBERNETES_VERSION,
        "scale_set_name_pattern": SCALE_SET_NAME_PATTERN,
        "crds": list(ARC_CRDS),
    }
    _check_settings(result)
    if result["gitops"] not in GITOPS_TOOLS:
        raise InputError("accelci_arc.gitops", "must be one of %s, got %r" % (", ".join(GITOPS_TOOLS), result["gitops"]))
    for chart, key in ((CONTROLLER_CHART, "controller"), (SCALE_SET_CHART, "scale_set")):
        oci = "%s/%s" % (result["chart_repository"], chart)
        result["%s_gitops_chart_ref" % key] = oci
        result["%s_chart_ref" % key] = "%s/%s" % (result["chart_dir"], chart) if result["chart_dir"] else oci
    return result

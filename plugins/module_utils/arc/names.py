# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The names of ARC objects: what ARC, Helm and Kubernetes accept, and how the names this collection derives are
formed (controller service account, hooks ConfigMap, the GitHub Secret a scale set owns). Pure; raises InputError."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import InputError

# The scale set name is the runs-on label and the AutoscalingRunnerSet name: ARC accepts at most 45 characters.
SCALE_SET_NAME_MAX = 45
# The same rule as one pattern, for roles that check names before anything runs (arc_settings exposes it).
SCALE_SET_NAME_PATTERN = r"^[a-z0-9]([-a-z0-9]{0,%d}[a-z0-9])?$" % (SCALE_SET_NAME_MAX - 2)
RELEASE_NAME_MAX = 53
NAMESPACE_MAX = 63
LABEL_MAX = 255
_NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_CONTROLLER_SA_BASE = "gha-rs-controller"
# Helm chart versions are SemVer 2 (the ARC charts: 0.14.2); a leading v is not how ARC publishes them.
_CHART_VERSION_RE = re.compile(r"^(0|[1-9][0-9]{0,5})\.(0|[1-9][0-9]{0,5})\.(0|[1-9][0-9]{0,5})"
                               r"(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$")


def validate_chart_version(field, version):
    """An ARC chart version (SemVer, e.g. 0.14.2); returns it as a string."""
    text = "" if version is None or isinstance(version, bool) else str(version).strip()
    if not _CHART_VERSION_RE.match(text):
        raise InputError(field, "%r is not a chart version; accepted: MAJOR.MINOR.PATCH such as 0.14.2 (the ARC "
                                "chart version, optionally with a -prerelease suffix)" % (version,))
    return text


def validate_scale_set_name(name):
    """The scale set name is the runs-on label, the Helm release and the AutoscalingRunnerSet name."""
    if not name:
        raise InputError("name", "is required (the runs-on: label of the scale set)")
    if len(name) > SCALE_SET_NAME_MAX:
        raise InputError("name", "%r is %d characters; ARC accepts at most %d (it is the runs-on: label and the "
                                 "AutoscalingRunnerSet name)" % (name, len(name), SCALE_SET_NAME_MAX))
    if not _NAME_RE.match(name):
        raise InputError("name", "%r must be lowercase letters, digits and '-', starting and ending with a letter "
                                 "or digit (it also names the Helm release and Kubernetes objects)" % name)
    return name


def validate_release_name(name):
    """A Helm release name (the controller's)."""
    if not _NAME_RE.match(name or "") or len(name) > RELEASE_NAME_MAX:
        raise InputError("name", "%r is not a Helm release name (lowercase letters, digits, '-', at most %d)"
                         % (name, RELEASE_NAME_MAX))
    return name


def validate_namespace(field, namespace):
    """A Kubernetes namespace name."""
    if not namespace or len(namespace) > NAMESPACE_MAX or not _NAME_RE.match(namespace):
        raise InputError(field, "%r is not a namespace name: lowercase letters, digits and '-', at most %d "
                                "characters" % (namespace, NAMESPACE_MAX))
    return namespace


def _label_problem(label, seen, name):
    """Why one extra label would be refused, or None."""
    if not isinstance(label, str):
        return "must be a string, got %r" % (label,)
    if not label.strip():
        return "is empty; each label must be a non-empty string of less than 256 characters"
    if len(label) > LABEL_MAX:
        return "is %d characters; each label must be a non-empty string of less than 256 characters" % len(label)
    if label != label.strip() or "," in label:
        return "%r has surrounding spaces or a comma; runs-on labels cannot contain either" % label
    if label in seen:
        return "%r is listed twice" % label
    if name and label == name:
        return "%r is the scale set name, which ARC always sends as a label; remove it" % label
    return None


def validate_labels(labels, name=None):
    """Extra scale set labels: the chart refuses empty labels and labels of 256 characters or more."""
    result = []
    for index, label in enumerate(labels or []):
        problem = _label_problem(label, result, name)
        if problem:
            raise InputError("labels[%d]" % index, problem)
        result.append(label)
    return result


def controller_service_account(release, service_account_name=None):
    """The controller's service account name as the chart computes it (release 'arc' -> 'arc-gha-rs-controller')."""
    if service_account_name:
        if service_account_name == "default":
            raise InputError("service_account_name", "cannot be 'default' (the chart refuses it)")
        return service_account_name
    full = release if _CONTROLLER_SA_BASE in release else "%s-%s" % (release, _CONTROLLER_SA_BASE)
    return full[:63].rstrip("-")


def controller_deployment_name(release):
    """The controller Deployment's name: the chart's fullname, which is also its default service account name."""
    return controller_service_account(release)


def hooks_configmap_name(name):
    """The ConfigMap holding a scale set's hook scripts."""
    return "%s-accelci-hooks" % name


def owned_secret_name(name):
    """The GitHub Secret a scale set writes when no other name is given (and the only one it ever deletes)."""
    return "%s-github-config" % name

# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What helm's answers mean, without running helm (pure, unit-tested from recorded outputs).

- ``release_action()``: the install / upgrade / none decision from ``helm list`` and ``helm get values``.
- ``values_delta()``: dotted paths whose values differ, for reports.
- ``chart_version_of()``: the chart version from helm list's ``chart`` column.
- ``mask_text()`` / ``mask_values()``: secrets replaced before anything is shown.
- ``parse_version()`` / ``check_version()``: the helm versions this collection supports.
- ``is_local_chart()``: a chart directory or tarball rather than a repository reference.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re

from ansible_collections.accelci.runners.plugins.module_utils.k8s.manifests import mask_text as mask_secret_text

# OCI charts are GA from helm 3.8; helm 4 changed flags this collection knows about (--wait=watcher, list --all).
MIN_HELM = (3, 8, 0)
MAX_HELM_MAJOR = 4
MASK = "********"


def parse_version(text):
    """'v3.14.2+g...' or 'v4.1.4' -> (3, 14, 2); ValueError when there is no version in the text."""
    match = re.search(r"v?(\d+)\.(\d+)\.(\d+)", text or "")
    if not match:
        raise ValueError("cannot read a helm version from %r" % (text,))
    return tuple(int(part) for part in match.groups())


def check_version(version):
    """Accept helm 3.8+ and helm 4.x; ValueError naming the version otherwise."""
    if version < MIN_HELM or version[0] > MAX_HELM_MAJOR:
        raise ValueError("helm %s is not supported: this collection needs helm 3.8 or later (OCI charts) or helm 4.x"
                         % ".".join(str(part) for part in version))
    return version


def is_local_chart(chart_ref):
    """A directory or a .tgz path: helm ignores --version for those, and air-gapped users pass them."""
    return bool(chart_ref) and (os.path.isdir(chart_ref) or chart_ref.endswith(".tgz") or chart_ref.startswith("/")
                                or chart_ref.startswith("./"))


def mask_text(text, secrets):
    """Replace every secret (each line of a multi-line secret, and its repr() form) in text with a mask."""
    return mask_secret_text(text, [secret for secret in (secrets or ()) if secret], mask=MASK)


def mask_values(value, secrets):
    """A deep copy of a values structure with secret strings masked (for diff and results)."""
    if isinstance(value, dict):
        return dict((key, mask_values(item, secrets)) for key, item in value.items())
    if isinstance(value, list):
        return [mask_values(item, secrets) for item in value]
    if isinstance(value, str):
        return mask_text(value, secrets)
    return value


def chart_version_of(chart_field, chart_name):
    """helm list's 'chart' column is NAME-VERSION: return VERSION for the given chart name, else None."""
    if not chart_field:
        return None
    prefix = chart_name + "-"
    if chart_field.startswith(prefix):
        return chart_field[len(prefix):]
    match = re.match(r"^(.*)-(v?\d+\.\d+\.\d+.*)$", chart_field)
    return match.group(2) if match else None


def _normalize_values(values):
    """Values as helm returns them from JSON: empty is {}, keys sorted by a json round-trip."""
    if not values:
        return {}
    return json.loads(json.dumps(values, sort_keys=True))


def release_action(current, current_values, chart_name, chart_version, desired_values):
    """Decide what a helm upgrade --install would do.

    current: the release's entry from ``helm list -o json`` (or None); current_values: ``helm get values -o json``
    (user-supplied values). Returns (action, reason) with action in install | upgrade | none.
    """
    if not current:
        return "install", "release not found"
    status = (current.get("status") or "").lower()
    if status != "deployed":
        return "upgrade", "release status is %s" % (status or "unknown")
    installed = chart_version_of(current.get("chart"), chart_name)
    if chart_version and installed != str(chart_version):
        return "upgrade", "chart version %s -> %s" % (installed, chart_version)
    if _normalize_values(current_values) != _normalize_values(desired_values):
        return "upgrade", "values differ"
    return "none", "release is up to date"


def rollback_target(current):
    """The release entry to roll back to when an upgrade fails: only a deployed release has a revision to keep."""
    return current if (current or {}).get("status") == "deployed" else None


def values_delta(before, after, path=""):
    """Dotted paths whose values differ between two values trees (for reporting, not deciding)."""
    changes = []
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after)):
            sub = "%s.%s" % (path, key) if path else str(key)
            if key not in before or key not in after:
                changes.append(sub)
            else:
                changes.extend(values_delta(before[key], after[key], sub))
        return changes
    if before != after:
        changes.append(path or ".")
    return changes

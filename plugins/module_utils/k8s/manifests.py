# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Kubernetes manifests as data (pure): where render mode writes one, how Secrets are protected, and how a live
object compares with what we apply.

- ``render_path``: ``<render_dir>/<render_subdir>/<namespace or _cluster>/<kind>-<name>.yaml``.
- ``is_secret``, ``secret_values`` (for no_log_values), ``mask_secret``, ``secret_as_data``.
- ``subset_differences``: the paths where a live object differs from the fields we set.
- ``managed_field_removals``: fields our field manager applied before and no longer sets (server-side apply
  removes them).
- ``project_onto``: the part of a live object covering the fields we set (a diff's 'before').
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import copy
import json
import os

from ansible.module_utils.common.text.converters import to_bytes, to_text

SECRET_MASK = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
# Where render mode puts cluster-scoped objects (Namespaces, PersistentVolumes), shared by every role.
CLUSTER_DIR = "_cluster"


def render_path(render_dir, render_subdir, manifest):
    """Where render mode writes one object."""
    metadata = manifest.get("metadata") or {}
    folder = metadata.get("namespace") or CLUSTER_DIR
    filename = "%s-%s.yaml" % (manifest["kind"].lower(), metadata["name"])
    parts = [render_dir]
    if render_subdir:
        parts.append(render_subdir)
    parts += [folder, filename]
    return os.path.join(*parts)


def is_secret(manifest, secret=False):
    """True for a Secret or anything the caller marks secret."""
    return bool(secret) or (manifest or {}).get("kind") == "Secret"


def secret_values(manifest, public_keys=()):
    """Every secret value in a Secret-like manifest, in clear and base64 forms (for no_log_values).

    ``public_keys`` are data keys holding identifiers rather than secrets (a GitHub App ID): they stay masked in
    diffs but are not added to no_log_values, where a short number would mask unrelated output.
    """
    values = set()
    for key in ("data", "stringData"):
        for data_key, value in ((manifest or {}).get(key) or {}).items():
            if value is None or data_key in public_keys:
                continue
            text = to_text(value)
            values.add(text)
            if key == "data":
                try:
                    values.add(to_text(base64.b64decode(text, validate=True)))
                except (ValueError, TypeError, UnicodeDecodeError):
                    pass
            else:
                values.add(to_text(base64.b64encode(to_bytes(text))))
    return set(v for v in values if v)


def mask_secret(manifest):
    """A copy with every data/stringData value replaced by a mask (keys kept)."""
    if manifest is None:
        return None
    masked = copy.deepcopy(manifest)
    for key in ("data", "stringData"):
        if isinstance(masked.get(key), dict):
            masked[key] = dict((k, SECRET_MASK) for k in masked[key])
    return masked


def secret_as_data(manifest):
    """stringData folded into data (base64), as the API server stores it, so a live Secret compares equal."""
    result = copy.deepcopy(manifest)
    string_data = result.pop("stringData", None) or {}
    if string_data:
        data = dict(result.get("data") or {})
        for key, value in string_data.items():
            data[key] = to_text(base64.b64encode(to_bytes(value)))
        result["data"] = data
    return result


def _is_empty(value):
    return value is None or value == {} or value == [] or value == ""


def subset_differences(desired, live, path=""):
    """Paths where the live object differs from what we set; fields we do not set are ignored.

    Lists are compared item by item (same length required); empty values we set match absent live values.
    """
    if isinstance(desired, dict):
        if not isinstance(live, dict):
            return [] if (_is_empty(desired) and live is None) else [path or "."]
        found = []
        for key, value in desired.items():
            sub = "%s.%s" % (path, key) if path else key
            if key not in live:
                if not _is_empty(value):
                    found.append(sub)
                continue
            found.extend(subset_differences(value, live[key], sub))
        return found
    if isinstance(desired, list):
        if not isinstance(live, list):
            return [] if (desired == [] and live is None) else [path or "."]
        if len(desired) != len(live):
            return [path]
        found = []
        for index, (want, have) in enumerate(zip(desired, live)):
            found.extend(subset_differences(want, have, "%s[%d]" % (path, index)))
        return found
    if desired != live and not (desired == "" and live is None):
        return [path or "."]
    return []


def _list_item_matches(item, key_json):
    """A managedFields 'k:{...}' key names a list item by its merge-key fields."""
    if not isinstance(item, dict):
        return False
    return all(item.get(k) == v for k, v in key_json.items())


def managed_field_removals(fields_v1, desired, path=""):
    """Fields our field manager applied before (managedFields fieldsV1) that the desired manifest no longer sets.

    Server-side apply removes those, so they count as a change.
    """
    removals = []
    if not isinstance(fields_v1, dict):
        return removals
    for key, sub in fields_v1.items():
        if key == ".":
            continue
        if key.startswith("f:"):
            name = key[2:]
            child_path = "%s.%s" % (path, name) if path else name
            if not isinstance(desired, dict) or name not in desired:
                children = [k for k in (sub or {}) if k != "."]
                # Name the leaves we owned, not just the first missing parent.
                removals.extend(managed_field_removals(sub, {}, child_path) if children else [child_path])
            elif sub:
                removals.extend(managed_field_removals(sub, desired[name], child_path))
        elif key.startswith("k:"):
            try:
                key_json = json.loads(key[2:])
            except ValueError:
                continue
            items = desired if isinstance(desired, list) else []
            match = next((item for item in items if _list_item_matches(item, key_json)), None)
            child_path = "%s[%s]" % (path, key[2:])
            if match is None:
                removals.append(child_path)
            elif sub:
                removals.extend(managed_field_removals(sub, match, child_path))
        elif key.startswith("v:"):
            try:
                value = json.loads(key[2:])
            except ValueError:
                continue
            if not isinstance(desired, list) or value not in desired:
                removals.append("%s[%s]" % (path, key[2:]))
        # 'i:' (index) keys are not produced for apply; ignore anything else.
    return removals


def project_onto(live, desired):
    """The part of a live object that covers the fields we set (for diff 'before')."""
    if isinstance(desired, dict) and isinstance(live, dict):
        return dict((k, project_onto(live[k], v)) for k, v in desired.items() if k in live)
    if isinstance(desired, list) and isinstance(live, list):
        return [project_onto(have, desired[i]) if i < len(desired) else have for i, have in enumerate(live)]
    return live

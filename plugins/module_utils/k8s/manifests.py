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

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import InputError

SECRET_MASK = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
# Where render mode puts cluster-scoped objects (Namespaces, PersistentVolumes), shared by every role.
CLUSTER_DIR = "_cluster"


def check_render_subdir(render_subdir, field="render_subdir"):
    """A subdirectory of the render directory, as given: relative, without '..', '.', empty parts, backslashes or
    NUL, so nothing is ever written outside the render directory. Raises InputError naming ``field``."""
    subdir = "" if render_subdir is None else render_subdir
    if not isinstance(subdir, str):
        raise InputError(field, "must be a relative directory name, got %r" % (subdir,))
    if not subdir:
        return subdir
    parts = subdir.split("/")
    bad = (subdir.startswith("/") or "\\" in subdir or "\x00" in subdir
           or any(part in ("", ".", "..") for part in parts))
    if bad:
        raise InputError(field, "%r is not accepted: it must stay inside the render directory; accepted: a relative "
                                "path of names separated by '/', without '..', '.', empty parts, backslashes or a "
                                "leading '/' (for example storage or arc)" % (subdir,))
    return subdir


def render_path(render_dir, render_subdir, manifest):
    """Where render mode writes one object. ``render_subdir`` is checked here, and so are the names the path is made
    of (validation refuses such names earlier, with a fuller message), so no path leaves ``render_dir``."""
    check_render_subdir(render_subdir)
    metadata = manifest.get("metadata") or {}
    folder = metadata.get("namespace") or CLUSTER_DIR
    filename = "%s-%s.yaml" % (manifest["kind"].lower(), metadata["name"])
    for field, part in (("metadata.namespace", folder), ("metadata.name", filename)):
        if "/" in part or "\\" in part or "\x00" in part or part in (".", ".."):
            raise InputError(field, "%r cannot name a file inside the render directory" % (part,))
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
        section = (manifest or {}).get(key)
        if section is None:
            continue
        # A malformed Secret (data: a string or a list) is refused later; its values are still secret.
        entries = section.items() if isinstance(section, dict) else [(None, section)]
        for data_key, value in entries:
            if value is None or data_key in public_keys:
                continue
            if isinstance(value, (dict, list)):
                values.update(secret_values({"stringData": _flatten(value)}))
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


def _flatten(value, prefix="v"):
    """Every scalar inside a nested value, as a flat {path: scalar} mapping (for secret_values)."""
    items = value.items() if isinstance(value, dict) else enumerate(value)
    flat = {}
    for key, item in items:
        path = "%s.%s" % (prefix, key)
        if isinstance(item, (dict, list)):
            flat.update(_flatten(item, path))
        elif item is not None:
            flat[path] = item
    return flat


def mask_text(text, secrets, mask=SECRET_MASK):
    """``text`` with every secret, each line of a multi-line secret and its repr() form replaced by ``mask``."""
    if not text or not secrets:
        return text
    pieces = set()
    for secret in secrets:
        secret = to_text(secret)
        if secret:
            pieces.add(secret)
            pieces.update(line.strip() for line in secret.splitlines() if len(line.strip()) >= 4)
            # Messages quote values with repr(): newlines appear escaped.
            pieces.add(secret.replace("\n", "\\n"))
    for piece in sorted(pieces, key=len, reverse=True):
        text = text.replace(piece, mask)
    return text


def mask_secret(manifest):
    """A copy with every data/stringData value replaced by a mask (keys kept)."""
    if manifest is None:
        return None
    masked = copy.deepcopy(manifest)
    for key in ("data", "stringData"):
        if isinstance(masked.get(key), dict):
            masked[key] = dict((k, SECRET_MASK) for k in masked[key])
        elif masked.get(key) is not None:
            masked[key] = SECRET_MASK
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

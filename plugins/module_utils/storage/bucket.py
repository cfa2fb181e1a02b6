# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The model bucket, pure: input checks, the desired state, the diff against a live bucket, its IAM bindings, and
the runners' workload identity principal.

``bucket_input_errors(params)`` lists what is wrong with the gcs_bucket options before any API call, as
``(option, message)`` pairs. ``desired_bucket(params)`` and ``bucket_view(bucket)`` give comparable dicts;
``bucket_changes`` lists the fields that differ; ``desired_bindings`` computes the IAM policy bindings (runner
principals read-only, stagers write). ``storage.bucket_manager`` does the I/O.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import ipaddress
import json
import re

from ansible_collections.accelci.runners.plugins.module_utils.gke.cluster import workload_pool

READER_ROLE = "roles/storage.objectViewer"
WRITER_ROLE = "roles/storage.objectUser"
STORAGE_CLASSES = ("STANDARD", "NEARLINE", "COLDLINE", "ARCHIVE")
PUBLIC_ACCESS_PREVENTION = ("enforced", "inherited")
MULTI_REGIONS = ("US", "EU", "ASIA")
DUAL_REGIONS = ("ASIA1", "EUR4", "EUR5", "EUR7", "EUR8", "NAM4")
REGIONS = (
    "AFRICA-SOUTH1", "ASIA-EAST1", "ASIA-EAST2", "ASIA-NORTHEAST1", "ASIA-NORTHEAST2", "ASIA-NORTHEAST3",
    "ASIA-SOUTH1", "ASIA-SOUTH2", "ASIA-SOUTHEAST1", "ASIA-SOUTHEAST2", "AUSTRALIA-SOUTHEAST1",
    "AUSTRALIA-SOUTHEAST2", "EUROPE-CENTRAL2", "EUROPE-NORTH1", "EUROPE-NORTH2", "EUROPE-SOUTHWEST1", "EUROPE-WEST1",
    "EUROPE-WEST2", "EUROPE-WEST3", "EUROPE-WEST4", "EUROPE-WEST6", "EUROPE-WEST8", "EUROPE-WEST9",
    "EUROPE-WEST10", "EUROPE-WEST12", "ME-CENTRAL1", "ME-CENTRAL2", "ME-WEST1", "NORTHAMERICA-NORTHEAST1",
    "NORTHAMERICA-NORTHEAST2", "NORTHAMERICA-SOUTH1", "SOUTHAMERICA-EAST1", "SOUTHAMERICA-WEST1", "US-CENTRAL1",
    "US-EAST1", "US-EAST4", "US-EAST5", "US-SOUTH1", "US-WEST1", "US-WEST2", "US-WEST3", "US-WEST4",
)
LOCATIONS = MULTI_REGIONS + DUAL_REGIONS + REGIONS
LIFECYCLE_ACTIONS = ("Delete", "SetStorageClass", "AbortIncompleteMultipartUpload")
LIFECYCLE_CONDITIONS = (
    "age", "createdBefore", "customTimeBefore", "daysSinceCustomTime", "daysSinceNoncurrentTime", "isLive",
    "matchesPrefix", "matchesSuffix", "matchesStorageClass", "noncurrentTimeBefore", "numNewerVersions",
)
# What fake-gcs-server does not store: on create it keeps the name and versioning only (location is always
# US-CENTRAL1, storage class STANDARD), PATCH changes versioning only, and it has no IAM endpoints.
FAKE_GCS_UNSUPPORTED = (
    "location", "storage_class", "uniform_bucket_level_access", "public_access_prevention", "hierarchical_namespace",
    "soft_delete_retention_seconds", "lifecycle_rules", "labels", "iam_bindings",
)
PUBLIC_MEMBERS = ("allUsers", "allAuthenticatedUsers")

BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*[a-z0-9]$")
LABEL_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
LABEL_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")
MEMBER = re.compile(
    r"^(?:principal://iam\.googleapis\.com/projects/\d+/locations/global/workloadIdentityPools/[a-z0-9.-]+/subject/\S+"
    r"|principalSet://iam\.googleapis\.com/\S+"
    r"|(?:serviceAccount|user|group):[^@\s]+@[^@\s]+"
    r"|domain:[a-z0-9.-]+"
    r"|(?:projectOwner|projectEditor|projectViewer):[a-z][-a-z0-9]{4,28}[a-z0-9])$"
)
ROLE = re.compile(r"^(?:roles/[A-Za-z0-9_.]+|projects/[a-z][-a-z0-9]{4,28}[a-z0-9]/roles/[A-Za-z0-9_.]+"
                  r"|organizations/\d+/roles/[A-Za-z0-9_.]+)$")
_LIFECYCLE_OPTIONS = ("noncurrent_version_retention_days", "abort_incomplete_uploads_days", "lifecycle_rules")


def workload_identity_principal(project_number, project_id, namespace, service_account):
    """The IAM principal of a Kubernetes ServiceAccount under GKE workload identity federation.

    The one home of this format: the storage role reaches it through the ``workload_identity_principal`` filter.
    """
    return ("principal://iam.googleapis.com/projects/%s/locations/global/workloadIdentityPools/%s"
            "/subject/ns/%s/sa/%s" % (project_number, workload_pool(project_id), namespace, service_account))


def _bucket_name_errors(name):
    """Why a bucket name would be refused (Cloud Storage naming rules), or an empty list."""
    if not name:
        return ["name is required"]
    errors = []
    components = name.split(".")
    if len(name) < 3 or len(name) > 222 or (len(components) == 1 and len(name) > 63):
        errors.append("name %r must be 3-63 characters (up to 222 with dots)" % name)
    if not BUCKET_NAME.match(name):
        errors.append("name %r may contain only lowercase letters, digits, '-', '_' and '.', and must start and end "
                      "with a letter or digit" % name)
    if any(len(part) > 63 or not part for part in components):
        errors.append("name %r: each dot-separated part must be 1-63 characters" % name)
    if name.startswith("goog") or "google" in name or "g00gle" in name:
        errors.append("name %r may not start with 'goog' or contain 'google'" % name)
    try:
        ipaddress.ip_address(name)
        errors.append("name %r may not be an IP address" % name)
    except ValueError:
        pass
    return errors


def object_prefix_errors(prefix):
    """Why an object name or prefix (``models/team-a``) would be refused, or an empty list.

    Cloud Storage takes almost any name, but a prefix of this collection is also a path: gcsfuse mounts it
    (``only-dir``) and a filesystem mirror writes under it. So '.' and '..' segments, empty segments, a leading '/',
    backslashes, control characters (NUL, CR, LF) and more than 1024 bytes are refused: nothing may resolve
    outside the prefix it names.
    """
    if prefix is None or prefix == "":
        return []
    if not isinstance(prefix, str):
        return ["%r is not a prefix; accepted: names separated by '/'" % (prefix,)]
    errors = []
    segments = prefix.strip("/").split("/") if prefix.strip("/") else [""]
    if prefix.startswith("/") or any(segment in ("", ".", "..") for segment in segments):
        errors.append("%r is not accepted: accepted: names separated by single '/', none of them '.' or '..', not "
                      "starting with '/'" % (prefix,))
    if "\\" in prefix or any(ord(char) < 32 or ord(char) == 127 for char in prefix):
        errors.append("%r may not hold backslashes or control characters (NUL, CR, LF)" % (prefix,))
    if len(prefix.encode("utf-8")) > 1024:
        errors.append("is %d bytes; Cloud Storage object names hold at most 1024" % len(prefix.encode("utf-8")))
    return errors


def bucket_location_errors(location):
    """Why a bucket location would be refused (a region, dual-region or multi-region), or an empty list."""
    if location and str(location).upper() in LOCATIONS:
        return []
    return ["%r is not a Cloud Storage location: use a region (US-CENTRAL1, EUROPE-WEST4, ...), a dual-region (%s) or "
            "a multi-region (%s); a zone is not a bucket location"
            % (location, ", ".join(DUAL_REGIONS), ", ".join(MULTI_REGIONS))]


def _setting_errors(params):
    location = params.get("location")
    if location:
        for message in bucket_location_errors(location):
            yield "location", "location " + message
    storage_class = params.get("storage_class")
    if storage_class and storage_class.upper() not in STORAGE_CLASSES:
        yield "storage_class", "storage_class %r must be one of %s" % (storage_class, ", ".join(STORAGE_CLASSES))
    if params.get("hierarchical_namespace") and params.get("uniform_bucket_level_access") is False:
        yield "hierarchical_namespace", "hierarchical_namespace needs uniform_bucket_level_access=true"
    days = params.get("soft_delete_retention_days")
    if days is not None and days != 0 and not 7 <= days <= 90:
        yield "soft_delete_retention_days", "soft_delete_retention_days must be 0 (off) or 7-90, got %s" % days
    for option in ("noncurrent_version_retention_days", "abort_incomplete_uploads_days"):
        value = params.get(option)
        if value is not None and value < 1:
            yield option, "%s must be at least 1 (leave it unset for no rule), got %s" % (option, value)
    for index, rule in enumerate(params.get("lifecycle_rules") or []):
        for problem in _lifecycle_rule_errors(rule):
            yield "lifecycle_rules", "lifecycle_rules[%d]: %s" % (index, problem)
    for key, value in (params.get("labels") or {}).items():
        if not LABEL_KEY.match(str(key)):
            yield "labels", ("labels key %r must start with a lowercase letter and hold at most 63 lowercase "
                             "letters, digits, '_' or '-'" % (key,))
        if not LABEL_VALUE.match(str(value)):
            yield "labels", "labels[%s] value %r may hold at most 63 lowercase letters, digits, '_' or '-'" % (key, value)


def _iam_errors(params):
    readers = params.get("readers") or []
    writers = params.get("writers") or []
    for option, members in (("readers", readers), ("writers", writers)):
        for member in members:
            if member in PUBLIC_MEMBERS:
                yield option, "%s: %s would make the bucket public; public access prevention forbids it" % (option,
                                                                                                            member)
            elif not MEMBER.match(member):
                yield option, ("%s: %r is not an IAM principal (principal://..., principalSet://..., "
                               "serviceAccount:EMAIL, user:EMAIL, group:EMAIL or domain:DOMAIN)" % (option, member))
    both = sorted(set(readers) & set(writers))
    if both:
        yield "writers", "%s listed in both readers and writers: runner principals must be read-only" % ", ".join(both)
    for option in ("reader_role", "writer_role"):
        if params.get(option) and not ROLE.match(params[option]):
            yield option, ("%s %r is not an IAM role name (roles/..., projects/P/roles/... or "
                           "organizations/N/roles/...)" % (option, params[option]))
    if params.get("reader_role") and params.get("reader_role") == params.get("writer_role"):
        yield "writer_role", "reader_role and writer_role must differ"


def bucket_input_errors(params):
    """Everything wrong with the gcs_bucket options, as (option, message) pairs; each message names the option and
    what is accepted. Empty when the options are fine."""
    errors = [("name", message) for message in _bucket_name_errors(params.get("name"))]
    if params.get("state", "present") == "absent":
        return errors
    return errors + list(_setting_errors(params)) + list(_iam_errors(params))


def _lifecycle_rule_errors(rule):
    """Problems with one raw lifecycle rule ({action: {type, storageClass?}, condition: {...}})."""
    if not isinstance(rule, dict) or not isinstance(rule.get("action"), dict) or not isinstance(
            rule.get("condition"), dict):
        return ["a rule is {action: {type: ...}, condition: {...}}"]
    errors = []
    action = rule["action"].get("type")
    if action not in LIFECYCLE_ACTIONS:
        errors.append("action.type %r must be one of %s" % (action, ", ".join(LIFECYCLE_ACTIONS)))
    if action == "SetStorageClass" and str(rule["action"].get("storageClass", "")).upper() not in STORAGE_CLASSES:
        errors.append("SetStorageClass needs action.storageClass, one of %s" % ", ".join(STORAGE_CLASSES))
    unknown = sorted(set(rule["condition"]) - set(LIFECYCLE_CONDITIONS))
    if unknown:
        errors.append("unknown condition %s (known: %s)" % (", ".join(unknown), ", ".join(LIFECYCLE_CONDITIONS)))
    if not rule["condition"]:
        errors.append("condition must not be empty (it would match every object)")
    return errors


def _lifecycle_rules(params):
    """The bucket's whole lifecycle rule list, or None when no lifecycle option is given (left as it is)."""
    if all(params.get(option) is None for option in _LIFECYCLE_OPTIONS):
        return None
    rules = []
    if params.get("abort_incomplete_uploads_days"):
        rules.append({"action": {"type": "AbortIncompleteMultipartUpload"},
                      "condition": {"age": params["abort_incomplete_uploads_days"]}})
    if params.get("noncurrent_version_retention_days"):
        rules.append({"action": {"type": "Delete"},
                      "condition": {"daysSinceNoncurrentTime": params["noncurrent_version_retention_days"],
                                    "isLive": False}})
    rules.extend(copy.deepcopy(params.get("lifecycle_rules") or []))
    return [_normalize_rule(rule) for rule in rules]


def _normalize_rule(rule):
    """A lifecycle rule in the form GCS returns it (ints for counts, upper-case storage classes)."""
    rule = copy.deepcopy(dict(rule))
    action = dict(rule.get("action") or {})
    if "storageClass" in action:
        action["storageClass"] = str(action["storageClass"]).upper()
    condition = dict(rule.get("condition") or {})
    for key in ("age", "daysSinceCustomTime", "daysSinceNoncurrentTime", "numNewerVersions"):
        if key in condition:
            condition[key] = int(condition[key])
    if "matchesStorageClass" in condition:
        condition["matchesStorageClass"] = sorted(str(c).upper() for c in condition["matchesStorageClass"])
    return {"action": action, "condition": condition}


def _rules_key(rules):
    return json.dumps(rules, sort_keys=True) if rules is not None else None


def desired_bucket(params):
    """What the options ask for, as a bucket_view-shaped dict; None values mean 'leave as it is'."""
    days = params.get("soft_delete_retention_days")
    return {
        "name": params["name"],
        "location": params["location"].upper() if params.get("location") else None,
        "storage_class": params["storage_class"].upper() if params.get("storage_class") else None,
        "uniform_bucket_level_access": params.get("uniform_bucket_level_access"),
        "public_access_prevention": params.get("public_access_prevention"),
        "hierarchical_namespace": params.get("hierarchical_namespace"),
        "versioning": params.get("versioning"),
        "soft_delete_retention_seconds": days * 86400 if days is not None else None,
        "lifecycle_rules": _lifecycle_rules(params),
        "labels": dict(params["labels"]) if params.get("labels") is not None else None,
    }


def bucket_view(bucket):
    """A google.cloud.storage Bucket as a plain dict of the fields gcs_bucket manages."""
    soft_delete = bucket.soft_delete_policy
    retention = soft_delete.retention_duration_seconds if soft_delete is not None else None
    return {
        "name": bucket.name,
        "location": (bucket.location or "").upper() or None,
        "storage_class": bucket.storage_class,
        "uniform_bucket_level_access": bool(bucket.iam_configuration.uniform_bucket_level_access_enabled),
        "public_access_prevention": bucket.iam_configuration.public_access_prevention,
        "hierarchical_namespace": bool(bucket.hierarchical_namespace_enabled),
        "versioning": bool(bucket.versioning_enabled),
        "soft_delete_retention_seconds": int(retention) if retention is not None else None,
        "lifecycle_rules": [_normalize_rule(rule) for rule in bucket.lifecycle_rules],
        "labels": dict(bucket.labels or {}),
    }


def bucket_changes(desired, current, purge_labels=False, skip=()):
    """Fields whose desired value differs from the live one (None in desired = not managed)."""
    changes = []
    for field, want in desired.items():
        if field == "name" or want is None or field in skip:
            continue
        have = current.get(field)
        if field == "labels":
            if purge_labels:
                if want != have:
                    changes.append(field)
            elif any((have or {}).get(k) != v for k, v in want.items()):
                changes.append(field)
        elif field == "lifecycle_rules":
            if _rules_key(want) != _rules_key(have):
                changes.append(field)
        elif want != have:
            changes.append(field)
    return changes


def create_time_conflicts(desired, current):
    """(option, message) for settings a live bucket cannot change, which the options ask to change."""
    conflicts = []
    if desired["location"] and desired["location"] != current["location"]:
        conflicts.append(("location", "Bucket %s is in %s; a bucket's location cannot change (asked for %s). Create "
                                      "a new bucket and copy the models, or set location to %s."
                          % (desired["name"], current["location"], desired["location"], current["location"])))
    wanted = desired["hierarchical_namespace"]
    if wanted is not None and wanted != current["hierarchical_namespace"]:
        conflicts.append(("hierarchical_namespace", "Bucket %s has hierarchical namespace %s; it can only be chosen "
                                                    "when the bucket is created."
                          % (desired["name"], "on" if current["hierarchical_namespace"] else "off")))
    return conflicts


def merged_labels(want, have, purge):
    """Labels to send: ours over theirs, or exactly ours when purging."""
    if purge:
        return dict(want)
    merged = dict(have or {})
    merged.update(want)
    return merged


def bindings_view(bindings):
    """{role: sorted members} for unconditional bindings, plus conditional ones listed apart."""
    plain = {}
    conditional = []
    for binding in bindings or []:
        members = sorted(binding.get("members") or [])
        if binding.get("condition"):
            conditional.append({"role": binding["role"], "members": members, "condition": binding["condition"]})
            continue
        plain.setdefault(binding["role"], set()).update(members)
    view = dict((role, sorted(members)) for role, members in sorted(plain.items()) if members)
    if conditional:
        view["_conditional"] = conditional
    return view


def _clean_bindings(bindings):
    cleaned = []
    for binding in bindings:
        if not binding["members"]:
            continue
        entry = {"role": binding["role"], "members": sorted(binding["members"])}
        if binding["condition"]:
            entry["condition"] = binding["condition"]
        cleaned.append(entry)
    return cleaned


def desired_bindings(current, readers, writers, reader_role=READER_ROLE, writer_role=WRITER_ROLE, exclusive=False):
    """The policy bindings to set: readers in reader_role, writers in writer_role, readers never in writer_role.

    With ``exclusive`` the two roles hold exactly the given members; otherwise members others added stay.
    Bindings with a condition and other roles are kept as they are.
    """
    result = []
    seen = set()
    readers, writers = set(readers or []), set(writers or [])
    for binding in current or []:
        binding = {"role": binding["role"], "members": set(binding.get("members") or []),
                   "condition": binding.get("condition")}
        if not binding["condition"] and binding["role"] in (reader_role, writer_role) and binding["role"] not in seen:
            seen.add(binding["role"])
            wanted = readers if binding["role"] == reader_role else writers
            binding["members"] = set(wanted) if exclusive else binding["members"] | wanted
            if binding["role"] == writer_role:
                binding["members"] -= readers
        elif not binding["condition"] and binding["role"] in seen:
            # A second unconditional binding of a managed role: fold it into the first.
            for earlier in result:
                if earlier["role"] == binding["role"] and not earlier["condition"] and not exclusive:
                    earlier["members"] |= binding["members"] - (readers if binding["role"] == writer_role else set())
            continue
        result.append(binding)
    for role, wanted in ((reader_role, readers), (writer_role, writers)):
        if role not in seen and wanted:
            result.append({"role": role, "members": set(wanted), "condition": None})
    return _clean_bindings(result)

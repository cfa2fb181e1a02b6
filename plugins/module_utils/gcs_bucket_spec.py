# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The model bucket: input checks, the desired state, the diff against a live bucket, and its IAM bindings.

``bucket_spec_errors(params)`` lists what is wrong with the module's options before any API call.
``desired_bucket(params)`` and ``bucket_view(bucket)`` give comparable dicts; ``bucket_changes`` lists the fields
that differ; ``desired_bindings`` computes the IAM policy bindings (runner principals read-only, stagers write).
``GcsBucketManager`` reads the bucket and its policy, and creates, patches or deletes only outside check mode.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import ipaddress
import json
import re

try:
    from google.api_core import exceptions as gexc

    HAS_GOOGLE_API_CORE = True
except ImportError:
    HAS_GOOGLE_API_CORE = False

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
EMULATOR_UNSUPPORTED = (
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


def workload_identity_principal(project_number, project_id, namespace, service_account):
    """The IAM principal of a Kubernetes ServiceAccount under GKE workload identity federation."""
    return ("principal://iam.googleapis.com/projects/%s/locations/global/workloadIdentityPools/%s.svc.id.goog"
            "/subject/ns/%s/sa/%s" % (project_number, project_id, namespace, service_account))


def bucket_name_errors(name):
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


def bucket_spec_errors(params):
    """Everything wrong with the options, each naming the option and what is accepted (before any API call)."""
    errors = bucket_name_errors(params.get("name"))
    if params.get("state", "present") == "absent":
        return errors
    location = params.get("location")
    if location and location.upper() not in LOCATIONS:
        errors.append("location %r is not a Cloud Storage location: use a region (US-CENTRAL1, EUROPE-WEST4, ...), "
                      "a dual-region (%s) or a multi-region (%s)"
                      % (location, ", ".join(DUAL_REGIONS), ", ".join(MULTI_REGIONS)))
    storage_class = params.get("storage_class")
    if storage_class and storage_class.upper() not in STORAGE_CLASSES:
        errors.append("storage_class %r must be one of %s" % (storage_class, ", ".join(STORAGE_CLASSES)))
    if params.get("hierarchical_namespace") and params.get("uniform_bucket_level_access") is False:
        errors.append("hierarchical_namespace needs uniform_bucket_level_access=true")
    days = params.get("soft_delete_retention_days")
    if days is not None and days != 0 and not 7 <= days <= 90:
        errors.append("soft_delete_retention_days must be 0 (off) or 7-90, got %s" % days)
    for option in ("noncurrent_version_retention_days", "abort_incomplete_uploads_days"):
        value = params.get(option)
        if value is not None and value < 1:
            errors.append("%s must be at least 1 (leave it unset for no rule), got %s" % (option, value))
    for index, rule in enumerate(params.get("lifecycle_rules") or []):
        errors.extend("lifecycle_rules[%d]: %s" % (index, problem) for problem in lifecycle_rule_errors(rule))
    for key, value in (params.get("labels") or {}).items():
        if not LABEL_KEY.match(str(key)):
            errors.append("labels key %r must start with a lowercase letter and hold at most 63 lowercase letters, "
                          "digits, '_' or '-'" % (key,))
        if not LABEL_VALUE.match(str(value)):
            errors.append("labels[%s] value %r may hold at most 63 lowercase letters, digits, '_' or '-'"
                          % (key, value))
    readers = params.get("readers") or []
    writers = params.get("writers") or []
    for option, members in (("readers", readers), ("writers", writers)):
        for member in members:
            if member in PUBLIC_MEMBERS:
                errors.append("%s: %s would make the bucket public; public access prevention forbids it"
                              % (option, member))
            elif not MEMBER.match(member):
                errors.append("%s: %r is not an IAM principal (principal://..., principalSet://..., "
                              "serviceAccount:EMAIL, user:EMAIL, group:EMAIL or domain:DOMAIN)" % (option, member))
    both = sorted(set(readers) & set(writers))
    if both:
        errors.append("%s listed in both readers and writers: runner principals must be read-only"
                      % ", ".join(both))
    for option in ("reader_role", "writer_role"):
        if params.get(option) and not ROLE.match(params[option]):
            errors.append("%s %r is not an IAM role name (roles/..., projects/P/roles/... or "
                          "organizations/N/roles/...)" % (option, params[option]))
    if params.get("reader_role") and params.get("reader_role") == params.get("writer_role"):
        errors.append("reader_role and writer_role must differ")
    return errors


def lifecycle_rule_errors(rule):
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


def lifecycle_from_params(params):
    """The bucket's whole lifecycle rule list, or None when no lifecycle option is given (left as it is)."""
    lifecycle_options = ("noncurrent_version_retention_days", "abort_incomplete_uploads_days", "lifecycle_rules")
    given = [params.get(k) is not None for k in lifecycle_options]
    if not any(given):
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
    return [normalize_rule(rule) for rule in rules]


def normalize_rule(rule):
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
        "lifecycle_rules": lifecycle_from_params(params),
        "labels": dict(params["labels"]) if params.get("labels") is not None else None,
    }


def bucket_view(bucket):
    """A google.cloud.storage Bucket as a plain dict of the fields this module manages."""
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
        "lifecycle_rules": [normalize_rule(rule) for rule in bucket.lifecycle_rules],
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
                if earlier["role"] == binding["role"] and not earlier["condition"]:
                    if not exclusive:
                        earlier["members"] |= binding["members"] - (readers if binding["role"] == writer_role
                                                                    else set())
            continue
        result.append(binding)
    for role, wanted in ((reader_role, readers), (writer_role, writers)):
        if role not in seen and wanted:
            result.append({"role": role, "members": set(wanted), "condition": None})
    cleaned = []
    for binding in result:
        if not binding["members"]:
            continue
        entry = {"role": binding["role"], "members": sorted(binding["members"])}
        if binding["condition"]:
            entry["condition"] = binding["condition"]
        cleaned.append(entry)
    return cleaned


class GcsBucketManager(object):
    """Converge one bucket (and its IAM bindings) through a GcpModule for 'storage'."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.emulator = bool(self.params.get("emulator"))
        self.warnings = []

    # -- reads ------------------------------------------------------------------------------------------------

    def read_bucket(self):
        client = self.module.client
        return self.module.call("read bucket %s" % self.params["name"], client.get_bucket, self.params["name"],
                                not_found_ok=True)

    def read_policy(self, bucket):
        return self.module.call("read the IAM policy of bucket %s" % bucket.name, bucket.get_iam_policy,
                                requested_policy_version=3)

    # -- converge ---------------------------------------------------------------------------------------------

    def run(self):
        errors = bucket_spec_errors(self.params)
        if errors:
            self.module.fail_json(msg="Invalid gcs_bucket options: %s" % "; ".join(errors), errors=errors)
        if self.emulator and not (self.params.get("api_endpoint") or "").startswith("http://"):
            self.module.fail_json(msg="emulator=true is only for a local fake-gcs-server (api_endpoint "
                                      "http://HOST:PORT); against Cloud Storage every setting is applied")
        if self.params["state"] == "absent":
            return self.absent()
        return self.present()

    def present(self):
        desired = desired_bucket(self.params)
        skip = EMULATOR_UNSUPPORTED if self.emulator else ()
        if self.emulator:
            self.warnings.append("fake-gcs-server does not store %s: they were not applied (emulator=true)"
                                 % ", ".join(EMULATOR_UNSUPPORTED))
        bucket = self.read_bucket()
        before = None
        changes = []
        if bucket is None:
            if not desired["location"]:
                self.module.fail_json(msg="location is required to create bucket %s" % desired["name"])
            changes = ["(new bucket)"]
            after = dict((k, v) for k, v in desired.items() if v is not None)
            if not self.module.check_mode:
                bucket = self._create(desired, skip)
                after = bucket_view(bucket)
        else:
            before = bucket_view(bucket)
            if desired["location"] and "location" not in skip and desired["location"] != before["location"]:
                self.module.fail_json(
                    msg="Bucket %s is in %s; a bucket's location cannot change (asked for %s). Create a new bucket "
                        "and copy the models, or set location to %s." % (desired["name"], before["location"],
                                                                         desired["location"], before["location"]))
            if (desired["hierarchical_namespace"] is not None and "hierarchical_namespace" not in skip
                    and desired["hierarchical_namespace"] != before["hierarchical_namespace"]):
                self.module.fail_json(
                    msg="Bucket %s has hierarchical namespace %s; it can only be chosen when the bucket is created."
                        % (desired["name"], "on" if before["hierarchical_namespace"] else "off"))
            changes = bucket_changes(desired, before, self.params.get("purge_labels"), skip)
            after = self._after(before, desired, changes)
            if changes and not self.module.check_mode:
                bucket = self._patch(bucket, desired, before, changes)
        iam = self.converge_iam(bucket)
        if before is not None and not self.emulator:
            before["iam_bindings"] = iam["before"]
        if not self.emulator:
            after["iam_bindings"] = iam["after"]
        changed = bool(changes) or iam["changed"]
        result = dict(changed=changed, changes=changes + iam["changes"], warnings=self.warnings,
                      diff=dict(before=before, after=after))
        result["bucket"] = dict(after, url="gs://%s" % desired["name"])
        if bucket is not None and not self.module.check_mode:
            live = bucket_view(bucket)
            if not self.emulator:
                live["iam_bindings"] = after["iam_bindings"]
            result["bucket"] = dict(live, url="gs://%s" % desired["name"])
        if self.emulator:
            result["not_applied"] = list(EMULATOR_UNSUPPORTED)
            result["iam_bindings_not_applied"] = iam.get("not_applied") or {}
        return result

    @staticmethod
    def _after(before, desired, changes):
        after = copy.deepcopy(before)
        for field in changes:
            after[field] = desired[field]
        return after

    def _apply_fields(self, bucket, desired, fields, current_labels=None):
        if "storage_class" in fields:
            bucket.storage_class = desired["storage_class"]
        if "uniform_bucket_level_access" in fields:
            bucket.iam_configuration.uniform_bucket_level_access_enabled = desired["uniform_bucket_level_access"]
        if "public_access_prevention" in fields:
            bucket.iam_configuration.public_access_prevention = desired["public_access_prevention"]
        if "hierarchical_namespace" in fields:
            bucket.hierarchical_namespace_enabled = desired["hierarchical_namespace"]
        if "versioning" in fields:
            bucket.versioning_enabled = desired["versioning"]
        if "soft_delete_retention_seconds" in fields:
            bucket.soft_delete_policy.retention_duration_seconds = desired["soft_delete_retention_seconds"]
        if "lifecycle_rules" in fields:
            bucket.lifecycle_rules = desired["lifecycle_rules"]
        if "labels" in fields:
            bucket.labels = merged_labels(desired["labels"], current_labels, self.params.get("purge_labels"))

    def _create(self, desired, skip):
        client = self.module.client
        bucket = client.bucket(desired["name"])
        fields = [f for f, v in desired.items() if v is not None and f not in ("name", "location") and f not in skip]
        if self.emulator and desired["versioning"] is not None:
            fields.append("versioning")
        self._apply_fields(bucket, desired, fields, {})
        return self.module.call("create bucket %s" % desired["name"], client.create_bucket, bucket,
                                project=self.params["project"], location=desired["location"])

    def _patch(self, bucket, desired, before, changes):
        fields = list(changes)
        if self.emulator and desired["versioning"] is not None and "versioning" not in fields:
            # fake-gcs-server resets versioning on any PATCH that leaves it out.
            fields.append("versioning")
        self._apply_fields(bucket, desired, fields, before["labels"])
        self.module.call("update bucket %s (%s)" % (bucket.name, ", ".join(changes)), bucket.patch,
                         if_metageneration_match=bucket.metageneration)
        return bucket

    # -- IAM --------------------------------------------------------------------------------------------------

    def _iam_requested(self):
        return bool(self.params.get("readers") or self.params.get("writers") or self.params.get("iam_exclusive"))

    def converge_iam(self, bucket):
        """Read the policy, compute the bindings, set them with the policy's etag (re-read on a stale etag)."""
        readers, writers = self.params.get("readers") or [], self.params.get("writers") or []
        reader_role, writer_role = self.params["reader_role"], self.params["writer_role"]
        exclusive = self.params.get("iam_exclusive")
        outcome = dict(changed=False, changes=[], before=None, after=None)
        if not self._iam_requested():
            return outcome
        if self.emulator:
            wanted = bindings_view(desired_bindings([], readers, writers, reader_role, writer_role, exclusive))
            outcome["not_applied"] = wanted
            self.warnings.append("IAM bindings not applied (fake-gcs-server has no IAM): %s"
                                 % json.dumps(wanted, sort_keys=True))
            return outcome
        if bucket is None:
            # Check mode on a bucket that does not exist yet: the policy would be the bindings alone.
            wanted = desired_bindings([], readers, writers, reader_role, writer_role, exclusive)
            outcome.update(changed=True, changes=["iam_bindings"], before={}, after=bindings_view(wanted))
            return outcome
        for attempt in range(3):
            policy = self.read_policy(bucket)
            current = [dict(b) for b in policy.bindings]
            wanted = desired_bindings(current, readers, writers, reader_role, writer_role, exclusive)
            before_view, after_view = bindings_view(current), bindings_view(wanted)
            outcome.update(before=before_view, after=after_view)
            if before_view == after_view:
                return outcome
            outcome.update(changed=True, changes=["iam_bindings"])
            if self.module.check_mode:
                return outcome
            policy.version = 3
            policy.bindings = [dict(b, members=set(b["members"])) for b in wanted]
            try:
                self.module.retry_policy.call(bucket.set_iam_policy, policy)
                return outcome
            except gexc.PreconditionFailed:
                # Someone changed the policy since we read it (etag mismatch): read it again and recompute.
                self.warnings.append("IAM policy of %s changed while updating it; read it again (attempt %d)"
                                     % (bucket.name, attempt + 2))
                continue
            except gexc.GoogleAPIError as exc:
                self.module.fail_api("set the IAM policy of bucket %s" % bucket.name, exc)
        self.module.fail_json(msg="Failed to set the IAM policy of bucket %s: it kept changing under us (stale etag "
                                  "three times); run again" % bucket.name)

    # -- delete -----------------------------------------------------------------------------------------------

    def absent(self):
        bucket = self.read_bucket()
        if bucket is None:
            return dict(changed=False, bucket=None, diff=dict(before=None, after=None), warnings=self.warnings)
        before = bucket_view(bucket)
        client = self.module.client
        first = self.module.call("list objects of bucket %s" % bucket.name,
                                 lambda: list(client.list_blobs(bucket.name, max_results=1)))
        if first and not self.params.get("delete_objects"):
            # The models in it are the user's: deleting them takes an explicit flag.
            self.module.fail_json(
                msg="Bucket %s is not empty (first object: %s); set delete_objects=true to delete it with all its "
                    "objects" % (bucket.name, first[0].name))
        if not self.module.check_mode:
            if first:
                blobs = self.module.call("list objects of bucket %s" % bucket.name,
                                         lambda: list(client.list_blobs(bucket.name)))
                for blob in blobs:
                    self.module.call("delete gs://%s/%s" % (bucket.name, blob.name), blob.delete, not_found_ok=True)
            self.module.call("delete bucket %s" % bucket.name, bucket.delete)
        return dict(changed=True, bucket=None, diff=dict(before=before, after=None), warnings=self.warnings)

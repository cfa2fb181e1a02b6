# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The model bucket's manager: reads the bucket and its IAM policy through a GcpModule for 'storage', and creates,
patches or deletes only outside check mode. What to send is decided in ``storage.bucket``.

A plain-HTTP endpoint (``api_endpoint``, or its fallback ``STORAGE_EMULATOR_HOST``) is a local fake-gcs-server,
which stores no IAM and few bucket settings: those are reported (a warning, ``not_applied``) instead of applied.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import ApiError, InputError
from ansible_collections.accelci.runners.plugins.module_utils.gcp.client import is_emulator_endpoint
from ansible_collections.accelci.runners.plugins.module_utils.storage.bucket import (
    FAKE_GCS_UNSUPPORTED,
    bindings_view,
    bucket_changes,
    bucket_input_errors,
    bucket_view,
    create_time_conflicts,
    desired_bindings,
    desired_bucket,
    merged_labels,
)

try:
    from google.api_core import exceptions as gexc

    HAS_GOOGLE_API_CORE = True
except ImportError:
    HAS_GOOGLE_API_CORE = False

# Simple settings: bucket_view field -> Bucket attribute path.
_BUCKET_ATTRIBUTES = {
    "storage_class": ("storage_class",),
    "uniform_bucket_level_access": ("iam_configuration", "uniform_bucket_level_access_enabled"),
    "public_access_prevention": ("iam_configuration", "public_access_prevention"),
    "hierarchical_namespace": ("hierarchical_namespace_enabled",),
    "versioning": ("versioning_enabled",),
    "soft_delete_retention_seconds": ("soft_delete_policy", "retention_duration_seconds"),
    "lifecycle_rules": ("lifecycle_rules",),
}


def is_fake_gcs_server(params):
    """True when the endpoint is a local fake-gcs-server: a plain http:// api_endpoint or STORAGE_EMULATOR_HOST."""
    return is_emulator_endpoint(params.get("api_endpoint"))


def _input_error(errors, what):
    """One InputError for a list of (option, message): the first option is the field, every message is kept."""
    messages = [message for _option, message in errors]
    return InputError(errors[0][0], "Invalid %s options: %s" % (what, "; ".join(messages)), errors=messages)


class GcsBucketManager(object):
    """Converge one bucket (and its IAM bindings) through a GcpModule for 'storage'. ``run()`` returns the result."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.fake_gcs = is_fake_gcs_server(self.params)
        self.warnings = []

    # -- reads ------------------------------------------------------------------------------------------------

    def read_bucket(self):
        """The live bucket, or None."""
        client = self.module.client
        return self.module.call("read bucket %s" % self.params["name"], client.get_bucket, self.params["name"],
                                not_found_ok=True)

    def read_policy(self, bucket):
        """The bucket's IAM policy (version 3, so conditional bindings are visible)."""
        return self.module.call("read the IAM policy of bucket %s" % bucket.name, bucket.get_iam_policy,
                                requested_policy_version=3)

    # -- converge ---------------------------------------------------------------------------------------------

    def run(self):
        """Check every option, then converge the bucket to present or absent."""
        errors = bucket_input_errors(self.params)
        if errors:
            raise _input_error(errors, "gcs_bucket")
        if self.params["state"] == "absent":
            return self.absent()
        return self.present()

    def present(self):
        """Create or patch the bucket, then its IAM bindings."""
        desired = desired_bucket(self.params)
        skip = FAKE_GCS_UNSUPPORTED if self.fake_gcs else ()
        if self.fake_gcs:
            self.warnings.append("fake-gcs-server does not store %s: they were not applied (plain http:// endpoint)"
                                 % ", ".join(FAKE_GCS_UNSUPPORTED))
        bucket = self.read_bucket()
        if bucket is None:
            before, changes, after, bucket = self._create_if_missing(desired, skip)
        else:
            before, changes, after, bucket = self._patch_if_changed(bucket, desired, skip)
        iam = self.converge_iam(bucket)
        return self._result(desired, bucket, before, after, changes, iam)

    def _create_if_missing(self, desired, skip):
        if not desired["location"]:
            raise InputError("location", "location is required to create bucket %s" % desired["name"])
        after = dict((k, v) for k, v in desired.items() if v is not None)
        bucket = None
        if not self.module.check_mode:
            bucket = self._create(desired, skip)
            after = bucket_view(bucket)
        return None, ["(new bucket)"], after, bucket

    def _patch_if_changed(self, bucket, desired, skip):
        before = bucket_view(bucket)
        conflicts = [(option, message) for option, message in create_time_conflicts(desired, before)
                     if option not in skip]
        if conflicts:
            raise InputError(conflicts[0][0], conflicts[0][1])
        changes = bucket_changes(desired, before, self.params.get("purge_labels"), skip)
        after = copy.deepcopy(before)
        for field in changes:
            after[field] = desired[field]
        if changes and not self.module.check_mode:
            bucket = self._patch(bucket, desired, before, changes)
        return before, changes, after, bucket

    def _result(self, desired, bucket, before, after, changes, iam):
        if not self.fake_gcs:
            if before is not None:
                before["iam_bindings"] = iam["before"]
            after["iam_bindings"] = iam["after"]
        result = dict(changed=bool(changes) or iam["changed"], changes=changes + iam["changes"],
                      warnings=self.warnings, diff=dict(before=before, after=after))
        result["bucket"] = dict(after, url="gs://%s" % desired["name"])
        if bucket is not None and not self.module.check_mode:
            live = bucket_view(bucket)
            if not self.fake_gcs:
                live["iam_bindings"] = after["iam_bindings"]
            result["bucket"] = dict(live, url="gs://%s" % desired["name"])
        if self.fake_gcs:
            result["not_applied"] = list(FAKE_GCS_UNSUPPORTED)
            result["iam_bindings_not_applied"] = iam.get("not_applied") or {}
        return result

    def _apply_fields(self, bucket, desired, fields, current_labels=None):
        for field in fields:
            if field in _BUCKET_ATTRIBUTES:
                path = _BUCKET_ATTRIBUTES[field]
                target = bucket
                for name in path[:-1]:
                    target = getattr(target, name)
                setattr(target, path[-1], desired[field])
        if "labels" in fields:
            bucket.labels = merged_labels(desired["labels"], current_labels, self.params.get("purge_labels"))

    def _create(self, desired, skip):
        client = self.module.client
        bucket = client.bucket(desired["name"])
        fields = [f for f, v in desired.items() if v is not None and f not in ("name", "location") and f not in skip]
        if self.fake_gcs and desired["versioning"] is not None:
            fields.append("versioning")
        self._apply_fields(bucket, desired, fields, {})
        return self.module.call("create bucket %s" % desired["name"], client.create_bucket, bucket,
                                project=self.params["project"], location=desired["location"])

    def _patch(self, bucket, desired, before, changes):
        fields = list(changes)
        if self.fake_gcs and desired["versioning"] is not None and "versioning" not in fields:
            # fake-gcs-server resets versioning on any PATCH that leaves it out.
            fields.append("versioning")
        self._apply_fields(bucket, desired, fields, before["labels"])
        self.module.call("update bucket %s (%s)" % (bucket.name, ", ".join(changes)), bucket.patch,
                         if_metageneration_match=bucket.metageneration)
        return bucket

    # -- IAM --------------------------------------------------------------------------------------------------

    def _iam_requested(self):
        return bool(self.params.get("readers") or self.params.get("writers") or self.params.get("iam_exclusive"))

    def _wanted_bindings(self, current):
        return desired_bindings(current, self.params.get("readers") or [], self.params.get("writers") or [],
                                self.params["reader_role"], self.params["writer_role"],
                                self.params.get("iam_exclusive"))

    def converge_iam(self, bucket):
        """Read the policy, compute the bindings, set them with the policy's etag (re-read on a stale etag)."""
        outcome = dict(changed=False, changes=[], before=None, after=None)
        if not self._iam_requested():
            return outcome
        if self.fake_gcs:
            wanted = bindings_view(self._wanted_bindings([]))
            outcome["not_applied"] = wanted
            self.warnings.append("IAM bindings not applied (fake-gcs-server has no IAM): %s"
                                 % json.dumps(wanted, sort_keys=True))
            return outcome
        if bucket is None:
            # Check mode on a bucket that does not exist yet: the policy would be the bindings alone.
            outcome.update(changed=True, changes=["iam_bindings"], before={},
                           after=bindings_view(self._wanted_bindings([])))
            return outcome
        for attempt in range(3):
            if self._set_policy(bucket, outcome, attempt):
                return outcome
        raise ApiError("Failed to set the IAM policy of bucket %s: it kept changing under us (stale etag three "
                       "times); run again" % bucket.name, retries=self.module.retry_log)

    def _set_policy(self, bucket, outcome, attempt):
        """One read-compute-write round; False when the etag was stale and the round must be repeated."""
        policy = self.read_policy(bucket)
        current = [dict(b) for b in policy.bindings]
        wanted = self._wanted_bindings(current)
        outcome.update(before=bindings_view(current), after=bindings_view(wanted))
        if outcome["before"] == outcome["after"]:
            return True
        outcome.update(changed=True, changes=["iam_bindings"])
        if self.module.check_mode:
            return True
        policy.version = 3
        policy.bindings = [dict(b, members=set(b["members"])) for b in wanted]
        try:
            self.module.retry_policy.call(bucket.set_iam_policy, policy)
            return True
        except gexc.PreconditionFailed:
            # Someone changed the policy since we read it (etag mismatch): read it again and recompute.
            self.warnings.append("IAM policy of %s changed while updating it; read it again (attempt %d)"
                                 % (bucket.name, attempt + 2))
            return False
        except gexc.GoogleAPIError as exc:
            raise self.module.api_error("set the IAM policy of bucket %s" % bucket.name, exc)

    # -- delete -----------------------------------------------------------------------------------------------

    def absent(self):
        """Delete the bucket; one that holds objects only with delete_objects=true."""
        bucket = self.read_bucket()
        if bucket is None:
            return dict(changed=False, bucket=None, diff=dict(before=None, after=None), warnings=self.warnings)
        before = bucket_view(bucket)
        client = self.module.client
        first = self.module.call("list objects of bucket %s" % bucket.name,
                                 lambda: list(client.list_blobs(bucket.name, max_results=1)))
        if first and not self.params.get("delete_objects"):
            # The models in it are the user's: deleting them takes an explicit flag.
            raise InputError("delete_objects", "Bucket %s is not empty (first object: %s); set delete_objects=true to "
                                               "delete it with all its objects" % (bucket.name, first[0].name))
        if not self.module.check_mode:
            if first:
                blobs = self.module.call("list objects of bucket %s" % bucket.name,
                                         lambda: list(client.list_blobs(bucket.name)))
                for blob in blobs:
                    self.module.call("delete gs://%s/%s" % (bucket.name, blob.name), blob.delete, not_found_ok=True)
            self.module.call("delete bucket %s" % bucket.name, bucket.delete)
        return dict(changed=True, bucket=None, diff=dict(before=before, after=None), warnings=self.warnings)

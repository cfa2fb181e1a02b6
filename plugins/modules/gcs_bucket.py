#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: gcs_bucket
short_description: A Cloud Storage bucket for the model cache, with least-privilege IAM bindings
version_added: 0.1.0
description:
  - Creates, updates or deletes a Cloud Storage bucket - location, default storage class, uniform bucket-level
    access, public access prevention, hierarchical namespace, versioning, soft delete, lifecycle rules and labels.
  - Manages the bucket's IAM bindings - O(readers) get O(reader_role) (object read-only), O(writers) get
    O(writer_role). A reader is never left in the writer role, so runner principals stay read-only.
  - The IAM policy is read and written with its etag; if it changed in between, it is read again and the change
    recomputed (up to three times).
  - Settings left unset are not managed on an existing bucket, except uniform bucket-level access and public access
    prevention, which default to on and enforced.
  - Every option is checked before the first API call.
  - A plain C(http://) O(api_endpoint) (or E(STORAGE_EMULATOR_HOST)) is taken for a local fake-gcs-server, which
    has no IAM and keeps only a bucket's name and versioning. Against it the IAM bindings and the other settings are
    not applied; the module says so in a warning and in RV(not_applied) and RV(iam_bindings_not_applied).
options:
  name:
    description:
      - Bucket name (globally unique; 3-63 lowercase letters, digits, C(-), C(_); dots allowed for
        domain-named buckets).
    type: str
    required: true
    version_added: 0.1.0
  state:
    description:
      - V(absent) deletes the bucket. A bucket that still holds objects is only deleted with
        O(delete_objects=true).
    type: str
    choices: [present, absent]
    default: present
    version_added: 0.1.0
  location:
    description:
      - Region (V(US-CENTRAL1)), dual-region (V(NAM4)) or multi-region (V(US)); case does not matter.
      - Required to create the bucket. A bucket's location cannot change; a different value fails.
    type: str
    version_added: 0.1.0
  storage_class:
    description:
      - Default storage class of new objects.
    type: str
    choices: [STANDARD, NEARLINE, COLDLINE, ARCHIVE]
    version_added: 0.1.0
  uniform_bucket_level_access:
    description:
      - Uniform bucket-level access (IAM only, no object ACLs).
    type: bool
    default: true
    version_added: 0.1.0
  public_access_prevention:
    description:
      - V(enforced) blocks any public access to the bucket and its objects.
    type: str
    choices: [enforced, inherited]
    default: enforced
    version_added: 0.1.0
  hierarchical_namespace:
    description:
      - Hierarchical namespace (real folders, faster listing through GCS FUSE). Can only be chosen at creation;
        needs uniform bucket-level access.
    type: bool
    version_added: 0.1.0
  versioning:
    description:
      - Object versioning.
    type: bool
    version_added: 0.1.0
  soft_delete_retention_days:
    description:
      - How long deleted objects can be restored; V(0) turns soft delete off, otherwise 7 to 90.
    type: int
    version_added: 0.1.0
  noncurrent_version_retention_days:
    description:
      - Adds a lifecycle rule deleting noncurrent object versions this many days after they became noncurrent.
    type: int
    version_added: 0.1.0
  abort_incomplete_uploads_days:
    description:
      - Adds a lifecycle rule aborting multipart uploads left incomplete this many days.
    type: int
    version_added: 0.1.0
  lifecycle_rules:
    description:
      - "Further lifecycle rules in the API's form, C({action: {type: Delete}, condition: {age: 30}})."
      - When any of O(noncurrent_version_retention_days), O(abort_incomplete_uploads_days) or O(lifecycle_rules)
        is given, the bucket's lifecycle is exactly those rules; when none is, the lifecycle is left as it is.
    type: list
    elements: dict
    version_added: 0.1.0
  labels:
    description:
      - Bucket labels. Labels not listed are kept unless O(purge_labels=true).
    type: dict
    version_added: 0.1.0
  purge_labels:
    description:
      - Remove labels not listed in O(labels).
    type: bool
    default: false
    version_added: 0.1.0
  readers:
    description:
      - IAM principals that get O(reader_role), for example the runners' Kubernetes ServiceAccount under workload
        identity federation (a C(principal://) member, which the P(accelci.runners.workload_identity_principal#filter)
        filter builds).
      - They are removed from O(writer_role) if they were in it.
    type: list
    elements: str
    default: []
    version_added: 0.1.0
  writers:
    description:
      - IAM principals that get O(writer_role), such as the model stager's service account
        (C(serviceAccount:EMAIL)).
    type: list
    elements: str
    default: []
    version_added: 0.1.0
  reader_role:
    description:
      - The role for O(readers). The default grants C(storage.objects.get) and C(storage.objects.list) only.
    type: str
    default: roles/storage.objectViewer
    version_added: 0.1.0
  writer_role:
    description:
      - The role for O(writers). The default can create, overwrite, list and delete objects but not change IAM.
    type: str
    default: roles/storage.objectUser
    version_added: 0.1.0
  iam_exclusive:
    description:
      - The bindings of O(reader_role) and O(writer_role) hold exactly O(readers) and O(writers); members others
        added to those two roles are removed. Other roles and conditional bindings are never touched.
    type: bool
    default: false
    version_added: 0.1.0
  delete_objects:
    description:
      - With O(state=absent), delete every object first. Without it a non-empty bucket is not deleted.
    type: bool
    default: false
    version_added: 0.1.0
  wait_timeout:
    description:
      - How long to keep retrying API calls that fail with HTTP 429 or 5xx, in seconds.
    type: int
    default: 300
    version_added: 0.1.0
extends_documentation_fragment:
  - accelci.runners.gcp
  - accelci.runners.gcp.PROJECT
attributes:
  check_mode:
    support: full
    description: Reads the bucket and its IAM policy; makes no mutating call.
  diff_mode:
    support: full
    description: The managed settings and IAM bindings before and after.
notes:
  - The identity running the module needs C(storage.buckets.create/get/update/delete/getIamPolicy/setIamPolicy)
    on the project (for example C(roles/storage.admin)).
author:
  - accelci.runners maintainers (@accelci)
"""

EXAMPLES = r"""
- name: Model bucket, runners read-only, stager can write
  accelci.runners.gcs_bucket:
    project: my-project
    name: my-project-models
    location: US-CENTRAL1
    soft_delete_retention_days: 7
    abort_incomplete_uploads_days: 1
    labels: {accelci-model-cache: gcs}
    readers:
      - "{{ 'arc-runner' | accelci.runners.workload_identity_principal('arc-runners', 'my-project', '123456789012') }}"
    writers:
      - serviceAccount:model-stager@my-project.iam.gserviceaccount.com
    iam_exclusive: true
"""

RETURN = r"""
bucket:
  description: The bucket's managed settings after the run (what they would be, in check mode), and its IAM bindings.
  returned: state=present
  type: dict
  contains:
    name:
      description: Bucket name.
      type: str
    url:
      description: C(gs://NAME).
      type: str
    location:
      description: Location, upper case.
      type: str
    storage_class:
      description: Default storage class.
      type: str
    uniform_bucket_level_access:
      description: Uniform bucket-level access.
      type: bool
    public_access_prevention:
      description: Public access prevention.
      type: str
    hierarchical_namespace:
      description: Hierarchical namespace.
      type: bool
    versioning:
      description: Object versioning.
      type: bool
    soft_delete_retention_seconds:
      description: Soft delete retention.
      type: int
    lifecycle_rules:
      description: Lifecycle rules.
      type: list
      elements: dict
    labels:
      description: Labels.
      type: dict
    iam_bindings:
      description: "Unconditional IAM bindings as C({role: [members]}); conditional ones under C(_conditional)."
      type: dict
      sample:
        roles/storage.objectUser:
          - serviceAccount:model-stager@my-project.iam.gserviceaccount.com
changes:
  description: The settings that changed (or would change).
  returned: always
  type: list
  elements: str
  sample: [labels, iam_bindings]
not_applied:
  description: Settings not applied because the endpoint is a local fake-gcs-server (a plain C(http://) URL).
  returned: when O(api_endpoint) is a plain http:// URL
  type: list
  elements: str
iam_bindings_not_applied:
  description: "The bindings that would be set on Cloud Storage, C({role: [members]}), not applied because the endpoint is a
    local fake-gcs-server."
  returned: when O(api_endpoint) is a plain http:// URL
  type: dict
"""

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import AccelciError
from ansible_collections.accelci.runners.plugins.module_utils.gcp.module import GcpModule
from ansible_collections.accelci.runners.plugins.module_utils.storage.bucket import READER_ROLE, WRITER_ROLE
from ansible_collections.accelci.runners.plugins.module_utils.storage.bucket_manager import GcsBucketManager


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        location=dict(type="str"),
        storage_class=dict(type="str", choices=["STANDARD", "NEARLINE", "COLDLINE", "ARCHIVE"]),
        uniform_bucket_level_access=dict(type="bool", default=True),
        public_access_prevention=dict(type="str", choices=["enforced", "inherited"], default="enforced"),
        hierarchical_namespace=dict(type="bool"),
        versioning=dict(type="bool"),
        soft_delete_retention_days=dict(type="int"),
        noncurrent_version_retention_days=dict(type="int"),
        abort_incomplete_uploads_days=dict(type="int"),
        lifecycle_rules=dict(type="list", elements="dict"),
        labels=dict(type="dict"),
        purge_labels=dict(type="bool", default=False),
        readers=dict(type="list", elements="str", default=[]),
        writers=dict(type="list", elements="str", default=[]),
        reader_role=dict(type="str", default=READER_ROLE),
        writer_role=dict(type="str", default=WRITER_ROLE),
        iam_exclusive=dict(type="bool", default=False),
        delete_objects=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=300),
    )
    module = GcpModule("storage", argument_spec, supports_check_mode=True)
    try:
        result = GcsBucketManager(module).run()
    except AccelciError as exc:
        module.fail_json(**exc.fail_json_kwargs())
    for warning in result.pop("warnings", []):
        module.warn(warning)
    if not module._diff:
        result.pop("diff", None)
    module.exit_json(**result)


if __name__ == "__main__":
    main()

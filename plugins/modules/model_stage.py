#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: model_stage
short_description: Stage a Hugging Face repo at a pinned revision into a GCS bucket or a filesystem model cache
version_added: 0.1.0
description:
  - Resolves O(revision) of O(repo_id) to a commit once, lists the commit's files with their digests, and copies
    into O(dest) only what is not there yet, verifying every file against the Hub's sha256 (LFS files) or git blob
    sha1 (other files) before it becomes visible. A corrupted or truncated file is never published.
  - "Layout, the same for a bucket and a directory: each commit under its own immutable path
    C(.accelci/models/ORG/NAME/revisions/COMMIT/), a manifest (commit, files, sizes, sha256) per commit, and the
    stable path C(ORG/NAME) that jobs read, switched last: a symlink on a filesystem, on GCS an empty object with
    metadata C(gcsfuse_symlink_target) that GCS FUSE presents as a symlink."
  - A refresh of an unchanged model sends one request to the Hub (none when O(revision) is a commit id) and
    transfers nothing. When the revision moved, files whose digest an earlier revision already holds are copied
    inside the cache (a server-side rewrite on GCS, a hard link on a filesystem) instead of downloaded.
  - An interrupted run (killed process, network failure) leaves the stable path as it was; the next run resumes
    and does not transfer the files that were already complete. A large file cut short resumes too - on a
    filesystem its bytes are kept and the rest is fetched with an HTTP Range request (where the Hub or its CDN
    honours it; otherwise the file starts over), on GCS the resumable upload session is kept and continued. The
    whole file is verified either way.
  - File paths the Hub (or a mirror) lists are checked before anything is written - an absolute path, a C(..) or
    empty segment, a backslash, a NUL or a drive prefix fails the task naming the path and the repo.
  - Files are transferred concurrently and streamed; staging into GCS needs no local disk for the model.
  - Downloads use plain HTTP on the Hub's resolve URLs, never Xet, so E(HF_HUB_DISABLE_XET) is always honoured.
extends_documentation_fragment:
  - accelci.runners.gcp
author:
  - accelci.runners maintainers (@accelci)
attributes:
  check_mode:
    support: full
    description: Resolves the revision and lists what would be downloaded or copied, with sizes; writes nothing.
  diff_mode:
    support: full
    description: Shows the published commit and stable path target before and after.
options:
  repo_id:
    description:
      - The Hugging Face repo, C(ORG/NAME).
    type: str
    required: true
    version_added: 0.1.0
  revision:
    description:
      - Branch, tag, Hub ref (C(refs/pr/3)) or 40-hex commit id to stage. A commit id needs no Hub request to
        resolve.
      - "Names git would refuse (spaces, C(..), C(~ ^ : ? * [ \\), an empty segment, more than 255 characters) are
        refused before anything is contacted."
    type: str
    default: main
    version_added: 0.1.0
  repo_type:
    description:
      - Kind of repo, V(model) or V(dataset). Datasets are published under C(datasets/ORG/NAME).
      - Spaces are not supported (they are applications, not files to cache); V(space) is refused saying so.
    type: str
    default: model
    version_added: 0.1.0
  allow_patterns:
    description:
      - Only stage files matching one of these glob patterns (as C(huggingface_hub.snapshot_download)).
    type: list
    elements: str
    default: []
    version_added: 0.1.0
  ignore_patterns:
    description:
      - Do not stage files matching one of these glob patterns.
    type: list
    elements: str
    default: []
    version_added: 0.1.0
  endpoint:
    description:
      - The Hub or a mirror of it. Falls back to E(HF_ENDPOINT), then C(https://huggingface.co).
      - An C(http(s)://) URL without credentials, query or fragment; give the token in O(token).
    type: str
    version_added: 0.1.0
  token:
    description:
      - A Hugging Face access token, for gated and private repos. Falls back to E(HF_TOKEN).
      - A token saved on the controller by C(hf auth login) is not used.
      - Never shown - not in the result, not in error messages (whatever a server echoes back).
    type: str
    version_added: 0.1.0
  dest:
    description:
      - Root of the model cache. C(gs://BUCKET[/PREFIX]) for a bucket, or an absolute path (a mounted Filestore
        share, NFS, a local disk).
      - The stable path is C(DEST/ORG/NAME). Anything already there that this module did not publish (a copy made
        by hand) makes the task fail; it is never deleted.
      - Refused before anything is contacted - a bucket name GCS would refuse, a prefix or path with C(.), C(..) or
        empty segments, a backslash or a control character, and system directories (C(/), C(/etc), C(/usr),
        C(/var), C(/home), C(/tmp), C(/mnt) and the like) that must not hold a cache.
    type: str
    required: true
    version_added: 0.1.0
  concurrency:
    description:
      - How many files are transferred at the same time (threads), 1 to 64. A transfer into GCS holds about two
        upload chunks (100 MiB each) in memory at most and needs no local disk.
    type: int
    default: 8
    version_added: 0.1.0
  retries:
    description:
      - How many times one file is fetched again after a network error or a digest mismatch, 0 to 20. After a
        network error the next attempt resumes where the last one stopped.
    type: int
    default: 3
    version_added: 0.1.0
  timeout:
    description:
      - Seconds a Hub request may stay without progress, 1 to 3600.
    type: int
    default: 60
    version_added: 0.1.0
  prune:
    description:
      - Delete revisions of this repo that the stable path no longer points to, once O(prune_grace_hours) have
        passed since they were replaced, and abandoned partial stagings as old. Only paths under
        C(.accelci/models/) that this module wrote are deleted.
    type: bool
    default: false
    version_added: 0.1.0
  prune_grace_hours:
    description:
      - How long a replaced revision stays, so jobs that opened it (and GCS FUSE metadata caches) finish first,
        0 to 8760.
      - Never less than one hour, whatever the setting - the revision published until a run is what jobs started
        before the switch are reading; a lower value is raised, with a warning.
    type: int
    default: 24
    version_added: 0.1.0
  gcs_composite_uploads:
    description:
      - For a C(gs://) O(dest), send files above 8 MiB as 32 MiB parts while they stream and compose them into the
        object once verified (as C(gcloud storage cp) parallel composite uploads do), instead of one resumable
        upload per file (100 MiB chunks, the default).
      - Composite objects have a crc32c but no MD5, and the deleted parts count against a bucket's soft-delete
        retention and early-deletion minimums, so this is off by default.
    type: bool
    default: false
    version_added: 0.1.0
  project:
    description:
      - Google Cloud project for the storage client (billing of requests). Falls back to E(GCP_PROJECT) or
        E(GOOGLE_CLOUD_PROJECT). Not needed for a filesystem O(dest).
    type: str
    version_added: 0.1.0
  api_endpoint:
    description:
      - Cloud Storage endpoint override, for a private endpoint or an emulator. Falls back to
        E(STORAGE_EMULATOR_HOST).
    type: str
    version_added: 0.1.0
requirements:
  - huggingface_hub >= 1.0
  - google-cloud-storage >= 2.18 (for a gs:// destination)
  - google-crc32c
notes:
  - The runner pods need read access only; the host that runs this module needs to create objects (GCS
    C(roles/storage.objectAdmin) on the bucket) or files (a read-write mount of the share).
  - Mount the bucket in runner pods with GCS FUSE and the mount path at the cache root (or C(only-dir=PREFIX));
    the stable path is a symlink with a relative target, so it resolves inside the mount.
  - Set O(prune_grace_hours) above the longest job plus the GCS FUSE metadata cache TTL.
seealso:
  - name: Model cache layout
    description: How revisions, manifests and the stable path are laid out, and how runner pods read them.
    link: https://github.com/accelci/runners/blob/main/docs/models.md
"""

EXAMPLES = r"""
- name: Stage Wan2.1 1.3B into the model bucket
  accelci.runners.model_stage:
    repo_id: Wan-AI/Wan2.1-T2V-1.3B-Diffusers
    revision: main
    dest: gs://my-project-models
    project: my-project

- name: Stage a gated model onto a Filestore share, pruning replaced revisions after two days
  accelci.runners.model_stage:
    repo_id: meta-llama/Llama-3.2-1B-Instruct
    revision: main
    token: "{{ vault_hf_token }}"
    dest: /mnt/models
    prune: true
    prune_grace_hours: 48

- name: Show what a refresh would download
  accelci.runners.model_stage:
    repo_id: google/gemma-2-2b-it
    dest: gs://my-project-models/hf
    allow_patterns: ["*.json", "*.safetensors", "tokenizer*"]
  check_mode: true
  register: plan
"""

RETURN = r"""
model:
  description: What was staged and how.
  returned: always
  type: dict
  contains:
    repo_id:
      description: The repo.
      type: str
      sample: Wan-AI/Wan2.1-T2V-1.3B-Diffusers
    revision:
      description: The revision asked for.
      type: str
      sample: main
    commit:
      description: The commit the revision resolved to, now published.
      type: str
      sample: 0f3c5a6a6a0e8ff4d4b7f0d5c1f8b3e0b6d1c2a9
    previous_commit:
      description: The commit published before this run (null on a first stage).
      type: str
    stable_path:
      description: The path jobs read.
      type: str
      sample: gs://my-project-models/Wan-AI/Wan2.1-T2V-1.3B-Diffusers
    revision_path:
      description: The immutable path of this commit.
      type: str
    manifest_path:
      description: The manifest of this commit.
      type: str
    files:
      description: Number of files in the commit (after patterns).
      type: int
    total_bytes:
      description: Size of those files.
      type: int
    bytes_transferred:
      description: Bytes received from the Hub in this run, retried attempts included.
      type: int
      returned: success
    bytes_resumed:
      description: Bytes of files cut short by an earlier attempt or run that were kept and not fetched again.
      type: int
      returned: success
    bytes_copied:
      description: Bytes reused from an earlier revision inside the cache.
      type: int
      returned: success
    bytes_skipped:
      description: Bytes already present and verified for this commit.
      type: int
    files_transferred:
      description: Files downloaded.
      type: int
      returned: success
    files_copied:
      description: Files reused from an earlier revision.
      type: int
      returned: success
    files_skipped:
      description: Files already present.
      type: int
      returned: success
    would_download:
      description: Check mode only. Files that would be downloaded, with their sizes.
      type: list
      elements: dict
      returned: check mode
    would_copy:
      description: Check mode only. Files that would be copied from the published revision inside the cache.
      type: list
      elements: dict
      returned: check mode
    bytes_to_download:
      description: Check mode only. Their total size.
      type: int
      returned: check mode
    retries:
      description: Transfers that were retried, with the error.
      type: list
      elements: dict
      returned: success
    pruned:
      description: Commits whose revisions were deleted (check mode, would be deleted).
      type: list
      elements: str
    prune_grace_hours:
      description: The grace period pruning applied, in hours (O(prune_grace_hours), at least one hour).
      type: float
    hub_requests:
      description: Requests sent to the Hub.
      type: int
    published:
      description: Whether the stable path was switched (or repaired) in this run.
      type: bool
      returned: success
    duration:
      description: Seconds the run took.
      type: float
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import AccelciError
from ansible_collections.accelci.runners.plugins.module_utils.models.stage_manager import (
    model_stage_argument_spec,
    run_model_stage,
)


def main():
    module = AnsibleModule(argument_spec=model_stage_argument_spec(), supports_check_mode=True)
    try:
        result = run_model_stage(module)
    except AccelciError as exc:
        module.fail_json(**exc.fail_json_kwargs())
    module.exit_json(**result)


if __name__ == "__main__":
    main()

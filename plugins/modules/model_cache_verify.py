#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: model_cache_verify
short_description: Check that every staged model's stable path resolves to a complete revision
version_added: 0.1.0
description:
  - Reads the model cache that M(accelci.runners.model_stage) writes (a GCS bucket or a directory) and returns one
    check per model, PASS or FAIL with the fix. Never contacts the Hub and never changes anything; a failed check
    does not fail the task (C(playbooks/verify.yml) decides).
  - A model passes when its pointer names a published commit (the one the estate pins, when it pins a commit id),
    the stable path points at that commit's revision, the revision's manifest exists (the revision is complete) and
    every file the manifest lists is stored with its size, and on GCS with the sha256 recorded when it was verified.
options:
  dest:
    description: The model cache, C(gs://BUCKET[/PREFIX]) or a directory, as M(accelci.runners.model_stage) takes it.
    type: str
    required: true
    version_added: 0.1.0
  project:
    description:
      - Google Cloud project for the storage client. Falls back to E(GCP_PROJECT) or E(GOOGLE_CLOUD_PROJECT). Not
        needed for a filesystem O(dest).
    type: str
    version_added: 0.1.0
  models:
    description:
      - The models to check. Other keys in an entry are ignored, so the models role's plan can be passed as is.
    type: list
    elements: dict
    required: true
    version_added: 0.1.0
    suboptions:
      repo:
        description: The Hugging Face repo id, C(ORG/NAME).
        type: str
        required: true
      repo_type:
        description: V(model) or V(dataset).
        type: str
        default: model
      revision:
        description: The revision the estate stages; a 40-hex commit id is compared with the published commit.
        type: str
        default: main
extends_documentation_fragment:
  - accelci.runners.gcp
attributes:
  check_mode:
    support: full
    description: Reads only, in any mode.
  diff_mode:
    support: none
    description: Nothing changes.
author:
  - accelci.runners maintainers (@accelci)
"""

EXAMPLES = r"""
- name: Check the staged models
  accelci.runners.model_cache_verify:
    dest: gs://my-project-models
    models:
      - repo: google/gemma-2b
        revision: main
  register: model_checks
"""

RETURN = r"""
checks:
  description: One check per model, with C(check), C(status) (PASS or FAIL), C(reason) and C(fix).
  returned: always
  type: list
  elements: dict
  sample:
    - check: "model google/gemma-2b@main: gs://my-project-models/google/gemma-2b resolves to a complete revision"
      status: PASS
      reason: commit 0123456789abcdef0123456789abcdef01234567, 12 files, 5012345678 bytes, every size as the manifest records
      fix: null
failed_checks:
  description: How many checks failed.
  returned: always
  type: int
"""

from ansible.module_utils.basic import AnsibleModule, env_fallback

from ansible_collections.accelci.runners.plugins.module_utils._common.checks import checks_result
from ansible_collections.accelci.runners.plugins.module_utils._common.errors import AccelciError, InputError
from ansible_collections.accelci.runners.plugins.module_utils.gcp.module import gcp_argument_spec
from ansible_collections.accelci.runners.plugins.module_utils.models.cache_check import check_models
from ansible_collections.accelci.runners.plugins.module_utils.models.options import validate_repo_id
from ansible_collections.accelci.runners.plugins.module_utils.models.stage_manager import build_store


def main():
    argument_spec = gcp_argument_spec("storage")
    # Reading objects needs no project (as for model_stage).
    argument_spec["project"] = dict(type="str", fallback=(env_fallback, ["GCP_PROJECT", "GOOGLE_CLOUD_PROJECT"]))
    argument_spec.update(
        dest=dict(type="str", required=True),
        # Entries are checked below rather than by suboptions, so the models role's plan entries (which carry
        # more keys) can be passed as they are.
        models=dict(type="list", elements="dict", required=True),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    try:
        for index, model in enumerate(params["models"]):
            # Repo ids become object names and paths: the same check model_stage makes before any path is built.
            validate_repo_id(model.get("repo"), "models[%d].repo" % index)
            if (model.get("repo_type") or "model") not in ("model", "dataset"):
                raise InputError("models[%d].repo_type" % index, "must be model or dataset, got %r"
                                 % (model.get("repo_type"),))
        store = build_store(dict(params, concurrency=1))
        checks = check_models(store, params["models"])
    except AccelciError as exc:
        module.fail_json(**exc.fail_json_kwargs())
    module.exit_json(**checks_result(checks))


if __name__ == "__main__":
    main()

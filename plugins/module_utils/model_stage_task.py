# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The model_stage module's options, their checks, and the wiring of source, store and stager."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import traceback

from ansible.module_utils.basic import env_fallback, missing_required_lib

from ansible_collections.accelci.runners.plugins.module_utils.gcp import (
    GcpCredentialsError,
    gcp_argument_spec,
    gcp_client,
)
from ansible_collections.accelci.runners.plugins.module_utils.hf_source import (
    HAS_HUGGINGFACE_HUB,
    HAS_REQUESTS,
    HUGGINGFACE_HUB_IMP_ERR,
    HubError,
    HubSource,
    validate_repo_id,
)
from ansible_collections.accelci.runners.plugins.module_utils.model_store import ModelStager, StageError

MAX_CONCURRENCY = 64


def model_stage_argument_spec():
    """Options of model_stage: the source, the destination, the run, and the GCS connection options."""
    spec = gcp_argument_spec("storage")
    # A filesystem destination needs no project; the storage client does not need one to read and write objects.
    spec["project"] = dict(type="str", fallback=(env_fallback, ["GCP_PROJECT", "GOOGLE_CLOUD_PROJECT"]))
    spec.update(
        repo_id=dict(type="str", required=True),
        revision=dict(type="str", default="main"),
        repo_type=dict(type="str", default="model", choices=["model", "dataset"]),
        allow_patterns=dict(type="list", elements="str", default=[]),
        ignore_patterns=dict(type="list", elements="str", default=[]),
        endpoint=dict(type="str", fallback=(env_fallback, ["HF_ENDPOINT"])),
        token=dict(type="str", no_log=True, fallback=(env_fallback, ["HF_TOKEN"])),
        dest=dict(type="str", required=True),
        concurrency=dict(type="int", default=8),
        retries=dict(type="int", default=3),
        timeout=dict(type="int", default=60),
        prune=dict(type="bool", default=False),
        prune_grace_hours=dict(type="int", default=24),
        gcs_composite_uploads=dict(type="bool", default=False),
    )
    return spec


def validate_params(params):
    """Raise ValueError naming the option and what is accepted; nothing has been contacted yet."""
    validate_repo_id(params["repo_id"])
    if not params.get("revision"):
        raise ValueError("revision must be a branch, a tag or a 40-hex commit id, got an empty value")
    dest = params["dest"] or ""
    if dest.startswith("gs://"):
        bucket = dest[5:].split("/", 1)[0]
        if not bucket:
            raise ValueError("dest %r has no bucket; expected gs://BUCKET[/PREFIX] or an absolute path" % dest)
    elif "://" in dest:
        raise ValueError("dest %r: only gs://BUCKET[/PREFIX] and filesystem paths are accepted" % dest)
    elif not os.path.isabs(dest):
        raise ValueError("dest %r must be gs://BUCKET[/PREFIX] or an absolute filesystem path" % dest)
    endpoint = params.get("endpoint")
    if endpoint and not endpoint.startswith(("http://", "https://")):
        raise ValueError("endpoint %r must be an http(s):// URL (the Hub or a mirror)" % endpoint)
    if not 1 <= params["concurrency"] <= MAX_CONCURRENCY:
        raise ValueError("concurrency must be between 1 and %d, got %d" % (MAX_CONCURRENCY, params["concurrency"]))
    if params["retries"] < 0:
        raise ValueError("retries must be 0 or more, got %d" % params["retries"])
    if params["timeout"] < 1:
        raise ValueError("timeout must be at least 1 second, got %d" % params["timeout"])
    if params["prune_grace_hours"] < 0:
        raise ValueError("prune_grace_hours must be 0 or more, got %d" % params["prune_grace_hours"])


def build_store(params):
    """The store for params['dest']: GcsModelStore for gs://, FsModelStore for a path."""
    dest = params["dest"]
    if dest.startswith("gs://"):
        from ansible_collections.accelci.runners.plugins.module_utils.model_store_gcs import GcsModelStore

        client = gcp_client("storage", params)
        _widen_connection_pool(client, params["concurrency"])
        return GcsModelStore(client, dest, composite_uploads=params.get("gcs_composite_uploads", False))
    from ansible_collections.accelci.runners.plugins.module_utils.model_store_fs import FsModelStore

    return FsModelStore(dest)


def _widen_connection_pool(client, concurrency):
    """One HTTP connection per worker: requests' default pool of 10 would make threads wait (and warn)."""
    try:
        import requests.adapters

        adapter = requests.adapters.HTTPAdapter(pool_connections=concurrency + 4, pool_maxsize=concurrency + 4)
        client._http.mount("https://", adapter)
        client._http.mount("http://", adapter)
    except Exception:  # a client without a requests session keeps its own pooling
        pass


def run_model_stage(module):
    """Run the module: check inputs, stage, exit_json / fail_json."""
    params = module.params
    if not HAS_HUGGINGFACE_HUB:
        module.fail_json(msg=missing_required_lib("huggingface_hub"), exception=HUGGINGFACE_HUB_IMP_ERR)
    if not HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib("requests"))
    try:
        validate_params(params)
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    try:
        store = build_store(params)
    except ImportError:
        module.fail_json(msg=missing_required_lib("google-cloud-storage"), exception=traceback.format_exc())
    except GcpCredentialsError as exc:
        module.fail_json(msg=str(exc))
    retry_base = float(os.environ.get("ACCELCI_RETRY_BASE_SECONDS", "1.0"))
    source = HubSource(params["repo_id"], repo_type=params["repo_type"], revision=params["revision"],
                       endpoint=params.get("endpoint"), token=params.get("token"), timeout=params["timeout"],
                       retries=params["retries"], retry_base=retry_base)
    stager = ModelStager(
        source, store,
        allow_patterns=params["allow_patterns"], ignore_patterns=params["ignore_patterns"],
        concurrency=params["concurrency"], retries=params["retries"], prune=params["prune"],
        prune_grace_hours=params["prune_grace_hours"], check_mode=module.check_mode, retry_base=retry_base,
    )
    try:
        result = stager.run()
    except StageError as exc:
        module.fail_json(msg="Failed to stage %s: %s" % (params["repo_id"], exc), kind=exc.kind, files=exc.files,
                         model=_partial_result(stager, source))
    except HubError as exc:
        module.fail_json(msg="Failed to stage %s: %s" % (params["repo_id"], exc), kind=exc.kind,
                         files=[exc.path] if exc.path else [], model=_partial_result(stager, source))
    except Exception as exc:
        describe = getattr(store, "describe_error", str)
        module.fail_json(msg="Failed to stage %s into %s: %s" % (params["repo_id"], params["dest"], describe(exc)),
                         kind="store", exception=traceback.format_exc(), model=_partial_result(stager, source))
    module.exit_json(**result)


def _partial_result(stager, source):
    progress = stager.progress
    return {"repo_id": source.repo_id, "revision": source.revision, "published": False,
            "bytes_transferred": progress.bytes_transferred, "files_transferred": progress.files_transferred,
            "retries": progress.retries, "hub_requests": source.requests}

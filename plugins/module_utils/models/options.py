# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What model staging accepts, checked before anything is contacted or written (pure).

One set of checks for both ways in: the ``model_stage`` module's options (``validate_params``, errors name the
option) and the models role's inventory (``model_stage_plan``, errors name the estate variable the user wrote,
``accelci_models[2].revision``, ``accelci_model_cache.prefix``). Each check raises ``InputError(field, message)``
saying what is accepted. No message repeats a token.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import InputError
from ansible_collections.accelci.runners.plugins.module_utils.models.layout import relative_path_problem
from ansible_collections.accelci.runners.plugins.module_utils.storage.bucket import bucket_input_errors
from ansible_collections.accelci.runners.plugins.module_utils.storage.model_cache import BACKENDS

REPO_ID_RE = re.compile(r"^(?:[A-Za-z0-9][A-Za-z0-9._-]{0,95}/)?[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")
REPO_TYPES = ("model", "dataset")
MAX_CONCURRENCY = 64
MAX_RETRIES = 20
MAX_TIMEOUT = 3600
MAX_PRUNE_GRACE_HOURS = 24 * 365
MAX_REVISION_LENGTH = 255
# Directories of the operating system itself: a model cache there would mix models with system files (and a repo
# named like one of their children would put a symlink among them).
SYSTEM_ROOTS = frozenset([
    "/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/libx32", "/media", "/mnt", "/opt",
    "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/var", "/usr/bin", "/usr/lib",
    "/usr/local", "/usr/sbin", "/usr/share", "/var/cache", "/var/lib", "/var/log", "/var/run", "/var/tmp",
])
MODEL_ENTRY_KEYS = ("repo", "revision", "repo_type", "allow_patterns", "ignore_patterns", "token")
_REVISION_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]")
_REVISION_HINT = "use a branch (main), a tag (v1.0), a Hub ref (refs/pr/3) or a 40-hex commit id"


def validate_repo_id(repo_id, field="repo_id"):
    """Raise InputError unless repo_id looks like 'org/name' (or a legacy single name)."""
    if not isinstance(repo_id, str) or not REPO_ID_RE.match(repo_id) or ".." in repo_id \
            or repo_id.endswith((".", "-")):
        raise InputError(field, "%r is not a Hugging Face repo id; expected ORG/NAME such as "
                                "'Wan-AI/Wan2.1-T2V-1.3B-Diffusers'" % (repo_id,))


def _revision_problem(revision):
    """Why a revision is not a usable branch, tag or commit name (git's ref rules), or None."""
    if len(revision) > MAX_REVISION_LENGTH:
        return "it is longer than %d characters" % MAX_REVISION_LENGTH
    found = _REVISION_FORBIDDEN.search(revision)
    if found:
        return "it contains %r (spaces, control characters and ~ ^ : ? * [ \\ are not allowed)" % found.group(0)
    if revision.startswith("/") or revision.endswith("/") or "//" in revision:
        return "it has an empty path segment"
    if ".." in revision or "@{" in revision or revision == "@":
        return "it contains '..' or '@{'"
    if any(part.startswith(".") or part.endswith(".lock") for part in revision.split("/")) \
            or revision.endswith("."):
        return "a segment starts with '.' or ends with '.lock' or '.'"
    return None


def check_revision(revision, field="revision"):
    """Raise InputError unless revision is a non-empty branch, tag, Hub ref or commit id."""
    if not isinstance(revision, str) or not revision:
        raise InputError(field, "must be a branch, a tag or a 40-hex commit id, got %s"
                         % ("an empty value" if not revision else type(revision).__name__))
    problem = _revision_problem(revision)
    if problem:
        raise InputError(field, "%r is not a branch, tag or commit id: %s; %s" % (revision, problem, _REVISION_HINT))


def check_repo_type(repo_type, field="repo_type"):
    """Raise InputError unless repo_type is model or dataset; Spaces are named as unsupported."""
    if repo_type in REPO_TYPES:
        return
    if isinstance(repo_type, str) and repo_type.lower() in ("space", "spaces"):
        raise InputError(field, "%r is not supported: Spaces are applications, not files to cache; only Hugging "
                                "Face models and datasets are staged (use model or dataset)" % repo_type)
    raise InputError(field, "must be model or dataset, got %r" % (repo_type,))


def check_patterns(patterns, field):
    """Raise InputError unless patterns is a list of non-empty glob strings."""
    if not isinstance(patterns, (list, tuple)):
        raise InputError(field, "must be a list of glob patterns such as ['*.json', '*.safetensors'], got %s"
                         % type(patterns).__name__)
    for index, pattern in enumerate(patterns):
        if not isinstance(pattern, str) or not pattern:
            raise InputError("%s[%d]" % (field, index), "must be a non-empty glob pattern, got %r" % (pattern,))


def check_int(value, field, low, high, meaning=""):
    """``value`` as an int when it lies in [low, high]; InputError naming the bounds otherwise."""
    try:
        number = int(value)
        if isinstance(value, bool) or (isinstance(value, float) and number != value):
            raise ValueError(value)
    except (TypeError, ValueError):
        raise InputError(field, "must be a whole number between %d and %d%s, got %r" % (low, high, meaning, value))
    if not low <= number <= high:
        raise InputError(field, "must be between %d and %d%s, got %d" % (low, high, meaning, number))
    return number


def check_endpoint(endpoint, field="endpoint"):
    """Raise InputError unless endpoint is an http(s) URL of a Hub without credentials, query or fragment."""
    if not endpoint:
        return
    match = re.match(r"^(https?)://([^/?#]+)(/[^?#]*)?$", endpoint) if isinstance(endpoint, str) else None
    if not match or re.search(r"[\x00-\x20\x7f]", endpoint):
        raise InputError(field, "%r must be an http(s):// URL of the Hub or a mirror, such as "
                                "https://huggingface.co" % (endpoint,))
    if "@" in match.group(2):
        # Never echo it: the part before '@' is a credential.
        raise InputError(field, "must not carry credentials (user:password@); give the token in the token option "
                                "(or HF_TOKEN) instead")


def _check_bucket(bucket, dest, field):
    problems = bucket_input_errors({"name": bucket})
    if problems:
        raise InputError(field, "%r: bucket %s" % (dest, problems[0][1].replace("name ", "", 1)))


def split_gcs_url(dest, field="dest"):
    """'gs://bucket/prefix' -> (bucket, 'prefix/' or ''), with the bucket and every prefix segment checked."""
    rest = dest[len("gs://"):]
    bucket, _sep, prefix = rest.partition("/")
    if not bucket:
        raise InputError(field, "%r has no bucket; expected gs://BUCKET[/PREFIX]" % (dest,))
    _check_bucket(bucket, dest, field)
    prefix = prefix.rstrip("/")
    problem = relative_path_problem(prefix) if prefix else None
    if problem:
        raise InputError(field, "%r: the prefix %r %s; expected gs://BUCKET[/PREFIX] with a prefix of plain names "
                                "separated by '/'" % (dest, prefix, problem))
    return bucket, (prefix + "/") if prefix else ""


def check_local_dest(path, field="dest"):
    """Raise InputError unless path is an absolute directory of plain names that is not a system directory."""
    if not path.startswith("/"):
        raise InputError(field, "%r must be gs://BUCKET[/PREFIX] or an absolute filesystem path" % (path,))
    body = path.rstrip("/")
    problem = None
    if body.startswith("//"):
        problem = "has an empty segment"
    elif body:
        problem = relative_path_problem(body[1:])
    if problem:
        raise InputError(field, "%r: the path %s; give the directory where the share is mounted, such as "
                                "/mnt/models, without '.', '..' or empty segments" % (path, problem))
    if (body or "/") in SYSTEM_ROOTS:
        raise InputError(field, "%r is a system directory; give the model cache a directory of its own, such as "
                                "/mnt/models (where the share is mounted)" % (path,))


def check_dest(dest, field="dest"):
    """Raise InputError unless dest is gs://BUCKET[/PREFIX] or an absolute path that may hold the cache."""
    if not isinstance(dest, str) or not dest:
        raise InputError(field, "is required: gs://BUCKET[/PREFIX] or an absolute filesystem path")
    if dest.startswith("gs://"):
        split_gcs_url(dest, field)
    elif "://" in dest:
        raise InputError(field, "%r: only gs://BUCKET[/PREFIX] and filesystem paths are accepted" % (dest,))
    else:
        check_local_dest(dest, field)


def validate_params(params):
    """Raise InputError naming the model_stage option and what is accepted; nothing has been contacted yet."""
    validate_repo_id(params["repo_id"])
    check_revision(params.get("revision"))
    check_repo_type(params.get("repo_type", "model"))
    check_patterns(params.get("allow_patterns") or [], "allow_patterns")
    check_patterns(params.get("ignore_patterns") or [], "ignore_patterns")
    check_dest(params.get("dest"))
    check_endpoint(params.get("endpoint"))
    check_int(params["concurrency"], "concurrency", 1, MAX_CONCURRENCY, " files at a time")
    check_int(params["retries"], "retries", 0, MAX_RETRIES)
    check_int(params["timeout"], "timeout", 1, MAX_TIMEOUT, " seconds")
    check_int(params["prune_grace_hours"], "prune_grace_hours", 0, MAX_PRUNE_GRACE_HOURS,
              " hours (to keep every revision, set prune to false)")


# -- the models role: the estate's accelci_models and accelci_model_cache ---------------------------------------
def _model_entry(entry, field, seen):
    """One accelci_models entry checked, as the token-free dict the role loops over."""
    if not isinstance(entry, dict):
        raise InputError(field, "must be a mapping such as {repo: ORG/NAME, revision: main}, got %s"
                         % type(entry).__name__)
    unknown = sorted(str(key) for key in entry if key not in MODEL_ENTRY_KEYS)
    if unknown:
        raise InputError(field, "unknown key %s; accepted keys: %s" % (", ".join(unknown), ", ".join(MODEL_ENTRY_KEYS)))
    if "repo" not in entry:
        raise InputError(field + ".repo", "is required (ORG/NAME of the Hugging Face repo)")
    validate_repo_id(entry["repo"], field + ".repo")
    revision = entry.get("revision", "main")
    check_revision(revision, field + ".revision")
    repo_type = entry.get("repo_type", "model")
    check_repo_type(repo_type, field + ".repo_type")
    for key in ("allow_patterns", "ignore_patterns"):
        check_patterns(entry.get(key) or [], "%s.%s" % (field, key))
    if entry.get("token") is not None and not isinstance(entry["token"], str):
        raise InputError(field + ".token", "must be a string (keep it in a vault)")
    key = (repo_type, entry["repo"])
    if key in seen:
        raise InputError(field + ".repo", "%s %s is listed twice (also at %s); list each repo once"
                         % (repo_type, entry["repo"], seen[key]))
    seen[key] = field
    return {"repo": entry["repo"], "revision": revision, "repo_type": repo_type,
            "allow_patterns": list(entry.get("allow_patterns") or []),
            "ignore_patterns": list(entry.get("ignore_patterns") or [])}


def _model_entries(models, variable, problems):
    if models is None:
        return []
    if not isinstance(models, list):
        problems.append(InputError(variable, "must be a list of {repo: ORG/NAME, revision, repo_type, "
                                             "allow_patterns, ignore_patterns, token}, got %s" % type(models).__name__))
        return []
    entries, seen = [], {}
    for index, entry in enumerate(models):
        try:
            checked = _model_entry(entry, "%s[%d]" % (variable, index), seen)
        except InputError as exc:
            problems.append(exc)
            continue
        checked["index"] = index
        entries.append(checked)
    return entries


def _cache_dest(model_cache, variable):
    """(backend, dest) of the estate's model cache: gs://BUCKET[/PREFIX] or the share's local path."""
    if model_cache is None:
        model_cache = {}
    if not isinstance(model_cache, dict):
        raise InputError(variable, "must be a mapping with backend gcs, filestore or none, got %s"
                         % type(model_cache).__name__)
    backend = model_cache.get("backend", "none")
    if backend not in BACKENDS:
        raise InputError(variable + ".backend", "must be one of %s, got %r" % (", ".join(BACKENDS), backend))
    if backend == "gcs":
        bucket = model_cache.get("bucket")
        if not bucket or not isinstance(bucket, str):
            raise InputError(variable + ".bucket", "is required for backend gcs (the bucket's name)")
        _check_bucket(bucket, bucket, variable + ".bucket")
        prefix = model_cache.get("prefix") or ""
        problem = relative_path_problem(str(prefix).strip("/")) if str(prefix).strip("/") else None
        if problem:
            raise InputError(variable + ".prefix", "%r %s; give plain names separated by '/' (or no prefix)"
                             % (prefix, problem))
        prefix = str(prefix).strip("/")
        return backend, "gs://%s%s" % (bucket, ("/" + prefix) if prefix else "")
    if backend == "filestore":
        local_path = model_cache.get("local_path")
        if not local_path or not isinstance(local_path, str):
            raise InputError(variable + ".local_path", "is required for backend filestore: the absolute path where "
                                                       "this host has the share mounted read-write")
        check_local_dest(local_path, variable + ".local_path")
        return backend, local_path
    return backend, ""


_ROLE_SETTINGS = (
    ("concurrency", 1, MAX_CONCURRENCY, " files at a time"),
    ("retries", 0, MAX_RETRIES, ""),
    ("prune_grace_hours", 0, MAX_PRUNE_GRACE_HOURS, " hours (to keep every revision, set models_prune to false)"),
)


def _settings_problems(settings, prefix, problems):
    for key, low, high, meaning in _ROLE_SETTINGS:
        if key in settings:
            try:
                check_int(settings[key], prefix + key, low, high, meaning)
            except InputError as exc:
                problems.append(exc)
    if "prune" in settings:
        try:
            boolean(settings["prune"], strict=True)
        except TypeError:
            problems.append(InputError(prefix + "prune", "must be true or false, got %r" % (settings["prune"],)))
    try:
        check_endpoint(settings.get("endpoint"), prefix + "endpoint")
    except InputError as exc:
        problems.append(exc)
    if settings.get("token") and not isinstance(settings["token"], str):
        problems.append(InputError(prefix + "token", "must be a string (keep it in a vault)"))


def model_stage_plan(models, model_cache, settings=None, models_variable="accelci_models",
                     cache_variable="accelci_model_cache", settings_prefix="models_"):
    """The models role's plan: ``{backend, dest, models, problems}``.

    ``models`` is the estate's list (``accelci_models``), ``model_cache`` its cache (``accelci_model_cache``),
    ``settings`` the role's own (``concurrency``, ``retries``, ``prune``, ``prune_grace_hours``, ``endpoint``,
    ``token``). ``models`` holds one token-free dict per entry (``index`` into the list, ``repo``, ``revision``,
    ``repo_type``, ``allow_patterns``, ``ignore_patterns``) for the role to loop over; ``problems`` lists every
    refusal as ``field: message`` text naming the variable the user wrote. Nothing is contacted.
    """
    problems = []
    entries = _model_entries(models, models_variable, problems)
    backend, dest = "none", ""
    try:
        backend, dest = _cache_dest(model_cache, cache_variable)
    except InputError as exc:
        problems.append(exc)
    _settings_problems(settings or {}, settings_prefix, problems)
    return {"backend": backend, "dest": dest, "models": entries, "problems": [str(exc) for exc in problems]}

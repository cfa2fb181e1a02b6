# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The model cache's layout, the same on both backends (paths relative to the cache root, ``gs://bucket/prefix`` or a
directory), and the manifests that describe what is staged (pure)::

    <org>/<name>                                  stable path jobs read: a symlink (on GCS an empty object with
                                                  metadata gcsfuse_symlink_target, which gcsfuse shows as one)
                                                  -> ../.accelci/models/<org>/<name>/revisions/<commit>
    .accelci/models/<org>/<name>/revisions/<commit>/...   the files of one commit; never modified once complete
    .accelci/models/<org>/<name>/manifests/<commit>.json  commit, files, sizes, sha256; written when complete
    .accelci/models/<org>/<name>/current.json             the published commit and the ones it replaced (and when)
    .accelci/models/<org>/<name>/partial/<commit>/...     filesystem only: verified files of a commit being staged
    .accelci/models/<org>/<name>/partial/<commit>.journal filesystem only: one line per verified file
    .accelci/models/<org>/<name>/partial/<commit>.incoming/...  filesystem only: bytes of files still downloading,
                                                  kept across runs so a restarted download resumes (HTTP Range)
    .accelci/models/<org>/<name>/uploads/<commit>/... GCS only: resumable upload objects and their session state,
                                                  and the parts of composite uploads

Datasets live under ``datasets/<org>/<name>`` and ``.accelci/models/datasets/<org>/<name>``.

Every path below the cache root is built from checked parts: a repo id (``hub_client.validate_repo_id``), a
40-hex commit, and the repo's file paths, which come from the Hub (or a mirror) and so from outside. Those pass
``relative_path_problem`` before anything is written: a path that is absolute, has an empty, ``.`` or ``..``
segment, a backslash, a NUL or another control character, or a drive prefix is refused, so nothing lands
outside the revision directory. Both stores check every path and object name they build the same way.

Pruning keeps a replaced revision at least ``MIN_PRUNE_GRACE_HOURS`` after it was replaced, whatever the setting:
a job that resolved the stable path just before the switch is still reading it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import posixpath
import re
from datetime import datetime, timezone

from ansible_collections.accelci.runners.plugins.module_utils.models.errors import StageError

MANIFEST_FORMAT = 1
STATE_ROOT = ".accelci/models"
_ISO_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
# The shortest time a replaced revision is kept, whatever prune_grace_hours says: a job that resolved the stable
# path just before the switch still reads it (and a GCS FUSE mount may still list it).
MIN_PRUNE_GRACE_HOURS = 1
JOURNAL_SUFFIX = ".journal"
INCOMING_SUFFIX = ".incoming"
COMMIT_RE = re.compile(r"^[0-9a-f]{40}$")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_DRIVE_RE = re.compile(r"^[A-Za-z]:")


def relative_path_problem(path):
    """Why ``path`` may not be used as a slash-separated path below a directory or prefix (None when it may).

    Accepted: relative POSIX paths whose segments are all real names, so that joining them under a directory
    can only land inside it. Refused: not text, empty, absolute, a NUL or another control character, a
    backslash (a separator on Windows), a drive prefix (``C:``), an empty segment (``a//b``, a trailing ``/``),
    a ``.`` or ``..`` segment.
    """
    if not isinstance(path, str):
        return "is not text"
    if not path:
        return "is empty"
    if "\x00" in path:
        return "contains a NUL byte"
    if _CONTROL_RE.search(path):
        return "contains a control character"
    if "\\" in path:
        return "contains a backslash"
    if path.startswith("/"):
        return "is absolute"
    if _DRIVE_RE.match(path):
        return "starts with a drive prefix"
    segments = path.split("/")
    if "" in segments:
        return "has an empty segment"
    if ".." in segments:
        return "has a '..' segment"
    if "." in segments:
        return "has a '.' segment"
    return None


def check_repo_files(files, where):
    """Raise StageError (kind unsafe_path) naming the first file whose path could leave the revision directory.

    ``files`` are RemoteFile (from the Hub's listing or a stored manifest); ``where`` names their origin
    (the repo and the Hub) for the message. Called before anything is written.
    """
    for remote in files:
        problem = relative_path_problem(remote.path)
        if problem:
            raise StageError("%s lists the file %r, whose path %s; refused before anything was written (only "
                             "relative paths that stay inside the revision directory are staged)"
                             % (where, remote.path, problem), kind="unsafe_path", files=[remote.path])


def checked_cache_path(rel):
    """``rel`` (a path below the cache root) when relative_path_problem finds nothing; StageError otherwise.

    The stores pass every path and object name they build through here, whatever its origin."""
    problem = relative_path_problem(rel)
    if problem:
        raise StageError("refused to use %r below the model cache: the path %s" % (rel, problem),
                         kind="unsafe_path", files=[rel])
    return rel


def check_commit(commit, where):
    """Raise StageError unless ``commit`` is a full lowercase 40-hex commit id (it becomes a directory name)."""
    if not isinstance(commit, str) or not COMMIT_RE.match(commit):
        raise StageError("%s gave %r as a commit id; expected 40 lowercase hex digits" % (where, commit),
                         kind="unsafe_path")
    return commit


def utc_now():
    """Now, as an aware UTC datetime."""
    return datetime.now(timezone.utc)


def iso(ts):
    """ISO-8601 text of an aware datetime."""
    return ts.strftime(_ISO_FORMAT)


def parse_iso(text):
    """The aware datetime of iso() text (None for None)."""
    if not text:
        return None
    return datetime.strptime(text, _ISO_FORMAT).replace(tzinfo=timezone.utc)


class RemoteFile(object):
    """One file of a repo at a commit, as the Hub's tree lists it (and a manifest records it)."""

    __slots__ = ("path", "size", "git_oid", "sha256")

    def __init__(self, path, size, git_oid, sha256=None):
        self.path = path
        self.size = int(size)
        self.git_oid = git_oid
        self.sha256 = sha256  # the LFS oid; None for files stored in git itself

    @property
    def lfs(self):
        """True for files the Hub keeps in LFS (verified by sha256, else by git blob sha1)."""
        return self.sha256 is not None

    def as_dict(self):
        """Plain-data form for manifests and results."""
        return {"path": self.path, "size": self.size, "git_oid": self.git_oid, "sha256": self.sha256}


class ModelLayout(object):
    """Where one repo's files, manifests, pointer and stable path live, relative to the cache root."""

    def __init__(self, repo_id, repo_type="model"):
        base = "datasets/" if repo_type == "dataset" else ""
        self.repo_id = repo_id
        self.stable = base + repo_id
        self.state = STATE_ROOT + "/" + base + repo_id

    def revision_dir(self, commit):
        """The immutable directory of one commit."""
        return "%s/revisions/%s" % (self.state, commit)

    def revisions_root(self):
        """The parent of all revision directories."""
        return self.state + "/revisions"

    def manifest(self, commit):
        """The manifest of one commit."""
        return "%s/manifests/%s.json" % (self.state, commit)

    def manifests_root(self):
        """The parent of all manifests."""
        return self.state + "/manifests"

    @property
    def pointer(self):
        """The published-commit record the module reads."""
        return self.state + "/current.json"

    def partial_dir(self, commit):
        """Filesystem staging area of a commit in progress."""
        return "%s/partial/%s" % (self.state, commit)

    def partial_root(self):
        """The parent of staging areas."""
        return self.state + "/partial"

    def journal(self, commit):
        """Filesystem: the journal of a commit's verified files."""
        return self.partial_dir(commit) + JOURNAL_SUFFIX

    def incoming_dir(self, commit):
        """Filesystem: bytes of a commit's files still downloading, kept so a restarted download resumes."""
        return self.partial_dir(commit) + INCOMING_SUFFIX

    def uploads_dir(self, commit):
        """GCS: resumable uploads, their session state and composite parts of a commit (never under revisions/)."""
        return "%s/uploads/%s" % (self.state, commit)

    def uploads_root(self):
        """GCS: the parent of upload areas."""
        return self.state + "/uploads"

    def link_target(self, commit):
        """The stable path's symlink target: relative, so it works wherever the cache is mounted."""
        parent = posixpath.dirname(self.stable) or "."
        return posixpath.relpath(self.revision_dir(commit), parent)


def applied_prune_grace_hours(requested):
    """The grace period pruning applies: the one asked for, but never less than MIN_PRUNE_GRACE_HOURS."""
    return max(float(requested), float(MIN_PRUNE_GRACE_HOURS))


def file_matches(entry, remote):
    """An entry ({size, sha256, git_oid}) already stored is the same content as the Hub's file."""
    if not entry or int(entry.get("size", -1)) != remote.size:
        return False
    if remote.lfs:
        return entry.get("sha256") == remote.sha256
    return entry.get("git_oid") == remote.git_oid


def remote_files_from_manifest(manifest):
    """RemoteFile list of a manifest's files."""
    return [RemoteFile(f["path"], f["size"], f.get("git_oid"), f.get("sha256") if f.get("lfs") else None)
            for f in manifest["files"]]


def manifest_bytes(document):
    """Stable JSON bytes for manifests and pointers."""
    return (json.dumps(document, indent=1, sort_keys=True) + "\n").encode("utf-8")


def revision_manifest(source, commit, files, digests, allow_patterns, ignore_patterns):
    """The manifest of a complete revision: what was asked for, each file with its digests, when."""
    entries = []
    for remote in files:
        entry = remote.as_dict()
        entry["lfs"] = remote.lfs
        entry["sha256"] = remote.sha256 or digests.get(remote.path)
        entries.append(entry)
    return {
        "format": MANIFEST_FORMAT,
        "repo_id": source.repo_id,
        "repo_type": source.repo_type,
        "revision": source.revision,
        "commit": commit,
        "allow_patterns": allow_patterns,
        "ignore_patterns": ignore_patterns,
        "files": entries,
        "total_bytes": sum(remote.size for remote in files),
        "staged_at": iso(utc_now()),
    }


def published_pointer(source, layout, commit, previous):
    """current.json once ``commit`` is published: the commit, and the ones it replaced with when."""
    history = []
    if previous and previous.get("commit") and previous["commit"] != commit:
        history.append({"commit": previous["commit"], "superseded_at": iso(utc_now())})
    for item in (previous or {}).get("history", []):
        if item.get("commit") != commit and item.get("commit") not in [h["commit"] for h in history]:
            history.append(item)
    return {
        "format": MANIFEST_FORMAT,
        "repo_id": source.repo_id,
        "repo_type": source.repo_type,
        "revision": source.revision,
        "commit": commit,
        "revision_path": layout.revision_dir(commit),
        "published_at": iso(utc_now()),
        "history": history,
    }

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
    .accelci/models/<org>/<name>/partial/<commit>/...     filesystem only: files of a commit being staged

Datasets live under ``datasets/<org>/<name>`` and ``.accelci/models/datasets/<org>/<name>``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import posixpath
from datetime import datetime, timezone

MANIFEST_FORMAT = 1
STATE_ROOT = ".accelci/models"
_ISO_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


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

    def link_target(self, commit):
        """The stable path's symlink target: relative, so it works wherever the cache is mounted."""
        parent = posixpath.dirname(self.stable) or "."
        return posixpath.relpath(self.revision_dir(commit), parent)


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

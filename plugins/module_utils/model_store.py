# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Staging a Hugging Face repo into a model cache (a GCS bucket or a filesystem share), safely.

The cache layout is the same on both backends (paths relative to the cache root, ``gs://bucket/prefix`` or a
directory)::

    <org>/<name>                                  stable path jobs read: a symlink (on GCS an empty object with
                                                  metadata gcsfuse_symlink_target, which gcsfuse shows as one)
                                                  -> ../.accelci/models/<org>/<name>/revisions/<commit>
    .accelci/models/<org>/<name>/revisions/<commit>/...   the files of one commit; never modified once complete
    .accelci/models/<org>/<name>/manifests/<commit>.json  commit, files, sizes, sha256; written when complete
    .accelci/models/<org>/<name>/current.json             the published commit and the ones it replaced (and when)
    .accelci/models/<org>/<name>/partial/<commit>/...     filesystem only: files of a commit being staged

Datasets live under ``datasets/<org>/<name>`` and ``.accelci/models/datasets/<org>/<name>``.

A run: resolve the revision to a commit (one Hub request); if that commit is already published with the same
file selection and every file is present, stop there. Otherwise list the files (one more request), skip those
already present and verified, copy those that an earlier revision holds with the same digest (server-side on
GCS, a hard link on a filesystem), download the rest concurrently while hashing, verify each against the Hub's
sha256 (LFS) or git blob sha1, and only then make it visible under the revision path. When every file is in
place, write the manifest, then the pointer, then switch the stable path (last). Old revisions are pruned after
a grace period so running jobs keep what they opened.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import json
import posixpath
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import datetime, timezone

from ansible_collections.accelci.runners.plugins.module_utils.hf_source import (
    DigestMismatch,
    FileDigest,
    HubError,
    RemoteFile,
)

MANIFEST_FORMAT = 1
STATE_ROOT = ".accelci/models"


class StageError(Exception):
    """Staging failed; ``files`` names the files concerned, ``kind`` says how."""

    def __init__(self, message, kind="error", files=None):
        super(StageError, self).__init__(message)
        self.kind = kind
        self.files = files or []


def utc_now():
    """Now, as an aware UTC datetime."""
    return datetime.now(timezone.utc)


def iso(ts):
    """ISO-8601 text of an aware datetime."""
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text):
    """The aware datetime of iso() text (None for None)."""
    if not text:
        return None
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


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


class StageProgress(object):
    """Thread-safe byte and file counters of one run."""

    def __init__(self):
        self._lock = threading.Lock()
        self.bytes_transferred = 0   # bytes received from the Hub (failed attempts included)
        self.bytes_copied = 0        # bytes reused from an earlier revision in the cache
        self.bytes_skipped = 0       # bytes already present in this revision
        self.files_transferred = 0
        self.files_copied = 0
        self.files_skipped = 0
        self.retries = []

    def add(self, **counts):
        """Add to counters (name=amount)."""
        with self._lock:
            for name, amount in counts.items():
                setattr(self, name, getattr(self, name) + amount)

    def note_retry(self, path, error):
        """Record one retried transfer."""
        with self._lock:
            self.retries.append({"path": path, "error": error})


class ModelStager(object):
    """Stage one repo at one revision into one store. ``run()`` returns the result dict of the module."""

    def __init__(self, source, store, allow_patterns=None, ignore_patterns=None, concurrency=8, retries=3,
                 prune=False, prune_grace_hours=24.0, check_mode=False, retry_base=1.0, log=None):
        self.source = source
        self.store = store
        self.layout = ModelLayout(source.repo_id, source.repo_type)
        self.allow_patterns = sorted(allow_patterns or [])
        self.ignore_patterns = sorted(ignore_patterns or [])
        self.concurrency = max(1, int(concurrency))
        self.retries = max(0, int(retries))
        self.prune = prune
        self.prune_grace_hours = float(prune_grace_hours)
        self.check_mode = check_mode
        self.retry_base = retry_base
        self.progress = StageProgress()
        self.log = log or (lambda msg: None)

    # -- planning --------------------------------------------------------------------------------------------
    def _selection_matches(self, manifest):
        return (sorted(manifest.get("allow_patterns") or []) == self.allow_patterns
                and sorted(manifest.get("ignore_patterns") or []) == self.ignore_patterns)

    def _reuse_index(self, pointer, commit):
        """(size, digest) -> (commit, path) over the published revision, for copy instead of download."""
        index = {}
        if not pointer or not pointer.get("commit") or pointer["commit"] == commit:
            return index
        manifest = self.store.read_manifest(self.layout, pointer["commit"])
        if not manifest:
            return index
        for entry in manifest["files"]:
            key_sha = ("sha256", entry["size"], entry.get("sha256"))
            key_git = ("git", entry["size"], entry.get("git_oid"))
            index.setdefault(key_sha, (pointer["commit"], entry["path"], entry))
            index.setdefault(key_git, (pointer["commit"], entry["path"], entry))
        return index

    @staticmethod
    def _reuse_key(remote):
        if remote.lfs:
            return ("sha256", remote.size, remote.sha256)
        return ("git", remote.size, remote.git_oid)

    def plan(self, commit, pointer):
        """(files, actions, manifest): actions is a list of (action, RemoteFile, source) with action in
        skip / copy / download."""
        manifest = self.store.read_manifest(self.layout, commit)
        if manifest and self._selection_matches(manifest):
            # A commit's content never changes: its manifest stands in for the Hub's tree listing.
            files = remote_files_from_manifest(manifest)
        else:
            manifest = None
            files = self.source.list_files(commit, self.allow_patterns, self.ignore_patterns)
        if not files:
            raise StageError("%s %s at %s: no file matches allow_patterns=%s ignore_patterns=%s"
                             % (self.source.repo_type, self.source.repo_id, commit, self.allow_patterns,
                                self.ignore_patterns), kind="empty")
        present = self.store.revision_files(self.layout, commit)
        reuse = self._reuse_index(pointer, commit)
        actions = []
        for remote in files:
            if file_matches(present.get(remote.path), remote):
                actions.append(("skip", remote, present[remote.path]))
            elif self._reuse_key(remote) in reuse:
                actions.append(("copy", remote, reuse[self._reuse_key(remote)]))
            else:
                actions.append(("download", remote, None))
        return files, actions, manifest

    # -- transfer --------------------------------------------------------------------------------------------
    def _download(self, commit, remote):
        """Stream one file from the Hub into the store, verified; retried on network errors."""
        attempt = 0
        while True:
            writer = self.store.open_writer(self.layout, commit, remote)
            digest = FileDigest(remote)

            def consume(chunk):
                digest.update(chunk)
                writer.write(chunk)

            try:
                received = self.source.stream(commit, remote, consume)
                self.progress.add(bytes_transferred=received)
                sha256 = digest.verify()
                writer.commit(sha256, digest)
                self.progress.add(files_transferred=1)
                return sha256
            except DigestMismatch as exc:
                writer.abort()
                if attempt >= self.retries:
                    raise StageError("%s; it was not published" % exc, kind="corrupt", files=[remote.path])
                self.progress.note_retry(remote.path, str(exc))
            except HubError as exc:
                writer.abort()
                self.progress.add(bytes_transferred=digest.size)
                if exc.kind != "network" or attempt >= self.retries:
                    raise StageError(str(exc), kind=exc.kind, files=[remote.path])
                self.progress.note_retry(remote.path, str(exc))
            except EnvironmentError as exc:
                writer.abort()
                if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                    raise StageError("no space left on %s while writing %s (%s); nothing was published"
                                     % (self.store.describe(), remote.path, exc.strerror),
                                     kind="no_space", files=[remote.path])
                raise StageError("cannot write %s to %s: %s" % (remote.path, self.store.describe(), exc),
                                 kind="write", files=[remote.path])
            except BaseException:
                writer.abort()
                raise
            attempt += 1
            time.sleep(self.retry_base * (2 ** (attempt - 1)) * (0.5 + random.random() / 2))

    def _copy(self, commit, remote, source):
        src_commit, src_path, entry = source
        self.store.copy_file(self.layout, src_commit, src_path, commit, remote, entry)
        self.progress.add(bytes_copied=remote.size, files_copied=1)
        return entry.get("sha256")

    def _execute(self, commit, actions):
        """Run copies and downloads on a thread pool; returns {path: sha256}; first failure cancels the rest."""
        digests = {}
        work = [(a, r, s) for a, r, s in actions if a != "skip"]
        for action, remote, entry in actions:
            if action == "skip":
                digests[remote.path] = entry.get("sha256")
                self.progress.add(bytes_skipped=remote.size, files_skipped=1)
        if not work:
            return digests
        # Large files first so the pool stays busy to the end.
        work.sort(key=lambda item: -item[1].size)
        failures = []
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            futures = {}
            for action, remote, source in work:
                if action == "copy":
                    futures[pool.submit(self._copy, commit, remote, source)] = remote
                else:
                    futures[pool.submit(self._download, commit, remote)] = remote
            for future in as_completed(futures):
                remote = futures[future]
                if future.cancelled():
                    continue  # not started because an earlier file failed
                try:
                    digests[remote.path] = future.result()
                except StageError as exc:
                    failures.append(exc)
                    for other in futures:
                        other.cancel()
                except Exception as exc:  # a store error: name the file
                    failures.append(StageError("%s: %s" % (remote.path, self.store.describe_error(exc)),
                                               kind="store", files=[remote.path]))
                    for other in futures:
                        other.cancel()
        if failures:
            first = failures[0]
            names = sorted(set(name for exc in failures for name in exc.files))
            raise StageError(str(first), kind=first.kind, files=names)
        return digests

    # -- the run ---------------------------------------------------------------------------------------------
    def _manifest(self, commit, files, digests):
        entries = []
        for remote in files:
            entry = remote.as_dict()
            entry["lfs"] = remote.lfs
            entry["sha256"] = remote.sha256 or digests.get(remote.path)
            entries.append(entry)
        return {
            "format": MANIFEST_FORMAT,
            "repo_id": self.source.repo_id,
            "repo_type": self.source.repo_type,
            "revision": self.source.revision,
            "commit": commit,
            "allow_patterns": self.allow_patterns,
            "ignore_patterns": self.ignore_patterns,
            "files": entries,
            "total_bytes": sum(remote.size for remote in files),
            "staged_at": iso(utc_now()),
        }

    def _pointer(self, commit, previous):
        history = []
        if previous and previous.get("commit") and previous["commit"] != commit:
            history.append({"commit": previous["commit"], "superseded_at": iso(utc_now())})
        for item in (previous or {}).get("history", []):
            if item.get("commit") not in (commit,) and item.get("commit") not in [h["commit"] for h in history]:
                history.append(item)
        return {
            "format": MANIFEST_FORMAT,
            "repo_id": self.source.repo_id,
            "repo_type": self.source.repo_type,
            "revision": self.source.revision,
            "commit": commit,
            "revision_path": self.layout.revision_dir(commit),
            "published_at": iso(utc_now()),
            "history": history,
        }

    def _prunable(self, pointer, commit):
        """Revisions (and abandoned partial stagings) that nothing points at and whose grace period is over."""
        now = utc_now()
        superseded = {}
        for item in (pointer or {}).get("history", []):
            superseded[item["commit"]] = parse_iso(item.get("superseded_at"))
        doomed = []
        for rev in self.store.list_revisions(self.layout):
            if rev["commit"] == commit:
                continue
            since = superseded.get(rev["commit"]) or rev.get("mtime")
            if since is None:
                continue
            age_hours = (now - since).total_seconds() / 3600.0
            if age_hours >= self.prune_grace_hours:
                doomed.append(dict(rev, age_hours=round(age_hours, 2)))
        return doomed

    def run(self):
        """Stage, verify, publish, prune. Returns the module's result (changed, model, diff)."""
        started = time.monotonic()
        self.store.check_destination(self.layout, write=not self.check_mode)
        pointer = self.store.read_pointer(self.layout)
        stable_before = self.store.stable_target(self.layout)
        commit = self.source.resolve()
        target = self.layout.link_target(commit)
        before = {"commit": (pointer or {}).get("commit"), "stable_target": stable_before}
        files, actions, manifest = self.plan(commit, pointer)
        pending = [(a, r) for a, r, _s in actions if a != "skip"]
        needs_publish = bool(pending) or manifest is None or (pointer or {}).get("commit") != commit \
            or stable_before != target
        result = {
            "repo_id": self.source.repo_id,
            "repo_type": self.source.repo_type,
            "revision": self.source.revision,
            "commit": commit,
            "dest": self.store.describe(),
            "stable_path": self.store.describe(self.layout.stable),
            "revision_path": self.store.describe(self.layout.revision_dir(commit)),
            "manifest_path": self.store.describe(self.layout.manifest(commit)),
            "files": len(files),
            "total_bytes": sum(r.size for r in files),
            "previous_commit": (pointer or {}).get("commit"),
        }
        if self.check_mode:
            downloads = [{"path": r.path, "size": r.size} for a, r in pending if a == "download"]
            copies = [{"path": r.path, "size": r.size} for a, r in pending if a == "copy"]
            prunable = self._prunable(pointer, commit) if self.prune else []
            result.update({
                "would_download": downloads,
                "would_copy": copies,
                "bytes_to_download": sum(item["size"] for item in downloads),
                "bytes_transferred": 0,
                "bytes_skipped": sum(r.size for a, r, _s in actions if a == "skip"),
                "pruned": [rev["commit"] for rev in prunable],
                "hub_requests": self.source.requests,
                "duration": round(time.monotonic() - started, 3),
            })
            changed = needs_publish or bool(prunable)
            return {"changed": changed, "model": result,
                    "diff": {"before": before, "after": {"commit": commit, "stable_target": target}}}
        if needs_publish:
            digests = self._execute(commit, actions)
            if manifest is None:
                manifest = self._manifest(commit, files, digests)
            self.store.finalize_revision(self.layout, commit, manifest)
            new_pointer = self._pointer(commit, pointer)
            self.store.publish(self.layout, commit, new_pointer, target)
            pointer = new_pointer
        else:
            for _a, remote, _s in actions:
                self.progress.add(bytes_skipped=remote.size, files_skipped=1)
        pruned = []
        if self.prune:
            for rev in self._prunable(pointer, commit):
                self.store.delete_revision(self.layout, rev["commit"])
                pruned.append(rev["commit"])
            if pruned:
                self.store.forget_history(self.layout, pointer, pruned)
        progress = self.progress
        result.update({
            "bytes_transferred": progress.bytes_transferred,
            "bytes_copied": progress.bytes_copied,
            "bytes_skipped": progress.bytes_skipped,
            "files_transferred": progress.files_transferred,
            "files_copied": progress.files_copied,
            "files_skipped": progress.files_skipped,
            "retries": progress.retries,
            "pruned": pruned,
            "hub_requests": self.source.requests,
            "published": needs_publish,
            "duration": round(time.monotonic() - started, 3),
        })
        return {"changed": needs_publish or bool(pruned), "model": result,
                "diff": {"before": before, "after": {"commit": commit, "stable_target": target}}}


def manifest_bytes(document):
    """Stable JSON bytes for manifests and pointers."""
    return (json.dumps(document, indent=1, sort_keys=True) + "\n").encode("utf-8")

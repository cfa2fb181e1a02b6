# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The model cache on a filesystem (a mounted Filestore share, NFS, a local disk); see models/layout.py for the layout.

A file's bytes go to ``partial/<commit>.incoming/<path>`` as they arrive; once its digest matched it is fsynced and
renamed into the commit's ``partial/`` area, and a journal line records its digests, so a killed run resumes
without re-reading or re-downloading finished files. A file cut short (a dropped connection, a killed process)
keeps its bytes in ``.incoming``: the next attempt hashes them again from disk and asks the Hub only for the rest
(HTTP Range), or starts over when the server sends the whole file. Each incoming file is locked while written, so
two runs never append to the same one. When all files are in, the manifest is written and the partial directory
is renamed to ``revisions/<commit>`` in one step; the stable path is a symlink replaced by rename.

Every path is built from layout paths through ``layout.checked_cache_path``: nothing outside the root is read,
written, linked or deleted, whatever a Hub listing or a stored manifest says.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import fcntl
import json
import os
import shutil
import threading
import uuid
from datetime import datetime, timezone

from ansible_collections.accelci.runners.plugins.module_utils._common.files import write_atomic
from ansible_collections.accelci.runners.plugins.module_utils.models.errors import StageError
from ansible_collections.accelci.runners.plugins.module_utils.models.layout import (
    COMMIT_RE,
    INCOMING_SUFFIX,
    JOURNAL_SUFFIX,
    checked_cache_path,
    manifest_bytes,
)

TEMP_MARK = ".accelci-part-"
REPLAY_CHUNK = 8 * 1024 * 1024


def _present_with_size(directory, entries):
    """{path: entry} of the entries whose file under ``directory`` exists with the recorded size."""
    found = {}
    for entry in entries:
        try:
            if os.path.getsize(os.path.join(directory, entry["path"])) == entry["size"]:
                found[entry["path"]] = entry
        except OSError:
            pass
    return found


class _FsFileWriter(object):
    """One file being downloaded into a commit's incoming area, resumable across attempts and runs."""

    replayable = True  # the bytes held are on local disk: a resumed download hashes them again

    def __init__(self, store, layout, commit, remote):
        self.store = store
        self.final = store.path(layout.partial_dir(commit), remote.path)
        self.incoming = store.path(layout.incoming_dir(commit), remote.path)
        self.journal = store.path(layout.journal(commit))
        self.remote = remote
        os.makedirs(os.path.dirname(self.incoming), exist_ok=True)
        self._handle = store.open_for_write(self.incoming)
        try:
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            # A share without lock support (ENOLCK, EOPNOTSUPP) stages unguarded: one stager per cache is the rule.
            if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                self._handle.close()
                raise StageError("%s is being written by another model_stage run; run one stager per cache at a "
                                 "time" % self.incoming, kind="write", files=[remote.path])
        self.offset = self._handle.seek(0, os.SEEK_END)
        if self.offset > remote.size:  # not this file's bytes: start over
            self.restart()

    def replay(self, update):
        """Feed the bytes already held to ``update`` (read back from disk, in order)."""
        with open(self.incoming, "rb") as handle:
            left = self.offset
            while left > 0:
                data = handle.read(min(REPLAY_CHUNK, left))
                if not data:
                    raise OSError(errno.EIO, "%s shrank while it was read back" % self.incoming)
                update(data)
                left -= len(data)

    def restart(self):
        """Drop the bytes held: the server sends the whole file."""
        self._handle.seek(0)
        self._handle.truncate(0)
        self.offset = 0

    def write(self, data):
        """Append bytes."""
        self._handle.write(data)

    def commit(self, sha256, digest):
        """Make the verified file visible under its name in the partial area and journal it."""
        self._handle.flush()
        os.fsync(self._handle.fileno())
        os.chmod(self.incoming, 0o444)
        os.makedirs(os.path.dirname(self.final), exist_ok=True)
        os.replace(self.incoming, self.final)
        self._handle.close()
        self.store.journal_add(self.journal, {"path": self.remote.path, "size": self.remote.size,
                                              "sha256": sha256, "git_oid": self.remote.git_oid})
        return sha256

    def abort(self, keep=False):
        """Stop writing; ``keep`` leaves the bytes for the next attempt to resume from, else they are dropped."""
        try:
            if not self._handle.closed:
                self._handle.flush()
                self._handle.close()
        except OSError:
            pass
        if not keep:
            try:
                os.unlink(self.incoming)
            except OSError:
                pass


class FsModelStore(object):
    """A model cache rooted at a directory."""

    def __init__(self, root):
        self.root = os.path.abspath(root)
        self._journal_lock = threading.Lock()

    # -- helpers ---------------------------------------------------------------------------------------------
    def path(self, *parts):
        """Absolute path of a layout path (parts joined by '/'); StageError for one that could leave the root."""
        return os.path.join(self.root, *checked_cache_path("/".join(parts)).split("/"))

    def describe(self, rel=None):
        """Human form of the destination (or of a path in it)."""
        return self.path(rel) if rel else self.root

    @staticmethod
    def describe_error(exc):
        """One line for a store exception."""
        return "%s: %s" % (type(exc).__name__, exc)

    def open_for_write(self, path):
        """Open a file for appending, created when missing (tests wrap this to simulate a full disk)."""
        return open(path, "ab")

    def journal_add(self, journal, entry):
        """Append one line to a partial commit's journal (one write per line: whole lines or nothing)."""
        line = (json.dumps(entry, sort_keys=True) + "\n").encode("utf-8")
        with self._journal_lock:
            fd = os.open(journal, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            try:
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)

    # -- interface used by ModelStager ------------------------------------------------------------------------
    def check_destination(self, layout, write=True):
        """The root exists (or can be made), is a directory, is writable; the stable path is ours or free."""
        if not os.path.isdir(self.root):
            parent = os.path.dirname(self.root)
            if os.path.exists(self.root) or (os.path.exists(parent) and not os.path.isdir(parent)):
                raise StageError("dest %s is not writable: not a directory" % self.root, kind="dest")
            # The cache root is not created here: when it is the mount point of a share that is not mounted, the
            # models would fill the local disk instead.
            raise StageError("dest %s does not exist: mount the share there (or create the directory) first"
                             % self.root, kind="dest")
        if not write:
            self._check_stable(layout)
            return
        try:
            # At the root and removed at once: a run refused later (a bad listing) leaves nothing behind.
            probe = self.path(".accelci-write-probe-%s" % uuid.uuid4().hex[:8])
            with open(probe, "xb") as handle:
                handle.write(b"ok")
            os.unlink(probe)
        except OSError as exc:
            raise StageError("dest %s is not writable: %s (mount the share read-write on the host that stages, "
                             "and check its permissions)" % (self.root, exc.strerror or exc), kind="dest")
        self._check_stable(layout)

    def _check_stable(self, layout):
        stable = self.path(layout.stable)
        if os.path.lexists(stable) and not os.path.islink(stable):
            raise StageError(
                "%s exists and is not a symlink published by model_stage (an older copy made by hand?); move it "
                "away so the stable path can point at a verified revision" % stable, kind="stable_conflict")

    def read_pointer(self, layout):
        """current.json, or None."""
        return self._read_json(self.path(layout.pointer))

    def read_manifest(self, layout, commit):
        """A commit's manifest, or None."""
        return self._read_json(self.path(layout.manifest(commit)))

    @staticmethod
    def _read_json(path):
        try:
            with open(path, "rb") as handle:
                return json.loads(handle.read().decode("utf-8"))
        except (OSError, ValueError):
            return None

    def stable_target(self, layout):
        """Where the stable path points now (None if absent)."""
        stable = self.path(layout.stable)
        if os.path.islink(stable):
            return os.readlink(stable)
        return None

    def revision_files(self, layout, commit):
        """{path: {size, sha256, git_oid}} of the commit's files already stored and verified."""
        complete = self.path(layout.revision_dir(commit))
        if os.path.isdir(complete):
            manifest = self.read_manifest(layout, commit) or {"files": []}
            return _present_with_size(complete, manifest["files"])
        journal = self.path(layout.journal(commit))
        partial = self.path(layout.partial_dir(commit))
        try:
            with open(journal, "rb") as handle:
                lines = handle.read().decode("utf-8").splitlines()
        except OSError:
            return {}
        entries = []
        for line in lines:
            try:
                entries.append(json.loads(line))
            except ValueError:
                continue  # a line cut by a crash: that file is simply fetched again
        return _present_with_size(partial, entries)

    def open_writer(self, layout, commit, remote):
        """A writer for one file of a commit."""
        return _FsFileWriter(self, layout, commit, remote)

    def copy_file(self, layout, src_commit, src_path, commit, remote, entry):
        """Reuse a file of an earlier revision: a hard link (immutable files), a copy across devices."""
        src = self.path(layout.revision_dir(src_commit), src_path)
        dst = self.path(layout.partial_dir(commit), remote.path)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if os.path.lexists(dst):
            os.unlink(dst)
        try:
            os.link(src, dst)
        except OSError as exc:
            if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
                raise
            tmp = "%s%scopy-%s" % (dst, TEMP_MARK, uuid.uuid4().hex[:8])
            shutil.copyfile(src, tmp)
            os.chmod(tmp, 0o444)
            os.replace(tmp, dst)
        if os.path.getsize(dst) != remote.size:
            os.unlink(dst)
            raise StageError("%s in revision %s has the wrong size; it was not reused" % (src_path, src_commit),
                             kind="corrupt", files=[remote.path])
        self.journal_add(self.path(layout.journal(commit)),
                         {"path": remote.path, "size": remote.size, "sha256": entry.get("sha256"),
                          "git_oid": remote.git_oid})

    def finalize_revision(self, layout, commit, manifest):
        """Write the manifest, then move the partial area to revisions/<commit> in one rename."""
        complete = self.path(layout.revision_dir(commit))
        partial = self.path(layout.partial_dir(commit))
        os.makedirs(self.path(layout.manifests_root()), exist_ok=True)
        os.makedirs(self.path(layout.revisions_root()), exist_ok=True)
        if not os.path.isdir(complete):
            for dirpath, _dirs, names in os.walk(partial):
                for name in names:
                    if TEMP_MARK in name:
                        os.unlink(os.path.join(dirpath, name))  # leftovers of killed runs
            write_atomic(self.path(layout.manifest(commit)), manifest_bytes(manifest), fsync=True)
            os.rename(partial, complete)
        elif not os.path.exists(self.path(layout.manifest(commit))):
            write_atomic(self.path(layout.manifest(commit)), manifest_bytes(manifest), fsync=True)
        journal = self.path(layout.journal(commit))
        if os.path.exists(journal):
            os.unlink(journal)
        incoming = self.path(layout.incoming_dir(commit))
        if os.path.isdir(incoming):
            shutil.rmtree(incoming)  # bytes of files that another revision's copy made unnecessary
        try:
            os.rmdir(self.path(layout.partial_root()))
        except OSError:
            pass  # other commits still staging there

    def publish(self, layout, commit, pointer, target):
        """Record the pointer, then switch the stable symlink by renaming a new one over it."""
        write_atomic(self.path(layout.pointer), manifest_bytes(pointer), fsync=True)
        stable = self.path(layout.stable)
        os.makedirs(os.path.dirname(stable), exist_ok=True)
        tmp = "%s.accelci-link-%s" % (stable, uuid.uuid4().hex[:8])
        os.symlink(target, tmp)
        try:
            os.replace(tmp, stable)
        except BaseException:
            os.unlink(tmp)
            raise

    def list_revisions(self, layout):
        """Stored revisions and partial stagings: [{commit, complete, mtime}]."""
        found, seen = [], {}
        for root_rel, complete in ((layout.revisions_root(), True), (layout.partial_root(), False)):
            base = self.path(root_rel)
            if not os.path.isdir(base):
                continue
            for name in sorted(os.listdir(base)):
                full = os.path.join(base, name)
                if not os.path.isdir(full) or name.endswith(JOURNAL_SUFFIX):
                    continue
                commit = name[:-len(INCOMING_SUFFIX)] if name.endswith(INCOMING_SUFFIX) else name
                if not COMMIT_RE.match(commit):
                    continue  # not a revision this module wrote: never a candidate for deletion
                mtime = datetime.fromtimestamp(os.lstat(full).st_mtime, timezone.utc)
                if commit in seen:  # a partial commit and its incoming bytes: one entry, the newest time
                    seen[commit]["mtime"] = max(seen[commit]["mtime"], mtime)
                    continue
                seen[commit] = {"commit": commit, "complete": complete, "mtime": mtime}
                found.append(seen[commit])
        return found

    def delete_revision(self, layout, commit):
        """Remove a revision (complete or partial) and its manifest."""
        for rel in (layout.revision_dir(commit), layout.partial_dir(commit), layout.incoming_dir(commit)):
            full = self.path(rel)
            if os.path.isdir(full):
                shutil.rmtree(full)
        for rel in (layout.manifest(commit), layout.journal(commit)):
            full = self.path(rel)
            if os.path.exists(full):
                os.unlink(full)

    def forget_history(self, layout, pointer, commits):
        """Drop pruned commits from the pointer's history."""
        pointer["history"] = [h for h in pointer.get("history", []) if h.get("commit") not in commits]
        write_atomic(self.path(layout.pointer), manifest_bytes(pointer), fsync=True)

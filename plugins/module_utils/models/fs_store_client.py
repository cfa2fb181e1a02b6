# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The model cache on a filesystem (a mounted Filestore share, NFS, a local disk); see models/layout.py for the layout.

A file is written under a temporary name in the commit's ``partial/`` area, fsynced, and renamed to its real name
only after its digest matched; a journal line then records its digests, so a killed run resumes without
re-reading or re-downloading finished files. When all files are in, the manifest is written and the partial
directory is renamed to ``revisions/<commit>`` in one step; the stable path is a symlink replaced by rename.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import json
import os
import shutil
import threading
import uuid
from datetime import datetime, timezone

from ansible_collections.accelci.runners.plugins.module_utils._common.files import write_atomic
from ansible_collections.accelci.runners.plugins.module_utils.models.errors import StageError
from ansible_collections.accelci.runners.plugins.module_utils.models.layout import manifest_bytes

JOURNAL_SUFFIX = ".journal"
TEMP_MARK = ".accelci-part-"


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
    """One file being written into a commit's partial area."""

    def __init__(self, store, layout, commit, remote):
        self.store = store
        self.final = store.path(layout.partial_dir(commit), remote.path)
        self.journal = store.path(layout.partial_dir(commit) + JOURNAL_SUFFIX)
        self.remote = remote
        self.tmp = "%s%s%s-%s" % (self.final, TEMP_MARK, os.getpid(), uuid.uuid4().hex[:8])
        parent = os.path.dirname(self.final)
        os.makedirs(parent, exist_ok=True)
        self._handle = store.open_for_write(self.tmp)

    def write(self, data):
        """Append bytes."""
        self._handle.write(data)

    def commit(self, sha256, digest):
        """Make the verified file visible under its name in the partial area and journal it."""
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        os.chmod(self.tmp, 0o444)
        os.replace(self.tmp, self.final)
        self.store.journal_add(self.journal, {"path": self.remote.path, "size": self.remote.size,
                                              "sha256": sha256, "git_oid": self.remote.git_oid})

    def abort(self):
        """Drop what was written."""
        try:
            if not self._handle.closed:
                self._handle.close()
        except OSError:
            pass
        try:
            os.unlink(self.tmp)
        except OSError:
            pass


class FsModelStore(object):
    """A model cache rooted at a directory."""

    def __init__(self, root):
        self.root = os.path.abspath(root)
        self._journal_lock = threading.Lock()

    # -- helpers ---------------------------------------------------------------------------------------------
    def path(self, *parts):
        """Absolute path of a layout path."""
        return os.path.join(self.root, *[p for part in parts for p in part.split("/") if p])

    def describe(self, rel=None):
        """Human form of the destination (or of a path in it)."""
        return self.path(rel) if rel else self.root

    @staticmethod
    def describe_error(exc):
        """One line for a store exception."""
        return "%s: %s" % (type(exc).__name__, exc)

    def open_for_write(self, path):
        """Open a new file for writing (tests wrap this to simulate a full disk)."""
        return open(path, "xb")

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
            os.makedirs(self.path(layout.state), exist_ok=True)
            probe = self.path(layout.state, ".write-probe-%s" % uuid.uuid4().hex[:8])
            with open(probe, "wb") as handle:
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
        journal = self.path(layout.partial_dir(commit) + JOURNAL_SUFFIX)
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
        self.journal_add(self.path(layout.partial_dir(commit) + JOURNAL_SUFFIX),
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
        journal = partial + JOURNAL_SUFFIX
        if os.path.exists(journal):
            os.unlink(journal)
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
        found = []
        for root_rel, complete in ((layout.revisions_root(), True), (layout.partial_root(), False)):
            base = self.path(root_rel)
            if not os.path.isdir(base):
                continue
            for name in sorted(os.listdir(base)):
                full = os.path.join(base, name)
                if not os.path.isdir(full) or name.endswith(JOURNAL_SUFFIX):
                    continue
                mtime = datetime.fromtimestamp(os.lstat(full).st_mtime, timezone.utc)
                found.append({"commit": name, "complete": complete, "mtime": mtime})
        return found

    def delete_revision(self, layout, commit):
        """Remove a revision (complete or partial) and its manifest."""
        for rel in (layout.revision_dir(commit), layout.partial_dir(commit)):
            full = self.path(rel)
            if os.path.isdir(full):
                shutil.rmtree(full)
        for rel in (layout.manifest(commit), layout.partial_dir(commit) + JOURNAL_SUFFIX):
            full = self.path(rel)
            if os.path.exists(full):
                os.unlink(full)

    def forget_history(self, layout, pointer, commits):
        """Drop pruned commits from the pointer's history."""
        pointer["history"] = [h for h in pointer.get("history", []) if h.get("commit") not in commits]
        write_atomic(self.path(layout.pointer), manifest_bytes(pointer), fsync=True)

# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The model cache in a GCS bucket (read by runner pods through GCS FUSE); see models/layout.py for the layout.

Bytes stream from the Hub straight into the bucket: small files are buffered in memory and sent in one request
once verified; large ones are sent as parts while they stream and composed into the object only after the digest
matched (or, with composite uploads off, through a resumable upload whose final chunk waits for the digest), so a
corrupted or interrupted transfer never becomes an object under the revision path. Objects carry the Hub's digests as custom
metadata (``accelci-sha256``, ``accelci-git-oid``, ``accelci-commit``) and GCS checks the crc32c of every upload,
so a later run trusts an object whose size and metadata match. Directory placeholder objects (``dir/``) are
written for every directory so gcsfuse lists them without ``implicit-dirs``. The stable path is an empty object
with metadata ``gcsfuse_symlink_target``, which gcsfuse presents as a symlink; it is rewritten last.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import posixpath
import traceback
import uuid

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import InputError
from ansible_collections.accelci.runners.plugins.module_utils.models.errors import StageError
from ansible_collections.accelci.runners.plugins.module_utils.models.layout import manifest_bytes

try:
    from google.api_core import exceptions as gexc

    HAS_GOOGLE_API_CORE = True
    GOOGLE_API_CORE_IMP_ERR = None
except ImportError:
    HAS_GOOGLE_API_CORE = False
    GOOGLE_API_CORE_IMP_ERR = traceback.format_exc()

SYMLINK_METADATA = "gcsfuse_symlink_target"
META_SHA256 = "accelci-sha256"
META_GIT_OID = "accelci-git-oid"
META_COMMIT = "accelci-commit"
SMALL_FILE = 8 * 1024 * 1024
# Resumable upload chunk: google-cloud-storage's own default (a multiple of 256 KiB, as GCS requires). Fewer,
# larger chunks mean fewer round trips; memory is at most concurrency x chunk.
UPLOAD_CHUNK = 100 * 1024 * 1024
PART_SIZE = 32 * 1024 * 1024  # parts of composite uploads
MAX_COMPOSE = 32  # sources per compose request


def parse_gcs_url(dest):
    """'gs://bucket/prefix' -> (bucket, 'prefix/' or ''); InputError (field dest) for anything else."""
    if not dest.startswith("gs://"):
        raise InputError("dest", "%r is not a gs:// URL" % (dest,))
    rest = dest[len("gs://"):]
    bucket, _sep, prefix = rest.partition("/")
    if not bucket:
        raise InputError("dest", "%r has no bucket name; expected gs://BUCKET[/PREFIX]" % (dest,))
    prefix = prefix.strip("/")
    return bucket, (prefix + "/") if prefix else ""


def widen_connection_pool(client, concurrency):
    """One HTTP connection per worker: requests' default pool of 10 would make threads wait (and warn)."""
    try:
        import requests.adapters

        adapter = requests.adapters.HTTPAdapter(pool_connections=concurrency + 4, pool_maxsize=concurrency + 4)
        client._http.mount("https://", adapter)
        client._http.mount("http://", adapter)
    except Exception:  # a client without a requests session keeps its own pooling
        pass


class _GcsSmallWriter(object):
    """A file small enough to hold in memory until it is verified, then one upload request."""

    def __init__(self, store, name, remote, commit):
        self.store = store
        self.name = name
        self.remote = remote
        self.commit_id = commit
        self._parts = []

    def write(self, data):
        """Append bytes."""
        self._parts.append(data)

    def commit(self, sha256, digest):
        """Upload the verified bytes with their digests as metadata."""
        blob = self.store.bucket.blob(self.name)
        blob.metadata = self.store.object_metadata(self.remote, sha256, self.commit_id)
        data = b"".join(self._parts)
        self._parts = []
        kwargs = {"content_type": "application/octet-stream"}
        if digest.crc32c_b64:
            blob.crc32c = digest.crc32c_b64
            kwargs["checksum"] = "crc32c"
        blob.upload_from_string(data, **kwargs)

    def abort(self):
        """Forget the bytes."""
        self._parts = []


class _GcsComposeWriter(object):
    """A large file as parts uploaded while it streams, composed into the final object once verified.

    Each part is one single-request upload of PART_SIZE bytes under the commit's ``uploads/`` area (never under the
    revision path); only after the digest matched are the parts composed into the object (32 at a time, in a
    tree), whose crc32c is then checked against the one computed while streaming, and the parts deleted. This is
    how ``gcloud storage cp`` sends large files too (parallel composite uploads), and it keeps memory at one part
    per transfer.
    """

    def __init__(self, store, name, remote, commit, uploads_prefix):
        self.store = store
        self.name = name
        self.remote = remote
        self.commit_id = commit
        self.prefix = "%s%s/%s." % (uploads_prefix, uuid.uuid4().hex[:12], posixpath.basename(remote.path))
        self._buffer = bytearray()
        self._parts = []

    def _send_part(self, data):
        blob = self.store.bucket.blob("%spart%05d" % (self.prefix, len(self._parts)))
        blob.upload_from_string(bytes(data), content_type="application/octet-stream")
        self._parts.append(blob)

    def write(self, data):
        """Append bytes; full parts are uploaded as they fill."""
        self._buffer += data
        while len(self._buffer) >= PART_SIZE:
            self._send_part(self._buffer[:PART_SIZE])
            del self._buffer[:PART_SIZE]

    def commit(self, sha256, digest):
        """Upload the last part, compose the object with its metadata, check its crc32c, drop the parts."""
        if self._buffer or not self._parts:
            self._send_part(self._buffer)
            self._buffer = bytearray()
        sources = list(self._parts)
        level = 0
        while len(sources) > MAX_COMPOSE:
            grouped = []
            for index in range(0, len(sources), MAX_COMPOSE):
                group = self.store.bucket.blob("%slevel%d-%05d" % (self.prefix, level, index // MAX_COMPOSE))
                group.content_type = "application/octet-stream"
                group.compose(sources[index:index + MAX_COMPOSE])
                grouped.append(group)
                self._parts.append(group)
            sources = grouped
            level += 1
        final = self.store.bucket.blob(self.name)
        final.content_type = "application/octet-stream"
        final.metadata = self.store.object_metadata(self.remote, sha256, self.commit_id)
        final.compose(sources)
        if digest.crc32c_b64 and final.crc32c and final.crc32c != digest.crc32c_b64:
            final.delete()
            self.abort()
            raise StageError("%s: the composed object's crc32c %s differs from the bytes received (%s); it was "
                             "deleted" % (self.remote.path, final.crc32c, digest.crc32c_b64),
                             kind="corrupt", files=[self.remote.path])
        self.abort()

    def abort(self):
        """Delete the parts uploaded so far (best effort: prune removes what a killed run left)."""
        self._buffer = bytearray()
        for blob in self._parts:
            try:
                blob.delete()
            except gexc.GoogleAPICallError:
                pass
        self._parts = []


class _GcsStreamWriter(object):
    """A large file through a resumable upload; the last chunk (which creates the object) waits for verify."""

    def __init__(self, store, name, remote, commit):
        blob = store.bucket.blob(name, chunk_size=UPLOAD_CHUNK)
        blob.metadata = store.object_metadata(remote, remote.sha256, commit)
        self._writer = blob.open("wb", content_type="application/octet-stream", ignore_flush=True)

    def write(self, data):
        """Append bytes (sent to GCS a chunk at a time)."""
        self._writer.write(data)

    def commit(self, sha256, digest):
        """Send the final chunk: the object appears now, and GCS checks the crc32c of the whole upload."""
        self._writer.close()

    def abort(self):
        """Leave the resumable session unfinished: no object is created (GCS drops the session later).

        Closing the writer would finalize the upload, so only its buffer is closed here; the writer's close()
        skips the upload once the buffer is closed, including when the object is garbage-collected.
        """
        buffer = getattr(self._writer, "_buffer", None)
        if buffer is not None and not buffer.closed:
            buffer.close()


class GcsModelStore(object):
    """A model cache in gs://bucket/prefix, through a google-cloud-storage Client."""

    def __init__(self, client, dest, composite_uploads=False):
        self.client = client
        self.composite_uploads = composite_uploads
        self.dest = dest.rstrip("/")
        self.bucket_name, self.prefix = parse_gcs_url(dest)
        self.bucket = client.bucket(self.bucket_name)

    def key(self, rel):
        """Object name of a layout path."""
        return self.prefix + rel

    def describe(self, rel=None):
        """gs:// URL of the destination (or of a path in it)."""
        if rel is None:
            return self.dest
        return "gs://%s/%s" % (self.bucket_name, self.key(rel))

    @staticmethod
    def describe_error(exc):
        """One line for a store exception."""
        if HAS_GOOGLE_API_CORE and isinstance(exc, gexc.GoogleAPICallError):
            return "GCS %s %s" % (exc.code, exc.message)
        return "%s: %s" % (type(exc).__name__, exc)

    @staticmethod
    def object_metadata(remote, sha256, commit):
        """Custom metadata that lets a later run trust the object without reading it."""
        metadata = {META_GIT_OID: remote.git_oid, META_COMMIT: commit}
        if sha256:
            metadata[META_SHA256] = sha256
        return metadata

    # -- interface used by ModelStager ------------------------------------------------------------------------
    def check_destination(self, layout, write=True):
        """The bucket exists and (unless write=False) accepts a write; the stable path is ours or free."""
        try:
            if not self.bucket.exists():
                raise StageError("bucket %s does not exist (create it first, e.g. with the storage role or the "
                                 "gcs_bucket module)" % self.bucket_name, kind="dest")
        except gexc.Forbidden as exc:
            raise StageError("bucket %s: no access (%s); the stager needs roles/storage.objectAdmin on it"
                             % (self.bucket_name, exc.message), kind="dest")
        if write:
            probe = self.bucket.blob(self.key("%s/.write-probe-%s" % (layout.state, uuid.uuid4().hex[:8])))
            try:
                probe.upload_from_string(b"ok")
                probe.delete()
            except gexc.GoogleAPICallError as exc:
                raise StageError("dest %s is not writable: %s (the stager needs roles/storage.objectAdmin)"
                                 % (self.dest, self.describe_error(exc)), kind="dest")
        self._check_stable(layout)

    def _check_stable(self, layout):
        under = list(self.client.list_blobs(self.bucket_name, prefix=self.key(layout.stable) + "/", max_results=1))
        if under:
            raise StageError(
                "%s/ already holds objects (%s, an older copy made by hand?); gcsfuse would show them instead of "
                "the published revision: move them away first" % (self.describe(layout.stable), under[0].name),
                kind="stable_conflict")

    def _read_json(self, rel):
        try:
            return json.loads(self.bucket.blob(self.key(rel)).download_as_bytes().decode("utf-8"))
        except gexc.NotFound:
            return None
        except ValueError:
            return None

    def read_pointer(self, layout):
        """current.json, or None."""
        return self._read_json(layout.pointer)

    def read_manifest(self, layout, commit):
        """A commit's manifest, or None."""
        return self._read_json(layout.manifest(commit))

    def stable_target(self, layout):
        """The symlink target of the stable path object (None if absent)."""
        blob = self.bucket.get_blob(self.key(layout.stable))
        if blob is None:
            return None
        return (blob.metadata or {}).get(SYMLINK_METADATA)

    def revision_files(self, layout, commit):
        """{path: {size, sha256, git_oid}} of the commit's objects already stored (verified before they existed)."""
        base = self.key(layout.revision_dir(commit)) + "/"
        found = {}
        for blob in self.client.list_blobs(self.bucket_name, prefix=base):
            if blob.name.endswith("/"):
                continue
            metadata = blob.metadata or {}
            if metadata.get(META_COMMIT) is None:
                continue
            found[blob.name[len(base):]] = {"size": blob.size, "sha256": metadata.get(META_SHA256),
                                            "git_oid": metadata.get(META_GIT_OID)}
        return found

    def open_writer(self, layout, commit, remote):
        """A writer for one file of a commit."""
        name = self.key(layout.revision_dir(commit) + "/" + remote.path)
        if remote.size <= SMALL_FILE or not remote.lfs:
            return _GcsSmallWriter(self, name, remote, commit)
        if self.composite_uploads:
            return _GcsComposeWriter(self, name, remote, commit, self.key(self.uploads_dir(layout, commit)) + "/")
        return _GcsStreamWriter(self, name, remote, commit)

    @staticmethod
    def uploads_dir(layout, commit):
        """Where parts of composite uploads wait (never under the revision path)."""
        return "%s/uploads/%s" % (layout.state, commit)

    def copy_file(self, layout, src_commit, src_path, commit, remote, entry):
        """Server-side rewrite of an identical object of an earlier revision (no bytes through the controller)."""
        src = self.bucket.blob(self.key(layout.revision_dir(src_commit) + "/" + src_path))
        dst = self.bucket.blob(self.key(layout.revision_dir(commit) + "/" + remote.path))
        dst.metadata = self.object_metadata(remote, entry.get("sha256"), commit)
        token, _done, _total = dst.rewrite(src)
        while token is not None:
            token, _done, _total = dst.rewrite(src, token=token)
        if dst.size is not None and dst.size != remote.size:
            dst.delete()
            raise StageError("%s in revision %s has the wrong size; it was not reused" % (src_path, src_commit),
                             kind="corrupt", files=[remote.path])

    def _ensure_dirs(self, rel_dirs):
        for rel in sorted(rel_dirs):
            blob = self.bucket.blob(self.key(rel.rstrip("/") + "/"))
            try:
                blob.upload_from_string(b"", if_generation_match=0)
            except gexc.PreconditionFailed:
                pass

    @staticmethod
    def _parents(rel):
        parts = rel.split("/")
        return ["/".join(parts[:i]) for i in range(1, len(parts))]

    def finalize_revision(self, layout, commit, manifest):
        """Directory placeholders for gcsfuse, then the manifest (the revision is complete from here)."""
        rev = layout.revision_dir(commit)
        dirs = set(self._parents(rev + "/x"))
        for entry in manifest["files"]:
            dirs.update(self._parents(rev + "/" + entry["path"]))
        dirs.update(self._parents(layout.manifest(commit)))
        self._ensure_dirs(dirs)
        blob = self.bucket.blob(self.key(layout.manifest(commit)))
        blob.upload_from_string(manifest_bytes(manifest), content_type="application/json")
        self._delete_prefix(self.key(self.uploads_dir(layout, commit)) + "/")  # parts left by killed runs

    def _delete_prefix(self, prefix):
        for blob in self.client.list_blobs(self.bucket_name, prefix=prefix):
            try:
                blob.delete()
            except gexc.NotFound:
                pass

    def publish(self, layout, commit, pointer, target):
        """Write the pointer, then overwrite the stable path's symlink object (one atomic object write)."""
        self.bucket.blob(self.key(layout.pointer)).upload_from_string(
            manifest_bytes(pointer), content_type="application/json")
        self._ensure_dirs(set(self._parents(layout.stable)))
        link = self.bucket.blob(self.key(layout.stable))
        link.metadata = {SYMLINK_METADATA: target}
        link.upload_from_string(b"", content_type="text/plain")

    def list_revisions(self, layout):
        """Stored revisions, and commits with only upload parts left: [{commit, complete, mtime}]; mtime is the
        newest object's update time."""
        newest = {}
        for base in (self.key(layout.revisions_root()) + "/", self.key(layout.state + "/uploads") + "/"):
            for blob in self.client.list_blobs(self.bucket_name, prefix=base):
                commit = blob.name[len(base):].split("/", 1)[0]
                if not commit:
                    continue
                if commit not in newest or (blob.updated and newest[commit] and blob.updated > newest[commit]):
                    newest[commit] = blob.updated
        complete = set()
        mbase = self.key(layout.manifests_root()) + "/"
        for blob in self.client.list_blobs(self.bucket_name, prefix=mbase):
            complete.add(posixpath.basename(blob.name)[:-len(".json")])
        return [{"commit": c, "complete": c in complete, "mtime": newest[c]} for c in sorted(newest)]

    def delete_revision(self, layout, commit):
        """Delete a revision's objects and its manifest."""
        self._delete_prefix(self.key(layout.revision_dir(commit)) + "/")
        self._delete_prefix(self.key(self.uploads_dir(layout, commit)) + "/")
        try:
            self.bucket.blob(self.key(layout.manifest(commit))).delete()
        except gexc.NotFound:
            pass

    def forget_history(self, layout, pointer, commits):
        """Drop pruned commits from the pointer's history."""
        pointer["history"] = [h for h in pointer.get("history", []) if h.get("commit") not in commits]
        self.bucket.blob(self.key(layout.pointer)).upload_from_string(
            manifest_bytes(pointer), content_type="application/json")

# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The model cache in a GCS bucket (read by runner pods through GCS FUSE); see models/layout.py for the layout.

Bytes stream from the Hub straight into the bucket: small files are buffered in memory and sent in one request
once verified; large ones go through a resumable upload (or, with composite uploads on, as parts composed once
verified), so a corrupted or interrupted transfer never becomes an object under the revision path. Objects carry
the Hub's digests as custom metadata (``accelci-sha256``, ``accelci-git-oid``, ``accelci-commit``) and GCS checks
the crc32c of every upload, so a later run trusts an object whose size and metadata match. Directory placeholder
objects (``dir/``) are written for every directory so gcsfuse lists them without ``implicit-dirs``. The stable
path is an empty object with metadata ``gcsfuse_symlink_target``, which gcsfuse presents as a symlink; it is
rewritten last.

Resumable uploads survive a killed run: they target a staging object under ``uploads/<commit>/resumable/`` and
their session (URI, file, size, digests) is recorded next to it once the first chunk is persisted. The next run
asks GCS how many bytes the session holds (``Content-Range: bytes */SIZE``), fetches only the rest from the Hub
(HTTP Range) and finishes the upload. Bytes held by GCS cannot be hashed again locally, so a resumed upload is
verified by reading the staging object back (sha256 or git blob sha1 over the whole file, no Hub traffic) before
it is copied to its revision path. An upload that was not resumed is verified while it streams, before its last
chunk is sent. A recorded session URI is used only when it points at this bucket's upload endpoint; anyone who
could finish it (the bucket is readable by runners) can only make the verification fail, never publish bytes.

Every object name is built from layout paths through ``layout.checked_cache_path``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import posixpath
import time
import traceback
import uuid

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import InputError
from ansible_collections.accelci.runners.plugins.module_utils.models.errors import DigestMismatch, StageError
from ansible_collections.accelci.runners.plugins.module_utils.models.hub_client import FileDigest, backoff_seconds
from ansible_collections.accelci.runners.plugins.module_utils.models.layout import (
    COMMIT_RE,
    checked_cache_path,
    manifest_bytes,
)
from ansible_collections.accelci.runners.plugins.module_utils.models.options import split_gcs_url

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
SESSION_FORMAT = 1
UPLOAD_ATTEMPTS = 4  # tries of one chunk after 429, 5xx or a dropped connection
_TRANSIENT = (408, 429, 500, 502, 503, 504)


def parse_gcs_url(dest):
    """'gs://bucket/prefix' -> (bucket, 'prefix/' or ''); InputError (field dest) for anything else, including a
    bucket GCS would refuse and a prefix with '.', '..' or empty segments."""
    if not dest.startswith("gs://"):
        raise InputError("dest", "%r is not a gs:// URL" % (dest,))
    return split_gcs_url(dest, "dest")


def widen_connection_pool(client, concurrency):
    """One HTTP connection per worker: requests' default pool of 10 would make threads wait (and warn)."""
    try:
        import requests.adapters

        adapter = requests.adapters.HTTPAdapter(pool_connections=concurrency + 4, pool_maxsize=concurrency + 4)
        client._http.mount("https://", adapter)
        client._http.mount("http://", adapter)
    except Exception:  # a client without a requests session keeps its own pooling
        pass


class _FreshWriter(object):
    """A writer that holds nothing from earlier attempts: every transfer starts at byte 0."""

    offset = 0
    replayable = True

    def replay(self, update):
        """Nothing is held: nothing to feed."""

    def restart(self):
        """Nothing is held: nothing to drop."""


class _GcsSmallWriter(_FreshWriter):
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
        data = b"".join(self._parts)
        self._parts = []
        self.store.upload_verified(self.name, data, self.remote, sha256, self.commit_id, digest)
        return sha256

    def abort(self, keep=False):
        """Forget the bytes (nothing outlives the process, so there is nothing to keep)."""
        self._parts = []


class _GcsComposeWriter(_FreshWriter):
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
        return sha256

    def abort(self, keep=False):
        """Delete the parts uploaded so far (best effort: prune removes what a killed run left)."""
        self._buffer = bytearray()
        for blob in self._parts:
            try:
                blob.delete()
            except gexc.GoogleAPICallError:
                pass
        self._parts = []


class _SessionFile(object):
    """Where a resumable upload of one file lives: its staging object and its recorded session."""

    def __init__(self, store, layout, commit, remote):
        slot = hashlib.sha256(remote.path.encode("utf-8")).hexdigest()[:32]
        self.staging = store.key("%s/resumable/%s" % (layout.uploads_dir(commit), slot))
        self.state = self.staging + ".json"
        self.final = store.key(layout.revision_dir(commit) + "/" + remote.path)

    def expected(self, remote):
        """The fields a recorded session must carry to be resumed for ``remote``."""
        return {"format": SESSION_FORMAT, "path": remote.path, "size": remote.size, "sha256": remote.sha256,
                "git_oid": remote.git_oid, "staging": self.staging}


class _GcsResumableWriter(object):
    """A large file through a resumable upload to its staging object; resumable across attempts and runs.

    Intermediate chunks go up as they fill (the last byte always waits, so the upload cannot finish before the
    digest is known); ``commit`` sends the last chunk, verifies, then copies the staging object to its revision
    path with the digests as metadata. A file that fits in one chunk is sent straight to its revision path.
    """

    replayable = False  # the bytes held are in GCS: a resumed upload is verified by reading the object back

    def __init__(self, store, layout, commit, remote):
        self.store = store
        self.remote = remote
        self.commit_id = commit
        self.names = _SessionFile(store, layout, commit, remote)
        self.session = None
        self.offset = 0  # bytes GCS holds in the session
        self.complete = False  # every byte is held: the staging object exists
        self.resumed = False
        self._recorded = False
        self._buffer = bytearray()
        self._resume()

    def _resume(self):
        recorded = self.store.read_json_object(self.names.state)
        if not recorded:
            return
        if recorded.get("session") and all(recorded.get(k) == v for k, v in self.names.expected(self.remote).items()) \
                and self.store.is_upload_session(recorded["session"]):
            held = self.store.session_status(recorded["session"], self.remote.size)
            if held is not None:
                self.session, self.resumed = recorded["session"], True
                self.offset = held
                self.complete = held == self.remote.size
                return
        self.store.delete_quietly(self.names.state)  # expired, cancelled, or not ours: start over

    def restart(self):
        """Drop what the session holds (the Hub sends the whole file): cancel it and start over."""
        self._drop_session()
        self.offset, self.complete, self.resumed, self._recorded = 0, False, False, False

    def replay(self, update):
        """Bytes held in GCS cannot be fed again here (see replayable)."""
        raise NotImplementedError("a resumable GCS upload cannot replay the bytes it holds")

    def write(self, data):
        """Append bytes; whole chunks go up as they fill, never the last byte of the file."""
        self._buffer += data
        while len(self._buffer) >= UPLOAD_CHUNK and self.offset + UPLOAD_CHUNK < self.remote.size:
            if self.session is None:
                self.session = self.store.start_session(self.names.staging, self.remote.size)
            self._send(UPLOAD_CHUNK, last=False)
            if not self.resumed and not self._recorded:  # from now on a killed run has something to resume
                self.store.write_json_object(self.names.state, dict(self.names.expected(self.remote),
                                                                    session=self.session))
                self._recorded = True

    def _send(self, count, last, crc32c=None):
        """PUT the first ``count`` buffered bytes at self.offset; keep what GCS did not persist."""
        persisted, created = self.store.session_put(self.session, bytes(self._buffer[:count]), self.offset,
                                                    self.remote.size if last else None, crc32c)
        if not self.offset <= persisted <= self.offset + count:
            raise StageError("%s: GCS reports %d bytes held after a chunk sent at %d; the upload is restarted"
                             % (self.remote.path, persisted, self.offset), kind="store", files=[self.remote.path])
        del self._buffer[:persisted - self.offset]
        self.offset = persisted
        return created

    def commit(self, sha256, digest):
        """Finish the upload, verify the staging object when it was resumed, copy it to the revision path."""
        if not self.resumed and self.session is None:
            self.store.upload_verified(self.names.final, bytes(self._buffer), self.remote, sha256, self.commit_id,
                                       digest)
            self._buffer = bytearray()
            return sha256
        if not self.complete:
            if self.session is None:
                self.session = self.store.start_session(self.names.staging, self.remote.size)
            created = self._send(len(self._buffer), last=True, crc32c=digest.crc32c_b64)
            self._check_created(created, digest)
        if self.resumed:
            sha256 = self.store.read_back_digest(self.names.staging, self.remote)
        self.store.copy_verified(self.names.staging, self.names.final, self.remote, sha256, self.commit_id)
        self.store.delete_quietly(self.names.staging)
        self.store.delete_quietly(self.names.state)
        return sha256

    def _check_created(self, created, digest):
        if created is None or int(created.get("size", -1)) != self.remote.size:
            raise StageError("%s: the upload ended with %s bytes, the Hub lists %d"
                             % (self.remote.path, (created or {}).get("size"), self.remote.size),
                             kind="corrupt", files=[self.remote.path])
        if digest.crc32c_b64 and created.get("crc32c") and created["crc32c"] != digest.crc32c_b64:
            raise DigestMismatch("%s: the uploaded object's crc32c %s differs from the bytes received (%s)"
                                 % (self.remote.path, created["crc32c"], digest.crc32c_b64))

    def _drop_session(self):
        if self.session is not None:
            self.store.cancel_session(self.session)
            self.session = None
        self.store.delete_quietly(self.names.state)
        self.store.delete_quietly(self.names.staging)

    def abort(self, keep=False):
        """Stop; ``keep`` leaves the session for the next attempt or run to resume, else it is cancelled."""
        self._buffer = bytearray()
        if not keep:
            self._drop_session()


class GcsModelStore(object):
    """A model cache in gs://bucket/prefix, through a google-cloud-storage Client."""

    def __init__(self, client, dest, composite_uploads=False, retry_base=1.0):
        self.client = client
        self.composite_uploads = composite_uploads
        self.retry_base = retry_base
        self.dest = dest.rstrip("/")
        self.bucket_name, self.prefix = parse_gcs_url(dest)
        self.bucket = client.bucket(self.bucket_name)

    def key(self, rel):
        """Object name of a layout path; StageError for one that could leave the prefix."""
        return self.prefix + checked_cache_path(rel)

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

    # -- objects and resumable sessions -------------------------------------------------------------------------
    def upload_verified(self, name, data, remote, sha256, commit, digest):
        """One request: verified bytes to their final object name, with their digests as metadata."""
        blob = self.bucket.blob(name)
        blob.metadata = self.object_metadata(remote, sha256, commit)
        kwargs = {"content_type": "application/octet-stream"}
        if digest.crc32c_b64:
            blob.crc32c = digest.crc32c_b64
            kwargs["checksum"] = "crc32c"
        blob.upload_from_string(data, **kwargs)

    def copy_verified(self, source_name, name, remote, sha256, commit):
        """Server-side copy of a verified staging object to its revision path, with the digests as metadata."""
        src = self.bucket.blob(source_name)
        dst = self.bucket.blob(name)
        dst.metadata = self.object_metadata(remote, sha256, commit)
        dst.content_type = "application/octet-stream"
        token, _done, _total = dst.rewrite(src)
        while token is not None:
            token, _done, _total = dst.rewrite(src, token=token)
        if dst.size is not None and dst.size != remote.size:
            dst.delete()
            raise StageError("%s: the copied object has %s bytes, the Hub lists %d; it was deleted"
                             % (remote.path, dst.size, remote.size), kind="corrupt", files=[remote.path])

    def read_back_digest(self, name, remote):
        """Read an object back and check it against the Hub's digest: returns the sha256, or raises
        DigestMismatch (for a resumed upload, whose first bytes were sent by an earlier run)."""
        digest = FileDigest(remote)

        class _Sink(object):
            def write(self, data):
                digest.update(data)
                return len(data)

        self.bucket.blob(name).download_to_file(_Sink(), checksum="crc32c")
        return digest.verify()

    def read_json_object(self, name):
        """A small JSON object, or None when missing or not JSON."""
        try:
            return json.loads(self.bucket.blob(name).download_as_bytes().decode("utf-8"))
        except gexc.NotFound:
            return None
        except ValueError:
            return None

    def write_json_object(self, name, document):
        """Write a small JSON object."""
        self.bucket.blob(name).upload_from_string(manifest_bytes(document), content_type="application/json")

    def delete_quietly(self, name):
        """Delete an object if it exists."""
        try:
            self.bucket.blob(name).delete()
        except gexc.NotFound:
            pass

    def _upload_base(self):
        """The URL every resumable session of this bucket starts with."""
        connection = getattr(self.client, "_connection", None)
        base = getattr(connection, "API_BASE_URL", None) or "https://storage.googleapis.com"
        return "%s/upload/storage/v1/b/%s/o?" % (base.rstrip("/"), self.bucket_name)

    def is_upload_session(self, uri):
        """A recorded session URI may be used: it is a resumable upload of this bucket at its endpoint (the
        authorized session would send our credentials to any URL)."""
        return isinstance(uri, str) and uri.startswith(self._upload_base()) and "upload_id=" in uri \
            and not any(c in uri for c in "\r\n #")

    def start_session(self, name, size):
        """A new resumable upload session for object ``name`` of ``size`` bytes: its URI."""
        blob = self.bucket.blob(name)
        return blob.create_resumable_upload_session(content_type="application/octet-stream", size=size)

    def _session_request(self, method, uri, data=b"", headers=None):
        """One request on a session, again after 429, 5xx and dropped connections (jittered backoff)."""
        import requests

        attempt = 0
        while True:
            attempt += 1
            try:
                response = self.client._http.request(method, uri, data=data, headers=headers or {},
                                                     timeout=(10, 300))
                if response.status_code not in _TRANSIENT or attempt >= UPLOAD_ATTEMPTS:
                    return response
            except requests.RequestException:
                if attempt >= UPLOAD_ATTEMPTS:
                    raise
            time.sleep(backoff_seconds(self.retry_base, attempt))

    def session_status(self, uri, size):
        """Bytes a session holds (``size`` once the upload is complete), or None when it is gone."""
        response = self._session_request("PUT", uri, headers={"Content-Range": "bytes */%d" % size})
        if response.status_code in (200, 201):  # finished: usable only when it holds the whole file
            return size if str(response.json().get("size")) == str(size) else None
        if response.status_code != 308:
            return None  # 404/410: expired or cancelled
        held = response.headers.get("Range")  # bytes=0-N, absent when nothing is held yet
        return int(held.rsplit("-", 1)[1]) + 1 if held else 0

    def session_put(self, uri, data, start, total, crc32c=None):
        """Send ``data`` at ``start`` (the last chunk when ``total`` is given). Returns (bytes held, the object's
        resource once the upload completed, else None)."""
        end = start + len(data) - 1
        headers = {"Content-Range": "bytes %d-%d/%s" % (start, end, total if total is not None else "*")}
        if crc32c and total is not None:
            headers["X-Goog-Hash"] = "crc32c=%s" % crc32c  # GCS checks the whole object's crc32c
        response = self._session_request("PUT", uri, data=data, headers=headers)
        if response.status_code in (200, 201):
            return start + len(data), response.json()
        if response.status_code == 308:
            held = response.headers.get("Range")
            return (int(held.rsplit("-", 1)[1]) + 1 if held else 0), None
        raise StageError("resumable upload to %s failed: HTTP %d %s"
                         % (self.describe(), response.status_code, response.text[:200]), kind="store")

    def cancel_session(self, uri):
        """Cancel a session (best effort: GCS drops unfinished sessions after a week)."""
        try:
            self.client._http.request("DELETE", uri, timeout=(10, 60))
        except Exception:
            pass

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
            return _GcsComposeWriter(self, name, remote, commit, self.key(layout.uploads_dir(commit)) + "/")
        return _GcsResumableWriter(self, layout, commit, remote)

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
            blob = self.bucket.blob(self.key(rel.rstrip("/")) + "/")
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
        self._delete_prefix(self.key(layout.uploads_dir(commit)) + "/")  # parts left by killed runs

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
        for base in (self.key(layout.revisions_root()) + "/", self.key(layout.uploads_root()) + "/"):
            for blob in self.client.list_blobs(self.bucket_name, prefix=base):
                commit = blob.name[len(base):].split("/", 1)[0]
                if not COMMIT_RE.match(commit):
                    continue  # not a revision this module wrote: never a candidate for deletion
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
        self._delete_prefix(self.key(layout.uploads_dir(commit)) + "/")
        try:
            self.bucket.blob(self.key(layout.manifest(commit))).delete()
        except gexc.NotFound:
            pass

    def forget_history(self, layout, pointer, commits):
        """Drop pruned commits from the pointer's history."""
        pointer["history"] = [h for h in pointer.get("history", []) if h.get("commit") not in commits]
        self.bucket.blob(self.key(layout.pointer)).upload_from_string(
            manifest_bytes(pointer), content_type="application/json")

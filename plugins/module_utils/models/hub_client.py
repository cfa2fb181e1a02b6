# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A Hugging Face repository as a source of files: resolve a revision to a commit, list the files with their
digests, stream one file, and check bytes against the Hub's digest.

Failures raise ``HubError`` (``models.errors``) with a kind and the fix; bytes that do not match the Hub's digest
raise ``DigestMismatch``. No message carries the token, whatever the server echoes.

A download can start at an offset (a resumed file): the request asks ``Range: bytes=N-`` and the answer counts
only when it is ``206`` with ``Content-Range: bytes N-(size-1)/size``. A server that ignores Range (olah, some
mirrors) answers ``200`` with the whole file: the caller is told to start again from zero before any byte is
passed on. Any other answer to a ranged request is dropped and the file is fetched whole.

The metadata calls go through ``huggingface_hub`` (``HfApi``) so its error classes apply; file bodies are read
over the plain ``resolve`` URL with requests, one stream per file, so callers can send the bytes anywhere (a
bucket, a share) without a local copy. Xet transfer is never used here (plain HTTP works for every
file the Hub serves, Xet-backed or not), which is also what ``HF_HUB_DISABLE_XET=1`` asks for.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import random
import threading
import time
import traceback

from ansible_collections.accelci.runners.plugins.module_utils.models.errors import DigestMismatch, HubError
from ansible_collections.accelci.runners.plugins.module_utils.models.layout import COMMIT_RE, RemoteFile
from ansible_collections.accelci.runners.plugins.module_utils.models.options import validate_repo_id

try:
    import requests

    HAS_REQUESTS = True
except ImportError:
    HAS_REQUESTS = False

try:
    from huggingface_hub import HfApi, hf_hub_url
    from huggingface_hub import constants as hf_constants
    from huggingface_hub.errors import (
        EntryNotFoundError,
        GatedRepoError,
        HfHubHTTPError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )
    from huggingface_hub.utils import build_hf_headers, filter_repo_objects

    HAS_HUGGINGFACE_HUB = True
    HUGGINGFACE_HUB_IMP_ERR = None
except ImportError:
    HAS_HUGGINGFACE_HUB = False
    HUGGINGFACE_HUB_IMP_ERR = traceback.format_exc()

try:
    import google_crc32c

    HAS_CRC32C = True
except ImportError:
    HAS_CRC32C = False

DEFAULT_ENDPOINT = "https://huggingface.co"
REDACTED = "********"
READ_CHUNK = 1024 * 1024


class FileDigest(object):
    """Digests of a file's bytes while they stream: sha256 always, crc32c when available, and the git blob sha1
    for files whose only Hub digest is their git object id."""

    def __init__(self, remote):
        self.remote = remote
        self.size = 0
        self.skipped = 0  # bytes counted but not seen (held by a store that verifies the whole file itself)
        self._sha256 = hashlib.sha256()
        self._crc = google_crc32c.Checksum() if HAS_CRC32C else None
        self._git = None
        if not remote.lfs:
            self._git = hashlib.sha1()  # nosec - git's object id, not a security digest
            self._git.update(b"blob %d\0" % remote.size)

    def skip(self, count):
        """Count ``count`` leading bytes that are not fed here (a resumed upload holds them); the digests are then
        unknown and verify() checks the size only: the store must verify the whole file."""
        self.size += count
        self.skipped += count

    def update(self, data):
        """Feed the next bytes."""
        self.size += len(data)
        self._sha256.update(data)
        if self._crc is not None:
            self._crc.update(data)
        if self._git is not None:
            self._git.update(data)

    @property
    def sha256(self):
        """Hex sha256 of the bytes so far (None when leading bytes were skipped)."""
        if self.skipped:
            return None
        return self._sha256.hexdigest()

    @property
    def crc32c_b64(self):
        """GCS-style base64 crc32c of the bytes so far (None without google-crc32c or after skip())."""
        if self._crc is None or self.skipped:
            return None
        import base64

        return base64.b64encode(self._crc.digest()).decode("ascii")

    def verify(self):
        """Raise DigestMismatch unless size and the Hub's digest match; returns the sha256 (None after skip(),
        when only the size could be checked here)."""
        if self.size != self.remote.size:
            raise DigestMismatch(
                "%s: received %d bytes, the Hub lists %d (truncated or corrupted)"
                % (self.remote.path, self.size, self.remote.size)
            )
        if self.skipped:
            return None
        if self.remote.lfs:
            if self.sha256 != self.remote.sha256:
                raise DigestMismatch(
                    "%s: sha256 %s does not match the Hub's LFS sha256 %s"
                    % (self.remote.path, self.sha256, self.remote.sha256)
                )
        elif self._git.hexdigest() != self.remote.git_oid:
            raise DigestMismatch(
                "%s: git blob sha1 %s does not match the Hub's %s"
                % (self.remote.path, self._git.hexdigest(), self.remote.git_oid)
            )
        return self.sha256


def backoff_seconds(base, attempt):
    """Seconds to wait before retry ``attempt`` (1, 2, ...): base doubled each time, jittered by up to half."""
    return base * (2 ** (attempt - 1)) * (0.5 + random.random() / 2)


def content_range_matches(header, start, size):
    """A 206's Content-Range is exactly ``bytes start-(size-1)/size`` (or ``/*``): the rest of the file."""
    if not header or not header.startswith("bytes "):
        return False
    span, _sep, total = header[len("bytes "):].partition("/")
    first, _sep, last = span.partition("-")
    try:
        return (int(first) == start and int(last) == size - 1
                and (total.strip() == "*" or int(total) == size))
    except ValueError:
        return False


def is_commit(revision):
    """A full 40-hex commit id (no Hub call needed to resolve it)."""
    return bool(revision) and bool(COMMIT_RE.match(revision))


class HubSource(object):
    """A repo on a Hub (huggingface.co or a mirror) at some revision."""

    def __init__(self, repo_id, repo_type="model", revision="main", endpoint=None, token=None, timeout=60,
                 retries=3, retry_base=1.0):
        validate_repo_id(repo_id)
        self.retries = retries
        self.retry_base = retry_base
        self.repo_id = repo_id
        self.repo_type = repo_type
        self.revision = revision or "main"
        self.endpoint = (endpoint or DEFAULT_ENDPOINT).rstrip("/")
        self.token = token
        self.timeout = timeout
        self.requests = 0
        self._lock = threading.Lock()
        self._local = threading.local()
        # No telemetry from CI hosts; it would also cost an extra Hub request per run (the agent registry lookup
        # that huggingface_hub makes while building its user agent).
        hf_constants.HF_HUB_DISABLE_TELEMETRY = True
        # token=False: never pick up a token saved on the controller by someone else; HF_TOKEN arrives through
        # the module option's env fallback instead.
        self._api = HfApi(endpoint=self.endpoint, token=token or False)

    def _count(self, n=1):
        with self._lock:
            self.requests += n

    def _error(self, kind, message, path=None):
        """A HubError whose message never carries the token (a server or a library may echo it)."""
        if self.token:
            message = message.replace(self.token, REDACTED)
        return HubError(kind, message, path)

    def _hub_error(self, exc, path=None):
        """Translate huggingface_hub errors into HubError with the fix in the message."""
        where = "%s %s" % (self.repo_type, self.repo_id)
        if isinstance(exc, GatedRepoError):
            status = getattr(getattr(exc, "response", None), "status_code", None)
            if self.token and status == 403:
                msg = ("%s is gated and the token given has not been granted access: request access on the repo's "
                       "page (%s/%s) with the account that owns the token" % (where, self.endpoint, self.repo_id))
            else:
                msg = ("%s is gated: request access on its page (%s/%s), then give a token of an account that has "
                       "access (option token, or HF_TOKEN)" % (where, self.endpoint, self.repo_id))
            return self._error("gated", msg, path)
        if isinstance(exc, RevisionNotFoundError):
            return self._error("revision_not_found", "revision %r not found in %s" % (self.revision, where), path)
        if isinstance(exc, EntryNotFoundError):
            return self._error("entry_not_found", "%s: file %r not found at %s" % (where, path, self.revision), path)
        if isinstance(exc, RepositoryNotFoundError):
            hint = "check repo_id and repo_type" + ("" if self.token else "; a private repo needs a token")
            return self._error("repo_not_found", "%s not found on %s (%s)" % (where, self.endpoint, hint), path)
        if isinstance(exc, HfHubHTTPError):
            status = getattr(getattr(exc, "response", None), "status_code", None) or 0
            # Throttling and server errors pass; the callers retry 'network' errors.
            kind = "network" if status == 429 or status >= 500 else "http"
            return self._error(kind, "%s: %s" % (where, str(exc).splitlines()[0]), path)
        return self._error("network", "%s: cannot reach %s: %s" % (where, self.endpoint, exc), path)

    def _retrying(self, call):
        """Run a metadata call, again after transient errors (network, 429, 5xx) with jittered backoff."""
        attempt = 0
        while True:
            try:
                return call()
            except HubError as exc:
                if exc.kind != "network" or attempt >= self.retries:
                    raise
            attempt += 1
            time.sleep(backoff_seconds(self.retry_base, attempt))

    def resolve(self):
        """The commit the revision points at now (no request when the revision is a commit id)."""
        if is_commit(self.revision):
            return self.revision
        return self._retrying(self._resolve_once)

    def _resolve_once(self):
        self._count()
        try:
            info = self._api.repo_info(self.repo_id, revision=self.revision, repo_type=self.repo_type,
                                       timeout=self.timeout)
        except RepositoryNotFoundError as exc:
            if isinstance(exc, (GatedRepoError, RevisionNotFoundError)) or self.revision == "main":
                raise self._hub_error(exc)
            # Some mirrors answer RepoNotFound for an unknown revision; one more call tells the two apart.
            self._count()
            try:
                self._api.repo_info(self.repo_id, revision="main", repo_type=self.repo_type, timeout=self.timeout)
            except Exception:
                raise self._hub_error(exc)
            raise self._error("revision_not_found", "revision %r not found in %s %s (the repo exists)"
                              % (self.revision, self.repo_type, self.repo_id))
        except Exception as exc:
            raise self._hub_error(exc)
        if not info.sha:
            raise self._error("http", "%s %s: the Hub returned no commit for revision %r"
                              % (self.repo_type, self.repo_id, self.revision))
        if not isinstance(info.sha, str) or not COMMIT_RE.match(info.sha):
            # The commit becomes a directory and object name: only a real commit id is accepted.
            raise self._error("http", "%s %s: the Hub at %s returned %r as the commit of revision %r; expected 40 "
                                      "lowercase hex digits (a broken or hostile mirror?)"
                              % (self.repo_type, self.repo_id, self.endpoint, info.sha, self.revision))
        return info.sha

    def list_files(self, commit, allow_patterns=None, ignore_patterns=None):
        """The repo's files at ``commit`` (RemoteFile list, sorted by path), filtered like snapshot_download."""
        return self._retrying(lambda: self._list_files_once(commit, allow_patterns, ignore_patterns))

    def _list_files_once(self, commit, allow_patterns, ignore_patterns):
        self._count()
        try:
            entries = [
                item for item in self._api.list_repo_tree(
                    self.repo_id, recursive=True, revision=commit, repo_type=self.repo_type)
                if hasattr(item, "blob_id")
            ]
        except (EntryNotFoundError, RevisionNotFoundError):
            # The tree of a commit that is not in the repo: what a pinned, mistyped commit id gives.
            raise self._error("revision_not_found", "commit %s not found in %s %s"
                              % (commit, self.repo_type, self.repo_id))
        except Exception as exc:
            raise self._hub_error(exc)
        selected = filter_repo_objects(
            entries, allow_patterns=allow_patterns or None, ignore_patterns=ignore_patterns or None,
            key=lambda item: item.path,
        )
        files = [RemoteFile(item.path, item.size, item.blob_id, item.lfs.sha256 if item.lfs else None)
                 for item in selected]
        return sorted(files, key=lambda f: f.path)

    def file_url(self, commit, path):
        """The resolve URL of one file at a commit."""
        return hf_hub_url(self.repo_id, path, repo_type=self.repo_type, revision=commit, endpoint=self.endpoint)

    def _session(self):
        """One requests session per thread (sessions are not shared across threads)."""
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers.update(build_hf_headers(token=self.token or False, library_name="accelci-runners"))
            self._local.session = session
        return session

    def _status_error(self, response, path):
        """HubError for an error status on a file GET, from the Hub's X-Error-Code header."""
        code = response.headers.get("X-Error-Code", "")
        message = response.headers.get("X-Error-Message", "") or response.reason or ""
        where = "%s %s" % (self.repo_type, self.repo_id)
        if code == "GatedRepo":
            return self._error("gated", "%s is gated: request access on its page (%s/%s), then give a token of an "
                                        "account that has access (option token, or HF_TOKEN)"
                               % (where, self.endpoint, self.repo_id), path)
        if code == "RepoNotFound":
            return self._error("repo_not_found", "%s not found on %s" % (where, self.endpoint), path)
        if code == "RevisionNotFound":
            return self._error("revision_not_found", "%s: revision %s not found" % (where, self.revision), path)
        if code == "EntryNotFound":
            return self._error("entry_not_found", "%s: file %s not found" % (where, path), path)
        # 429 and 5xx are worth another try; the stager treats 'network' errors as transient.
        kind = "network" if response.status_code == 429 or response.status_code >= 500 else "http"
        return self._error(kind, "%s: GET %s: HTTP %d %s" % (where, path, response.status_code, message), path)

    def _get(self, url, path, start):
        headers = {"Range": "bytes=%d-" % start} if start else None
        self._count()
        try:
            return self._session().get(url, stream=True, timeout=(10, self.timeout), allow_redirects=True,
                                       headers=headers)
        except requests.RequestException as exc:
            raise self._error("network", "%s: cannot reach %s for %s: %s" % (self.repo_id, self.endpoint, path, exc),
                              path)

    def _open(self, commit, remote, start, restart):
        """(response, offset its body starts at). A ranged request counts only as a 206 for exactly the rest of
        the file; a 200 is the whole file (Range ignored); anything else is dropped and the file fetched whole.
        ``restart()`` is called before any byte is passed on whenever the offset falls back to zero."""
        url = self.file_url(commit, remote.path)
        response = self._get(url, remote.path, start)
        if not start:
            return response, 0
        if response.status_code == 206 and content_range_matches(response.headers.get("Content-Range"), start,
                                                                 remote.size):
            return response, start
        if response.status_code == 200:
            restart()
            return response, 0
        response.close()
        if response.status_code >= 400 and response.status_code != 416:
            raise self._status_error(response, remote.path)
        restart()
        return self._get(url, remote.path, 0), 0

    def stream(self, commit, remote, consume, start=0, restart=None):
        """GET one file from byte ``start`` and pass each chunk to ``consume(bytes)``. When the server cannot
        send the rest from ``start``, ``restart()`` is called first and the whole file follows. Network
        failures raise HubError('network'); the caller decides whether to retry. Returns the bytes read.

        File bodies go through requests/urllib3 rather than huggingface_hub's httpx session: it spends several
        times less CPU per byte on chunked responses, which is what limits a stager that also hashes and uploads.
        requests drops the Authorization header when the Hub redirects to its CDN on another host.
        """
        received = 0
        response, _offset = self._open(commit, remote, start, restart or (lambda: None))
        try:
            if response.status_code >= 400:
                raise self._status_error(response, remote.path)
            for chunk in response.iter_content(READ_CHUNK):
                received += len(chunk)
                consume(chunk)
        except requests.RequestException as exc:  # dropped connection, read timeout, bad chunking
            raise self._error("network", "%s: transfer of %s failed after %d bytes: %s"
                              % (self.repo_id, remote.path, received, exc), remote.path)
        finally:
            response.close()
        return received

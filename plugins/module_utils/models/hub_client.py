# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A Hugging Face repository as a source of files: resolve a revision to a commit, list the files with their
digests, stream one file, and check bytes against the Hub's digest.

Failures raise ``HubError`` (``models.errors``) with a kind and the fix; bytes that do not match the Hub's digest
raise ``DigestMismatch``.

The metadata calls go through ``huggingface_hub`` (``HfApi``) so its error classes apply; file bodies are read
over the plain ``resolve`` URL with requests, one stream per file, so callers can send the bytes anywhere (a
bucket, a share) without a local copy. Xet transfer is never used here (plain HTTP works for every
file the Hub serves, Xet-backed or not), which is also what ``HF_HUB_DISABLE_XET=1`` asks for.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import random
import re
import threading
import time
import traceback

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import InputError
from ansible_collections.accelci.runners.plugins.module_utils.models.errors import DigestMismatch, HubError
from ansible_collections.accelci.runners.plugins.module_utils.models.layout import RemoteFile

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
COMMIT_RE = re.compile(r"^[0-9a-f]{40}$")
REPO_ID_RE = re.compile(r"^(?:[A-Za-z0-9][A-Za-z0-9._-]{0,95}/)?[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")
READ_CHUNK = 1024 * 1024


class FileDigest(object):
    """Digests of a file's bytes while they stream: sha256 always, crc32c when available, and the git blob sha1
    for files whose only Hub digest is their git object id."""

    def __init__(self, remote):
        self.remote = remote
        self.size = 0
        self._sha256 = hashlib.sha256()
        self._crc = google_crc32c.Checksum() if HAS_CRC32C else None
        self._git = None
        if not remote.lfs:
            self._git = hashlib.sha1()  # nosec - git's object id, not a security digest
            self._git.update(b"blob %d\0" % remote.size)

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
        """Hex sha256 of the bytes so far."""
        return self._sha256.hexdigest()

    @property
    def crc32c_b64(self):
        """GCS-style base64 crc32c of the bytes so far (None without google-crc32c)."""
        if self._crc is None:
            return None
        import base64

        return base64.b64encode(self._crc.digest()).decode("ascii")

    def verify(self):
        """Raise DigestMismatch unless size and the Hub's digest match; returns the sha256."""
        if self.size != self.remote.size:
            raise DigestMismatch(
                "%s: received %d bytes, the Hub lists %d (truncated or corrupted)"
                % (self.remote.path, self.size, self.remote.size)
            )
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


def is_commit(revision):
    """A full 40-hex commit id (no Hub call needed to resolve it)."""
    return bool(revision) and bool(COMMIT_RE.match(revision))


def validate_repo_id(repo_id):
    """Raise InputError (field repo_id) unless repo_id looks like 'org/name' (or a legacy single name)."""
    if not repo_id or not REPO_ID_RE.match(repo_id) or ".." in repo_id or repo_id.endswith((".", "-")):
        raise InputError("repo_id", "%r is not a Hugging Face repo id; expected ORG/NAME such as "
                                    "'Wan-AI/Wan2.1-T2V-1.3B-Diffusers'" % (repo_id,))


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
            return HubError("gated", msg, path)
        if isinstance(exc, RevisionNotFoundError):
            return HubError("revision_not_found", "revision %r not found in %s" % (self.revision, where), path)
        if isinstance(exc, EntryNotFoundError):
            return HubError("entry_not_found", "%s: file %r not found at %s" % (where, path, self.revision), path)
        if isinstance(exc, RepositoryNotFoundError):
            hint = "check repo_id and repo_type" + ("" if self.token else "; a private repo needs a token")
            return HubError("repo_not_found", "%s not found on %s (%s)" % (where, self.endpoint, hint), path)
        if isinstance(exc, HfHubHTTPError):
            status = getattr(getattr(exc, "response", None), "status_code", None) or 0
            # Throttling and server errors pass; the callers retry 'network' errors.
            kind = "network" if status == 429 or status >= 500 else "http"
            return HubError(kind, "%s: %s" % (where, str(exc).splitlines()[0]), path)
        return HubError("network", "%s: cannot reach %s: %s" % (where, self.endpoint, exc), path)

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
            raise HubError("revision_not_found", "revision %r not found in %s %s (the repo exists)"
                           % (self.revision, self.repo_type, self.repo_id))
        except Exception as exc:
            raise self._hub_error(exc)
        if not info.sha:
            raise HubError("http", "%s %s: the Hub returned no commit for revision %r"
                           % (self.repo_type, self.repo_id, self.revision))
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
            raise HubError("revision_not_found", "commit %s not found in %s %s"
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
            return HubError("gated", "%s is gated: request access on its page (%s/%s), then give a token of an "
                                     "account that has access (option token, or HF_TOKEN)"
                            % (where, self.endpoint, self.repo_id), path)
        if code == "RepoNotFound":
            return HubError("repo_not_found", "%s not found on %s" % (where, self.endpoint), path)
        if code == "RevisionNotFound":
            return HubError("revision_not_found", "%s: revision %s not found" % (where, self.revision), path)
        if code == "EntryNotFound":
            return HubError("entry_not_found", "%s: file %s not found" % (where, path), path)
        # 429 and 5xx are worth another try; the stager treats 'network' errors as transient.
        kind = "network" if response.status_code == 429 or response.status_code >= 500 else "http"
        return HubError(kind, "%s: GET %s: HTTP %d %s" % (where, path, response.status_code, message), path)

    def stream(self, commit, remote, consume):
        """GET one file and pass each chunk to ``consume(bytes)``. Network failures raise HubError('network');
        the caller decides whether to retry. Returns the number of bytes read.

        File bodies go through requests/urllib3 rather than huggingface_hub's httpx session: it spends several
        times less CPU per byte on chunked responses, which is what limits a stager that also hashes and uploads.
        requests drops the Authorization header when the Hub redirects to its CDN on another host.
        """
        self._count()
        received = 0
        try:
            response = self._session().get(self.file_url(commit, remote.path), stream=True,
                                           timeout=(10, self.timeout), allow_redirects=True)
        except requests.RequestException as exc:
            raise HubError("network", "%s: cannot reach %s for %s: %s"
                           % (self.repo_id, self.endpoint, remote.path, exc), remote.path)
        try:
            if response.status_code >= 400:
                raise self._status_error(response, remote.path)
            for chunk in response.iter_content(READ_CHUNK):
                received += len(chunk)
                consume(chunk)
        except requests.RequestException as exc:  # dropped connection, read timeout, bad chunking
            raise HubError("network", "%s: transfer of %s failed after %d bytes: %s"
                           % (self.repo_id, remote.path, received, exc), remote.path)
        finally:
            response.close()
        return received

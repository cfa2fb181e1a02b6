# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Staging a Hugging Face repo into a model cache (a GCS bucket or a filesystem share), safely; and the
model_stage module's options, their checks and the wiring of source, store and stager.

A run: resolve the revision to a commit (one Hub request); if that commit is already published with the same
file selection and every file is present, stop there. Otherwise list the files (one more request), skip those
already present and verified, copy those that an earlier revision holds with the same digest (server-side on
GCS, a hard link on a filesystem), download the rest concurrently while hashing, verify each against the Hub's
sha256 (LFS) or git blob sha1, and only then make it visible under the revision path. When every file is in
place, write the manifest, then the pointer, then switch the stable path (last). Old revisions are pruned after
a grace period (never under ``layout.MIN_PRUNE_GRACE_HOURS``) so running jobs keep what they opened. The layout
is described in ``models.layout``; file paths from the Hub are checked there before anything is written.

A download cut short keeps what it received (a network error, a killed process): the next attempt or run asks
the store how much it holds and the Hub only for the rest, and still verifies the whole file.

``run_model_stage(module)`` returns the module's result and raises ``AccelciError`` (``InputError`` for an option,
``StageError`` with ``kind``, ``files`` and the partial ``model`` result otherwise).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor, as_completed

from ansible.module_utils.basic import env_fallback, missing_required_lib

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import AccelciError
from ansible_collections.accelci.runners.plugins.module_utils.gcp.client import gcp_client
from ansible_collections.accelci.runners.plugins.module_utils.gcp.module import gcp_argument_spec
from ansible_collections.accelci.runners.plugins.module_utils.models.errors import DigestMismatch, HubError, StageError
from ansible_collections.accelci.runners.plugins.module_utils.models.hub_client import (
    HAS_HUGGINGFACE_HUB,
    HAS_REQUESTS,
    HUGGINGFACE_HUB_IMP_ERR,
    FileDigest,
    HubSource,
    backoff_seconds,
)
from ansible_collections.accelci.runners.plugins.module_utils.models.layout import (
    MIN_PRUNE_GRACE_HOURS,
    ModelLayout,
    applied_prune_grace_hours,
    check_commit,
    check_repo_files,
    file_matches,
    parse_iso,
    published_pointer,
    remote_files_from_manifest,
    revision_manifest,
    utc_now,
)
from ansible_collections.accelci.runners.plugins.module_utils.models.options import validate_params


class _StageProgress(object):
    """Thread-safe byte and file counters of one run."""

    def __init__(self):
        self._lock = threading.Lock()
        self.bytes_transferred = 0   # bytes received from the Hub (failed attempts included)
        self.bytes_resumed = 0       # bytes of interrupted downloads kept and not fetched again
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

    def as_result(self):
        """The counters as the module reports them."""
        return {
            "bytes_transferred": self.bytes_transferred,
            "bytes_resumed": self.bytes_resumed,
            "bytes_copied": self.bytes_copied,
            "bytes_skipped": self.bytes_skipped,
            "files_transferred": self.files_transferred,
            "files_copied": self.files_copied,
            "files_skipped": self.files_skipped,
            "retries": self.retries,
        }


class ModelStager(object):
    """Stage one repo at one revision into one store. ``run()`` returns the result dict of the module.

    ``retry_base`` is the first retry's backoff in seconds (tests make it small).
    """

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
        self.applied_grace_hours = applied_prune_grace_hours(prune_grace_hours)
        self.check_mode = check_mode
        self.retry_base = retry_base
        self.progress = _StageProgress()
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
        manifest = self.store.read_manifest(self.layout, check_commit(pointer["commit"], "current.json"))
        if not manifest:
            return index
        check_repo_files(remote_files_from_manifest(manifest), "the manifest of %s" % pointer["commit"])
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
        # Paths from the Hub (or from a stored manifest) become file and object names: all are checked before
        # anything is written.
        check_repo_files(files, "%s %s at %s (from %s)" % (self.source.repo_type, self.source.repo_id, commit,
                                                           "its manifest" if manifest else self.source.endpoint))
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
    def _write_error(self, exc, remote):
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return StageError("no space left on %s while writing %s (%s); nothing was published"
                              % (self.store.describe(), remote.path, exc.strerror), kind="no_space",
                              files=[remote.path])
        return StageError("cannot write %s to %s: %s" % (remote.path, self.store.describe(), exc), kind="write",
                          files=[remote.path])

    def _resume_point(self, writer, remote):
        """(digest, offset): a digest primed with the bytes a writer already holds, and where to fetch from."""
        digest = FileDigest(remote)
        offset = writer.offset
        if offset and writer.replayable:
            writer.replay(digest.update)  # local bytes: hash them again instead of fetching them again
        elif offset:
            digest.skip(offset)  # bytes held in the bucket: the store verifies the whole object itself
        return digest, offset

    def _download_once(self, commit, remote):
        """One attempt: resume what an earlier attempt left, stream the rest, verify, commit. Returns the sha256.

        On a network error the writer keeps its bytes (the next attempt or run resumes); on any other failure
        they are dropped."""
        writer = self.store.open_writer(self.layout, commit, remote)
        digest, offset = self._resume_point(writer, remote)
        state = {"digest": digest, "resumed": offset}

        def restart():  # the server sends the whole file after all: drop what was held
            writer.restart()
            state.update(digest=FileDigest(remote), resumed=0)

        def consume(chunk):
            state["digest"].update(chunk)
            writer.write(chunk)
            self.progress.add(bytes_transferred=len(chunk))

        try:
            if offset < remote.size:
                self.source.stream(commit, remote, consume, start=offset, restart=restart)
            sha256 = state["digest"].verify()
            sha256 = writer.commit(sha256, state["digest"]) or sha256
        except HubError:
            writer.abort(keep=True)
            raise
        except EnvironmentError as exc:
            writer.abort()
            raise self._write_error(exc, remote)
        except BaseException:
            writer.abort()
            raise
        self.progress.add(files_transferred=1, bytes_resumed=state["resumed"])
        return sha256

    def _download(self, commit, remote):
        """Stream one file from the Hub into the store, verified; retried on network errors and corrupt bytes."""
        attempt = 0
        while True:
            try:
                return self._download_once(commit, remote)
            except DigestMismatch as exc:
                if attempt >= self.retries:
                    raise StageError("%s; it was not published" % exc, kind="corrupt", files=[remote.path])
                self.progress.note_retry(remote.path, str(exc))
            except HubError as exc:
                if exc.kind != "network" or attempt >= self.retries:
                    raise StageError(str(exc), kind=exc.kind, files=[remote.path])
                self.progress.note_retry(remote.path, str(exc))
            attempt += 1
            time.sleep(backoff_seconds(self.retry_base, attempt))

    def _copy(self, commit, remote, source):
        src_commit, src_path, entry = source
        self.store.copy_file(self.layout, src_commit, src_path, commit, remote, entry)
        self.progress.add(bytes_copied=remote.size, files_copied=1)
        return entry.get("sha256")

    def _submit_all(self, pool, commit, work):
        futures = {}
        for action, remote, source in work:
            if action == "copy":
                futures[pool.submit(self._copy, commit, remote, source)] = remote
            else:
                futures[pool.submit(self._download, commit, remote)] = remote
        return futures

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
            futures = self._submit_all(pool, commit, work)
            for future in as_completed(futures):
                remote = futures[future]
                if future.cancelled():
                    continue  # not started because an earlier file failed
                try:
                    digests[remote.path] = future.result()
                    continue
                except StageError as exc:
                    failures.append(exc)
                except Exception as exc:  # a store error: name the file
                    failures.append(StageError("%s: %s" % (remote.path, self.store.describe_error(exc)),
                                               kind="store", files=[remote.path]))
                for other in futures:
                    other.cancel()
        if failures:
            names = sorted(set(name for exc in failures for name in exc.files))
            raise StageError(failures[0].message, kind=failures[0].kind, files=names)
        return digests

    # -- the run ---------------------------------------------------------------------------------------------
    def _prunable(self, pointer, commit):
        """Revisions (and abandoned partial stagings) that nothing points at and whose grace period is over.

        The grace period is never shorter than MIN_PRUNE_GRACE_HOURS: the revision published until this run is
        what jobs started before the switch are reading."""
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
            if age_hours >= self.applied_grace_hours:
                doomed.append(dict(rev, age_hours=round(age_hours, 2)))
        return doomed

    def _prune(self, pointer, commit):
        """Delete prunable revisions; returns their commits."""
        pruned = []
        if self.prune:
            for rev in self._prunable(pointer, commit):
                self.store.delete_revision(self.layout, rev["commit"])
                pruned.append(rev["commit"])
            if pruned:
                self.store.forget_history(self.layout, pointer, pruned)
        return pruned

    def _summary(self, commit, files, pointer):
        return {
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

    def _would(self, commit, pointer, actions):
        """What a real run would move and prune (check mode)."""
        pending = [(a, r) for a, r, _s in actions if a != "skip"]
        downloads = [{"path": r.path, "size": r.size} for a, r in pending if a == "download"]
        copies = [{"path": r.path, "size": r.size} for a, r in pending if a == "copy"]
        prunable = self._prunable(pointer, commit) if self.prune else []
        return {
            "would_download": downloads,
            "would_copy": copies,
            "bytes_to_download": sum(item["size"] for item in downloads),
            "bytes_transferred": 0,
            "bytes_skipped": sum(r.size for a, r, _s in actions if a == "skip"),
            "pruned": [rev["commit"] for rev in prunable],
        }

    def _publish(self, commit, files, actions, manifest, pointer, target):
        """Move the files, write the manifest, then the pointer and the stable path; returns the new pointer."""
        digests = self._execute(commit, actions)
        if manifest is None:
            manifest = revision_manifest(self.source, commit, files, digests, self.allow_patterns,
                                         self.ignore_patterns)
        self.store.finalize_revision(self.layout, commit, manifest)
        new_pointer = published_pointer(self.source, self.layout, commit, pointer)
        self.store.publish(self.layout, commit, new_pointer, target)
        return new_pointer

    def run(self):
        """Stage, verify, publish, prune. Returns the module's result (changed, model, diff)."""
        started = time.monotonic()
        self.store.check_destination(self.layout, write=not self.check_mode)
        pointer = self.store.read_pointer(self.layout)
        stable_before = self.store.stable_target(self.layout)
        commit = self.source.resolve()
        target = self.layout.link_target(commit)
        diff = {"before": {"commit": (pointer or {}).get("commit"), "stable_target": stable_before},
                "after": {"commit": commit, "stable_target": target}}
        files, actions, manifest = self.plan(commit, pointer)
        needs_publish = (any(a != "skip" for a, _r, _s in actions) or manifest is None
                         or (pointer or {}).get("commit") != commit or stable_before != target)
        result = self._summary(commit, files, pointer)
        if self.check_mode:
            result.update(self._would(commit, pointer, actions))
            result.update(hub_requests=self.source.requests, prune_grace_hours=self.applied_grace_hours,
                          duration=round(time.monotonic() - started, 3))
            return {"changed": needs_publish or bool(result["pruned"]), "model": result, "diff": diff}
        if needs_publish:
            pointer = self._publish(commit, files, actions, manifest, pointer, target)
        else:
            for _a, remote, _s in actions:
                self.progress.add(bytes_skipped=remote.size, files_skipped=1)
        pruned = self._prune(pointer, commit)
        result.update(self.progress.as_result())
        result.update(pruned=pruned, hub_requests=self.source.requests, published=needs_publish,
                      prune_grace_hours=self.applied_grace_hours, duration=round(time.monotonic() - started, 3))
        return {"changed": needs_publish or bool(pruned), "model": result, "diff": diff}


# -- the model_stage module ------------------------------------------------------------------------------------
def model_stage_argument_spec():
    """Options of model_stage: the source, the destination, the run, and the GCS connection options."""
    spec = gcp_argument_spec("storage")
    # A filesystem destination needs no project; the storage client does not need one to read and write objects.
    spec["project"] = dict(type="str", fallback=(env_fallback, ["GCP_PROJECT", "GOOGLE_CLOUD_PROJECT"]))
    spec.update(
        repo_id=dict(type="str", required=True),
        revision=dict(type="str", default="main"),
        # No choices here: validate_params refuses 'space' saying Spaces are not supported (choices could not).
        repo_type=dict(type="str", default="model"),
        allow_patterns=dict(type="list", elements="str", default=[]),
        ignore_patterns=dict(type="list", elements="str", default=[]),
        endpoint=dict(type="str", fallback=(env_fallback, ["HF_ENDPOINT"])),
        token=dict(type="str", no_log=True, fallback=(env_fallback, ["HF_TOKEN"])),
        dest=dict(type="str", required=True),
        concurrency=dict(type="int", default=8),
        retries=dict(type="int", default=3),
        timeout=dict(type="int", default=60),
        prune=dict(type="bool", default=False),
        prune_grace_hours=dict(type="int", default=24),
        gcs_composite_uploads=dict(type="bool", default=False),
    )
    return spec


def build_store(params):
    """The store for params['dest']: GcsModelStore for gs://, FsModelStore for a path."""
    dest = params["dest"]
    if dest.startswith("gs://"):
        try:
            from ansible_collections.accelci.runners.plugins.module_utils.models.gcs_store_client import (
                GcsModelStore,
                widen_connection_pool,
            )

            client = gcp_client("storage", params)  # GcpCredentialsError (an AccelciError) names the option
        except ImportError:
            raise AccelciError(missing_required_lib("google-cloud-storage"), exception=traceback.format_exc())
        widen_connection_pool(client, params["concurrency"])
        return GcsModelStore(client, dest, composite_uploads=params.get("gcs_composite_uploads", False))
    from ansible_collections.accelci.runners.plugins.module_utils.models.fs_store_client import FsModelStore

    return FsModelStore(dest)


def _partial_result(stager, source):
    progress = stager.progress
    return {"repo_id": source.repo_id, "revision": source.revision, "published": False,
            "bytes_transferred": progress.bytes_transferred, "bytes_resumed": progress.bytes_resumed,
            "files_transferred": progress.files_transferred, "retries": progress.retries,
            "hub_requests": source.requests}


def _grace_warnings(params):
    if params["prune"] and params["prune_grace_hours"] < MIN_PRUNE_GRACE_HOURS:
        return ["prune_grace_hours %d is below the minimum of %d hour(s): replaced revisions are kept %d hour(s), "
                "so jobs that opened them before the switch can finish"
                % (params["prune_grace_hours"], MIN_PRUNE_GRACE_HOURS, MIN_PRUNE_GRACE_HOURS)]
    return []


def run_model_stage(module, retry_base=1.0):
    """The model_stage module: check the options, stage, and return the result.

    Raises InputError for an option, StageError (with kind, files and the partial ``model`` result) when staging
    fails. ``retry_base`` is the first retry's backoff in seconds.
    """
    params = module.params
    if not HAS_HUGGINGFACE_HUB:
        raise AccelciError(missing_required_lib("huggingface_hub"), exception=HUGGINGFACE_HUB_IMP_ERR)
    if not HAS_REQUESTS:
        raise AccelciError(missing_required_lib("requests"))
    validate_params(params)
    store = build_store(params)
    source = HubSource(params["repo_id"], repo_type=params["repo_type"], revision=params["revision"],
                       endpoint=params.get("endpoint"), token=params.get("token"), timeout=params["timeout"],
                       retries=params["retries"], retry_base=retry_base)
    stager = ModelStager(
        source, store,
        allow_patterns=params["allow_patterns"], ignore_patterns=params["ignore_patterns"],
        concurrency=params["concurrency"], retries=params["retries"], prune=params["prune"],
        prune_grace_hours=params["prune_grace_hours"], check_mode=module.check_mode, retry_base=retry_base,
    )
    try:
        result = stager.run()
    except (StageError, HubError) as exc:
        raise StageError("Failed to stage %s: %s" % (params["repo_id"], exc.message), kind=exc.kind,
                         files=exc.details.get("files"), model=_partial_result(stager, source))
    except Exception as exc:  # a store error nobody translated: say where, keep the traceback
        describe = getattr(store, "describe_error", str)
        raise StageError("Failed to stage %s into %s: %s" % (params["repo_id"], params["dest"], describe(exc)),
                         kind="store", exception=traceback.format_exc(), model=_partial_result(stager, source))
    warnings = _grace_warnings(params)
    if warnings:
        result["warnings"] = warnings
    return result

"""Unit tests of model staging: digests, layout, option checks, planning, publishing order and pruning, with an
in-memory source and store (no servers)."""

import hashlib
from datetime import timedelta

import pytest

from ansible_collections.accelci.runners.plugins.module_utils import model_store
from ansible_collections.accelci.runners.plugins.module_utils.hf_source import (
    DigestMismatch,
    FileDigest,
    HubError,
    HubSource,
    RemoteFile,
    is_commit,
    validate_repo_id,
)
from ansible_collections.accelci.runners.plugins.module_utils.model_stage_task import (
    model_stage_argument_spec,
    validate_params,
)
from ansible_collections.accelci.runners.plugins.module_utils.model_store import (
    ModelLayout,
    ModelStager,
    StageError,
    file_matches,
    iso,
    utc_now,
)
from ansible_collections.accelci.runners.plugins.module_utils.model_store_gcs import parse_gcs_url


def git_blob_sha1(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_remote(path, data):
    return RemoteFile(path, len(data), "0" * 40, hashlib.sha256(data).hexdigest())


def git_remote(path, data):
    return RemoteFile(path, len(data), git_blob_sha1(data))


# -- digests ---------------------------------------------------------------------------------------------------
def test_lfs_file_verified_by_sha256():
    data = b"weights" * 1000
    digest = FileDigest(lfs_remote("m.safetensors", data))
    digest.update(data[:10])
    digest.update(data[10:])
    assert digest.verify() == hashlib.sha256(data).hexdigest()
    assert digest.crc32c_b64


def test_lfs_file_same_length_other_bytes_is_rejected():
    data = b"a" * 100
    digest = FileDigest(lfs_remote("m.safetensors", data))
    digest.update(b"b" * 100)
    with pytest.raises(DigestMismatch, match="m.safetensors: sha256 .* does not match"):
        digest.verify()


def test_truncated_file_is_rejected_by_size():
    data = b"a" * 100
    digest = FileDigest(lfs_remote("m.safetensors", data))
    digest.update(data[:60])
    with pytest.raises(DigestMismatch, match="received 60 bytes, the Hub lists 100"):
        digest.verify()


def test_git_file_verified_by_blob_sha1():
    data = b'{"hidden": 8}\n'
    good = FileDigest(git_remote("config.json", data))
    good.update(data)
    assert good.verify() == hashlib.sha256(data).hexdigest()
    bad = FileDigest(git_remote("config.json", data))
    bad.update(data.replace(b"8", b"9"))
    with pytest.raises(DigestMismatch, match="git blob sha1"):
        bad.verify()


# -- names and options -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("repo_id", ["Wan-AI/Wan2.1-T2V-1.3B-Diffusers", "google/gemma-2-2b-it", "gpt2"])
def test_repo_ids_accepted(repo_id):
    validate_repo_id(repo_id)


@pytest.mark.parametrize("repo_id", ["", "a/b/c", "../etc", "org/", "/name", "org/na me"])
def test_repo_ids_rejected(repo_id):
    with pytest.raises(ValueError, match="not a Hugging Face repo id"):
        validate_repo_id(repo_id)


def test_is_commit():
    assert is_commit("a" * 40)
    assert not is_commit("main") and not is_commit("A" * 40) and not is_commit("a" * 39)


def params(**overrides):
    base = {"repo_id": "org/name", "revision": "main", "dest": "gs://bucket/prefix", "endpoint": None,
            "concurrency": 8, "retries": 3, "timeout": 60, "prune_grace_hours": 24}
    base.update(overrides)
    return base


@pytest.mark.parametrize("overrides, message", [
    ({"dest": "models"}, "absolute filesystem path"),
    ({"dest": "s3://bucket"}, "only gs://BUCKET"),
    ({"dest": "gs://"}, "has no bucket"),
    ({"concurrency": 0}, "concurrency must be between 1 and 64"),
    ({"retries": -1}, "retries must be 0 or more"),
    ({"endpoint": "huggingface.co"}, "endpoint .* must be an http"),
    ({"revision": ""}, "revision must be"),
    ({"repo_id": "a/b/c"}, "repo_id"),
    ({"prune_grace_hours": -1}, "prune_grace_hours"),
])
def test_bad_options_fail_before_anything_is_contacted(overrides, message):
    with pytest.raises(ValueError, match=message):
        validate_params(params(**overrides))


def test_good_options():
    validate_params(params())
    validate_params(params(dest="/mnt/models", endpoint="http://127.0.0.1:8090"))


def test_token_is_no_log_with_env_fallback():
    spec = model_stage_argument_spec()
    assert spec["token"]["no_log"] is True
    assert spec["token"]["fallback"][1] == ["HF_TOKEN"]
    assert spec["endpoint"]["fallback"][1] == ["HF_ENDPOINT"]
    assert spec["api_endpoint"]["fallback"][1] == ["STORAGE_EMULATOR_HOST"]
    assert not spec["project"].get("required")


def test_gcs_url():
    assert parse_gcs_url("gs://b") == ("b", "")
    assert parse_gcs_url("gs://b/p/q/") == ("b", "p/q/")
    with pytest.raises(ValueError):
        parse_gcs_url("gs:///x")


def test_layout_and_relative_link_targets():
    layout = ModelLayout("Wan-AI/Wan2.1-T2V-1.3B-Diffusers")
    assert layout.stable == "Wan-AI/Wan2.1-T2V-1.3B-Diffusers"
    assert layout.link_target("c" * 40) == \
        "../.accelci/models/Wan-AI/Wan2.1-T2V-1.3B-Diffusers/revisions/" + "c" * 40
    assert ModelLayout("gpt2").link_target("c" * 40) == ".accelci/models/gpt2/revisions/" + "c" * 40
    dataset = ModelLayout("org/data", "dataset")
    assert dataset.stable == "datasets/org/data"
    assert dataset.link_target("c" * 40) == "../../.accelci/models/datasets/org/data/revisions/" + "c" * 40


def test_file_matches():
    data = b"x" * 10
    lfs = lfs_remote("w", data)
    assert file_matches({"size": 10, "sha256": lfs.sha256}, lfs)
    assert not file_matches({"size": 11, "sha256": lfs.sha256}, lfs)
    assert not file_matches({"size": 10, "sha256": "0" * 64}, lfs)
    git = git_remote("c", data)
    assert file_matches({"size": 10, "git_oid": git.git_oid}, git)
    assert not file_matches(None, git)


class _Response:
    def __init__(self, status, code=None, message=""):
        self.status_code = status
        self.headers = {"X-Error-Code": code, "X-Error-Message": message} if code else {}
        self.reason = "reason"


@pytest.mark.parametrize("status, code, kind", [
    (401, "GatedRepo", "gated"), (401, "RepoNotFound", "repo_not_found"),
    (404, "EntryNotFound", "entry_not_found"), (404, "RevisionNotFound", "revision_not_found"),
    (503, None, "network"), (429, None, "network"), (400, None, "http"),
])
def test_file_get_errors_by_hub_error_code(status, code, kind):
    source = HubSource("org/name", endpoint="http://127.0.0.1:1")
    error = source._status_error(_Response(status, code), "model.safetensors")
    assert error.kind == kind and error.path == "model.safetensors"


# -- the stager with an in-memory source and store -------------------------------------------------------------
class MemorySource:
    def __init__(self, repo_id, commits, refs):
        self.repo_id = repo_id
        self.repo_type = "model"
        self.revision = "main"
        self.commits = commits  # commit -> {path: bytes}
        self.refs = refs
        self.requests = 0
        self.fail_on = set()

    def resolve(self):
        self.requests += 1
        return self.refs[self.revision]

    def list_files(self, commit, allow, ignore):
        self.requests += 1
        return [lfs_remote(p, d) if p.endswith(".safetensors") else git_remote(p, d)
                for p, d in sorted(self.commits[commit].items())]

    def stream(self, commit, remote, consume):
        self.requests += 1
        if remote.path in self.fail_on:
            raise HubError("network", "dropped", remote.path)
        data = self.commits[commit][remote.path]
        consume(data)
        return len(data)


class MemoryWriter:
    def __init__(self, store, key, remote):
        self.store, self.key, self.remote, self.parts = store, key, remote, []

    def write(self, data):
        self.parts.append(data)

    def commit(self, sha256, digest):
        self.store.objects[self.key] = {"data": b"".join(self.parts), "size": self.remote.size,
                                        "sha256": sha256, "git_oid": self.remote.git_oid}
        self.store.events.append(("file", self.key))

    def abort(self):
        self.parts = []


class MemoryStore:
    def __init__(self):
        self.objects = {}
        self.manifests = {}
        self.pointer = None
        self.link = None
        self.events = []
        self.revision_times = {}

    def describe(self, rel=None):
        return "mem://" + (rel or "")

    def describe_error(self, exc):
        return str(exc)

    def check_destination(self, layout, write=True):
        self.events.append(("check", write))

    def read_pointer(self, layout):
        return self.pointer

    def read_manifest(self, layout, commit):
        return self.manifests.get(commit)

    def stable_target(self, layout):
        return self.link

    def revision_files(self, layout, commit):
        return {k.split("/", 1)[1]: v for k, v in self.objects.items() if k.startswith(commit + "/")}

    def open_writer(self, layout, commit, remote):
        return MemoryWriter(self, commit + "/" + remote.path, remote)

    def copy_file(self, layout, src_commit, src_path, commit, remote, entry):
        self.objects[commit + "/" + remote.path] = dict(self.objects[src_commit + "/" + src_path])
        self.events.append(("copy", commit + "/" + remote.path))

    def finalize_revision(self, layout, commit, manifest):
        self.manifests[commit] = manifest
        self.revision_times.setdefault(commit, utc_now())
        self.events.append(("manifest", commit))

    def publish(self, layout, commit, pointer, target):
        self.pointer = pointer
        self.events.append(("pointer", commit))
        self.link = target
        self.events.append(("link", target))

    def list_revisions(self, layout):
        commits = sorted(set(k.split("/", 1)[0] for k in self.objects))
        return [{"commit": c, "complete": c in self.manifests, "mtime": self.revision_times.get(c, utc_now())}
                for c in commits]

    def delete_revision(self, layout, commit):
        for key in [k for k in self.objects if k.startswith(commit + "/")]:
            del self.objects[key]
        self.manifests.pop(commit, None)

    def forget_history(self, layout, pointer, commits):
        pointer["history"] = [h for h in pointer["history"] if h["commit"] not in commits]


C1, C2 = "1" * 40, "2" * 40
V1 = {"config.json": b'{"v": 1}', "model.safetensors": b"w1" * 500, "tok.json": b"tok"}
V2 = {"config.json": b'{"v": 2}', "model.safetensors": b"w1" * 500, "extra.safetensors": b"e" * 300}


def stager(source, store, **kwargs):
    kwargs.setdefault("retry_base", 0)
    return ModelStager(source, store, **kwargs)


def test_first_stage_publishes_manifest_then_pointer_then_link():
    source = MemorySource("org/name", {C1: V1}, {"main": C1})
    store = MemoryStore()
    result = stager(source, store).run()
    assert result["changed"] is True
    kinds = [e[0] for e in store.events]
    assert kinds[0] == "check" and kinds[-3:] == ["manifest", "pointer", "link"]
    assert kinds.count("file") == 3
    assert store.link == ModelLayout("org/name").link_target(C1)
    assert result["model"]["bytes_transferred"] == sum(len(v) for v in V1.values())
    manifest = store.manifests[C1]
    assert [f["path"] for f in manifest["files"]] == sorted(V1)
    assert all(f["sha256"] == hashlib.sha256(V1[f["path"]]).hexdigest() for f in manifest["files"])


def test_unchanged_refresh_makes_one_request_and_no_write():
    source = MemorySource("org/name", {C1: V1}, {"main": C1})
    store = MemoryStore()
    stager(source, store).run()
    store.events.clear()
    source.requests = 0
    again = stager(source, store).run()
    assert again["changed"] is False
    assert source.requests == 1
    assert [e[0] for e in store.events] == ["check"]
    assert again["model"]["bytes_skipped"] == sum(len(v) for v in V1.values())


def test_moved_revision_copies_identical_files_and_downloads_the_rest():
    source = MemorySource("org/name", {C1: V1, C2: V2}, {"main": C1})
    store = MemoryStore()
    stager(source, store).run()
    source.refs["main"] = C2
    moved = stager(source, store).run()
    model = moved["model"]
    assert model["files_copied"] == 1 and model["bytes_copied"] == len(V2["model.safetensors"])
    assert model["files_transferred"] == 2
    assert store.pointer["history"][0]["commit"] == C1
    assert moved["diff"] == {"before": {"commit": C1, "stable_target": ModelLayout("org/name").link_target(C1)},
                             "after": {"commit": C2, "stable_target": ModelLayout("org/name").link_target(C2)}}


def test_check_mode_reports_downloads_and_touches_nothing():
    source = MemorySource("org/name", {C1: V1}, {"main": C1})
    store = MemoryStore()
    plan = stager(source, store, check_mode=True).run()
    assert plan["changed"] is True
    assert sorted(f["path"] for f in plan["model"]["would_download"]) == sorted(V1)
    assert plan["model"]["bytes_to_download"] == sum(len(v) for v in V1.values())
    assert store.events == [("check", False)] and store.objects == {} and store.link is None


def test_failed_file_publishes_nothing_and_names_the_file():
    source = MemorySource("org/name", {C1: V1}, {"main": C1})
    source.fail_on = {"model.safetensors"}
    store = MemoryStore()
    with pytest.raises(StageError) as err:
        stager(source, store, retries=2).run()
    assert err.value.kind == "network" and err.value.files == ["model.safetensors"]
    assert store.link is None and store.manifests == {} and store.pointer is None


def test_prune_waits_for_the_grace_period(monkeypatch):
    source = MemorySource("org/name", {C1: V1, C2: V2}, {"main": C1})
    store = MemoryStore()
    stager(source, store).run()
    source.refs["main"] = C2
    result = stager(source, store, prune=True, prune_grace_hours=24).run()
    assert result["model"]["pruned"] == []
    assert {r["commit"] for r in store.list_revisions(None)} == {C1, C2}
    # A day and a bit later, the replaced revision goes; the published one stays.
    later = utc_now() + timedelta(hours=25)
    monkeypatch.setattr(model_store, "utc_now", lambda: later)
    again = stager(source, store, prune=True, prune_grace_hours=24).run()
    assert again["changed"] is True and again["model"]["pruned"] == [C1]
    assert {r["commit"] for r in store.list_revisions(None)} == {C2}
    assert store.pointer["history"] == []


def test_empty_selection_is_an_error():
    source = MemorySource("org/name", {C1: {}}, {"main": C1})
    with pytest.raises(StageError, match="no file matches"):
        stager(source, MemoryStore()).run()


def test_iso_round_trip():
    now = utc_now().replace(microsecond=0)
    assert model_store.parse_iso(iso(now)) == now


class _FlakyApi:
    """HfApi stand-in: the first calls fail like a dropped connection, then the answer comes."""

    def __init__(self, failures):
        self.failures = failures
        self.calls = 0

    def repo_info(self, repo_id, revision=None, repo_type=None, timeout=None):
        self.calls += 1
        if self.calls <= self.failures:
            raise ConnectionError("connection reset by peer")

        class Info:
            sha = "c" * 40

        return Info()


def test_metadata_calls_are_retried_after_transient_errors():
    source = HubSource("org/name", endpoint="http://127.0.0.1:1", retries=2, retry_base=0)
    source._api = _FlakyApi(failures=2)
    assert source.resolve() == "c" * 40
    assert source.requests == 3


def test_metadata_calls_give_up_after_the_retries():
    source = HubSource("org/name", endpoint="http://127.0.0.1:1", retries=1, retry_base=0)
    source._api = _FlakyApi(failures=5)
    with pytest.raises(HubError) as err:
        source.resolve()
    assert err.value.kind == "network" and "cannot reach" in str(err.value)
    assert source.requests == 2

"""models.stage_manager: option checks, planning, publishing order and pruning with an in-memory source and store
(no servers), and the model_stage flow returning its result."""

import hashlib
from datetime import timedelta

import pytest

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import InputError
from ansible_collections.accelci.runners.plugins.module_utils.models import stage_manager
from ansible_collections.accelci.runners.plugins.module_utils.models.errors import HubError, StageError
from ansible_collections.accelci.runners.plugins.module_utils.models.gcs_store_client import parse_gcs_url
from ansible_collections.accelci.runners.plugins.module_utils.models.layout import (
    MIN_PRUNE_GRACE_HOURS,
    ModelLayout,
    utc_now,
)
from ansible_collections.accelci.runners.plugins.module_utils.models.stage_manager import (
    ModelStager,
    model_stage_argument_spec,
)
from tests.unit.plugins.module_utils.models.remote_files import git_remote, lfs_remote


# -- options (the checks themselves: test_options.py) -------------------------------------------------------------
def params(**overrides):
    base = {"repo_id": "org/name", "revision": "main", "dest": "gs://bucket/prefix", "endpoint": None,
            "concurrency": 8, "retries": 3, "timeout": 60, "prune_grace_hours": 24}
    base.update(overrides)
    return base


def test_token_is_no_log_with_env_fallback():
    spec = model_stage_argument_spec()
    assert spec["token"]["no_log"] is True
    assert spec["token"]["fallback"][1] == ["HF_TOKEN"]
    assert spec["endpoint"]["fallback"][1] == ["HF_ENDPOINT"]
    assert spec["api_endpoint"]["fallback"][1] == ["STORAGE_EMULATOR_HOST"]
    assert not spec["project"].get("required")
    # No choices: a Space is refused by validate_params with a message that says Spaces are not supported.
    assert "choices" not in spec["repo_type"]


def test_gcs_url():
    assert parse_gcs_url("gs://bkt") == ("bkt", "")
    assert parse_gcs_url("gs://bkt/p/q/") == ("bkt", "p/q/")
    for bad in ("gs:///x", "gs://bkt/../x", "gs://bkt/a/./b"):
        with pytest.raises(InputError) as failure:
            parse_gcs_url(bad)
        assert failure.value.field == "dest"


# -- the stager with an in-memory source and store -------------------------------------------------------------
class MemorySource:
    def __init__(self, repo_id, commits, refs):
        self.repo_id = repo_id
        self.repo_type = "model"
        self.revision = "main"
        self.endpoint = "mem://hub"
        self.commits = commits  # commit -> {path: bytes}
        self.refs = refs
        self.requests = 0
        self.fail_on = set()
        self.drop_after = {}  # path -> bytes sent before the connection drops (once)
        self.honours_range = True
        self.starts = []  # (path, start) of every file request

    def resolve(self):
        self.requests += 1
        return self.refs[self.revision]

    def list_files(self, commit, allow, ignore):
        self.requests += 1
        return [lfs_remote(p, d) if p.endswith(".safetensors") else git_remote(p, d)
                for p, d in sorted(self.commits[commit].items())]

    def stream(self, commit, remote, consume, start=0, restart=None):
        self.requests += 1
        self.starts.append((remote.path, start))
        if remote.path in self.fail_on:
            raise HubError("network", "dropped", remote.path)
        data = self.commits[commit][remote.path]
        if start and not self.honours_range:
            restart()  # like olah: Range ignored, the whole file follows
            start = 0
        body = data[start:]
        cut = self.drop_after.pop(remote.path, None)
        if cut is not None:
            consume(body[:cut])
            raise HubError("network", "dropped after %d bytes" % cut, remote.path)
        consume(body)
        return len(body)


class MemoryWriter:
    replayable = True

    def __init__(self, store, key, remote):
        self.store, self.key, self.remote = store, key, remote
        self.held = store.incoming.setdefault(key, bytearray())
        self.offset = len(self.held)

    def replay(self, update):
        update(bytes(self.held))

    def restart(self):
        del self.held[:]
        self.offset = 0

    def write(self, data):
        self.held.extend(data)

    def commit(self, sha256, digest):
        self.store.objects[self.key] = {"data": bytes(self.held), "size": self.remote.size,
                                        "sha256": sha256, "git_oid": self.remote.git_oid}
        del self.store.incoming[self.key]
        self.store.events.append(("file", self.key))
        return sha256

    def abort(self, keep=False):
        if not keep:
            self.store.incoming.pop(self.key, None)


class MemoryStore:
    def __init__(self):
        self.objects = {}
        self.incoming = {}
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


def test_prune_grace_zero_keeps_the_revision_published_until_this_run(monkeypatch):
    source = MemorySource("org/name", {C1: V1, C2: V2}, {"main": C1})
    store = MemoryStore()
    stager(source, store, prune=True, prune_grace_hours=0).run()
    source.refs["main"] = C2
    moved = stager(source, store, prune=True, prune_grace_hours=0).run()
    # C1 was what jobs read until this very run: it stays, whatever the setting.
    assert moved["model"]["pruned"] == [] and moved["model"]["prune_grace_hours"] == MIN_PRUNE_GRACE_HOURS
    assert {r["commit"] for r in store.list_revisions(None)} == {C1, C2}
    plan = stager(source, store, prune=True, prune_grace_hours=0, check_mode=True).run()
    assert plan["model"]["pruned"] == []
    replaced = utc_now()
    just_before = replaced + timedelta(hours=MIN_PRUNE_GRACE_HOURS, minutes=-1)
    monkeypatch.setattr(stage_manager, "utc_now", lambda: just_before)
    assert stager(source, store, prune=True, prune_grace_hours=0).run()["model"]["pruned"] == []
    just_after = replaced + timedelta(hours=MIN_PRUNE_GRACE_HOURS, minutes=1)
    monkeypatch.setattr(stage_manager, "utc_now", lambda: just_after)
    assert stager(source, store, prune=True, prune_grace_hours=0).run()["model"]["pruned"] == [C1]
    assert {r["commit"] for r in store.list_revisions(None)} == {C2}


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
    monkeypatch.setattr(stage_manager, "utc_now", lambda: later)
    again = stager(source, store, prune=True, prune_grace_hours=24).run()
    assert again["changed"] is True and again["model"]["pruned"] == [C1]
    assert {r["commit"] for r in store.list_revisions(None)} == {C2}
    assert store.pointer["history"] == []


def test_interrupted_file_resumes_from_the_bytes_held():
    big = {"model.safetensors": bytes(range(256)) * 4000, "config.json": b"{}"}
    source = MemorySource("org/name", {C1: big}, {"main": C1})
    source.drop_after["model.safetensors"] = 300000
    store = MemoryStore()
    with pytest.raises(StageError) as err:
        stager(source, store, retries=0).run()
    assert err.value.kind == "network"
    key = C1 + "/model.safetensors"
    assert len(store.incoming[key]) == 300000 and store.link is None
    source.starts = []
    result = stager(source, store).run()
    model = result["model"]
    assert [start for path, start in source.starts if path == "model.safetensors"] == [300000]
    resent = sum(len(big[path]) for path, _start in source.starts if path != "model.safetensors")
    assert model["bytes_transferred"] == len(big["model.safetensors"]) - 300000 + resent
    assert model["bytes_resumed"] == 300000
    assert store.objects[key]["data"] == big["model.safetensors"]
    assert store.manifests[C1]["files"][1]["sha256"] == hashlib.sha256(big["model.safetensors"]).hexdigest()


def test_a_retry_in_the_same_run_resumes_too():
    big = {"model.safetensors": b"w" * 500000}
    source = MemorySource("org/name", {C1: big}, {"main": C1})
    source.drop_after["model.safetensors"] = 200000
    result = stager(source, MemoryStore(), retries=1).run()
    assert source.starts == [("model.safetensors", 0), ("model.safetensors", 200000)]
    assert result["model"]["bytes_transferred"] == 500000 and result["model"]["bytes_resumed"] == 200000
    assert [r["path"] for r in result["model"]["retries"]] == ["model.safetensors"]


def test_server_that_ignores_range_restarts_from_zero():
    big = {"model.safetensors": bytes(range(256)) * 2000}
    source = MemorySource("org/name", {C1: big}, {"main": C1})
    source.honours_range = False
    store = MemoryStore()
    store.incoming[C1 + "/model.safetensors"] = bytearray(big["model.safetensors"][:1000])
    result = stager(source, store).run()
    assert result["model"]["bytes_transferred"] == len(big["model.safetensors"])
    assert result["model"]["bytes_resumed"] == 0
    assert store.objects[C1 + "/model.safetensors"]["data"] == big["model.safetensors"]


def test_held_bytes_that_do_not_match_are_dropped_and_fetched_again():
    big = {"model.safetensors": bytes(range(256)) * 2000}
    source = MemorySource("org/name", {C1: big}, {"main": C1})
    store = MemoryStore()
    store.incoming[C1 + "/model.safetensors"] = bytearray(b"\0" * 1000)  # not the file's first bytes
    result = stager(source, store, retries=1).run()
    assert source.starts == [("model.safetensors", 1000), ("model.safetensors", 0)]
    assert "sha256" in result["model"]["retries"][0]["error"]
    assert store.objects[C1 + "/model.safetensors"]["data"] == big["model.safetensors"]


def test_a_complete_file_held_is_verified_without_a_request():
    big = {"model.safetensors": b"z" * 4096}
    source = MemorySource("org/name", {C1: big}, {"main": C1})
    store = MemoryStore()
    store.incoming[C1 + "/model.safetensors"] = bytearray(big["model.safetensors"])
    result = stager(source, store).run()
    assert source.starts == [] and result["model"]["bytes_transferred"] == 0
    assert result["model"]["bytes_resumed"] == 4096


@pytest.mark.parametrize("path", ["../x", "/etc/x", "a/../../x", "a\\b", "C:x", "a\x00b", "a//b", "./a"])
def test_a_listing_with_an_escaping_path_is_refused_before_any_write(path):
    source = MemorySource("org/name", {C1: {"config.json": b"{}", path: b"evil"}}, {"main": C1})
    store = MemoryStore()
    with pytest.raises(StageError) as err:
        stager(source, store).run()
    assert err.value.kind == "unsafe_path" and err.value.files == [path]
    assert repr(path) in str(err.value) and "org/name" in str(err.value)
    assert [e[0] for e in store.events] == ["check"]
    assert store.objects == {} and store.incoming == {} and source.starts == []


def test_a_tampered_manifest_is_refused_like_a_listing():
    source = MemorySource("org/name", {C1: V1}, {"main": C1})
    store = MemoryStore()
    stager(source, store).run()
    store.manifests[C1]["files"][0]["path"] = "../../outside"
    del store.objects[C1 + "/config.json"]
    with pytest.raises(StageError) as err:
        stager(source, store).run()
    assert err.value.kind == "unsafe_path" and "its manifest" in str(err.value)


def test_empty_selection_is_an_error():
    source = MemorySource("org/name", {C1: {}}, {"main": C1})
    with pytest.raises(StageError, match="no file matches"):
        stager(source, MemoryStore()).run()


# -- the model_stage flow ------------------------------------------------------------------------------------------
class StageModule:
    """What run_model_stage uses of an AnsibleModule (no fail_json/exit_json: it returns or raises)."""

    def __init__(self, check_mode=False, **overrides):
        self.params = dict(params(dest="/models"), repo_type="model", allow_patterns=[], ignore_patterns=[],
                           token=None, prune=False, gcs_composite_uploads=False)
        self.params.update(overrides)
        self.check_mode = check_mode


@pytest.fixture
def wired(monkeypatch):
    """run_model_stage against one in-memory source and store."""
    source = MemorySource("org/name", {C1: V1}, {"main": C1})
    store = MemoryStore()
    seen = {}

    def make_source(repo_id, **kwargs):
        seen.update(kwargs)
        return source

    monkeypatch.setattr(stage_manager, "HubSource", make_source)
    monkeypatch.setattr(stage_manager, "build_store", lambda params: store)
    return source, store, seen


def test_run_model_stage_returns_its_result(wired):
    source, store, seen = wired
    result = stage_manager.run_model_stage(StageModule(), retry_base=0)
    assert result["changed"] is True and result["model"]["commit"] == C1
    assert store.link == ModelLayout("org/name").link_target(C1)
    assert seen["retry_base"] == 0


def test_run_model_stage_failure_carries_kind_files_and_progress(wired):
    source, store, _seen = wired
    source.fail_on = {"model.safetensors"}
    with pytest.raises(StageError) as err:
        stage_manager.run_model_stage(StageModule(retries=0), retry_base=0)
    failed = err.value.fail_json_kwargs()
    assert failed["msg"] == "Failed to stage org/name: dropped"
    assert failed["kind"] == "network" and failed["files"] == ["model.safetensors"]
    assert failed["model"]["published"] is False and failed["model"]["repo_id"] == "org/name"
    assert store.link is None


def test_run_model_stage_checks_options_before_building_anything(monkeypatch):
    def unexpected(*args, **kwargs):
        raise AssertionError("nothing may be built for bad options")

    monkeypatch.setattr(stage_manager, "build_store", unexpected)
    monkeypatch.setattr(stage_manager, "HubSource", unexpected)
    with pytest.raises(InputError) as err:
        stage_manager.run_model_stage(StageModule(concurrency=65))
    assert err.value.field == "concurrency"


def test_run_model_stage_warns_when_the_grace_is_raised(wired):
    result = stage_manager.run_model_stage(StageModule(prune=True, prune_grace_hours=0), retry_base=0)
    assert "below the minimum of %d hour" % MIN_PRUNE_GRACE_HOURS in result["warnings"][0]
    result = stage_manager.run_model_stage(StageModule(prune=True, prune_grace_hours=2), retry_base=0)
    assert "warnings" not in result


def test_run_model_stage_refuses_a_space_before_building_anything(monkeypatch):
    def unexpected(*args, **kwargs):
        raise AssertionError("nothing may be built for bad options")

    monkeypatch.setattr(stage_manager, "build_store", unexpected)
    monkeypatch.setattr(stage_manager, "HubSource", unexpected)
    with pytest.raises(InputError, match="Spaces are applications") as err:
        stage_manager.run_model_stage(StageModule(repo_type="space"))
    assert err.value.field == "repo_type"


def test_the_product_reads_no_retry_timing_from_the_environment(wired, monkeypatch):
    monkeypatch.setenv("ACCELCI_RETRY_BASE_SECONDS", "0.001")
    _source, _store, seen = wired
    stage_manager.run_model_stage(StageModule())
    assert seen["retry_base"] == 1.0

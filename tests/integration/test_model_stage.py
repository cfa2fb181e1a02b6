"""model staging against real servers: olah (offline, repos built here) and fake-gcs-server, plus a filesystem
cache. Every scenario asserts what a reader of the stable path sees."""

import errno
import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import timedelta

import pytest

from tests.emulators.hub import build_repo, corrupt_lfs_object, restore_lfs_object
from tests.integration import model_fixtures
from tests.integration.model_fixtures import (
    BUCKET,
    GOOD_TOKEN,
    ROOT,
    CacheView,
    lfs_rule,
    model_files,
    new_repo,
    stage,
    weights,
)

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import InputError
from ansible_collections.accelci.runners.plugins.module_utils.models import stage_manager
from ansible_collections.accelci.runners.plugins.module_utils.models.errors import StageError
from ansible_collections.accelci.runners.plugins.module_utils.models.layout import (
    MIN_PRUNE_GRACE_HOURS,
    ModelLayout,
    utc_now,
)
from ansible_collections.accelci.runners.plugins.module_utils.models.fs_store_client import FsModelStore
from ansible_collections.accelci.runners.plugins.module_utils.models.gcs_store_client import GcsModelStore

# The shared fixtures, bound here so pytest finds them in this module.
mirror_root = model_fixtures.mirror_root
hub = model_fixtures.hub
gcs = model_fixtures.gcs
cache = model_fixtures.cache


def total(files):
    return sum(len(v) for v in files.values())


def test_first_stage_then_unchanged_refresh(hub, mirror_root, cache):
    files = model_files()
    built = new_repo(mirror_root, [files])
    assert cache.read_stable(built.repo_id) is None

    first = stage(hub, cache, built.repo_id)
    model = first["model"]
    assert first["changed"] is True
    assert model["commit"] == built.head
    assert model["bytes_transferred"] == total(files)
    assert model["files_transferred"] == len(files)
    assert cache.read_stable(built.repo_id) == files
    manifest = cache.store.read_manifest(ModelLayout(built.repo_id), built.head)
    assert manifest["commit"] == built.head
    assert {f["path"]: f["size"] for f in manifest["files"]} == {k: len(v) for k, v in files.items()}
    assert all(len(f["sha256"]) == 64 for f in manifest["files"])

    hub.reset_log()
    again = stage(hub, cache, built.repo_id)
    assert again["changed"] is False
    assert again["model"]["bytes_transferred"] == 0
    assert again["model"]["bytes_skipped"] == total(files)
    # One request: the revision -> commit lookup. No tree listing, no file.
    assert hub.requests_for(built.repo_id) == [("GET", "/api/models/%s/revision/main" % built.repo_id)]
    assert cache.read_stable(built.repo_id) == files

    hub.reset_log()
    pinned = stage(hub, cache, built.repo_id, revision=built.head)
    assert pinned["changed"] is False
    assert hub.requests_for(built.repo_id) == []


def test_main_moves_only_changed_files_move_and_flip_is_atomic(hub, mirror_root, cache, monkeypatch):
    old_files = model_files(seed=1)
    built = new_repo(mirror_root, [old_files], tags={"v1": 0})
    stage(hub, cache, built.repo_id)
    old_commit = built.head

    change = {"config.json": b'{"hidden": 16}', "model.safetensors": weights(3 * 1024 * 1024 + 99, 42),
              "tokenizer/vocab.txt": None}
    build_repo(mirror_root, built.repo_id, [change], lfs_paths=lfs_rule)
    new_commit = built_head(built)
    new_files = dict(old_files)
    new_files.update({k: v for k, v in change.items() if v is not None})
    del new_files["tokenizer/vocab.txt"]

    seen_during_transfer = []
    real_open_writer = cache.store.open_writer

    def watching_open_writer(layout, commit, remote):
        # What a job opening the model right now would read: still the whole old revision.
        seen_during_transfer.append(cache.read_stable(built.repo_id))
        return real_open_writer(layout, commit, remote)

    cache.store.open_writer = watching_open_writer
    moved = stage(hub, cache, built.repo_id, prune=True, prune_grace_hours=24)
    cache.store.open_writer = real_open_writer

    model = moved["model"]
    assert moved["changed"] is True
    assert model["commit"] == new_commit and model["previous_commit"] == old_commit
    assert moved["diff"]["before"]["commit"] == old_commit and moved["diff"]["after"]["commit"] == new_commit
    changed_bytes = len(change["config.json"]) + len(change["model.safetensors"])
    assert model["bytes_transferred"] == changed_bytes
    assert model["files_transferred"] == 2
    assert model["files_copied"] == 2 and model["bytes_copied"] == len(old_files["README.md"]) + len(
        old_files["big.safetensors"])
    assert seen_during_transfer and all(view == old_files for view in seen_during_transfer)
    assert cache.read_stable(built.repo_id) == new_files
    # The old revision stays for running jobs until its grace period is over.
    assert cache.revisions(built.repo_id) == sorted([old_commit, new_commit])
    assert model["pruned"] == []

    # prune_grace_hours 0 still keeps the revision published until this run for the minimum grace...
    kept = stage(hub, cache, built.repo_id, prune=True, prune_grace_hours=0)
    assert kept["changed"] is False and kept["model"]["pruned"] == []
    assert kept["model"]["prune_grace_hours"] == MIN_PRUNE_GRACE_HOURS
    assert cache.revisions(built.repo_id) == sorted([old_commit, new_commit])
    # ...and lets it go once that has passed.
    later = utc_now() + timedelta(hours=MIN_PRUNE_GRACE_HOURS, minutes=1)
    monkeypatch.setattr(stage_manager, "utc_now", lambda: later)
    pruned = stage(hub, cache, built.repo_id, prune=True, prune_grace_hours=0)
    monkeypatch.undo()
    assert pruned["changed"] is True
    assert pruned["model"]["pruned"] == [old_commit]
    assert pruned["model"]["bytes_transferred"] == 0
    assert cache.revisions(built.repo_id) == [new_commit]
    assert cache.read_stable(built.repo_id) == new_files

    # Pinning back to the tag republishes the old commit; the stable path flips back.
    back = stage(hub, cache, built.repo_id, revision="v1")
    assert back["model"]["commit"] == old_commit
    assert cache.read_stable(built.repo_id) == old_files


def built_head(built):
    import subprocess as sp

    return sp.run(["git", "-C", built.path, "rev-parse", "HEAD"], capture_output=True, text=True,
                  check=True).stdout.strip()


def test_check_mode_lists_downloads_and_writes_nothing(hub, mirror_root, cache):
    files = model_files(seed=3)
    built = new_repo(mirror_root, [files])
    before = cache.all_names()
    plan = stage(hub, cache, built.repo_id, check_mode=True)
    assert plan["changed"] is True
    assert sorted((f["path"], f["size"]) for f in plan["model"]["would_download"]) == sorted(
        (k, len(v)) for k, v in files.items())
    assert plan["model"]["bytes_to_download"] == total(files)
    assert cache.all_names() == before
    assert cache.read_stable(built.repo_id) is None

    stage(hub, cache, built.repo_id)
    plan = stage(hub, cache, built.repo_id, check_mode=True)
    assert plan["changed"] is False and plan["model"]["would_download"] == []


def test_corrupted_file_on_the_server_is_never_published(hub, mirror_root, cache):
    files = model_files(seed=4)
    built = new_repo(mirror_root, [files])
    corrupt_lfs_object(built, "model.safetensors")  # same length, other bytes
    with pytest.raises(StageError) as err:
        stage(hub, cache, built.repo_id, retries=1)
    assert err.value.kind == "corrupt"
    assert err.value.files == ["model.safetensors"]
    assert "model.safetensors" in str(err.value) and "sha256" in str(err.value)
    assert cache.read_stable(built.repo_id) is None
    assert cache.store.read_manifest(ModelLayout(built.repo_id), built.head) is None
    assert "model.safetensors" not in cache.store.revision_files(ModelLayout(built.repo_id), built.head)

    # Truncated on the server: caught by size before anything else.
    corrupt_lfs_object(built, "model.safetensors", new_length=1000)
    with pytest.raises(StageError) as err:
        stage(hub, cache, built.repo_id, retries=0)
    assert err.value.kind == "corrupt" and "truncated" in str(err.value)

    restore_lfs_object(built, "model.safetensors", files["model.safetensors"])
    fixed = stage(hub, cache, built.repo_id)
    # The files verified in the failed runs are not fetched again.
    assert fixed["model"]["files_transferred"] == 1
    assert fixed["model"]["bytes_transferred"] == len(files["model.safetensors"])
    assert cache.read_stable(built.repo_id) == files


def test_connection_dropped_mid_file_is_retried(hub, mirror_root, cache):
    files = model_files(seed=5)
    built = new_repo(mirror_root, [files])
    hub.drop_after("%s/resolve/%s/big.safetensors" % (built.repo_id, built.head), 512 * 1024, times=1)
    result = stage(hub, cache, built.repo_id)
    assert [r["path"] for r in result["model"]["retries"]] == ["big.safetensors"]
    assert "failed after" in result["model"]["retries"][0]["error"]
    assert result["model"]["bytes_transferred"] > total(files)  # the dropped attempt counts too
    assert cache.read_stable(built.repo_id) == files


def test_connection_dropped_every_time_fails_and_publishes_nothing(hub, mirror_root, cache):
    files = model_files(seed=6)
    built = new_repo(mirror_root, [files])
    hub.drop_after(built.repo_id + "/resolve/%s/big.safetensors" % built.head, 1024 * 1024, times=3)
    with pytest.raises(StageError) as err:
        stage(hub, cache, built.repo_id, retries=2)
    assert err.value.kind == "network"
    assert err.value.files == ["big.safetensors"]
    assert cache.read_stable(built.repo_id) is None
    # The next run resumes: only the file that never arrived moves.
    result = stage(hub, cache, built.repo_id)
    assert result["model"]["files_transferred"] == 1
    assert result["model"]["bytes_transferred"] == len(files["big.safetensors"])
    assert cache.read_stable(built.repo_id) == files


KILL_SCRIPT = textwrap.dedent("""
    import sys
    sys.path[:0] = [%(root)r, %(collections)r]
    from tests.integration.model_fixtures import CacheView
    from ansible_collections.accelci.runners.plugins.module_utils.models.hub_client import HubSource
    from ansible_collections.accelci.runners.plugins.module_utils.models.stage_manager import ModelStager
    kind, endpoint, repo_id, dest, gcs_endpoint = sys.argv[1:6]
    if kind == "fs":
        from ansible_collections.accelci.runners.plugins.module_utils.models.fs_store_client import FsModelStore
        store = FsModelStore(dest)
    else:
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage
        from ansible_collections.accelci.runners.plugins.module_utils.models.gcs_store_client import GcsModelStore
        client = storage.Client(project="p", credentials=AnonymousCredentials(),
                                client_options={"api_endpoint": gcs_endpoint})
        store = GcsModelStore(client, dest)
    ModelStager(HubSource(repo_id, endpoint=endpoint), store, concurrency=1).run()
""")


def test_process_killed_mid_stage_then_rerun(hub, mirror_root, cache, tmp_path):
    old = model_files(seed=7)
    built = new_repo(mirror_root, [old])
    stage(hub, cache, built.repo_id)
    new = {"config.json": b'{"v": 2}', "model.safetensors": weights(3 * 1024 * 1024 + 1, 70),
           "big.safetensors": weights(9 * 1024 * 1024 + 2, 71)}
    build_repo(mirror_root, built.repo_id, [new], lfs_paths=lfs_rule)
    head = built_head(built)
    expected = dict(old)
    expected.update(new)

    # concurrency=1 and largest first: big.safetensors completes, model.safetensors stalls, then the kill.
    reached = hub.stall_after("%s/resolve/%s/model.safetensors" % (built.repo_id, head), 1024 * 1024)
    script = tmp_path / "stage.py"
    script.write_text(KILL_SCRIPT % {"root": ROOT, "collections": os.path.join(ROOT, "build", "collections")})
    dest = cache.store.root if cache.kind == "fs" else cache.store.dest
    proc = subprocess.Popen([sys.executable, str(script), cache.kind, hub.endpoint, built.repo_id, dest,
                             cache.gcs.endpoint if cache.gcs else ""], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        assert reached.wait(60), "the stager never reached the stalled file"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
        hub.release()
    # Killed mid-stage: readers still see the old revision, whole.
    assert cache.read_stable(built.repo_id) == old
    done = cache.store.revision_files(ModelLayout(built.repo_id), head)
    assert "big.safetensors" in done and "model.safetensors" not in done

    result = stage(hub, cache, built.repo_id)
    model = result["model"]
    assert model["commit"] == head
    # big.safetensors was finished before the kill: not transferred again.
    assert model["bytes_transferred"] == len(new["config.json"]) + len(new["model.safetensors"])
    assert cache.read_stable(built.repo_id) == expected
    if cache.kind == "fs":
        leftovers = [n for n in cache.all_names() if ".accelci-part-" in n]
        assert leftovers == []


def test_gated_repo_needs_a_token(hub, mirror_root, cache):
    files = {"config.json": b"{}", "model.safetensors": weights(200000, 8)}
    built = new_repo(mirror_root, [files], gated=True)
    with pytest.raises(Exception) as err:
        stage(hub, cache, built.repo_id)
    assert getattr(err.value, "kind", None) == "gated"
    assert "request access" in str(err.value) and "token" in str(err.value)
    with pytest.raises(Exception) as err:
        stage(hub, cache, built.repo_id, token="hf_not_granted")
    assert err.value.kind == "gated" and "has not been granted access" in str(err.value)
    assert "hf_not_granted" not in str(err.value)
    assert cache.read_stable(built.repo_id) is None
    ok = stage(hub, cache, built.repo_id, token=GOOD_TOKEN)
    assert ok["changed"] is True
    assert cache.read_stable(built.repo_id) == files


def test_unknown_repo_and_revision(hub, mirror_root, cache):
    built = new_repo(mirror_root, [{"a.txt": b"a"}])
    with pytest.raises(Exception) as err:
        stage(hub, cache, "acme/does-not-exist")
    assert err.value.kind == "repo_not_found" and "acme/does-not-exist" in str(err.value)
    with pytest.raises(Exception) as err:
        stage(hub, cache, built.repo_id, revision="no-such-branch")
    assert err.value.kind == "revision_not_found" and "no-such-branch" in str(err.value)
    with pytest.raises(Exception) as err:
        stage(hub, cache, built.repo_id, revision="0" * 40)
    assert err.value.kind in ("revision_not_found", "repo_not_found")
    assert cache.all_names() == [] or all(".write-probe" not in n for n in cache.all_names())
    assert cache.read_stable(built.repo_id) is None


def test_destination_not_writable(hub, mirror_root, tmp_path, gcs):
    built = new_repo(mirror_root, [{"a.txt": b"a"}])
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    view = CacheView("fs", FsModelStore(str(blocker / "models")))
    with pytest.raises(StageError) as err:
        stage(hub, view, built.repo_id)
    assert err.value.kind == "dest" and "not writable" in str(err.value)

    # An unmounted share: the root is not created, so nothing lands on the local disk.
    missing = tmp_path / "not-mounted"
    view = CacheView("fs", FsModelStore(str(missing)))
    with pytest.raises(StageError) as err:
        stage(hub, view, built.repo_id)
    assert err.value.kind == "dest" and "does not exist" in str(err.value)
    assert not missing.exists()
    assert hub.requests_for(built.repo_id) == []

    view = CacheView("gcs", GcsModelStore(gcs.client(), "gs://no-such-bucket-accelci/x"), gcs)
    with pytest.raises(StageError) as err:
        stage(hub, view, built.repo_id)
    assert err.value.kind == "dest" and "no-such-bucket-accelci" in str(err.value)


def test_existing_copy_at_stable_path_is_not_touched(hub, mirror_root, tmp_path):
    built = new_repo(mirror_root, [{"a.txt": b"a"}])
    root = tmp_path / "models"
    hand_made = root / built.repo_id
    hand_made.mkdir(parents=True)
    (hand_made / "weights.bin").write_bytes(b"by hand")
    view = CacheView("fs", FsModelStore(str(root)))
    with pytest.raises(StageError) as err:
        stage(hub, view, built.repo_id)
    assert err.value.kind == "stable_conflict"
    assert (hand_made / "weights.bin").read_bytes() == b"by hand"


class _FullDisk:
    """A file object that fails like a full disk after ``room`` bytes."""

    def __init__(self, path, room):
        self._handle = open(path, "xb")
        self._room = room

    def write(self, data):
        if self._room < len(data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._room -= len(data)
        return self._handle.write(data)

    def __getattr__(self, name):
        return getattr(self._handle, name)


def test_disk_full_on_filesystem_target(hub, mirror_root, tmp_path):
    files = model_files(seed=9)
    built = new_repo(mirror_root, [files])
    (tmp_path / "models").mkdir()
    store = FsModelStore(str(tmp_path / "models"))
    view = CacheView("fs", store)
    room = {"left": 4 * 1024 * 1024}

    def open_small_disk(path):
        handle = _FullDisk(path, room["left"])
        return handle

    store.open_for_write = open_small_disk
    with pytest.raises(StageError) as err:
        stage(hub, view, built.repo_id, concurrency=1)
    assert err.value.kind == "no_space"
    assert err.value.files == ["big.safetensors"]
    assert "no space left" in str(err.value)
    assert view.read_stable(built.repo_id) is None
    assert [n for n in view.all_names() if ".accelci-part-" in n] == []

    del store.open_for_write  # space freed
    result = stage(hub, view, built.repo_id)
    assert view.read_stable(built.repo_id) == files
    assert result["model"]["files_transferred"] >= 1


def test_gcs_reader_sees_symlink_object_and_directory_placeholders(hub, mirror_root, gcs):
    files = {"config.json": b"{}", "sub/dir/model.safetensors": weights(100000, 10)}
    built = new_repo(mirror_root, [files])
    store = GcsModelStore(gcs.client(), "gs://%s/layout" % BUCKET)
    stage(hub, CacheView("gcs", store, gcs), built.repo_id)
    bucket = gcs.client().bucket(BUCKET)
    link = bucket.get_blob("layout/" + built.repo_id)
    assert link.size == 0
    assert link.metadata["gcsfuse_symlink_target"] == \
        "../.accelci/models/%s/revisions/%s" % (built.repo_id, built.head)
    names = {b.name for b in gcs.client().list_blobs(BUCKET, prefix="layout/")}
    rev = "layout/.accelci/models/%s/revisions/%s/" % (built.repo_id, built.head)
    for placeholder in (rev, rev + "sub/", rev + "sub/dir/", "layout/acme/", "layout/.accelci/"):
        assert placeholder in names
    obj = bucket.get_blob(rev + "sub/dir/model.safetensors")
    assert obj.metadata["accelci-commit"] == built.head
    assert len(obj.metadata["accelci-sha256"]) == 64


def test_unchanged_refresh_of_a_published_model_is_fast_path_even_after_restart(hub, mirror_root, cache):
    """Stable path repair: a pointer written but the link not switched (killed between the two)."""
    files = model_files(seed=11)
    built = new_repo(mirror_root, [files])
    stage(hub, cache, built.repo_id)
    layout = ModelLayout(built.repo_id)
    if cache.kind == "fs":
        os.unlink(cache.store.path(layout.stable))
    else:
        cache.store.bucket.blob(cache.store.key(layout.stable)).delete()
    assert cache.read_stable(built.repo_id) is None
    repaired = stage(hub, cache, built.repo_id)
    assert repaired["changed"] is True and repaired["model"]["bytes_transferred"] == 0
    assert cache.read_stable(built.repo_id) == files


def test_stage_through_a_cdn_redirect(mirror_root, tmp_path):
    """Like huggingface.co: LFS files answer 302 to a CDN on another origin; the stager follows and verifies."""
    from tests.emulators.hub import OlahHub

    files = model_files(seed=12)
    built = new_repo(mirror_root, [files])
    (tmp_path / "models").mkdir()
    (tmp_path / "other").mkdir()
    with OlahHub(mirror_root, cdn=True) as cdn_hub:
        view = CacheView("fs", FsModelStore(str(tmp_path / "models")))
        result = stage(cdn_hub, view, built.repo_id)
        assert result["model"]["bytes_transferred"] == total(files)
        assert view.read_stable(built.repo_id) == files
        corrupt_lfs_object(built, "big.safetensors")
        other = CacheView("fs", FsModelStore(str(tmp_path / "other")))
        with pytest.raises(StageError) as err:
            stage(cdn_hub, other, built.repo_id, retries=0)
        assert err.value.kind == "corrupt" and err.value.files == ["big.safetensors"]
        assert other.read_stable(built.repo_id) is None


def test_large_files_compose_in_a_tree_and_leave_no_parts(hub, mirror_root, gcs, monkeypatch):
    """Composite uploads: many parts (more than one compose request takes), verified crc32c, parts removed."""
    from ansible_collections.accelci.runners.plugins.module_utils.models import gcs_store_client as model_store_gcs

    monkeypatch.setattr(model_store_gcs, "PART_SIZE", 256 * 1024)
    monkeypatch.setattr(model_store_gcs, "MAX_COMPOSE", 4)
    monkeypatch.setattr(model_store_gcs, "SMALL_FILE", 64 * 1024)
    files = {"config.json": b"{}", "model.safetensors": weights(5 * 1024 * 1024 + 3, 13)}  # 21 parts, 3 levels
    built = new_repo(mirror_root, [files])
    store = GcsModelStore(gcs.client(), "gs://%s/compose-%s" % (BUCKET, built.repo_id.split("-")[-1]),
                          composite_uploads=True)
    view = CacheView("gcs", store, gcs)
    stage(hub, view, built.repo_id)
    assert view.read_stable(built.repo_id) == files
    assert [n for n in view.all_names() if "/uploads/" in n] == []
    obj = store.bucket.get_blob(store.key(ModelLayout(built.repo_id).revision_dir(built.head)) + "/model.safetensors")
    assert obj.metadata["accelci-sha256"] == built.lfs["model.safetensors"]

    # A corrupted large file: parts are deleted, nothing is composed.
    corrupt_lfs_object(built, "model.safetensors")
    other = CacheView("gcs", GcsModelStore(gcs.client(), "gs://%s/compose-bad-%s" % (BUCKET, built.head[:8]),
                                           composite_uploads=True), gcs)
    with pytest.raises(StageError) as err:
        stage(hub, other, built.repo_id, retries=0)
    assert err.value.files == ["model.safetensors"]
    assert [n for n in other.all_names() if "/uploads/" in n or n.endswith("model.safetensors")] == []


def test_resumable_uploads_finalize_only_verified_files(hub, mirror_root, gcs, monkeypatch):
    from ansible_collections.accelci.runners.plugins.module_utils.models import gcs_store_client as model_store_gcs

    monkeypatch.setattr(model_store_gcs, "UPLOAD_CHUNK", 1024 * 1024)  # several chunks per file
    files = model_files(seed=14)
    built = new_repo(mirror_root, [files])
    store = GcsModelStore(gcs.client(), "gs://%s/resumable-%s" % (BUCKET, built.head[:8]), composite_uploads=False)
    view = CacheView("gcs", store, gcs)
    stage(hub, view, built.repo_id)
    assert view.read_stable(built.repo_id) == files
    corrupt_lfs_object(built, "big.safetensors")
    other = CacheView("gcs", GcsModelStore(gcs.client(), "gs://%s/resumable-bad-%s" % (BUCKET, built.head[:8]),
                                           composite_uploads=False), gcs)
    with pytest.raises(StageError):
        stage(hub, other, built.repo_id, retries=0)
    assert [n for n in other.all_names() if n.endswith("big.safetensors")] == []


def test_dataset_repo_is_published_under_datasets(hub, mirror_root, tmp_path):
    from ansible_collections.accelci.runners.plugins.module_utils.models.hub_client import HubSource
    from ansible_collections.accelci.runners.plugins.module_utils.models.stage_manager import ModelStager

    files = {"data/train.jsonl": b'{"x": 1}\n' * 100, "README.md": b"# data\n"}
    built = build_repo(mirror_root, "acme/ds-%s" % os.path.basename(str(tmp_path))[-8:], [files], repo_type="dataset")
    (tmp_path / "models").mkdir()
    store = FsModelStore(str(tmp_path / "models"))
    source = HubSource(built.repo_id, repo_type="dataset", endpoint=hub.endpoint)
    result = ModelStager(source, store, retry_base=0.05).run()
    assert result["model"]["stable_path"].endswith("datasets/" + built.repo_id)
    stable = tmp_path / "models" / "datasets" / built.repo_id
    assert stable.is_symlink()
    assert (stable / "data" / "train.jsonl").read_bytes() == files["data/train.jsonl"]


# -- a hostile Hub: listed paths that would leave the destination --------------------------------------------------
ESCAPING_PATHS = ["../x", "/etc/x", "a/../../x", "a\\b", "C:x", "a\x00b", "a//b", "../../../../tmp/owned"]


def _tree(root):
    found = []
    for dirpath, dirs, names in os.walk(root):
        found.extend(os.path.relpath(os.path.join(dirpath, n), root) for n in dirs + names)
    return sorted(found)


@pytest.mark.parametrize("path", ESCAPING_PATHS, ids=[repr(p) for p in ESCAPING_PATHS])
def test_a_hostile_mirror_listing_escaping_paths_writes_nothing(path, cache, tmp_path):
    from tests.emulators.hub import HostileHub

    files = {"config.json": b"{}", "model.safetensors": weights(50000, 40), path: b"owned"}
    outside_before = _tree(tmp_path)
    with HostileHub("acme/evil", files) as hostile:
        with pytest.raises(StageError) as err:
            stage(hostile, cache, "acme/evil")
        assert err.value.kind == "unsafe_path" and err.value.files == [path]
        assert repr(path) in str(err.value) and "model acme/evil" in str(err.value)
        assert hostile.endpoint in str(err.value)
        # The revision and the listing were read; not one file body.
        assert hostile.file_requests() == [] and len(hostile.requests) == 2
    assert cache.all_names() == []  # zero files written, not even directories
    assert _tree(tmp_path) == outside_before  # and nothing next to the destination
    assert not os.path.exists("/tmp/owned")


def test_a_hostile_mirror_claiming_an_escaping_commit_writes_nothing(cache):
    from tests.emulators.hub import HostileHub

    with HostileHub("acme/evil", {"config.json": b"{}"}, commit="../../../../../tmp/evil-commit") as hostile:
        with pytest.raises(Exception) as err:
            stage(hostile, cache, "acme/evil")
        assert getattr(err.value, "kind", None) == "http" and "expected 40 lowercase hex digits" in str(err.value)
        assert len(hostile.requests) == 1
    assert cache.all_names() == []


# -- refusals through the module's own entry point: no request, no file ------------------------------------------
class _Module:
    def __init__(self, check_mode=False, **overrides):
        from ansible_collections.accelci.runners.plugins.module_utils.models.stage_manager import (
            model_stage_argument_spec,
        )

        self.params = {name: spec.get("default") for name, spec in model_stage_argument_spec().items()}
        self.params.update(overrides)
        self.check_mode = check_mode


MODULE_REFUSALS = [
    ({"dest": "gs://%s/../x" % BUCKET}, "dest", "has a '..' segment"),
    ({"dest": "gs://%s/a/./b" % BUCKET}, "dest", "has a '.' segment"),
    ({"dest": "gs://%s//x" % BUCKET}, "dest", "is absolute"),
    ({"dest": "LOCAL/../outside"}, "dest", "has a '..' segment"),
    ({"dest": "LOCAL/./models"}, "dest", "has a '.' segment"),
    ({"repo_type": "space"}, "repo_type", "Spaces are applications"),
    ({"revision": "main..v2"}, "revision", "is not a branch, tag or commit id"),
    ({"concurrency": 0}, "concurrency", "must be between 1 and 64"),
    ({"retries": 500}, "retries", "must be between 0 and 20"),
    ({"endpoint": "http://u:p@127.0.0.1:1"}, "endpoint", "must not carry credentials"),
]


@pytest.mark.parametrize("overrides, field, message", MODULE_REFUSALS,
                         ids=["%s=%s" % (f, list(o.values())[0]) for o, f, _m in MODULE_REFUSALS])
def test_module_refusals_send_nothing_and_write_nothing(overrides, field, message, hub, mirror_root, gcs, tmp_path):
    from ansible_collections.accelci.runners.plugins.module_utils.models.stage_manager import run_model_stage

    built = new_repo(mirror_root, [{"config.json": b"{}"}])
    local = tmp_path / "models"
    local.mkdir()
    overrides = {k: v.replace("LOCAL", str(local)) if isinstance(v, str) else v for k, v in overrides.items()}
    good = {"repo_id": built.repo_id, "dest": "gs://%s/refusals" % BUCKET, "endpoint": hub.endpoint,
            "api_endpoint": gcs.endpoint}
    hub.reset_log()
    sessions_before = gcs.front.session_requests()
    with pytest.raises(InputError, match=message) as err:
        run_model_stage(_Module(**dict(good, **overrides)), retry_base=0.05)
    assert err.value.field == field
    assert hub.requests == [] and gcs.front.session_requests() == sessions_before
    assert list(gcs.client().list_blobs(BUCKET, prefix="refusals")) == []
    assert _tree(tmp_path) == ["models"]

    # The same call without the bad value reaches the Hub and writes: the refusal is what kept them quiet.
    result = run_model_stage(_Module(**{**good, "dest": str(local)}), retry_base=0.05)
    assert result["changed"] is True and hub.requests and os.listdir(local)


# -- resuming large files ----------------------------------------------------------------------------------------
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def cdn_hub(mirror_root):
    """olah behind the front, with LFS files served by the CDN stand-in (which honours Range)."""
    from tests.emulators.hub import OlahHub

    with OlahHub(mirror_root, cdn=True) as server:
        yield server


def _held(cache, built, commit, path):
    """Bytes of an interrupted file kept for the next run: on disk (fs) or in the upload session (GCS)."""
    if cache.kind == "fs":
        incoming = cache.store.path(ModelLayout(built.repo_id).incoming_dir(commit), path)
        return os.path.getsize(incoming)
    sessions = [s for s in cache.gcs.front.sessions.values()
                if commit in s["name"] and not s["cancelled"] and s["object"] is None]
    return max([s["held"] for s in sessions] or [0])


def test_a_file_cut_short_resumes_with_a_range_request(cdn_hub, mirror_root, cache, monkeypatch):
    from ansible_collections.accelci.runners.plugins.module_utils.models import gcs_store_client

    monkeypatch.setattr(gcs_store_client, "UPLOAD_CHUNK", MIB)  # chunks GCS holds before the cut
    files = model_files(seed=50)
    built = new_repo(mirror_root, [files])
    oid = built.lfs["big.safetensors"]
    size = len(files["big.safetensors"])
    cdn_hub.drop_after(oid, 5 * MIB + MIB // 2)
    with pytest.raises(StageError) as err:
        stage(cdn_hub, cache, built.repo_id, retries=0, concurrency=1)
    assert err.value.kind == "network" and err.value.files == ["big.safetensors"]
    held = _held(cache, built, built.head, "big.safetensors")
    assert held == 5 * MIB  # the whole chunks that arrived before the cut
    assert cache.read_stable(built.repo_id) is None
    finished = cache.store.revision_files(ModelLayout(built.repo_id), built.head)

    cdn_hub.reset_log()
    result = stage(cdn_hub, cache, built.repo_id, concurrency=1)
    model = result["model"]
    assert model["bytes_resumed"] == held
    # Only the rest of the big file comes again (plus the files the failed run did not finish).
    assert model["bytes_transferred"] == total(files) - held - sum(len(files[p]) for p in finished)
    asked = cdn_hub.cdn_log(oid)
    assert [(r["range"], r["status"], r["sent"]) for r in asked] == [("bytes=%d-" % held, 206, size - held)]
    assert cache.read_stable(built.repo_id) == files
    assert [n for n in cache.all_names() if "/uploads/" in n or ".incoming" in n] == []
    if cache.kind == "gcs":
        # GCS was asked how much it held, as the protocol says, before the upload went on.
        assert any(cr == "bytes */%d" % size for _m, _id, cr in cache.gcs.front.session_requests())


def test_through_olah_which_ignores_range_the_file_restarts_safely(hub, mirror_root, tmp_path):
    files = model_files(seed=51)
    built = new_repo(mirror_root, [files])
    (tmp_path / "models").mkdir()
    view = CacheView("fs", FsModelStore(str(tmp_path / "models")))
    hub.drop_after("%s/resolve/%s/big.safetensors" % (built.repo_id, built.head), 3 * MIB + 10)
    with pytest.raises(StageError):
        stage(hub, view, built.repo_id, retries=0, concurrency=1)
    assert _held(view, built, built.head, "big.safetensors") >= 3 * MIB
    finished = view.store.revision_files(ModelLayout(built.repo_id), built.head)
    hub.reset_log()
    result = stage(hub, view, built.repo_id, concurrency=1)
    # olah answered the ranged request with 200 and the whole file: nothing resumed, everything correct.
    assert result["model"]["bytes_resumed"] == 0
    assert result["model"]["bytes_transferred"] == total(files) - sum(len(files[p]) for p in finished)
    assert view.read_stable(built.repo_id) == files


RESUME_KILL_SCRIPT = textwrap.dedent("""
    import sys
    sys.path[:0] = [%(root)r, %(collections)r]
    from ansible_collections.accelci.runners.plugins.module_utils.models import gcs_store_client
    from ansible_collections.accelci.runners.plugins.module_utils.models.hub_client import HubSource
    from ansible_collections.accelci.runners.plugins.module_utils.models.stage_manager import ModelStager
    kind, endpoint, repo_id, dest, gcs_endpoint = sys.argv[1:6]
    if kind == "fs":
        from ansible_collections.accelci.runners.plugins.module_utils.models.fs_store_client import FsModelStore
        store = FsModelStore(dest)
    else:
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage
        gcs_store_client.UPLOAD_CHUNK = 1024 * 1024
        client = storage.Client(project="p", credentials=AnonymousCredentials(),
                                client_options={"api_endpoint": gcs_endpoint})
        store = gcs_store_client.GcsModelStore(client, dest)
    ModelStager(HubSource(repo_id, endpoint=endpoint), store, concurrency=1).run()
""")


def test_a_killed_stager_resumes_the_file_it_was_writing(cdn_hub, mirror_root, cache, tmp_path, monkeypatch):
    from ansible_collections.accelci.runners.plugins.module_utils.models import gcs_store_client

    monkeypatch.setattr(gcs_store_client, "UPLOAD_CHUNK", MIB)
    files = model_files(seed=52)
    built = new_repo(mirror_root, [files])
    oid = built.lfs["big.safetensors"]
    size = len(files["big.safetensors"])
    reached = cdn_hub.stall_after(oid, 6 * MIB + 100)
    script = tmp_path / "stage.py"
    script.write_text(RESUME_KILL_SCRIPT % {"root": ROOT, "collections": os.path.join(ROOT, "build", "collections")})
    dest = cache.store.root if cache.kind == "fs" else cache.store.dest
    proc = subprocess.Popen([sys.executable, str(script), cache.kind, cdn_hub.endpoint, built.repo_id, dest,
                             cache.gcs.endpoint if cache.gcs else ""], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        assert reached.wait(60), "the stager never reached the stalled file"
        for _attempt in range(600):  # let the chunks already received reach the disk or GCS
            if _has_held(cache, built) and _held(cache, built, built.head, "big.safetensors") >= 5 * MIB:
                break
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
        cdn_hub.release()
    if cache.kind == "gcs":  # a chunk the killed stager had sent may still be on its way to GCS
        assert cache.gcs.front.wait_idle(30), "the GCS front never finished the killed stager's requests"
    held = _held(cache, built, built.head, "big.safetensors")
    assert 5 * MIB <= held <= 6 * MIB
    assert cache.read_stable(built.repo_id) is None
    finished = cache.store.revision_files(ModelLayout(built.repo_id), built.head)
    assert "big.safetensors" not in finished
    for _attempt in range(600):  # the stalled answer to the killed process is logged once it lets go
        if cdn_hub.cdn_log(oid):
            break
        time.sleep(0.05)

    cdn_hub.reset_log()
    result = stage(cdn_hub, cache, built.repo_id, concurrency=1)
    assert result["model"]["bytes_resumed"] == held
    assert result["model"]["bytes_transferred"] == total(files) - held - sum(len(files[p]) for p in finished)
    assert [(r["range"], r["status"], r["sent"]) for r in cdn_hub.cdn_log(oid)] == \
        [("bytes=%d-" % held, 206, size - held)]
    assert cache.read_stable(built.repo_id) == files


def _has_held(cache, built):
    if cache.kind == "fs":
        return os.path.isdir(cache.store.path(ModelLayout(built.repo_id).incoming_dir(built.head)))
    return _held(cache, built, built.head, "big.safetensors") > 0


def test_a_tampered_upload_session_is_never_followed(cdn_hub, mirror_root, gcs, monkeypatch):
    """The session record is readable by anyone who reads the bucket: a URI pointing elsewhere is not used (the
    client would send its credentials there), the upload starts over, and the result is still verified."""
    import json as jsonlib

    from tests.emulators.hub import HostileHub
    from ansible_collections.accelci.runners.plugins.module_utils.models import gcs_store_client

    monkeypatch.setattr(gcs_store_client, "UPLOAD_CHUNK", MIB)
    files = model_files(seed=53)
    built = new_repo(mirror_root, [files])
    store = GcsModelStore(gcs.client(), "gs://%s/tampered-%s" % (BUCKET, built.head[:8]))
    view = CacheView("gcs", store, gcs)
    cdn_hub.drop_after(built.lfs["big.safetensors"], 4 * MIB + 7)
    with pytest.raises(StageError):
        stage(cdn_hub, view, built.repo_id, retries=0, concurrency=1)
    records = [b for b in gcs.client().list_blobs(BUCKET, prefix=store.prefix) if b.name.endswith(".json")
               and "/resumable/" in b.name]
    assert len(records) == 1
    record = jsonlib.loads(records[0].download_as_bytes())
    with HostileHub("acme/none", {}) as elsewhere:
        record["session"] = "%s/upload/storage/v1/b/%s/o?uploadType=resumable&upload_id=stolen" % (
            elsewhere.endpoint, BUCKET)
        records[0].upload_from_string(jsonlib.dumps(record))
        result = stage(cdn_hub, view, built.repo_id, concurrency=1)
        assert elsewhere.requests == []
    assert result["model"]["bytes_resumed"] == 0
    assert view.read_stable(built.repo_id) == files
    assert [n for n in view.all_names() if "/uploads/" in n] == []


def test_a_retry_in_the_same_run_resumes(cdn_hub, mirror_root, cache, monkeypatch):
    from ansible_collections.accelci.runners.plugins.module_utils.models import gcs_store_client

    monkeypatch.setattr(gcs_store_client, "UPLOAD_CHUNK", MIB)
    files = model_files(seed=54)
    built = new_repo(mirror_root, [files])
    oid = built.lfs["big.safetensors"]
    size = len(files["big.safetensors"])
    cdn_hub.drop_after(oid, 5 * MIB + MIB // 2)
    cdn_hub.reset_log()
    result = stage(cdn_hub, cache, built.repo_id, retries=1, concurrency=1)
    model = result["model"]
    assert [r["path"] for r in model["retries"]] == ["big.safetensors"]
    assert model["bytes_resumed"] == 5 * MIB
    # Every byte came once: the 5 MiB before the cut, then only the rest.
    assert model["bytes_transferred"] == total(files)
    assert [(r["range"], r["status"]) for r in cdn_hub.cdn_log(oid)] == [(None, 200), ("bytes=%d-" % (5 * MIB), 206)]
    assert cdn_hub.cdn_log(oid)[1]["sent"] == size - 5 * MIB
    assert cache.read_stable(built.repo_id) == files


def test_two_stagers_never_append_to_the_same_incoming_file(mirror_root, tmp_path):
    """The incoming file of a download is locked: a second run at the same time is refused for that file."""
    from tests.unit.plugins.module_utils.models.remote_files import lfs_remote

    (tmp_path / "models").mkdir()
    store = FsModelStore(str(tmp_path / "models"))
    layout = ModelLayout("acme/locked")
    remote = lfs_remote("model.safetensors", b"w" * 1000)
    first = store.open_writer(layout, "c" * 40, remote)
    first.write(b"w" * 100)
    with pytest.raises(StageError, match="being written by another model_stage run"):
        store.open_writer(layout, "c" * 40, remote)
    first.abort(keep=True)
    second = store.open_writer(layout, "c" * 40, remote)  # free again once the first let go
    assert second.offset == 100
    second.abort()
    assert not os.path.exists(store.path(layout.incoming_dir("c" * 40), "model.safetensors"))


def test_prune_deletes_only_revisions_it_wrote(hub, mirror_root, cache, monkeypatch):
    files = {"config.json": b'{"p": 1}'}
    built = new_repo(mirror_root, [files])
    stage(hub, cache, built.repo_id)
    layout = ModelLayout(built.repo_id)
    strays = [layout.revisions_root() + "/handmade/notes.txt", layout.revisions_root() + "/../../x/y"]
    if cache.kind == "fs":
        stray = cache.store.path(layout.revisions_root(), "handmade")
        os.makedirs(stray)
        open(os.path.join(stray, "notes.txt"), "w").close()
    else:
        for name in strays:  # GCS object names may hold '..': they must not steer a deletion
            cache.store.bucket.blob(cache.store.prefix + name).upload_from_string(b"x")
    later = utc_now() + timedelta(days=30)
    monkeypatch.setattr(stage_manager, "utc_now", lambda: later)
    result = stage(hub, cache, built.repo_id, prune=True, prune_grace_hours=1)
    assert result["model"]["pruned"] == []
    names = cache.all_names()
    if cache.kind == "fs":
        assert os.path.exists(os.path.join(stray, "notes.txt"))
    else:
        assert all(cache.store.prefix + name in names for name in strays)
    assert cache.read_stable(built.repo_id) == files

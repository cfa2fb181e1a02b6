"""models.layout: where a staged model lives in the cache, and what counts as the same file."""

from ansible_collections.accelci.runners.plugins.module_utils.models.layout import (
    ModelLayout,
    file_matches,
    iso,
    manifest_bytes,
    parse_iso,
    utc_now,
)
from tests.unit.plugins.module_utils.models.remote_files import git_remote, lfs_remote


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


def test_iso_round_trip():
    now = utc_now().replace(microsecond=0)
    assert parse_iso(iso(now)) == now


def test_manifest_bytes_are_stable():
    assert manifest_bytes({"b": 1, "a": [1]}) == b'{\n "a": [\n  1\n ],\n "b": 1\n}\n'


# -- paths from outside ------------------------------------------------------------------------------------------
import pytest  # noqa: E402

from ansible_collections.accelci.runners.plugins.module_utils.models.errors import StageError  # noqa: E402
from ansible_collections.accelci.runners.plugins.module_utils.models.layout import (  # noqa: E402
    MIN_PRUNE_GRACE_HOURS,
    applied_prune_grace_hours,
    check_commit,
    check_repo_files,
    checked_cache_path,
    relative_path_problem,
)


@pytest.mark.parametrize("path, problem", [
    ("../x", "has a '..' segment"),
    ("a/../../x", "has a '..' segment"),
    ("a/..", "has a '..' segment"),
    ("/etc/x", "is absolute"),
    ("a\\b", "contains a backslash"),
    ("..\\x", "contains a backslash"),
    ("C:x", "starts with a drive prefix"),
    ("c:/x", "starts with a drive prefix"),
    ("a\x00b", "contains a NUL byte"),
    ("a\nb", "contains a control character"),
    ("a\x7fb", "contains a control character"),
    ("a//b", "has an empty segment"),
    ("a/", "has an empty segment"),
    ("./a", "has a '.' segment"),
    ("", "is empty"),
    (None, "is not text"),
])
def test_paths_that_could_leave_their_directory(path, problem):
    assert relative_path_problem(path) == problem


@pytest.mark.parametrize("path", ["config.json", "a/b/c.safetensors", "..a", "a..b/c", ".gitattributes",
                                  "weights/model-00001-of-00002.safetensors", "ab:c", "dir with space/f"])
def test_paths_that_stay_inside(path):
    assert relative_path_problem(path) is None
    assert checked_cache_path(path) == path


def test_repo_files_are_checked_naming_the_file_and_the_repo():
    files = [git_remote("ok.json", b"{}"), git_remote("../../etc/cron.d/x", b"evil")]
    with pytest.raises(StageError) as err:
        check_repo_files(files, "model acme/evil at c (from http://mirror)")
    assert err.value.kind == "unsafe_path" and err.value.files == ["../../etc/cron.d/x"]
    assert "model acme/evil" in str(err.value) and "'../../etc/cron.d/x'" in str(err.value)
    assert "refused before anything was written" in str(err.value)


def test_cache_paths_and_commits():
    with pytest.raises(StageError, match="has a '..' segment"):
        checked_cache_path(".accelci/models/a/b/revisions/../../../x")
    assert check_commit("a" * 40, "hub") == "a" * 40
    for bad in ("../" + "a" * 37, "A" * 40, "a" * 39, None):
        with pytest.raises(StageError, match="expected 40 lowercase hex digits"):
            check_commit(bad, "current.json")


def test_applied_grace_never_below_the_minimum():
    assert applied_prune_grace_hours(0) == MIN_PRUNE_GRACE_HOURS
    assert applied_prune_grace_hours(48) == 48
    layout = ModelLayout("org/name")
    assert layout.incoming_dir("c" * 40) == ".accelci/models/org/name/partial/%s.incoming" % ("c" * 40)
    assert layout.journal("c" * 40) == ".accelci/models/org/name/partial/%s.journal" % ("c" * 40)
    assert layout.uploads_dir("c" * 40) == ".accelci/models/org/name/uploads/" + "c" * 40

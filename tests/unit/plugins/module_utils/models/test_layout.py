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

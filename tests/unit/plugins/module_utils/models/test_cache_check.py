"""The model checks of verify.yml against a real filesystem cache staged by the real stager: a complete revision
passes; a missing or truncated file, a stable path pointing elsewhere, a pin that moved and a model never staged
fail, each with the fix."""

import os

from ansible_collections.accelci.runners.plugins.module_utils.models.cache_check import check_model, check_models
from ansible_collections.accelci.runners.plugins.module_utils.models.fs_store_client import FsModelStore
from ansible_collections.accelci.runners.plugins.module_utils.models.layout import ModelLayout
from tests.unit.plugins.module_utils.models.test_stage_manager import C1, C2, V1, MemorySource, stager

MODEL = {"repo": "org/name", "repo_type": "model", "revision": "main"}


def staged(tmp_path):
    store = FsModelStore(str(tmp_path))
    stager(MemorySource("org/name", {C1: V1}, {"main": C1}), store).run()
    return store


def revision_file(tmp_path, path):
    return os.path.join(str(tmp_path), ModelLayout("org/name").revision_dir(C1), path)


def test_a_complete_revision_passes(tmp_path):
    result = check_model(staged(tmp_path), MODEL)
    assert result["status"] == "PASS"
    assert result["reason"] == "commit %s, 3 files, %d bytes, every size as the manifest records" % (
        C1, sum(len(v) for v in V1.values()))
    assert result["check"] == "model org/name@main at %s resolves to a complete revision" % os.path.join(
        str(tmp_path), "org/name")


def test_a_missing_or_truncated_file_fails(tmp_path):
    store = staged(tmp_path)
    os.unlink(revision_file(tmp_path, "tok.json"))
    with open(revision_file(tmp_path, "model.safetensors"), "r+b") as handle:
        handle.truncate(10)
    result = check_model(store, MODEL)
    assert result["status"] == "FAIL"
    assert "tok.json is missing or has the wrong size" in result["reason"]
    assert "model.safetensors is missing or has the wrong size" in result["reason"]
    assert result["fix"].startswith("stage it again: ansible-playbook playbooks/models.yml")


def test_a_stable_path_pointing_elsewhere_and_a_moved_pin_fail(tmp_path):
    store = staged(tmp_path)
    stable = os.path.join(str(tmp_path), "org/name")
    os.unlink(stable)
    os.symlink("somewhere-else", stable)
    result = check_model(store, dict(MODEL, revision=C2))
    assert result["status"] == "FAIL"
    assert "the published commit is %s, the estate pins %s" % (C1, C2) in result["reason"]
    assert "the stable path points at somewhere-else, not at the published commit %s" % C1[:12] in result["reason"]


def test_an_incomplete_revision_and_a_model_never_staged_fail(tmp_path):
    store = staged(tmp_path)
    os.unlink(os.path.join(str(tmp_path), ModelLayout("org/name").manifest(C1)))
    result = check_model(store, MODEL)
    assert result["status"] == "FAIL" and "has no manifest: it is incomplete" in result["reason"]
    (missing,) = check_models(store, [{"repo": "org/other"}])
    assert missing["status"] == "FAIL" and missing["reason"].startswith("model not found: nothing is published")

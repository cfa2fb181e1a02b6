"""playbooks/models.yml (the nightly model refresh) with ansible-playbook against olah and fake-gcs-server."""

import os
import re

from tests.emulators.hub import SANDBOX_REPO, build_sandbox_repos, sandbox_demo_files
from tests.integration import model_fixtures
from tests.integration.model_fixtures import BUCKET, GOOD_TOKEN, new_repo, run_playbook, weights

# The shared fixtures, bound here so pytest finds them in this module.
mirror_root = model_fixtures.mirror_root
hub = model_fixtures.hub
gcs = model_fixtures.gcs

PLAYBOOK = "playbooks/models.yml"


def recap_changed(stdout):
    match = re.search(r"localhost\s*:\s*ok=\d+\s+changed=(\d+)", stdout)
    assert match, stdout
    return int(match.group(1))


def table_rows(stdout):
    """Rows of the report table, as lists of cells."""
    rows = []
    for line in stdout.splitlines():
        cells = line.split()
        if cells and ("/" in cells[0]) and len(cells) >= 10 and not cells[0].startswith("gs:"):
            rows.append(cells)
    return rows


def test_nightly_refresh_into_gcs(hub, mirror_root, gcs, tmp_path):
    build_sandbox_repos(mirror_root)
    gated = new_repo(mirror_root, [{"config.json": b"{}", "model.safetensors": weights(300000, 1)}], gated=True)
    estate = {
        "accelci_project": "accelci-test",
        "accelci_model_cache": {"backend": "gcs", "bucket": BUCKET, "prefix": "nightly", "mount_path": "/models"},
        "accelci_models": [
            {"repo": SANDBOX_REPO, "revision": "main"},
            {"repo": gated.repo_id, "revision": "main", "token": GOOD_TOKEN},
        ],
    }
    env = {"HF_ENDPOINT": hub.endpoint, "STORAGE_EMULATOR_HOST": gcs.endpoint}

    first = run_playbook(PLAYBOOK, estate, tmp_path, env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert recap_changed(first.stdout) == 1
    rows = {row[0]: row for row in table_rows(first.stdout)}
    assert set(rows) == {SANDBOX_REPO, gated.repo_id}
    assert all("published" in row for row in rows.values())
    assert GOOD_TOKEN not in first.stdout + first.stderr
    bucket = gcs.client().bucket(BUCKET)
    link = bucket.get_blob("nightly/" + SANDBOX_REPO)
    assert link.metadata["gcsfuse_symlink_target"].startswith("../.accelci/models/%s/revisions/" % SANDBOX_REPO)
    demo = sandbox_demo_files()
    target = "nightly/.accelci/models/%s/revisions/%s" % (SANDBOX_REPO, link.metadata["gcsfuse_symlink_target"]
                                                          .rsplit("/", 1)[1])
    weights_blob = bucket.get_blob(target + "/transformer/diffusion_pytorch_model.safetensors")
    assert weights_blob.size == len(demo["transformer/diffusion_pytorch_model.safetensors"])

    hub.reset_log()
    second = run_playbook(PLAYBOOK, estate, tmp_path, env=env)
    assert second.returncode == 0, second.stdout + second.stderr
    assert recap_changed(second.stdout) == 0
    rows = {row[0]: row for row in table_rows(second.stdout)}
    assert all("unchanged" in row for row in rows.values())
    # Two models, one Hub request each: the revision lookup.
    assert len(hub.requests) == 2, hub.requests


def test_refresh_onto_a_filesystem_share_with_check_mode_first(hub, mirror_root, tmp_path):
    built = new_repo(mirror_root, [{"config.json": b'{"a": 1}', "model.safetensors": weights(400000, 2)}])
    share = tmp_path / "share"
    share.mkdir()
    estate = {
        "accelci_model_cache": {"backend": "filestore", "local_path": str(share), "mount_path": "/models"},
        "accelci_models": [{"repo": built.repo_id}],
    }
    env = {"HF_ENDPOINT": hub.endpoint}
    check = run_playbook(PLAYBOOK, estate, tmp_path, env=env, extra_args=["--check"])
    assert check.returncode == 0, check.stdout + check.stderr
    assert recap_changed(check.stdout) == 1
    assert os.listdir(share) == []

    real = run_playbook(PLAYBOOK, estate, tmp_path, env=env, extra_args=["--diff"])
    assert real.returncode == 0, real.stdout + real.stderr
    stable = share / built.repo_id
    assert stable.is_symlink()
    assert (stable / "config.json").read_bytes() == b'{"a": 1}'
    assert built.head[:12] in real.stdout


def test_gated_model_without_token_fails_clearly_and_the_others_are_staged(hub, mirror_root, gcs, tmp_path):
    gated = new_repo(mirror_root, [{"config.json": b"{}"}], gated=True)
    public = new_repo(mirror_root, [{"config.json": b'{"public": true}'}])
    estate = {
        "accelci_model_cache": {"backend": "gcs", "bucket": BUCKET, "mount_path": "/models"},
        "accelci_models": [{"repo": gated.repo_id}, {"repo": public.repo_id}],
    }
    result = run_playbook(PLAYBOOK, estate, tmp_path,
                          env={"HF_ENDPOINT": hub.endpoint, "STORAGE_EMULATOR_HOST": gcs.endpoint})
    assert result.returncode != 0
    assert "is gated: request access" in result.stdout
    rows = {row[0]: row for row in table_rows(result.stdout)}
    assert "FAILED" in rows[gated.repo_id] and "published" in rows[public.repo_id]
    bucket = gcs.client().bucket(BUCKET)
    assert bucket.get_blob(gated.repo_id) is None
    assert bucket.get_blob(public.repo_id).metadata["gcsfuse_symlink_target"].endswith(public.head)


def test_preflight_rejects_a_cache_without_bucket(tmp_path):
    estate = {"accelci_model_cache": {"backend": "gcs"}, "accelci_models": [{"repo": "a/b"}]}
    result = run_playbook(PLAYBOOK, estate, tmp_path)
    assert result.returncode != 0
    assert "accelci_model_cache must have backend gcs (with bucket" in result.stdout

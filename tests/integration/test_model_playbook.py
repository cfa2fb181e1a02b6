"""playbooks/models.yml (the nightly model refresh) with ansible-playbook against olah and fake-gcs-server."""

import json
import os
import re
import uuid

import pytest

from tests.emulators.hub import (
    SANDBOX_REPO,
    HostileHub,
    build_repo,
    build_sandbox_repos,
    free_port,
    sandbox_demo_files,
)
from tests.integration import model_fixtures
from tests.integration.model_fixtures import BUCKET, GOOD_TOKEN, lfs_rule, new_repo, run_playbook, weights

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


def flat(text):
    """Output with YAML's line wrapping and quote doubling undone, for matching messages."""
    return " ".join(text.split()).replace("''", "'")


def objects_under(gcs, prefix):
    return [b.name for b in gcs.client().list_blobs(BUCKET, prefix=prefix)]


def test_preflight_rejects_a_cache_without_bucket(tmp_path):
    estate = {"accelci_model_cache": {"backend": "gcs"}, "accelci_models": [{"repo": "a/b"}]}
    result = run_playbook(PLAYBOOK, estate, tmp_path)
    assert result.returncode != 0
    assert "accelci_model_cache.bucket: is required for backend gcs" in flat(result.stdout)


def test_preflight_lists_every_problem_naming_what_the_user_wrote(hub, gcs, tmp_path):
    estate = {
        "accelci_model_cache": {"backend": "gcs", "bucket": BUCKET, "prefix": "../..", "mount_path": "/models"},
        "accelci_models": [{"repo": "acme/a", "repo_type": "space"}, {"repo": "acme/b", "revision": "x y"},
                           {"repo": "acme/c"}],
        "models_concurrency": 0,
    }
    hub.reset_log()
    before = objects_under(gcs, "")
    result = run_playbook(PLAYBOOK, estate, tmp_path,
                          env={"HF_ENDPOINT": hub.endpoint, "STORAGE_EMULATOR_HOST": gcs.endpoint})
    assert result.returncode != 0
    out = flat(result.stdout)
    for expected in ("accelci_models[0].repo_type: 'space' is not supported: Spaces are applications",
                     "use model or dataset",
                     "accelci_models[1].revision: 'x y' is not a branch, tag or commit id",
                     "accelci_model_cache.prefix: '../..' has a '..' segment",
                     "models_concurrency: must be between 1 and 64"):
        assert expected in out, result.stdout
    assert "models_list" not in out and "Stage each model" not in out
    assert hub.requests == [] and objects_under(gcs, "") == before


# Each refusal on its own: the play fails in the preflight, the Hub gets no request and nothing is written.
PLAYBOOK_REFUSALS = [
    ({"accelci_model_cache": {"backend": "gcs", "bucket": BUCKET, "prefix": "a/./b"}},
     "accelci_model_cache.prefix: 'a/./b' has a '.' segment"),
    ({"accelci_model_cache": {"backend": "gcs", "bucket": "192.168.0.1"}},
     "accelci_model_cache.bucket: '192.168.0.1': bucket '192.168.0.1' may not be an IP address"),
    ({"accelci_model_cache": {"backend": "filestore", "local_path": "SHARE/../elsewhere"}},
     "accelci_model_cache.local_path: 'SHARE/../elsewhere': the path has a '..' segment"),
    ({"accelci_models": [{"repo": "acme/a", "revison": "v2"}]}, "accelci_models[0]: unknown key revison"),
    ({"accelci_models": [{"repo": "acme/a", "revision": "refs/heads/../main"}]},
     "accelci_models[0].revision: 'refs/heads/../main' is not a branch, tag or commit id"),
    ({"accelci_models": [{"repo": "acme/a"}, {"repo": "acme/a"}]},
     "accelci_models[1].repo: model acme/a is listed twice"),
    ({"models_retries": 1000}, "models_retries: must be between 0 and 20"),
    ({"models_prune_grace_hours": -1}, "models_prune_grace_hours: must be between 0 and 8760"),
    ({"models_endpoint": "https://user:pw@mirror.example"}, "models_endpoint: must not carry credentials"),
]


@pytest.mark.parametrize("override, message", PLAYBOOK_REFUSALS, ids=[m.split(":")[0] for _o, m in PLAYBOOK_REFUSALS])
def test_each_refusal_before_any_request_or_write(override, message, hub, gcs, tmp_path):
    share = tmp_path / "share"
    share.mkdir()
    estate = {"accelci_model_cache": {"backend": "filestore", "local_path": str(share)},
              "accelci_models": [{"repo": "acme/a"}]}
    override = json.loads(json.dumps(override).replace("SHARE", str(share)))
    estate.update(override)
    hub.reset_log()
    before = objects_under(gcs, "")
    beside = set(os.listdir(tmp_path))
    result = run_playbook(PLAYBOOK, estate, tmp_path,
                          env={"HF_ENDPOINT": hub.endpoint, "STORAGE_EMULATOR_HOST": gcs.endpoint})
    assert result.returncode != 0
    assert message.replace("SHARE", str(share)) in flat(result.stdout), result.stdout
    assert hub.requests == []
    assert objects_under(gcs, "") == before
    assert os.listdir(share) == []
    # Only the inventory the test wrote is new next to the share.
    assert all(name.startswith("inventory-") for name in set(os.listdir(tmp_path)) - beside)


def test_prune_grace_zero_keeps_the_revision_jobs_may_still_read(hub, mirror_root, tmp_path):
    built = new_repo(mirror_root, [{"config.json": b'{"v": 1}', "model.safetensors": weights(300000, 21)}])
    first = built.head
    share = tmp_path / "share"
    share.mkdir()
    estate = {"accelci_model_cache": {"backend": "filestore", "local_path": str(share)},
              "accelci_models": [{"repo": built.repo_id}], "models_prune": True, "models_prune_grace_hours": 0}
    env = {"HF_ENDPOINT": hub.endpoint}
    assert run_playbook(PLAYBOOK, estate, tmp_path, env=env).returncode == 0
    second = build_repo(mirror_root, built.repo_id, [{"config.json": b'{"v": 2}'}], lfs_paths=lfs_rule).head
    moved = run_playbook(PLAYBOOK, estate, tmp_path, env=env)
    assert moved.returncode == 0, moved.stdout
    revisions = share / ".accelci" / "models" / built.repo_id / "revisions"
    assert os.readlink(share / built.repo_id).endswith("/" + second)
    # The revision published until this run is still there: a job that started before the switch reads it.
    assert sorted(os.listdir(revisions)) == sorted([first, second])
    assert "prune_grace_hours 0 is below the minimum of 1 hour" in flat(moved.stdout + moved.stderr)


def test_a_hostile_mirror_writes_nothing(tmp_path):
    outer = tmp_path / "outer"
    share = outer / "share"
    share.mkdir(parents=True)
    files = {"config.json": b"{}", "../escaped.txt": b"owned", "model.safetensors": weights(1000, 3)}
    with HostileHub("acme/evil", files) as hostile:
        estate = {"accelci_model_cache": {"backend": "filestore", "local_path": str(share)},
                  "accelci_models": [{"repo": "acme/evil"}]}
        result = run_playbook(PLAYBOOK, estate, tmp_path, env={"HF_ENDPOINT": hostile.endpoint})
        assert result.returncode != 0
        out = flat(result.stdout)
        assert "lists the file '../escaped.txt', whose path has a '..' segment" in out and "acme/evil" in out
        assert "FAILED" in out
        assert hostile.file_requests() == []
    assert os.listdir(share) == [] and os.listdir(outer) == ["share"]


# -- secrets: a planted token never appears in any output ---------------------------------------------------------
PLANTED = "hf_PlantedSecret_%s" % uuid.uuid4().hex


def assert_no_secret(result):
    text = result.stdout + result.stderr
    assert PLANTED not in text, "the planted token was printed"
    assert PLANTED[3:20] not in text  # nor a recognisable part of it


@pytest.mark.parametrize("verbosity", [[], ["-vvv"]], ids=["default", "vvv"])
def test_tokens_never_printed_when_staging_succeeds(verbosity, hub, mirror_root, gcs, tmp_path):
    gated = new_repo(mirror_root, [{"config.json": b"{}", "model.safetensors": weights(200000, 31)}], gated=True,
                     gated_tokens=(PLANTED,))
    public = new_repo(mirror_root, [{"config.json": b'{"public": 1}'}])
    estate = {"accelci_model_cache": {"backend": "gcs", "bucket": BUCKET, "prefix": "secrets-%s" % gated.head[:8]},
              "accelci_models": [{"repo": gated.repo_id, "token": PLANTED}, {"repo": public.repo_id}],
              "models_token": PLANTED}
    env = {"HF_ENDPOINT": hub.endpoint, "STORAGE_EMULATOR_HOST": gcs.endpoint}
    check = run_playbook(PLAYBOOK, estate, tmp_path, env=env, extra_args=["--check", "--diff"] + verbosity)
    assert check.returncode == 0, check.stdout
    assert_no_secret(check)
    real = run_playbook(PLAYBOOK, estate, tmp_path, env=env, extra_args=["--diff"] + verbosity)
    assert real.returncode == 0, real.stdout
    rows = {row[0]: row for row in table_rows(real.stdout)}
    assert "published" in rows[gated.repo_id] and "published" in rows[public.repo_id]
    if verbosity:
        assert "repo_id" in real.stdout and gated.head in real.stdout  # -vvv shows which model and which commit
    assert_no_secret(real)


@pytest.mark.parametrize("verbosity", [[], ["-vvv"]], ids=["default", "vvv"])
def test_tokens_never_printed_when_staging_fails(verbosity, hub, mirror_root, gcs, tmp_path):
    gated = new_repo(mirror_root, [{"config.json": b"{}"}], gated=True, gated_tokens=("hf_someone_else",))
    estate = {"accelci_model_cache": {"backend": "gcs", "bucket": BUCKET, "prefix": "secrets-fail"},
              "accelci_models": [{"repo": gated.repo_id, "token": PLANTED}, {"repo": "acme/no-such-repo"}]}
    env = {"HF_ENDPOINT": hub.endpoint, "STORAGE_EMULATOR_HOST": gcs.endpoint, "HF_TOKEN": PLANTED}
    refused = run_playbook(PLAYBOOK, estate, tmp_path, env=env, extra_args=verbosity)
    assert refused.returncode != 0
    assert "has not been granted access" in flat(refused.stdout)
    assert_no_secret(refused)

    # A Hub that cannot be reached: errors carry URLs, never the token.
    estate["models_endpoint"] = "http://127.0.0.1:%d" % free_port()
    unreachable = run_playbook(PLAYBOOK, estate, tmp_path, env=env, extra_args=verbosity)
    assert unreachable.returncode != 0 and "cannot reach" in flat(unreachable.stdout)
    assert_no_secret(unreachable)

    # Refused in the preflight, with the token in the very entries that are wrong.
    estate["accelci_models"] = [{"repo": gated.repo_id, "token": PLANTED, "revision": "bad rev"},
                                {"repo": "acme/x", "tokn": PLANTED}]
    preflight = run_playbook(PLAYBOOK, estate, tmp_path, env=env, extra_args=verbosity)
    assert preflight.returncode != 0 and "accelci_models[1]: unknown key tokn" in flat(preflight.stdout)
    assert_no_secret(preflight)

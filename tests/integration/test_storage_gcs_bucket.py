"""gcs_bucket against fake-gcs-server: create, repeat, update versioning, delete (what the emulator stores)."""

import json
import os
import subprocess
import sys

import pytest

from tests.emulators.fake_gcs import FakeGcs

pytestmark = pytest.mark.integration

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODULE = "ansible_collections.accelci.runners.plugins.modules.gcs_bucket"


def run_module(tmp_path, gcs, check_mode=False, **options):
    """Run the module the way Ansible does (a Python process reading its arguments from a file)."""
    args = {"project": "acme-ci", "name": "acme-ci-models", "location": "US-CENTRAL1", "api_endpoint": gcs.endpoint,
            "versioning": False, "_ansible_check_mode": check_mode, "_ansible_diff": True}
    args.update(options)
    path = tmp_path / "args.json"
    path.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "build", "collections"))
    env.pop("STORAGE_EMULATOR_HOST", None)
    proc = subprocess.run([sys.executable, "-m", MODULE, str(path)], capture_output=True, text=True, env=env,
                          cwd=str(tmp_path), timeout=120, check=False)
    return json.loads(proc.stdout)


@pytest.fixture
def gcs():
    with FakeGcs() as server:
        yield server


def test_create_repeat_update_and_delete(tmp_path, gcs):
    client = gcs.client("acme-ci")
    check = run_module(tmp_path, gcs, check_mode=True)
    assert check["changed"] is True and list(client.list_buckets()) == []

    first = run_module(tmp_path, gcs, readers=["serviceAccount:reader@acme-ci.iam.gserviceaccount.com"])
    assert first["changed"] is True
    assert [b.name for b in client.list_buckets()] == ["acme-ci-models"]
    assert first["bucket"]["name"] == "acme-ci-models" and first["bucket"]["versioning"] is False
    assert first["iam_bindings_not_applied"] == {
        "roles/storage.objectViewer": ["serviceAccount:reader@acme-ci.iam.gserviceaccount.com"]}
    assert "not_applied" in first and "iam_bindings" in first["not_applied"]

    again = run_module(tmp_path, gcs)
    assert again["changed"] is False and again["changes"] == []

    versioned = run_module(tmp_path, gcs, versioning=True)
    assert versioned["changes"] == ["versioning"]
    assert client.get_bucket("acme-ci-models").versioning_enabled is True
    assert run_module(tmp_path, gcs, versioning=True)["changed"] is False

    client.bucket("acme-ci-models").blob("Wan-AI/model/config.json").upload_from_string(b"{}")
    refused = run_module(tmp_path, gcs, state="absent")
    assert refused.get("failed") is True and "delete_objects=true" in refused["msg"]
    assert [b.name for b in client.list_buckets()] == ["acme-ci-models"]
    deleted = run_module(tmp_path, gcs, state="absent", delete_objects=True)
    assert deleted["changed"] is True and list(client.list_buckets()) == []
    assert run_module(tmp_path, gcs, state="absent")["changed"] is False

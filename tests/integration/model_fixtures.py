"""Fixtures and helpers shared by the model staging integration tests: one olah Hub and one fake-gcs-server (behind
the front that keeps resumable upload sessions as Cloud Storage does) per module, repos built per test, and readers
that see the cache the way a runner pod does."""

import json
import os
import subprocess
import sys
import uuid

import pytest

from tests.emulators.fake_gcs import FakeGcs
from tests.emulators.gcs_sessions import GcsSessionFront
from tests.emulators.hub import OlahHub, build_repo

from ansible_collections.accelci.runners.plugins.module_utils.models.hub_client import HubSource
from ansible_collections.accelci.runners.plugins.module_utils.models.layout import ModelLayout
from ansible_collections.accelci.runners.plugins.module_utils.models.stage_manager import ModelStager
from ansible_collections.accelci.runners.plugins.module_utils.models.fs_store_client import FsModelStore
from ansible_collections.accelci.runners.plugins.module_utils.models.gcs_store_client import GcsModelStore

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUCKET = "accelci-test-models"
GOOD_TOKEN = "hf_test_access_token"


def weights(n, seed):
    """n bytes of reproducible noise."""
    import random

    rng = random.Random(seed)
    block = bytes(rng.getrandbits(8) for _index in range(4096))
    return (block * (n // 4096 + 1))[:n]


def model_files(seed=0):
    """A small model: configs in git, weights in LFS (one above the small-object threshold of GCS uploads)."""
    return {
        "README.md": b"# tiny\n",
        "config.json": json.dumps({"hidden": 8, "seed": seed}).encode(),
        "tokenizer/vocab.txt": b"\n".join(b"t%d" % i for i in range(500)),
        "model.safetensors": weights(3 * 1024 * 1024 + 17, seed),
        "big.safetensors": weights(9 * 1024 * 1024 + 5, seed + 100),
    }


def lfs_rule(path, data):
    """Weights go to LFS, the rest stays in git."""
    return path.endswith(".safetensors")


@pytest.fixture(scope="module")
def mirror_root(tmp_path_factory):
    """Where this module's test repos live."""
    return str(tmp_path_factory.mktemp("hub-mirror"))


@pytest.fixture(scope="module")
def hub(mirror_root):
    """olah (offline) behind the recording front."""
    with OlahHub(mirror_root) as server:
        yield server


class FrontedGcs:
    """fake-gcs-server reached through GcsSessionFront: ``endpoint`` and ``client()`` are the front's."""

    def __init__(self, fake, front):
        self.fake = fake
        self.front = front

    @property
    def endpoint(self):
        """Base URL for STORAGE_EMULATOR_HOST / api_endpoint."""
        return self.front.endpoint

    def client(self, project="test-project"):
        """A google-cloud-storage Client with anonymous credentials talking to the front."""
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage

        return storage.Client(project=project, credentials=AnonymousCredentials(),
                              client_options={"api_endpoint": self.endpoint})


@pytest.fixture(scope="module")
def gcs():
    """fake-gcs-server with the test bucket, behind the session front."""
    with FakeGcs() as server, GcsSessionFront(server.endpoint) as front:
        server.create_bucket(BUCKET)
        yield FrontedGcs(server, front)


def new_repo(mirror_root, commits=None, **kwargs):
    """A fresh repo with a unique name (tests never share repos)."""
    repo_id = "acme/m-%s" % uuid.uuid4().hex[:8]
    built = build_repo(mirror_root, repo_id, commits or [model_files()], lfs_paths=lfs_rule, **kwargs)
    return built


class CacheView:
    """A store plus a reader that sees what a job sees at the stable path."""

    def __init__(self, kind, store, gcs=None):
        self.kind = kind
        self.store = store
        self.gcs = gcs

    def read_stable(self, repo_id):
        """{path: bytes} visible at <root>/<repo_id>, or None if nothing is published.

        Filesystem: through the symlink, as a pod does on a Filestore mount. GCS: as gcsfuse does, by following the
        stable object's gcsfuse_symlink_target relative to its directory and reading the objects under it.
        """
        layout = ModelLayout(repo_id)
        if self.kind == "fs":
            stable = self.store.path(layout.stable)
            if not os.path.exists(stable):
                return None
            found = {}
            for dirpath, _dirs, names in os.walk(stable, followlinks=True):
                for name in names:
                    full = os.path.join(dirpath, name)
                    with open(full, "rb") as handle:
                        found[os.path.relpath(full, stable)] = handle.read()
            return found
        bucket = self.store.bucket
        link = bucket.get_blob(self.store.key(layout.stable))
        if link is None:
            return None
        target = (link.metadata or {})["gcsfuse_symlink_target"]
        import posixpath

        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(self.store.key(layout.stable)), target))
        found = {}
        for blob in self.store.client.list_blobs(self.store.bucket_name, prefix=resolved + "/"):
            if blob.name.endswith("/"):
                continue
            found[blob.name[len(resolved) + 1:]] = blob.download_as_bytes()
        return found

    def revisions(self, repo_id):
        """Commits stored for a repo (complete or not)."""
        return sorted(r["commit"] for r in self.store.list_revisions(ModelLayout(repo_id)))

    def all_names(self):
        """Everything under the cache root (paths or object names)."""
        if self.kind == "fs":
            out = []
            for dirpath, dirs, names in os.walk(self.store.root):
                out.extend(os.path.relpath(os.path.join(dirpath, n), self.store.root) for n in names + dirs)
            return sorted(out)
        blobs = self.store.client.list_blobs(self.store.bucket_name, prefix=self.store.prefix)
        return sorted(b.name for b in blobs)


@pytest.fixture(params=["fs", "gcs"])
def cache(request, tmp_path, gcs):
    """A fresh, empty cache on each backend."""
    if request.param == "fs":
        (tmp_path / "models").mkdir()
        return CacheView("fs", FsModelStore(str(tmp_path / "models")))
    return CacheView("gcs", GcsModelStore(gcs.client(), "gs://%s/run-%s" % (BUCKET, uuid.uuid4().hex[:8])), gcs)


def stage(hub, cache, repo_id, revision="main", token=None, **kwargs):
    """Run the stager once (retry backoff shortened for tests)."""
    kwargs.setdefault("retry_base", 0.05)
    source = HubSource(repo_id, revision=revision, endpoint=hub.endpoint, token=token, timeout=20, retry_base=0.05)
    return ModelStager(source, cache.store, **kwargs).run()


def run_playbook(playbook, inventory_vars, tmp_path, env=None, extra_args=()):
    """ansible-playbook PLAYBOOK against a temporary localhost inventory; returns CompletedProcess."""
    inventory = tmp_path / ("inventory-%s.json" % uuid.uuid4().hex[:6])
    host = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    host.update(inventory_vars)
    inventory.write_text(json.dumps({"all": {"hosts": {"localhost": host}}}))
    full_env = dict(os.environ)
    full_env.update({"ANSIBLE_CONFIG": os.path.join(ROOT, "ansible.cfg"), "ANSIBLE_NOCOLOR": "1",
                     "ANSIBLE_FORCE_COLOR": "0"})
    for name in ("HF_TOKEN", "HF_ENDPOINT", "STORAGE_EMULATOR_HOST"):
        full_env.pop(name, None)
    full_env.update(env or {})
    argv = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", str(inventory),
            os.path.join(ROOT, playbook)] + list(extra_args)
    return subprocess.run(argv, cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=300, check=False)

"""The storage role through ansible-playbook: GCS backend against fake-gcs-server and the GKE emulator, Filestore
backend against recorded Filestore API responses, rendered objects checked with kubernetes-validate."""

import json
import time

import kubernetes_validate
import pytest
import yaml
from google.auth.credentials import AnonymousCredentials
from google.cloud import container_v1

from tests.emulators.fake_gcs import FakeGcs
from tests.emulators.gke import GkeEmulator
from tests.integration.playbook_runner import run_playbook, write_inventory
from tests.unit.recorded_http import RecordedHttp, recorded

pytestmark = pytest.mark.integration

PROJECT = "acme-ci"
LOCATION = "us-central1-b"
RUNNER = ("principal://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/"
          "acme-ci.svc.id.goog/subject/ns/arc-runners/sa/arc-runner")
STAGER = "serviceAccount:model-stager@acme-ci.iam.gserviceaccount.com"
MUTATING = ("POST", "PUT", "PATCH", "DELETE")
FILESTORE = recorded("filestore_sglang_models.json")


def estate(render_dir, **cache):
    model_cache = {"backend": "gcs", "bucket": "acme-ci-models", "location": "US-CENTRAL1", "mount_path": "/models",
                   "stager_members": [STAGER]}
    model_cache.update(cache)
    return {
        "accelci_project": PROJECT, "accelci_project_number": "123456789012", "accelci_location": LOCATION,
        "accelci_cluster": {"name": "ci-runners", "workload_identity": True},
        "accelci_model_cache": model_cache,
        "accelci_k8s_delivery": "render", "accelci_render_dir": str(render_dir), "accelci_kubernetes_version": "1.33",
    }


def fact_playbook(tmp_path):
    """A playbook that runs the role and writes the published fact to a file."""
    out = tmp_path / "fact.json"
    playbook = tmp_path / "storage_fact.yml"
    playbook.write_text(yaml.safe_dump([{
        "name": "Storage, then dump the published fact", "hosts": "localhost", "gather_facts": False,
        "roles": [{"role": "accelci.runners.storage"}],
        "post_tasks": [{"name": "Dump the fact", "ansible.builtin.copy": {
            "content": "{{ accelci_runner_model_cache | to_json }}", "dest": str(out), "mode": "0600"}}],
    }]))
    return str(playbook), out


def create_cluster(gke):
    client = container_v1.ClusterManagerClient(transport="rest", client_options={"api_endpoint": gke.url},
                                               credentials=AnonymousCredentials())
    parent = "projects/%s/locations/%s" % (PROJECT, LOCATION)
    operation = client.create_cluster(parent=parent, cluster=container_v1.Cluster(name="ci-runners",
                                                                                  initial_node_count=1))
    deadline = time.monotonic() + 30
    while client.get_operation(name=parent + "/operations/" + operation.name).status != \
            container_v1.Operation.Status.DONE:
        assert time.monotonic() < deadline, "the emulator's create operation never finished"
        time.sleep(0.05)
    gke.clear_requests()


def gke_mutations(gke):
    return [r for r in gke.requests() if r["method"] in MUTATING]


def rendered_files(render_dir):
    """{relative path: file} of the storage role's output: render_dir/storage, and the namespaces it shares with
    the arc role under render_dir/_cluster."""
    storage = render_dir / "storage"
    files = dict((str(p.relative_to(storage)), p) for p in sorted(storage.rglob("*.yaml"))) if storage.exists() else {}
    files.update((str(p.relative_to(render_dir)), p) for p in sorted(render_dir.glob("_cluster/namespace-*.yaml")))
    return files


def rendered(render_dir):
    """{relative path: manifest} of the storage role's output (see rendered_files)."""
    return dict((rel, yaml.safe_load(p.read_text())) for rel, p in rendered_files(render_dir).items())


def assert_valid(manifests, version="1.33"):
    for manifest in manifests:
        kubernetes_validate.validate(manifest, version, strict=True)


@pytest.fixture
def gke():
    with GkeEmulator(operation_seconds=0.1) as emulator:
        yield emulator


@pytest.fixture
def gcs():
    with FakeGcs() as server:
        yield server


def test_gcs_backend_end_to_end_and_backend_switch(tmp_path, gke, gcs):
    create_cluster(gke)
    render_dir = tmp_path / "rendered"
    inventory = write_inventory(tmp_path, estate(render_dir))
    env = {"ACCELCI_GKE_API_ENDPOINT": gke.url, "STORAGE_EMULATOR_HOST": gcs.endpoint}
    client = gcs.client(PROJECT)

    # Check mode: reads only.
    check = run_playbook("playbooks/storage.yml", inventory, env=env, extra_args=["--check", "--diff"])
    assert check.rc == 0, check
    assert check.changed >= 2, check
    assert gke_mutations(gke) == []
    assert [b.name for b in client.list_buckets()] == []
    assert not render_dir.exists()

    # Apply.
    playbook, fact_file = fact_playbook(tmp_path)
    first = run_playbook(playbook, inventory, env=env)
    assert first.rc == 0, first
    assert first.changed >= 3, first
    updates = [r["body"]["update"] for r in gke_mutations(gke) if r["method"] == "PUT"]
    assert any((u.get("desiredAddonsConfig") or {}).get("gcsFuseCsiDriverConfig") == {"enabled": True}
               for u in updates), updates
    assert {"desiredWorkloadIdentityConfig": {"workloadPool": "acme-ci.svc.id.goog"}} in updates
    assert [b.name for b in client.list_buckets()] == ["acme-ci-models"]
    # fake-gcs-server has no IAM: the role reports the exact bindings it would set.
    assert "IAM bindings not applied (fake-gcs-server has no IAM)" in first.stderr + first.stdout
    assert json.dumps({"roles/storage.objectUser": [STAGER], "roles/storage.objectViewer": [RUNNER]},
                      sort_keys=True) in first.stderr + first.stdout

    objects = rendered(render_dir)
    # The namespaces come from the arc role's namespaces entry point (their one owner): ARC's controller and runner
    # namespaces, the same objects the arc role renders.
    assert sorted(objects) == ["_cluster/namespace-arc-runners.yaml", "_cluster/namespace-arc-systems.yaml",
                               "arc-runners/configmap-accelci-model-cache.yaml",
                               "arc-runners/role-arc-runner-model-cache-reader.yaml",
                               "arc-runners/rolebinding-arc-runner-model-cache-reader.yaml",
                               "arc-runners/serviceaccount-arc-runner.yaml"]
    # The runners' identity may read the model cache's ConfigMap and nothing else (tests/kube tests it for real).
    assert objects["arc-runners/role-arc-runner-model-cache-reader.yaml"]["rules"] == [
        {"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["accelci-model-cache"],
         "verbs": ["get", "watch"]}]
    assert_valid(objects.values())
    for namespace in ("arc-runners", "arc-systems"):
        assert objects["_cluster/namespace-%s.yaml" % namespace] == {
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": namespace, "labels": {"app.kubernetes.io/managed-by": "accelci-runners"}}}
    assert objects["arc-runners/serviceaccount-arc-runner.yaml"] == {
        "apiVersion": "v1", "kind": "ServiceAccount", "automountServiceAccountToken": False,
        "metadata": {"name": "arc-runner", "namespace": "arc-runners",
                     "labels": {"app.kubernetes.io/managed-by": "accelci-runners",
                                "app.kubernetes.io/component": "model-cache"}}}
    assert objects["arc-runners/configmap-accelci-model-cache.yaml"]["data"] == {
        "backend": "gcs", "location": "gs://acme-ci-models", "mount_path": "/models", "service_account": "arc-runner"}

    fact = json.loads(fact_file.read_text())
    assert fact == {
        "backend": "gcs", "mount_path": "/models", "namespace": "arc-runners", "service_account": "arc-runner",
        "bucket": "acme-ci-models", "prefix": "",
        "pod_annotations": {"gke-gcsfuse/volumes": "true", "gke-gcsfuse/cpu-limit": "0",
                            "gke-gcsfuse/memory-limit": "0", "gke-gcsfuse/ephemeral-storage-limit": "0"},
        "volumes": [
            {"name": "models", "csi": {"driver": "gcsfuse.csi.storage.gke.io", "readOnly": True, "volumeAttributes": {
                "bucketName": "acme-ci-models",
                "mountOptions": "implicit-dirs,file-cache:enable-parallel-downloads:true,"
                                "file-cache:parallel-downloads-per-file:100,file-cache:max-parallel-downloads:-1,"
                                "file-cache:download-chunk-size-mb:10,file-cache:max-size-mb:46080",
                "metadataCacheTTLSeconds": "-1", "metadataStatCacheCapacity": "-1",
                "metadataTypeCacheCapacity": "-1"}}},
            {"name": "gke-gcsfuse-cache", "emptyDir": {"sizeLimit": "50Gi"}},
        ],
        "volume_mounts": [{"name": "models", "mountPath": "/models", "readOnly": True}],
        "env": {"ACCELCI_MODEL_CACHE": "/models"},
    }
    # The published volumes are valid in a pod for the target Kubernetes version.
    assert_valid([{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "runner", "namespace": "arc-runners",
                                                                   "annotations": fact["pod_annotations"]},
                   "spec": {"serviceAccountName": fact["service_account"], "volumes": fact["volumes"],
                            "containers": [{"name": "runner", "image": "ghcr.io/actions/actions-runner:2.329.0",
                                            "volumeMounts": fact["volume_mounts"]}]}}])

    # The same again: nothing changes, nothing is written.
    gke.clear_requests()
    files = rendered_files(render_dir)
    before = dict((rel, files[rel].stat().st_mtime_ns) for rel in objects)
    second = run_playbook("playbooks/storage.yml", inventory, env=env)
    assert second.rc == 0, second
    assert second.changed == 0, second
    assert gke_mutations(gke) == []
    assert dict((rel, files[rel].stat().st_mtime_ns) for rel in objects) == before

    # Another backend is refused while the recorded one is gcs; nothing is touched.
    filestore_inventory = write_inventory(tmp_path / "filestore", estate(
        render_dir, backend="filestore", filestore={"instance": "sglang-models", "share": "models"}))
    refused = run_playbook("playbooks/storage.yml", filestore_inventory, env=env)
    assert refused.rc != 0, refused
    assert "The model cache backend is gcs" in refused.stdout and "storage_allow_backend_switch=true" in refused.stdout
    assert gke_mutations(gke) == []
    assert rendered(render_dir)["arc-runners/configmap-accelci-model-cache.yaml"]["data"]["backend"] == "gcs"

    # Allowed explicitly: the Filestore side is made (recorded Filestore API), the bucket is kept.
    with filestore_api() as api:
        env_fs = dict(env, ACCELCI_FILESTORE_API_ENDPOINT=api.endpoint)
        allowed = run_playbook(playbook, filestore_inventory, env=env_fs,
                               extra_vars={"storage_allow_backend_switch": True})
        assert allowed.rc == 0, allowed
        assert [c for c in api.calls() if not c.startswith("GET ")] == [
            "POST /v1/projects/acme-ci/locations/us-central1-b/instances"]
    assert [b.name for b in client.list_buckets()] == ["acme-ci-models"]
    updates = [r["body"]["update"] for r in gke_mutations(gke) if r["method"] == "PUT"]
    # The Filestore driver is turned on; the GCS FUSE driver, still used by anything reading the old bucket, stays on.
    assert len(updates) == 1
    assert updates[0]["desiredAddonsConfig"]["gcpFilestoreCsiDriverConfig"] == {"enabled": True}
    assert updates[0]["desiredAddonsConfig"].get("gcsFuseCsiDriverConfig", {"enabled": True}) == {"enabled": True}
    objects = rendered(render_dir)
    assert_valid(objects.values())
    assert objects["arc-runners/configmap-accelci-model-cache.yaml"]["data"]["backend"] == "filestore"
    assert objects["_cluster/persistentvolume-accelci-models-arc-runners.yaml"]["spec"] == {
        "capacity": {"storage": "1Ti"}, "accessModes": ["ReadOnlyMany"], "persistentVolumeReclaimPolicy": "Retain",
        "storageClassName": "", "volumeMode": "Filesystem",
        "claimRef": {"namespace": "arc-runners", "name": "accelci-models"},
        "csi": {"driver": "filestore.csi.storage.gke.io",
                "volumeHandle": "modeInstance/us-central1-b/sglang-models/models", "readOnly": True,
                "volumeAttributes": {"ip": "10.24.0.2", "volume": "models"}}}
    assert objects["arc-runners/persistentvolumeclaim-accelci-models.yaml"]["spec"] == {
        "accessModes": ["ReadOnlyMany"], "storageClassName": "", "volumeName": "accelci-models-arc-runners",
        "resources": {"requests": {"storage": "1Ti"}}}
    fact = json.loads(fact_file.read_text())
    assert fact["backend"] == "filestore" and fact["pod_annotations"] == {}
    claim = {"claimName": "accelci-models", "readOnly": True}
    assert fact["volumes"] == [{"name": "models", "persistentVolumeClaim": claim}]
    assert fact["volume_mounts"] == [{"name": "models", "mountPath": "/models", "readOnly": True}]


class filestore_api(RecordedHttp):
    """The Filestore API answering a create of acme-ci/us-central1-b/sglang-models from recorded responses."""

    def __enter__(self):
        super().__enter__()
        instance = "/v1/" + FILESTORE["instance_path"]
        self.route("GET " + instance, (404, FILESTORE["instance_not_found"]), (200, FILESTORE["instance_ready"]))
        self.route("POST " + instance.rsplit("/", 1)[0], (200, FILESTORE["op_create"]))
        self.route("GET /v1/" + FILESTORE["operation_create"], (200, FILESTORE["op_create_done"]))
        return self


@pytest.mark.parametrize("cache, named", [
    ({"bucket": "Acme_Models"}, "accelci_model_cache.bucket: name 'Acme_Models' may contain only lowercase"),
    # gcs_bucket refuses an IP-shaped name; the preflight applies the same rule (storage/bucket.py).
    ({"bucket": "192.168.1.1"}, "accelci_model_cache.bucket: name '192.168.1.1' may not be an IP address"),
    ({"bucket": "goog-models"}, "accelci_model_cache.bucket: name 'goog-models' may not start with 'goog'"),
    ({"location": "us-central1-b"}, "accelci_model_cache.location: 'US-CENTRAL1-B' is not a Cloud Storage location"),
    ({"location": "MARS-NORTH1"}, "accelci_model_cache.location: 'MARS-NORTH1' is not a Cloud Storage location"),
    ({"prefix": "../.."}, "accelci_model_cache.prefix: '../..' is not accepted"),
    ({"prefix": "models/../../x"}, "accelci_model_cache.prefix: 'models/../../x' is not accepted"),
    ({"prefix": "a\\b"}, "accelci_model_cache.prefix: 'a\\\\b' may not hold backslashes"),
    ({"mount_path": "/models/../etc"}, "accelci_model_cache.mount_path: '/models/../etc' is not accepted"),
    ({"mount_path": "models"}, "accelci_model_cache.mount_path: 'models' is not accepted; accepted: an absolute path"),
    ({"backend": "nfs"}, "accelci_model_cache.backend: must be one of gcs, filestore, none, got 'nfs'"),
    ({"backend": "filestore", "filestore": {"capacity_gb": 10 ** 12}},
     "accelci_model_cache.filestore.capacity_gb: capacity_gb 1000000000000 is outside what tier BASIC_HDD allows"),
    ({"backend": "filestore", "filestore": {"capacity_gb": -5}},
     "accelci_model_cache.filestore.capacity_gb: capacity_gb -5 is outside what tier BASIC_HDD allows"),
    ({"backend": "filestore", "filestore": {"location": "nowhere"}},
     "accelci_model_cache.filestore.location: location 'nowhere': tier BASIC_HDD is zonal"),
    ({"backend": "filestore", "filestore": {"location": "mars-north1-a"}},
     "accelci_model_cache.filestore.location: location 'mars-north1-a' is in no Google Cloud region"),
    ({"backend": "filestore", "filestore": {"share": "../x"}},
     "accelci_model_cache.filestore.share: share_name '../x'"),
])
def test_invalid_input_refused_before_any_call(tmp_path, gke, gcs, cache, named):
    inventory = write_inventory(tmp_path, estate(tmp_path / "rendered", **cache))
    run = run_playbook("playbooks/storage.yml", inventory,
                       env={"ACCELCI_GKE_API_ENDPOINT": gke.url, "STORAGE_EMULATOR_HOST": gcs.endpoint})
    assert run.rc != 0, run
    assert named in run.stdout, run
    assert gke.requests() == []
    assert list(gcs.client(PROJECT).list_buckets()) == []
    assert not (tmp_path / "rendered").exists()


def test_a_zone_as_the_cluster_location_names_accelci_location(tmp_path, gke, gcs):
    variables = estate(tmp_path / "rendered")
    del variables["accelci_model_cache"]["location"]
    variables["accelci_location"] = "mars-north1-b"
    run = run_playbook("playbooks/storage.yml", write_inventory(tmp_path, variables),
                       env={"ACCELCI_GKE_API_ENDPOINT": gke.url, "STORAGE_EMULATOR_HOST": gcs.endpoint})
    assert run.rc != 0, run
    assert "accelci_location (the bucket follows the cluster region" in run.stdout, run
    assert "'MARS-NORTH1' is not a Cloud Storage location" in run.stdout
    assert gke.requests() == [] and not (tmp_path / "rendered").exists()


def test_storage_role_never_creates_the_cluster(tmp_path, gke, gcs):
    inventory = write_inventory(tmp_path, estate(tmp_path / "rendered"))
    run = run_playbook("playbooks/storage.yml", inventory,
                       env={"ACCELCI_GKE_API_ENDPOINT": gke.url, "STORAGE_EMULATOR_HOST": gcs.endpoint})
    assert run.rc != 0, run
    assert "run playbooks/cluster.yml first" in run.stdout
    assert gke_mutations(gke) == []


def test_backend_none_touches_nothing_and_publishes_an_empty_mount(tmp_path):
    render_dir = tmp_path / "rendered"
    variables = estate(render_dir)
    variables["accelci_model_cache"] = {"backend": "none"}
    inventory = write_inventory(tmp_path, variables)
    playbook, fact_file = fact_playbook(tmp_path)
    # No emulator is running: any API call would fail the run.
    run = run_playbook(playbook, inventory, env={"ACCELCI_GKE_API_ENDPOINT": "http://127.0.0.1:9",
                                                 "STORAGE_EMULATOR_HOST": "http://127.0.0.1:9"})
    assert run.rc == 0, run
    assert run.changed == 1, run  # the fact dump only
    assert not render_dir.exists()
    assert json.loads(fact_file.read_text()) == {
        "backend": "none", "mount_path": "/models", "namespace": "arc-runners", "service_account": "",
        "pod_annotations": {}, "volumes": [], "volume_mounts": [], "env": {}}

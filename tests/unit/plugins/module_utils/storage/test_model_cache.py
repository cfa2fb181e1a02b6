"""storage.model_cache: the mount the storage role publishes as accelci_runner_model_cache, for each backend."""

import pytest

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import InputError
from ansible_collections.accelci.runners.plugins.module_utils.storage.model_cache import model_cache_mount

MOUNT = [{"name": "models", "mountPath": "/models", "readOnly": True}]


def test_gcs_defaults():
    published = model_cache_mount({"backend": "gcs", "bucket": "acme-ci-models", "location": "US"},
                                  "arc-runners", "arc-runner")
    assert published == {
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
        "volume_mounts": MOUNT,
        "env": {"ACCELCI_MODEL_CACHE": "/models"},
    }
    # The order the storage role always published keys in.
    assert list(published) == ["backend", "mount_path", "namespace", "service_account", "bucket", "prefix",
                               "pod_annotations", "volumes", "volume_mounts", "env"]


def test_gcs_prefix_and_overrides():
    published = model_cache_mount(
        {"backend": "gcs", "bucket": "b-2", "prefix": "/models/x/", "mount_path": "/data/models"}, "runners-x",
        "arc-runner",
        gcsfuse={"file_cache": False, "mount_options": ["implicit-dirs", "file-cache:foo", "only-dir=zz"],
                 "metadata_cache_ttl_seconds": 60, "cpu_limit": 2, "memory_limit": "4Gi"},
        env={"FOO": "bar", "ACCELCI_MODEL_CACHE": "/other"})
    assert published["prefix"] == "models/x"
    assert published["volumes"] == [{"name": "models", "csi": {
        "driver": "gcsfuse.csi.storage.gke.io", "readOnly": True, "volumeAttributes": {
            "bucketName": "b-2", "mountOptions": "implicit-dirs,only-dir=zz,only-dir=models/x",
            "metadataCacheTTLSeconds": "60", "metadataStatCacheCapacity": "-1", "metadataTypeCacheCapacity": "-1"}}}]
    assert published["pod_annotations"]["gke-gcsfuse/cpu-limit"] == "2"
    assert published["pod_annotations"]["gke-gcsfuse/memory-limit"] == "4Gi"
    assert published["volume_mounts"] == [{"name": "models", "mountPath": "/data/models", "readOnly": True}]
    assert published["env"] == {"ACCELCI_MODEL_CACHE": "/other", "FOO": "bar"}


def test_gcs_file_cache_in_memory():
    published = model_cache_mount({"backend": "gcs", "bucket": "b-3", "prefix": "p"}, "arc-runners", "arc-runner",
                                  gcsfuse={"file_cache_medium": "Memory", "file_cache_size_gb": "20"})
    assert published["volumes"][1] == {"name": "gke-gcsfuse-cache", "emptyDir": {"sizeLimit": "20Gi",
                                                                                 "medium": "Memory"}}
    assert published["volumes"][0]["csi"]["volumeAttributes"]["mountOptions"].endswith(
        ",only-dir=p,file-cache:max-size-mb:18432")


def test_filestore():
    published = model_cache_mount({"backend": "filestore", "filestore": {"instance": "i1"}}, "arc-runners",
                                  "arc-runner", env={"A": 1})
    assert published == {
        "backend": "filestore", "mount_path": "/models", "namespace": "arc-runners", "service_account": "arc-runner",
        "claim_name": "accelci-models", "pod_annotations": {},
        "volumes": [{"name": "models", "persistentVolumeClaim": {"claimName": "accelci-models", "readOnly": True}}],
        "volume_mounts": MOUNT, "env": {"ACCELCI_MODEL_CACHE": "/models", "A": 1},
    }


@pytest.mark.parametrize("model_cache", [{"backend": "none"}, {}, None])
def test_none_publishes_no_mount(model_cache):
    assert model_cache_mount(model_cache, "arc-runners", "arc-runner", env={"A": "1"}) == {
        "backend": "none", "mount_path": "/models", "namespace": "arc-runners", "service_account": "",
        "pod_annotations": {}, "volumes": [], "volume_mounts": [], "env": {}}


@pytest.mark.parametrize("model_cache, field", [
    ({"backend": "s3"}, "accelci_model_cache.backend"),
    ({"backend": None}, "accelci_model_cache.backend"),
    ({"backend": "gcs", "mount_path": "/"}, "accelci_model_cache.mount_path"),
    ({"backend": "gcs", "mount_path": "models"}, "accelci_model_cache.mount_path"),
    ({"backend": "gcs", "mount_path": "/models/"}, "accelci_model_cache.mount_path"),
])
def test_bad_settings_name_the_estate_key(model_cache, field):
    with pytest.raises(InputError) as failure:
        model_cache_mount(model_cache, "arc-runners", "arc-runner")
    assert failure.value.field == field


def test_file_cache_size_must_be_a_number():
    with pytest.raises(InputError) as failure:
        model_cache_mount({"backend": "gcs", "bucket": "models-b"}, "arc-runners", "arc-runner",
                          gcsfuse={"file_cache_size_gb": "lots"})
    assert failure.value.field == "storage_gcsfuse.file_cache_size_gb"

# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""How runner pods mount the model cache: the one home of the GCS FUSE CSI driver's volume attributes, sidecar
annotations and mount options, and of what the storage role publishes as ``accelci_runner_model_cache``.

``model_cache_mount(model_cache, namespace, service_account, gcsfuse, env)`` turns the estate's
``accelci_model_cache`` into that dict (backend gcs, filestore or none); the storage role reaches it through the
``accelci.runners.model_cache_mount`` filter, the arc values read it back (``arc.values``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import InputError
from ansible_collections.accelci.runners.plugins.module_utils.storage.bucket import (
    bucket_input_errors,
    bucket_location_errors,
    object_prefix_errors,
)
from ansible_collections.accelci.runners.plugins.module_utils.storage.filestore import filestore_input_errors

BACKENDS = ("gcs", "filestore", "none")
DEFAULT_MOUNT_PATH = "/models"
# The environment variable runner steps read the mount path from.
MOUNT_PATH_ENV = "ACCELCI_MODEL_CACHE"
VOLUME_NAME = "models"
# The claim the storage role binds to the Filestore PersistentVolume (filestore backend).
CLAIM_NAME = "accelci-models"

GCSFUSE_DRIVER = "gcsfuse.csi.storage.gke.io"
# The pod annotation that makes GKE inject the GCS FUSE sidecar.
GCSFUSE_VOLUMES_ANNOTATION = "gke-gcsfuse/volumes"
# The emptyDir GKE gives the sidecar for its file cache, recognised by this name.
GCSFUSE_CACHE_VOLUME = "gke-gcsfuse-cache"
# gcsfuse option (estate spelling) -> CSI volume attribute.
GCSFUSE_VOLUME_OPTIONS = {
    "file_cache_capacity": "fileCacheCapacity",
    "file_cache_for_range_read": "fileCacheForRangeRead",
    "metadata_cache_ttl_seconds": "metadataCacheTTLSeconds",
    "metadata_stat_cache_capacity": "metadataStatCacheCapacity",
    "metadata_type_cache_capacity": "metadataTypeCacheCapacity",
}
# gcsfuse option -> annotation that sizes the sidecar GKE injects.
GCSFUSE_SIDECAR_ANNOTATIONS = {
    "cpu_limit": "gke-gcsfuse/cpu-limit",
    "memory_limit": "gke-gcsfuse/memory-limit",
    "ephemeral_storage_limit": "gke-gcsfuse/ephemeral-storage-limit",
}
# The volume attributes the storage role publishes (the metadata caches).
_PUBLISHED_VOLUME_OPTIONS = ("metadata_cache_ttl_seconds", "metadata_stat_cache_capacity",
                             "metadata_type_cache_capacity")
# The mount the storage role publishes unless the estate's storage_gcsfuse overrides a key: Google's settings for
# model loading (parallel downloads into a file cache). Metadata never expires: runner pods live for one job and
# published revisions never change. "0" leaves the sidecar unlimited.
GCSFUSE_DEFAULTS = {
    "mount_options": [
        "implicit-dirs",
        "file-cache:enable-parallel-downloads:true",
        "file-cache:parallel-downloads-per-file:100",
        "file-cache:max-parallel-downloads:-1",
        "file-cache:download-chunk-size-mb:10",
    ],
    "file_cache": True,
    "file_cache_medium": "",
    "file_cache_size_gb": 50,
    "metadata_cache_ttl_seconds": "-1",
    "metadata_stat_cache_capacity": "-1",
    "metadata_type_cache_capacity": "-1",
    "cpu_limit": "0",
    "memory_limit": "0",
    "ephemeral_storage_limit": "0",
}
_MOUNT_PATH = re.compile(r"^/\S*[^/\s]$")
# The GCS FUSE file cache lives in an emptyDir on the node: from 1 GiB up to the largest disk a GKE node takes.
FILE_CACHE_SIZE_GB = (1, 65536)


def _mount_path(model_cache):
    path = model_cache.get("mount_path")
    path = DEFAULT_MOUNT_PATH if path is None else str(path)
    segments = path.split("/")[1:]
    if (not _MOUNT_PATH.match(path) or "\\" in path or "\x00" in path
            or any(segment in ("", ".", "..") for segment in segments)):
        raise InputError("accelci_model_cache.mount_path", "%r is not accepted; accepted: an absolute path other than "
                                                           "/, without '.', '..' or empty segments, such as /models"
                         % (path,))
    return path


def _prefix(model_cache):
    """The prefix without leading or trailing slashes ('' for the bucket's root), checked as an object prefix."""
    prefix = model_cache.get("prefix")
    if prefix is None:
        return ""
    problems = object_prefix_errors(str(prefix).strip("/") if isinstance(prefix, str) else prefix)
    if isinstance(prefix, str) and prefix.strip("/") == "" and prefix:
        problems = ["%r names no prefix; leave prefix out for the bucket's root" % (prefix,)]
    if problems:
        raise InputError("accelci_model_cache.prefix", "; ".join(problems))
    return prefix.strip("/")


def _bucket(model_cache):
    """The bucket's name, by the rule gcs_bucket applies (storage.bucket), so the preflight refuses what it would."""
    bucket = model_cache.get("bucket")
    problems = bucket_input_errors({"name": bucket if isinstance(bucket, str) else None, "state": "absent"})
    if problems:
        raise InputError("accelci_model_cache.bucket", "; ".join(message for _option, message in problems))
    return bucket


def _whole_number(value, field):
    """An int from an int, a float or their text (7, 7.5, "7"), as the estate may write sizes."""
    try:
        return int(value)
    except (TypeError, ValueError):
        try:
            return int(float(value))
        except (TypeError, ValueError):
            raise InputError(field, "must be a number, got %r" % (value,))


def _gcsfuse_mount_options(gcsfuse, prefix):
    """The gcsfuse mount options: the given ones (file-cache ones only with the file cache on), only-dir for a
    prefix, and the file cache's size kept below 90% of its emptyDir so the kubelet never evicts the pod."""
    options = list(gcsfuse["mount_options"])
    if not gcsfuse["file_cache"]:
        options = [option for option in options if not str(option).startswith("file-cache:")]
    if prefix:
        options.append("only-dir=" + prefix)
    if gcsfuse["file_cache"]:
        size_gb = _whole_number(gcsfuse["file_cache_size_gb"], "storage_gcsfuse.file_cache_size_gb")
        if not FILE_CACHE_SIZE_GB[0] <= size_gb <= FILE_CACHE_SIZE_GB[1]:
            raise InputError("storage_gcsfuse.file_cache_size_gb", "%r is not accepted; accepted: %d to %d (GiB of "
                                                                   "node disk for the file cache)"
                             % (gcsfuse["file_cache_size_gb"], FILE_CACHE_SIZE_GB[0], FILE_CACHE_SIZE_GB[1]))
        options.append("file-cache:max-size-mb:%d" % (size_gb * 1024 * 9 // 10))
    return options


def _gcs_parts(bucket, prefix, gcsfuse):
    """(pod annotations, volumes) of a bucket mounted through the GCS FUSE CSI driver."""
    options = _gcsfuse_mount_options(gcsfuse, prefix)
    attributes = {"bucketName": bucket, "mountOptions": ",".join(str(option) for option in options)}
    for option in _PUBLISHED_VOLUME_OPTIONS:
        attributes[GCSFUSE_VOLUME_OPTIONS[option]] = str(gcsfuse[option])
    volumes = [{"name": VOLUME_NAME, "csi": {"driver": GCSFUSE_DRIVER, "readOnly": True,
                                             "volumeAttributes": attributes}}]
    if gcsfuse["file_cache"]:
        empty_dir = {"sizeLimit": "%sGi" % gcsfuse["file_cache_size_gb"]}
        if gcsfuse["file_cache_medium"]:
            empty_dir["medium"] = gcsfuse["file_cache_medium"]
        volumes.append({"name": GCSFUSE_CACHE_VOLUME, "emptyDir": empty_dir})
    annotations = {GCSFUSE_VOLUMES_ANNOTATION: "true"}
    for option, annotation in GCSFUSE_SIDECAR_ANNOTATIONS.items():
        annotations[annotation] = str(gcsfuse[option])
    return annotations, volumes


def model_cache_mount(model_cache, namespace, service_account, gcsfuse=None, env=None):
    """What a runner pod needs to mount the model cache: the dict the storage role publishes as
    ``accelci_runner_model_cache``.

    ``model_cache`` is the estate's ``accelci_model_cache`` (``backend`` gcs, filestore or none, ``mount_path``,
    gcs: ``bucket``, ``prefix``); ``gcsfuse`` overrides keys of GCSFUSE_DEFAULTS; ``env`` is added to the runner's
    environment, which always holds ACCELCI_MODEL_CACHE=<mount_path> (unless ``env`` sets it).
    Keys: backend, mount_path, namespace, service_account, pod_annotations, volumes, volume_mounts, env; gcs adds
    bucket and prefix, filestore adds claim_name. Backend none publishes no volume, mount, annotation or env.
    """
    model_cache = model_cache or {}
    backend = model_cache.get("backend", "none")
    if backend not in BACKENDS:
        raise InputError("accelci_model_cache.backend", "must be one of %s, got %r" % (", ".join(BACKENDS), backend))
    mount_path = _mount_path(model_cache)
    published = {"backend": backend, "mount_path": mount_path, "namespace": namespace}
    if backend == "none":
        published.update(service_account="", pod_annotations={}, volumes=[], volume_mounts=[], env={})
        return published
    published["service_account"] = service_account
    runner_env = {MOUNT_PATH_ENV: mount_path}
    runner_env.update(env or {})
    mounts = [{"name": VOLUME_NAME, "mountPath": mount_path, "readOnly": True}]
    if backend == "gcs":
        settings = dict(GCSFUSE_DEFAULTS)
        settings.update(gcsfuse or {})
        bucket, prefix = _bucket(model_cache), _prefix(model_cache)
        annotations, volumes = _gcs_parts(bucket, prefix, settings)
        published.update(bucket=bucket, prefix=prefix)
    else:
        annotations = {}
        volumes = [{"name": VOLUME_NAME, "persistentVolumeClaim": {"claimName": CLAIM_NAME, "readOnly": True}}]
        published["claim_name"] = CLAIM_NAME
    published.update(pod_annotations=annotations, volumes=volumes, volume_mounts=mounts, env=runner_env)
    return published


# filestore_instance option -> its key under accelci_model_cache.filestore (how the estate spells it).
_FILESTORE_KEYS = {"name": "instance", "share_name": "share"}


def _filestore_params(filestore):
    """accelci_model_cache.filestore (defaults filled in by the role) as filestore_instance options."""
    capacity = filestore.get("capacity_gb")
    try:
        capacity = int(capacity) if not isinstance(capacity, bool) and str(capacity).strip().isdigit() else capacity
    except (TypeError, ValueError):
        pass
    return dict(state="present", name=filestore.get("instance"), tier=filestore.get("tier"), capacity_gb=capacity,
                share_name=filestore.get("share"), network=filestore.get("network"), location=filestore.get("location"),
                connect_mode=filestore.get("connect_mode") or "DIRECT_PEERING",
                reserved_ip_range=filestore.get("reserved_ip_range"), labels=filestore.get("labels"))


def model_cache_problems(model_cache, bucket_location=None, filestore=None):
    """What gcs_bucket or filestore_instance would refuse about the estate's model cache, as messages naming the
    key the estate wrote (``accelci_model_cache.bucket: ...``); empty when all is well.

    The storage role's preflight fails on these before any call, with the modules' own rules (storage.bucket,
    storage.filestore): ``bucket_location`` is the bucket's location as the role resolves it, ``filestore`` the
    share's settings with the role's defaults.
    """
    model_cache = model_cache or {}
    backend = model_cache.get("backend", "none")
    problems = []
    if backend == "gcs":
        bucket = model_cache.get("bucket")
        problems += ["accelci_model_cache.bucket: %s" % message for _option, message in bucket_input_errors(
            {"name": bucket if isinstance(bucket, str) else None, "state": "absent"})]
        problems += ["accelci_model_cache.location: %s" % message for message in bucket_location_errors(
            bucket_location)]
        problems += ["accelci_model_cache.prefix: %s" % message for message in object_prefix_errors(
            model_cache.get("prefix").strip("/") if isinstance(model_cache.get("prefix"), str)
            else model_cache.get("prefix"))]
    elif backend == "filestore":
        for option, message in filestore_input_errors(_filestore_params(filestore or {})):
            problems.append("accelci_model_cache.filestore.%s: %s" % (_FILESTORE_KEYS.get(option, option), message))
    return problems

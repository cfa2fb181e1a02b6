# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The parts of the storage role's published model cache a runner pod mounts, read-only (pure; raises InputError).

The GCS FUSE CSI driver's volume attributes and sidecar annotations come from ``storage.model_cache``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import InputError
from ansible_collections.accelci.runners.plugins.module_utils.storage.model_cache import (
    GCSFUSE_DRIVER,
    GCSFUSE_SIDECAR_ANNOTATIONS,
    GCSFUSE_VOLUME_OPTIONS,
)

BACKENDS = ("gcs", "filestore")


def _check_scope(model_cache, namespace):
    backend = model_cache.get("backend")
    if backend not in BACKENDS:
        raise InputError("model_cache.backend", "must be gcs, filestore or none, got %r" % (backend,))
    cache_ns = model_cache.get("namespace")
    if cache_ns and cache_ns != namespace:
        raise InputError("model_cache.namespace", "the model cache is published for namespace %r but the scale "
                                                  "set runs in %r: its service account and volume claim are "
                                                  "namespaced; publish it for %r" % (cache_ns, namespace, namespace))
    return backend


def _read_only_mounts(model_cache, backend, volumes):
    mounts = copy.deepcopy(model_cache.get("volume_mounts") or [])
    if not volumes or not mounts:
        raise InputError("model_cache", "backend %s needs volumes and volume_mounts (publish them with the "
                                        "storage role's publish step)" % backend)
    volume_names = set(v.get("name") for v in volumes)
    for mount in mounts:
        if mount.get("name") not in volume_names:
            raise InputError("model_cache.volume_mounts", "mount %r names no volume in model_cache.volumes"
                             % (mount.get("name"),))
        # The cache is shared by every job: never writable from a runner.
        mount["readOnly"] = True
    return mounts


def _attribute(value):
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _apply_gcsfuse(gcsfuse, backend, volumes, annotations):
    """GCS FUSE tuning onto the cache's CSI volumes (attributes) and pod annotations (sidecar limits)."""
    if backend != "gcs":
        raise InputError("gcsfuse", "GCS FUSE options apply to the gcs model cache backend only (this one is %s)"
                         % backend)
    accepted = set(GCSFUSE_VOLUME_OPTIONS) | set(GCSFUSE_SIDECAR_ANNOTATIONS)
    unknown = sorted(set(gcsfuse) - accepted)
    if unknown:
        raise InputError("gcsfuse", "unknown options %s; accepted: %s" % (", ".join(unknown), ", ".join(sorted(accepted))))
    for volume in volumes:
        csi = volume.get("csi") or {}
        if csi.get("driver") != GCSFUSE_DRIVER:
            continue
        attributes = csi.setdefault("volumeAttributes", {})
        for option, attribute in GCSFUSE_VOLUME_OPTIONS.items():
            if gcsfuse.get(option) is not None:
                attributes[attribute] = _attribute(gcsfuse[option])
    for option, annotation in GCSFUSE_SIDECAR_ANNOTATIONS.items():
        if gcsfuse.get(option) is not None:
            annotations[annotation] = str(gcsfuse[option])


def model_cache_parts(model_cache, namespace, gcsfuse=None):
    """Merge-ready pieces of the storage role's published model cache, mounted read-only.

    Returns dict(backend, mount_path, annotations, volumes, mounts, env, service_account) or None (no cache).
    The published cache is never modified in place.
    """
    if not model_cache or (model_cache.get("backend") or "none") == "none":
        return None
    backend = _check_scope(model_cache, namespace)
    volumes = copy.deepcopy(model_cache.get("volumes") or [])
    mounts = _read_only_mounts(model_cache, backend, volumes)
    annotations = dict((str(k), str(v)) for k, v in (model_cache.get("pod_annotations") or {}).items())
    if gcsfuse:
        _apply_gcsfuse(dict(gcsfuse), backend, volumes, annotations)
    env = [{"name": str(k), "value": str(v)} for k, v in sorted((model_cache.get("env") or {}).items())]
    mount_path = model_cache.get("mount_path") or mounts[0].get("mountPath")
    return dict(backend=backend, mount_path=mount_path, annotations=annotations, volumes=volumes, mounts=mounts,
                env=env, service_account=model_cache.get("service_account") or None)

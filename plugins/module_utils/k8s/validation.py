# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Kubernetes manifests checked before anything is applied or rendered (pure).

- ``manifest_errors(manifest)``: identity fields, names and scope, which no schema checks the same way.
- ``validate_manifests(manifests, kubernetes_version, skipped=None)``: the built-in schemas of one Kubernetes minor
  version, from ``kubernetes-validate`` (strict: unknown fields are errors); custom resources are listed as skipped.
- ``schema_version(kubernetes_version)``: '1.33' from '1.33', 'v1.33.2' or None (the newest schema shipped).
- ``object_ref(manifest)``: 'Kind namespace/name', how every message names an object.
- ``CLUSTER_SCOPED_KINDS`` and ``NAMESPACED_KINDS``: the built-in kinds' scope.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import traceback

from ansible.module_utils.basic import missing_required_lib
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import AccelciError, InputError

try:
    import kubernetes_validate
    from kubernetes_validate import utils as kv_utils

    HAS_KUBERNETES_VALIDATE = True
    KUBERNETES_VALIDATE_IMP_ERR = None
except ImportError:
    HAS_KUBERNETES_VALIDATE = False
    KUBERNETES_VALIDATE_IMP_ERR = traceback.format_exc()

# Built-in kinds that live outside namespaces; render mode refuses a namespace on them (and apply mode learns the
# same from discovery). Everything else with a namespace is treated as namespaced.
CLUSTER_SCOPED_KINDS = frozenset([
    "APIService", "CertificateSigningRequest", "ClusterRole", "ClusterRoleBinding", "CSIDriver", "CSINode",
    "CustomResourceDefinition", "IngressClass", "MutatingWebhookConfiguration", "Namespace", "Node",
    "PersistentVolume", "PriorityClass", "RuntimeClass", "StorageClass", "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding", "ValidatingWebhookConfiguration", "VolumeAttachment",
    "VolumeAttributesClass",
])
# Built-in kinds that always need a namespace.
NAMESPACED_KINDS = frozenset([
    "ConfigMap", "CronJob", "DaemonSet", "Deployment", "Endpoints", "Ingress", "Job", "LimitRange",
    "NetworkPolicy", "PersistentVolumeClaim", "Pod", "PodDisruptionBudget", "ReplicaSet", "ResourceQuota",
    "Role", "RoleBinding", "Secret", "Service", "ServiceAccount", "StatefulSet",
])

DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
KUBERNETES_VERSION = re.compile(r"^v?(\d+)\.(\d+)(\.\d+)?$")


def object_ref(manifest):
    """'Kind namespace/name' (or 'Kind name' for cluster objects), for messages."""
    manifest = manifest if isinstance(manifest, dict) else {}
    metadata = manifest.get("metadata") or {}
    name = metadata.get("name") or "<no name>"
    kind = manifest.get("kind") or "<no kind>"
    if metadata.get("namespace"):
        return "%s %s/%s" % (kind, metadata["namespace"], name)
    return "%s %s" % (kind, name)


def _namespace_problems(manifest, metadata):
    namespace = metadata.get("namespace")
    kind = manifest.get("kind")
    if namespace is not None:
        if not isinstance(namespace, str) or len(namespace) > 63 or not DNS1123_LABEL.match(namespace):
            yield "metadata.namespace", ("metadata.namespace %r is not a valid namespace name: lowercase letters, "
                                         "digits and '-', at most 63 characters" % (namespace,))
        elif kind in CLUSTER_SCOPED_KINDS:
            yield "metadata.namespace", "%s is cluster-scoped: remove metadata.namespace" % kind
    elif kind in NAMESPACED_KINDS:
        yield "metadata.namespace", "%s is namespaced: set metadata.namespace" % kind


def manifest_problems(manifest):
    """Structural problems as (path in the manifest, message) pairs: identity fields, names, scope."""
    if not isinstance(manifest, dict):
        return [("", "a manifest must be a mapping, got %s" % type(manifest).__name__)]
    problems = []
    for field in ("apiVersion", "kind"):
        if not isinstance(manifest.get(field), str) or not manifest.get(field):
            problems.append((field, "%s is required (a non-empty string)" % field))
    metadata = manifest.get("metadata")
    if not isinstance(metadata, dict):
        return problems + [("metadata", "metadata is required (a mapping with at least name)")]
    name = metadata.get("name")
    if not isinstance(name, str) or not name:
        problems.append(("metadata.name", "metadata.name is required"))
    elif len(name) > 253 or not DNS1123_SUBDOMAIN.match(name):
        problems.append(("metadata.name", "metadata.name %r is not a valid name: lowercase letters, digits, '-' and "
                                          "'.', starting and ending with a letter or digit, at most 253 characters"
                         % name))
    return problems + list(_namespace_problems(manifest, metadata))


def manifest_errors(manifest):
    """The messages of manifest_problems: what no schema catches the same way."""
    return [message for _path, message in manifest_problems(manifest)]


def schema_version(kubernetes_version):
    """'1.33' from '1.33', 'v1.33.2' or None (the newest schema kubernetes-validate ships)."""
    if not kubernetes_version:
        return kv_utils.latest_version()
    match = KUBERNETES_VERSION.match(str(kubernetes_version).strip())
    if not match:
        raise InputError("kubernetes_version", "%r is not a version like 1.33" % (kubernetes_version,))
    return "%s.%s" % (match.group(1), match.group(2))


def _supported_kubernetes_versions():
    """The Kubernetes minor versions whose schemas kubernetes-validate ships (e.g. ['1.25', ..., '1.37'])."""
    return [kv_utils.major_minor(v) for v in kv_utils.all_versions()]


def _version_key(version):
    return tuple(int(part) for part in version.split("."))


def _checked_version(kubernetes_version):
    if not HAS_KUBERNETES_VALIDATE:
        raise AccelciError(missing_required_lib("kubernetes-validate"), exception=KUBERNETES_VALIDATE_IMP_ERR)
    version = schema_version(kubernetes_version)
    supported = _supported_kubernetes_versions()
    if _version_key(version) < _version_key(supported[0]) or _version_key(version) > _version_key(supported[-1]):
        raise InputError("kubernetes_version", "%s is outside what kubernetes-validate %s knows (%s to %s)"
                         % (version, kubernetes_validate.version.__version__, supported[0], supported[-1]))
    return version


def validate_manifests(manifests, kubernetes_version, skipped=None):
    """Validate manifests against the built-in schemas of one Kubernetes minor version.

    Returns a list of error strings, each naming the object ('Kind ns/name: path: message'); empty when all pass.
    Schemas are strict (unknown fields are errors). Kinds without a built-in schema (custom resources) are not
    validated: they are appended to ``skipped`` (when a list is given) as 'Kind ns/name: no schema for
    apiVersion/kind in Kubernetes X.Y (custom resource?)'. Raises InputError for a kubernetes_version it cannot
    validate for.
    """
    version = _checked_version(kubernetes_version)
    errors = []
    for manifest in manifests:
        ref = object_ref(manifest)
        structural = manifest_errors(manifest)
        if structural:
            errors.extend("%s: %s" % (ref, problem) for problem in structural)
            continue
        try:
            kv_utils.validate(manifest, version, strict=True)
        except kv_utils.ValidationError as exc:
            path = ".".join(str(item) for item in exc.path) or "(top level)"
            errors.append("%s: %s: %s (Kubernetes %s schema)" % (ref, path, exc.message, version))
        except kv_utils.SchemaNotFoundError:
            if skipped is not None:
                skipped.append("%s: no schema for %s %s in Kubernetes %s (custom resource?); not validated"
                               % (ref, manifest["apiVersion"], manifest["kind"], version))
        except (kv_utils.InvalidSchemaError, kv_utils.VersionNotSupportedError) as exc:
            errors.append("%s: cannot validate: %s" % (ref, to_native(getattr(exc, "message", exc))))
    return errors

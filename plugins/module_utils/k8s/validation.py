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
# A kind is a CamelCase identifier; it also names the rendered file (<kind>-<name>.yaml), so nothing else passes.
KIND = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,62}$")
# core "v1", or GROUP/VERSION with a DNS-subdomain group.
API_VERSION = re.compile(r"^(?:[a-z0-9]([-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?v[0-9]+[a-z0-9]*$")


# A Kubernetes resource quantity (k8s.io/apimachinery resource.Quantity), never negative for requests and limits:
# digits with an optional fraction, then a binary (Ki..Ei), decimal (n, u, m, k, M..E) or exponent suffix.
QUANTITY = re.compile(r"^(?:\d+(?:\.\d*)?|\.\d+)(?:Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$")
QUANTITY_ACCEPTED = ("a Kubernetes quantity such as 4, 500m, 1.5, 16Gi or 512Mi (digits, an optional fraction, then "
                     "an optional suffix Ki, Mi, Gi, Ti, Pi, Ei, n, u, m, k, M, G, T, P or E)")
# What the API server stores a quantity in: more than 2**63 of the smallest unit is refused.
_QUANTITY_MAX_DIGITS = 18


def check_quantity(field, value):
    """A resource quantity as the API server would accept it (as a string; integers stay integers).

    Raises InputError naming ``field`` and what is accepted ('lots', '-1', '4 GB', True are refused)."""
    if isinstance(value, bool) or value is None or not isinstance(value, (int, float, str)):
        raise InputError(field, "%r is not accepted; accepted: %s" % (value, QUANTITY_ACCEPTED))
    text = str(value).strip()
    if not QUANTITY.match(text) or len(text.split(".", 1)[0].lstrip("0")) > _QUANTITY_MAX_DIGITS:
        raise InputError(field, "%r is not accepted; accepted: %s" % (value, QUANTITY_ACCEPTED))
    return value if isinstance(value, int) else text


def check_resources(field, resources):
    """A container's ``resources`` ({requests, limits} of quantities); returns it. Raises InputError naming the
    quantity at fault (``FIELD.requests.cpu``)."""
    if resources is None:
        return None
    if not isinstance(resources, dict):
        raise InputError(field, "must be a mapping with requests and/or limits")
    unknown = sorted(set(resources) - {"requests", "limits", "claims"})
    if unknown:
        raise InputError(field, "unknown keys %s; accepted: requests, limits" % ", ".join(unknown))
    for section in ("requests", "limits"):
        quantities = resources.get(section) or {}
        if not isinstance(quantities, dict):
            raise InputError("%s.%s" % (field, section), "must be a mapping of resource names to quantities")
        for name, value in quantities.items():
            check_quantity("%s.%s.%s" % (field, section, name), value)
    return resources


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
    for field, pattern, accepted in (("apiVersion", API_VERSION, "v1 or GROUP/VERSION such as apps/v1"),
                                     ("kind", KIND, "a CamelCase name of letters and digits such as ConfigMap")):
        value = manifest.get(field)
        if not isinstance(value, str) or not value:
            problems.append((field, "%s is required (a non-empty string)" % field))
        elif not pattern.match(value):
            problems.append((field, "%s %r is not accepted; accepted: %s" % (field, value, accepted)))
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
    """'1.33' from '1.33', 'v1.33.2' or None (the newest schema kubernetes-validate ships, as major.minor)."""
    if not kubernetes_version:
        if not HAS_KUBERNETES_VALIDATE:
            raise AccelciError(missing_required_lib("kubernetes-validate"), exception=KUBERNETES_VALIDATE_IMP_ERR)
        # latest_version() is the schema directory's full name ('1.37.0'); versions are compared as major.minor.
        return kv_utils.major_minor(kv_utils.latest_version())
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


def _schema_message(manifest, exc):
    """The schema's complaint, without quoting a Secret's values.

    jsonschema quotes the offending value ("'...' is not of type 'object'"); for a Secret that value may be the
    secret itself, so only the rule that failed is said. Property names (unexpected keys) are not secret.
    """
    if manifest.get("kind") != "Secret" or exc.validator in ("additionalProperties", "required"):
        return exc.message
    rule = _rule_text(exc.validator_value)
    return "the value does not satisfy the schema's %s rule (%s: %s)" % (exc.validator, exc.validator, rule)


def _rule_text(rule):
    """A schema rule's own value, short enough for a message (types and formats, not whole sub-schemas)."""
    if isinstance(rule, (str, int, float, bool)) or rule is None:
        return str(rule)
    if isinstance(rule, list) and all(isinstance(item, str) for item in rule):
        return ", ".join(rule)
    return "see the %s schema" % type(rule).__name__


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
            errors.append("%s: %s: %s (Kubernetes %s schema)" % (ref, path, _schema_message(manifest, exc), version))
        except kv_utils.SchemaNotFoundError:
            if skipped is not None:
                skipped.append("%s: no schema for %s %s in Kubernetes %s (custom resource?); not validated"
                               % (ref, manifest["apiVersion"], manifest["kind"], version))
        except (kv_utils.InvalidSchemaError, kv_utils.VersionNotSupportedError) as exc:
            errors.append("%s: cannot validate: %s" % (ref, to_native(getattr(exc, "message", exc))))
    return errors

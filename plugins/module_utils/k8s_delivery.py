# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Kubernetes objects, delivered one of two ways (the estate's ``accelci_k8s_delivery``):

- ``apply``: server-side apply through the ``kubernetes`` dynamic client, field manager ``accelci-runners``,
  never forcing conflicts unless asked. The live object is read first; only the fields we set are compared to
  decide ``changed`` (plus fields we applied before and no longer set, read from ``managedFields``).
  Check mode reads only.
- ``render``: YAML files under ``<render_dir>/<render_subdir>/<namespace or _cluster>/<kind>-<name>.yaml``,
  written atomically, ``changed`` only when the content differs. Secrets are never rendered: no file is written
  and the result carries a ``note`` listing the keys to create out of band.

Public interface:

- ``kubernetes_argument_spec()`` and ``KUBERNETES_REQUIRED_IF``: the shared options (doc fragment
  ``accelci.runners.kubernetes``).
- ``K8sDelivery(module, params=None)``: ``.ensure(manifest, render_subdir="", secret=False)`` and
  ``.remove(api_version, kind, name, namespace=None, render_subdir="")``; both return
  ``dict(changed, diff={before, after}, path | object, ...)`` and fail the module with a clear message on error.
- ``validate_manifests(manifests, kubernetes_version, skipped=None)``: schema errors from ``kubernetes-validate``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import copy
import json
import os
import re
import tempfile
import traceback

from ansible.module_utils.basic import env_fallback, missing_required_lib
from ansible.module_utils.common.text.converters import to_bytes, to_native, to_text

from ansible_collections.accelci.runners.plugins.module_utils.retries import RETRYABLE_HTTP_CODES, RetryPolicy

try:
    import yaml

    HAS_YAML = True
    YAML_IMP_ERR = None
except ImportError:
    HAS_YAML = False
    YAML_IMP_ERR = traceback.format_exc()

try:
    from kubernetes import config as k8s_config
    from kubernetes.config.config_exception import ConfigException
    from kubernetes.dynamic import DynamicClient
    from kubernetes.dynamic.exceptions import (
        ConflictError,
        DynamicApiError,
        NotFoundError,
        ResourceNotFoundError,
        ResourceNotUniqueError,
    )

    HAS_KUBERNETES = True
    KUBERNETES_IMP_ERR = None
except ImportError:
    HAS_KUBERNETES = False
    KUBERNETES_IMP_ERR = traceback.format_exc()

try:
    import kubernetes_validate
    from kubernetes_validate import utils as kv_utils

    HAS_KUBERNETES_VALIDATE = True
    KUBERNETES_VALIDATE_IMP_ERR = None
except ImportError:
    HAS_KUBERNETES_VALIDATE = False
    KUBERNETES_VALIDATE_IMP_ERR = traceback.format_exc()

FIELD_MANAGER = "accelci-runners"
SECRET_MASK = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
SECRET_KEYS_ANNOTATION = "accelci.io/secret-keys"
CLUSTER_DIR = "_cluster"

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


def kubernetes_argument_spec():
    """The options every module that delivers Kubernetes objects takes (doc fragment accelci.runners.kubernetes)."""
    return dict(
        delivery=dict(type="str", choices=["apply", "render"], default="apply"),
        render_dir=dict(type="path"),
        kubeconfig=dict(type="path", fallback=(env_fallback, ["K8S_AUTH_KUBECONFIG", "KUBECONFIG"])),
        context=dict(type="str", fallback=(env_fallback, ["K8S_AUTH_CONTEXT"])),
        kubernetes_version=dict(type="str"),
        force_conflicts=dict(type="bool", default=False),
    )


# Pass to AnsibleModule(required_if=...) alongside kubernetes_argument_spec().
KUBERNETES_REQUIRED_IF = [("delivery", "render", ["render_dir"])]


def _k8s_retryable(exc):
    """Throttling (429) and server errors (5xx) from the API server are worth another try."""
    return getattr(exc, "status", None) in RETRYABLE_HTTP_CODES


class K8sDeliveryError(Exception):
    """A manifest or the cluster refused; the message names the object and the fix."""


def object_ref(manifest):
    """'Kind namespace/name' (or 'Kind name' for cluster objects), for messages."""
    metadata = (manifest or {}).get("metadata") or {}
    name = metadata.get("name") or "<no name>"
    kind = (manifest or {}).get("kind") or "<no kind>"
    if metadata.get("namespace"):
        return "%s %s/%s" % (kind, metadata["namespace"], name)
    return "%s %s" % (kind, name)


def manifest_errors(manifest):
    """Structural problems that no schema catches the same way: identity fields, names, scope."""
    if not isinstance(manifest, dict):
        return ["a manifest must be a mapping, got %s" % type(manifest).__name__]
    errors = []
    for field in ("apiVersion", "kind"):
        if not isinstance(manifest.get(field), str) or not manifest.get(field):
            errors.append("%s is required (a non-empty string)" % field)
    metadata = manifest.get("metadata")
    if not isinstance(metadata, dict):
        return errors + ["metadata is required (a mapping with at least name)"]
    name = metadata.get("name")
    if not isinstance(name, str) or not name:
        errors.append("metadata.name is required")
    elif len(name) > 253 or not DNS1123_SUBDOMAIN.match(name):
        errors.append("metadata.name %r is not a valid name: lowercase letters, digits, '-' and '.', "
                      "starting and ending with a letter or digit, at most 253 characters" % name)
    namespace = metadata.get("namespace")
    kind = manifest.get("kind")
    if namespace is not None:
        if not isinstance(namespace, str) or len(namespace) > 63 or not DNS1123_LABEL.match(namespace):
            errors.append("metadata.namespace %r is not a valid namespace name: lowercase letters, digits and '-', "
                          "at most 63 characters" % (namespace,))
        elif kind in CLUSTER_SCOPED_KINDS:
            errors.append("%s is cluster-scoped: remove metadata.namespace" % kind)
    elif kind in NAMESPACED_KINDS:
        errors.append("%s is namespaced: set metadata.namespace" % kind)
    return errors


def _schema_version(kubernetes_version):
    """'1.33' from '1.33', 'v1.33.2' or None (the newest schema kubernetes-validate ships)."""
    if not kubernetes_version:
        return kv_utils.latest_version()
    match = KUBERNETES_VERSION.match(str(kubernetes_version).strip())
    if not match:
        raise K8sDeliveryError("kubernetes_version %r is not a version like 1.33" % (kubernetes_version,))
    return "%s.%s" % (match.group(1), match.group(2))


def supported_kubernetes_versions():
    """The Kubernetes minor versions whose schemas kubernetes-validate ships (e.g. ['1.25', ..., '1.37'])."""
    return [kv_utils.major_minor(v) for v in kv_utils.all_versions()]


def _version_key(version):
    return tuple(int(part) for part in version.split("."))


def validate_manifests(manifests, kubernetes_version, skipped=None):
    """Validate manifests against the built-in schemas of one Kubernetes minor version.

    Returns a list of error strings, each naming the object ('Kind ns/name: path: message'); empty when all pass.
    Schemas are strict (unknown fields are errors). Kinds without a built-in schema (custom resources) are not
    validated: they are appended to ``skipped`` (when a list is given) as 'Kind ns/name: no schema for
    apiVersion/kind in Kubernetes X.Y (custom resource?)'.
    """
    if not HAS_KUBERNETES_VALIDATE:
        raise K8sDeliveryError(missing_required_lib("kubernetes-validate"))
    version = _schema_version(kubernetes_version)
    supported = supported_kubernetes_versions()
    if _version_key(version) < _version_key(supported[0]) or _version_key(version) > _version_key(supported[-1]):
        raise K8sDeliveryError("kubernetes_version %s is outside what kubernetes-validate %s knows (%s to %s)"
                               % (version, kubernetes_validate.version.__version__, supported[0], supported[-1]))
    errors = []
    for manifest in manifests:
        ref = object_ref(manifest if isinstance(manifest, dict) else {})
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


def render_path(render_dir, render_subdir, manifest):
    """Where render mode writes one object."""
    metadata = manifest.get("metadata") or {}
    folder = metadata.get("namespace") or CLUSTER_DIR
    filename = "%s-%s.yaml" % (manifest["kind"].lower(), metadata["name"])
    parts = [render_dir]
    if render_subdir:
        parts.append(render_subdir)
    parts += [folder, filename]
    return os.path.join(*parts)


def is_secret(manifest, secret=False):
    """True for a Secret or anything the caller marks secret."""
    return bool(secret) or (manifest or {}).get("kind") == "Secret"


def secret_values(manifest, public_keys=()):
    """Every secret value in a Secret-like manifest, in clear and base64 forms (for no_log_values).

    ``public_keys`` are data keys holding identifiers rather than secrets (a GitHub App ID): they stay masked in
    diffs but are not added to no_log_values, where a short number would mask unrelated output.
    """
    values = set()
    for key in ("data", "stringData"):
        for data_key, value in ((manifest or {}).get(key) or {}).items():
            if value is None or data_key in public_keys:
                continue
            text = to_text(value)
            values.add(text)
            if key == "data":
                try:
                    values.add(to_text(base64.b64decode(text, validate=True)))
                except (ValueError, TypeError, UnicodeDecodeError):
                    pass
            else:
                values.add(to_text(base64.b64encode(to_bytes(text))))
    return set(v for v in values if v)


def mask_secret(manifest):
    """A copy with every data/stringData value replaced by a mask (keys kept)."""
    if manifest is None:
        return None
    masked = copy.deepcopy(manifest)
    for key in ("data", "stringData"):
        if isinstance(masked.get(key), dict):
            masked[key] = dict((k, SECRET_MASK) for k in masked[key])
    return masked


def secret_as_data(manifest):
    """stringData folded into data (base64), as the API server stores it, so a live Secret compares equal."""
    result = copy.deepcopy(manifest)
    string_data = result.pop("stringData", None) or {}
    if string_data:
        data = dict(result.get("data") or {})
        for key, value in string_data.items():
            data[key] = to_text(base64.b64encode(to_bytes(value)))
        result["data"] = data
    return result


def _is_empty(value):
    return value is None or value == {} or value == [] or value == ""


def subset_differences(desired, live, path=""):
    """Paths where the live object differs from what we set; fields we do not set are ignored.

    Lists are compared item by item (same length required); empty values we set match absent live values.
    """
    if isinstance(desired, dict):
        if not isinstance(live, dict):
            return [] if (_is_empty(desired) and live is None) else [path or "."]
        found = []
        for key, value in desired.items():
            sub = "%s.%s" % (path, key) if path else key
            if key not in live:
                if not _is_empty(value):
                    found.append(sub)
                continue
            found.extend(subset_differences(value, live[key], sub))
        return found
    if isinstance(desired, list):
        if not isinstance(live, list):
            return [] if (desired == [] and live is None) else [path or "."]
        if len(desired) != len(live):
            return [path]
        found = []
        for index, (want, have) in enumerate(zip(desired, live)):
            found.extend(subset_differences(want, have, "%s[%d]" % (path, index)))
        return found
    if desired != live and not (desired == "" and live is None):
        return [path or "."]
    return []


def _list_item_matches(item, key_json):
    """A managedFields 'k:{...}' key names a list item by its merge-key fields."""
    if not isinstance(item, dict):
        return False
    return all(item.get(k) == v for k, v in key_json.items())


def managed_field_removals(fields_v1, desired, path=""):
    """Fields our field manager applied before (managedFields fieldsV1) that the desired manifest no longer sets.

    Server-side apply removes those, so they count as a change.
    """
    removals = []
    if not isinstance(fields_v1, dict):
        return removals
    for key, sub in fields_v1.items():
        if key == ".":
            continue
        if key.startswith("f:"):
            name = key[2:]
            child_path = "%s.%s" % (path, name) if path else name
            if not isinstance(desired, dict) or name not in desired:
                children = [k for k in (sub or {}) if k != "."]
                # Name the leaves we owned, not just the first missing parent.
                removals.extend(managed_field_removals(sub, {}, child_path) if children else [child_path])
            elif sub:
                removals.extend(managed_field_removals(sub, desired[name], child_path))
        elif key.startswith("k:"):
            try:
                key_json = json.loads(key[2:])
            except ValueError:
                continue
            items = desired if isinstance(desired, list) else []
            match = next((item for item in items if _list_item_matches(item, key_json)), None)
            child_path = "%s[%s]" % (path, key[2:])
            if match is None:
                removals.append(child_path)
            elif sub:
                removals.extend(managed_field_removals(sub, match, child_path))
        elif key.startswith("v:"):
            try:
                value = json.loads(key[2:])
            except ValueError:
                continue
            if not isinstance(desired, list) or value not in desired:
                removals.append("%s[%s]" % (path, key[2:]))
        # 'i:' (index) keys are not produced for apply; ignore anything else.
    return removals


def project_onto(live, desired):
    """The part of a live object that covers the fields we set (for diff 'before')."""
    if isinstance(desired, dict) and isinstance(live, dict):
        return dict((k, project_onto(live[k], v)) for k, v in desired.items() if k in live)
    if isinstance(desired, list) and isinstance(live, list):
        return [project_onto(have, desired[i]) if i < len(desired) else have for i, have in enumerate(live)]
    return live


def dump_yaml(manifest):
    """Deterministic YAML for one object (keys in the order given, block style)."""
    return yaml.safe_dump(manifest, default_flow_style=False, sort_keys=False, allow_unicode=True)


def write_atomic(path, content, mode=0o644):
    """Write a file through a temporary file in the same directory and rename it into place."""
    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(to_bytes(content))
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except Exception:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _api_error_text(exc):
    """'HTTP 409 Conflict: message' from a kubernetes ApiException."""
    status = getattr(exc, "status", None)
    reason = getattr(exc, "reason", None) or ""
    message = ""
    body = getattr(exc, "body", None)
    if body:
        try:
            message = json.loads(to_text(body)).get("message", "")
        except (ValueError, AttributeError):
            message = to_text(body)[:500]
    text = ("HTTP %s %s" % (status, reason)).strip()
    return "%s: %s" % (text, message) if message else text


class K8sDelivery(object):
    """Ensure or remove Kubernetes objects by server-side apply or by rendering files.

    ``module`` is the AnsibleModule (check mode, fail_json, no_log_values, tmpdir); ``params`` holds the
    kubernetes_argument_spec() options (defaults to module.params).
    """

    def __init__(self, module, params=None):
        self.module = module
        self.params = dict(params if params is not None else module.params)
        self.delivery = self.params.get("delivery") or "apply"
        self.check_mode = bool(getattr(module, "check_mode", False))
        self._dynamic = None
        base = float(os.environ.get("ACCELCI_RETRY_BASE_SECONDS", "1.0"))
        self.retry_policy = RetryPolicy(timeout=60.0, base=base, predicate=_k8s_retryable)
        if not HAS_YAML:
            self.fail(missing_required_lib("PyYAML"), exception=YAML_IMP_ERR)
        if self.delivery not in ("apply", "render"):
            self.fail("delivery must be apply or render, got %r" % (self.delivery,))
        if self.delivery == "render" and not self.params.get("render_dir"):
            self.fail("delivery=render needs render_dir (where the manifests are written)")

    # -- shared -----------------------------------------------------------------------------------------------

    def fail(self, msg, **extra):
        """Fail the module (the single exit for errors)."""
        self.module.fail_json(msg=msg, **extra)

    def _check(self, manifest):
        problems = manifest_errors(manifest)
        if problems:
            self.fail("Invalid manifest %s: %s" % (object_ref(manifest if isinstance(manifest, dict) else {}),
                                                   "; ".join(problems)))

    def _protect(self, manifest, secret, public_keys=()):
        if is_secret(manifest, secret):
            values = secret_values(manifest, public_keys)
            no_log_values = getattr(self.module, "no_log_values", None)
            if no_log_values is not None:
                no_log_values.update(values)

    def ensure(self, manifest, render_subdir="", secret=False, public_keys=()):
        """Make one object present as given. Returns dict(changed, diff, path (render) or object (apply), ...).

        ``public_keys``: Secret data keys that are identifiers, not secrets (see secret_values).
        """
        self._check(manifest)
        self._protect(manifest, secret, public_keys)
        if self.delivery == "render":
            return self._render(manifest, render_subdir, secret)
        return self._apply(manifest, secret)

    def remove(self, api_version, kind, name, namespace=None, render_subdir=""):
        """Make one object absent (render: delete its file). Returns dict(changed, diff, path or object)."""
        manifest = {"apiVersion": api_version, "kind": kind, "metadata": {"name": name}}
        if namespace:
            manifest["metadata"]["namespace"] = namespace
        if self.delivery == "render":
            return self._unrender(manifest, render_subdir)
        return self._delete(manifest)

    def read(self, api_version, kind, name, namespace=None, render_subdir=""):
        """The object as it is now: live (apply) or as last rendered (render); None when absent.

        Secret values are masked. Never writes.
        """
        manifest = {"apiVersion": api_version, "kind": kind, "metadata": {"name": name}}
        if namespace:
            manifest["metadata"]["namespace"] = namespace
        self._check(manifest)
        if self.delivery == "render":
            path = render_path(self.params["render_dir"], render_subdir, manifest)
            if not os.path.exists(path):
                return None
            with open(path, "rb") as handle:
                try:
                    found = yaml.safe_load(handle.read())
                except yaml.YAMLError as exc:
                    self.fail("Rendered file %s is not valid YAML: %s" % (path, to_native(exc)))
        else:
            resource = self._resource(manifest)
            found = self._read(resource, manifest, self._namespace_for(resource, manifest))
            if found is not None:
                found.get("metadata", {}).pop("managedFields", None)
        if found is not None and kind == "Secret":
            found = mask_secret(found)
        return found

    # -- render -----------------------------------------------------------------------------------------------

    def _render(self, manifest, render_subdir, secret):
        path = render_path(self.params["render_dir"], render_subdir, manifest)
        if is_secret(manifest, secret):
            # Secret values never reach the render directory. No file at all: a values-less Secret picked up by
            # a GitOps tool would be applied as an empty Secret. The note says what to create instead.
            keys = sorted(set((manifest.get("data") or {}).keys()) | set((manifest.get("stringData") or {}).keys()))
            note = ("%s is a secret and is not rendered; create it out of band (kubectl create secret, SOPS, "
                    "Sealed Secrets or External Secrets) with the keys: %s"
                    % (object_ref(manifest), ", ".join(keys) or "(none)"))
            return dict(changed=False, path=None, rendered=False, note=note, secret_keys=keys,
                        diff=dict(before=None, after=None))
        content = dump_yaml(manifest)
        before_text = None
        if os.path.exists(path):
            with open(path, "rb") as handle:
                before_text = to_text(handle.read())
        changed = before_text != content
        if changed and not self.check_mode:
            try:
                write_atomic(path, content)
            except OSError as exc:
                self.fail("Failed to render %s to %s: %s" % (object_ref(manifest), path, to_native(exc)))
        before = None
        if before_text is not None:
            try:
                before = yaml.safe_load(before_text)
            except yaml.YAMLError:
                before = before_text
        return dict(changed=changed, path=path, rendered=True, diff=dict(before=before, after=manifest))

    def _unrender(self, manifest, render_subdir):
        path = render_path(self.params["render_dir"], render_subdir, manifest)
        if not os.path.exists(path):
            return dict(changed=False, path=path, diff=dict(before=None, after=None))
        with open(path, "rb") as handle:
            try:
                before = yaml.safe_load(handle.read())
            except yaml.YAMLError:
                before = None
        if not self.check_mode:
            try:
                os.unlink(path)
            except OSError as exc:
                self.fail("Failed to remove %s: %s" % (path, to_native(exc)))
        return dict(changed=True, path=path, diff=dict(before=before, after=None))

    # -- apply ------------------------------------------------------------------------------------------------

    @property
    def dynamic(self):
        """The dynamic client, created on first use (render mode never needs the kubernetes library)."""
        if self._dynamic is None:
            if not HAS_KUBERNETES:
                self.fail(missing_required_lib("kubernetes"), exception=KUBERNETES_IMP_ERR)
            api_client = self._api_client()
            # Discovery is cached per run (in the module's temporary dir), not in a shared file under /tmp.
            cache_dir = getattr(self.module, "tmpdir", None) or tempfile.gettempdir()
            cache_file = os.path.join(cache_dir, "accelci-k8s-discovery-%d.json" % os.getpid())
            try:
                self._dynamic = DynamicClient(api_client, cache_file=cache_file)
            except DynamicApiError as exc:
                self.fail("Failed to reach the Kubernetes API (discovery): %s" % _api_error_text(exc))
            except Exception as exc:  # urllib3 connection errors and the like
                self.fail("Failed to reach the Kubernetes API at %s: %s"
                          % (api_client.configuration.host, to_native(exc)))
        return self._dynamic

    def _api_client(self):
        kubeconfig = self.params.get("kubeconfig")
        context = self.params.get("context")
        try:
            if not kubeconfig and not context and os.environ.get("KUBERNETES_SERVICE_HOST"):
                k8s_config.load_incluster_config()
                from kubernetes import client as k8s_client

                return k8s_client.ApiClient()
            return k8s_config.new_client_from_config(config_file=kubeconfig, context=context)
        except (ConfigException, OSError, ValueError) as exc:
            self.fail("No Kubernetes access: %s. Set kubeconfig (or K8S_AUTH_KUBECONFIG / KUBECONFIG) and context "
                      "(or K8S_AUTH_CONTEXT), or use delivery=render." % to_native(exc))

    def _resource(self, manifest):
        try:
            return self.dynamic.resources.get(api_version=manifest["apiVersion"], kind=manifest["kind"])
        except ResourceNotFoundError:
            self.fail("The cluster does not serve %s %s (needed for %s): is its CRD installed?"
                      % (manifest["apiVersion"], manifest["kind"], object_ref(manifest)))
        except ResourceNotUniqueError:
            self.fail("The cluster serves more than one %s %s" % (manifest["apiVersion"], manifest["kind"]))
        except DynamicApiError as exc:
            self.fail("Failed to discover %s %s: %s" % (manifest["apiVersion"], manifest["kind"],
                                                        _api_error_text(exc)))

    def _namespace_for(self, resource, manifest):
        namespace = (manifest.get("metadata") or {}).get("namespace")
        if resource.namespaced and not namespace:
            self.fail("%s is namespaced: set metadata.namespace" % object_ref(manifest))
        if not resource.namespaced and namespace:
            self.fail("%s is cluster-scoped: remove metadata.namespace" % object_ref(manifest))
        return namespace if resource.namespaced else None

    def _read(self, resource, manifest, namespace):
        name = manifest["metadata"]["name"]
        try:
            return self.retry_policy.call(resource.get, name=name, namespace=namespace).to_dict()
        except NotFoundError:
            return None
        except DynamicApiError as exc:
            self.fail("Failed to read %s: %s" % (object_ref(manifest), _api_error_text(exc)))

    @staticmethod
    def _our_fields(live):
        """fieldsV1 of our Apply entry in managedFields, or None."""
        for entry in ((live or {}).get("metadata") or {}).get("managedFields") or []:
            if entry.get("manager") == FIELD_MANAGER and entry.get("operation") == "Apply":
                return entry.get("fieldsV1") or {}
        return None

    def _apply(self, manifest, secret):
        resource = self._resource(manifest)
        namespace = self._namespace_for(resource, manifest)
        secret_kind = is_secret(manifest, secret)
        desired = secret_as_data(manifest) if manifest.get("kind") == "Secret" else manifest
        live = self._read(resource, manifest, namespace)
        if live is None:
            differences, removals = ["(new object)"], []
        else:
            differences = subset_differences(desired, live)
            our_fields = self._our_fields(live)
            removals = managed_field_removals(our_fields, desired) if our_fields else []
        changed = bool(differences or removals)
        before = project_onto(live, desired) if live is not None else None
        result_object = live
        if changed and not self.check_mode:
            try:
                force = "true" if self.params.get("force_conflicts") else "false"
                applied = self.retry_policy.call(
                    self.dynamic.server_side_apply, resource, body=desired, name=manifest["metadata"]["name"],
                    namespace=namespace, field_manager=FIELD_MANAGER, force_conflicts=force,
                )
                result_object = applied.to_dict()
            except ConflictError as exc:
                self.fail("Failed to apply %s: %s. Another field manager owns these fields; change them there, "
                          "or set force_conflicts=true to take them over." % (object_ref(manifest),
                                                                              _api_error_text(exc)))
            except DynamicApiError as exc:
                self.fail("Failed to apply %s: %s" % (object_ref(manifest), _api_error_text(exc)))
        if result_object is None:
            result_object = desired
        after = desired
        if secret_kind:
            before, after, result_object = mask_secret(before), mask_secret(after), mask_secret(result_object)
        return dict(changed=changed, object=result_object, method="create" if live is None else "apply",
                    differences=differences, removed_fields=removals, diff=dict(before=before, after=after))

    def _delete(self, manifest):
        resource = self._resource(manifest)
        namespace = self._namespace_for(resource, manifest)
        live = self._read(resource, manifest, namespace)
        if live is None:
            return dict(changed=False, object=None, diff=dict(before=None, after=None))
        if manifest["kind"] == "Secret":
            live = mask_secret(live)
        if not self.check_mode:
            try:
                self.retry_policy.call(self.dynamic.delete, resource, name=manifest["metadata"]["name"],
                                       namespace=namespace, propagation_policy="Background")
            except NotFoundError:
                pass
            except DynamicApiError as exc:
                self.fail("Failed to delete %s: %s" % (object_ref(manifest), _api_error_text(exc)))
        live.get("metadata", {}).pop("managedFields", None)
        return dict(changed=True, object=None, diff=dict(before=live, after=None))


def run_k8s_objects(module):
    """The k8s_objects module: validate every object, then ensure or remove each one; returns the result dict."""
    params = module.params
    objects = params["objects"]
    problems = []
    for index, manifest in enumerate(objects):
        found = manifest_errors(manifest)
        if found:
            problems.append("objects[%d] (%s): %s" % (index, object_ref(manifest), "; ".join(found)))
    if problems:
        module.fail_json(msg="Invalid manifests: %s" % "; ".join(problems))
    skipped = []
    if params["state"] == "present":
        try:
            errors = validate_manifests(objects, params.get("kubernetes_version"), skipped=skipped)
        except K8sDeliveryError as exc:
            module.fail_json(msg=to_native(exc))
        if errors:
            module.fail_json(msg="Objects do not validate for Kubernetes %s: %s"
                             % (_schema_version(params.get("kubernetes_version")), "; ".join(errors)),
                             validation_errors=errors)
    delivery = K8sDelivery(module)
    results = []
    for manifest in objects:
        metadata = manifest.get("metadata") or {}
        if params["state"] == "present":
            outcome = delivery.ensure(manifest, render_subdir=params.get("render_subdir") or "")
        else:
            outcome = delivery.remove(manifest["apiVersion"], manifest["kind"], metadata["name"],
                                      metadata.get("namespace"), render_subdir=params.get("render_subdir") or "")
        outcome["ref"] = object_ref(manifest)
        results.append(outcome)
    result = dict(changed=any(r["changed"] for r in results), skipped_validation=skipped)
    if module._diff:
        result["diff"] = [dict(before_header=r["ref"], after_header=r["ref"], **r["diff"]) for r in results]
    for outcome in results:
        outcome.pop("diff", None)
    result["objects"] = results
    return result

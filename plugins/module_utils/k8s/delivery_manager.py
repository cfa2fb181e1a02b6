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
- ``K8sDelivery(module, params=None)``: ``.ensure(manifest, render_subdir="", secret=False)``,
  ``.remove(api_version, kind, name, namespace=None, render_subdir="")`` and ``.read(...)``; they return
  ``dict(changed, diff={before, after}, path | object, ...)`` and raise ``InputError`` for a bad manifest,
  ``K8sDeliveryError`` when the cluster refuses or a file cannot be written.
- ``run_k8s_objects(module)``: the k8s_objects module (validate every object, then ensure or remove each).

Checks live in ``k8s.validation``, manifest comparisons and Secret handling in ``k8s.manifests``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import tempfile
import traceback

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib
from ansible.module_utils.common.text.converters import to_native, to_text

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import AccelciError, ApiError, InputError
from ansible_collections.accelci.runners.plugins.module_utils._common.files import read_text, write_atomic
from ansible_collections.accelci.runners.plugins.module_utils._common.numbers import whole_number
from ansible_collections.accelci.runners.plugins.module_utils._common.retries import (
    PERMANENT_UNREACHABLE_REASONS,
    RETRYABLE_HTTP_CODES,
    RetryPolicy,
    unreachable_reason,
)
from ansible_collections.accelci.runners.plugins.module_utils._common.yaml_text import (
    HAS_YAML,
    YAML_IMP_ERR,
    YAMLError,
    dump_yaml,
    load_yaml,
)
from ansible_collections.accelci.runners.plugins.module_utils.k8s.manifests import (
    check_render_subdir,
    is_secret,
    managed_field_removals,
    mask_secret,
    mask_text,
    project_onto,
    render_path,
    secret_as_data,
    secret_values,
    subset_differences,
)
from ansible_collections.accelci.runners.plugins.module_utils.k8s.validation import (
    manifest_problems,
    object_ref,
    schema_version,
    validate_manifests,
)

try:
    import urllib3
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
    # No HTTP answer at all: refused, reset, a name that does not resolve, a timeout (urllib3 after its own tries).
    _TRANSPORT_ERRORS = (urllib3.exceptions.HTTPError, ConnectionError)
except ImportError:
    HAS_KUBERNETES = False
    KUBERNETES_IMP_ERR = traceback.format_exc()
    _TRANSPORT_ERRORS = (ConnectionError,)

FIELD_MANAGER = "accelci-runners"
# Seconds to keep retrying an API server that throttles, fails or cannot be reached (option retry_timeout).
DEFAULT_RETRY_TIMEOUT = 60


def kubernetes_argument_spec():
    """The options every module that delivers Kubernetes objects takes (doc fragment accelci.runners.kubernetes)."""
    return dict(
        delivery=dict(type="str", choices=["apply", "render"], default="apply"),
        render_dir=dict(type="path"),
        kubeconfig=dict(type="path", fallback=(env_fallback, ["K8S_AUTH_KUBECONFIG", "KUBECONFIG"])),
        context=dict(type="str", fallback=(env_fallback, ["K8S_AUTH_CONTEXT"])),
        kubernetes_version=dict(type="str"),
        force_conflicts=dict(type="bool", default=False),
        retry_timeout=dict(type="int", default=DEFAULT_RETRY_TIMEOUT,
                           fallback=(env_fallback, ["ACCELCI_K8S_RETRY_TIMEOUT"])),
    )


# Pass to AnsibleModule(required_if=...) alongside kubernetes_argument_spec().
KUBERNETES_REQUIRED_IF = [("delivery", "render", ["render_dir"])]


class K8sDeliveryError(ApiError):
    """The cluster refused or could not be reached, or a rendered file could not be written; the message names
    the object and the fix."""


def _unreachable(exc):
    """Why the API server gave no HTTP answer ('connection refused', ...), or None when it answered.

    The kubernetes client raises urllib3's own errors for a refused or reset connection, and an ApiException with
    status 0 for a TLS failure."""
    if isinstance(exc, _TRANSPORT_ERRORS) or getattr(exc, "status", None) == 0:
        return unreachable_reason(exc) or type(exc).__name__
    return None


def _k8s_retryable(exc):
    """Throttling (429), server errors (5xx) and an API server not reached (a restarting control plane refuses
    connections for a while) are worth another try; an untrusted certificate is not."""
    if getattr(exc, "status", None) in RETRYABLE_HTTP_CODES:
        return True
    reason = _unreachable(exc)
    return reason is not None and reason not in PERMANENT_UNREACHABLE_REASONS


def _checked(manifest):
    """Raise InputError (field: the path in the manifest) for a manifest no cluster would take."""
    problems = manifest_problems(manifest)
    if problems:
        raise InputError(problems[0][0] or "manifest", "Invalid manifest %s: %s"
                         % (object_ref(manifest), "; ".join(message for _path, message in problems)))
    return manifest


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


def _identity(api_version, kind, name, namespace=None):
    manifest = {"apiVersion": api_version, "kind": kind, "metadata": {"name": name}}
    if namespace:
        manifest["metadata"]["namespace"] = namespace
    return manifest


def _secret_note(manifest):
    """Why a Secret was not rendered, and the keys to create out of band."""
    keys = sorted(set((manifest.get("data") or {}).keys()) | set((manifest.get("stringData") or {}).keys()))
    note = ("%s is a secret and is not rendered; create it out of band (kubectl create secret, SOPS, Sealed Secrets "
            "or External Secrets) with the keys: %s" % (object_ref(manifest), ", ".join(keys) or "(none)"))
    return note, keys


def _load_rendered(text):
    """A rendered file's object, or its text when it is not YAML (None for no file)."""
    if text is None:
        return None
    try:
        return load_yaml(text)
    except YAMLError:
        return text


class K8sDelivery(object):
    """Ensure or remove Kubernetes objects by server-side apply or by rendering files.

    ``module`` is the AnsibleModule (check mode, no_log_values, tmpdir); ``params`` holds the
    kubernetes_argument_spec() options (defaults to module.params). API calls are retried on 429, 5xx and an API
    server not reached, through ``retry_policy``, for up to ``retry_timeout`` seconds (a minute by default).
    """

    def __init__(self, module, params=None):
        self.module = module
        self.params = dict(params if params is not None else module.params)
        self.delivery = self.params.get("delivery") or "apply"
        self.check_mode = bool(getattr(module, "check_mode", False))
        self._dynamic = None
        self._kube_client = None
        retry_timeout = self.params.get("retry_timeout")
        if retry_timeout is None:
            retry_timeout = DEFAULT_RETRY_TIMEOUT
        retry_timeout = whole_number("retry_timeout", retry_timeout)
        self.retry_policy = RetryPolicy(timeout=float(retry_timeout), predicate=_k8s_retryable)
        if not HAS_YAML:
            raise AccelciError(missing_required_lib("PyYAML"), exception=YAML_IMP_ERR)
        if self.delivery not in ("apply", "render"):
            raise InputError("delivery", "must be apply or render, got %r" % (self.delivery,))
        if self.delivery == "render" and not self.params.get("render_dir"):
            raise InputError("render_dir", "delivery=render needs render_dir (where the manifests are written)")

    # -- shared -----------------------------------------------------------------------------------------------

    def _fail(self, msg, **extra):
        """Raise the error the module's main() reports (the single exit for errors)."""
        raise K8sDeliveryError(msg, **extra)

    def _call(self, action, func, *args, **kwargs):
        """func(*args, **kwargs) under the retry policy; an API server still not reached at the deadline fails
        naming it, the reason and the attempts made (API errors are the caller's to describe)."""
        attempts = []
        try:
            return self.retry_policy.call(func, *args, on_retry=lambda *_: attempts.append(1), **kwargs)
        except Exception as exc:  # only an unreachable server is handled here
            reason = _unreachable(exc)
            if reason is None:
                raise
            host = getattr(getattr(self._kube_client, "configuration", None), "host", None) or "(unknown)"
            tries = len(attempts) + 1
            self._fail("Failed to %s: the Kubernetes API at %s could not be reached: %s (%d attempt%s over %d s); "
                       "check kubeconfig and context, the network and any proxy"
                       % (action, host, reason, tries, "" if tries == 1 else "s", self.retry_policy.timeout),
                       endpoint=host)

    def _protect(self, manifest, secret, public_keys=()):
        if is_secret(manifest, secret):
            no_log_values = getattr(self.module, "no_log_values", None)
            if no_log_values is not None:
                no_log_values.update(secret_values(manifest, public_keys))

    def ensure(self, manifest, render_subdir="", secret=False, public_keys=(), always_apply=False):
        """Make one object present as given. Returns dict(changed, diff, path (render) or object (apply), ...).

        ``public_keys``: Secret data keys that are identifiers, not secrets (see manifests.secret_values).
        ``always_apply``: send the apply even when the comparison finds no difference, and tell ``changed`` by the
        object's resourceVersion. For objects with atomic lists (a CRD's spec.versions), where a field removed
        inside a list item leaves the desired object a subset of the live one.
        """
        _checked(manifest)
        self._protect(manifest, secret, public_keys)
        if self.delivery == "render":
            return self._render(manifest, render_subdir, secret)
        return self._apply(manifest, secret, always_apply)

    def remove(self, api_version, kind, name, namespace=None, render_subdir=""):
        """Make one object absent (render: delete its file). Returns dict(changed, diff, path or object)."""
        manifest = _identity(api_version, kind, name, namespace)
        if self.delivery == "render":
            return self._unrender(manifest, render_subdir)
        return self._delete(manifest)

    def read(self, api_version, kind, name, namespace=None, render_subdir=""):
        """The object as it is now: live (apply) or as last rendered (render); None when absent.

        Secret values are masked. Never writes.
        """
        manifest = _checked(_identity(api_version, kind, name, namespace))
        if self.delivery == "render":
            path = render_path(self.params["render_dir"], render_subdir, manifest)
            try:
                found = load_yaml(read_text(path))
            except YAMLError as exc:
                self._fail("Rendered file %s is not valid YAML: %s" % (path, to_native(exc)))
        else:
            resource = self._resource(manifest)
            found = self._read(resource, manifest, self._namespace_for(resource, manifest))
            if found is not None:
                found.get("metadata", {}).pop("managedFields", None)
        if found is not None and kind == "Secret":
            found = mask_secret(found)
        return found

    def list(self, api_version, kind, namespace=None, label_selector=None):
        """The live objects of a kind (in ``namespace`` when given), as dicts without managedFields; [] when the
        cluster does not serve the kind. Apply only; Secret values are masked. Never writes."""
        if self.delivery != "apply":
            return []
        try:
            resource = self.dynamic.resources.get(api_version=api_version, kind=kind)
        except ResourceNotFoundError:
            return []
        try:
            items = self._call("list %s %s" % (api_version, kind), resource.get, namespace=namespace,
                               label_selector=label_selector).to_dict()
        except DynamicApiError as exc:
            self._fail("Failed to list %s %s: %s" % (api_version, kind, _api_error_text(exc)))
        found = []
        for item in items.get("items") or []:
            item.get("metadata", {}).pop("managedFields", None)
            found.append(mask_secret(item) if kind == "Secret" else item)
        return found

    def terminating(self, api_version, kind, namespace):
        """[(name, finalizers, deletionTimestamp)] of the objects of a kind in ``namespace`` that are being deleted
        (apply only; [] when the cluster does not serve the kind). For reporting what holds a deletion."""
        if self.delivery != "apply":
            return []
        try:
            resource = self.dynamic.resources.get(api_version=api_version, kind=kind)
            items = self._call("list %s %s" % (api_version, kind), resource.get, namespace=namespace).to_dict()
        except (ResourceNotFoundError, DynamicApiError):
            return []
        found = []
        for item in items.get("items") or []:
            metadata = item.get("metadata") or {}
            if metadata.get("deletionTimestamp"):
                found.append((metadata.get("name"), list(metadata.get("finalizers") or []),
                              metadata["deletionTimestamp"]))
        return found

    # -- render -----------------------------------------------------------------------------------------------

    def _render(self, manifest, render_subdir, secret):
        if is_secret(manifest, secret):
            # Secret values never reach the render directory. No file at all: a values-less Secret picked up by
            # a GitOps tool would be applied as an empty Secret. The note says what to create instead.
            note, keys = _secret_note(manifest)
            return dict(changed=False, path=None, rendered=False, note=note, secret_keys=keys,
                        diff=dict(before=None, after=None))
        path = render_path(self.params["render_dir"], render_subdir, manifest)
        content = dump_yaml(manifest)
        before_text = read_text(path)
        changed = before_text != content
        if changed and not self.check_mode:
            try:
                write_atomic(path, content)
            except OSError as exc:
                self._fail("Failed to render %s to %s: %s" % (object_ref(manifest), path, to_native(exc)))
        return dict(changed=changed, path=path, rendered=True,
                    diff=dict(before=_load_rendered(before_text), after=manifest))

    def _unrender(self, manifest, render_subdir):
        path = render_path(self.params["render_dir"], render_subdir, manifest)
        before_text = read_text(path)
        if before_text is None:
            return dict(changed=False, path=path, diff=dict(before=None, after=None))
        before = _load_rendered(before_text)
        if not self.check_mode:
            try:
                os.unlink(path)
            except OSError as exc:
                self._fail("Failed to remove %s: %s" % (path, to_native(exc)))
        return dict(changed=True, path=path, diff=dict(before=before if isinstance(before, dict) else None,
                                                       after=None))

    # -- apply ------------------------------------------------------------------------------------------------

    @property
    def dynamic(self):
        """The dynamic client, created on first use (render mode never needs the kubernetes library)."""
        if self._dynamic is None:
            if not HAS_KUBERNETES:
                raise AccelciError(missing_required_lib("kubernetes"), exception=KUBERNETES_IMP_ERR)
            api_client = self._kube_client = self._api_client()
            # Discovery is cached per run (in the module's temporary dir), not in a shared file under /tmp.
            cache_dir = getattr(self.module, "tmpdir", None) or tempfile.gettempdir()
            cache_file = os.path.join(cache_dir, "accelci-k8s-discovery-%d.json" % os.getpid())
            try:
                self._dynamic = self._call("discover the Kubernetes API", DynamicClient, api_client,
                                           cache_file=cache_file)
            except DynamicApiError as exc:
                self._fail("Failed to discover the Kubernetes API at %s: %s"
                           % (api_client.configuration.host, _api_error_text(exc)))
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
            self._fail("No Kubernetes access: %s. Set kubeconfig (or K8S_AUTH_KUBECONFIG / KUBECONFIG) and context "
                       "(or K8S_AUTH_CONTEXT), or use delivery=render." % to_native(exc))

    def _resource(self, manifest):
        try:
            return self._call("discover %s %s" % (manifest["apiVersion"], manifest["kind"]),
                              self.dynamic.resources.get, api_version=manifest["apiVersion"], kind=manifest["kind"])
        except ResourceNotFoundError:
            self._fail("The cluster does not serve %s %s (needed for %s): is its CRD installed?"
                       % (manifest["apiVersion"], manifest["kind"], object_ref(manifest)))
        except ResourceNotUniqueError:
            self._fail("The cluster serves more than one %s %s" % (manifest["apiVersion"], manifest["kind"]))
        except DynamicApiError as exc:
            self._fail("Failed to discover %s %s: %s" % (manifest["apiVersion"], manifest["kind"],
                                                         _api_error_text(exc)))

    @staticmethod
    def _namespace_for(resource, manifest):
        """The namespace to address the object in, checked against the scope the cluster serves it with."""
        namespace = (manifest.get("metadata") or {}).get("namespace")
        if resource.namespaced and not namespace:
            raise InputError("metadata.namespace", "%s is namespaced: set metadata.namespace" % object_ref(manifest))
        if not resource.namespaced and namespace:
            raise InputError("metadata.namespace", "%s is cluster-scoped: remove metadata.namespace"
                             % object_ref(manifest))
        return namespace if resource.namespaced else None

    def _read(self, resource, manifest, namespace):
        name = manifest["metadata"]["name"]
        try:
            return self._call("read %s" % object_ref(manifest), resource.get, name=name,
                              namespace=namespace).to_dict()
        except NotFoundError:
            return None
        except DynamicApiError as exc:
            self._fail("Failed to read %s: %s" % (object_ref(manifest), _api_error_text(exc)))

    @staticmethod
    def _our_fields(live):
        """fieldsV1 of our Apply entry in managedFields, or None."""
        for entry in ((live or {}).get("metadata") or {}).get("managedFields") or []:
            if entry.get("manager") == FIELD_MANAGER and entry.get("operation") == "Apply":
                return entry.get("fieldsV1") or {}
        return None

    def _server_side_apply(self, resource, manifest, desired, namespace):
        """Apply ``desired``; returns the object the API server answered with."""
        try:
            force = "true" if self.params.get("force_conflicts") else "false"
            applied = self._call(
                "apply %s" % object_ref(manifest), self.dynamic.server_side_apply, resource, body=desired,
                name=manifest["metadata"]["name"], namespace=namespace, field_manager=FIELD_MANAGER,
                force_conflicts=force,
            )
            return applied.to_dict()
        except ConflictError as exc:
            self._fail("Failed to apply %s: %s. Another field manager owns these fields; change them there, "
                       "or set force_conflicts=true to take them over." % (object_ref(manifest), _api_error_text(exc)))
        except DynamicApiError as exc:
            self._fail("Failed to apply %s: %s" % (object_ref(manifest), _api_error_text(exc)))

    def _apply(self, manifest, secret, always_apply=False):
        resource = self._resource(manifest)
        namespace = self._namespace_for(resource, manifest)
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
        if (changed or (always_apply and live is not None)) and not self.check_mode:
            result_object = self._server_side_apply(resource, manifest, desired, namespace)
            if not changed:
                version = (result_object.get("metadata") or {}).get("resourceVersion")
                if version != (live.get("metadata") or {}).get("resourceVersion"):
                    changed, differences = True, ["(fields inside an atomic list)"]
        if result_object is None:
            result_object = desired
        after = desired
        if is_secret(manifest, secret):
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
        if (live.get("metadata") or {}).get("deletionTimestamp"):
            # Deleted by an earlier run and still finalizing: asking again changes nothing.
            live["metadata"].pop("managedFields", None)
            return dict(changed=False, object=live, terminating=True, diff=dict(before=None, after=None))
        if not self.check_mode:
            try:
                self._call("delete %s" % object_ref(manifest), self.dynamic.delete, resource,
                           name=manifest["metadata"]["name"], namespace=namespace, propagation_policy="Background")
            except NotFoundError:
                pass
            except DynamicApiError as exc:
                self._fail("Failed to delete %s: %s" % (object_ref(manifest), _api_error_text(exc)))
        live.get("metadata", {}).pop("managedFields", None)
        return dict(changed=True, object=None, diff=dict(before=live, after=None))


def _checked_objects(objects, state, kubernetes_version):
    """Raise InputError unless every object is well formed and (state=present) valid for the Kubernetes version;
    returns the custom resources that could not be validated."""
    problems = []
    for index, manifest in enumerate(objects):
        found = manifest_problems(manifest)
        if found:
            field = "objects[%d]%s" % (index, "." + found[0][0] if found[0][0] else "")
            problems.append((field, "objects[%d] (%s): %s" % (index, object_ref(manifest),
                                                              "; ".join(message for _path, message in found))))
    if problems:
        raise InputError(problems[0][0], "Invalid manifests: %s" % "; ".join(message for _f, message in problems))
    skipped = []
    if state == "present":
        errors = validate_manifests(objects, kubernetes_version, skipped=skipped)
        if errors:
            raise InputError("objects", "Objects do not validate for Kubernetes %s: %s"
                             % (schema_version(kubernetes_version), "; ".join(errors)), validation_errors=errors)
    return skipped


def _protect_secrets(module, objects):
    """Register every value of every Secret among ``objects`` with no_log_values, before anything can quote one:
    Ansible then masks them in the whole result, the echoed arguments included. Returns the values."""
    values = set()
    for manifest in objects:
        if isinstance(manifest, dict) and manifest.get("kind") == "Secret":
            values |= secret_values(manifest)
    module.no_log_values.update(values)
    return values


class K8sObjectsModule(AnsibleModule):
    """The k8s_objects module: the values of every Secret among ``objects`` are no-log values from the start, before
    Ansible logs the invocation on the target (syslog or journal) and before anything is returned."""

    def _log_invocation(self):
        _protect_secrets(self, self.params.get("objects") or [])
        super(K8sObjectsModule, self)._log_invocation()


def _masked(exc, secrets):
    """The same error with every secret value masked in its message and details."""
    if not secrets:
        return exc
    exc.message = mask_text(exc.message, secrets)
    for key, value in list(exc.details.items()):
        if isinstance(value, list):
            exc.details[key] = [mask_text(item, secrets) if isinstance(item, str) else item for item in value]
        elif isinstance(value, str):
            exc.details[key] = mask_text(value, secrets)
    return exc


def run_k8s_objects(module):
    """The k8s_objects module: validate every object, then ensure or remove each one; returns the result dict."""
    params = module.params
    objects = params["objects"]
    secrets = _protect_secrets(module, objects)
    subdir = check_render_subdir(params.get("render_subdir") or "")
    try:
        skipped = _checked_objects(objects, params["state"], params.get("kubernetes_version"))
    except AccelciError as exc:
        raise _masked(exc, secrets)
    delivery = K8sDelivery(module)
    results = []
    for manifest in objects:
        metadata = manifest.get("metadata") or {}
        if params["state"] == "present":
            outcome = delivery.ensure(manifest, render_subdir=subdir)
        else:
            outcome = delivery.remove(manifest["apiVersion"], manifest["kind"], metadata["name"],
                                      metadata.get("namespace"), render_subdir=subdir)
        outcome["ref"] = object_ref(manifest)
        results.append(outcome)
    result = dict(changed=any(r["changed"] for r in results), skipped_validation=skipped)
    if module._diff:
        result["diff"] = [dict(before_header=r["ref"], after_header=r["ref"], **r["diff"]) for r in results]
    for outcome in results:
        outcome.pop("diff", None)
    result["objects"] = results
    return result

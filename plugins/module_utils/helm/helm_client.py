# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one helm runner of this collection.

- ``helm_argument_spec()``: the shared helm options (documented in the ``helm`` doc fragment).
- ``Helm``: finds the binary, checks its version (3.8+ or 4.x), runs argv lists (never a shell string) with
  credentials in the environment and values in a 0600 temporary file, reads release state, and installs,
  upgrades, renders or removes releases. Failures raise ``HelmError`` (an ``ApiError``) with rc/stdout/stderr/command
  in its details, secrets masked.

What helm's answers mean (the release decision, version gate, masking) lives in ``helm.release``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import ApiError
from ansible_collections.accelci.runners.plugins.module_utils._common.retries import (
    PERMANENT_UNREACHABLE_REASONS,
    RetryPolicy,
    unreachable_reason,
)
from ansible_collections.accelci.runners.plugins.module_utils._common.yaml_text import dump_yaml, load_yaml
from ansible_collections.accelci.runners.plugins.module_utils.helm.release import (
    check_version,
    is_local_chart,
    mask_text,
    parse_version,
)

# helm diff upgrade --detailed-exitcode exits 2 when there are changes.
HELM_DIFF_CHANGES_RC = 2


def helm_argument_spec():
    """Options every helm-backed module takes."""
    return dict(
        binary_path=dict(type="path"),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=600),
        rollback_on_failure=dict(type="bool", default=True),
        use_helm_diff=dict(type="bool", default=True),
    )


class HelmError(ApiError):
    """A helm call failed; ``details`` carry rc, stdout, stderr and command (secrets already masked)."""

    def __init__(self, msg, rc=None, stdout="", stderr="", command=None):
        super(HelmError, self).__init__(msg, rc=rc, stdout=stdout, stderr=stderr, command=command or [])

    @property
    def msg(self):
        """The message; a rollback outcome is appended to it."""
        return self.message

    @msg.setter
    def msg(self, value):
        self.message = value

    @property
    def rc(self):
        return self.details["rc"]

    @property
    def stdout(self):
        return self.details["stdout"]

    @property
    def stderr(self):
        return self.details["stderr"]

    @property
    def command(self):
        return self.details["command"]


# What helm says when its first call to the cluster gets no answer; nothing has been done yet, so it is safe to rerun.
_CLUSTER_UNREACHABLE = "kubernetes cluster unreachable"


def cluster_unreachable_reason(error):
    """'connection refused', ... when helm failed because the cluster gave no answer and another try may help,
    else None (an untrusted certificate, or any other failure)."""
    text = (getattr(error, "stderr", "") or "").lower()
    if _CLUSTER_UNREACHABLE not in text:
        return None
    reason = unreachable_reason(text)
    return reason if reason not in PERMANENT_UNREACHABLE_REASONS else None


def _version_args(chart_ref, version):
    """--version for repository charts; helm ignores it for local charts."""
    return ["--version", str(version)] if version and not is_local_chart(chart_ref) else []


def _default_executor(argv, env):
    merged = dict(os.environ)
    merged.update(env or {})
    proc = subprocess.run(argv, env=merged, capture_output=True, text=True, check=False)
    return proc.returncode, proc.stdout, proc.stderr


class Helm(object):
    """Run helm. ``module`` (an AnsibleModule) is optional so the runner can be tested without Ansible."""

    def __init__(self, module=None, binary_path=None, kubeconfig=None, context=None, secrets=(), executor=None,
                 env=None, retry_timeout=60):
        self.module = module
        # A cluster that refuses connections (a control plane restarting) is retried like a 503, for this long.
        self.retry_policy = RetryPolicy(lambda exc: cluster_unreachable_reason(exc) is not None,
                                        timeout=float(60 if retry_timeout is None else retry_timeout))
        self.binary_path = binary_path
        self.secrets = [s for s in (secrets or ()) if s]
        self.env = {}
        if kubeconfig:
            self.env["KUBECONFIG"] = kubeconfig
        if context:
            self.env["HELM_KUBECONTEXT"] = context
        self.env.update(env or {})
        self._executor = executor
        self._binary = None
        self._version = None
        self._plugins = None
        self._tempfiles = []
        self.commands = []
        if module is not None:
            for secret in self.secrets:
                module.no_log_values.add(secret)

    # -- low level ---------------------------------------------------------------------------------------------

    @property
    def binary(self):
        """Absolute path of helm: binary_path, else PATH (module.get_bin_path), else a clear error."""
        if self._binary:
            return self._binary
        if self.binary_path:
            if not (os.path.isfile(self.binary_path) and os.access(self.binary_path, os.X_OK)):
                raise HelmError("binary_path %s is not an executable file" % self.binary_path)
            self._binary = self.binary_path
        else:
            found = None
            if self.module is not None:
                found = self.module.get_bin_path("helm", required=False)
            found = found or shutil.which("helm")
            if not found:
                raise HelmError(
                    "helm was not found on PATH: install helm 3.8+ or 4.x, or set binary_path "
                    "(render mode needs helm only to check local charts; validate_with_chart=false skips that)"
                )
            self._binary = found
        return self._binary

    def run(self, args, check=True, data=None):
        """Run helm with an argv list; return (rc, stdout, stderr). Raise HelmError when check and rc != 0.

        A cluster that could not be reached is retried (``retry_policy``), then reported with the reason and the
        attempts made."""
        if not check:
            return self._run_once(args, check, data)
        attempts = []
        try:
            return self.retry_policy.call(self._run_once, args, check, data,
                                          on_retry=lambda *_: attempts.append(1))
        except HelmError as exc:
            reason = cluster_unreachable_reason(exc)
            if reason is not None:
                tries = len(attempts) + 1
                exc.msg = ("helm %s: the Kubernetes API could not be reached: %s (%d attempt%s over %d s); check "
                           "kubeconfig and context, the network and any proxy. %s"
                           % (args[0] if args else "", reason, tries, "" if tries == 1 else "s",
                              self.retry_policy.timeout, exc.msg))
            raise

    def _run_once(self, args, check, data):
        argv = [self.binary] + [str(arg) for arg in args]
        self.commands.append(mask_text(" ".join(argv), self.secrets))
        if self._executor is not None:
            rc, out, err = self._executor(argv, dict(self.env))
        elif self.module is not None:
            rc, out, err = self.module.run_command(argv, environ_update=dict(self.env), data=data,
                                                   check_rc=False)
        else:
            rc, out, err = _default_executor(argv, self.env)
        if check and rc != 0:
            detail = mask_text((err or out or "").strip(), self.secrets)
            raise HelmError(
                "helm %s failed (rc=%s): %s" % (args[0] if args else "", rc, detail),
                rc=rc,
                stdout=mask_text(out, self.secrets),
                stderr=mask_text(err, self.secrets),
                command=[mask_text(a, self.secrets) for a in argv],
            )
        return rc, out, err

    def version(self):
        """The helm version as a tuple, checked against what this collection supports."""
        if self._version is None:
            _rc, out, _err = self.run(["version", "--template", "{{.Version}}"])
            try:
                self._version = check_version(parse_version(out))
            except ValueError as exc:
                raise HelmError(str(exc))
        return self._version

    def has_diff_plugin(self):
        """True when the helm-diff plugin is installed."""
        if self._plugins is None:
            rc, out, _err = self.run(["plugin", "list"], check=False)
            self._plugins = out if rc == 0 else ""
        return bool(re.search(r"^diff\s", self._plugins or "", re.M))

    def write_values_file(self, values):
        """Write values to a 0600 temporary file and return its path (removed by cleanup())."""
        fd, path = tempfile.mkstemp(prefix="accelci-helm-values-", suffix=".yaml")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(dump_yaml(values or {}))
        except Exception:
            os.unlink(path)
            raise
        if self.module is not None:
            self.module.add_cleanup_file(path)
        self._tempfiles.append(path)
        return path

    def cleanup(self):
        """Remove temporary values files now (the module also removes them at exit)."""
        for path in self._tempfiles:
            if os.path.exists(path):
                os.unlink(path)
        self._tempfiles = []

    def _all_status_args(self):
        """helm 3 lists only deployed/failed releases unless --all; helm 4 lists every status and has no --all."""
        return ["--all"] if self.version()[0] < 4 else []

    def _wait_args(self, wait, timeout):
        if not wait:
            return []
        flag = "--wait=watcher" if self.version()[0] >= 4 else "--wait"
        return [flag, "--timeout", "%ss" % int(timeout)]

    # -- reading state -----------------------------------------------------------------------------------------

    def get_release(self, name, namespace):
        """The release's helm list entry (name, namespace, revision, status, chart, app_version) or None."""
        _rc, out, _err = self.run(
            ["list", "--namespace", namespace] + self._all_status_args()
            + ["--filter", "^%s$" % re.escape(name), "--output", "json"]
        )
        for entry in json.loads(out or "[]") or []:
            if entry.get("name") == name:
                return entry
        return None

    def list_releases(self, all_namespaces=True, namespace=None):
        """Every release (helm list --all -o json), across namespaces by default."""
        args = ["list"] + self._all_status_args() + ["--output", "json"]
        args += ["--all-namespaces"] if all_namespaces else ["--namespace", namespace]
        _rc, out, _err = self.run(args)
        return json.loads(out or "[]") or []

    def get_values(self, name, namespace, all_values=False):
        """User-supplied values of a release (all_values: merged with chart defaults)."""
        args = ["get", "values", name, "--namespace", namespace, "--output", "json"]
        if all_values:
            args.append("--all")
        _rc, out, _err = self.run(args)
        return json.loads(out or "null") or {}

    def show_chart(self, chart_ref, version=None):
        """Chart.yaml of a chart reference (OCI, repo/name, directory or tarball)."""
        args = ["show", "chart", chart_ref]
        args += _version_args(chart_ref, version)
        _rc, out, _err = self.run(args)
        return load_yaml(out) or {}

    def pull(self, chart_ref, version, dest):
        """Fetch and unpack a chart into dest; return the chart directory (local charts are unpacked too)."""
        if os.path.isdir(chart_ref):
            return chart_ref
        if os.path.isfile(chart_ref):
            # helm pull does not take a local tarball; unpack it ourselves (no paths outside dest).
            with tarfile.open(chart_ref, "r:gz") as archive:
                for member in archive.getmembers():
                    target = os.path.realpath(os.path.join(dest, member.name))
                    if not target.startswith(os.path.realpath(dest) + os.sep) or member.issym() or member.islnk():
                        raise HelmError("chart archive %s has an unsafe entry %s" % (chart_ref, member.name))
                archive.extractall(dest)
            dirs = [os.path.join(dest, e) for e in sorted(os.listdir(dest)) if os.path.isdir(os.path.join(dest, e))]
            if not dirs:
                raise HelmError("chart archive %s holds no chart directory" % chart_ref)
            return dirs[0]
        args = ["pull", chart_ref, "--untar", "--untardir", dest]
        args += _version_args(chart_ref, version)
        self.run(args)
        entries = [os.path.join(dest, e) for e in sorted(os.listdir(dest))]
        dirs = [e for e in entries if os.path.isdir(e)]
        if not dirs:
            raise HelmError("helm pull %s produced no chart directory" % chart_ref)
        return dirs[0]

    def diff_upgrade(self, name, chart_ref, namespace, values, version=None):
        """helm diff upgrade --detailed-exitcode: (changed, diff_text). Only call when has_diff_plugin()."""
        path = self.write_values_file(values)
        args = ["diff", "upgrade", name, chart_ref, "--namespace", namespace, "--values", path, "--allow-unreleased",
                "--detailed-exitcode", "--no-color", "--normalize-manifests"]
        args += _version_args(chart_ref, version)
        try:
            rc, out, err = self.run(args, check=False)
        finally:
            self.cleanup()
        if rc not in (0, HELM_DIFF_CHANGES_RC):
            raise HelmError("helm diff failed (rc=%s): %s" % (rc, mask_text(err.strip(), self.secrets)), rc=rc,
                            stdout=mask_text(out, self.secrets), stderr=mask_text(err, self.secrets),
                            command=self.commands[-1:])
        return rc == HELM_DIFF_CHANGES_RC, mask_text(out, self.secrets)

    # -- changing state ----------------------------------------------------------------------------------------

    def upgrade_install(self, name, chart_ref, namespace, values, version=None, wait=True, timeout=600,
                        create_namespace=False, rollback_on_failure=True, previous=None, skip_crds=False):
        """helm upgrade --install; on failure roll back to the previous deployed revision when asked.

        ``skip_crds``: leave the chart's crds/ alone (the caller applies them itself)."""
        path = self.write_values_file(values)
        args = ["upgrade", name, chart_ref, "--install", "--namespace", namespace, "--values", path,
                "--reset-values"]
        args += _version_args(chart_ref, version)
        if skip_crds:
            args.append("--skip-crds")
        if create_namespace:
            args.append("--create-namespace")
        args += self._wait_args(wait, timeout)
        try:
            _rc, out, _err = self.run(args)
        except HelmError as exc:
            if rollback_on_failure and previous and previous.get("revision"):
                revision = str(previous["revision"])
                try:
                    self.run(["rollback", name, revision, "--namespace", namespace] + self._wait_args(wait, timeout))
                    exc.msg += "; rolled back to revision %s" % revision
                except HelmError as rollback_exc:
                    exc.msg += "; rollback to revision %s failed too: %s" % (revision, rollback_exc.msg)
            raise exc
        finally:
            self.cleanup()
        return out

    def uninstall(self, name, namespace, wait=True, timeout=600):
        """helm uninstall (waits for the resources to go, so finalizers are processed before we continue)."""
        args = ["uninstall", name, "--namespace", namespace] + self._wait_args(wait, timeout)
        _rc, out, _err = self.run(args)
        return out

    def template(self, name, chart_ref, namespace, values, version=None, kube_version=None, api_versions=()):
        """helm template: the manifests a release would create (offline; lookup returns nothing)."""
        path = self.write_values_file(values)
        args = ["template", name, chart_ref, "--namespace", namespace, "--values", path]
        args += _version_args(chart_ref, version)
        if kube_version:
            args += ["--kube-version", str(kube_version)]
        for api in api_versions or ():
            args += ["--api-versions", api]
        try:
            _rc, out, _err = self.run(args)
        finally:
            self.cleanup()
        return out

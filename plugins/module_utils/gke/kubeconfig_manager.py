# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Write one GKE cluster's kubeconfig and its credential helper: read the cluster once, write only what differs."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import pkgutil
import stat
import sys

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import AccelciError, InputError
from ansible_collections.accelci.runners.plugins.module_utils._common.files import read_bytes, write_atomic
from ansible_collections.accelci.runners.plugins.module_utils._common.yaml_text import dump_yaml
from ansible_collections.accelci.runners.plugins.module_utils.gke.kubeconfig import (
    DIRECTORY_MODE,
    DIR_ENV,
    HELPER_MODE,
    HELPER_PACKAGE,
    HELPER_SOURCE,
    KUBECONFIG_MODE,
    cluster_access,
    default_name,
    default_path,
    helper_environment,
    helper_path,
    kubeconfig_document,
    secrets_not_in_environment,
    validate_kubeconfig_options,
)
from ansible_collections.accelci.runners.plugins.module_utils.gke.operation_manager import proto_to_dict


def helper_source():
    """The helper's source as bytes, from the collection: its files in a checkout, the module's zip under AnsiballZ."""
    reason = "no data"
    try:
        data = pkgutil.get_data(HELPER_PACKAGE, HELPER_SOURCE)
    except (OSError, ImportError) as exc:
        data, reason = None, str(exc)
    if not data:
        raise AccelciError("Cannot read the credential helper %s.%s from the collection: %s"
                           % (HELPER_PACKAGE, HELPER_SOURCE, reason))
    return data


def _mode(path):
    """Permission bits of ``path``, or None when it does not exist."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return None


def _differs(path, content, mode):
    """True when ``path`` does not hold exactly ``content`` (bytes) with ``mode``."""
    return read_bytes(path) != content or _mode(path) != mode


def kubeconfig_path(params):
    """The kubeconfig's absolute path: ``path``, or the default under $ACCELCI_KUBECONFIG_DIR or ~/.kube/accelci.
    Raises InputError."""
    path = params.get("path") or default_path(params["project"], params["location"], params["cluster"],
                                              os.environ.get(DIR_ENV))
    path = os.path.abspath(os.path.expanduser(path))
    if os.path.isdir(path):
        raise InputError("path", "%s is a directory; give the path of the kubeconfig file to write" % path)
    return path


class KubeconfigManager:
    """Read one cluster and converge its kubeconfig (mode 0600) and the helper next to it (mode 0700).

    ``python`` is the interpreter the kubeconfig runs the helper with (the one running the module), ``environ``
    the environment the helper will most likely inherit (the module's).
    """

    def __init__(self, module, python=None, environ=None):
        self.module = module
        self.params = module.params
        self.python = sys.executable if python is None else python
        self.environ = os.environ if environ is None else environ

    @property
    def parent(self):
        return "projects/%s/locations/%s" % (self.params["project"], self.params["location"])

    def read(self):
        """The cluster as GKE reports it (a snake_case dict), or None when it does not exist."""
        name = self.params["cluster"]
        cluster = self.module.call("read cluster %s" % name, self.module.client.get_cluster,
                                   name="%s/clusters/%s" % (self.parent, name), not_found_ok=True)
        return proto_to_dict(cluster)

    def run(self):
        """The module's work: check the options, read the cluster, write the kubeconfig and the helper if they differ."""
        params = self.params
        validate_kubeconfig_options(params)
        path = kubeconfig_path(params)
        if not self.python or not os.path.isabs(self.python):
            raise AccelciError("Cannot tell which Python runs this module (sys.executable is %r), so the kubeconfig "
                               "could not name one to run its credential helper" % self.python)
        name = params.get("context") or default_name(params["project"], params["location"], params["cluster"])
        if params.get("endpoint"):
            # What gke_cluster just read (the cluster role passes it on): no second read of the same cluster.
            known = {"status": "RUNNING", "endpoint": params["endpoint"],
                     "master_auth": {"cluster_ca_certificate": params.get("cluster_ca_certificate")}}
            server, ca_data = cluster_access(known, params["cluster"], self.parent)
        else:
            server, ca_data = cluster_access(self.read(), params["cluster"], self.parent)
        helper = helper_path(path)
        text = dump_yaml(kubeconfig_document(name, server, ca_data, self.python, helper, helper_environment(params)))
        before = self._read(path)
        # The helper is written first, so the kubeconfig never names a helper that is not there.
        files = [("helper", helper, helper_source(), HELPER_MODE),
                 ("kubeconfig", path, text.encode("utf-8"), KUBECONFIG_MODE)]
        changes = [label for label, file_path, content, mode in files if _differs(file_path, content, mode)]
        if changes and not self.module.check_mode:
            for label, file_path, content, mode in files:
                if label in changes:
                    self._write(file_path, content, mode)
        self._warn_about_secrets()
        return dict(changed=bool(changes), changes=changes, path=path, context=name, server=server, helper=helper,
                    diff=dict(before=before or "", after=text, before_header=path, after_header=path))

    @staticmethod
    def _read(path):
        try:
            data = read_bytes(path)
        except OSError as exc:
            raise AccelciError("Cannot read %s: %s" % (path, exc), field="path")
        return None if data is None else data.decode("utf-8", "replace")

    @staticmethod
    def _write(path, content, mode):
        try:
            write_atomic(path, content, mode=mode, dir_mode=DIRECTORY_MODE)
        except OSError as exc:
            raise AccelciError("Cannot write %s: %s" % (path, exc), field="path")

    def _warn_about_secrets(self):
        missing = secrets_not_in_environment(self.params, self.environ)
        if missing:
            self.module.warn("The kubeconfig's credential helper reads %s from the environment of the program that "
                             "uses the kubeconfig (helm, the Kubernetes modules), never from the kubeconfig; it is "
                             "not set in this task's environment, so set it there (the task's environment keyword)"
                             % " and ".join(missing))

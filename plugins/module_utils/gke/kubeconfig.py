# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The kubeconfig of one GKE cluster, reached with the run's Google credentials (pure; I/O in kubeconfig_manager).

The user entry runs the collection's exec credential plugin (``gcp/exec_credential.py``, written next to the
kubeconfig) with the Python that ran the module, so no gcloud and no gke-gcloud-auth-plugin are needed. The
kubeconfig names how to find credentials (auth kind, key file path), never a token or a key.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import AccelciError, InputError
from ansible_collections.accelci.runners.plugins.module_utils.gcp import exec_credential
from ansible_collections.accelci.runners.plugins.module_utils.gcp.locations import check_location
from ansible_collections.accelci.runners.plugins.module_utils.gke.names import validate_name

HELPER_NAME = "accelci-gke-credential.py"
# The package and file pkgutil reads the helper's source from, in a checkout as in a module's AnsiballZ zip.
HELPER_PACKAGE = "ansible_collections.accelci.runners.plugins.module_utils.gcp"
HELPER_SOURCE = "exec_credential.py"
KUBECONFIG_MODE = 0o600
HELPER_MODE = 0o700
DIRECTORY_MODE = 0o700

# A RECONCILING cluster (an update or a node pool operation in progress) keeps serving its API.
SERVING_STATUSES = ("RUNNING", "RECONCILING")
# Auth kinds the helper can get a token with; "none" (a local GKE emulator) says nothing about the cluster's API.
_HELPER_AUTH_KINDS = exec_credential.AUTH_KINDS


def default_name(project, location, cluster):
    """The context, cluster and user name of a cluster's kubeconfig: gcloud's ``gke_PROJECT_LOCATION_CLUSTER``."""
    return "gke_%s_%s_%s" % (project, location, cluster)


DEFAULT_DIR = os.path.join("~", ".kube", "accelci")
# Environment variable naming the directory default kubeconfigs go to instead of DEFAULT_DIR (CI jobs, tests).
DIR_ENV = "ACCELCI_KUBECONFIG_DIR"


def default_path(project, location, cluster, directory=None):
    """Where the kubeconfig goes when no path is given: ``directory`` (default ~/.kube/accelci, not expanded)."""
    return os.path.join(directory or DEFAULT_DIR, "%s_%s_%s.yaml" % (project, location, cluster))


def helper_path(kubeconfig_path):
    """The exec credential plugin's path: next to the kubeconfig."""
    return os.path.join(os.path.dirname(kubeconfig_path), HELPER_NAME)


def validate_kubeconfig_options(params):
    """Refuse options GKE or a kubeconfig would refuse, before any request. Raises InputError."""
    validate_name("cluster", params.get("cluster"))
    check_location("location", params.get("location"))
    context = params.get("context")
    if context is not None and (not context.strip() or context != context.strip()):
        raise InputError("context", "%r is not a usable context name: give a non-empty name without surrounding "
                                    "spaces" % context)


def server_url(endpoint):
    """``https://ENDPOINT``; an endpoint that already has a scheme is kept as it is."""
    return endpoint if "://" in endpoint else "https://%s" % endpoint


def cluster_access(cluster, name, parent):
    """(server URL, CA data) of a cluster as read from GKE (a snake_case dict, or None when it does not exist).

    Raises AccelciError naming what is missing: the cluster, a serving status, the endpoint or the CA.
    """
    if cluster is None:
        raise AccelciError("Cluster %s does not exist in %s: create it first (gke_cluster, or playbooks/cluster.yml)"
                           % (name, parent), field="cluster")
    status = cluster.get("status") or "STATUS_UNSPECIFIED"
    if status not in SERVING_STATUSES:
        raise AccelciError("Cluster %s is %s, not %s: its API cannot be reached yet; wait for the cluster to finish "
                           "(gke_cluster waits by default) and run again" % (name, status, " or ".join(SERVING_STATUSES)),
                           field="cluster", status=status)
    endpoint = cluster.get("endpoint")
    if not endpoint:
        raise AccelciError("Cluster %s (%s) reports no endpoint, so there is no API address to write" % (name, status),
                           field="cluster", status=status)
    ca_data = (cluster.get("master_auth") or {}).get("cluster_ca_certificate")
    if not ca_data:
        raise AccelciError("Cluster %s reports no CA certificate (masterAuth.clusterCaCertificate), so its API's TLS "
                           "certificate could not be verified" % name, field="cluster", status=status)
    return server_url(endpoint), ca_data


def helper_environment(params):
    """The exec entry's ``env``: how the helper finds the credentials the module used, never the secrets.

    ``auth_kind`` goes in when set to a kind the helper knows; ``service_account_file`` as an absolute path. An
    access token or key contents stay in the environment of whoever uses the kubeconfig (GCP_ACCESS_TOKEN,
    GCP_SERVICE_ACCOUNT_CONTENTS).
    """
    env = []
    if params.get("auth_kind") in _HELPER_AUTH_KINDS:
        env.append({"name": exec_credential.AUTH_KIND_VARS[0], "value": params["auth_kind"]})
    if params.get("service_account_file"):
        env.append({"name": exec_credential.SERVICE_ACCOUNT_FILE_VARS[0],
                    "value": os.path.abspath(params["service_account_file"])})
    return env


def secrets_not_in_environment(params, environ):
    """Environment variables the helper will need but that do not hold the secret the module was given.

    A token or key given as a module option (not through the environment) reaches the module only; the helper
    reads GCP_ACCESS_TOKEN and GCP_SERVICE_ACCOUNT_CONTENTS from the environment of the program that runs it.
    """
    missing = []
    for option, var in (("access_token", exec_credential.ACCESS_TOKEN_VAR),
                        ("service_account_contents", exec_credential.SERVICE_ACCOUNT_CONTENTS_VAR)):
        if params.get(option) and not environ.get(var):
            missing.append(var)
    return missing


def kubeconfig_document(name, server, ca_data, python, helper, env):
    """The kubeconfig (a dict) with one cluster, one user running the helper with ``python``, and one context."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {"server": server, "certificate-authority-data": ca_data}}],
        "users": [{"name": name, "user": {"exec": {
            "apiVersion": exec_credential.API_VERSION,
            "command": python,
            "args": [helper],
            "env": env,
            "interactiveMode": "Never",
            "provideClusterInfo": False,
            "installHint": "%s is written by the accelci.runners.gke_kubeconfig module; run it again to restore it"
                           % helper,
        }}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
        "current-context": name,
        "preferences": {},
    }

# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # How modules of this collection deliver Kubernetes objects: server-side apply, or files for GitOps.
    DOCUMENTATION = r"""
options:
  delivery:
    description:
      - V(apply) talks to the cluster; objects are created or updated by server-side apply with the field manager
        C(accelci-runners), never forcing conflicts unless O(force_conflicts=true).
        The live object is read first; only the fields given are compared to decide RV(ignore:changed).
      - V(render) writes each object as YAML to
        C(<render_dir>/<subdir>/<namespace or _cluster>/<kind>-<name>.yaml), for GitOps (Argo CD, Flux) or review.
        Files are written atomically and only when their content differs, in block style with keys sorted.
      - Secrets are never written in render mode; the result carries a note naming the keys to create out of band.
    type: str
    choices: [apply, render]
    default: apply
    version_added: 0.1.0
  render_dir:
    description:
      - The directory render mode writes to. Required when O(delivery=render).
    type: path
    version_added: 0.1.0
  kubeconfig:
    description:
      - Path to a kubeconfig file for O(delivery=apply).
      - Falls back to E(K8S_AUTH_KUBECONFIG), then E(KUBECONFIG), then C(~/.kube/config); inside a pod with
        neither O(kubeconfig) nor O(context), the in-cluster service account is used.
    type: path
    version_added: 0.1.0
  context:
    description:
      - The kubeconfig context to use. Falls back to E(K8S_AUTH_CONTEXT), then the kubeconfig's current context.
    type: str
    version_added: 0.1.0
  kubernetes_version:
    description:
      - The Kubernetes minor version the objects target, such as V(1.33).
      - Objects are validated against that version's built-in schemas (C(kubernetes-validate), strict, so unknown
        fields are errors) before anything is applied or rendered. Custom resources have no built-in schema and
        are reported as skipped.
      - When unset, the newest schema version C(kubernetes-validate) ships is used.
    type: str
    version_added: 0.1.0
  force_conflicts:
    description:
      - Take over fields that another field manager owns (server-side apply C(force=true)).
      - Off by default, so a conflicting change made by someone else fails with a message naming the fields.
    type: bool
    default: false
    version_added: 0.1.0
  retry_timeout:
    description:
      - How long, in seconds, to keep retrying the Kubernetes API when it throttles (HTTP 429), fails (5xx) or
        cannot be reached (connection refused or reset, a name that does not resolve, a timeout), as a control
        plane that is restarting or being resized does for a while. An untrusted TLS certificate fails at once.
      - Modules that run helm retry a cluster helm reports unreachable the same way.
      - When it runs out, the error names the API server, the reason and the attempts made.
      - If not set, the value of the E(ACCELCI_K8S_RETRY_TIMEOUT) environment variable is used.
    type: int
    default: 60
    version_added: 0.1.0
requirements:
  - kubernetes >= 30 (for O(delivery=apply))
  - kubernetes-validate (for schema validation)
  - PyYAML
"""

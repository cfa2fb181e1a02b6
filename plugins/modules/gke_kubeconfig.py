#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: gke_kubeconfig
short_description: Write a kubeconfig that reaches a GKE cluster's API with the run's Google credentials
version_added: 0.1.0
description:
  - Reads the cluster once and writes a kubeconfig for it (mode C(0600)) with one cluster, one user and one context,
    so that later tasks (the storage and arc roles, helm, M(accelci.runners.k8s_objects)) reach its Kubernetes API
    with the same Google credentials the GCP modules use. No gcloud and no gke-gcloud-auth-plugin are needed.
  - The cluster entry has C(server) C(https://ENDPOINT) and the cluster's CA certificate
    (C(masterAuth.clusterCaCertificate)) as C(certificate-authority-data).
  - The user entry runs a credential helper, C(accelci-gke-credential.py), written next to the kubeconfig (mode
    C(0700)) and run with the Python interpreter that ran this module. It is a Kubernetes exec credential plugin
    (C(client.authentication.k8s.io/v1)) that prints a fresh access token whenever a client needs one. The token
    travels only through its standard output; it is never written to a file, a command line or a log.
  - The helper chooses credentials as the GCP modules do, from its environment, which is the environment of the
    program using the kubeconfig. The kubeconfig passes it O(auth_kind) (E(ACCELCI_GCP_AUTH_KIND)) and
    O(service_account_file) (E(ACCELCI_GCP_SERVICE_ACCOUNT_FILE)) when they are set. Secrets are never written
    to the kubeconfig - an access token must be in E(GCP_ACCESS_TOKEN) and key contents in
    E(GCP_SERVICE_ACCOUNT_CONTENTS) wherever the kubeconfig is used; the module warns when it was given one that
    its own environment does not hold.
  - The kubeconfig and the helper are written atomically, and only when their content or mode differs. A missing
    directory is created with mode C(0700).
author:
  - accelci.runners maintainers (@accelci)
extends_documentation_fragment:
  - accelci.runners.gcp
  - accelci.runners.gcp.PROJECT
attributes:
  check_mode:
    support: full
    description: Reads the cluster and reports whether the kubeconfig or the helper would change; writes nothing.
  diff_mode:
    support: full
    description: Shows the kubeconfig text before and after (it holds no secret).
options:
  cluster:
    description: Name of the cluster.
    type: str
    required: true
    version_added: 0.1.0
  location:
    description: Zone (zonal cluster) or region (regional cluster) of the cluster.
    type: str
    required: true
    version_added: 0.1.0
  path:
    description:
      - Where to write the kubeconfig. The helper is written to the same directory.
      - Defaults to C(~/.kube/accelci/PROJECT_LOCATION_CLUSTER.yaml), or C(PROJECT_LOCATION_CLUSTER.yaml) in the
        directory E(ACCELCI_KUBECONFIG_DIR) names when it is set.
      - Choose a path outside any source repository; the file holds no secret, but it names local paths and is
        only meant for this machine.
    type: path
    version_added: 0.1.0
  context:
    description:
      - Name of the context, cluster and user entries, and the kubeconfig's current context.
      - Defaults to C(gke_PROJECT_LOCATION_CLUSTER), the name gcloud gives them.
    type: str
    version_added: 0.1.0
  endpoint:
    description:
      - The cluster's endpoint as M(accelci.runners.gke_cluster) just returned it (its C(cluster.endpoint)).
      - With O(cluster_ca_certificate), the module writes the kubeconfig from these and does not read the cluster
        again (the cluster role passes them on after converging it). Without it, the cluster is read.
    type: str
    version_added: 0.1.0
  cluster_ca_certificate:
    description:
      - The cluster's CA certificate (base64 PEM) as M(accelci.runners.gke_cluster) returned it; needed with O(endpoint).
    type: str
    version_added: 0.1.0
notes:
  - A cluster that does not exist, is not C(RUNNING) (or C(RECONCILING), which keeps serving its API), or reports no
    endpoint or CA certificate fails the task naming it.
  - O(auth_kind=none) (chosen automatically for an C(http://) O(api_endpoint), a local GKE emulator) only applies
    to reading the cluster; it is not passed to the helper, which then chooses credentials from its environment.
  - O(scopes) applies to reading the cluster; the helper asks for the C(cloud-platform) and C(userinfo.email)
    scopes, as gcloud does for GKE.
  - The kubeconfig names the absolute path of the Python that ran the module; it needs C(google-auth) and
    C(requests), which the GCP modules need too. Run the module again after that interpreter moves.
seealso:
  - module: accelci.runners.gke_cluster
  - module: accelci.runners.k8s_objects
"""

EXAMPLES = r"""
- name: Reach the cluster with the run's Google credentials
  accelci.runners.gke_kubeconfig:
    project: my-project
    location: us-central1-b
    cluster: ci-runners
  register: gke_access

- name: Apply objects through it
  accelci.runners.k8s_objects:
    kubeconfig: "{{ gke_access.path }}"
    context: "{{ gke_access.context }}"
    objects:
      - {apiVersion: v1, kind: Namespace, metadata: {name: arc-runners}}

- name: A service account key for both the GCP modules and the cluster
  accelci.runners.gke_kubeconfig:
    project: my-project
    location: us-central1
    cluster: ci-runners
    auth_kind: serviceaccount
    service_account_file: /etc/accelci/deployer.json
    path: /var/lib/accelci/kube/ci-runners.yaml
"""

RETURN = r"""
path:
  description: The kubeconfig's absolute path.
  returned: success
  type: str
  sample: /home/ci/.kube/accelci/my-project_us-central1-b_ci-runners.yaml
context:
  description: The kubeconfig's context (also its current context).
  returned: success
  type: str
  sample: gke_my-project_us-central1-b_ci-runners
server:
  description: The cluster's API address as written to the kubeconfig.
  returned: success
  type: str
  sample: https://34.118.12.7
helper:
  description: The credential helper's absolute path, next to the kubeconfig.
  returned: success
  type: str
  sample: /home/ci/.kube/accelci/accelci-gke-credential.py
changes:
  description: The files that differed (or would), V(helper) and V(kubeconfig).
  returned: success
  type: list
  elements: str
retries:
  description: Retried API calls.
  returned: always
  type: list
  elements: dict
"""

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import AccelciError
from ansible_collections.accelci.runners.plugins.module_utils.gcp.module import GcpModule
from ansible_collections.accelci.runners.plugins.module_utils.gke.kubeconfig_manager import KubeconfigManager
from ansible_collections.accelci.runners.plugins.module_utils.gke.options import kubeconfig_argument_spec


def main():
    module = GcpModule("container", kubeconfig_argument_spec(), supports_check_mode=True,
                       required_together=[("endpoint", "cluster_ca_certificate")])
    try:
        result = KubeconfigManager(module).run()
    except AccelciError as exc:
        failure = exc.fail_json_kwargs()
        failure.setdefault("retries", module.retry_log)
        module.fail_json(**failure)
    module.exit_json(retries=module.retry_log, **result)


if __name__ == "__main__":
    main()

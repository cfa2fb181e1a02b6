#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: gke_cluster
short_description: Create, update and delete a GKE Standard cluster for accelerator runners
version_added: 0.1.0
description:
  - Manages a GKE Standard cluster with workload identity, the GCS FUSE and Filestore CSI driver addons, release
    channel, resource labels, network, and a system node pool for the controllers.
  - Only the options given are managed. A task that passes just O(addons) turns addons on without touching labels,
    release channel or the system pool.
  - In-place changes are sent one per UpdateCluster request, as the API requires, each waited for before the next.
    Labels go through setResourceLabels with the label fingerprint. O(network) and O(subnetwork) can only be set at
    creation; a difference fails with a message.
  - When the cluster does not exist it is created, with a system pool from O(system_pool) (defaults to
    e2-standard-4 nodes autoscaling 1-3) and VPC-native networking.
author:
  - accelci.runners maintainers (@accelci)
extends_documentation_fragment:
  - accelci.runners.gcp
  - accelci.runners.gcp.PROJECT
  - accelci.runners.gcp.WAIT
attributes:
  check_mode:
    support: full
    description: Reads the cluster and reports what would change; makes no mutating call.
  diff_mode:
    support: full
    description: Shows the managed fields before and after.
options:
  name:
    description: Cluster name.
    type: str
    required: true
    version_added: 0.1.0
  location:
    description: Zone (zonal cluster) or region (regional cluster).
    type: str
    required: true
    version_added: 0.1.0
  state:
    description: V(absent) deletes the cluster with all its node pools; it needs O(confirm_delete).
    type: str
    choices: [present, absent]
    default: present
    version_added: 0.1.0
  confirm_delete:
    description:
      - With O(state=absent), the cluster's name, to confirm the deletion. Without it the module refuses before any
        call.
    type: str
    version_added: 0.1.0
  allow_create:
    description:
      - Create the cluster when it does not exist. With V(false) a missing cluster fails the task instead, for
        tasks that only adjust a cluster managed elsewhere (the storage role turning on an addon).
    type: bool
    default: true
    version_added: 0.1.0
  release_channel:
    description: Release channel; V(none) means no channel.
    type: str
    choices: [rapid, regular, stable, extended, none]
    version_added: 0.1.0
  kubernetes_version:
    description: Initial control plane version, at creation only (the release channel manages it afterwards).
    type: str
    version_added: 0.1.0
  workload_identity:
    description: Workload identity with the pool C(PROJECT.svc.id.goog). Needed by GCS FUSE and the model cache.
    type: bool
    version_added: 0.1.0
  addons:
    description: Addons to turn on or off. Addons not named are left as they are.
    type: dict
    version_added: 0.1.0
    suboptions:
      gcs_fuse_csi_driver:
        description: The Cloud Storage FUSE CSI driver (model cache on GCS).
        type: bool
        version_added: 0.1.0
      filestore_csi_driver:
        description: The Filestore CSI driver (model cache on Filestore).
        type: bool
        version_added: 0.1.0
  labels:
    description:
      - Resource labels of the cluster (GCP label syntax). They are merged into the cluster's labels, so labels set
        by hand or by other tools stay, unless O(purge_labels=true).
    type: dict
    version_added: 0.1.0
  purge_labels:
    description: Remove the cluster's labels that O(labels) does not name.
    type: bool
    default: false
    version_added: 0.1.0
  declared_node_pools:
    description:
      - Names of the node pools the caller manages. Other pools found in the cluster (besides the system pool) are
        reported in RV(undeclared_node_pools) and as a warning; they are never deleted.
    type: list
    elements: str
    version_added: 0.1.0
  network:
    description: VPC network, at creation only.
    type: str
    version_added: 0.1.0
  subnetwork:
    description: Subnetwork, at creation only.
    type: str
    version_added: 0.1.0
  system_pool:
    description:
      - The node pool for controllers and listeners. Managed (created or updated) only when given, except at
        cluster creation, where the defaults are used.
    type: dict
    version_added: 0.1.0
    suboptions:
      name:
        description: Pool name.
        type: str
        default: system
        version_added: 0.1.0
      machine_type:
        description: Machine type.
        type: str
        default: e2-standard-4
        version_added: 0.1.0
      min_nodes:
        description: Autoscaling minimum.
        type: int
        default: 1
        version_added: 0.1.0
      max_nodes:
        description: Autoscaling maximum.
        type: int
        default: 3
        version_added: 0.1.0
      spot:
        description: Use Spot VMs for the system pool.
        type: bool
        default: false
        version_added: 0.1.0
      disk_size_gb:
        description: Boot disk size.
        type: int
        version_added: 0.1.0
      disk_type:
        description: Boot disk type.
        type: str
        version_added: 0.1.0
      labels:
        description: Node labels.
        type: dict
        version_added: 0.1.0
      workload_metadata_mode:
        description: Defaults to V(GKE_METADATA) when O(workload_identity=true).
        type: str
        choices: [GKE_METADATA, GCE_METADATA]
        version_added: 0.1.0
      recreate:
        description: Allow delete + create of the system pool for create-time-only changes (for example spot).
        type: bool
        default: false
        version_added: 0.1.0
"""

EXAMPLES = r"""
- name: Cluster for TPU runners, as in seed 000
  accelci.runners.gke_cluster:
    project: my-project
    location: us-central1-b
    name: ci-runners
    release_channel: regular
    workload_identity: true
    addons: {gcs_fuse_csi_driver: true}
    system_pool: {machine_type: e2-standard-4, min_nodes: 1, max_nodes: 3}

- name: Turn on the Filestore CSI driver on an existing cluster, nothing else
  accelci.runners.gke_cluster:
    project: my-project
    location: us-central1-b
    name: ci-runners
    addons: {filestore_csi_driver: true}
"""

RETURN = r"""
cluster:
  description: The cluster after the change (or as it would be, in check mode).
  returned: success
  type: dict
  contains:
    name: {description: Cluster name., type: str, returned: always}
    status: {description: GKE status., type: str, returned: when the cluster exists}
    endpoint: {description: Control plane address., type: str, returned: when the cluster exists}
    cluster_ca_certificate:
      description: The cluster's CA certificate (base64 PEM, C(masterAuth.clusterCaCertificate)); public.
      type: str
      returned: when the cluster exists
    workload_pool: {description: Workload identity pool., type: str, returned: always}
    addons: {description: Addon name to enabled., type: dict, returned: always}
    node_pools: {description: Names of the node pools., type: list, elements: str, returned: always}
undeclared_node_pools:
  description: Pools in the cluster that O(declared_node_pools) and the system pool do not name.
  returned: when O(declared_node_pools) is given and the cluster exists
  type: list
  elements: str
changes:
  description: The fields that differed (or V(created)); system pool fields are prefixed C(system_pool.).
  returned: success
  type: list
  elements: str
operations:
  description: Operations started, with their final status.
  returned: success
  type: list
  elements: dict
retries:
  description: Retried API calls.
  returned: always
  type: list
  elements: dict
"""

from ansible_collections.accelci.runners.plugins.module_utils.gcp.module import GcpModule
from ansible_collections.accelci.runners.plugins.module_utils.gke.cluster_manager import ClusterManager
from ansible_collections.accelci.runners.plugins.module_utils.gke.operation_manager import exit_with_operations
from ansible_collections.accelci.runners.plugins.module_utils.gke.options import cluster_argument_spec


def main():
    module = GcpModule("container", cluster_argument_spec(), supports_check_mode=True)
    manager = ClusterManager(module)
    exit_with_operations(module, manager)


if __name__ == "__main__":
    main()

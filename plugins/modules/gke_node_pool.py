#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: gke_node_pool
short_description: Create, update and delete GKE node pools for TPUs, GPUs and CPUs
version_added: 0.1.0
description:
  - Manages one node pool of a GKE Standard cluster from a high-level description. A TPU pool is given as
    O(tpu.accelerator) and O(tpu.topology) and resolved by the collection's accelerator catalog into the machine
    type, placement policy and slice size; a GPU pool as O(gpu.type) and O(gpu.count); anything else as a plain
    O(machine_type).
  - Single-host TPU slices are sent with the machine type alone (GKE rejects a topology for them). Multi-host slices
    get COMPACT placement with the topology (v4, v5e, v5p, v6e), or the workload policy named by
    O(placement_policy_name) (7x, 7), and scale in whole slices.
  - The pool is read once and compared with what is asked. Only what differs is changed, with the call the API
    has for it (UpdateNodePool, setAutoscaling, setSize, setManagement). Fields that GKE can only set at creation
    fail with a message listing them, unless O(recreate=true).
  - Invalid input (unknown accelerator, a topology the generation does not have, a machine type that does not carry
    the GPU, min above max, multi-host counts that are not whole slices, bad names) fails before any API call, with
    the option at fault in C(field).
  - A TPU generation newer than the cluster (7x needs GKE 1.34.0-gke.2201000) is refused before the create request;
    the cluster is read for its version only for such a generation.
author:
  - accelci.runners maintainers (@accelci)
extends_documentation_fragment:
  - accelci.runners.gcp
  - accelci.runners.gcp.PROJECT
  - accelci.runners.gcp.WAIT
attributes:
  check_mode:
    support: full
    description: Reads the pool and reports what would change; makes no mutating call.
  diff_mode:
    support: full
    description: Shows the managed fields before and after.
options:
  name:
    description: Node pool name (1-40 lowercase letters, digits and hyphens).
    type: str
    required: true
    version_added: 0.1.0
  cluster:
    description: Name of the cluster the pool belongs to.
    type: str
    required: true
    version_added: 0.1.0
  location:
    description: Zone or region of the cluster.
    type: str
    required: true
    version_added: 0.1.0
  state:
    description:
      - V(absent) deletes the pool and its nodes; it needs O(confirm_delete) set to the pool's name.
    type: str
    choices: [present, absent]
    default: present
    version_added: 0.1.0
  confirm_delete:
    description:
      - With O(state=absent), the pool's name, to confirm the deletion. Without it the module refuses before any
        call.
    type: str
    version_added: 0.1.0
  tpu:
    description: A TPU slice per node group.
    type: dict
    version_added: 0.1.0
    suboptions:
      accelerator:
        description: TPU generation (V(v4), V(v5e), V(v5p), V(v6e), V(7x), V(7)) or node label value (V(tpu-v6e-slice)).
        type: str
        required: true
        version_added: 0.1.0
      topology:
        description: Slice topology, V(AxB) for 2-D generations and V(AxBxC) for 3-D ones.
        type: str
        required: true
        version_added: 0.1.0
      machine_type:
        description: TPU machine type, where a topology has more than one shape (v6e V(2x4)); defaulted otherwise.
        type: str
        version_added: 0.1.0
  gpu:
    description: NVIDIA GPUs attached to each node.
    type: dict
    version_added: 0.1.0
    suboptions:
      type:
        description: Accelerator type, for example V(nvidia-l4) or V(nvidia-tesla-t4).
        type: str
        required: true
        version_added: 0.1.0
      count:
        description: GPUs per node; implied by fixed-GPU machine types.
        type: int
        version_added: 0.1.0
      driver_version:
        description:
          - Driver GKE installs. Always sent, because leaving it out installs no driver.
        type: str
        choices: [DEFAULT, LATEST, INSTALLATION_DISABLED]
        default: DEFAULT
        version_added: 0.1.0
      sharing:
        description: GPU sharing between containers.
        type: dict
        version_added: 0.1.0
        suboptions:
          strategy:
            description: Sharing strategy.
            type: str
            choices: [TIME_SHARING, MPS]
            required: true
            version_added: 0.1.0
          max_shared_clients:
            description: Containers that may share one GPU.
            type: int
            required: true
            version_added: 0.1.0
      partition_size:
        description: Multi-instance GPU partition size, for example V(1g.5gb).
        type: str
        version_added: 0.1.0
  machine_type:
    description: Machine type for CPU pools, or for GPU pools where the GPU type fits several machine types.
    type: str
    version_added: 0.1.0
  spot:
    description: Use Spot VMs. Spot pools default to location policy V(ANY).
    type: bool
    default: false
    version_added: 0.1.0
  reservation:
    description:
      - Reservation affinity. Spot pools consume no reservation, so V(ANY_RESERVATION) and V(SPECIFIC_RESERVATION)
        are refused with O(spot=true).
    type: dict
    version_added: 0.1.0
    suboptions:
      affinity:
        description: Which reservations the nodes consume.
        type: str
        choices: [NO_RESERVATION, ANY_RESERVATION, SPECIFIC_RESERVATION]
        required: true
        version_added: 0.1.0
      name:
        description: Reservation name, with V(SPECIFIC_RESERVATION).
        type: str
        version_added: 0.1.0
  flex_start:
    description:
      - Provision through flex-start (Dynamic Workload Scheduler); needs autoscaling and no reservation, is not spot,
        and has auto-repair off.
    type: bool
    default: false
    version_added: 0.1.0
  queued_provisioning:
    description:
      - Nodes come only through ProvisioningRequests; needs autoscaling with O(autoscaling.min_nodes=0) and no
        reservation. Not with O(spot), nor with O(flex_start) on TPUs (GKE refuses both).
    type: bool
    default: false
    version_added: 0.1.0
  autoscaling:
    description:
      - Cluster autoscaler bounds per zone. V(0) lets the pool scale to zero.
      - A multi-host TPU pool is one slice, created and removed whole; both bounds must be V(0) or exactly the
        slice's VM count. For more slices, declare more pools (the cluster role's C(slices) does this).
    type: dict
    version_added: 0.1.0
    suboptions:
      enabled:
        description: Set V(false) to turn autoscaling off (then O(node_count) sizes the pool).
        type: bool
        default: true
        version_added: 0.1.0
      min_nodes:
        description: Minimum nodes per zone (0 to 1000).
        type: int
        default: 0
        version_added: 0.1.0
      max_nodes:
        description: Maximum nodes per zone (1 to 1000).
        type: int
        version_added: 0.1.0
      location_policy:
        description:
          - V(ANY) for obtainable capacity first, V(BALANCED) to spread over zones.
          - Unset sends V(ANY) for spot, flex-start and queued pools, and nothing otherwise (GKE then picks
            V(BALANCED)); a policy that was not asked for is not compared.
        type: str
        choices: [ANY, BALANCED]
        version_added: 0.1.0
  node_count:
    description:
      - Initial node count, and the size to set when autoscaling is turned off.
      - GKE does not report a pool's current size, so later changes on a fixed-size pool are not detected.
    type: int
    version_added: 0.1.0
  labels:
    description:
      - Kubernetes labels on the nodes (replaced as a whole; keys and values follow Kubernetes label syntax).
    type: dict
    version_added: 0.1.0
  taints:
    description:
      - Kubernetes taints on the nodes (replaced as a whole).
      - The taint GKE adds to GPU pools (C(nvidia.com/gpu=present:NO_SCHEDULE)) is GKE's; it is neither compared nor
        removed.
    type: list
    elements: dict
    version_added: 0.1.0
    suboptions:
      key:
        description: Taint key.
        type: str
        required: true
        version_added: 0.1.0
      value:
        description: Taint value.
        type: str
        version_added: 0.1.0
      effect:
        description: Taint effect.
        type: str
        choices: [NO_SCHEDULE, PREFER_NO_SCHEDULE, NO_EXECUTE]
        required: true
        version_added: 0.1.0
  disk_size_gb:
    description: Boot disk size in GB, 10 to 65536 (changing it replaces the nodes). Unset keeps GKE's choice.
    type: int
    version_added: 0.1.0
  disk_type:
    description:
      - Boot disk type, for example V(pd-balanced) (changing it replaces the nodes). Unset keeps GKE's choice.
      - Machine families that boot only from Hyperdisk (ct6e, tpu7x, a3-ultragpu, a4, a4x, g4) take
        V(hyperdisk-balanced) only; another type is refused before any call (see O(ignore_unverified)).
    type: str
    version_added: 0.1.0
  ignore_unverified:
    description:
      - Send values that the accelerator catalog refuses on the strength of a recorded but unconfirmed rule (today,
        the Hyperdisk-only boot disk families). GKE then has the last word.
    type: bool
    default: false
    version_added: 0.1.0
  service_account:
    description: Google service account of the nodes (create-time only).
    type: str
    version_added: 0.1.0
  oauth_scopes:
    description: OAuth scopes of the nodes (create-time only).
    type: list
    elements: str
    version_added: 0.1.0
  workload_metadata_mode:
    description:
      - V(GKE_METADATA) for workload identity (needed by GCS FUSE), V(GCE_METADATA) otherwise.
      - When unset, V(GKE_METADATA) if O(cluster_workload_identity=true), else GKE's default.
    type: str
    choices: [GKE_METADATA, GCE_METADATA]
    version_added: 0.1.0
  cluster_workload_identity:
    description:
      - Whether the cluster has workload identity. A pool of such a cluster gets O(workload_metadata_mode=GKE_METADATA)
        unless O(workload_metadata_mode) says otherwise, so its pods reach workload identity (GCS FUSE needs it).
      - The cluster role passes the cluster's C(workload_identity) here.
    type: bool
    default: false
    version_added: 0.1.0
  auto_repair:
    description:
      - Node auto-repair. Unset keeps GKE's choice (on), except on flex-start pools, which get V(false) (a repaired
        flex-start node gives its capacity back); V(true) there is refused.
    type: bool
    version_added: 0.1.0
  auto_upgrade:
    description:
      - Node auto-upgrade. Unset keeps GKE's choice (on). V(false) is refused on a cluster on a release channel,
        as GKE refuses it (the cluster is read to check).
    type: bool
    version_added: 0.1.0
  locations:
    description:
      - Zones for the pool's nodes, when they differ from the cluster's.
      - A multi-host TPU slice lives in one zone. On a regional cluster it gets the cluster's first node zone
        (sorted) unless one zone is given here.
    type: list
    elements: str
    version_added: 0.1.0
  placement_policy_name:
    description:
      - Name of a resource policy for the slice. Required for multi-host 7x and 7 slices (a HIGH_THROUGHPUT
        workload policy with the slice's accelerator topology, created beforehand).
    type: str
    version_added: 0.1.0
  recreate:
    description:
      - Allow delete + create when a field that GKE sets only at creation differs (spot, accelerators, placement,
        reservation, service account, flex-start, queued provisioning), or when the pool is in ERROR.
      - Nodes and the pods on them go away.
    type: bool
    default: false
    version_added: 0.1.0
"""

EXAMPLES = r"""
- name: TPU v6e single-host pool of spot VMs that scales to zero (seed 000's v6e-1 runners)
  accelci.runners.gke_node_pool:
    project: my-project
    location: us-central1-b
    cluster: ci-runners
    name: tpu-v6e-1
    tpu: {accelerator: v6e, topology: 1x1}
    spot: true
    autoscaling: {min_nodes: 0, max_nodes: 4}

- name: Multi-host v5e slice (2 VMs), one slice at most
  accelci.runners.gke_node_pool:
    project: my-project
    location: us-west4-a
    cluster: ci-runners
    name: tpu-v5e-2x4
    tpu: {accelerator: v5e, topology: 2x4}
    autoscaling: {min_nodes: 0, max_nodes: 2}

- name: L4 GPU pool with the latest driver
  accelci.runners.gke_node_pool:
    project: my-project
    location: us-central1-a
    cluster: ci-runners
    name: gpu-l4
    gpu: {type: nvidia-l4, count: 1, driver_version: LATEST}
    machine_type: g2-standard-8
    autoscaling: {min_nodes: 0, max_nodes: 2}
    workload_metadata_mode: GKE_METADATA
"""

RETURN = r"""
node_pool:
  description: The pool as GKE reports it after the change (or as it would be, in check mode).
  returned: success
  type: dict
  contains:
    name: {description: Pool name., type: str, returned: always}
    status: {description: 'GKE status, for example RUNNING or PROVISIONING.', type: str, returned: when the pool exists}
    machine_type: {description: Machine type., type: str, returned: always}
    spot: {description: Whether nodes are Spot VMs., type: bool, returned: always}
    autoscaling: {description: Autoscaling settings., type: dict, returned: always}
    placement_policy: {description: Placement policy (multi-host TPU)., type: dict, returned: always}
    shape:
      description: The resolved accelerator shape (TPU or GPU), from the catalog.
      type: dict
      returned: for TPU and GPU pools
      sample: {machine_type: ct6e-standard-4t, chips_per_vm: 4, vms: 1, topology: 2x2, multi_host: false}
changes:
  description: Dotted paths of the fields that differed (or V(created)).
  returned: success
  type: list
  elements: str
  sample: [autoscaling, config.labels]
operations:
  description: Operations started, with their final status.
  returned: success
  type: list
  elements: dict
recreated:
  description: Whether the pool was deleted and created again.
  returned: when recreated
  type: bool
retries:
  description: Retried API calls (throttling, server errors, cluster busy), with the error and delay.
  returned: always
  type: list
  elements: dict
"""

from ansible_collections.accelci.runners.plugins.module_utils.gcp.module import GcpModule
from ansible_collections.accelci.runners.plugins.module_utils.gke.node_pool_manager import NodePoolManager
from ansible_collections.accelci.runners.plugins.module_utils.gke.operation_manager import exit_with_operations
from ansible_collections.accelci.runners.plugins.module_utils.gke.options import node_pool_argument_spec


def main():
    module = GcpModule("container", node_pool_argument_spec(), supports_check_mode=True,
                       mutually_exclusive=[("tpu", "gpu")])
    manager = NodePoolManager(module)
    exit_with_operations(module, manager)


if __name__ == "__main__":
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: accelerator_capacity_info
short_description: Quota and zones for a TPU or GPU type, and the best zone to put it in
version_added: 0.1.0
description:
  - For one TPU slice shape or GPU type, spot or on-demand, over a set of regions or zones, reports per region the
    quota metric that governs it with its limit, usage and what is free, the zones that offer the machine type, and
    the best zone by free quota with the reason.
  - Quota comes from Compute Engine C(regions.get) (C(quotas[]) with limit and usage); for TPU v6e from the Cloud
    Quotas API (C(quotaInfos.get) of C(compute.googleapis.com)), which gives limits only, so usage and free are
    null there. GPU requests also report the project-wide C(GPUS_ALL_REGIONS) quota (C(projects.get)). The metric
    names come from the accelerator catalog; names marked unverified there are reported with C(verified=false).
  - Zones offer TPU and accelerator-optimised GPU machines (G2, A2, A3, A4, G4) when their C(machineTypes.list)
    lists the machine type, and N1-attached GPUs (T4) when their C(acceleratorTypes.list) lists the GPU type.
    Zones that are not C(UP) offer nothing.
  - The best zone follows the rule of the GPU runner scaler (seed 002) - the region with the most free quota wins,
    then its first zone in the order asked that offers the machine; none when every region is full. Where usage is
    not reported, regions are ranked by limit.
  - With O(nodes) (or O(node_pool)), RV(capacity.check) says whether that many nodes fit - C(fits), C(short) (more
    than the limit), C(may_be_short) (more than is free, but the usage may be the pool's own nodes), C(not_offered),
    C(unknown) or C(reserved) - and the module warns when they may not.
  - Spot requests read the preemptible metric. Spot GPUs fall back to the standard metric where the project has no
    preemptible GPU quota in the region, as Compute Engine does.
  - Read-only. See docs/capacity.md.
options:
  tpu:
    description: A TPU slice, as for M(accelci.runners.gke_node_pool).
    type: dict
    version_added: 0.1.0
    suboptions:
      accelerator:
        description: Generation (V(v6e)) or node label value (V(tpu-v6e-slice)).
        type: str
        required: true
        version_added: 0.1.0
      topology:
        description: Slice topology (V(2x2), V(2x2x1)).
        type: str
        required: true
        version_added: 0.1.0
      machine_type:
        description: Machine type, where a topology has two shapes (v6e V(2x4) on V(ct6e-standard-4t)).
        type: str
        version_added: 0.1.0
  gpu:
    description: A GPU type and count per node.
    type: dict
    version_added: 0.1.0
    suboptions:
      type:
        description: GKE accelerator type (V(nvidia-l4), V(nvidia-tesla-t4)).
        type: str
        required: true
        version_added: 0.1.0
      count:
        description: GPUs per node; implied by the machine type of accelerator-optimised families.
        type: int
        version_added: 0.1.0
      machine_type:
        description: Machine type; the catalog's default for the GPU type when omitted.
        type: str
        version_added: 0.1.0
  spot:
    description:
      - Ask about spot capacity (the preemptible quota). Flex-start and queued provisioning draw on it too.
      - Treated as V(false) when omitted.
    type: bool
    version_added: 0.1.0
  regions:
    description: Regions to look at, in order of preference; every zone of each is considered.
    type: list
    elements: str
    version_added: 0.1.0
  zones:
    description: Zones to look at, in order of preference; their regions' quota applies (zones share it).
    type: list
    elements: str
    version_added: 0.1.0
  location:
    description:
      - A zone or a region - the cluster's location with O(node_pool), or a shorthand for one zone or region.
    type: str
    version_added: 0.1.0
  nodes:
    description:
      - The most nodes that could run (all zones together); RV(capacity.check) compares them, times the chips or
        GPUs per node, with the quota.
    type: int
    version_added: 0.1.0
  node_pool:
    description:
      - An C(accelci_node_pools) entry of the estate (C(tpu) or C(gpu), C(machine_type), C(spot), C(flex_start),
        C(queued_provisioning), C(reservation), C(autoscaling), C(node_count), C(locations), C(slices)), resolved as
        the cluster role's preflight resolves it; with O(location), the cluster's location.
      - Its most nodes are the autoscaling maximum (or node count) per zone, times its zones (its C(locations), the
        cluster's zone, or 3 for a regional cluster), times its slices.
    type: dict
    version_added: 0.1.0
  cloudquotas_api_endpoint:
    description:
      - Cloud Quotas API endpoint override (a private endpoint or a local emulator), for the metrics the catalog
        keeps there (TPU v6e). Falls back to E(ACCELCI_CLOUDQUOTAS_API_ENDPOINT).
      - O(api_endpoint) is the Compute Engine endpoint; it falls back to E(ACCELCI_COMPUTE_API_ENDPOINT). One local
        and one remote endpoint are refused.
    type: str
    version_added: 0.1.0
  wait_timeout:
    description: Seconds to keep retrying throttled or failing reads.
    type: int
    default: 300
    version_added: 0.1.0
extends_documentation_fragment:
  - accelci.runners.gcp
  - accelci.runners.gcp.PROJECT
attributes:
  check_mode:
    support: full
    description: Reads only; runs the same in check mode.
  diff_mode:
    support: none
    description: Nothing changes, so there is no diff.
notes:
  - Needs the C(compute.regions.get), C(compute.zones.list), C(compute.machineTypes.list),
    C(compute.acceleratorTypes.list) and C(compute.projects.get) permissions, and C(cloudquotas.quotas.get) for
    TPU v6e.
requirements:
  - google-cloud-compute
  - google-cloud-quotas
author:
  - accelci.runners maintainers (@accelci)
"""

EXAMPLES = r"""
- name: Where is there spot v6e quota for a 2x2 slice?
  accelci.runners.accelerator_capacity_info:
    project: my-project
    tpu: {accelerator: v6e, topology: 2x2}
    spot: true
    regions: [us-central1, us-east5, europe-west4]
  register: v6e

- name: Show the choice
  ansible.builtin.debug:
    msg: "{{ v6e.capacity.best_zone }}: {{ v6e.capacity.reason }}"

- name: Seed 002's question - T4 quota over four zones, for 5 runner VMs
  accelci.runners.accelerator_capacity_info:
    project: slang-runners
    gpu: {type: nvidia-tesla-t4, count: 1}
    zones: [us-east1-c, us-east1-d, us-central1-a, us-west1-a]
    nodes: 5

- name: Would this node pool ever get its nodes?
  accelci.runners.accelerator_capacity_info:
    project: my-project
    location: us-central1-b
    node_pool: {name: tpu-v6e-4, tpu: {accelerator: v6e, topology: 2x2}, spot: true,
                autoscaling: {min_nodes: 0, max_nodes: 2}}
  register: pool_capacity
"""

RETURN = r"""
capacity:
  description: The capacity report.
  returned: success
  type: dict
  contains:
    project:
      description: The project.
      type: str
    accelerator:
      description:
        - What was asked about - C(kind) (tpu, gpu), C(name) (v6e, nvidia-l4), C(description), C(machine_type),
          C(units_per_node) (chips or GPUs per node), C(unit), C(offer) (C(resource) machineTypes or
          acceleratorTypes, and the C(name) a zone must list).
      type: dict
    spot:
      description: Whether the preemptible quota was asked about.
      type: bool
    quota_metrics:
      description: The catalog's quota entry for the accelerator (api, metric, spot_metric, dimensions, verified,
        project_metric), or null when none is recorded.
      type: dict
    regions:
      description: One entry per region, in the order asked.
      type: list
      elements: dict
      contains:
        region:
          description: Region name.
          type: str
        zones:
          description: The zones considered.
          type: list
          elements: str
        zones_offering:
          description: Zones that list the machine or GPU type.
          type: list
          elements: str
        zones_not_offering:
          description: Zones that do not.
          type: list
          elements: str
        zones_down:
          description: Zones whose status is not UP.
          type: list
          elements: str
        quota:
          description:
            - The governing quota - C(api) (compute, cloudquotas), C(metric), C(dimensions), C(found), C(limit),
              C(usage) and C(free) (null when not reported), C(unlimited), C(verified), C(note), and
              C(fallback_from) (the preemptible metric a spot GPU fell back from).
          type: dict
    project_quota:
      description: The project-wide GPU quota (GPUS_ALL_REGIONS) in the same form, for GPUs; null for TPUs.
      type: dict
    best_zone:
      description: The zone chosen by seed 002's rule, or null.
      type: str
      sample: us-central1-a
    best_region:
      description: Its region, or null.
      type: str
    reason:
      description: Why that zone (or why none).
      type: str
    check:
      description:
        - With O(nodes) or O(node_pool) - C(nodes), C(demand) (nodes x units per node), C(unit), C(verdict),
          C(message), C(problems), C(notes), C(regions) (per-region verdicts), C(scales_from_zero) and
          C(reservation) (node pools). Null otherwise.
      type: dict
    pool:
      description: For O(node_pool) - C(name), C(scales_from_zero), C(nodes_per_zone), C(zone_count),
        C(zones_assumed), C(slices), C(reservation). Null otherwise.
      type: dict
retries:
  description: Calls retried after throttling or server errors.
  returned: always
  type: list
  elements: dict
"""

from ansible.module_utils.basic import env_fallback

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import AccelciError
from ansible_collections.accelci.runners.plugins.module_utils.capacity.capacity_client import capacity_info
from ansible_collections.accelci.runners.plugins.module_utils.gcp.client import SERVICES
from ansible_collections.accelci.runners.plugins.module_utils.gcp.module import GcpModule


def main():
    argument_spec = dict(
        tpu=dict(type="dict", options=dict(
            accelerator=dict(type="str", required=True),
            topology=dict(type="str", required=True),
            machine_type=dict(type="str"),
        )),
        gpu=dict(type="dict", options=dict(
            type=dict(type="str", required=True),
            count=dict(type="int"),
            machine_type=dict(type="str"),
        )),
        spot=dict(type="bool"),
        regions=dict(type="list", elements="str"),
        zones=dict(type="list", elements="str"),
        location=dict(type="str"),
        nodes=dict(type="int"),
        node_pool=dict(type="dict"),
        cloudquotas_api_endpoint=dict(type="str", fallback=(env_fallback, [SERVICES["cloudquotas"][2]])),
        wait_timeout=dict(type="int", default=300),
    )
    module = GcpModule(
        "compute", argument_spec, supports_check_mode=True,
        mutually_exclusive=[["tpu", "gpu", "node_pool"], ["regions", "zones", "location"], ["node_pool", "nodes"],
                            ["node_pool", "spot"]],
        required_one_of=[["tpu", "gpu", "node_pool"], ["regions", "zones", "location"]],
        required_by={"node_pool": "location"},
    )
    try:
        result = capacity_info(module)
    except AccelciError as exc:
        module.fail_json(**exc.fail_json_kwargs())
    check = result["capacity"]["check"] or {}
    for problem in check.get("problems", []):
        module.warn(problem)
    module.exit_json(**result)


if __name__ == "__main__":
    main()

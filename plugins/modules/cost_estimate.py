#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cost_estimate
short_description: Monthly cost of an estate from a dated, overridable price table
version_added: 0.1.0
description:
  - Estimates what an estate costs per month from its variables (C(accelci_cluster), C(accelci_node_pools),
    C(accelci_scale_sets), C(accelci_model_cache)) and the busy hours you expect per pool or scale set.
  - "The fixed base: the GKE control plane, the system nodes, the model cache (GCS or Filestore) and the nodes a
    pool keeps running (its minimum). Then each pool's usage: busy slice-hours x VMs per slice x the machine's
    hourly price (a multi-host TPU slice is billed for all its VMs). Every line on-demand, spot and as configured
    side by side, with the GitHub-hosted runner that stands in for a pool where the price table names one."
  - TPU and GPU pools are resolved to their machine type through the collection's accelerator catalog.
  - Prices come from a table shipped with the collection (dated; seed 000's us-central1 prices) that O(prices)
    overrides or extends per region and machine type. A machine type without a price fails, naming the pool's field
    and the machine type; it is never counted as zero.
  - Reads nothing outside the task and changes nothing; the result is the same in check mode.
options:
  location:
    description:
      - Zone (V(us-central1-b)) or region of the cluster, as C(accelci_location); its region picks the prices.
      - Required unless O(price_region) is given or nothing is on GKE (no cluster, model cache or GKE pool).
    type: str
    version_added: 0.1.0
  price_region:
    description:
      - Region whose prices to use, when it is not the estate's own (for example the table's V(us-central1) prices
        as an approximation for another region).
    type: str
    version_added: 0.1.0
  cluster:
    description:
      - The GKE cluster (C(accelci_cluster)); its control plane and system pool (C(system_pool.machine_type),
        C(min_nodes), C(spot)) are priced. Leave it out for a cluster this estate does not create.
    type: dict
    version_added: 0.1.0
  system_nodes:
    description:
      - System nodes running all month. Defaults to the system pool's C(min_nodes) (1 when unset); seed 000
        counts 2.
    type: int
    version_added: 0.1.0
  node_pools:
    description:
      - The node pools (C(accelci_node_pools) entries), with C(tpu), C(gpu) or C(machine_type), C(spot),
        C(flex_start), C(autoscaling), C(locations) and C(slices) (an entry of several multi-host slices is priced
        as one, with room for each slice). Pools off GKE (C(gke=false), C(amd_gpu), C(nvidia_gpu)) are listed as not
        priced.
    type: list
    elements: dict
    default: []
    version_added: 0.1.0
  scale_sets:
    description:
      - The runner scale sets (C(accelci_scale_sets) entries, C(name) and C(node_pool) are read), so O(usage_hours)
        can name a scale set instead of its pool.
    type: list
    elements: dict
    default: []
    version_added: 0.1.0
  model_cache:
    description:
      - The model cache (C(accelci_model_cache)). C(backend=filestore) is billed for C(filestore.capacity_gb)
        (default 1024 GiB) of C(filestore.tier) (default C(BASIC_HDD)); C(backend=gcs) for O(storage_tib);
        C(backend=none) or no model cache costs nothing.
    type: dict
    version_added: 0.1.0
  storage_tib:
    description: TiB of models stored in the GCS bucket (required with C(model_cache.backend=gcs)).
    type: float
    version_added: 0.1.0
  storage_class:
    description: Storage class of the GCS bucket.
    type: str
    default: STANDARD
    version_added: 0.1.0
  usage_hours:
    description:
      - "Busy slice-hours per month, by node pool or scale set name (scale sets add to their pool): one slice busy
        for an hour is one hour, two runners busy at once for an hour are two. Pools not named are idle (0)."
    type: dict
    default: {}
    version_added: 0.1.0
  usage_scenarios:
    description:
      - Named alternatives to O(usage_hours) (each a mapping like it), estimated side by side, for example seed
        000's C(light), C(medium) and C(heavy) CI loads.
    type: dict
    default: {}
    version_added: 0.1.0
  prices:
    description:
      - "Overrides and additions to the price table, in its shape: C(as_of) (the date of your figures),
        C(regions.<region>.machine_types.<machine type>) with C(on_demand), C(spot), C(flex_start) per node-hour
        (N1 machines with GPUs as C(<machine type>+<count>x<gpu type>)), C(regions.<region>.gke_control_plane.monthly),
        C(regions.<region>.filestore.<tier>.tib_monthly), C(regions.<region>.gcs.<class>.tib_monthly), and
        C(github_hosted.<runner>) with C(per_minute) and C(equivalent_of) (the price keys it stands in for)."
      - Fields of an entry are replaced one by one; each may carry a C(source).
    type: dict
    default: {}
    version_added: 0.1.0
attributes:
  check_mode:
    support: full
    description: Computes the same estimate in any mode.
  diff_mode:
    support: none
    description: Nothing changes.
notes:
  - Flex-start pools are priced at the machine type's C(flex_start) price, or at its spot price (said in C(notes))
    when the table has none. Pools using a reservation or queued provisioning are priced on-demand.
  - Node counts are per zone; a pool with C(locations) counts each zone.
author:
  - accelci.runners maintainers (@accelci)
"""

EXAMPLES = r"""
- name: Estimate seed 000's estate with its medium CI load
  accelci.runners.cost_estimate:
    location: us-central1-b
    cluster: "{{ accelci_cluster }}"
    system_nodes: 2
    node_pools: "{{ accelci_node_pools }}"
    scale_sets: "{{ accelci_scale_sets }}"
    model_cache: {backend: filestore, filestore: {tier: BASIC_HDD, capacity_gb: 1024}}
    usage_hours: {arc-runner-v6e-4: 25}
  register: cost

- name: Price a machine type the table does not hold
  accelci.runners.cost_estimate:
    location: us-central1-a
    cluster: "{{ accelci_cluster }}"
    node_pools: "{{ accelci_node_pools }}"
    model_cache: "{{ accelci_model_cache }}"
    storage_tib: 0.1
    usage_hours: {gpu-l4: 40}
    prices:
      as_of: "2026-03"
      regions:
        us-central1:
          machine_types:
            g2-standard-8: {on_demand: 0.85, spot: 0.34, source: our March bill}
"""

RETURN = r"""
cost_estimate:
  description:
    - The estimate, amounts in the table's currency per month rounded to cents; C(null) where a column has no price.
    - "C(prices): C(as_of), C(currency), C(hours_per_month), C(region), C(estate_region), C(overridden),
      C(overrides_as_of). C(base): lines (C(item) control_plane, system_nodes, model_cache or pool_minimum, C(detail),
      C(on_demand), C(spot), C(configured)). C(pools): per pool C(machine_type), C(price_key), C(vms_per_slice),
      C(provisioning), C(usage_hours), C(slice_rates), C(on_demand), C(spot), C(configured), C(github_hosted).
      C(unpriced): pools left out and why. C(totals): C(base), C(usage), C(monthly), C(github_hosted).
      C(scenarios): per O(usage_scenarios) entry its pools and totals. C(notes)."
  returned: always
  type: dict
  sample:
    prices: {as_of: "2026-01", currency: USD, hours_per_month: 730, region: us-central1}
    totals: {base: {on_demand: 374.0, spot: 306.0, configured: 374.0}}
markdown:
  description: The estimate as a Markdown report (tables padded to read well in a terminal).
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import AccelciError
from ansible_collections.accelci.runners.plugins.module_utils.cost.estimate import estimate_cost
from ansible_collections.accelci.runners.plugins.module_utils.cost.report import markdown_report


def main():
    argument_spec = dict(
        location=dict(type="str"),
        price_region=dict(type="str"),
        cluster=dict(type="dict"),
        system_nodes=dict(type="int"),
        node_pools=dict(type="list", elements="dict", default=[]),
        scale_sets=dict(type="list", elements="dict", default=[]),
        model_cache=dict(type="dict"),
        storage_tib=dict(type="float"),
        storage_class=dict(type="str", default="STANDARD"),
        usage_hours=dict(type="dict", default={}),
        usage_scenarios=dict(type="dict", default={}),
        prices=dict(type="dict", default={}),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        estimate = estimate_cost(module.params)
        title = (module.params.get("cluster") or {}).get("name")
        report = markdown_report(estimate, title=title)
    except AccelciError as exc:
        module.fail_json(changed=False, **exc.fail_json_kwargs())
    module.exit_json(changed=False, cost_estimate=estimate, markdown=report)


if __name__ == "__main__":
    main()

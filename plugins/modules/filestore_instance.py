#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: filestore_instance
short_description: A Filestore NFS share for the model cache
version_added: 0.1.0
description:
  - Creates, grows, relabels or deletes a Filestore instance with one file share, and returns its IP address and
    the Filestore CSI driver's volume handle for a PersistentVolume.
  - Tier, share name, network, connect mode and reserved IP range are create-time only; a difference fails with a
    message and nothing is recreated. Basic tiers can only grow.
  - Every option is checked before the first API call, including the capacity range of the tier.
options:
  name:
    description: Instance ID (1-63 lowercase letters, digits and C(-), starting with a letter).
    type: str
    required: true
    version_added: 0.1.0
  location:
    description:
      - Zone (V(us-central1-b)) for the zonal tiers (C(BASIC_HDD), C(BASIC_SSD), C(ZONAL), C(HIGH_SCALE_SSD)),
        region (V(us-central1)) for C(REGIONAL) and C(ENTERPRISE).
    type: str
    required: true
    version_added: 0.1.0
  state:
    description:
      - V(absent) deletes the instance and every file on it.
    type: str
    choices: [present, absent]
    default: present
    version_added: 0.1.0
  tier:
    description: Service tier. C(BASIC_HDD) starts at 1 TiB (seed 000's choice, about 204 USD a month).
    type: str
    choices: [BASIC_HDD, BASIC_SSD, ZONAL, REGIONAL, ENTERPRISE, HIGH_SCALE_SSD]
    default: BASIC_HDD
    version_added: 0.1.0
  capacity_gb:
    description:
      - Share capacity in GiB, within the tier's range (BASIC_HDD 1024-65434, BASIC_SSD 2560-65434,
        ZONAL/REGIONAL 1024-102400, ENTERPRISE 1024-10240, HIGH_SCALE_SSD 10240-102400).
    type: int
    default: 1024
    version_added: 0.1.0
  share_name:
    description: File share name (a letter, then lowercase letters, digits, C(_); 16 characters on basic tiers).
    type: str
    default: models
    version_added: 0.1.0
  network:
    description: VPC network the share is reachable from (the cluster's).
    type: str
    default: default
    version_added: 0.1.0
  connect_mode:
    description: How the instance connects to the network.
    type: str
    choices: [DIRECT_PEERING, PRIVATE_SERVICE_ACCESS]
    default: DIRECT_PEERING
    version_added: 0.1.0
  reserved_ip_range:
    description: CIDR block (DIRECT_PEERING) or allocated range name (PRIVATE_SERVICE_ACCESS) for the instance.
    type: str
    version_added: 0.1.0
  labels:
    description: Instance labels (replaced as a whole).
    type: dict
    default: {}
    version_added: 0.1.0
  description:
    description: Instance description.
    type: str
    version_added: 0.1.0
  deletion_protection:
    description: Refuse deletion at the API until turned off.
    type: bool
    version_added: 0.1.0
  poll_interval:
    description: Seconds between reads while an instance created earlier is still becoming ready.
    type: int
    default: 10
    version_added: 0.1.0
extends_documentation_fragment:
  - accelci.runners.gcp
  - accelci.runners.gcp.PROJECT
  - accelci.runners.gcp.WAIT
attributes:
  check_mode:
    support: full
    description: Reads the instance; makes no mutating call.
  diff_mode:
    support: full
    description: The managed settings before and after.
author:
  - accelci.runners maintainers (@accelci)
"""

EXAMPLES = r"""
- name: Filestore share for /models, as in seed 000
  accelci.runners.filestore_instance:
    project: my-project
    location: us-central1-b
    name: sglang-models
    tier: BASIC_HDD
    capacity_gb: 1024
    share_name: models
    network: default
  register: share

- name: Show where the PersistentVolume points
  ansible.builtin.debug:
    msg: "{{ share.instance.ip_address }}:/{{ share.instance.share_name }} ({{ share.instance.volume_handle }})"
"""

RETURN = r"""
instance:
  description: The instance after the run (what it would be, in check mode); null once deleted.
  returned: always
  type: dict
  contains:
    name:
      description: Instance ID.
      type: str
    location:
      description: Zone or region.
      type: str
    tier:
      description: Service tier.
      type: str
    capacity_gb:
      description: Share capacity in GiB.
      type: int
    share_name:
      description: File share name (the NFS export is C(/SHARE)).
      type: str
    network:
      description: VPC network.
      type: str
    ip_address:
      description: The share's IP address (null until the instance is created).
      type: str
      sample: 10.24.0.2
    volume_handle:
      description: C(modeInstance/LOCATION/NAME/SHARE), the Filestore CSI driver's handle for a static PersistentVolume.
      type: str
    state:
      description: Instance state (READY, CREATING, ...).
      type: str
    labels:
      description: Labels.
      type: dict
changes:
  description: The update-mask fields changed (or that would change).
  returned: always
  type: list
  elements: str
"""

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import AccelciError
from ansible_collections.accelci.runners.plugins.module_utils.storage.filestore_manager import FilestoreManager
from ansible_collections.accelci.runners.plugins.module_utils.gcp.module import GcpModule


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        location=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        tier=dict(type="str", choices=["BASIC_HDD", "BASIC_SSD", "ZONAL", "REGIONAL", "ENTERPRISE", "HIGH_SCALE_SSD"],
                  default="BASIC_HDD"),
        capacity_gb=dict(type="int", default=1024),
        share_name=dict(type="str", default="models"),
        network=dict(type="str", default="default"),
        connect_mode=dict(type="str", choices=["DIRECT_PEERING", "PRIVATE_SERVICE_ACCESS"], default="DIRECT_PEERING"),
        reserved_ip_range=dict(type="str"),
        labels=dict(type="dict", default={}),
        description=dict(type="str"),
        deletion_protection=dict(type="bool"),
        poll_interval=dict(type="int", default=10),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=1800),
    )
    module = GcpModule("filestore", argument_spec, supports_check_mode=True)
    try:
        result = FilestoreManager(module).run()
    except AccelciError as exc:
        module.fail_json(**exc.fail_json_kwargs())
    if not module._diff:
        result.pop("diff", None)
    module.exit_json(**result)


if __name__ == "__main__":
    main()

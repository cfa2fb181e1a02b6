# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Argument specs shared by gke_node_pool and gke_cluster's system pool."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def node_pool_argument_spec():
    """Options describing one node pool (everything but cluster, location, state and connection)."""
    return dict(
        name=dict(type="str", required=True),
        tpu=dict(type="dict", options=dict(
            accelerator=dict(type="str", required=True),
            topology=dict(type="str", required=True),
            machine_type=dict(type="str"),
        )),
        gpu=dict(type="dict", options=dict(
            type=dict(type="str", required=True),
            count=dict(type="int"),
            driver_version=dict(type="str", choices=["DEFAULT", "LATEST", "INSTALLATION_DISABLED"],
                                default="DEFAULT"),
            sharing=dict(type="dict", options=dict(
                strategy=dict(type="str", choices=["TIME_SHARING", "MPS"], required=True),
                max_shared_clients=dict(type="int", required=True),
            )),
            partition_size=dict(type="str"),
        )),
        machine_type=dict(type="str"),
        spot=dict(type="bool", default=False),
        reservation=dict(type="dict", options=dict(
            affinity=dict(type="str", choices=["NO_RESERVATION", "ANY_RESERVATION", "SPECIFIC_RESERVATION"],
                          required=True),
            name=dict(type="str"),
        )),
        flex_start=dict(type="bool", default=False),
        queued_provisioning=dict(type="bool", default=False),
        autoscaling=dict(type="dict", options=dict(
            enabled=dict(type="bool", default=True),
            min_nodes=dict(type="int", default=0),
            max_nodes=dict(type="int"),
            location_policy=dict(type="str", choices=["ANY", "BALANCED"]),
        )),
        node_count=dict(type="int"),
        labels=dict(type="dict"),
        taints=dict(type="list", elements="dict", options=dict(
            key=dict(type="str", required=True, no_log=False),
            value=dict(type="str"),
            effect=dict(type="str", choices=["NO_SCHEDULE", "PREFER_NO_SCHEDULE", "NO_EXECUTE"], required=True),
        )),
        disk_size_gb=dict(type="int"),
        disk_type=dict(type="str"),
        service_account=dict(type="str"),
        oauth_scopes=dict(type="list", elements="str"),
        workload_metadata_mode=dict(type="str", choices=["GKE_METADATA", "GCE_METADATA"]),
        auto_repair=dict(type="bool"),
        auto_upgrade=dict(type="bool"),
        locations=dict(type="list", elements="str"),
        placement_policy_name=dict(type="str"),
        recreate=dict(type="bool", default=False),
    )

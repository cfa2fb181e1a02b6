# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Argument specs of gke_node_pool and gke_cluster, built from the constants their checks use."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.accelci.runners.plugins.module_utils.gke.catalog import GPU_SHARING_STRATEGIES
from ansible_collections.accelci.runners.plugins.module_utils.gke.cluster import (
    ADDONS,
    RELEASE_CHANNELS,
    SYSTEM_POOL_DEFAULTS,
)
from ansible_collections.accelci.runners.plugins.module_utils.gke.node_pool import (
    GPU_DRIVER_VERSIONS,
    LOCATION_POLICIES,
    RESERVATION_AFFINITIES,
    TAINT_EFFECTS,
    WORKLOAD_METADATA_MODES,
)

_WAIT = dict(
    wait=dict(type="bool", default=True),
    wait_timeout=dict(type="int", default=1800),
)


def _gpu_options():
    return dict(
        type=dict(type="str", required=True),
        count=dict(type="int"),
        driver_version=dict(type="str", choices=list(GPU_DRIVER_VERSIONS), default="DEFAULT"),
        sharing=dict(type="dict", options=dict(
            strategy=dict(type="str", choices=list(GPU_SHARING_STRATEGIES), required=True),
            max_shared_clients=dict(type="int", required=True),
        )),
        partition_size=dict(type="str"),
    )


def node_pool_argument_spec():
    """Options of gke_node_pool (everything but the connection options)."""
    return dict(
        name=dict(type="str", required=True),
        cluster=dict(type="str", required=True),
        location=dict(type="str", required=True),
        cluster_workload_identity=dict(type="bool", default=False),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        confirm_delete=dict(type="str"),
        tpu=dict(type="dict", options=dict(
            accelerator=dict(type="str", required=True),
            topology=dict(type="str", required=True),
            machine_type=dict(type="str"),
        )),
        gpu=dict(type="dict", options=_gpu_options()),
        machine_type=dict(type="str"),
        spot=dict(type="bool", default=False),
        reservation=dict(type="dict", options=dict(
            affinity=dict(type="str", choices=list(RESERVATION_AFFINITIES), required=True),
            name=dict(type="str"),
        )),
        flex_start=dict(type="bool", default=False),
        queued_provisioning=dict(type="bool", default=False),
        autoscaling=dict(type="dict", options=dict(
            enabled=dict(type="bool", default=True),
            min_nodes=dict(type="int", default=0),
            max_nodes=dict(type="int"),
            location_policy=dict(type="str", choices=list(LOCATION_POLICIES)),
        )),
        node_count=dict(type="int"),
        labels=dict(type="dict"),
        taints=dict(type="list", elements="dict", options=dict(
            key=dict(type="str", required=True, no_log=False),
            value=dict(type="str"),
            effect=dict(type="str", choices=list(TAINT_EFFECTS), required=True),
        )),
        disk_size_gb=dict(type="int"),
        disk_type=dict(type="str"),
        ignore_unverified=dict(type="bool", default=False),
        service_account=dict(type="str"),
        oauth_scopes=dict(type="list", elements="str"),
        workload_metadata_mode=dict(type="str", choices=list(WORKLOAD_METADATA_MODES)),
        auto_repair=dict(type="bool"),
        auto_upgrade=dict(type="bool"),
        locations=dict(type="list", elements="str"),
        placement_policy_name=dict(type="str"),
        recreate=dict(type="bool", default=False),
        **_WAIT
    )


def cluster_argument_spec():
    """Options of gke_cluster (everything but the connection options)."""
    return dict(
        name=dict(type="str", required=True),
        location=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        confirm_delete=dict(type="str"),
        allow_create=dict(type="bool", default=True),
        release_channel=dict(type="str", choices=list(RELEASE_CHANNELS)),
        kubernetes_version=dict(type="str"),
        workload_identity=dict(type="bool"),
        addons=dict(type="dict", options=dict((name, dict(type="bool")) for name in sorted(ADDONS))),
        labels=dict(type="dict"),
        purge_labels=dict(type="bool", default=False),
        declared_node_pools=dict(type="list", elements="str"),
        network=dict(type="str"),
        subnetwork=dict(type="str"),
        system_pool=dict(type="dict", options=dict(
            name=dict(type="str", default=SYSTEM_POOL_DEFAULTS["name"]),
            machine_type=dict(type="str", default=SYSTEM_POOL_DEFAULTS["machine_type"]),
            min_nodes=dict(type="int", default=SYSTEM_POOL_DEFAULTS["min_nodes"]),
            max_nodes=dict(type="int", default=SYSTEM_POOL_DEFAULTS["max_nodes"]),
            spot=dict(type="bool", default=False),
            disk_size_gb=dict(type="int"),
            disk_type=dict(type="str"),
            labels=dict(type="dict"),
            workload_metadata_mode=dict(type="str", choices=list(WORKLOAD_METADATA_MODES)),
            recreate=dict(type="bool", default=False),
        )),
        **_WAIT
    )


def kubeconfig_argument_spec():
    """Options of gke_kubeconfig (everything but the connection options)."""
    return dict(
        cluster=dict(type="str", required=True),
        location=dict(type="str", required=True),
        path=dict(type="path"),
        context=dict(type="str"),
        endpoint=dict(type="str"),
        cluster_ca_certificate=dict(type="str"),
    )

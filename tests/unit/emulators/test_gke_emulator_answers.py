"""The GKE emulator answers the way GKE does: the defaults it fills in, one slice per multi-host pool, its own
refusals, quota as it charges it, Google's error bodies and which operations may run side by side."""

import pytest
from google.api_core import exceptions as gexc
from google.cloud.container_v1 import types

from tests.emulators.gke import GkeEmulator
from tests.unit.emulators.gke_support import (
    CLUSTER, OP_SECONDS, PARENT, PROJECT, REGION, api_error, call, create_cluster, raw, system_pool, v6e_multi_host,
    wait_done,
)

POOLS = CLUSTER + "/nodePools/"
GPU_TAINT = types.NodeTaint(key="nvidia.com/gpu", value="present", effect="NO_SCHEDULE")
QUOTA_URL = "https://console.cloud.google.com/iam-admin/quotas?usage=USED&project=%s" % PROJECT


def create_pool(client, pool):
    done = wait_done(client, client.create_node_pool(parent=CLUSTER, node_pool=pool))
    assert not done.error.message, done
    return client.get_node_pool(name=POOLS + pool.name)


def refused(client, emu, pool, status=gexc.BadRequest):
    """Create ``pool``, expect a synchronous refusal that changes nothing; returns the error body."""
    before = [p.name for p in client.list_node_pools(parent=CLUSTER).node_pools]
    with pytest.raises(status) as err:
        client.create_node_pool(parent=CLUSTER, node_pool=pool)
    assert [p.name for p in client.list_node_pools(parent=CLUSTER).node_pools] == before
    assert [op for op in emu.state()["operations"] if op["targetLink"].endswith("/" + pool.name)] == []
    return api_error(err)


def l4_pool(name="l4", **config):
    return types.NodePool(name=name, initial_node_count=1, config=types.NodeConfig(
        machine_type="g2-standard-8",
        accelerators=[types.AcceleratorConfig(accelerator_type="nvidia-l4", accelerator_count=1)], **config))


def gpu_pool(name, machine_type, kind, count, partition=None, sharing=None):
    accelerator = types.AcceleratorConfig(accelerator_type=kind, accelerator_count=count)
    if partition:
        accelerator.gpu_partition_size = partition
    if sharing is not None:
        accelerator.gpu_sharing_config = types.GPUSharingConfig(
            max_shared_clients_per_gpu=sharing, gpu_sharing_strategy="TIME_SHARING")
    return types.NodePool(name=name, config=types.NodeConfig(machine_type=machine_type, accelerators=[accelerator]))


# ------------------------------------------------------------------------------------------------- defaults


def test_node_pool_defaults_are_filled_in_and_returned(client, emu):
    identity = types.WorkloadIdentityConfig(workload_pool=PROJECT + ".svc.id.goog")
    create_cluster(client, workload_identity_config=identity)
    pool = create_pool(client, types.NodePool(
        name="cpu", initial_node_count=1, config=types.NodeConfig(machine_type="e2-standard-8"),
        autoscaling=types.NodePoolAutoscaling(enabled=True, max_node_count=3)))
    assert pool.autoscaling.location_policy == types.NodePoolAutoscaling.LocationPolicy.BALANCED
    assert pool.management == types.NodeManagement(auto_upgrade=True, auto_repair=True)
    assert pool.upgrade_settings == types.NodePool.UpgradeSettings(max_surge=1, max_unavailable=0, strategy="SURGE")
    assert pool.max_pods_constraint.max_pods_per_node == 110
    config = pool.config
    assert (config.disk_size_gb, config.disk_type, config.image_type) == (100, "pd-balanced", "COS_CONTAINERD")
    assert "https://www.googleapis.com/auth/devstorage.read_only" in config.oauth_scopes
    assert dict(config.metadata) == {"disable-legacy-endpoints": "true"}
    assert config.shielded_instance_config == types.ShieldedInstanceConfig(enable_integrity_monitoring=True)
    assert config.workload_metadata_config.mode == types.WorkloadMetadataConfig.Mode.GKE_METADATA
    assert not config.taints
    # What the pool said itself is kept: an explicit location policy, upgrade settings, management.
    own = create_pool(client, types.NodePool(
        name="own", config=types.NodeConfig(machine_type="e2-standard-4", disk_type="pd-ssd", disk_size_gb=50),
        autoscaling=types.NodePoolAutoscaling(enabled=True, max_node_count=2, location_policy="ANY"),
        upgrade_settings=types.NodePool.UpgradeSettings(max_surge=0, max_unavailable=2),
        management=types.NodeManagement(auto_upgrade=True, auto_repair=False)))
    assert own.autoscaling.location_policy == types.NodePoolAutoscaling.LocationPolicy.ANY
    assert (own.upgrade_settings.max_surge, own.upgrade_settings.max_unavailable) == (0, 2)
    assert not own.management.auto_repair
    assert (own.config.disk_type, own.config.disk_size_gb) == ("pd-ssd", 50)


def test_workload_metadata_is_left_unset_without_workload_identity(client, emu):
    create_cluster(client)
    config = client.get_node_pool(name=POOLS + "system").config
    assert not types.NodeConfig.pb(config).HasField("workload_metadata_config")


@pytest.mark.parametrize("config, expected", [
    ({"spot": True}, "ANY"),
    ({"flex_start": True}, "ANY"),
    ({}, "BALANCED"),
])
def test_location_policy_default_follows_the_capacity_kind(client, emu, config, expected):
    create_cluster(client)
    pool = create_pool(client, types.NodePool(
        name="scaled", config=types.NodeConfig(machine_type="n1-standard-4", **config),
        autoscaling=types.NodePoolAutoscaling(enabled=True, max_node_count=2)))
    assert pool.autoscaling.location_policy == types.NodePoolAutoscaling.LocationPolicy[expected]
    # setAutoscaling without a policy gets the default again.
    wait_done(client, call(client.set_node_pool_autoscaling, name=POOLS + "scaled",
                           autoscaling=types.NodePoolAutoscaling(enabled=True, max_node_count=5)))
    again = client.get_node_pool(name=POOLS + "scaled").autoscaling
    assert again.max_node_count == 5 and again.location_policy == types.NodePoolAutoscaling.LocationPolicy[expected]


def test_gpu_pools_get_the_gpu_taint_and_keep_it(client, emu):
    create_cluster(client)
    pool = create_pool(client, l4_pool(taints=[types.NodeTaint(key="team", value="ml", effect="NO_EXECUTE")]))
    assert [t.key for t in pool.config.taints] == ["team", "nvidia.com/gpu"]
    assert pool.config.taints[1] == GPU_TAINT
    # An update that sends the user's taints only gets GKE's back as well.
    wait_done(client, call(client.update_node_pool, name=POOLS + "l4", taints=types.NodeTaints(
        taints=[types.NodeTaint(key="team", value="infra", effect="NO_SCHEDULE")])))
    taints = client.get_node_pool(name=POOLS + "l4").config.taints
    assert [(t.key, t.value) for t in taints] == [("team", "infra"), ("nvidia.com/gpu", "present")]
    # A machine that comes with its GPUs reports them, and is tainted too.
    g2 = create_pool(client, types.NodePool(name="g2", config=types.NodeConfig(machine_type="g2-standard-24")))
    assert list(g2.config.accelerators) == [types.AcceleratorConfig(accelerator_type="nvidia-l4", accelerator_count=2)]
    assert list(g2.config.taints) == [GPU_TAINT]
    assert not client.get_node_pool(name=POOLS + "system").config.taints


def test_no_gpu_taint_when_every_pool_has_gpus(client, emu):
    op = client.create_cluster(parent=PARENT, cluster=types.Cluster(name="ci", node_pools=[l4_pool()]))
    wait_done(client, op)
    assert not client.get_node_pool(name=POOLS + "l4").config.taints
    assert not create_pool(client, l4_pool(name="l4-more")).config.taints


def test_hyperdisk_only_families_default_to_hyperdisk(client, emu):
    create_cluster(client)
    tpu = create_pool(client, types.NodePool(name="v6e", config=types.NodeConfig(machine_type="ct6e-standard-4t")))
    g4 = create_pool(client, gpu_pool("g4", "g4-standard-96", "nvidia-rtx-pro-6000", 2))
    assert tpu.config.disk_type == g4.config.disk_type == "hyperdisk-balanced"


def test_cluster_defaults_are_filled_in_and_returned(client, emu):
    create_cluster(client, addons_config=types.AddonsConfig(
        gcs_fuse_csi_driver_config=types.GcsFuseCsiDriverConfig(enabled=True)))
    status, body = raw(emu, "GET", "/v1/" + CLUSTER)
    assert status == 200
    assert body["addonsConfig"] == {
        "httpLoadBalancing": {}, "horizontalPodAutoscaling": {}, "kubernetesDashboard": {"disabled": True},
        "networkPolicyConfig": {"disabled": True}, "gcePersistentDiskCsiDriverConfig": {"enabled": True},
        "gcsFuseCsiDriverConfig": {"enabled": True}}
    assert body["releaseChannel"] == {"channel": "REGULAR"}
    assert body["defaultMaxPodsConstraint"] == {"maxPodsPerNode": "110"}
    assert body["shieldedNodes"] == {"enabled": True}
    assert body["ipAllocationPolicy"]["useIpAliases"] is True
    assert body["networkConfig"]["network"] == "projects/%s/global/networks/default" % PROJECT
    assert body["loggingConfig"]["componentConfig"]["enableComponents"] == ["SYSTEM_COMPONENTS", "WORKLOADS"]
    assert body["monitoringConfig"]["managedPrometheusConfig"] == {"enabled": True}


# ------------------------------------------------------------------------------------------------- slices


@pytest.mark.parametrize("initial, scaling, message", [
    (8, None, "Requested invalid target size '8' for a Managed Instance Group in the gang mode of size '4'. "
              "Should be equal to the gang size."),
    (2, None, "Requested invalid target size '2' for a Managed Instance Group in the gang mode of size '4'. "
              "Should be equal to the gang size."),
    (0, (2, 4), "Requested invalid target size '2' for a Managed Instance Group in the gang mode of size '4'. "
                "Should be equal to the gang size."),
    (0, (0, 0), "Maximum node count 0 is not a valid size of TPU pod slice"),
])
def test_a_multi_host_pool_is_one_slice(client, emu, initial, scaling, message):
    create_cluster(client)
    pool = v6e_multi_host(name="slice", initial_node_count=initial)
    pool.config.spot = False
    if scaling is None:
        pool.autoscaling = types.NodePoolAutoscaling()
    else:
        pool.autoscaling = types.NodePoolAutoscaling(enabled=True, min_node_count=scaling[0], max_node_count=scaling[1])
    op = client.create_node_pool(parent=CLUSTER, node_pool=pool)  # accepted ...
    done = wait_done(client, op)  # ... and fails inside the operation
    assert (done.error.code, done.error.message, done.detail) == (3, message, message)
    assert done.status == types.Operation.Status.DONE
    assert client.get_node_pool(name=POOLS + "slice").status == types.NodePool.Status.ERROR


def test_a_pool_of_exactly_one_slice_is_accepted(client, emu):
    create_cluster(client)
    pool = v6e_multi_host(name="slice", initial_node_count=4)
    pool.autoscaling = types.NodePoolAutoscaling(enabled=True, min_node_count=4, max_node_count=4)
    assert create_pool(client, pool).status == types.NodePool.Status.RUNNING
    v5e = create_pool(client, types.NodePool(
        name="v5e-2x4", initial_node_count=2, config=types.NodeConfig(machine_type="ct5lp-hightpu-4t"),
        placement_policy=types.NodePool.PlacementPolicy(type_="COMPACT", tpu_topology="2x4")))
    assert v5e.config.disk_type == "pd-balanced"


# ------------------------------------------------------------------------------------------------- refusals


def test_flex_start_tpus_refuse_queued_provisioning(client, emu):
    create_cluster(client)
    pool = types.NodePool(
        name="flex", config=types.NodeConfig(machine_type="ct6e-standard-4t", flex_start=True),
        queued_provisioning=types.NodePool.QueuedProvisioning(enabled=True),
        autoscaling=types.NodePoolAutoscaling(enabled=True, max_node_count=1))
    error = refused(client, emu, pool)
    assert (error["status"], error["message"]) == (
        "INVALID_ARGUMENT", "Flex start node pools don't support TPUs with queued provisioning")
    assert error["errors"] == [{"message": error["message"], "domain": "global", "reason": "badRequest"}]
    pool.queued_provisioning = types.NodePool.QueuedProvisioning()
    assert create_pool(client, pool).autoscaling.location_policy == types.NodePoolAutoscaling.LocationPolicy.ANY


@pytest.mark.parametrize("channel", ["REGULAR", "RAPID"])
def test_auto_upgrade_stays_on_for_a_cluster_on_a_release_channel(client, emu, channel):
    create_cluster(client, release_channel=types.ReleaseChannel(channel=channel))
    pool = types.NodePool(name="manual", config=types.NodeConfig(machine_type="e2-standard-4"),
                          management=types.NodeManagement(auto_repair=False))  # auto_upgrade left false
    message = "Auto_upgrade cannot be false when release_channel %s is set" % channel
    assert refused(client, emu, pool)["message"] == message
    with pytest.raises(gexc.BadRequest) as err:
        call(client.set_node_pool_management, name=POOLS + "system",
             management=types.NodeManagement(auto_repair=True, auto_upgrade=False))
    assert api_error(err)["message"] == message
    assert client.get_node_pool(name=POOLS + "system").management.auto_upgrade


def test_auto_upgrade_may_be_off_without_a_release_channel(client, emu):
    create_cluster(client, release_channel=types.ReleaseChannel(channel="UNSPECIFIED"))
    pool = create_pool(client, types.NodePool(name="manual", config=types.NodeConfig(machine_type="e2-standard-4"),
                                              management=types.NodeManagement(auto_repair=True)))
    assert not pool.management.auto_upgrade


@pytest.mark.parametrize("machine_type, disk_type", [
    ("ct6e-standard-4t", "pd-balanced"), ("tpu7x-standard-4t", "pd-ssd"), ("a3-ultragpu-8g", "pd-balanced"),
    ("a4-highgpu-8g", "pd-standard"), ("a4x-highgpu-4g", "pd-balanced"), ("g4-standard-48", "pd-balanced"),
    ("n1-standard-4", "hyperdisk-balanced"), ("e2-standard-4", "hyperdisk-balanced"),
])
def test_boot_disk_types_the_family_does_not_take_are_refused(client, emu, machine_type, disk_type):
    create_cluster(client)
    pool = types.NodePool(name="disk", config=types.NodeConfig(machine_type=machine_type, disk_type=disk_type))
    assert refused(client, emu, pool)["message"] == (
        "[%s, %s] features are not compatible for creating instance." % (disk_type, machine_type))


def test_boot_disk_change_is_checked_on_update(client, emu):
    create_cluster(client)
    create_pool(client, types.NodePool(name="v6e", config=types.NodeConfig(machine_type="ct6e-standard-4t")))
    with pytest.raises(gexc.BadRequest):
        call(client.update_node_pool, name=POOLS + "v6e", disk_type="pd-balanced")
    assert client.get_node_pool(name=POOLS + "v6e").config.disk_type == "hyperdisk-balanced"


@pytest.mark.parametrize("machine_type, kind, count, sizes", [
    ("a2-highgpu-1g", "nvidia-tesla-a100", 1, ["1g.5gb", "2g.10gb", "3g.20gb", "4g.20gb", "7g.40gb"]),
    ("a2-ultragpu-1g", "nvidia-a100-80gb", 1, ["1g.10gb", "2g.20gb", "3g.40gb", "4g.40gb", "7g.80gb"]),
    ("a3-highgpu-1g", "nvidia-h100-80gb", 1, ["1g.10gb", "1g.20gb", "2g.20gb", "3g.40gb", "4g.40gb", "7g.80gb"]),
    ("a3-ultragpu-8g", "nvidia-h200-141gb", 8, ["1g.18gb", "1g.35gb", "2g.35gb", "3g.71gb", "4g.71gb", "7g.141gb"]),
    ("g4-standard-48", "nvidia-rtx-pro-6000", 1, ["1g.24gb", "2g.48gb", "4g.96gb"]),
])
def test_mig_partition_sizes_per_gpu_type(client, emu, machine_type, kind, count, sizes):
    create_cluster(client)
    for index, size in enumerate(sizes):
        pool = create_pool(client, gpu_pool("mig-%d" % index, machine_type, kind, count, partition=size))
        assert pool.config.accelerators[0].gpu_partition_size == size
    wrong = "1g.5gb" if kind != "nvidia-tesla-a100" else "1g.10gb"
    error = refused(client, emu, gpu_pool("mig-bad", machine_type, kind, count, partition=wrong))
    assert error["message"] == "Invalid GPU partition size \"%s\" for accelerator type \"%s\"; valid sizes are: %s." % (
        wrong, kind, ", ".join(sizes))


@pytest.mark.parametrize("machine_type, kind", [("n1-standard-4", "nvidia-tesla-t4"), ("g2-standard-8", "nvidia-l4")])
def test_mig_is_refused_on_gpus_without_it(client, emu, machine_type, kind):
    create_cluster(client)
    error = refused(client, emu, gpu_pool("mig", machine_type, kind, 1, partition="1g.5gb"))
    assert error["message"] == "GPU partitioning is not supported for accelerator type \"%s\"." % kind


def test_gpu_sharing_takes_2_to_48_clients(client, emu):
    create_cluster(client)
    for clients in (1, 49):
        error = refused(client, emu, gpu_pool("shared", "g2-standard-8", "nvidia-l4", 1, sharing=clients))
        assert error["message"] == (
            "Invalid value for max_shared_clients_per_gpu: %d. It must be between 2 and 48." % clients)
    for clients in (2, 48):
        pool = create_pool(client, gpu_pool("shared-%d" % clients, "g2-standard-8", "nvidia-l4", 1, sharing=clients))
        assert pool.config.accelerators[0].gpu_sharing_config.max_shared_clients_per_gpu == clients


@pytest.mark.parametrize("machine_type, count", [
    ("g4-standard-48", 1), ("g4-standard-96", 2), ("g4-standard-192", 4), ("g4-standard-384", 8)])
def test_g4_machines_carry_rtx_pro_6000s(client, emu, machine_type, count):
    create_cluster(client)
    create_pool(client, gpu_pool("g4", machine_type, "nvidia-rtx-pro-6000", count))
    error = refused(client, emu, gpu_pool("g4-wrong", machine_type, "nvidia-rtx-pro-6000", count * 2))
    assert "comes with %d accelerator(s)" % count in error["message"]


# ------------------------------------------------------------------------------------------------- quota


def test_quota_is_charged_on_the_initial_nodes_in_every_zone(client, emu):
    parent = "projects/%s/locations/%s" % (PROJECT, REGION)
    wait_done(client, client.create_cluster(parent=parent, cluster=types.Cluster(
        name="ci", node_pools=[system_pool()])), location_parent=parent)  # 3 zones x 4 vCPUs
    emu.set_quota(REGION, "CPUS", 48)
    big = types.NodePool(name="big", initial_node_count=3, config=types.NodeConfig(machine_type="e2-standard-8"))
    with pytest.raises(gexc.Forbidden) as err:  # 3 nodes x 3 zones x 8 vCPUs = 72, with 36 of 48 free
        client.create_node_pool(parent=parent + "/clusters/ci", node_pool=big)
    assert api_error(err)["message"] == (
        "Insufficient regional quota to satisfy request: resource \"CPUS\": request requires '72.0' and is short "
        "'36.0'. project has a quota of '48.0' with '36.0' available. View and manage quotas at %s." % QUOTA_URL)
    # Starting at 0 never fails at the API, whatever the autoscaling maximum.
    big.initial_node_count = 0
    big.autoscaling = types.NodePoolAutoscaling(enabled=True, max_node_count=100)
    wait_done(client, client.create_node_pool(parent=parent + "/clusters/ci", node_pool=big), location_parent=parent)
    assert {q["metric"]: q["usage"] for q in emu.quotas()}["CPUS"] == 12


def test_several_shortages_in_one_message(client, emu):
    create_cluster(client)
    emu.set_quota(REGION, "G2_CPUS", 8)
    emu.set_quota(REGION, "NVIDIA_L4_GPUS", 1)
    emu.set_quota(REGION, "SSD_TOTAL_GB", 150)
    pool = l4_pool()
    pool.initial_node_count = 2
    error = refused(client, emu, pool, gexc.Forbidden)
    assert error["message"] == "\n".join([
        "(1) insufficient regional quota to satisfy request: resource \"G2_CPUS\": request requires '16.0' and is "
        "short '8.0'. project has a quota of '8.0' with '8.0' available. View and manage quotas at " + QUOTA_URL,
        "(2) insufficient regional quota to satisfy request: resource \"NVIDIA_L4_GPUS\": request requires '2.0' "
        "and is short '1.0'. project has a quota of '1.0' with '1.0' available. View and manage quotas at "
        + QUOTA_URL,
        "(3) insufficient regional quota to satisfy request: resource \"SSD_TOTAL_GB\": request requires '200.0' "
        "and is short '150.0'. project has a quota of '150.0' with '50.0' available. View and manage quotas at "
        + QUOTA_URL + "."])
    assert (error["status"], error["errors"][0]["reason"]) == ("PERMISSION_DENIED", "forbidden")


def test_disk_and_address_quotas(client, emu):
    create_cluster(client)  # system: 1 node, 100 GB pd-balanced, one address
    emu.set_quota(REGION, "DISKS_TOTAL_GB", 100)
    emu.set_quota(REGION, "IN_USE_ADDRESSES", 3)
    standard = types.NodePool(name="std", initial_node_count=2,
                              config=types.NodeConfig(machine_type="e2-standard-4", disk_type="pd-standard"))
    assert "resource \"DISKS_TOTAL_GB\": request requires '200.0'" in refused(
        client, emu, standard, gexc.Forbidden)["message"]
    standard.initial_node_count = 1
    create_pool(client, standard)
    usage = {q["metric"]: q["usage"] for q in emu.quotas()}
    assert (usage["DISKS_TOTAL_GB"], usage["SSD_TOTAL_GB"], usage["IN_USE_ADDRESSES"]) == (100, 100, 2)
    more = types.NodePool(name="more", initial_node_count=2, config=types.NodeConfig(machine_type="e2-standard-4"))
    assert "resource \"IN_USE_ADDRESSES\": request requires '2.0' and is short '1.0'" in refused(
        client, emu, more, gexc.Forbidden)["message"]


def test_spot_accelerators_use_the_preemptible_metric_and_resizes_are_charged(client, emu):
    create_cluster(client)
    emu.set_quota(REGION, "PREEMPTIBLE_TPUS_V6E", 8)
    emu.set_quota(REGION, "TPUS_V6E", 0)
    v6e = types.NodePool(name="v6e-4", initial_node_count=1,
                         config=types.NodeConfig(machine_type="ct6e-standard-4t", spot=True))
    create_pool(client, v6e)
    wait_done(client, call(client.set_node_pool_size, name=POOLS + "v6e-4", node_count=2))
    with pytest.raises(gexc.Forbidden) as err:
        call(client.set_node_pool_size, name=POOLS + "v6e-4", node_count=3)
    assert "resource \"PREEMPTIBLE_TPUS_V6E\": request requires '4.0' and is short '4.0'" in api_error(err)["message"]
    assert {q["metric"]: q["usage"] for q in emu.quotas()}["PREEMPTIBLE_TPUS_V6E"] == 8


def test_cluster_create_charges_every_pool(client, emu):
    emu.set_quota(REGION, "CPUS", 6)
    second = types.NodePool(name="second", initial_node_count=1, config=types.NodeConfig(machine_type="e2-standard-4"))
    with pytest.raises(gexc.Forbidden) as err:
        client.create_cluster(parent=PARENT, cluster=types.Cluster(name="ci", node_pools=[system_pool(), second]))
    assert "request requires '8.0' and is short '2.0'" in api_error(err)["message"]
    assert client.list_clusters(parent=PARENT).clusters == []


# ------------------------------------------------------------------------------------------------- errors


def test_error_bodies_carry_errors_with_a_reason(client, emu):
    status, body = raw(emu, "GET", "/v1/%s" % CLUSTER)
    assert status == 404
    assert body["error"]["errors"] == [{"message": "Not found: %s." % CLUSTER, "domain": "global",
                                        "reason": "notFound"}]
    status, body = raw(emu, "POST", "/v1/%s/clusters" % PARENT, {"cluster": {"name": "ci"}})
    assert (status, body["error"]["status"], body["error"]["errors"][0]["reason"]) == (
        400, "INVALID_ARGUMENT", "badRequest")
    emu.inject("operation_failed", message="Internal error.")
    done = create_cluster(client)
    assert (done.status, done.error.code, done.error.message, done.detail) == (
        types.Operation.Status.DONE, 13, "Internal error.", "Internal error.")


# ------------------------------------------------------------------------------------------------- concurrency


def test_operations_on_different_pools_run_side_by_side(client, emu):
    create_cluster(client)
    emu.inject("slow_operation", seconds=60, times=2)
    first = client.create_node_pool(parent=CLUSTER, node_pool=v6e_multi_host(name="one"))
    second = call(client.update_node_pool, name=POOLS + "system", labels=types.NodeLabels(labels={"a": "b"}))
    # The same pool takes one operation at a time.
    with pytest.raises(gexc.BadRequest) as err:
        call(client.set_node_pool_management, name=POOLS + "system",
             management=types.NodeManagement(auto_upgrade=True, auto_repair=True))
    assert api_error(err)["message"] == "Cluster is running incompatible operation %s." % second.name
    assert api_error(err)["errors"][0]["reason"] == "failedPrecondition"
    # The cluster takes no cluster-level update while pool operations run.
    with pytest.raises(gexc.BadRequest) as err:
        client.update_cluster(name=CLUSTER, update=types.ClusterUpdate(desired_logging_service="none"))
    assert api_error(err)["status"] == "FAILED_PRECONDITION"
    emu.advance(60)
    assert not wait_done(client, first).error.message and not wait_done(client, second).error.message
    pools = {p.name: p for p in client.list_node_pools(parent=CLUSTER).node_pools}
    assert sorted(pools) == ["one", "system"] and dict(pools["system"].config.labels) == {"a": "b"}


def test_the_cluster_takes_one_update_at_a_time_and_blocks_pool_operations(client, emu):
    create_cluster(client)
    emu.inject("slow_operation", seconds=60)
    update = client.update_cluster(name=CLUSTER, update=types.ClusterUpdate(desired_logging_service="none"))
    with pytest.raises(gexc.BadRequest) as err:
        client.update_cluster(name=CLUSTER, update=types.ClusterUpdate(desired_monitoring_service="none"))
    assert api_error(err)["message"] == "Cluster is running incompatible operation %s." % update.name
    with pytest.raises(gexc.BadRequest):
        client.create_node_pool(parent=CLUSTER, node_pool=v6e_multi_host())
    emu.advance(60)
    wait_done(client, update)
    create_pool(client, v6e_multi_host())


# ------------------------------------------------------------------------------------------------- control API


def test_resource_policies_over_http_and_in_the_state_file(tmp_path):
    state_file = str(tmp_path / "state.json")
    with GkeEmulator(operation_seconds=OP_SECONDS, state_file=state_file) as first:
        status, body = raw(first, "POST", "/_emulator/resource_policies",
                           {"region": REGION, "name": "wp-2x2x2", "accelerator_topology": "2x2x2"})
        assert status == 200
        assert body["resource_policies"] == [
            {"project": "*", "region": REGION, "name": "wp-2x2x2", "accelerator_topology": "2x2x2"}]
        assert raw(first, "POST", "/_emulator/resource_policies", {"region": REGION})[0] == 400
    with GkeEmulator(operation_seconds=OP_SECONDS, state_file=state_file) as second:
        assert second.resource_policies()[0]["name"] == "wp-2x2x2"
        second.reset()
        assert second.resource_policies() == []

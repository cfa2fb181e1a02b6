"""The GKE API emulator, driven by the real google-cloud-container client over REST."""

import json
import subprocess
import sys

import pytest
from google.api_core import exceptions as gexc
from google.cloud.container_v1 import types

from tests.emulators.gke import GkeEmulator
from tests.paths import ROOT
from tests.unit.emulators.gke_support import (
    CLUSTER, OP_SECONDS, PARENT, PROJECT, REGION, ZONE, api_error, call, create_cluster, make_client, raw,
    system_pool, v6e_multi_host, wait_done,
)


# --------------------------------------------------------------------------------------------- clusters and pools


def test_create_cluster_and_pools_progress_to_done(client, emu):
    cluster = types.Cluster(
        name="ci", node_pools=[system_pool()], resource_labels={"team": "ml"},
        workload_identity_config=types.WorkloadIdentityConfig(workload_pool=PROJECT + ".svc.id.goog"),
        addons_config=types.AddonsConfig(gcs_fuse_csi_driver_config=types.GcsFuseCsiDriverConfig(enabled=True)),
        release_channel=types.ReleaseChannel(channel="RAPID"))
    # Hold both operations open for 60 emulated seconds, then move the emulator's clock instead of sleeping.
    emu.inject("slow_operation", seconds=60, times=2)
    op = client.create_cluster(parent=PARENT, cluster=cluster)
    assert op.name.startswith("operation-")
    assert op.operation_type == types.Operation.Type.CREATE_CLUSTER
    assert op.status == types.Operation.Status.PENDING and not op.end_time
    assert op.target_link.endswith("/projects/%s/zones/%s/clusters/ci" % (PROJECT, ZONE))
    assert client.get_cluster(name=CLUSTER).status == types.Cluster.Status.PROVISIONING
    emu.advance(20)
    op_name = "%s/operations/%s" % (PARENT, op.name)
    assert client.get_operation(name=op_name).status == types.Operation.Status.RUNNING
    assert client.get_cluster(name=CLUSTER).node_pools[0].status == types.NodePool.Status.PROVISIONING
    emu.advance(40)

    done = client.get_operation(name=op_name)
    assert done.status == types.Operation.Status.DONE
    assert done.end_time and not done.error.message
    got = client.get_cluster(name=CLUSTER)
    assert got.status == types.Cluster.Status.RUNNING
    assert got.release_channel.channel == types.ReleaseChannel.Channel.RAPID
    assert got.workload_identity_config.workload_pool == PROJECT + ".svc.id.goog"
    assert got.addons_config.gcs_fuse_csi_driver_config.enabled
    assert got.endpoint and got.current_master_version and len(got.label_fingerprint) == 8
    assert got.self_link.endswith("/zones/%s/clusters/ci" % ZONE)
    assert [p.name for p in got.node_pools] == ["system"]
    assert got.node_pools[0].status == types.NodePool.Status.RUNNING

    pool_op = client.create_node_pool(parent=CLUSTER, node_pool=v6e_multi_host())
    assert pool_op.operation_type == types.Operation.Type.CREATE_NODE_POOL
    assert client.get_node_pool(name=CLUSTER + "/nodePools/v6e-16").status == types.NodePool.Status.PROVISIONING
    emu.advance(60)
    assert client.get_operation(name="%s/operations/%s" % (PARENT, pool_op.name)).status == types.Operation.Status.DONE
    pool = client.get_node_pool(name=CLUSTER + "/nodePools/v6e-16")
    assert pool.status == types.NodePool.Status.RUNNING
    assert pool.placement_policy.type_ == types.NodePool.PlacementPolicy.Type.COMPACT
    assert pool.placement_policy.tpu_topology == "4x4"
    assert pool.config.spot and pool.autoscaling.max_node_count == 4
    assert pool.version == got.current_master_version and pool.self_link.endswith("/nodePools/v6e-16")
    names = [p.name for p in client.list_node_pools(parent=CLUSTER).node_pools]
    assert names == ["system", "v6e-16"]
    assert [c.name for c in client.list_clusters(parent="projects/%s/locations/-" % PROJECT).clusters] == ["ci"]
    assert [o.name for o in client.list_operations(parent=PARENT).operations] == [op.name, pool_op.name]


def test_zonal_path_form(client, emu):
    op = client.create_cluster(project_id=PROJECT, zone=ZONE, cluster=types.Cluster(name="ci", initial_node_count=2))
    wait_done(client, op)
    got = client.get_cluster(project_id=PROJECT, zone=ZONE, cluster_id="ci")
    assert [(p.name, p.initial_node_count) for p in got.node_pools] == [("default-pool", 2)]
    assert emu.requests()[0]["path"] == "/v1/projects/%s/zones/%s/clusters" % (PROJECT, ZONE)


def test_server_config(client, emu):
    config = client.get_server_config(name=PARENT)
    assert config.default_cluster_version in config.valid_master_versions
    assert config.channels[1].channel == types.ReleaseChannel.Channel.REGULAR


def test_request_log_has_integer_enums_and_replies_honour_encoding(client, emu):
    create_cluster(client)
    emu.clear_requests()
    wait_done(client, client.create_node_pool(parent=CLUSTER, node_pool=v6e_multi_host()))
    create = emu.requests()[0]
    assert create["method"] == "POST" and create["status"] == 200
    assert create["query"]["$alt"] == "json;enum-encoding=int"
    assert create["body"]["nodePool"]["placementPolicy"] == {"type": 1, "tpuTopology": "4x4"}
    assert "minNodeCount" not in create["body"]["nodePool"]["autoscaling"]

    path = "/v1/%s/nodePools/v6e-16" % CLUSTER
    status_ints, as_ints = raw(emu, "GET", path + "?%24alt=json%3Benum-encoding%3Dint")
    status_strings, as_strings = raw(emu, "GET", path)
    assert status_ints == status_strings == 200
    assert as_ints["status"] == 2 and as_ints["placementPolicy"]["type"] == 1
    assert as_strings["status"] == "RUNNING" and as_strings["placementPolicy"]["type"] == "COMPACT"
    assert "minNodeCount" not in as_strings["autoscaling"]  # zero values stay omitted
    assert as_strings["config"]["machineType"] == "ct6e-standard-4t"  # camelCase


def test_control_requests_are_not_logged(emu):
    raw(emu, "GET", "/_emulator/state")
    raw(emu, "POST", "/_emulator/quota", {"region": "us-central1", "metric": "TPUS_V6E", "limit": 8})
    assert emu.requests() == []
    status, body = raw(emu, "GET", "/_emulator/quota")
    assert status == 200 and body["quotas"][0]["limit"] == 8


def test_unknown_field_rejected(client, emu):
    create_cluster(client)
    status, body = raw(emu, "POST", "/v1/%s/nodePools" % CLUSTER, {"nodePool": {"name": "x", "fooBar": 1}})
    assert status == 400
    assert body["error"]["status"] == "INVALID_ARGUMENT"
    assert body["error"]["message"] == (
        "Invalid JSON payload received. Unknown name \"fooBar\" at 'node_pool': Cannot find field.")
    status, body = raw(emu, "POST", "/v1/%s/nodePools" % CLUSTER, {"nodePool": {"config": {"zz": 1}}})
    assert body["error"]["message"].endswith("Unknown name \"zz\" at 'node_pool.config': Cannot find field.")


def test_not_found_and_already_exists(client, emu):
    with pytest.raises(gexc.NotFound) as missing:
        client.get_cluster(name=CLUSTER)
    assert api_error(missing)["message"] == "Not found: %s." % CLUSTER
    create_cluster(client)
    with pytest.raises(gexc.NotFound) as missing_pool:
        client.get_node_pool(name=CLUSTER + "/nodePools/nope")
    assert api_error(missing_pool)["status"] == "NOT_FOUND"
    with pytest.raises(gexc.Conflict) as exists:
        client.create_node_pool(parent=CLUSTER, node_pool=system_pool())
    message = "Already exists: %s/nodePools/system." % CLUSTER
    assert api_error(exists) == {"code": 409, "status": "ALREADY_EXISTS", "message": message,
                                 "errors": [{"message": message, "domain": "global", "reason": "alreadyExists"}]}


def test_cluster_needs_node_pools_or_initial_count(client, emu):
    with pytest.raises(gexc.BadRequest) as err:
        client.create_cluster(parent=PARENT, cluster=types.Cluster(name="ci"))
    assert api_error(err)["message"] == "Cluster.initial_node_count must be greater than zero."


def test_cluster_update_one_change_at_a_time(client, emu):
    create_cluster(client)
    emu.inject("slow_operation", seconds=60)
    op = client.update_cluster(name=CLUSTER, update=types.ClusterUpdate(desired_logging_service="none"))
    assert client.get_cluster(name=CLUSTER).status == types.Cluster.Status.RECONCILING
    assert client.get_cluster(name=CLUSTER).logging_service != "none"  # visible only once done
    emu.advance(60)
    assert wait_done(client, op).operation_type == types.Operation.Type.UPDATE_CLUSTER
    assert client.get_cluster(name=CLUSTER).logging_service == "none"
    two = types.ClusterUpdate(desired_release_channel=types.ReleaseChannel(channel="STABLE"),
                              desired_logging_service="none")
    with pytest.raises(gexc.BadRequest) as err:
        client.update_cluster(name=CLUSTER, update=two)
    assert api_error(err)["status"] == "INVALID_ARGUMENT"
    op = client.update_cluster(name=CLUSTER, update=types.ClusterUpdate(
        desired_addons_config=types.AddonsConfig(
            gcp_filestore_csi_driver_config=types.GcpFilestoreCsiDriverConfig(enabled=True))))
    wait_done(client, op)
    got = client.get_cluster(name=CLUSTER)
    assert got.addons_config.gcp_filestore_csi_driver_config.enabled and got.status == types.Cluster.Status.RUNNING


def test_resource_labels_fingerprint(client, emu):
    create_cluster(client)
    before = client.get_cluster(name=CLUSTER)
    with pytest.raises(gexc.BadRequest) as err:
        client.set_labels(request=types.SetLabelsRequest(
            name=CLUSTER, resource_labels={"a": "b"}, label_fingerprint="deadbeef"))
    assert api_error(err)["status"] == "FAILED_PRECONDITION"
    assert "fingerprint mismatch" in api_error(err)["message"]
    wait_done(client, client.set_labels(request=types.SetLabelsRequest(
        name=CLUSTER, resource_labels={"a": "b"}, label_fingerprint=before.label_fingerprint)))
    after = client.get_cluster(name=CLUSTER)
    assert dict(after.resource_labels) == {"a": "b"} and after.label_fingerprint != before.label_fingerprint


def test_node_pool_update_applies_when_done(client, emu):
    create_cluster(client)
    emu.clear_requests()
    emu.inject("slow_operation", seconds=60)
    op = call(client.update_node_pool, name=CLUSTER + "/nodePools/system",
              labels=types.NodeLabels(labels={"role": "system"}),
              taints=types.NodeTaints(taints=[types.NodeTaint(key="dedicated", value="system", effect="NO_SCHEDULE")]))
    assert emu.requests()[0]["method"] == "PUT"
    during = client.get_node_pool(name=CLUSTER + "/nodePools/system")
    assert during.status == types.NodePool.Status.RECONCILING and not during.config.labels
    emu.advance(60)
    wait_done(client, op)
    pool = client.get_node_pool(name=CLUSTER + "/nodePools/system")
    assert dict(pool.config.labels) == {"role": "system"}
    assert pool.config.taints[0].effect == types.NodeTaint.Effect.NO_SCHEDULE
    assert pool.status == types.NodePool.Status.RUNNING


def test_empty_node_pool_update_rejected(client, emu):
    create_cluster(client)
    with pytest.raises(gexc.BadRequest) as err:
        call(client.update_node_pool, name=CLUSTER + "/nodePools/system")
    message = api_error(err)["message"]
    assert message.startswith("At least one of ['node_version', 'image_type', ")
    assert message.endswith("'flex_start'] must be specified.")


# ------------------------------------------------------------------------------------------------ TPU and GPU


def test_single_host_topology_rejected(client, emu):
    create_cluster(client)
    pool = types.NodePool(name="v6e-4", initial_node_count=1,
                          config=types.NodeConfig(machine_type="ct6e-standard-4t"),
                          placement_policy=types.NodePool.PlacementPolicy(tpu_topology="2x2"))
    with pytest.raises(gexc.BadRequest) as err:
        client.create_node_pool(parent=CLUSTER, node_pool=pool)
    assert api_error(err)["status"] == "INVALID_ARGUMENT"
    assert api_error(err)["message"] == (
        "TPU topology can't be specified with single-host TPU slice pool; please remove the tpu_topology")
    pool.placement_policy = types.NodePool.PlacementPolicy()
    wait_done(client, client.create_node_pool(parent=CLUSTER, node_pool=pool))


def test_topology_must_fit_machine(client, emu):
    create_cluster(client)
    bad = v6e_multi_host()
    bad.placement_policy.tpu_topology = "2x3"
    with pytest.raises(gexc.BadRequest) as err:
        client.create_node_pool(parent=CLUSTER, node_pool=bad)
    assert "not a multiple of the 4 chips per VM" in api_error(err)["message"]
    no_compact = v6e_multi_host()
    no_compact.placement_policy.type_ = 0
    with pytest.raises(gexc.BadRequest) as err:
        client.create_node_pool(parent=CLUSTER, node_pool=no_compact)
    assert "COMPACT" in api_error(err)["message"]


def test_gang_size_error_inside_operation(client, emu):
    create_cluster(client)
    op = client.create_node_pool(parent=CLUSTER, node_pool=v6e_multi_host(max_nodes=3))
    done = wait_done(client, op)
    assert done.error.code == 3
    assert done.error.message == ("Requested invalid target size '3' for a Managed Instance Group in the gang mode "
                                  "of size '4'. Should be equal to the gang size.")
    assert done.detail == done.error.message
    pool = client.get_node_pool(name=CLUSTER + "/nodePools/v6e-16")
    assert pool.status == types.NodePool.Status.ERROR


def test_tpu7x_needs_workload_policy(client, emu):
    create_cluster(client, initial_cluster_version="1.34.1-gke.1431000")
    compact = types.NodePool(
        name="ironwood", initial_node_count=2, config=types.NodeConfig(machine_type="tpu7x-standard-4t"),
        placement_policy=types.NodePool.PlacementPolicy(type_="COMPACT", tpu_topology="2x2x2"))
    done = wait_done(client, client.create_node_pool(parent=CLUSTER, node_pool=compact))
    assert done.error.code and "workload policy" in done.error.message
    assert client.get_node_pool(name=CLUSTER + "/nodePools/ironwood").status == types.NodePool.Status.ERROR

    # The policy must exist; the pool names it only and GKE reports the policy's topology back.
    with_policy = types.NodePool(
        name="ironwood-ok", initial_node_count=2, config=types.NodeConfig(machine_type="tpu7x-standard-4t"),
        placement_policy=types.NodePool.PlacementPolicy(policy_name="ironwood-2x2x2"))
    with pytest.raises(gexc.BadRequest) as err:
        client.create_node_pool(parent=CLUSTER, node_pool=with_policy)
    assert api_error(err)["message"] == (
        "The resource 'projects/%s/regions/%s/resourcePolicies/ironwood-2x2x2' was not found" % (PROJECT, REGION))
    emu.add_resource_policy(REGION, "ironwood-2x2x2", accelerator_topology="2x2x2")
    done = wait_done(client, client.create_node_pool(parent=CLUSTER, node_pool=with_policy))
    assert not done.error.message
    pool = client.get_node_pool(name=CLUSTER + "/nodePools/ironwood-ok")
    assert pool.status == types.NodePool.Status.RUNNING
    assert pool.placement_policy == types.NodePool.PlacementPolicy(policy_name="ironwood-2x2x2", tpu_topology="2x2x2")
    assert pool.config.disk_type == "hyperdisk-balanced"


def test_set_size_of_a_multi_host_slice_is_zero_or_one_slice(client, emu):
    create_cluster(client)
    wait_done(client, client.create_node_pool(parent=CLUSTER, node_pool=v6e_multi_host()))
    name = CLUSTER + "/nodePools/v6e-16"
    done = wait_done(client, call(client.set_node_pool_size, name=name, node_count=8))
    assert done.error.code == 3 and "gang mode of size '4'" in done.error.message
    assert done.error.message.startswith("Requested invalid target size '8'")
    assert emu.state()["nodeCounts"] == []
    assert not wait_done(client, call(client.set_node_pool_size, name=name, node_count=4)).error.message
    done = wait_done(client, call(client.set_node_pool_size, name=CLUSTER + "/nodePools/system", node_count=3))
    assert done.operation_type == types.Operation.Type.SET_NODE_POOL_SIZE and not done.error.message
    assert emu.state()["nodeCounts"] == [
        {"cluster": "%s/%s/ci" % (PROJECT, ZONE), "nodePool": "system", "perZone": 3},
        {"cluster": "%s/%s/ci" % (PROJECT, ZONE), "nodePool": "v6e-16", "perZone": 4}]


def test_autoscaling_and_management(client, emu):
    create_cluster(client)
    wait_done(client, client.create_node_pool(parent=CLUSTER, node_pool=v6e_multi_host()))
    name = CLUSTER + "/nodePools/v6e-16"
    for max_nodes in (6, 8):  # one multi-host pool is one slice: a second slice is not a bigger pool
        done = wait_done(client, call(client.set_node_pool_autoscaling, name=name,
                                      autoscaling=types.NodePoolAutoscaling(enabled=True, max_node_count=max_nodes)))
        assert done.error.message.startswith("Requested invalid target size '%d'" % max_nodes)
    assert client.get_node_pool(name=name).autoscaling.max_node_count == 4  # unchanged
    done = wait_done(client, call(client.set_node_pool_autoscaling, name=name,
                                  autoscaling=types.NodePoolAutoscaling(enabled=True)))
    assert done.error.message == "Maximum node count 0 is not a valid size of TPU pod slice"
    wait_done(client, call(client.set_node_pool_autoscaling, name=name,
                           autoscaling=types.NodePoolAutoscaling(enabled=True, min_node_count=4, max_node_count=4)))
    assert client.get_node_pool(name=name).autoscaling.min_node_count == 4
    wait_done(client, call(client.set_node_pool_management, name=name,
                           management=types.NodeManagement(auto_repair=False, auto_upgrade=True)))
    management = client.get_node_pool(name=name).management
    assert management.auto_upgrade and not management.auto_repair


def test_gpu_accelerators_must_fit_machine(client, emu):
    create_cluster(client)
    wrong_family = types.NodePool(name="l4", initial_node_count=1, config=types.NodeConfig(
        machine_type="n1-standard-8",
        accelerators=[types.AcceleratorConfig(accelerator_type="nvidia-l4", accelerator_count=1)]))
    with pytest.raises(gexc.BadRequest) as err:
        client.create_node_pool(parent=CLUSTER, node_pool=wrong_family)
    assert api_error(err)["message"].startswith(
        "Accelerator type \"nvidia-l4\" is not supported with machine type \"n1-standard-8\"")
    unknown = types.NodePool(name="k80", initial_node_count=1, config=types.NodeConfig(
        machine_type="n1-standard-8",
        accelerators=[types.AcceleratorConfig(accelerator_type="nvidia-tesla-k80", accelerator_count=1)]))
    with pytest.raises(gexc.BadRequest) as err:
        client.create_node_pool(parent=CLUSTER, node_pool=unknown)
    assert "does not exist in zone us-central1-b" in api_error(err)["message"]
    t4 = types.NodePool(name="t4", initial_node_count=1, config=types.NodeConfig(
        machine_type="n1-standard-8",
        accelerators=[types.AcceleratorConfig(accelerator_type="nvidia-tesla-t4", accelerator_count=4)]))
    assert not wait_done(client, client.create_node_pool(parent=CLUSTER, node_pool=t4)).error.message


def test_quota_permission_denied(client, emu):
    create_cluster(client)
    emu.set_quota("us-central1", "TPUS_V6E", 16)
    emu.set_quota("us-central1", "NVIDIA_L4_GPUS", 2)
    on_demand = v6e_multi_host(initial_node_count=4)
    on_demand.config.spot = False
    wait_done(client, client.create_node_pool(parent=CLUSTER, node_pool=on_demand))  # 16 chips: fits
    second = v6e_multi_host(name="second", initial_node_count=4)
    second.config.spot = False
    with pytest.raises(gexc.Forbidden) as err:
        client.create_node_pool(parent=CLUSTER, node_pool=second)
    assert api_error(err)["status"] == "PERMISSION_DENIED"
    assert api_error(err)["errors"][0]["reason"] == "forbidden"
    assert api_error(err)["message"] == (
        "Insufficient regional quota to satisfy request: resource \"TPUS_V6E\": request requires '16.0' and is "
        "short '16.0'. project has a quota of '16.0' with '0.0' available. View and manage quotas at "
        "https://console.cloud.google.com/iam-admin/quotas?usage=USED&project=%s." % PROJECT)
    l4 = types.NodePool(name="l4", initial_node_count=2, config=types.NodeConfig(machine_type="g2-standard-24"),
                        autoscaling=types.NodePoolAutoscaling(enabled=True, max_node_count=8))
    with pytest.raises(gexc.Forbidden) as err:
        client.create_node_pool(parent=CLUSTER, node_pool=l4)  # 2 nodes of 2 GPUs now; the maximum is not charged
    assert "resource \"NVIDIA_L4_GPUS\": request requires '4.0' and is short '2.0'" in api_error(err)["message"]
    l4.initial_node_count = 0
    assert not wait_done(client, client.create_node_pool(parent=CLUSTER, node_pool=l4)).error.message


# ------------------------------------------------------------------------------------ operations and faults


def test_incompatible_operation_on_the_same_pool_while_another_runs(client, emu):
    create_cluster(client)
    emu.inject("slow_operation", seconds=30)
    slow = client.create_node_pool(parent=CLUSTER, node_pool=v6e_multi_host())
    with pytest.raises(gexc.BadRequest) as err:
        client.delete_node_pool(name=CLUSTER + "/nodePools/v6e-16")
    message = "Cluster is running incompatible operation %s." % slow.name
    assert api_error(err) == {"code": 400, "status": "FAILED_PRECONDITION", "message": message,
                              "errors": [{"message": message, "domain": "global", "reason": "failedPrecondition"}]}
    assert client.get_operation(name="%s/operations/%s" % (PARENT, slow.name)).status != types.Operation.Status.DONE
    client.cancel_operation(name="%s/operations/%s" % (PARENT, slow.name))
    cancelled = client.get_operation(name="%s/operations/%s" % (PARENT, slow.name))
    assert cancelled.status == types.Operation.Status.DONE and cancelled.error.code == 1
    assert cancelled.detail == "Operation was cancelled."
    assert [p.name for p in client.list_node_pools(parent=CLUSTER).node_pools] == ["system"]


def test_fault_http_429(client, emu):
    emu.inject("http_429", method="GET")
    with pytest.raises(gexc.TooManyRequests) as err:
        client.list_clusters(parent=PARENT, retry=None)
    assert api_error(err)["status"] == "RESOURCE_EXHAUSTED"
    assert api_error(err)["message"].startswith("Quota exceeded for quota metric 'Requests'")
    assert client.list_clusters(parent=PARENT, retry=None).clusters == []  # fired once only
    assert [r["status"] for r in emu.requests()] == [429, 200]


def test_fault_http_503_with_path_filter(client, emu):
    create_cluster(client)
    emu.inject("http_503", path_regex=r"/nodePools$", times=2)
    assert client.get_cluster(name=CLUSTER, retry=None).name == "ci"
    with pytest.raises(gexc.ServiceUnavailable) as err:
        client.list_node_pools(parent=CLUSTER, retry=None)
    assert api_error(err)["status"] == "UNAVAILABLE"
    # The library's own default retry covers a 503 on list_node_pools: the second fault is absorbed.
    assert len(client.list_node_pools(parent=CLUSTER).node_pools) == 1


def test_fault_incompatible_operation(client, emu):
    create_cluster(client)
    emu.inject("incompatible_operation")
    with pytest.raises(gexc.BadRequest) as err:
        client.create_node_pool(parent=CLUSTER, node_pool=v6e_multi_host())
    assert api_error(err)["status"] == "FAILED_PRECONDITION"
    assert api_error(err)["message"].startswith("Cluster is running incompatible operation operation-")
    wait_done(client, client.create_node_pool(parent=CLUSTER, node_pool=v6e_multi_host()))


def test_fault_operation_failed_changes_nothing(client, emu):
    create_cluster(client)
    emu.inject("operation_failed", message="Internal error: node pool creation failed.")
    done = wait_done(client, client.create_node_pool(parent=CLUSTER, node_pool=v6e_multi_host()))
    assert done.status == types.Operation.Status.DONE
    assert done.error.code == 13 and done.error.message == "Internal error: node pool creation failed."
    assert [p.name for p in client.list_node_pools(parent=CLUSTER).node_pools] == ["system"]
    emu.inject("operation_failed")
    done = wait_done(client, call(client.update_node_pool, name=CLUSTER + "/nodePools/system",
                                  labels=types.NodeLabels(labels={"x": "y"})))
    assert done.error.message == "Internal error."
    pool = client.get_node_pool(name=CLUSTER + "/nodePools/system")
    assert not pool.config.labels and pool.status == types.NodePool.Status.RUNNING


def test_fault_slow_operation(client, emu):
    create_cluster(client)
    emu.inject("slow_operation", seconds=30)
    op = client.delete_node_pool(name=CLUSTER + "/nodePools/system")
    assert client.get_operation(name="%s/operations/%s" % (PARENT, op.name)).status != types.Operation.Status.DONE
    assert client.get_node_pool(name=CLUSTER + "/nodePools/system").status == types.NodePool.Status.STOPPING
    with pytest.raises(gexc.BadRequest):
        client.delete_cluster(name=CLUSTER)
    assert raw(emu, "POST", "/_emulator/advance", {"seconds": 30})[0] == 200
    assert client.get_operation(name="%s/operations/%s" % (PARENT, op.name)).status == types.Operation.Status.DONE
    assert client.list_node_pools(parent=CLUSTER).node_pools == []


def test_failed_cluster_operations_change_nothing(client, emu):
    emu.inject("operation_failed", message="Internal error: cluster creation failed.")
    op = client.create_cluster(parent=PARENT, cluster=types.Cluster(name="ci", initial_node_count=1))
    done = wait_done(client, op)
    expected = types.Operation(error={"code": 13, "message": "Internal error: cluster creation failed."})
    assert done.error == expected.error and done.detail == "Internal error: cluster creation failed."
    assert client.list_clusters(parent=PARENT).clusters == []
    create_cluster(client)
    emu.inject("operation_failed", path_regex=r"/clusters/ci$", method="DELETE")
    assert wait_done(client, client.delete_cluster(name=CLUSTER)).error.code == 13
    assert client.get_cluster(name=CLUSTER).status == types.Cluster.Status.RUNNING


def test_regional_cluster_pools_span_three_zones_and_count_quota_per_zone(client, emu):
    parent = "projects/%s/locations/us-east5" % PROJECT
    op = client.create_cluster(parent=parent, cluster=types.Cluster(name="ci", node_pools=[system_pool()]))
    wait_done(client, op, location_parent=parent)
    cluster = client.get_cluster(name=parent + "/clusters/ci")
    assert list(cluster.locations) == ["us-east5-a", "us-east5-b", "us-east5-c"]
    assert list(cluster.node_pools[0].locations) == list(cluster.locations)
    assert "/locations/us-east5/clusters/ci" in cluster.self_link
    emu.set_quota("us-east5", "PREEMPTIBLE_NVIDIA_L4_GPUS", 8)
    spot_l4 = types.NodePool(name="l4", initial_node_count=3,
                             config=types.NodeConfig(machine_type="g2-standard-8", spot=True),
                             autoscaling=types.NodePoolAutoscaling(enabled=True, max_node_count=3))
    with pytest.raises(gexc.Forbidden) as err:
        client.create_node_pool(parent=parent + "/clusters/ci", node_pool=spot_l4)  # 3 nodes x 3 zones x 1 GPU
    assert "resource \"PREEMPTIBLE_NVIDIA_L4_GPUS\": request requires '9.0' and is short '1.0'" in (
        api_error(err)["message"])
    spot_l4.locations = ["us-east5-a"]
    wait_done(client, client.create_node_pool(parent=parent + "/clusters/ci", node_pool=spot_l4),
              location_parent=parent)
    assert {q["metric"]: q["usage"] for q in emu.quotas()}["PREEMPTIBLE_NVIDIA_L4_GPUS"] == 3


def test_faults_over_http(client, emu):
    status, body = raw(emu, "POST", "/_emulator/faults", {"kind": "http_503", "method": "GET", "times": 1})
    assert status == 200 and body["fault"]["kind"] == "http_503"
    with pytest.raises(gexc.ServiceUnavailable):
        client.list_clusters(parent=PARENT, retry=None)
    status, body = raw(emu, "POST", "/_emulator/faults", {"kind": "nonsense"})
    assert status == 400
    status, body = raw(emu, "GET", "/_emulator/requests")
    assert [r["status"] for r in body["requests"]] == [503]
    assert raw(emu, "DELETE", "/_emulator/requests")[0] == 200 and emu.requests() == []


# ----------------------------------------------------------------------------------- persistence and CLI


def test_state_file_round_trip(tmp_path):
    state_file = str(tmp_path / "gke-state.json")
    with GkeEmulator(operation_seconds=OP_SECONDS, state_file=state_file) as first:
        client = make_client(first.url)
        create_cluster(client)
        wait_done(client, client.create_node_pool(parent=CLUSTER, node_pool=v6e_multi_host()))
        first.set_quota("us-central1", "TPUS_V6E", 64)
        fingerprint = client.get_cluster(name=CLUSTER).label_fingerprint
    with GkeEmulator(operation_seconds=OP_SECONDS, state_file=state_file) as second:
        client = make_client(second.url)
        got = client.get_cluster(name=CLUSTER)
        assert [p.name for p in got.node_pools] == ["system", "v6e-16"]
        assert got.label_fingerprint == fingerprint and got.status == types.Cluster.Status.RUNNING
        assert len(client.list_operations(parent=PARENT).operations) == 2
        assert {q["metric"]: q["limit"] for q in second.quotas()}["TPUS_V6E"] == 64
        wait_done(client, client.delete_node_pool(name=CLUSTER + "/nodePools/v6e-16"))
    with open(state_file, encoding="utf-8") as handle:
        saved = json.load(handle)
    assert [p["name"] for p in saved["clusters"][0]["nodePools"]] == ["system"]


def test_standalone_module_starts_and_answers(tmp_path):
    state_file = str(tmp_path / "state.json")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.emulators.gke", "--port", "0", "--operation-seconds", "0.1",
         "--state-file", state_file],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        client = make_client(url)
        wait_done(client, client.create_cluster(parent=PARENT, cluster=types.Cluster(name="ci", initial_node_count=1)))
        assert client.get_cluster(name=CLUSTER).status == types.Cluster.Status.RUNNING
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert proc.returncode == 0
    with open(state_file, encoding="utf-8") as handle:
        assert json.load(handle)["clusters"][0]["name"] == "ci"

"""The node pool manager against a fake client (no server): what is read, what is refused, what is sent."""

import pytest
from google.cloud import container_v1

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import AccelciError, InputError
from ansible_collections.accelci.runners.plugins.module_utils.gke.catalog import AcceleratorError
from ansible_collections.accelci.runners.plugins.module_utils.gke.node_pool_manager import NodePoolManager
from ansible_collections.accelci.runners.plugins.module_utils.gke.operation_manager import proto_to_dict
from tests.unit.plugins.module_utils.gcp.fakes import FakeModule, rest_error


class PoolClient:
    """A GKE client with one cluster and the pools given; records every call by method name."""

    def __init__(self, version="1.33.5-gke.1162000", pools=None):
        self.version = version
        self.pools = dict((p["name"], p) for p in pools or [])
        self.calls = []

    def get_cluster(self, name):
        self.calls.append("get_cluster")
        return container_v1.Cluster(name="ci-runners", current_master_version=self.version)

    def get_node_pool(self, name):
        self.calls.append("get_node_pool")
        pool = self.pools.get(name.rsplit("/", 1)[-1])
        if pool is None:
            raise rest_error(404, "NOT_FOUND", "Node pool not found")
        return container_v1.NodePool(pool)

    def create_node_pool(self, request):
        self.calls.append("create_node_pool")
        self.pools[request.node_pool.name] = proto_to_dict(request.node_pool)
        return container_v1.Operation(name="operation-1", status=container_v1.Operation.Status.DONE)

    def delete_node_pool(self, request):
        self.calls.append("delete_node_pool")
        return container_v1.Operation(name="operation-2", status=container_v1.Operation.Status.DONE)

    def get_operation(self, name):
        return container_v1.Operation(name=name, status=container_v1.Operation.Status.DONE)


def pool_module(client, **pool):
    params = dict(cluster="ci-runners", state="present", name="tpu7x-1", tpu=None, gpu=None, machine_type=None,
                  autoscaling={"enabled": True, "min_nodes": 0, "max_nodes": 2}, recreate=False)
    params.update(pool)
    return FakeModule(client, **params)


SEVEN_X = {"accelerator": "7x", "topology": "2x2x1", "machine_type": None}


def test_7x_on_an_older_cluster_is_refused_before_the_create():
    client = PoolClient()
    with pytest.raises(AcceleratorError) as err:
        NodePoolManager(pool_module(client, tpu=SEVEN_X)).run()
    assert err.value.field == "tpu.accelerator"
    assert "1.33.5-gke.1162000" in str(err.value) and "1.34.0-gke.2201000" in str(err.value)
    assert client.calls == ["get_node_pool", "get_cluster"]


def test_7x_on_a_recent_cluster_is_created_after_one_cluster_read():
    client = PoolClient(version="1.34.1-gke.1431000")
    result = NodePoolManager(pool_module(client, tpu=SEVEN_X)).run()
    assert result["changed"] and result["node_pool"]["machine_type"] == "tpu7x-standard-4t"
    assert client.calls == ["get_node_pool", "get_cluster", "create_node_pool", "get_node_pool"]


def test_the_cluster_as_read_by_the_caller_is_not_read_again():
    client = PoolClient()
    cluster = {"current_master_version": "1.34.1-gke.1431000"}
    module = pool_module(client, tpu=SEVEN_X)
    NodePoolManager(module, cluster=cluster).run()
    assert "get_cluster" not in client.calls


def test_pools_without_a_minimum_version_never_read_the_cluster():
    client = PoolClient()
    NodePoolManager(pool_module(client, name="tpu-v6e-1", tpu={"accelerator": "v6e", "topology": "1x1"})).run()
    NodePoolManager(pool_module(client, name="cpu", machine_type="e2-standard-4")).run()
    assert "get_cluster" not in client.calls and client.calls.count("create_node_pool") == 2


def test_invalid_input_is_raised_before_any_call():
    client = PoolClient()
    with pytest.raises(InputError) as err:
        NodePoolManager(pool_module(client, name="cpu", machine_type="e2-standard-4",
                                    autoscaling={"enabled": True, "min_nodes": 3, "max_nodes": 1})).run()
    assert err.value.field == "autoscaling.min_nodes"
    with pytest.raises(InputError) as err:
        NodePoolManager(pool_module(client, name="Bad_Name", state="absent")).run()
    assert err.value.field == "name"
    assert client.calls == []


def test_create_time_only_change_is_refused_without_recreate():
    live = {"name": "cpu", "status": "RUNNING", "config": {"machine_type": "e2-standard-4", "spot": True},
            "autoscaling": {"enabled": True, "max_node_count": 2}}
    client = PoolClient(pools=[live])
    with pytest.raises(AccelciError) as err:
        NodePoolManager(pool_module(client, name="cpu", machine_type="e2-standard-4", spot=False)).run()
    assert "config.spot cannot change in place; set recreate: true" in str(err.value)
    assert err.value.details["changes"] == ["config.spot"]
    assert err.value.details["diff"] == {"before": {"config": {"spot": True}}, "after": {}}
    assert client.calls == ["get_node_pool"]


def test_a_pool_in_error_is_refused_without_recreate():
    broken = {"name": "cpu", "status": "ERROR", "status_message": "stockout",
              "config": {"machine_type": "e2-standard-4"}}
    client = PoolClient(pools=[broken])
    with pytest.raises(AccelciError, match=r"Node pool cpu is in ERROR \(stockout\); set recreate: true") as err:
        NodePoolManager(pool_module(client, name="cpu", machine_type="e2-standard-4")).run()
    assert err.value.details["node_pool"]["status"] == "ERROR"
    client.calls = []
    result = NodePoolManager(pool_module(client, name="cpu", machine_type="e2-standard-4", recreate=True)).run()
    assert result["recreated"] is True
    assert client.calls == ["get_node_pool", "delete_node_pool", "create_node_pool", "get_node_pool"]

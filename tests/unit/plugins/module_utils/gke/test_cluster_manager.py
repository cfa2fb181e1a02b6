"""The cluster manager against a fake client (no server)."""

import pytest
from google.cloud import container_v1

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import AccelciError, InputError
from ansible_collections.accelci.runners.plugins.module_utils.gke.cluster_manager import ClusterManager
from tests.unit.plugins.module_utils.gcp.fakes import FakeModule, rest_error


def test_stale_label_fingerprint_is_read_again_and_retried_once():
    stale = rest_error(400, "FAILED_PRECONDITION", "Labels could not be set due to fingerprint mismatch; try again "
                       "with the proper fingerprint: incorrect fingerprint supplied was \"a\", the expected one is \"b\".")
    sent = []

    class Client:
        def set_labels(self, request):
            sent.append(request.label_fingerprint)
            if len(sent) == 1:
                raise stale
            return container_v1.Operation(name="operation-2", status=1)

        def get_cluster(self, name):
            return container_v1.Cluster(name="ci-runners", label_fingerprint="b")

        def get_operation(self, name):
            return container_v1.Operation(name="operation-2", status=3)

    manager = ClusterManager(FakeModule(Client()))
    manager._set_labels({"team": "ml"}, "a")
    assert sent == ["a", "b"]
    assert manager.ops.operations == [{"action": "set labels on cluster ci-runners", "operation": "operation-2",
                                       "status": "DONE"}]


class ClusterClient:
    def __init__(self, cluster=None):
        self.cluster = cluster

    def get_cluster(self, name):
        if self.cluster is None:
            raise rest_error(404, "NOT_FOUND", "Cluster not found")
        return container_v1.Cluster(self.cluster)


def cluster_module(client, **params):
    base = dict(state="present", allow_create=True, release_channel=None, workload_identity=None, addons=None,
                labels=None, network=None, subnetwork=None, system_pool=None, kubernetes_version=None)
    base.update(params)
    return FakeModule(client, **base)


def test_a_missing_cluster_is_not_created_when_not_allowed():
    with pytest.raises(AccelciError, match="does not exist in projects/p/locations/us-central1-b and allow_create "
                                           "is false: run playbooks/cluster.yml first") as err:
        ClusterManager(cluster_module(ClusterClient(), allow_create=False)).run()
    assert not isinstance(err.value, InputError)


def test_a_create_time_only_cluster_change_is_refused():
    client = ClusterClient({"name": "ci-runners", "network": "projects/p/global/networks/default"})
    with pytest.raises(AccelciError, match="network can only be set when the cluster is created") as err:
        ClusterManager(cluster_module(client, network="other")).run()
    assert err.value.details["diff"] == {"before": {"network": "projects/p/global/networks/default"},
                                         "after": {"network": "other"}}


def test_cluster_input_errors_are_raised_before_any_call():
    with pytest.raises(InputError) as err:
        ClusterManager(cluster_module(None, release_channel="beta")).run()
    assert err.value.field == "release_channel"
    with pytest.raises(InputError) as err:
        ClusterManager(cluster_module(None, system_pool={"min_nodes": 4, "max_nodes": 2})).run()
    assert err.value.field == "system_pool.min_nodes"

"""Helpers for the GKE emulator's tests: a client on the emulator, operation polling, raw HTTP, sample pools."""

import json
import time
import urllib.error
import urllib.request

from google.auth.credentials import AnonymousCredentials
from google.cloud import container_v1
from google.cloud.container_v1 import types

PROJECT = "accel-proj"
ZONE = "us-central1-b"
REGION = "us-central1"
PARENT = "projects/%s/locations/%s" % (PROJECT, ZONE)
CLUSTER = PARENT + "/clusters/ci"
OP_SECONDS = 0.1


def make_client(url):
    return container_v1.ClusterManagerClient(
        transport="rest", client_options={"api_endpoint": url}, credentials=AnonymousCredentials())


def wait_done(client, op, location_parent=PARENT, timeout=10.0):
    """Poll an operation on a monotonic clock until DONE; returns the final Operation."""
    deadline = time.monotonic() + timeout
    while True:
        current = client.get_operation(name="%s/operations/%s" % (location_parent, op.name))
        if current.status == types.Operation.Status.DONE:
            return current
        assert time.monotonic() < deadline, "operation %s never finished" % op.name
        time.sleep(0.02)


def call(method, **fields):
    """Call a client method that takes only a request message (no flattened arguments)."""
    return method(request=fields)


def api_error(exc_info):
    return exc_info.value.response.json()["error"]


def raw(emu, method, path, body=None):
    """A plain HTTP request to the emulator; returns (status, parsed JSON)."""
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    request = urllib.request.Request(emu.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def system_pool():
    return types.NodePool(name="system", initial_node_count=1,
                          config=types.NodeConfig(machine_type="e2-standard-4"))


def create_cluster(client, **extra):
    cluster = types.Cluster(name="ci", node_pools=[system_pool()], **extra)
    return wait_done(client, client.create_cluster(parent=PARENT, cluster=cluster))


def v6e_multi_host(name="v6e-16", max_nodes=4, initial_node_count=0, **extra):
    """A spot v6e 4x4 slice (4 VMs of 4 chips) that starts at 0 nodes and autoscales to one slice."""
    return types.NodePool(
        name=name, initial_node_count=initial_node_count,
        config=types.NodeConfig(machine_type="ct6e-standard-4t", spot=True),
        placement_policy=types.NodePool.PlacementPolicy(type_="COMPACT", tpu_topology="4x4"),
        autoscaling=types.NodePoolAutoscaling(enabled=True, min_node_count=0, max_node_count=max_nodes), **extra)

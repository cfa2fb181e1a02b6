"""The cluster role against a GKE emulator that answers like GKE: it fills in the defaults GKE fills in (location
policy, the GPU taint, management, disk and image defaults, shielded nodes, addons, 7x topology) and enforces the
slice and capacity rules GKE enforces.

For every pool shape of the example inventories and each capacity option: the exact create body, then a second
converge that makes no write at all. Enum values are the integers the REST client sends: locationPolicy 1 BALANCED,
2 ANY; placementPolicy.type 1 COMPACT; workloadMetadataConfig.mode 2 GKE_METADATA; gpuDriverVersion 2 DEFAULT,
3 LATEST; consumeReservationType 1 NO_RESERVATION, 3 SPECIFIC_RESERVATION; taint effect 1 NO_SCHEDULE;
gpuSharingStrategy 1 TIME_SHARING.
"""

import json
import urllib.request

import pytest
import yaml

from tests.emulators.gke import GkeEmulator
from tests.integration.playbook_runner import ROOT, run_playbook, write_inventory

pytestmark = pytest.mark.integration

MUTATING = ("POST", "PUT", "DELETE", "PATCH")
WORKLOAD_IDENTITY = {"workloadMetadataConfig": {"mode": 2}}


def _autoscaling(max_nodes, policy=None):
    spec = {"enabled": True, "maxNodeCount": max_nodes}
    if policy:
        spec["locationPolicy"] = policy
    return spec


def _config(machine_type, **extra):
    return dict({"flexStart": False, "machineType": machine_type}, **dict(WORKLOAD_IDENTITY, **extra))


def _gpu(kind, count, driver, **extra):
    return dict({"acceleratorCount": str(count), "acceleratorType": kind,
                 "gpuDriverInstallationConfig": {"gpuDriverVersion": driver}}, **extra)


SPOT_V6E_1 = {"name": "tpu-v6e-1", "autoscaling": _autoscaling(4, 2), "config": _config("ct6e-standard-1t", spot=True)}
SPOT_V6E_4 = {"name": "tpu-v6e-4", "autoscaling": _autoscaling(2, 2), "config": _config("ct6e-standard-4t", spot=True)}


def _v5e_slice(name):
    return {"name": name, "autoscaling": _autoscaling(2, 2),
            "config": _config("ct5lp-hightpu-4t", spot=True, labels={"accelci.io/node-pool": "tpu-v5e-2x4"}),
            "placementPolicy": {"tpuTopology": "2x4", "type": 1}}


INVENTORY_BODIES = {
    "sandbox": [
        SPOT_V6E_1, SPOT_V6E_4, _v5e_slice("tpu-v5e-2x4"), _v5e_slice("tpu-v5e-2x4-s2"),
        # Not spot: no location policy sent; GKE picks BALANCED and the next converge does not fight it.
        {"name": "gpu-l4", "autoscaling": _autoscaling(2),
         "config": _config("g2-standard-8", accelerators=[_gpu("nvidia-l4", 1, 3)])},
    ],
    "tpu-v6e": [SPOT_V6E_1, SPOT_V6E_4],
    "gpu": [
        {"name": "gpu-l4", "autoscaling": _autoscaling(4, 2),
         "config": _config("g2-standard-8", spot=True, accelerators=[_gpu("nvidia-l4", 1, 3)])},
        {"name": "gpu-t4", "autoscaling": _autoscaling(2),
         "config": _config("n1-standard-4", accelerators=[_gpu("nvidia-tesla-t4", 1, 2)])},
    ],
}

# Capacity options on a regional cluster (us-central1) on the REGULAR channel, at a version that runs 7x.
CAPACITY_POOLS = [
    {"name": "gpu-flex", "gpu": {"type": "nvidia-l4", "driver_version": "LATEST"}, "flex_start": True,
     "autoscaling": {"min_nodes": 0, "max_nodes": 2}},
    {"name": "gpu-queued", "gpu": {"type": "nvidia-h100-80gb", "driver_version": "LATEST"},
     "queued_provisioning": True, "autoscaling": {"min_nodes": 0, "max_nodes": 2}},
    {"name": "gpu-spot-tainted", "gpu": {"type": "nvidia-tesla-t4", "count": 2}, "machine_type": "n1-standard-8",
     "spot": True, "taints": [{"key": "team", "value": "ml", "effect": "NO_SCHEDULE"}],
     "autoscaling": {"min_nodes": 0, "max_nodes": 3}},
    {"name": "gpu-reserved", "gpu": {"type": "nvidia-a100-80gb", "partition_size": "1g.10gb"},
     "reservation": {"affinity": "SPECIFIC_RESERVATION", "name": "a100-res"},
     "autoscaling": {"min_nodes": 0, "max_nodes": 1, "location_policy": "BALANCED"}},
    {"name": "gpu-g4", "gpu": {"type": "nvidia-rtx-pro-6000",
                               "sharing": {"strategy": "TIME_SHARING", "max_shared_clients": 4}},
     "disk_type": "hyperdisk-balanced", "disk_size_gb": 200, "autoscaling": {"min_nodes": 0, "max_nodes": 1}},
    {"name": "tpu-v6e-16", "tpu": {"accelerator": "v6e", "topology": "4x4"}, "spot": True, "slices": 2,
     "autoscaling": {"min_nodes": 0, "max_nodes": 4}},
    {"name": "tpu7x-8", "tpu": {"accelerator": "7x", "topology": "2x2x2"}, "placement_policy_name": "wp-2x2x2",
     "locations": ["us-central1-c"], "autoscaling": {"min_nodes": 0, "max_nodes": 2}},
    {"name": "cpu-fixed", "machine_type": "e2-standard-8", "node_count": 1, "auto_upgrade": True,
     "labels": {"role": "builder"}},
]


def _v6e_16(name):
    # A multi-host slice on a regional cluster is pinned to one zone: the cluster's first.
    return {"name": name, "autoscaling": _autoscaling(4, 2), "locations": ["us-central1-a"],
            "config": _config("ct6e-standard-4t", spot=True, labels={"accelci.io/node-pool": "tpu-v6e-16"}),
            "placementPolicy": {"tpuTopology": "4x4", "type": 1}}


CAPACITY_BODIES = [
    # flex-start: ANY, no reservation, auto repair off (false is dropped on the wire; auto upgrade stated on).
    {"name": "gpu-flex", "autoscaling": _autoscaling(2, 2), "management": {"autoUpgrade": True},
     "config": dict(_config("g2-standard-8", accelerators=[_gpu("nvidia-l4", 1, 3)],
                            reservationAffinity={"consumeReservationType": 1}), flexStart=True)},
    {"name": "gpu-queued", "autoscaling": _autoscaling(2, 2), "queuedProvisioning": {"enabled": True},
     "config": _config("a3-highgpu-8g", accelerators=[_gpu("nvidia-h100-80gb", 8, 3)],
                       reservationAffinity={"consumeReservationType": 1})},
    # Only the user's taint is sent; GKE adds nvidia.com/gpu=present:NO_SCHEDULE itself.
    {"name": "gpu-spot-tainted", "autoscaling": _autoscaling(3, 2),
     "config": _config("n1-standard-8", spot=True, accelerators=[_gpu("nvidia-tesla-t4", 2, 2)],
                       taints=[{"effect": 1, "key": "team", "value": "ml"}])},
    {"name": "gpu-reserved", "autoscaling": _autoscaling(1, 1),
     "config": _config("a2-ultragpu-1g", accelerators=[_gpu("nvidia-a100-80gb", 1, 2, gpuPartitionSize="1g.10gb")],
                       reservationAffinity={"consumeReservationType": 3,
                                            "key": "compute.googleapis.com/reservation-name",
                                            "values": ["a100-res"]})},
    {"name": "gpu-g4", "autoscaling": _autoscaling(1),
     "config": _config("g4-standard-48", diskSizeGb=200, diskType="hyperdisk-balanced", accelerators=[
         _gpu("nvidia-rtx-pro-6000", 1, 2,
              gpuSharingConfig={"gpuSharingStrategy": 1, "maxSharedClientsPerGpu": "4"})])},
    _v6e_16("tpu-v6e-16"), _v6e_16("tpu-v6e-16-s2"),
    # 7x multi-host: the workload policy by name only; GKE answers with the policy's tpuTopology too.
    {"name": "tpu7x-8", "autoscaling": _autoscaling(2), "locations": ["us-central1-c"],
     "config": _config("tpu7x-standard-4t"), "placementPolicy": {"policyName": "wp-2x2x2"}},
    {"name": "cpu-fixed", "initialNodeCount": 1, "management": {"autoRepair": True, "autoUpgrade": True},
     "config": _config("e2-standard-8", labels={"role": "builder"})},
]


@pytest.fixture
def emulator():
    with GkeEmulator(operation_seconds=0.05) as emu:
        yield emu


def _inventory_estate(name):
    with open("%s/inventories/%s/group_vars/all/cluster.yml" % (ROOT, name)) as handle:
        data = yaml.safe_load(handle)
    return {"accelci_project": "accelci-test", "accelci_location": "us-central1-b",
            "accelci_cluster": data["accelci_cluster"], "accelci_node_pools": data["accelci_node_pools"]}


def _capacity_estate():
    return {"accelci_project": "accelci-test", "accelci_location": "us-central1",
            "accelci_cluster": {"name": "capacity", "release_channel": "regular", "workload_identity": True,
                                "kubernetes_version": "1.34.1-gke.1431000",
                                "system_pool": {"machine_type": "e2-standard-4", "min_nodes": 1, "max_nodes": 3}},
            "accelci_node_pools": CAPACITY_POOLS}


def _converge(tmp_path, emulator, variables, extra_args=()):
    return run_playbook("playbooks/cluster.yml", write_inventory(tmp_path, variables),
                        env={"ACCELCI_GKE_API_ENDPOINT": emulator.url}, extra_args=extra_args)


def _created(emulator):
    return [r["body"]["nodePool"] for r in emulator.requests()
            if r["method"] == "POST" and r["path"].endswith("/nodePools")]


def _set_labels_by_hand(emulator, cluster, labels):
    """What a colleague's gcloud would do: setResourceLabels with the current fingerprint."""
    path = "%s/v1/projects/accelci-test/locations/us-central1-b/clusters/%s" % (emulator.url, cluster)
    with urllib.request.urlopen(path) as reply:
        fingerprint = json.loads(reply.read())["labelFingerprint"]
    body = json.dumps({"resourceLabels": labels, "labelFingerprint": fingerprint}).encode()
    request = urllib.request.Request(path + ":setResourceLabels", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as reply:
        assert reply.status == 200
    emulator.advance(60)


def _assert_exact_then_idempotent(tmp_path, emulator, variables, expected):
    first = _converge(tmp_path, emulator, variables)
    assert first.rc == 0, first
    assert _created(emulator) == expected
    pools = [p["name"] for p in expected]
    emulator.clear_requests()
    second = _converge(tmp_path, emulator, variables)
    assert second.rc == 0, second
    assert second.changed == 0, second
    log = [(r["method"], r["path"].rsplit("/", 1)[-1]) for r in emulator.requests()]
    assert [entry for entry in log if entry[0] in MUTATING] == []
    assert log == [("GET", variables["accelci_cluster"]["name"])] + [("GET", name) for name in pools]


@pytest.mark.parametrize("inventory", sorted(INVENTORY_BODIES))
def test_example_inventory_pools_are_sent_exactly_and_converge_once(tmp_path, emulator, inventory):
    _assert_exact_then_idempotent(tmp_path, emulator, _inventory_estate(inventory), INVENTORY_BODIES[inventory])


def test_capacity_options_are_sent_exactly_and_converge_once(tmp_path, emulator):
    emulator.add_resource_policy("us-central1", "wp-2x2x2", accelerator_topology="2x2x2")
    _assert_exact_then_idempotent(tmp_path, emulator, _capacity_estate(), CAPACITY_BODIES)
    pools = dict((p["name"], p) for p in emulator.state()["clusters"][0]["nodePools"])
    # What GKE filled in, and the converge left alone.
    assert pools["gpu-spot-tainted"]["config"]["taints"] == [
        {"key": "team", "value": "ml", "effect": "NO_SCHEDULE"},
        {"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"}]
    assert pools["gpu-g4"]["autoscaling"]["locationPolicy"] == "BALANCED"
    assert pools["tpu7x-8"]["placementPolicy"] == {"policyName": "wp-2x2x2", "tpuTopology": "2x2x2"}
    assert pools["gpu-flex"]["management"].get("autoRepair", False) is False


def test_a_user_taint_change_keeps_the_gpu_taint_gke_manages(tmp_path, emulator):
    variables = _inventory_estate("gpu")
    assert _converge(tmp_path, emulator, variables).rc == 0
    variables["accelci_node_pools"][1]["taints"] = [{"key": "team", "value": "ml", "effect": "NO_SCHEDULE"}]
    emulator.clear_requests()
    run = _converge(tmp_path, emulator, variables)
    assert run.rc == 0 and run.changed == 1, run
    updates = [r["body"] for r in emulator.requests() if r["method"] == "PUT"]
    assert [u["taints"]["taints"] for u in updates] == [[
        {"key": "team", "value": "ml", "effect": 1},
        {"key": "nvidia.com/gpu", "value": "present", "effect": 1}]]
    emulator.clear_requests()
    assert _converge(tmp_path, emulator, variables).changed == 0


def test_auto_upgrade_off_on_a_release_channel_is_refused_after_one_read(tmp_path, emulator):
    variables = _inventory_estate("tpu-v6e")
    assert _converge(tmp_path, emulator, variables).rc == 0
    variables["accelci_node_pools"][0]["auto_upgrade"] = False
    emulator.clear_requests()
    run = _converge(tmp_path, emulator, variables)
    assert run.rc != 0
    assert ("auto_upgrade: cannot be false on cluster sglang-arc-runners, which is on the REGULAR release channel"
            in run.stdout), run
    assert [r for r in emulator.requests() if r["method"] in MUTATING] == []


def test_hand_added_cluster_labels_and_undeclared_pools_are_kept_and_reported(tmp_path, emulator):
    variables = _inventory_estate("tpu-v6e")
    variables["accelci_cluster"]["labels"] = {"estate": "ci"}
    assert _converge(tmp_path, emulator, variables).rc == 0
    cluster = emulator.state()["clusters"][0]
    _set_labels_by_hand(emulator, cluster["name"], dict(cluster["resourceLabels"], owner="finance"))
    variables["accelci_node_pools"] = variables["accelci_node_pools"][:1]  # tpu-v6e-4 left the inventory
    emulator.clear_requests()
    run = _converge(tmp_path, emulator, variables)
    assert run.rc == 0 and run.changed == 0, run
    assert "node pools that the inventory does not declare: tpu-v6e-4" in run.stdout + run.stderr
    assert [r for r in emulator.requests() if r["method"] in MUTATING] == []
    assert emulator.state()["clusters"][0]["resourceLabels"] == {"estate": "ci", "owner": "finance"}
    assert "tpu-v6e-4" in [p["name"] for p in emulator.state()["clusters"][0]["nodePools"]]

    variables["accelci_cluster"]["purge_labels"] = True
    run = _converge(tmp_path, emulator, variables)
    assert run.rc == 0 and run.changed == 1, run
    assert emulator.state()["clusters"][0]["resourceLabels"] == {"estate": "ci"}


def test_slices_grow_by_adding_pools_and_never_delete(tmp_path, emulator):
    variables = _inventory_estate("sandbox")
    assert _converge(tmp_path, emulator, variables).rc == 0
    variables["accelci_node_pools"][2]["slices"] = 3
    emulator.clear_requests()
    run = _converge(tmp_path, emulator, variables)
    assert run.rc == 0, run
    assert [p["name"] for p in _created(emulator)] == ["tpu-v5e-2x4-s3"]
    variables["accelci_node_pools"][2]["slices"] = 1
    emulator.clear_requests()
    run = _converge(tmp_path, emulator, variables)
    assert run.rc == 0, run
    assert "does not declare: tpu-v5e-2x4-s2, tpu-v5e-2x4-s3" in run.stdout + run.stderr
    assert [r for r in emulator.requests() if r["method"] == "DELETE"] == []


@pytest.mark.parametrize("slices, message", [
    (0, "accelci_node_pools[tpu-v6e-1].slices: 0 is not accepted; accepted: a whole number from 1 to 64"),
    ("two", "accelci_node_pools[tpu-v6e-1].slices: 'two' is not accepted"),
    (2, "accelci_node_pools[tpu-v6e-1].slices: only multi-host TPU pools come in slices"),
])
def test_bad_slices_are_refused_before_any_request(tmp_path, emulator, slices, message):
    variables = _inventory_estate("tpu-v6e")
    variables["accelci_node_pools"][0]["slices"] = slices
    run = _converge(tmp_path, emulator, variables)
    assert run.rc != 0
    assert message in run.stdout, run
    assert emulator.requests() == []


def test_deleting_a_pool_or_the_cluster_needs_its_name(tmp_path, emulator):
    variables = _inventory_estate("tpu-v6e")
    assert _converge(tmp_path, emulator, variables).rc == 0
    cluster = variables["accelci_cluster"]["name"]
    where = {"project": "accelci-test", "location": "us-central1-b"}

    def delete(module, confirm, **names):
        args = dict(where, state="absent", **names)
        if confirm is not None:
            args["confirm_delete"] = confirm
        return {"name": "delete %s %s" % (module, confirm), "accelci.runners.%s" % module: args,
                "ignore_errors": True}

    refused = [delete("gke_node_pool", None, cluster=cluster, name="tpu-v6e-4"),
               delete("gke_node_pool", cluster, cluster=cluster, name="tpu-v6e-4"),
               delete("gke_cluster", None, name=cluster),
               delete("gke_cluster", "tpu-v6e-4", name=cluster)]
    playbook = tmp_path / "delete.yml"
    playbook.write_text(yaml.safe_dump([{"hosts": "localhost", "gather_facts": False, "tasks": refused}]))
    emulator.clear_requests()
    run = run_playbook(str(playbook), write_inventory(tmp_path, {}), env={"ACCELCI_GKE_API_ENDPOINT": emulator.url})
    assert run.rc == 0, run
    for kind, name, got in [("node pool", "tpu-v6e-4", "None"), ("node pool", "tpu-v6e-4", repr(cluster)),
                            ("cluster", cluster, "None"), ("cluster", cluster, "'tpu-v6e-4'")]:
        assert ("confirm_delete: deleting %s %s takes its nodes and running jobs with it; set confirm_delete: %s to "
                "confirm (got %s)" % (kind, name, name, got)) in run.stdout, run
    assert emulator.requests() == []  # refused before any call, not even a read
    assert [p["name"] for p in emulator.state()["clusters"][0]["nodePools"]] == ["system", "tpu-v6e-1", "tpu-v6e-4"]

    confirmed = [dict(delete("gke_node_pool", "tpu-v6e-4", cluster=cluster, name="tpu-v6e-4"), ignore_errors=False)]
    playbook.write_text(yaml.safe_dump([{"hosts": "localhost", "gather_facts": False, "tasks": confirmed}]))
    run = run_playbook(str(playbook), write_inventory(tmp_path, {}), env={"ACCELCI_GKE_API_ENDPOINT": emulator.url})
    assert run.rc == 0 and run.changed == 1, run
    assert [p["name"] for p in emulator.state()["clusters"][0]["nodePools"]] == ["system", "tpu-v6e-1"]

    confirmed = [dict(delete("gke_cluster", cluster, name=cluster), ignore_errors=False)]
    playbook.write_text(yaml.safe_dump([{"hosts": "localhost", "gather_facts": False, "tasks": confirmed}]))
    run = run_playbook(str(playbook), write_inventory(tmp_path, {}), env={"ACCELCI_GKE_API_ENDPOINT": emulator.url})
    assert run.rc == 0 and run.changed == 1, run
    assert emulator.state()["clusters"] == []

"""The cluster role and GKE modules against the GKE API emulator, through ansible-playbook."""

import json
import re

import pytest

from tests.emulators.gke import GkeEmulator
from tests.integration.playbook_runner import run_playbook, write_inventory

pytestmark = pytest.mark.integration

MUTATING = ("POST", "PUT", "DELETE", "PATCH")
CLUSTER_PATH = "/v1/projects/accelci-test/locations/us-central1-b/clusters/ci-runners"


def estate(**overrides):
    variables = {
        "accelci_project": "accelci-test",
        "accelci_location": "us-central1-b",
        "accelci_cluster": {
            "name": "ci-runners", "release_channel": "regular", "workload_identity": True,
            "addons": {"gcs_fuse_csi_driver": True}, "labels": {"team": "ml"},
            "system_pool": {"machine_type": "e2-standard-4", "min_nodes": 1, "max_nodes": 3},
        },
        "accelci_node_pools": [
            {"name": "tpu-v6e-1", "tpu": {"accelerator": "v6e", "topology": "1x1"}, "spot": True,
             "autoscaling": {"min_nodes": 0, "max_nodes": 4}},
            {"name": "tpu-v6e-4", "tpu": {"accelerator": "v6e", "topology": "2x2"}, "spot": True,
             "autoscaling": {"min_nodes": 0, "max_nodes": 2}},
            {"name": "tpu-v5e-16", "tpu": {"accelerator": "v5e", "topology": "4x4"},
             "autoscaling": {"min_nodes": 0, "max_nodes": 4}},
            {"name": "gpu-l4", "gpu": {"type": "nvidia-l4", "count": 1, "driver_version": "LATEST"},
             "machine_type": "g2-standard-8", "autoscaling": {"min_nodes": 0, "max_nodes": 2}},
        ],
    }
    variables.update(overrides)
    return variables


@pytest.fixture
def emulator():
    with GkeEmulator(operation_seconds=0.1) as emu:
        yield emu


def converge(tmp_path, emulator, variables=None, extra_args=()):
    inventory = write_inventory(tmp_path, variables or estate())
    return run_playbook("playbooks/cluster.yml", inventory, env={"ACCELCI_GKE_API_ENDPOINT": emulator.url},
                        extra_args=extra_args)


def mutations(emulator):
    return [(r["method"], r["path"]) for r in emulator.requests() if r["method"] in MUTATING]


def request_bodies(emulator, method, path_suffix):
    return [r["body"] for r in emulator.requests() if r["method"] == method and r["path"].endswith(path_suffix)]


def test_check_mode_sends_no_mutation(tmp_path, emulator):
    run = converge(tmp_path, emulator, extra_args=["--check"])
    assert run.rc == 0, run
    assert run.changed == 2, run  # the cluster and the pools loop would change
    assert mutations(emulator) == []
    assert emulator.state()["clusters"] == []


def test_apply_then_apply_again_is_unchanged_with_one_read_per_resource(tmp_path, emulator):
    first = converge(tmp_path, emulator)
    assert first.rc == 0, first
    # The cluster, the pools, and the kubeconfig that reaches the new cluster (written from the cluster's answer:
    # the request log below has no second read of the cluster).
    assert first.changed == 3, first
    assert re.search(r"Write the kubeconfig that reaches cluster ci-runners\] \*+\nchanged", first.stdout), first

    created = request_bodies(emulator, "POST", "/nodePools")
    by_name = dict((body["nodePool"]["name"], body["nodePool"]) for body in created)
    # Single-host TPU: machine type only, no topology (GKE rejects one).
    assert "placementPolicy" not in by_name["tpu-v6e-1"]
    assert by_name["tpu-v6e-1"]["config"]["machineType"] == "ct6e-standard-1t"
    assert by_name["tpu-v6e-1"]["config"]["spot"] is True
    # Multi-host TPU: COMPACT (integer enum 1) and the topology.
    assert by_name["tpu-v5e-16"]["placementPolicy"] == {"type": 1, "tpuTopology": "4x4"}
    # GPU: driver installation always explicit (LATEST is enum 3... any integer, but present).
    driver = by_name["gpu-l4"]["config"]["accelerators"][0]["gpuDriverInstallationConfig"]
    assert "gpuDriverVersion" in driver
    # Workload identity cluster: pools get GKE_METADATA (enum 2), through gke_node_pool's cluster_workload_identity.
    assert all(pool["config"]["workloadMetadataConfig"]["mode"] == 2 for pool in by_name.values())
    # Zero values are omitted by the client, as the real API expects: minNodeCount 0 is not sent.
    assert "minNodeCount" not in by_name["tpu-v6e-1"]["autoscaling"]

    emulator.clear_requests()
    second = converge(tmp_path, emulator)
    assert second.rc == 0, second
    assert second.changed == 0, second
    log = [(r["method"], r["path"]) for r in emulator.requests()]
    assert log == [("GET", CLUSTER_PATH)] + [
        ("GET", CLUSTER_PATH + "/nodePools/" + name) for name in ("tpu-v6e-1", "tpu-v6e-4", "tpu-v5e-16", "gpu-l4")
    ]


def test_in_place_changes_do_not_recreate(tmp_path, emulator):
    assert converge(tmp_path, emulator).rc == 0
    variables = estate()
    pools = variables["accelci_node_pools"]
    pools[1]["autoscaling"] = {"min_nodes": 0, "max_nodes": 3}
    pools[1]["labels"] = {"runner": "v6e-4"}
    variables["accelci_cluster"]["labels"] = {"team": "ml", "cost-center": "ci"}
    emulator.clear_requests()
    run = converge(tmp_path, emulator, variables)
    assert run.rc == 0, run
    assert run.changed == 2, run
    done = mutations(emulator)
    assert ("POST", CLUSTER_PATH + "/nodePools/tpu-v6e-4:setAutoscaling") in done
    assert ("PUT", CLUSTER_PATH + "/nodePools/tpu-v6e-4") in done
    assert ("POST", CLUSTER_PATH + ":setResourceLabels") in done
    assert not [m for m in done if m[0] == "DELETE" or m[1].endswith("/nodePools")]
    cluster = emulator.state()["clusters"][0]
    pool = [p for p in cluster["nodePools"] if p["name"] == "tpu-v6e-4"][0]
    assert int(pool["autoscaling"]["maxNodeCount"]) == 3
    assert pool["config"]["labels"] == {"runner": "v6e-4"}
    assert cluster["resourceLabels"] == {"team": "ml", "cost-center": "ci"}
    emulator.clear_requests()
    assert converge(tmp_path, emulator, variables).changed == 0


def test_recreate_only_change_is_refused_then_done_with_recreate(tmp_path, emulator):
    assert converge(tmp_path, emulator).rc == 0
    variables = estate()
    variables["accelci_node_pools"][0]["spot"] = False
    emulator.clear_requests()
    refused = converge(tmp_path, emulator, variables)
    assert refused.rc != 0
    assert "config.spot cannot change in place; set recreate: true" in refused.stdout
    assert mutations(emulator) == []

    variables["accelci_node_pools"][0]["recreate"] = True
    emulator.clear_requests()
    done = converge(tmp_path, emulator, variables)
    assert done.rc == 0, done
    assert mutations(emulator) == [("DELETE", CLUSTER_PATH + "/nodePools/tpu-v6e-1"),
                                   ("POST", CLUSTER_PATH + "/nodePools")]


def cases_run(tmp_path, emulator, cases, check_mode=False):
    results_file = tmp_path / "results.json"
    inventory = write_inventory(tmp_path, estate())
    run = run_playbook("tests/integration/playbooks/node_pool_cases.yml", inventory,
                       env={"ACCELCI_GKE_API_ENDPOINT": emulator.url},
                       extra_vars={"cases": cases, "results_file": str(results_file),
                                   "cases_check_mode": check_mode})
    assert run.rc == 0, run
    return json.loads(results_file.read_text())


INVALID = [
    ({"name": "bad-accel", "tpu": {"accelerator": "v9", "topology": "1x1"}},
     "tpu.accelerator: unknown TPU accelerator v9; accepted generations: v4, v5e"),
    ({"name": "bad-topo", "tpu": {"accelerator": "v6e", "topology": "3x3"}},
     "tpu.topology: v6e has no topology 3x3"),
    ({"name": "bad-dims", "tpu": {"accelerator": "v5p", "topology": "2x2"}},
     "tpu.topology: v5p takes 3-D topologies, got 2x2 (did you mean 2x2x1?)"),
    ({"name": "bad-tpu-mt", "tpu": {"accelerator": "v6e", "topology": "4x4", "machine_type": "ct6e-standard-8t"}},
     "machine_type"),
    ({"name": "bad-gpu-mt", "gpu": {"type": "nvidia-l4", "count": 1}, "machine_type": "n1-standard-4"},
     "machine_type"),
    ({"name": "bad-gpu-count", "gpu": {"type": "nvidia-l4", "count": 2}, "machine_type": "g2-standard-8"},
     "gpu.count: g2-standard-8 carries exactly 1 nvidia-l4 GPU(s), not 2"),
    ({"name": "bad-gpu-type", "gpu": {"type": "nvidia-rtx-9000", "count": 1}}, "gpu.type"),
    ({"name": "min-max", "machine_type": "e2-standard-4", "autoscaling": {"min_nodes": 3, "max_nodes": 1}},
     "autoscaling.min_nodes: 3 is greater than autoscaling.max_nodes 1"),
    ({"name": "not-whole", "tpu": {"accelerator": "v6e", "topology": "4x4"},
      "autoscaling": {"min_nodes": 0, "max_nodes": 6}},
     "autoscaling.max_nodes: 6 does not fit: a v6e 4x4 pool is one slice of 4 nodes"),
    # One pool is one slice: a whole multiple of the slice is refused too (GKE fails it inside the operation).
    ({"name": "two-slices", "tpu": {"accelerator": "v6e", "topology": "4x4"},
      "autoscaling": {"min_nodes": 0, "max_nodes": 8}},
     "autoscaling.max_nodes: 8 does not fit: a v6e 4x4 pool is one slice of 4 nodes, created and removed whole; "
     "accepted: 0 or 4 (for more slices, set slices: N to get N pools)"),
    ({"name": "slice-count", "tpu": {"accelerator": "v5e", "topology": "4x4"}, "node_count": 8,
      "autoscaling": {"enabled": False}}, "node_count: 8 does not fit: a v5e 4x4 pool is one slice of 4 nodes"),
    ({"name": "slice-zones", "tpu": {"accelerator": "v6e", "topology": "4x4"},
      "autoscaling": {"min_nodes": 0, "max_nodes": 4}, "locations": ["us-central1-a", "us-central1-b"]},
     "locations: a multi-host v6e 4x4 slice lives in one zone (compact placement)"),
    # Capacity rules GKE enforces.
    ({"name": "flex-repair", "gpu": {"type": "nvidia-l4"}, "flex_start": True, "auto_repair": True,
      "autoscaling": {"min_nodes": 0, "max_nodes": 2}}, "auto_repair: must be false (or left out) on a flex-start"),
    ({"name": "flex-queued-tpu", "tpu": {"accelerator": "v6e", "topology": "2x2"}, "flex_start": True,
      "queued_provisioning": True, "autoscaling": {"min_nodes": 0, "max_nodes": 2}},
     "queued_provisioning: GKE's flex-start pools do not take TPUs with queued provisioning"),
    ({"name": "spot-any-res", "machine_type": "e2-standard-4", "spot": True,
      "reservation": {"affinity": "ANY_RESERVATION"}},
     "reservation.affinity: ANY_RESERVATION does not go with spot: spot VMs consume no reservation"),
    ({"name": "spot-res", "machine_type": "e2-standard-4", "spot": True,
      "reservation": {"affinity": "SPECIFIC_RESERVATION", "name": "r1"}},
     "reservation.affinity: SPECIFIC_RESERVATION does not go with spot"),
    ({"name": "spot-queued", "gpu": {"type": "nvidia-l4"}, "spot": True, "queued_provisioning": True,
      "autoscaling": {"min_nodes": 0, "max_nodes": 2}}, "spot: queued_provisioning and spot exclude each other"),
    ({"name": "queued-min", "gpu": {"type": "nvidia-l4"}, "queued_provisioning": True,
      "autoscaling": {"min_nodes": 1, "max_nodes": 2}}, "queued_provisioning: needs autoscaling.min_nodes 0"),
    ({"name": "queued-res", "gpu": {"type": "nvidia-l4"}, "queued_provisioning": True,
      "reservation": {"affinity": "ANY_RESERVATION"}, "autoscaling": {"min_nodes": 0, "max_nodes": 2}},
     "queued_provisioning: needs reservation.affinity NO_RESERVATION"),
    ({"name": "pd-on-ct6e", "tpu": {"accelerator": "v6e", "topology": "2x2"}, "disk_type": "pd-balanced"},
     "disk_type: ct6e-standard-4t machines boot only from Hyperdisk, not pd-balanced; accepted: hyperdisk-balanced"),
    ({"name": "pd-on-g4", "gpu": {"type": "nvidia-rtx-pro-6000"}, "disk_type": "pd-ssd"},
     "disk_type: g4-standard-48 machines boot only from Hyperdisk"),
    ({"name": "h200-mig", "gpu": {"type": "nvidia-h200-141gb", "partition_size": "1g.10gb"}},
     "gpu.partition_size: '1g.10gb' is not a nvidia-h200-141gb partition size; accepted: 1g.18gb"),
    ({"name": "one-client", "gpu": {"type": "nvidia-l4", "sharing": {"strategy": "MPS", "max_shared_clients": 1}}},
     "gpu.sharing.max_shared_clients: 1 is not accepted; accepted: a whole number from 2 to 48"),
    # Values GKE takes.
    ({"name": "huge-pool", "machine_type": "e2-standard-4",
      "autoscaling": {"min_nodes": 0, "max_nodes": 10 ** 12}},
     "autoscaling.max_nodes: 1000000000000 is outside what GKE takes; accepted: 0 to 1000 nodes per zone"),
    ({"name": "neg-disk", "machine_type": "e2-standard-4", "disk_size_gb": -5},
     "disk_size_gb: -5 is outside what Compute Engine takes; accepted: 10 to 65536 GB"),
    ({"name": "bad-labels", "machine_type": "e2-standard-4", "labels": {"Team Name": "ml"}},
     "labels: key 'Team Name' is not a Kubernetes label key"),
    ({"name": "bad-zone", "machine_type": "e2-standard-4", "locations": ["mars-north1"]},
     "locations[0]: 'mars-north1' is not a Google Cloud location; accepted: a zone like us-central1-a"),
    ({"name": "bad-location", "machine_type": "e2-standard-4", "location": "Central US"},
     "location: 'Central US' is not a Google Cloud location"),
    # Deleting needs the pool's name in confirm_delete.
    ({"name": "gpu-l4", "state": "absent"},
     "confirm_delete: deleting node pool gpu-l4 takes its nodes and running jobs with it; set confirm_delete: "
     "gpu-l4 to confirm"),
    ({"name": "gpu-l4", "state": "absent", "confirm_delete": "gpu"}, "confirm_delete: deleting node pool gpu-l4"),
    ({"name": "Bad_Name", "machine_type": "e2-standard-4"}, "name: 'Bad_Name' is not a valid GKE name"),
    ({"name": "no-shape"}, "machine_type: one of tpu, gpu or machine_type is required"),
    ({"name": "flex-spot", "machine_type": "e2-standard-4", "flex_start": True, "spot": True,
      "autoscaling": {"min_nodes": 0, "max_nodes": 2}}, "spot: flex_start and spot exclude each other"),
    ({"name": "tpu7x", "tpu": {"accelerator": "7x", "topology": "2x2x2"}},
     "placement_policy_name: is required for a multi-host 7x slice"),
    ({"name": "bad-share", "machine_type": "n1-standard-4",
      "gpu": {"type": "nvidia-tesla-t4", "sharing": {"strategy": "TIME_SHARING", "max_shared_clients": 99}}},
     "gpu.sharing.max_shared_clients"),
    ({"name": "bad-mig", "gpu": {"type": "nvidia-l4", "partition_size": "1g.5gb"}}, "gpu.partition_size"),
]


def test_invalid_inputs_are_refused_before_any_request(tmp_path, emulator):
    results = cases_run(tmp_path, emulator, [case for case, _message in INVALID])
    for (case, message), result in zip(INVALID, results):
        assert result.get("failed"), (case, result)
        assert message in result["msg"], (case, result["msg"])
        # Every input error names the option at fault, and the message starts with it.
        assert result["msg"].startswith(result["field"] + ": "), (case, result)
    assert emulator.requests() == []


def test_a_tpu_generation_newer_than_the_cluster_is_refused_before_the_create(tmp_path, emulator):
    assert converge(tmp_path, emulator).rc == 0  # the emulator's default version, 1.33.5-gke.1162000
    emulator.clear_requests()
    pool = {"name": "tpu7x-1", "tpu": {"accelerator": "7x", "topology": "2x2x1"},
            "autoscaling": {"min_nodes": 0, "max_nodes": 2}}
    refused, planned = cases_run(tmp_path, emulator, [pool, dict(pool, name="tpu-v6e-9", tpu={
        "accelerator": "v6e", "topology": "2x2"})])
    assert refused.get("failed")
    assert refused["field"] == "tpu.accelerator"
    assert refused["msg"].startswith("tpu.accelerator: 7x needs GKE 1.34.0-gke.2201000 or later, and the cluster "
                                     "runs 1.33.5-gke.1162000; accepted: upgrade the cluster")
    assert (refused["min_gke_version"], refused["cluster_version"]) == ("1.34.0-gke.2201000", "1.33.5-gke.1162000")
    # One extra read, for the pool that has a minimum version only; no create request.
    log = [(r["method"], r["path"]) for r in emulator.requests()]
    assert log.count(("GET", CLUSTER_PATH)) == 1
    assert not planned.get("failed") and planned["changed"]
    assert ("POST", CLUSTER_PATH + "/nodePools") in log
    assert not [body for body in request_bodies(emulator, "POST", "/nodePools")
                if body["nodePool"]["name"] == "tpu7x-1"]


def test_a_tpu_generation_is_created_on_a_cluster_recent_enough(tmp_path, emulator):
    variables = estate(accelci_node_pools=[{"name": "tpu7x-1", "tpu": {"accelerator": "7x", "topology": "2x2x1"},
                                            "autoscaling": {"min_nodes": 0, "max_nodes": 2}}])
    variables["accelci_cluster"]["kubernetes_version"] = "1.34.1-gke.1431000"
    run = converge(tmp_path, emulator, variables)
    assert run.rc == 0, run
    created = request_bodies(emulator, "POST", "/nodePools")
    assert [body["nodePool"]["config"]["machineType"] for body in created] == ["tpu7x-standard-4t"]


def test_role_errors_name_the_inventory_variable(tmp_path, emulator):
    variables = estate()
    variables["accelci_node_pools"][1]["tpu"]["topology"] = "3x3"
    run = converge(tmp_path, emulator, variables)
    assert run.rc != 0
    assert "accelci_node_pools[tpu-v6e-4].tpu: tpu.topology: v6e has no topology 3x3" in run.stdout, run
    assert emulator.requests() == []

    variables = estate()
    variables["accelci_node_pools"].append({"name": "gpu-l4", "machine_type": "e2-standard-4"})
    run = converge(tmp_path, emulator, variables)
    assert run.rc != 0
    assert "accelci_node_pools: pool names must be unique, slices included (NAME-s2, ...); repeated: gpu-l4" \
        in run.stdout, run
    assert "cluster_node_pools" not in run.stdout
    assert emulator.requests() == []

    variables = estate()
    variables["accelci_node_pools"].append({"machine_type": "e2-standard-4"})  # no name
    run = converge(tmp_path, emulator, variables)
    assert run.rc != 0
    assert "accelci_node_pools must be a list of mappings, each with a name" in run.stdout, run
    assert "has no attribute" not in run.stdout and "cluster_node_pools" not in run.stdout
    assert emulator.requests() == []


def test_preflight_publishes_every_pool_profile(tmp_path, emulator):
    variables = estate()
    variables["accelci_node_pools"].append({"name": "mi300", "amd_gpu": {"count": 2}, "node_selector": {"amd": "yes"}})
    results_file = tmp_path / "profiles.json"
    run = run_playbook("tests/integration/playbooks/cluster_profiles.yml", write_inventory(tmp_path, variables),
                       env={"ACCELCI_GKE_API_ENDPOINT": emulator.url}, extra_vars={"results_file": str(results_file)})
    assert run.rc == 0, run
    profiles = json.loads(results_file.read_text())
    assert sorted(profiles) == ["gpu-l4", "mi300", "tpu-v5e-16", "tpu-v6e-1", "tpu-v6e-4"]
    assert profiles["tpu-v6e-4"]["kind"] == "tpu" and profiles["tpu-v6e-4"]["count"] == 4
    assert profiles["tpu-v5e-16"]["details"]["vms"] == 4
    assert profiles["gpu-l4"]["kind"] == "nvidia" and profiles["gpu-l4"]["gke"] is True
    assert profiles["mi300"]["gke"] is False
    assert emulator.requests() == []


def test_pools_off_gke_are_not_created(tmp_path, emulator):
    variables = estate()
    variables["accelci_node_pools"].append({"name": "mi300", "amd_gpu": {"count": 2}, "node_selector": {"amd": "yes"}})
    run = converge(tmp_path, emulator, variables)
    assert run.rc == 0, run
    names = [body["nodePool"]["name"] for body in request_bodies(emulator, "POST", "/nodePools")]
    assert sorted(names) == ["gpu-l4", "tpu-v5e-16", "tpu-v6e-1", "tpu-v6e-4"]


def test_faults_are_survived_or_reported(tmp_path, emulator):
    assert converge(tmp_path, emulator).rc == 0
    pool = {"name": "cpu-extra", "machine_type": "e2-standard-8", "autoscaling": {"min_nodes": 0, "max_nodes": 2}}
    emulator.inject("http_429", method="GET", path_regex="nodePools/cpu-extra$", times=2)
    emulator.inject("http_503", method="POST", path_regex="nodePools$", times=1)
    emulator.inject("incompatible_operation", method="POST", path_regex="nodePools$", times=2)
    survived = cases_run(tmp_path, emulator, [pool])[0]
    assert not survived.get("failed"), survived
    assert survived["changed"] is True
    errors = " | ".join(r["error"] for r in survived["retries"])
    assert "HTTP 429" in errors and "HTTP 503" in errors and "incompatible operation" in errors

    emulator.inject("operation_failed", method="POST", path_regex="nodePools$", message="Internal error while "
                    "creating the pool")
    failed_op = cases_run(tmp_path, emulator, [dict(pool, name="cpu-broken")])[0]
    assert failed_op.get("failed")
    assert "Failed to create node pool cpu-broken" in failed_op["msg"]
    assert "Internal error while creating the pool" in failed_op["msg"]
    # The failed operation left nothing half-made: the next run creates the pool.
    repaired = cases_run(tmp_path, emulator, [dict(pool, name="cpu-broken")])[0]
    assert not repaired.get("failed") and repaired["changed"], repaired

    emulator.inject("slow_operation", method="POST", path_regex="nodePools$", seconds=30)
    slow = cases_run(tmp_path, emulator, [dict(pool, name="cpu-slow", wait_timeout=2)])[0]
    assert slow.get("failed")
    assert "Timeout trying to create node pool cpu-slow" in slow["msg"]


def test_quota_errors_are_reported_clearly(tmp_path, emulator):
    assert converge(tmp_path, emulator).rc == 0
    emulator.set_quota("us-central1", "NVIDIA_L4_GPUS", 1)
    quota = cases_run(tmp_path, emulator, [
        {"name": "gpu-many", "gpu": {"type": "nvidia-l4"}, "machine_type": "g2-standard-8",
         "autoscaling": {"min_nodes": 0, "max_nodes": 8}, "node_count": 2}])[0]
    # GKE charges quota on the nodes a pool starts with (here 2 GPUs, 1 allowed), synchronously.
    assert quota.get("failed")
    assert "HTTP 403 PERMISSION_DENIED: Insufficient regional quota" in quota["msg"]
    assert "NVIDIA_L4_GPUS" in quota["msg"]
    # A pool that starts at 0 nodes is not refused by the API: its nodes would simply never come.
    from_zero = cases_run(tmp_path, emulator, [
        {"name": "gpu-zero", "gpu": {"type": "nvidia-l4"}, "machine_type": "g2-standard-8",
         "autoscaling": {"min_nodes": 0, "max_nodes": 8}}])[0]
    assert not from_zero.get("failed"), from_zero


def test_check_mode_on_a_change_reports_without_calling(tmp_path, emulator):
    assert converge(tmp_path, emulator).rc == 0
    emulator.clear_requests()
    result = cases_run(tmp_path, emulator, [
        {"name": "tpu-v6e-4", "tpu": {"accelerator": "v6e", "topology": "2x2"}, "spot": True,
         "workload_metadata_mode": "GKE_METADATA", "autoscaling": {"min_nodes": 0, "max_nodes": 5}}],
        check_mode=True)[0]
    assert result["changed"] is True
    assert result["changes"] == ["autoscaling"]
    assert result["diff"]["before"]["autoscaling"]["max_node_count"] == 2
    assert result["diff"]["after"]["autoscaling"]["max_node_count"] == 5
    assert mutations(emulator) == []

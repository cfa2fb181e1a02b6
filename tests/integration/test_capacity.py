"""accelerator_capacity_info and the cluster role's capacity preflight against the Compute Engine and Cloud Quotas
stand-ins (and the GKE emulator for the role), through ansible-playbook."""

import json

import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import cloudquotas_v1, compute_v1

from tests.emulators.cloudquotas import CloudQuotasEmulator
from tests.emulators.compute import ComputeEmulator
from tests.emulators.gke import GkeEmulator
from tests.integration.playbook_runner import run_playbook, write_inventory

pytestmark = pytest.mark.integration

PROJECT = "accelci-test"
V6E_SPOT = "PREEMPTIBLE-TPU-V6E-per-project-region"
V6E_ON_DEMAND = "TPUS-PER-TPU-FAMILY-per-project-region"
QUOTA_PATH = "/v1/projects/%s/locations/global/services/compute.googleapis.com/quotaInfos/" % PROJECT
COMMON = ["e2-standard-4", "n1-standard-4", "n1-standard-8"]


def zone(name, machine_types=(), accelerator_types=(), status="UP"):
    return {"name": name, "status": status, "machine_types": COMMON + list(machine_types),
            "accelerator_types": list(accelerator_types)}


def quotas(**metrics):
    return [{"metric": metric, "limit": limit, "usage": usage} for metric, (limit, usage) in metrics.items()]


def compute_world():
    """Seed 002's regions (us-east1 5 free T4s, us-central1 3, us-west1 0) plus TPU zones."""
    return {
        "project": PROJECT, "project_number": "424242424242",
        "project_quotas": quotas(GPUS_ALL_REGIONS=(32, 12)),
        "regions": [
            {"name": "us-central1",
             "quotas": quotas(NVIDIA_T4_GPUS=(8, 5), PREEMPTIBLE_NVIDIA_T4_GPUS=(0, 0), NVIDIA_L4_GPUS=(8, 0),
                              TPU_LITE_PODSLICE_V5=(16, 0), PREEMPTIBLE_TPU_LITE_PODSLICE_V5=(4, 0)),
             "zones": [zone("us-central1-a", ["ct5lp-hightpu-4t", "ct6e-standard-4t", "g2-standard-8"],
                            ["nvidia-tesla-t4", "nvidia-l4"]),
                       zone("us-central1-b", ["ct6e-standard-1t", "ct6e-standard-4t", "ct5lp-hightpu-4t",
                                              "g2-standard-8"], ["nvidia-l4", "nvidia-tesla-t4"]),
                       zone("us-central1-c", [], ["nvidia-tesla-t4"]),
                       zone("us-central1-f", ["ct5lp-hightpu-4t"], [], status="DOWN")]},
            {"name": "us-east1",
             "quotas": quotas(NVIDIA_T4_GPUS=(8, 3), PREEMPTIBLE_NVIDIA_T4_GPUS=(16, 2), TPU_LITE_PODSLICE_V5=(8, 0)),
             "zones": [zone("us-east1-b", [], []), zone("us-east1-c", ["ct5lp-hightpu-4t"], ["nvidia-tesla-t4"]),
                       zone("us-east1-d", [], ["nvidia-tesla-t4"])]},
            {"name": "us-west1",
             "quotas": quotas(NVIDIA_T4_GPUS=(4, 4), NVIDIA_L4_GPUS=(0, 0)),
             "zones": [zone("us-west1-a", ["g2-standard-8"], ["nvidia-tesla-t4", "nvidia-l4"])]},
            {"name": "us-east5", "quotas": quotas(CPUS=(24, 0)),
             "zones": [zone("us-east5-a", ["ct6e-standard-4t"]), zone("us-east5-b", ["ct6e-standard-4t"])]},
        ],
    }


def quotas_world():
    return {
        "project": PROJECT, "project_number": "424242424242", "regions": ["us-central1", "us-east1", "us-west1",
                                                                          "us-east5"],
        "quota_infos": [
            {"quota_id": V6E_SPOT, "dimensions": ["region"],
             "values": [{"dimensions": {"region": "us-central1"}, "value": 8},
                        {"dimensions": {"region": "us-east5"}, "value": 32}, {"dimensions": {}, "value": 0}]},
            {"quota_id": V6E_ON_DEMAND, "dimensions": ["region", "tpu_family"],
             "values": [{"dimensions": {"region": "us-east5", "tpu_family": "CT6E"}, "value": 16},
                        {"dimensions": {"region": "us-central1", "tpu_family": "CT5LP"}, "value": 64},
                        {"dimensions": {"tpu_family": "CT6E"}, "value": 0}, {"dimensions": {}, "value": 0}]},
        ],
    }


@pytest.fixture
def compute():
    with ComputeEmulator(seed=compute_world()) as emulator:
        yield emulator


@pytest.fixture
def cloudquotas():
    with CloudQuotasEmulator(seed=quotas_world()) as emulator:
        yield emulator


CASES_PLAYBOOK = """---
- name: Capacity cases
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Run accelerator_capacity_info for each case
      accelci.runners.accelerator_capacity_info: "{{ {'project': accelci_project} | combine(item) }}"
      loop: "{{ cases }}"
      register: case_results
      ignore_errors: true
      check_mode: "{{ cases_check_mode | default(false) }}"

    - name: Write the results
      ansible.builtin.copy:
        content: "{{ case_results.results | to_json }}"
        dest: "{{ results_file }}"
        mode: "0600"
      check_mode: false
"""


def endpoints(compute, cloudquotas):
    return {"ACCELCI_COMPUTE_API_ENDPOINT": compute.url, "ACCELCI_CLOUDQUOTAS_API_ENDPOINT": cloudquotas.url}


def run_cases(tmp_path, env, cases, check_mode=False):
    playbook = tmp_path / "capacity_cases.yml"
    playbook.write_text(CASES_PLAYBOOK)
    results_file = tmp_path / "results.json"
    run = run_playbook(str(playbook), write_inventory(tmp_path, {"accelci_project": PROJECT}), env=env,
                       extra_vars={"cases": cases, "results_file": str(results_file), "cases_check_mode": check_mode},
                       extra_args=["--check"] if check_mode else ())
    assert run.rc == 0, run
    return [dict(result, stdout=run.stdout) for result in json.loads(results_file.read_text())], run


def capacity_of(tmp_path, compute, cloudquotas, case):
    results, _run = run_cases(tmp_path, endpoints(compute, cloudquotas), [case])
    result = results[0]
    assert not result.get("failed"), result
    return result["capacity"]


def output(run):
    """What ansible-playbook printed; warnings go to stderr."""
    return run.stdout + run.stderr


def paths(emulator):
    return [r["path"] for r in emulator.requests()]


def test_seed_002_picks_the_zone_by_free_quota_among_zones_that_offer_the_type(tmp_path, compute, cloudquotas):
    capacity = capacity_of(tmp_path, compute, cloudquotas, {
        "gpu": {"type": "nvidia-tesla-t4"}, "zones": ["us-east1-c", "us-east1-d", "us-central1-a", "us-west1-a"]})
    rows = dict((row["region"], row) for row in capacity["regions"])
    assert [row["region"] for row in capacity["regions"]] == ["us-east1", "us-central1", "us-west1"]
    assert {region: row["quota"]["free"] for region, row in rows.items()} == {
        "us-east1": 5, "us-central1": 3, "us-west1": 0}
    assert (capacity["best_zone"], capacity["best_region"]) == ("us-east1-c", "us-east1")
    assert "us-east1 5, us-central1 3, us-west1 0" in capacity["reason"]
    assert capacity["project_quota"]["free"] == 20
    # N1-attached GPUs are looked up in acceleratorTypes, never in machineTypes.
    assert any(p.endswith("/zones/us-east1-c/acceleratorTypes") for p in paths(compute))
    assert not any(p.endswith("/machineTypes") for p in paths(compute))
    assert cloudquotas.requests() == []


def test_zones_that_do_and_do_not_offer_the_machine_type(tmp_path, compute, cloudquotas):
    capacity = capacity_of(tmp_path, compute, cloudquotas, {
        "tpu": {"accelerator": "v5e", "topology": "2x2"}, "regions": ["us-central1", "us-east1"], "nodes": 2})
    central, east = capacity["regions"]
    assert central["zones_offering"] == ["us-central1-a", "us-central1-b"]
    assert central["zones_not_offering"] == ["us-central1-c"]
    assert central["zones_down"] == ["us-central1-f"]  # it lists the machine, but a zone that is down offers nothing
    assert (east["zones_offering"], east["zones_not_offering"]) == (["us-east1-c"], ["us-east1-b", "us-east1-d"])
    # Both regions have the quota (16 and 8 free); us-central1 has more.
    assert (capacity["best_zone"], capacity["check"]["verdict"]) == ("us-central1-a", "fits")
    # A zone that down does not get asked for its machine types.
    assert not any("us-central1-f/machineTypes" in p for p in paths(compute))

    pinned = capacity_of(tmp_path, compute, cloudquotas, {
        "tpu": {"accelerator": "v5e", "topology": "2x2"}, "zones": ["us-central1-c", "us-east1-c"], "nodes": 2})
    assert pinned["regions"][0]["zones_not_offering"] == ["us-central1-c"]
    assert pinned["best_zone"] == "us-east1-c"
    assert pinned["check"]["regions"][0]["verdict"] == "not_offered"
    assert pinned["check"]["regions"][0]["problems"][0].startswith(
        "ct5lp-hightpu-4t is not offered in us-central1-c")
    assert pinned["check"]["verdict"] == "fits"  # us-east1-c can take it


def test_regions_with_no_quota(tmp_path, compute, cloudquotas):
    results, run = run_cases(tmp_path, endpoints(compute, cloudquotas), [
        {"gpu": {"type": "nvidia-l4"}, "regions": ["us-west1"], "nodes": 1},
        {"gpu": {"type": "nvidia-tesla-t4"}, "regions": ["us-west1"], "nodes": 1},
    ])
    no_limit, full = (result["capacity"] for result in results)
    assert no_limit["regions"][0]["quota"]["limit"] == 0
    assert no_limit["check"]["verdict"] == "short"
    assert no_limit["check"]["message"].startswith("not enough nvidia-l4 quota in us-west1: the pool can use 1 GPU, "
                                                   "0 are free (NVIDIA_L4_GPUS: limit 0, usage 0)")
    assert no_limit["best_zone"] is None and no_limit["reason"].startswith("every region that offers g2-standard-8")
    # Used up, not zero: more than is free, within the limit - the usage might be this pool's own.
    assert full["check"]["verdict"] == "may_be_short"
    # The module warns about what may not fit.
    assert "[WARNING]: not enough nvidia-l4 quota in us-west1" in output(run)


def test_a_quota_metric_missing(tmp_path, compute, cloudquotas):
    compute.set_quota("us-central1", "NVIDIA_L4_GPUS", None)
    cloudquotas.remove(V6E_SPOT)
    l4, v6e = (result["capacity"] for result in run_cases(tmp_path, endpoints(compute, cloudquotas), [
        {"gpu": {"type": "nvidia-l4"}, "regions": ["us-central1"], "nodes": 1},
        {"tpu": {"accelerator": "v6e", "topology": "2x2"}, "spot": True, "regions": ["us-central1"], "nodes": 1},
    ])[0])
    quota = l4["regions"][0]["quota"]
    assert (quota["found"], quota["limit"]) == (False, None)
    assert "us-central1 reports no NVIDIA_L4_GPUS quota" in quota["note"]
    assert l4["check"]["verdict"] == "unknown"
    # Cloud Quotas answers 404 for a quota it does not have: reported, not a failure.
    v6e_quota = v6e["regions"][0]["quota"]
    assert not v6e_quota["found"] and "has no quota %s" % V6E_SPOT in v6e_quota["note"]
    assert [r["status"] for r in cloudquotas.requests()] == [404]


def test_a_region_whose_quotas_compute_could_not_read(tmp_path, compute, cloudquotas):
    world = compute_world()
    world["regions"][1]["quota_info_unavailable"] = True
    compute.seed(world)
    capacity = capacity_of(tmp_path, compute, cloudquotas, {
        "gpu": {"type": "nvidia-tesla-t4"}, "regions": ["us-east1", "us-central1"]})
    east = capacity["regions"][0]["quota"]
    assert not east["found"] and "QUOTA_INFO_UNAVAILABLE" in east["note"]
    assert capacity["best_region"] == "us-central1"  # the region with a known quota


def test_lists_are_read_page_by_page(tmp_path, compute, cloudquotas):
    world = compute_world()
    # 1200 machine types before the one asked about: three pages of at most 500.
    world["regions"][0]["zones"][0]["machine_types"] = ["n2-custom-%d-%d" % (2 * i + 2, 1024 * (i + 1))
                                                        for i in range(1200)] + ["ct6e-standard-4t"]
    compute.seed(world)
    capacity = capacity_of(tmp_path, compute, cloudquotas, {
        "tpu": {"accelerator": "v6e", "topology": "2x2"}, "spot": True, "zones": ["us-central1-a"]})
    assert capacity["regions"][0]["zones_offering"] == ["us-central1-a"]
    pages = [r for r in compute.requests() if r["path"].endswith("/zones/us-central1-a/machineTypes")]
    assert len(pages) == 3
    assert "pageToken" not in pages[0]["query"]
    assert pages[1]["query"]["pageToken"] and pages[2]["query"]["pageToken"] != pages[1]["query"]["pageToken"]
    assert all(page["query"].get("maxResults") == "500" for page in pages)


def test_the_stand_ins_page_the_way_the_client_libraries_read(compute, cloudquotas):
    credentials = AnonymousCredentials()
    zones = compute_v1.ZonesClient(transport="rest", credentials=credentials,
                                   client_options={"api_endpoint": compute.url})
    names = [z.name for z in zones.list(request={"project": PROJECT, "max_results": 4})]
    assert len(names) == 10 and names == sorted(names)
    assert len([r for r in compute.requests() if r["path"].endswith("/zones")]) == 3
    for index in range(150):
        cloudquotas.set_value("FILLER-%03d-per-project-region" % index, index, region="us-central1")
    client = cloudquotas_v1.CloudQuotasClient(transport="rest", credentials=credentials,
                                              client_options={"api_endpoint": cloudquotas.url})
    parent = "projects/%s/locations/global/services/compute.googleapis.com" % PROJECT
    infos = list(client.list_quota_infos(parent=parent))
    assert len(infos) == 152
    assert len(cloudquotas.requests()) == 2  # 100 per page by default
    v6e = [info for info in infos if info.quota_id == V6E_ON_DEMAND][0]
    # Most specific first; int64 values arrive as numbers through the library.
    assert [dict(entry.dimensions) for entry in v6e.dimensions_infos][0] == {"region": "us-east5",
                                                                             "tpu_family": "CT6E"}
    assert v6e.dimensions_infos[0].details.value == 16


def test_spot_and_on_demand_read_different_metrics(tmp_path, compute, cloudquotas):
    results, _run = run_cases(tmp_path, endpoints(compute, cloudquotas), [
        {"gpu": {"type": "nvidia-tesla-t4"}, "regions": ["us-east1", "us-central1"]},
        {"gpu": {"type": "nvidia-tesla-t4"}, "spot": True, "regions": ["us-east1", "us-central1"]},
        {"tpu": {"accelerator": "v5e", "topology": "2x2"}, "regions": ["us-central1"], "nodes": 2},
        {"tpu": {"accelerator": "v5e", "topology": "2x2"}, "spot": True, "regions": ["us-central1"], "nodes": 2},
    ])
    on_demand, spot, v5e, v5e_spot = (result["capacity"] for result in results)
    assert [row["quota"]["metric"] for row in on_demand["regions"]] == ["NVIDIA_T4_GPUS", "NVIDIA_T4_GPUS"]
    east_spot, central_spot = spot["regions"]
    assert (east_spot["quota"]["metric"], east_spot["quota"]["free"]) == ("PREEMPTIBLE_NVIDIA_T4_GPUS", 14)
    # us-central1 has no preemptible T4 quota: Spot VMs there draw on the standard quota.
    assert (central_spot["quota"]["metric"], central_spot["quota"]["fallback_from"]) == (
        "NVIDIA_T4_GPUS", "PREEMPTIBLE_NVIDIA_T4_GPUS")
    assert (v5e["check"]["verdict"], v5e_spot["check"]["verdict"]) == ("fits", "short")
    assert v5e_spot["check"]["message"].startswith(
        "not enough v5e spot quota in us-central1: the pool can use 8 chips, 4 are free "
        "(PREEMPTIBLE_TPU_LITE_PODSLICE_V5: limit 4, usage 0)")


def test_v6e_quota_comes_from_cloud_quotas_with_limits_only(tmp_path, compute, cloudquotas):
    results, _run = run_cases(tmp_path, endpoints(compute, cloudquotas), [
        {"tpu": {"accelerator": "v6e", "topology": "2x2"}, "spot": True, "regions": ["us-central1", "us-east5"],
         "nodes": 4},
        {"tpu": {"accelerator": "v6e", "topology": "2x2"}, "regions": ["us-central1", "us-east5"], "nodes": 4},
    ])
    spot, on_demand = (result["capacity"] for result in results)
    central, east5 = spot["regions"]
    assert (central["quota"]["api"], central["quota"]["metric"]) == ("cloudquotas", V6E_SPOT)
    assert (central["quota"]["limit"], central["quota"]["usage"], central["quota"]["free"]) == (8, None, None)
    assert "Cloud Monitoring" in central["quota"]["note"] and central["quota"]["verified"] is False
    assert east5["quota"]["limit"] == 32
    assert (spot["best_zone"], spot["check"]["verdict"]) == ("us-east5-a", "fits")
    assert spot["check"]["regions"][0]["message"].startswith(
        "not enough v6e spot quota in us-central1: the pool can use 16 chips, the limit is 8")
    # On demand: the tpu_family=CT6E dimension, 16 in us-east5, the CT6E default (0) in us-central1.
    assert [row["quota"]["limit"] for row in on_demand["regions"]] == [0, 16]
    assert on_demand["regions"][0]["quota"]["dimensions"] == {"tpu_family": "CT6E"}
    # One get per quota ID, whatever the number of regions; no Compute quota read for v6e.
    assert [r["path"] for r in cloudquotas.requests()] == [QUOTA_PATH + V6E_SPOT, QUOTA_PATH + V6E_ON_DEMAND]
    assert not any("/regions/" in p for p in paths(compute))


def test_throttling_and_outages_are_retried(tmp_path, compute, cloudquotas):
    compute.inject("rate_limit", path_regex="/regions/us-central1$", times=2)
    compute.inject("http_503", path_regex="/zones$", times=1)
    cloudquotas.inject("rate_limit", times=1)
    results, _run = run_cases(tmp_path, endpoints(compute, cloudquotas), [
        {"gpu": {"type": "nvidia-l4"}, "regions": ["us-central1"]},
        {"tpu": {"accelerator": "v6e", "topology": "2x2"}, "spot": True, "regions": ["us-central1"]},
    ])
    l4, v6e = results
    assert not l4.get("failed") and not v6e.get("failed"), results
    errors = " | ".join(entry["error"] for entry in l4["retries"])
    assert "HTTP 403" in errors and "HTTP 503" in errors
    assert "HTTP 429 RESOURCE_EXHAUSTED" in " | ".join(entry["error"] for entry in v6e["retries"])
    assert l4["capacity"]["regions"][0]["quota"]["limit"] == 8


def test_errors_are_reported_and_bad_input_is_refused_before_any_call(tmp_path, compute, cloudquotas):
    compute.inject("http_error", path_regex="/regions/", code=403, status="PERMISSION_DENIED", reason="forbidden",
                   message="Required 'compute.regions.get' permission for 'projects/%s/regions/us-central1'" % PROJECT)
    results, _run = run_cases(tmp_path, endpoints(compute, cloudquotas), [
        {"gpu": {"type": "nvidia-l4"}, "regions": ["us-central1"]},
        {"gpu": {"type": "nvidia-l4"}, "zones": ["us-central1-z"]},
    ])
    denied, unknown_zone = results
    assert denied["failed"]
    assert denied["msg"].startswith("Failed to read region us-central1 of project %s: HTTP 403" % PROJECT)
    assert "compute.regions.get" in denied["msg"]
    assert unknown_zone["failed"] and unknown_zone["field"] == "zones"
    assert "us-central1-z is not a zone of project %s" % PROJECT in unknown_zone["msg"]

    compute.clear_requests()
    refused, _run = run_cases(tmp_path, endpoints(compute, cloudquotas), [
        {"gpu": {"type": "nvidia-l4"}, "zones": ["us-central1"]},
        {"tpu": {"accelerator": "v6e", "topology": "5x5"}, "regions": ["us-central1"]},
        {"gpu": {"type": "nvidia-l4"}, "regions": ["us-central1"], "node_pool": {"name": "x"}},
    ])
    assert [r.get("field") for r in refused[:2]] == ["zones", "tpu.topology"]
    assert "mutually exclusive" in refused[2]["msg"]
    assert compute.requests() == []


def test_one_stand_in_and_one_real_endpoint_are_refused(tmp_path, compute, cloudquotas):
    results, _run = run_cases(tmp_path, {"ACCELCI_COMPUTE_API_ENDPOINT": compute.url}, [
        {"tpu": {"accelerator": "v6e", "topology": "2x2"}, "regions": ["us-central1"]}])
    assert results[0]["failed"] and results[0]["field"] == "cloudquotas_api_endpoint"
    assert compute.requests() == []


def test_check_mode_reads_the_same(tmp_path, compute, cloudquotas):
    case = {"gpu": {"type": "nvidia-tesla-t4"}, "regions": ["us-east1", "us-central1"], "nodes": 2}
    checked, run = run_cases(tmp_path, endpoints(compute, cloudquotas), [case], check_mode=True)
    applied, _run = run_cases(tmp_path, endpoints(compute, cloudquotas), [case])
    assert checked[0]["changed"] is False and run.changed == 1  # the one change is the results file
    assert checked[0]["capacity"] == applied[0]["capacity"]


# ----------------------------------------------------------------------------- the cluster role's preflight

def estate(pools, **extra):
    variables = {
        "accelci_project": PROJECT, "accelci_location": "us-central1-b",
        "accelci_cluster": {"name": "ci-runners", "release_channel": "regular",
                            "system_pool": {"machine_type": "e2-standard-4", "min_nodes": 1, "max_nodes": 3}},
        "accelci_node_pools": pools,
    }
    variables.update(extra)
    return variables


V5E_SPOT_POOL = {"name": "tpu-v5e-4", "tpu": {"accelerator": "v5e", "topology": "2x2"}, "spot": True,
                 "autoscaling": {"min_nodes": 1, "max_nodes": 2}}
V6E_SPOT_POOL = {"name": "tpu-v6e-4", "tpu": {"accelerator": "v6e", "topology": "2x2"}, "spot": True,
                 "autoscaling": {"min_nodes": 0, "max_nodes": 2}}
L4_POOL = {"name": "gpu-l4", "gpu": {"type": "nvidia-l4", "driver_version": "LATEST"}, "machine_type": "g2-standard-8",
           "autoscaling": {"min_nodes": 0, "max_nodes": 2}}
CPU_POOL = {"name": "cpu", "machine_type": "e2-standard-8", "autoscaling": {"min_nodes": 0, "max_nodes": 2}}


@pytest.fixture
def gke():
    with GkeEmulator(operation_seconds=0.1) as emulator:
        yield emulator


def converge(tmp_path, gke, variables, env=None, extra_args=()):
    full_env = {"ACCELCI_GKE_API_ENDPOINT": gke.url}
    full_env.update(env or {})
    return run_playbook("playbooks/cluster.yml", write_inventory(tmp_path, variables), env=full_env,
                        extra_args=extra_args)


def created_pools(gke):
    return sorted(r["body"]["nodePool"]["name"] for r in gke.requests()
                  if r["method"] == "POST" and r["path"].endswith("/nodePools"))


def test_preflight_passes_when_the_quota_holds_every_pool(tmp_path, gke, compute, cloudquotas):
    run = converge(tmp_path, gke, estate([V6E_SPOT_POOL, L4_POOL, CPU_POOL]), endpoints(compute, cloudquotas))
    assert run.rc == 0, run
    assert "pool tpu-v6e-4 (fits, scales from zero, best zone us-central1-b)" in run.stdout
    assert "pool gpu-l4 (fits, scales from zero" in run.stdout
    assert "[WARNING]: not enough" not in output(run)
    assert created_pools(gke) == ["cpu", "gpu-l4", "tpu-v6e-4"]
    # The CPU pool is not asked about; each accelerator pool's zone is.
    machine_type_reads = [p for p in paths(compute) if p.endswith("/machineTypes")]
    assert machine_type_reads == ["/compute/v1/projects/%s/zones/us-central1-b/machineTypes" % PROJECT] * 2


def test_preflight_fails_before_anything_is_created(tmp_path, gke, compute, cloudquotas):
    run = converge(tmp_path, gke, estate([V5E_SPOT_POOL, L4_POOL]), endpoints(compute, cloudquotas))
    assert run.rc != 0
    assert ("not enough capacity for pool tpu-v5e-4: not enough v5e spot quota in us-central1: the pool can use "
            "8 chips, 4 are free (PREEMPTIBLE_TPU_LITE_PODSLICE_V5: limit 4, usage 0)") in run.stdout
    assert "set cluster_capacity_check: warn" in run.stdout
    assert [r for r in gke.requests() if r["method"] != "GET"] == []


def test_preflight_warns_when_asked_to_and_for_pools_that_scale_from_zero(tmp_path, gke, compute, cloudquotas):
    warned = converge(tmp_path, gke, estate([V5E_SPOT_POOL], cluster_capacity_check="warn"),
                      endpoints(compute, cloudquotas))
    assert warned.rc == 0, warned
    assert "[WARNING]: not enough v5e spot quota in us-central1: the pool can use 8 chips, 4 are free" in output(
        warned)
    assert created_pools(gke) == ["tpu-v5e-4"]

    from_zero = dict(V5E_SPOT_POOL, name="tpu-v5e-zero", autoscaling={"min_nodes": 0, "max_nodes": 2})
    run = converge(tmp_path, gke, estate([from_zero]), endpoints(compute, cloudquotas))
    assert run.rc == 0, run
    assert "pool tpu-v5e-zero (short, scales from zero" in run.stdout
    assert "[WARNING]: not enough v5e spot quota" in output(run)

    strict = converge(tmp_path, gke, estate([dict(from_zero, name="tpu-v5e-strict")],
                                            cluster_capacity_scale_from_zero="fail"),
                      endpoints(compute, cloudquotas))
    assert strict.rc != 0 and "not enough capacity for pool tpu-v5e-strict" in strict.stdout


def test_preflight_refuses_a_zone_that_does_not_offer_the_machine(tmp_path, gke, compute, cloudquotas):
    pool = dict(V6E_SPOT_POOL, locations=["us-central1-c"])
    run = converge(tmp_path, gke, estate([pool]), endpoints(compute, cloudquotas))
    assert run.rc != 0
    assert "ct6e-standard-4t is not offered in us-central1-c (zones of us-central1 asked about that offer it: " \
           "none)" in run.stdout


def test_preflight_runs_in_check_mode_and_can_be_turned_off(tmp_path, gke, compute, cloudquotas):
    checked = converge(tmp_path, gke, estate([V5E_SPOT_POOL]), endpoints(compute, cloudquotas),
                       extra_args=["--check"])
    assert checked.rc != 0 and "not enough capacity for pool tpu-v5e-4" in checked.stdout
    compute.clear_requests()
    off = converge(tmp_path, gke, estate([V5E_SPOT_POOL], cluster_capacity_check=False),
                   endpoints(compute, cloudquotas))
    assert off.rc == 0, off
    assert compute.requests() == []


def test_preflight_is_skipped_against_a_gke_stand_in_without_a_compute_endpoint(tmp_path, gke):
    run = converge(tmp_path, gke, estate([V5E_SPOT_POOL]))
    assert run.rc == 0, run
    assert "capacity check skipped: the GKE API is a local stand-in" in run.stdout

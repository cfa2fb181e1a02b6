"""The accelerator catalog: every TPU generation and GPU type, and every way a request can be refused."""

import pytest

from ansible_collections.accelci.runners.plugins.module_utils.gke import catalog as acc
from ansible_collections.accelci.runners.plugins.module_utils.gke.catalog import (
    AcceleratorError,
    check_min_gke_version,
    check_slice_node_counts,
    quota_metrics,
    resolve_gpu,
    resolve_tpu,
    slice_node_counts_ok,
    tpu_topologies,
    validate_gpu_partition_size,
    validate_gpu_sharing,
)

GENERATIONS = ["v4", "v5e", "v5e-device", "v5p", "v6e", "7x", "7"]
LABELS = {
    "v4": "tpu-v4-podslice",
    "v5e": "tpu-v5-lite-podslice",
    "v5e-device": "tpu-v5-lite-device",
    "v5p": "tpu-v5p-slice",
    "v6e": "tpu-v6e-slice",
    "7x": "tpu7x",
    "7": "tpu7",
}


def refused(field, func, *args, **kwargs):
    """Call func, expect an AcceleratorError for field, and return its message."""
    with pytest.raises(AcceleratorError) as info:
        func(*args, **kwargs)
    assert isinstance(info.value, ValueError)
    assert info.value.field == field
    message = str(info.value)
    assert message.startswith(field + ": ")
    assert "accepted" in message
    return message


# --- TPU: single host -------------------------------------------------------------------------------------------

SINGLE_HOST = [
    # generation, topology, machine type, chips per VM
    ("v4", "2x2x1", "ct4p-hightpu-4t", 4),
    ("v5e", "1x1", "ct5lp-hightpu-1t", 1),
    ("v5e", "2x2", "ct5lp-hightpu-4t", 4),
    ("v5e", "2x4", "ct5lp-hightpu-8t", 8),
    ("v5e-device", "1x1", "ct5l-hightpu-1t", 1),
    ("v5e-device", "2x2", "ct5l-hightpu-4t", 4),
    ("v5e-device", "2x4", "ct5l-hightpu-8t", 8),
    ("v5p", "2x2x1", "ct5p-hightpu-4t", 4),
    ("v6e", "1x1", "ct6e-standard-1t", 1),
    ("v6e", "2x2", "ct6e-standard-4t", 4),
    ("v6e", "2x4", "ct6e-standard-8t", 8),
    ("7x", "1x1x1", "tpu7x-standard-1t", 1),
    ("7x", "2x2x1", "tpu7x-standard-4t", 4),
    ("7", "1x1x1", "tpu7-standard-1t", 1),
    ("7", "2x2x1", "tpu7-standard-4t", 4),
]


@pytest.mark.parametrize("generation,topology,machine_type,chips", SINGLE_HOST)
def test_single_host_slices(generation, topology, machine_type, chips):
    shape = resolve_tpu(generation, topology)
    assert shape["generation"] == generation
    assert shape["machine_type"] == machine_type
    assert shape["chips_per_vm"] == chips
    assert shape["chips"] == chips
    assert shape["vms"] == 1
    assert shape["multi_host"] is False
    assert shape["placement"] == "none"
    assert shape["topology"] == topology
    assert shape["gke_accelerator"] == LABELS[generation]
    assert shape["resource_name"] == "google.com/tpu"
    assert shape["dimensions"] == len(topology.split("x"))
    assert shape["node_selector"] == {
        "cloud.google.com/gke-tpu-accelerator": LABELS[generation],
        "cloud.google.com/gke-tpu-topology": topology,
    }
    assert shape["taint"] == {"key": "google.com/tpu", "value": "present", "effect": "NoSchedule"}
    # The same machine type given explicitly resolves the same way.
    assert resolve_tpu(generation, topology, machine_type) == shape


# --- TPU: 2-D multi-host ----------------------------------------------------------------------------------------

TWO_D_MULTI_HOST = [("2x4", 2), ("4x4", 4), ("4x8", 8), ("8x8", 16), ("8x16", 32), ("16x16", 64)]


@pytest.mark.parametrize("generation,machine_type", [("v5e", "ct5lp-hightpu-4t"), ("v6e", "ct6e-standard-4t")])
@pytest.mark.parametrize("topology,vms", TWO_D_MULTI_HOST)
def test_2d_multi_host_slices(generation, machine_type, topology, vms):
    shape = resolve_tpu(generation, topology, machine_type)
    assert shape["machine_type"] == machine_type
    assert shape["chips_per_vm"] == 4
    assert shape["vms"] == vms
    assert shape["chips"] == vms * 4
    assert shape["multi_host"] is True
    assert shape["placement"] == "compact"
    if topology != "2x4":
        # Only 2x4 has a single-host twin; the others are multi-host without asking.
        assert resolve_tpu(generation, topology) == shape


@pytest.mark.parametrize(
    "generation,eight,four",
    [("v6e", "ct6e-standard-8t", "ct6e-standard-4t"), ("v5e", "ct5lp-hightpu-8t", "ct5lp-hightpu-4t")],
)
def test_2x4_is_one_8t_vm_by_default_or_two_4t_vms_on_request(generation, eight, four):
    default = resolve_tpu(generation, "2x4")
    assert (default["machine_type"], default["vms"], default["multi_host"], default["placement"]) == (
        eight,
        1,
        False,
        "none",
    )
    assert resolve_tpu(generation, "2x4", eight) == default
    split = resolve_tpu(generation, "2x4", four)
    assert (split["machine_type"], split["vms"], split["chips_per_vm"], split["multi_host"], split["placement"]) == (
        four,
        2,
        4,
        True,
        "compact",
    )
    assert split["chips"] == default["chips"] == 8


@pytest.mark.parametrize(
    "generation,topology,machine_type,fits",
    [
        ("v6e", "4x4", "ct6e-standard-8t", "ct6e-standard-4t"),
        ("v6e", "4x4", "ct6e-standard-1t", "ct6e-standard-4t"),
        ("v6e", "1x1", "ct6e-standard-4t", "ct6e-standard-1t"),
        ("v6e", "2x2", "ct6e-standard-8t", "ct6e-standard-4t"),
        ("v5e", "8x8", "ct5lp-hightpu-8t", "ct5lp-hightpu-4t"),
        ("v5e", "2x2", "ct5lp-hightpu-1t", "ct5lp-hightpu-4t"),
        ("v5e-device", "2x4", "ct5l-hightpu-4t", "ct5l-hightpu-8t"),
        ("7x", "4x4x4", "tpu7x-standard-1t", "tpu7x-standard-4t"),
        ("7x", "1x1x1", "tpu7x-standard-4t", "tpu7x-standard-1t"),
        ("7", "2x2x1", "tpu7-standard-1t", "tpu7-standard-4t"),
    ],
)
def test_machine_type_that_does_not_fit_the_topology(generation, topology, machine_type, fits):
    message = refused("tpu.machine_type", resolve_tpu, generation, topology, machine_type)
    assert machine_type in message and topology in message
    assert message.endswith("accepted for this topology: " + fits)


@pytest.mark.parametrize(
    "generation,machine_type",
    [("v6e", "ct5lp-hightpu-4t"), ("v5e", "ct5l-hightpu-4t"), ("v5p", "ct4p-hightpu-4t"), ("7x", "tpu7-standard-4t")],
)
def test_machine_type_of_another_generation(generation, machine_type):
    message = refused("tpu.machine_type", resolve_tpu, generation, "2x2x1" if generation in ("v5p", "7x") else "2x2",
                      machine_type)
    for accepted in acc.TPU_GENERATIONS[generation]["machine_types"]:
        assert accepted in message


def test_v5e_serving_family_has_no_multi_host_slices():
    message = refused("tpu.topology", resolve_tpu, "v5e-device", "4x4")
    assert "no multi-host slices" in message
    assert "1x1 (ct5l-hightpu-1t), 2x2 (ct5l-hightpu-4t), 2x4 (ct5l-hightpu-8t)" in message
    # The training family has that shape.
    assert resolve_tpu("v5e", "4x4")["vms"] == 4


# --- TPU: 3-D shapes --------------------------------------------------------------------------------------------

VALID_3D = [
    # generation, topology, VMs
    ("v4", "2x2x2", 2),
    ("v4", "2x2x4", 4),
    ("v4", "2x4x4", 8),
    ("v4", "4x4x4", 16),
    ("v4", "8x16x16", 512),
    ("v4", "16x16x16", 1024),  # 64 cubes: the v4 limit
    ("v4", "4x16x64", 1024),  # 64 cubes
    ("v4", "4x4x256", 1024),  # longest dimension
    ("v4", "16x8x4", 128),  # any order on v4
    ("v4", "8x4x4", 32),
    ("v5p", "2x2x2", 2),
    ("v5p", "4x4x8", 32),
    ("v5p", "16x20x28", 2240),  # 140 cubes: the v5p limit
    ("v5p", "4x20x112", 2240),  # 140 cubes
    ("v5p", "12x24x24", 1728),
    ("v5p", "4x4x256", 1024),
    ("7x", "2x2x2", 2),
    ("7x", "2x4x4", 8),
    ("7x", "4x4x4", 16),
    ("7x", "4x24x96", 2304),  # 144 cubes: the 7x limit
    ("7x", "12x12x36", 1296),
    ("7", "2x2x2", 2),
    ("7", "2x2x4", 4),
    ("7", "2x4x4", 8),
    ("7", "4x4x16", 64),  # 4 cubes: the 7 limit
    ("7", "4x8x8", 64),
]


@pytest.mark.parametrize("generation,topology,vms", VALID_3D)
def test_3d_multi_host_shapes(generation, topology, vms):
    shape = resolve_tpu(generation, topology)
    assert shape["vms"] == vms
    assert shape["chips"] == vms * 4
    assert shape["chips_per_vm"] == 4
    assert shape["multi_host"] is True
    assert shape["dimensions"] == 3
    assert shape["topology"] == topology
    assert shape["machine_type"] == acc.TPU_GENERATIONS[generation]["multi_host_machine_type"]
    assert shape["placement"] == ("workload_policy" if generation in ("7x", "7") else "compact")


INVALID_3D = [
    # generation, topology, what the message says
    ("v4", "16x16x20", "80 4x4x4 cubes"),
    ("v4", "4x16x68", "68 4x4x4 cubes"),
    ("v4", "4x4x260", "multiple of 4 from 4 to 256"),
    ("v4", "2x2x8", "multiple of 4 from 4 to 256"),
    ("v4", "4x2x2", "multiple of 4 from 4 to 256"),  # the three small shapes are fixed, even on v4
    ("v4", "2x2x3", "multiple of 4 from 4 to 256"),
    ("v4", "1x1x1", "multiple of 4 from 4 to 256"),
    ("v5p", "4x24x96", "144 4x4x4 cubes"),
    ("v5p", "16x20x32", "160 4x4x4 cubes"),
    ("v5p", "4x4x260", "multiple of 4 from 4 to 256"),
    ("v5p", "4x4x6", "multiple of 4 from 4 to 256"),
    ("v5p", "8x4x4", "did you mean 4x4x8?"),
    ("v5p", "4x8x4", "did you mean 4x4x8?"),
    ("v5p", "4x2x2", "multiple of 4 from 4 to 256"),
    ("7x", "4x20x116", "145 4x4x4 cubes"),
    ("7x", "28x20x16", "did you mean 16x20x28?"),
    ("7x", "2x2x6", "multiple of 4 from 4 to 256"),
    ("7", "4x4x20", "5 4x4x4 cubes"),
    ("7", "8x8x8", "8 4x4x4 cubes"),
    ("7", "8x4x4", "did you mean 4x4x8?"),
]


@pytest.mark.parametrize("generation,topology,reason", INVALID_3D)
def test_3d_shapes_gke_rejects(generation, topology, reason):
    message = refused("tpu.topology", resolve_tpu, generation, topology)
    assert reason in message
    spec = acc.TPU_GENERATIONS[generation]
    assert "at most %d 4x4x4 cubes" % spec["max_cubes"] in message
    assert ("A <= B <= C" in message) == spec["nondecreasing"]
    for single in spec["single_host"]:
        assert single in message


@pytest.mark.parametrize("generation", ["v4", "v5p", "7x", "7"])
def test_3d_generation_given_a_2d_topology(generation):
    message = refused("tpu.topology", resolve_tpu, generation, "2x2")
    assert "3-D" in message and "did you mean 2x2x1?" in message


@pytest.mark.parametrize("generation", ["v5e", "v5e-device", "v6e"])
def test_2d_generation_given_a_3d_topology(generation):
    message = refused("tpu.topology", resolve_tpu, generation, "2x2x1")
    assert "2-D" in message
    for single in acc.TPU_GENERATIONS[generation]["single_host"]:
        assert single in message


@pytest.mark.parametrize("generation,topology", [("v6e", "4x2"), ("v6e", "32x32"), ("v5e", "2x8"), ("v6e", "3x3")])
def test_2d_topology_the_generation_does_not_have(generation, topology):
    message = refused("tpu.topology", resolve_tpu, generation, topology)
    assert "multi-host on %s: 2x4, 4x4, 4x8, 8x8, 8x16, 16x16" % acc.TPU_GENERATIONS[generation][
        "multi_host_machine_type"] in message
    assert "1x1 (" in message and "2x2 (" in message and "2x4 (" in message


@pytest.mark.parametrize("topology", ["", "2x", "x2", "2*2", "2 x 2", "0x2", "2x2x", "twoxtwo", "-2x2", None, 22, 2.2])
def test_malformed_topology(topology):
    message = refused("tpu.topology", resolve_tpu, "v6e", topology)
    assert "not a topology" in message and "AxB" in message
    assert "16x16" in message


def test_topology_is_normalised():
    assert resolve_tpu("v6e", " 2X2 ")["topology"] == "2x2"
    assert resolve_tpu("v5p", "4X4x8")["topology"] == "4x4x8"


@pytest.mark.parametrize("generation", GENERATIONS)
def test_node_label_value_is_accepted_as_accelerator(generation):
    topology = next(iter(acc.TPU_GENERATIONS[generation]["single_host"]))
    assert resolve_tpu(LABELS[generation], topology) == resolve_tpu(generation, topology)
    assert resolve_tpu(" %s " % LABELS[generation].upper(), topology)["generation"] == generation


def test_integer_generation_from_yaml():
    assert resolve_tpu(7, "2x2x1")["generation"] == "7"


@pytest.mark.parametrize("accelerator", ["v6", "v5litepod", "tpu-v6e", "v7x", "", None, True, 6, ["v6e"]])
def test_unknown_accelerator(accelerator):
    message = refused("tpu.accelerator", resolve_tpu, accelerator, "2x2")
    for generation, label in LABELS.items():
        assert generation in message and label in message


@pytest.mark.parametrize("generation", GENERATIONS)
def test_min_gke_version(generation):
    topology = next(iter(acc.TPU_GENERATIONS[generation]["single_host"]))
    expected = "1.34.0-gke.2201000" if generation == "7x" else None
    assert resolve_tpu(generation, topology)["min_gke_version"] == expected


@pytest.mark.parametrize("cluster_version", ["1.34.0-gke.2201000", "1.34.1-gke.1431000", "1.35.0-gke.100",
                                             "1.34.0-gke.2201000.1", None, "", "latest"])
def test_7x_on_a_recent_or_unknown_cluster_version(cluster_version):
    assert check_min_gke_version(resolve_tpu("7x", "2x2x1"), cluster_version) is None


@pytest.mark.parametrize("cluster_version", ["1.34.0-gke.2200999", "1.33.5-gke.1162000", "1.33", "1.9.9"])
def test_7x_on_an_older_cluster_is_refused(cluster_version):
    message = refused("tpu.accelerator", check_min_gke_version, resolve_tpu("7x", "2x2x2"), cluster_version)
    assert message == (
        "tpu.accelerator: 7x needs GKE 1.34.0-gke.2201000 or later, and the cluster runs %s; accepted: upgrade the "
        "cluster to 1.34.0-gke.2201000 or later first, or a generation GKE %s offers: v4, v5e, v5e-device, v5p, "
        "v6e, 7" % (cluster_version, cluster_version))
    with pytest.raises(AcceleratorError) as info:
        check_min_gke_version(resolve_tpu("7x", "1x1x1"), cluster_version)
    assert info.value.details == {"min_gke_version": "1.34.0-gke.2201000", "cluster_version": cluster_version}


@pytest.mark.parametrize("generation", [g for g in GENERATIONS if g != "7x"])
def test_generations_without_a_minimum_run_anywhere(generation):
    topology = next(iter(acc.TPU_GENERATIONS[generation]["single_host"]))
    assert check_min_gke_version(resolve_tpu(generation, topology), "1.20.0-gke.1") is None


def test_quota_metrics_are_data():
    assert "quota" not in resolve_tpu("v5e", "2x2")
    assert quota_metrics(resolve_tpu("v5e", "2x2"))["metric"] == "TPU_LITE_PODSLICE_V5"
    assert quota_metrics(resolve_tpu("v5e", "2x2"))["spot_metric"] == "PREEMPTIBLE_TPU_LITE_PODSLICE_V5"
    assert quota_metrics(resolve_tpu("v5e-device", "1x1"))["metric"] == "TPU_LITE_DEVICE_V5"
    v6e = quota_metrics(resolve_tpu("v6e", "1x1"))
    assert v6e["api"] == "cloudquotas" and v6e["verified"] is False and v6e["dimensions"] == {"tpu_family": "CT6E"}
    # A caller may change the returned dict without changing the catalog.
    v6e["metric"] = "changed"
    assert quota_metrics(resolve_tpu("v6e", "1x1"))["metric"] == "TPUS-PER-TPU-FAMILY-per-project-region"
    assert quota_metrics(resolve_tpu("v4", "2x2x1")) is None


# --- TPU: the whole topology lists -------------------------------------------------------------------------------

def test_topology_lists_of_2d_generations():
    assert tpu_topologies("v6e") == ["1x1", "2x2", "2x4", "4x4", "4x8", "8x8", "8x16", "16x16"]
    assert tpu_topologies("tpu-v5-lite-podslice") == tpu_topologies("v6e")
    assert tpu_topologies("v5e-device") == ["1x1", "2x2", "2x4"]


def test_topology_list_of_7():
    assert tpu_topologies("7") == [
        "1x1x1", "2x2x1", "2x2x2", "2x2x4", "2x4x4", "4x4x4", "4x4x8", "4x4x12", "4x4x16", "4x8x8",
    ]


@pytest.mark.parametrize("generation", ["v4", "v5p", "7x"])
def test_3d_lists_follow_the_cube_rule(generation):
    spec = acc.TPU_GENERATIONS[generation]
    topologies = tpu_topologies(generation)
    assert len(topologies) == len(set(topologies))
    big = [t for t in topologies if all(int(d) % 4 == 0 for d in t.split("x"))]
    for topology in big:
        dims = [int(d) for d in topology.split("x")]
        assert (dims[0] // 4) * (dims[1] // 4) * (dims[2] // 4) <= spec["max_cubes"]
        assert max(dims) <= 256
        if spec["nondecreasing"]:
            assert dims == sorted(dims)
    assert set(topologies) - set(big) == set(spec["single_host"]) | {"2x2x2", "2x2x4", "2x4x4"}


def test_3d_list_sizes():
    # Counted independently: triples of multiples of 4 (<= 256) within the cube limit, plus the
    # single-host and the three small multi-host shapes.
    def count(max_cubes, any_order):
        edges = range(1, 65)
        if any_order:
            return sum(1 for a in edges for b in edges for c in edges if a * b * c <= max_cubes)
        return sum(1 for a in edges for b in edges if a <= b for c in edges if b <= c and a * b * c <= max_cubes)

    assert len(tpu_topologies("v4")) == count(64, True) + 4
    assert len(tpu_topologies("v5p")) == count(140, False) + 4
    assert len(tpu_topologies("7x")) == count(144, False) + 5
    assert "16x16x16" in tpu_topologies("v4") and "8x16x16" in tpu_topologies("v4")
    assert "16x20x28" in tpu_topologies("v5p") and "4x4x244" in tpu_topologies("v5p")


@pytest.mark.parametrize("generation", GENERATIONS)
def test_every_listed_topology_resolves_consistently(generation):
    spec = acc.TPU_GENERATIONS[generation]
    for topology in tpu_topologies(generation):
        shape = resolve_tpu(generation, topology)
        assert shape["vms"] * shape["chips_per_vm"] == shape["chips"]
        assert shape["multi_host"] == (shape["vms"] > 1)
        assert spec["machine_types"][shape["machine_type"]] == shape["chips_per_vm"]


@pytest.mark.parametrize("generation", GENERATIONS)
def test_catalog_single_host_rows_match_machine_chips(generation):
    spec = acc.TPU_GENERATIONS[generation]
    for topology, machine_type in spec["single_host"].items():
        chips = 1
        for dim in topology.split("x"):
            chips *= int(dim)
        assert spec["machine_types"][machine_type] == chips


# --- multi-host autoscaling ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "minimum,maximum,problem",
    [
        (0, 4, None),
        (4, 4, None),
        (0, 0, None),
        (None, 4, None),
        # One pool is one slice: GKE cannot add nodes to it, so whole multiples are refused too.
        (0, 8, "autoscaling.max_nodes: 8"),
        (4, 12, "autoscaling.max_nodes: 12"),
        (0, 6, "autoscaling.max_nodes: 6"),
        (2, 4, "autoscaling.min_nodes: 2"),
        (0, 1, "autoscaling.max_nodes: 1"),
        (8, 4, "autoscaling.min_nodes: 8 is greater than autoscaling.max_nodes 4"),
        (-4, 4, "autoscaling.min_nodes: -4 is negative"),
        (0, "many", "autoscaling.max_nodes: 'many' is not a whole number"),
    ],
)
def test_multi_host_node_counts(minimum, maximum, problem):
    message = slice_node_counts_ok(resolve_tpu("v6e", "4x4"), minimum, maximum)
    if problem is None:
        assert message is None
    else:
        assert message.startswith(problem)
        assert "accepted" in message
        if "fit" in message:
            assert "one slice of 4 nodes" in message and "accepted: 0 or 4" in message and "slices: N" in message


@pytest.mark.parametrize("minimum, maximum, field", [
    (0, 6, "autoscaling.max_nodes"), (2, 4, "autoscaling.min_nodes"), (8, 4, "autoscaling.min_nodes"),
    (0, 8, "autoscaling.max_nodes"),
    (-4, 4, "autoscaling.min_nodes"), (0, "many", "autoscaling.max_nodes"),
])
def test_check_slice_node_counts_raises_with_the_field(minimum, maximum, field):
    shape = resolve_tpu("v6e", "4x4")
    message = refused(field, check_slice_node_counts, shape, minimum, maximum)
    assert message == slice_node_counts_ok(shape, minimum, maximum)


def test_single_host_node_counts_are_free():
    assert slice_node_counts_ok(resolve_tpu("v6e", "2x2"), 1, 3) is None
    assert slice_node_counts_ok(resolve_tpu("v6e", "2x4"), 0, 3) is None  # one -8t VM per slice
    assert slice_node_counts_ok(resolve_tpu("v6e", "2x4", "ct6e-standard-4t"), 0, 3).startswith(
        "autoscaling.max_nodes: 3 does not fit: a v6e 2x4 pool is one slice of 2 nodes"
    )


def test_large_slice_node_counts():
    shape = resolve_tpu("v5p", "16x20x28")
    assert slice_node_counts_ok(shape, 0, 2240) is None
    assert "accepted: 0 or 2240" in slice_node_counts_ok(shape, 0, 2239)
    assert "accepted: 0 or 2240" in slice_node_counts_ok(shape, 0, 4480)


# --- GPU -----------------------------------------------------------------------------------------------------------

FIXED_GPU_MACHINES = [
    ("nvidia-l4", "g2-standard-4", 1),
    ("nvidia-l4", "g2-standard-8", 1),
    ("nvidia-l4", "g2-standard-12", 1),
    ("nvidia-l4", "g2-standard-16", 1),
    ("nvidia-l4", "g2-standard-32", 1),
    ("nvidia-l4", "g2-standard-24", 2),
    ("nvidia-l4", "g2-standard-48", 4),
    ("nvidia-l4", "g2-standard-96", 8),
    ("nvidia-tesla-a100", "a2-highgpu-1g", 1),
    ("nvidia-tesla-a100", "a2-highgpu-2g", 2),
    ("nvidia-tesla-a100", "a2-highgpu-4g", 4),
    ("nvidia-tesla-a100", "a2-highgpu-8g", 8),
    ("nvidia-tesla-a100", "a2-megagpu-16g", 16),
    ("nvidia-a100-80gb", "a2-ultragpu-1g", 1),
    ("nvidia-a100-80gb", "a2-ultragpu-2g", 2),
    ("nvidia-a100-80gb", "a2-ultragpu-4g", 4),
    ("nvidia-a100-80gb", "a2-ultragpu-8g", 8),
    ("nvidia-h100-80gb", "a3-highgpu-1g", 1),
    ("nvidia-h100-80gb", "a3-highgpu-2g", 2),
    ("nvidia-h100-80gb", "a3-highgpu-4g", 4),
    ("nvidia-h100-80gb", "a3-highgpu-8g", 8),
    ("nvidia-h100-mega-80gb", "a3-megagpu-8g", 8),
    ("nvidia-h200-141gb", "a3-ultragpu-8g", 8),
    ("nvidia-b200", "a4-highgpu-8g", 8),
    ("nvidia-gb200", "a4x-highgpu-4g", 4),
    ("nvidia-rtx-pro-6000", "g4-standard-48", 1),
    ("nvidia-rtx-pro-6000", "g4-standard-96", 2),
    ("nvidia-rtx-pro-6000", "g4-standard-192", 4),
    ("nvidia-rtx-pro-6000", "g4-standard-384", 8),
]


@pytest.mark.parametrize("gpu_type,machine_type,count", FIXED_GPU_MACHINES)
def test_fixed_gpu_machine_types(gpu_type, machine_type, count):
    implied = resolve_gpu(gpu_type, machine_type=machine_type)
    assert implied["count"] == count
    assert implied["machine_type"] == machine_type
    assert implied["type"] == implied["gke_accelerator"] == gpu_type
    assert implied["resource_name"] == "nvidia.com/gpu"
    assert implied["node_selector"] == {"cloud.google.com/gke-accelerator": gpu_type}
    assert implied["taint"] == {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}
    assert resolve_gpu(gpu_type, count, machine_type) == implied
    message = refused("gpu.count", resolve_gpu, gpu_type, count + 1, machine_type)
    assert "carries exactly %d" % count in message and machine_type in message


DEFAULTS = [
    ("nvidia-tesla-t4", "n1-standard-4", 1),
    ("nvidia-l4", "g2-standard-8", 1),
    ("nvidia-tesla-a100", "a2-highgpu-1g", 1),
    ("nvidia-a100-80gb", "a2-ultragpu-1g", 1),
    ("nvidia-h100-80gb", "a3-highgpu-8g", 8),
    ("nvidia-h100-mega-80gb", "a3-megagpu-8g", 8),
    ("nvidia-h200-141gb", "a3-ultragpu-8g", 8),
    ("nvidia-b200", "a4-highgpu-8g", 8),
    ("nvidia-gb200", "a4x-highgpu-4g", 4),
    ("nvidia-rtx-pro-6000", "g4-standard-48", 1),
]


@pytest.mark.parametrize("gpu_type,machine_type,count", DEFAULTS)
def test_default_machine_type_per_gpu_type(gpu_type, machine_type, count):
    shape = resolve_gpu(gpu_type)
    assert (shape["machine_type"], shape["count"]) == (machine_type, count)


def test_every_gpu_type_has_a_default():
    assert sorted(row[0] for row in DEFAULTS) == sorted(acc.GPU_TYPES)


@pytest.mark.parametrize(
    "gpu_type,count,machine_type",
    [
        ("nvidia-l4", 1, "g2-standard-8"),
        ("nvidia-l4", 2, "g2-standard-24"),
        ("nvidia-l4", 4, "g2-standard-48"),
        ("nvidia-l4", 8, "g2-standard-96"),
        ("nvidia-tesla-a100", 16, "a2-megagpu-16g"),
        ("nvidia-h100-80gb", 1, "a3-highgpu-1g"),
        ("nvidia-h100-80gb", "2", "a3-highgpu-2g"),
    ],
)
def test_count_picks_the_machine_type(gpu_type, count, machine_type):
    shape = resolve_gpu(gpu_type, count)
    assert shape["machine_type"] == machine_type
    assert shape["count"] == int(count)


@pytest.mark.parametrize("gpu_type,count", [("nvidia-l4", 3), ("nvidia-tesla-a100", 32), ("nvidia-b200", 4)])
def test_count_no_machine_type_carries(gpu_type, count):
    message = refused("gpu.count", resolve_gpu, gpu_type, count)
    counts = sorted(set(acc.GPU_TYPES[gpu_type]["machine_types"].values()))
    assert message.endswith("accepted: " + ", ".join(str(c) for c in counts))


@pytest.mark.parametrize(
    "gpu_type,machine_type",
    [
        ("nvidia-l4", "n1-standard-8"),
        ("nvidia-l4", "a2-highgpu-1g"),
        ("nvidia-tesla-a100", "a2-ultragpu-1g"),
        ("nvidia-a100-80gb", "a2-highgpu-1g"),
        ("nvidia-h100-80gb", "a3-megagpu-8g"),
        ("nvidia-h100-mega-80gb", "a3-highgpu-8g"),
        ("nvidia-h200-141gb", "a3-highgpu-8g"),
        ("nvidia-gb200", "a4-highgpu-8g"),
    ],
)
def test_machine_family_mismatch(gpu_type, machine_type):
    message = refused("machine_type", resolve_gpu, gpu_type, None, machine_type)
    for accepted in acc.GPU_TYPES[gpu_type]["machine_types"]:
        assert accepted in message


@pytest.mark.parametrize(
    "count,machine_type",
    [
        (1, "n1-standard-4"),
        (2, "n1-highmem-8"),
        (4, "n1-standard-96"),
        (1, "n1-highcpu-48"),
        (2, "custom-8-30720"),
        (1, "n1-custom-4-15360"),
    ],
)
def test_t4_on_n1(count, machine_type):
    shape = resolve_gpu("nvidia-tesla-t4", count, machine_type)
    assert (shape["count"], shape["machine_type"], shape["machine_family"]) == (count, machine_type, "n1")


def test_t4_count_defaults_to_one():
    assert resolve_gpu("nvidia-tesla-t4", machine_type="n1-standard-16")["count"] == 1


@pytest.mark.parametrize("count", [3, 8])
def test_t4_count(count):
    message = refused("gpu.count", resolve_gpu, "nvidia-tesla-t4", count, "n1-standard-4")
    assert message.endswith("accepted: 1, 2, 4")


@pytest.mark.parametrize("count,machine_type", [(1, "n1-standard-64"), (2, "n1-highmem-64"), (1, "custom-64-245760")])
def test_t4_vcpu_ceiling(count, machine_type):
    message = refused("machine_type", resolve_gpu, "nvidia-tesla-t4", count, machine_type)
    assert "48 vCPUs for 1 GPU(s), 48 vCPUs for 2 GPU(s), 96 vCPUs for 4 GPU(s)" in message


@pytest.mark.parametrize("machine_type", ["g2-standard-8", "n2-standard-8", "e2-standard-4", "n1-ultramem-40"])
def test_t4_needs_n1(machine_type):
    message = refused("machine_type", resolve_gpu, "nvidia-tesla-t4", 1, machine_type)
    assert "N1 machine types" in message


@pytest.mark.parametrize("gpu_type", ["nvidia-l5", "l4", "NVIDIA_L4", "", None, "amd-mi300x"])
def test_unknown_gpu_type(gpu_type):
    message = refused("gpu.type", resolve_gpu, gpu_type, 1)
    for known in acc.GPU_TYPES:
        assert known in message


def test_gpu_type_is_normalised():
    assert resolve_gpu(" NVIDIA-L4 ")["type"] == "nvidia-l4"


@pytest.mark.parametrize("count", [0, -1, "two", True, 1.5])
def test_bad_gpu_count(count):
    with pytest.raises(AcceleratorError) as info:
        resolve_gpu("nvidia-l4", count)
    assert info.value.field == "gpu.count"
    assert "positive whole number" in str(info.value)


def test_gpu_quota_metrics():
    assert "quota" not in resolve_gpu("nvidia-tesla-t4")
    assert quota_metrics(resolve_gpu("nvidia-tesla-t4")) == {
        "api": "compute",
        "metric": "NVIDIA_T4_GPUS",
        "spot_metric": "PREEMPTIBLE_NVIDIA_T4_GPUS",
        "project_metric": "GPUS_ALL_REGIONS",
    }
    assert quota_metrics(resolve_gpu("nvidia-a100-80gb"))["metric"] == "NVIDIA_A100_80GB_GPUS"
    assert quota_metrics(resolve_gpu("nvidia-l4"))["project_metric"] == "GPUS_ALL_REGIONS"
    # No regional metric recorded: the project-wide one still applies.
    assert quota_metrics(resolve_gpu("nvidia-b200")) == {"project_metric": "GPUS_ALL_REGIONS"}


# --- GPU sharing and partitions -------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "strategy,clients,expected",
    [
        ("TIME_SHARING", 2, ("TIME_SHARING", 2)),
        ("time-sharing", 48, ("TIME_SHARING", 48)),
        ("MPS", "4", ("MPS", 4)),
        (" mps ", 48, ("MPS", 48)),
    ],
)
def test_gpu_sharing(strategy, clients, expected):
    assert validate_gpu_sharing(strategy, clients) == {
        "strategy": expected[0],
        "max_shared_clients_per_gpu": expected[1],
    }


@pytest.mark.parametrize("strategy", ["SPREAD", "", None, "MIG"])
def test_gpu_sharing_strategy(strategy):
    message = refused("gpu.sharing.strategy", validate_gpu_sharing, strategy, 4)
    assert message.endswith("accepted: TIME_SHARING, MPS")


@pytest.mark.parametrize("clients", [1, 49, 0, None, "x", True])
def test_gpu_sharing_clients(clients):
    message = refused("gpu.sharing.max_shared_clients", validate_gpu_sharing, "TIME_SHARING", clients)
    assert message.endswith("accepted: a whole number from 2 to 48")


MIG = {
    "nvidia-tesla-a100": ["1g.5gb", "2g.10gb", "3g.20gb", "7g.40gb"],
    "nvidia-a100-80gb": ["1g.10gb", "2g.20gb", "3g.40gb", "7g.80gb"],
    "nvidia-h100-80gb": ["1g.10gb", "1g.20gb", "2g.20gb", "3g.40gb", "7g.80gb"],
    "nvidia-h200-141gb": ["1g.18gb", "1g.35gb", "2g.35gb", "3g.71gb", "4g.71gb", "7g.141gb"],
    "nvidia-rtx-pro-6000": ["1g.24gb", "2g.48gb", "4g.96gb"],
}


@pytest.mark.parametrize("gpu_type,size", [(t, s) for t, sizes in MIG.items() for s in sizes])
def test_mig_partition_sizes(gpu_type, size):
    assert validate_gpu_partition_size(gpu_type, size) == size
    assert validate_gpu_partition_size(gpu_type, size.upper()) == size
    assert resolve_gpu(gpu_type)["partition_sizes"] == MIG[gpu_type]


@pytest.mark.parametrize("gpu_type,size", [("nvidia-tesla-a100", "1g.10gb"), ("nvidia-a100-80gb", "1g.5gb"),
                                           ("nvidia-h100-80gb", "7g.40gb"), ("nvidia-tesla-a100", "8g.80gb")])
def test_mig_size_of_another_type(gpu_type, size):
    message = refused("gpu.partition_size", validate_gpu_partition_size, gpu_type, size)
    assert message.endswith("accepted: " + ", ".join(MIG[gpu_type]))


@pytest.mark.parametrize("gpu_type", sorted(set(acc.GPU_TYPES) - set(MIG)))
def test_types_without_mig(gpu_type):
    assert validate_gpu_partition_size(gpu_type, None) is None
    message = refused("gpu.partition_size", validate_gpu_partition_size, gpu_type, "1g.10gb")
    assert "no MIG partitions" in message and "nvidia-tesla-a100, nvidia-a100-80gb, nvidia-h100-80gb" in message
    assert resolve_gpu(gpu_type)["partition_sizes"] == []


def test_partition_size_of_unknown_type():
    refused("gpu.type", validate_gpu_partition_size, "nvidia-x", "1g.5gb")

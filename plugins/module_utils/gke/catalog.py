# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The accelerator catalog: what GKE accepts for TPU and GPU node pools.

- ``resolve_tpu(accelerator, topology, machine_type=None)``: a TPU request to its slice shape (machine type, chips
  per VM, VMs per slice, placement, node labels).
- ``tpu_topologies(accelerator)``: every topology a generation accepts.
- ``check_slice_node_counts(shape, min_nodes, max_nodes)`` (or ``slice_node_counts_ok``, the same as a message):
  autoscaling limits for a slice that scales as one unit.
- ``check_min_gke_version(shape, cluster_version)``: a generation newer than the cluster (7x needs GKE 1.34).
- ``resolve_gpu(gpu_type, count=None, machine_type=None)``: a GPU request checked against the machine family.
- ``validate_gpu_sharing(strategy, max_shared_clients)`` and ``validate_gpu_partition_size(gpu_type, size)``.
- ``check_boot_disk_type(machine_type, disk_type)``: the boot disks a machine family takes (Hyperdisk-only ones).
- ``quota_metrics(shape)``: the quota metrics that limit a resolved TPU or GPU shape.
- ``scheduling_profile(pool)``: a node pool entry of the estate (TPU, GPU, CPU, or an AMD/NVIDIA pool off GKE) to
  what a pod needs to run there: resource name and count, node selector, tolerations, spot, devices, groups.

This module is the only home of GKE's node labels and accelerator taints: everything else asks it.

Everything GKE would reject raises ``AcceleratorError`` (a ``ValueError``) whose message starts with the field
(``tpu.accelerator``, ``tpu.topology``, ``tpu.machine_type``, ``gpu.type``, ``gpu.count``, ``machine_type``, ...)
and lists the accepted values. The data lives in the tables below; the functions only read them. No I/O.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import InputError
from ansible_collections.accelci.runners.plugins.module_utils._common.numbers import whole_number

TPU_RESOURCE = "google.com/tpu"
GPU_RESOURCE = "nvidia.com/gpu"
TPU_ACCELERATOR_LABEL = "cloud.google.com/gke-tpu-accelerator"
TPU_TOPOLOGY_LABEL = "cloud.google.com/gke-tpu-topology"
GPU_ACCELERATOR_LABEL = "cloud.google.com/gke-accelerator"
NODE_POOL_LABEL = "cloud.google.com/gke-nodepool"
# Ours: every pool of an accelci_node_pools entry with slices > 1 carries it (value: the entry's name), so runners
# can land on any of its slices.
SLICE_GROUP_LABEL = "accelci.io/node-pool"
AMD_GPU_RESOURCE = "amd.com/gpu"
# GID of the render group on the ROCm nodes of seed 004; device files under /dev/dri belong to it.
AMD_RENDER_GROUP = 110
TPU_TAINT = {"key": TPU_RESOURCE, "value": "present", "effect": "NoSchedule"}
GPU_TAINT = {"key": GPU_RESOURCE, "value": "present", "effect": "NoSchedule"}


def gke_managed_taints():
    """The node pool taints GKE adds and keeps itself (API spelling): the GPU taint on GPU pools.

    GKE puts ``nvidia.com/gpu=present:NO_SCHEDULE`` into a GPU pool's ``config.taints`` whether or not it was sent
    (Terraform suppresses the diff it causes). A module must neither remove it nor count it as the user's.
    """
    return [{"key": GPU_TAINT["key"], "value": GPU_TAINT["value"], "effect": "NO_SCHEDULE"}]


# Placement of a slice: single-host slices send no placement policy (GKE answers 400 to a tpu_topology there);
# multi-host v4/v5e/v5p/v6e use a COMPACT policy with tpu_topology; multi-host 7x/7 need a workload policy
# (HIGH_THROUGHPUT with the accelerator topology) passed by name, and go to ERROR with COMPACT.
PLACEMENT_NONE = "none"
PLACEMENT_COMPACT = "compact"
PLACEMENT_WORKLOAD_POLICY = "workload_policy"

# The 3-D shapes that are not built from 4x4x4 cubes (xpk generates its shape tables from the same rule).
SMALL_3D_MULTI_HOST = ("2x2x2", "2x2x4", "2x4x4")
CUBE_EDGE = 4
MAX_3D_DIMENSION = 256

# One entry per generation. single_host: topology -> the machine type that holds it on one VM.
# multi_host: the 2-D topologies spanning several VMs of multi_host_machine_type; for 3-D generations the
# multi-host shapes follow the cube rule (max_cubes, nondecreasing) instead of a list.
# Quota metrics are data, not code: "verified": False marks names reported but not confirmed.
TPU_GENERATIONS = {
    "v4": {
        "description": "TPU v4",
        "gke_accelerator": "tpu-v4-podslice",
        "dimensions": 3,
        "machine_types": {"ct4p-hightpu-4t": 4},
        "single_host": {"2x2x1": "ct4p-hightpu-4t"},
        "multi_host_machine_type": "ct4p-hightpu-4t",
        "max_cubes": 64,
        "nondecreasing": False,
        "multi_host_placement": PLACEMENT_COMPACT,
        "min_gke_version": None,
        "quota": None,
    },
    "v5e": {
        "description": "TPU v5e (v5 lite podslice, training and serving)",
        "gke_accelerator": "tpu-v5-lite-podslice",
        "dimensions": 2,
        "machine_types": {"ct5lp-hightpu-1t": 1, "ct5lp-hightpu-4t": 4, "ct5lp-hightpu-8t": 8},
        "single_host": {"1x1": "ct5lp-hightpu-1t", "2x2": "ct5lp-hightpu-4t", "2x4": "ct5lp-hightpu-8t"},
        "multi_host": ("2x4", "4x4", "4x8", "8x8", "8x16", "16x16"),
        "multi_host_machine_type": "ct5lp-hightpu-4t",
        "multi_host_placement": PLACEMENT_COMPACT,
        "min_gke_version": None,
        "quota": {
            "api": "compute",
            "metric": "TPU_LITE_PODSLICE_V5",
            "spot_metric": "PREEMPTIBLE_TPU_LITE_PODSLICE_V5",
            "verified": True,
        },
    },
    "v5e-device": {
        "description": "TPU v5e serving (v5 lite device, single host only)",
        "gke_accelerator": "tpu-v5-lite-device",
        "dimensions": 2,
        "machine_types": {"ct5l-hightpu-1t": 1, "ct5l-hightpu-4t": 4, "ct5l-hightpu-8t": 8},
        "single_host": {"1x1": "ct5l-hightpu-1t", "2x2": "ct5l-hightpu-4t", "2x4": "ct5l-hightpu-8t"},
        "multi_host": (),
        "multi_host_machine_type": None,
        "multi_host_placement": None,
        "min_gke_version": None,
        "quota": {"api": "compute", "metric": "TPU_LITE_DEVICE_V5", "spot_metric": None, "verified": True},
    },
    "v5p": {
        "description": "TPU v5p",
        "gke_accelerator": "tpu-v5p-slice",
        "dimensions": 3,
        "machine_types": {"ct5p-hightpu-4t": 4},
        "single_host": {"2x2x1": "ct5p-hightpu-4t"},
        "multi_host_machine_type": "ct5p-hightpu-4t",
        "max_cubes": 140,
        "nondecreasing": True,
        "multi_host_placement": PLACEMENT_COMPACT,
        "min_gke_version": None,
        "quota": None,
    },
    "v6e": {
        "description": "TPU v6e (Trillium)",
        "gke_accelerator": "tpu-v6e-slice",
        "dimensions": 2,
        "machine_types": {"ct6e-standard-1t": 1, "ct6e-standard-4t": 4, "ct6e-standard-8t": 8},
        "single_host": {"1x1": "ct6e-standard-1t", "2x2": "ct6e-standard-4t", "2x4": "ct6e-standard-8t"},
        "multi_host": ("2x4", "4x4", "4x8", "8x8", "8x16", "16x16"),
        "multi_host_machine_type": "ct6e-standard-4t",
        "multi_host_placement": PLACEMENT_COMPACT,
        "min_gke_version": None,
        # Not in Compute regions.get; reported in the Cloud Quotas API, unconfirmed.
        "quota": {
            "api": "cloudquotas",
            "service": "compute.googleapis.com",
            "metric": "TPUS-PER-TPU-FAMILY-per-project-region",
            "dimensions": {"tpu_family": "CT6E"},
            "spot_metric": "PREEMPTIBLE-TPU-V6E-per-project-region",
            "verified": False,
        },
    },
    "7x": {
        "description": "TPU 7x (Ironwood)",
        "gke_accelerator": "tpu7x",
        "dimensions": 3,
        "machine_types": {"tpu7x-standard-1t": 1, "tpu7x-standard-4t": 4},
        "single_host": {"1x1x1": "tpu7x-standard-1t", "2x2x1": "tpu7x-standard-4t"},
        "multi_host_machine_type": "tpu7x-standard-4t",
        "max_cubes": 144,
        "nondecreasing": True,
        "multi_host_placement": PLACEMENT_WORKLOAD_POLICY,
        "min_gke_version": "1.34.0-gke.2201000",
        "quota": None,
    },
    # Seen in the GKE cluster autoscaler source and xpk, not in the public GKE docs: treat as unverified.
    "7": {
        "description": "TPU 7 (unverified: not in the public GKE documentation)",
        "gke_accelerator": "tpu7",
        "dimensions": 3,
        "machine_types": {"tpu7-standard-1t": 1, "tpu7-standard-4t": 4},
        "single_host": {"1x1x1": "tpu7-standard-1t", "2x2x1": "tpu7-standard-4t"},
        "multi_host_machine_type": "tpu7-standard-4t",
        "max_cubes": 4,
        "nondecreasing": True,
        "multi_host_placement": PLACEMENT_WORKLOAD_POLICY,
        "min_gke_version": None,
        "quota": None,
    },
}

# Node label value -> generation, so either spelling is accepted.
TPU_LABEL_ALIASES = dict((spec["gke_accelerator"], name) for name, spec in TPU_GENERATIONS.items())

# GPU types GKE offers (the cloud.google.com/gke-accelerator value) and the machine types that carry them.
# machine_types: machine type -> GPUs it carries. T4 attaches to N1 machine types instead: any count in
# n1_counts, with the vCPU ceiling per count from the Compute Engine GPU tables.
# default_machine_type: what resolve_gpu picks when no machine type (and no other count) is given.
# partition_sizes: MIG partitions (gpu_partition_size); an empty tuple means the type has no MIG.
GPU_TYPES = {
    "nvidia-tesla-t4": {
        "description": "NVIDIA T4",
        "machine_family": "n1",
        "n1_counts": {1: 48, 2: 48, 4: 96},
        "default_machine_type": "n1-standard-4",
        "partition_sizes": (),
        "quota": {"api": "compute", "metric": "NVIDIA_T4_GPUS", "spot_metric": "PREEMPTIBLE_NVIDIA_T4_GPUS"},
    },
    "nvidia-l4": {
        "description": "NVIDIA L4",
        "machine_family": "g2",
        "machine_types": {
            "g2-standard-4": 1,
            "g2-standard-8": 1,
            "g2-standard-12": 1,
            "g2-standard-16": 1,
            "g2-standard-32": 1,
            "g2-standard-24": 2,
            "g2-standard-48": 4,
            "g2-standard-96": 8,
        },
        # 8 vCPUs and 32 GB for one GPU: room for a runner and a job container without the -12/-16 price.
        "default_machine_type": "g2-standard-8",
        "partition_sizes": (),
        "quota": {"api": "compute", "metric": "NVIDIA_L4_GPUS", "spot_metric": None},
    },
    "nvidia-tesla-a100": {
        "description": "NVIDIA A100 40GB",
        "machine_family": "a2",
        "machine_types": {
            "a2-highgpu-1g": 1,
            "a2-highgpu-2g": 2,
            "a2-highgpu-4g": 4,
            "a2-highgpu-8g": 8,
            "a2-megagpu-16g": 16,
        },
        "default_machine_type": "a2-highgpu-1g",
        "partition_sizes": ("1g.5gb", "2g.10gb", "3g.20gb", "7g.40gb"),
        "quota": {"api": "compute", "metric": "NVIDIA_A100_GPUS", "spot_metric": None},
    },
    "nvidia-a100-80gb": {
        "description": "NVIDIA A100 80GB",
        "machine_family": "a2",
        "machine_types": {"a2-ultragpu-1g": 1, "a2-ultragpu-2g": 2, "a2-ultragpu-4g": 4, "a2-ultragpu-8g": 8},
        "default_machine_type": "a2-ultragpu-1g",
        "partition_sizes": ("1g.10gb", "2g.20gb", "3g.40gb", "7g.80gb"),
        "quota": {"api": "compute", "metric": "NVIDIA_A100_80GB_GPUS", "spot_metric": None},
    },
    "nvidia-h100-80gb": {
        "description": "NVIDIA H100 80GB",
        "machine_family": "a3",
        "machine_types": {"a3-highgpu-1g": 1, "a3-highgpu-2g": 2, "a3-highgpu-4g": 4, "a3-highgpu-8g": 8},
        # The 1g/2g/4g shapes come only as spot or flex-start capacity; 8g is the one sold on demand.
        "default_machine_type": "a3-highgpu-8g",
        "partition_sizes": ("1g.10gb", "1g.20gb", "2g.20gb", "3g.40gb", "7g.80gb"),
        "quota": None,
    },
    "nvidia-h100-mega-80gb": {
        "description": "NVIDIA H100 Mega 80GB",
        "machine_family": "a3",
        "machine_types": {"a3-megagpu-8g": 8},
        "default_machine_type": "a3-megagpu-8g",
        "partition_sizes": (),
        "quota": None,
    },
    "nvidia-h200-141gb": {
        "description": "NVIDIA H200 141GB",
        "machine_family": "a3",
        "machine_types": {"a3-ultragpu-8g": 8},
        "default_machine_type": "a3-ultragpu-8g",
        "partition_sizes": ("1g.18gb", "1g.35gb", "2g.35gb", "3g.71gb", "4g.71gb", "7g.141gb"),
        "quota": None,
    },
    "nvidia-b200": {
        "description": "NVIDIA B200",
        "machine_family": "a4",
        "machine_types": {"a4-highgpu-8g": 8},
        "default_machine_type": "a4-highgpu-8g",
        "partition_sizes": (),
        "quota": None,
    },
    "nvidia-gb200": {
        "description": "NVIDIA GB200",
        "machine_family": "a4x",
        "machine_types": {"a4x-highgpu-4g": 4},
        "default_machine_type": "a4x-highgpu-4g",
        "partition_sizes": (),
        "quota": None,
    },
    # Google's cluster-toolkit hardware table; MIG sizes from the GKE and NVIDIA RTX PRO 6000 Blackwell docs.
    "nvidia-rtx-pro-6000": {
        "description": "NVIDIA RTX PRO 6000 Blackwell",
        "machine_family": "g4",
        "machine_types": {"g4-standard-48": 1, "g4-standard-96": 2, "g4-standard-192": 4, "g4-standard-384": 8},
        "default_machine_type": "g4-standard-48",
        "partition_sizes": ("1g.24gb", "2g.48gb", "4g.96gb"),
        "quota": None,
    },
}

# Machine families whose machines boot only from Hyperdisk (pd-balanced and other persistent disks are refused).
# Gathered from the Compute Engine machine family pages; not confirmed for every family, so a pool may send another
# type anyway with ignore_unverified (gke_node_pool). Keyed by machine type prefix.
HYPERDISK_ONLY_BOOT = {
    "families": ("ct6e-", "tpu7x-", "a3-ultragpu-", "a4-", "a4x-", "g4-"),
    "disk_types": ("hyperdisk-balanced",),
    "verified": False,
}

# Project-wide GPU quota (Compute projects.get), on top of the regional metric of each type.
GPU_PROJECT_QUOTA_METRIC = "GPUS_ALL_REGIONS"

# N1 machine types that accept attached GPUs: predefined (n1-standard-8) and custom (custom-8-30720, n1-custom-...).
_N1_PREDEFINED = re.compile(r"^n1-(?:standard|highmem|highcpu)-(\d+)$")
_N1_CUSTOM = re.compile(r"^(?:n1-)?custom-(\d+)-(\d+)(?:-ext)?$")

# GPU sharing (gpu_sharing_config): strategies and the max_shared_clients_per_gpu range GKE accepts.
GPU_SHARING_STRATEGIES = ("TIME_SHARING", "MPS")
GPU_SHARING_MIN_CLIENTS = 2
GPU_SHARING_MAX_CLIENTS = 48

_TOPOLOGY_RE = re.compile(r"^[0-9]+(?:x[0-9]+)+$")
# major.minor[.patch][-gke.N]: enough to compare GKE versions with min_gke_version.
_GKE_VERSION_RE = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?(?:-gke\.(\d+))?")


class AcceleratorError(InputError):
    """A request GKE would reject (a ValueError). ``field`` names the offending option; the message lists what is
    accepted."""


def _join(values):
    return ", ".join(str(v) for v in values)


def _product(dims):
    total = 1
    for dim in dims:
        total *= dim
    return total


def _format(dims):
    return "x".join(str(d) for d in dims)


def tpu_generation(accelerator):
    """Return the generation name (``v6e``) for a generation or node label value (``tpu-v6e-slice``).

    Case and surrounding spaces are ignored; an integer (``7`` from YAML) is read as its string.
    Raises AcceleratorError naming ``tpu.accelerator`` with the accepted values.
    """
    if isinstance(accelerator, bool) or not isinstance(accelerator, (str, int)):
        accelerator_text = repr(accelerator)
    else:
        accelerator_text = str(accelerator).strip().lower()
        if accelerator_text in TPU_GENERATIONS:
            return accelerator_text
        if accelerator_text in TPU_LABEL_ALIASES:
            return TPU_LABEL_ALIASES[accelerator_text]
    raise AcceleratorError(
        "tpu.accelerator",
        "unknown TPU accelerator %s; accepted generations: %s; or node label values: %s"
        % (accelerator_text if accelerator_text else "''", _join(TPU_GENERATIONS), _join(TPU_LABEL_ALIASES)),
    )


def _cube_rule_text(spec):
    order = "A <= B <= C" if spec["nondecreasing"] else "in any order"
    return (
        "%s, or AxBxC with A, B, C multiples of %d from %d to %d (%s) and at most %d 4x4x4 cubes, "
        "(A/4)(B/4)(C/4) <= %d"
        % (
            _join(SMALL_3D_MULTI_HOST),
            CUBE_EDGE,
            CUBE_EDGE,
            MAX_3D_DIMENSION,
            order,
            spec["max_cubes"],
            spec["max_cubes"],
        )
    )


def _accepted_topologies_text(generation):
    spec = TPU_GENERATIONS[generation]
    single = _join("%s (%s)" % (topology, machine) for topology, machine in spec["single_host"].items())
    if spec["dimensions"] == 3:
        return "single host: %s; multi-host on %s: %s" % (single, spec["multi_host_machine_type"], _cube_rule_text(spec))
    if not spec["multi_host"]:
        return "single host: %s; no multi-host slices" % single
    return "single host: %s; multi-host on %s: %s" % (single, spec["multi_host_machine_type"], _join(spec["multi_host"]))


def _cube_shape_problem(spec, dims):
    """Why a 3-D topology is not a multi-host shape of this generation, or None when it is."""
    if _format(dims) in SMALL_3D_MULTI_HOST:
        return None
    if any(d % CUBE_EDGE or d < CUBE_EDGE or d > MAX_3D_DIMENSION for d in dims):
        return "a multi-host shape is %s, or has every dimension a multiple of %d from %d to %d" % (
            _join(SMALL_3D_MULTI_HOST),
            CUBE_EDGE,
            CUBE_EDGE,
            MAX_3D_DIMENSION,
        )
    if spec["nondecreasing"] and list(dims) != sorted(dims):
        return "this generation writes dimensions in non-decreasing order (did you mean %s?)" % _format(sorted(dims))
    cubes = _product(d // CUBE_EDGE for d in dims)
    if cubes > spec["max_cubes"]:
        return "it has %d 4x4x4 cubes; this generation allows at most %d" % (cubes, spec["max_cubes"])
    return None


def _parse_topology(generation, topology):
    spec = TPU_GENERATIONS[generation]
    accepted = _accepted_topologies_text(generation)
    text = topology.strip().lower() if isinstance(topology, str) else None
    if not text or not _TOPOLOGY_RE.match(text) or any(int(part) == 0 for part in text.split("x")):
        raise AcceleratorError(
            "tpu.topology",
            "%r is not a topology; write the dimensions as %s (e.g. %s); accepted for %s: %s"
            % (topology, "AxBxC" if spec["dimensions"] == 3 else "AxB", next(iter(spec["single_host"])), generation, accepted),
        )
    dims = tuple(int(part) for part in text.split("x"))
    if len(dims) != spec["dimensions"]:
        hint = ""
        if spec["dimensions"] == 3 and len(dims) == 2:
            hint = " (did you mean %sx1?)" % _format(dims)
        raise AcceleratorError(
            "tpu.topology",
            "%s takes %d-D topologies, got %s%s; accepted: %s" % (generation, spec["dimensions"], text, hint, accepted),
        )
    return dims


def _multi_host_problem(generation, dims):
    """Why dims is not a multi-host topology of the generation, or None when it is."""
    spec = TPU_GENERATIONS[generation]
    if spec["dimensions"] == 3:
        return _cube_shape_problem(spec, dims)
    if _format(dims) in spec["multi_host"]:
        return None
    if not spec["multi_host"]:
        return "it is not a single-host topology and %s has no multi-host slices" % generation
    return "it is neither a single-host nor a multi-host topology of %s" % generation


def resolve_tpu(accelerator, topology, machine_type=None):
    """Resolve a TPU request to the slice GKE will build.

    ``accelerator`` is a generation (``v4``, ``v5e``, ``v5e-device``, ``v5p``, ``v6e``, ``7x``, ``7``) or a node
    label value (``tpu-v6e-slice``). ``topology`` is ``AxB`` (v5e, v6e) or ``AxBxC`` (v4, v5p, 7x, 7).
    ``machine_type`` picks between the two shapes a topology can have (v5e/v6e ``2x4``: one ``-8t`` VM or two
    ``-4t`` VMs); when omitted the single-host shape is chosen.

    Returns a dict: generation, gke_accelerator, machine_type, chips_per_vm, vms (nodes per slice), chips,
    topology (normalised), dimensions, multi_host, placement (``none``, ``compact`` or ``workload_policy``),
    min_gke_version (or None; see ``check_min_gke_version``), resource_name, node_selector, taint. Its quota
    metrics: ``quota_metrics(shape)``.
    Raises AcceleratorError (a ValueError) naming ``tpu.accelerator``, ``tpu.topology`` or ``tpu.machine_type``.
    """
    generation = tpu_generation(accelerator)
    spec = TPU_GENERATIONS[generation]
    dims = _parse_topology(generation, topology)
    text = _format(dims)
    chosen, multi_host = _tpu_machine(generation, dims, machine_type)
    chips = _product(dims)
    chips_per_vm = spec["machine_types"][chosen]
    return {
        "generation": generation,
        "description": spec["description"],
        "gke_accelerator": spec["gke_accelerator"],
        "machine_type": chosen,
        "chips_per_vm": chips_per_vm,
        "vms": chips // chips_per_vm if multi_host else 1,
        "chips": chips,
        "topology": text,
        "dimensions": spec["dimensions"],
        "multi_host": multi_host,
        "placement": spec["multi_host_placement"] if multi_host else PLACEMENT_NONE,
        "min_gke_version": spec["min_gke_version"],
        "resource_name": TPU_RESOURCE,
        "node_selector": {TPU_ACCELERATOR_LABEL: spec["gke_accelerator"], TPU_TOPOLOGY_LABEL: text},
        "taint": dict(TPU_TAINT),
    }


def _tpu_machine(generation, dims, machine_type):
    """(machine type, multi_host) for a parsed topology; the single-host shape unless machine_type says otherwise."""
    spec = TPU_GENERATIONS[generation]
    text = _format(dims)
    if machine_type is not None:
        machine_type = str(machine_type).strip().lower()
        if machine_type not in spec["machine_types"]:
            raise AcceleratorError(
                "tpu.machine_type",
                "%s is not a %s machine type; accepted: %s" % (machine_type, generation, _join(spec["machine_types"])),
            )
    single_machine = spec["single_host"].get(text)
    multi_problem = _multi_host_problem(generation, dims)
    multi_machine = spec["multi_host_machine_type"] if multi_problem is None else None
    if single_machine is None and multi_machine is None:
        raise AcceleratorError(
            "tpu.topology",
            "%s has no topology %s: %s; accepted: %s"
            % (generation, text, multi_problem, _accepted_topologies_text(generation)),
        )
    if machine_type is None or (single_machine is not None and machine_type == single_machine):
        return (single_machine, False) if single_machine else (multi_machine, True)
    if machine_type == multi_machine:
        return multi_machine, True
    fitting = [m for m in (single_machine, multi_machine) if m]
    raise AcceleratorError(
        "tpu.machine_type",
        "%s does not fit %s topology %s; accepted for this topology: %s" % (machine_type, generation, text, _join(fitting)),
    )


def tpu_topologies(accelerator):
    """Every topology the generation accepts, fewest chips first (3-D shapes generated from the cube rule)."""
    generation = tpu_generation(accelerator)
    spec = TPU_GENERATIONS[generation]
    found = set(spec["single_host"])
    if spec["dimensions"] == 2:
        found.update(spec["multi_host"])
    else:
        found.update(SMALL_3D_MULTI_HOST)
        limit = MAX_3D_DIMENSION // CUBE_EDGE
        cubes = spec["max_cubes"]
        # Count in cubes per dimension; the bounds keep the product within max_cubes.
        for a in range(1, min(limit, cubes) + 1):
            for b in range(a if spec["nondecreasing"] else 1, min(limit, cubes // a) + 1):
                for c in range(b if spec["nondecreasing"] else 1, min(limit, cubes // (a * b)) + 1):
                    found.add(_format((a * CUBE_EDGE, b * CUBE_EDGE, c * CUBE_EDGE)))
    return sorted(found, key=lambda t: (_product(int(d) for d in t.split("x")), [int(d) for d in t.split("x")]))


def _node_count(field, value):
    return None if value is None else whole_number(field, value, error=AcceleratorError)


def check_slice_node_counts(shape, min_nodes, max_nodes, fields=("autoscaling.min_nodes", "autoscaling.max_nodes")):
    """Check node counts against a resolved TPU shape (the resolve_tpu dict; ``{}`` for other pools).

    min must not exceed max. One multi-host pool is one slice, built and removed whole: GKE cannot add nodes to it,
    so each count must be 0 or exactly the slice's VM count (more slices are more pools: ``slices``). GKE itself only
    finds out inside the operation ("Requested invalid target size '16' for a Managed Instance Group in the gang
    mode of size '8'"). None for either count skips that count; ``fields`` names them in errors.
    Raises AcceleratorError naming the field of the count that does not fit.
    """
    counts = ((fields[0], _node_count(fields[0], min_nodes)), (fields[1], _node_count(fields[1], max_nodes)))
    low, high = counts[0][1], counts[1][1]
    if low is not None and high is not None and low > high:
        raise AcceleratorError(fields[0], "%d is greater than %s %d; accepted: %s <= %s"
                               % (low, fields[1], high, fields[0].rsplit(".", 1)[-1], fields[1].rsplit(".", 1)[-1]))
    vms = shape.get("vms", 1) if shape.get("multi_host") else 1
    if vms <= 1:
        return
    for field, value in counts:
        if value not in (None, 0, vms):
            raise AcceleratorError(
                field,
                "%d does not fit: a %s %s pool is one slice of %d nodes, created and removed whole; accepted: 0 or "
                "%d (for more slices, set slices: N to get N pools)"
                % (value, shape.get("generation"), shape.get("topology"), vms, vms),
            )


def slice_node_counts_ok(shape, min_nodes, max_nodes):
    """``check_slice_node_counts`` as a message: None when the counts are fine, else "field: what is wrong"."""
    try:
        check_slice_node_counts(shape, min_nodes, max_nodes)
    except AcceleratorError as exc:
        return str(exc)
    return None


def _gke_version_key(version):
    """A GKE version ("1.34.0-gke.2201000") as a comparable tuple, or None when it cannot be read."""
    match = _GKE_VERSION_RE.match(str(version).strip()) if version else None
    return tuple(int(part or 0) for part in match.groups()) if match else None


def check_min_gke_version(shape, cluster_version):
    """Refuse a TPU slice (the resolve_tpu dict) that a cluster at ``cluster_version`` cannot run yet.

    ``cluster_version`` is the cluster's current control plane version (``1.33.5-gke.1162000``); new node pools
    start at that version. A generation without a recorded minimum, or a version that cannot be read, passes:
    GKE has the last word. Raises AcceleratorError naming ``tpu.accelerator``, the minimum and the cluster version.
    """
    minimum = shape.get("min_gke_version")
    have, need = _gke_version_key(cluster_version), _gke_version_key(minimum)
    if have is None or need is None or have >= need:
        return
    offered = [name for name, spec in TPU_GENERATIONS.items()
               if not spec["min_gke_version"] or _gke_version_key(spec["min_gke_version"]) <= have]
    raise AcceleratorError(
        "tpu.accelerator",
        "%s needs GKE %s or later, and the cluster runs %s; accepted: upgrade the cluster to %s or later first, or a "
        "generation GKE %s offers: %s"
        % (shape.get("generation"), minimum, cluster_version, minimum, cluster_version, _join(offered)),
        min_gke_version=minimum, cluster_version=cluster_version,
    )


def gpu_spec(gpu_type):
    """Return (normalised type, catalog entry) for a GKE GPU type; AcceleratorError naming ``gpu.type`` if unknown."""
    text = str(gpu_type).strip().lower() if isinstance(gpu_type, str) else None
    if text not in GPU_TYPES:
        raise AcceleratorError(
            "gpu.type", "unknown GPU type %r; accepted: %s" % (gpu_type, _join(GPU_TYPES))
        )
    return text, GPU_TYPES[text]


def _gpu_count(count):
    if count is None:
        return None
    if isinstance(count, bool):
        value = None
    elif isinstance(count, int):
        value = count
    else:
        try:
            value = int(str(count).strip())
        except ValueError:
            value = None
    if value is None or value < 1:
        raise AcceleratorError("gpu.count", "%r is not a positive whole number of GPUs" % (count,))
    return value


def _n1_vcpus(machine_type):
    match = _N1_PREDEFINED.match(machine_type) or _N1_CUSTOM.match(machine_type)
    return int(match.group(1)) if match else None


def _machine_types_for(spec):
    if "machine_types" in spec:
        return _join("%s (%d)" % (m, c) for m, c in spec["machine_types"].items())
    return "N1 machine types (n1-standard-*, n1-highmem-*, n1-highcpu-*, custom-*) with %s GPUs" % (
        _join(spec["n1_counts"])
    )


def _resolve_n1(gpu_type, spec, count, machine_type):
    counts = spec["n1_counts"]
    if count is None:
        count = 1
    if count not in counts:
        raise AcceleratorError(
            "gpu.count", "%s attaches %d GPUs to no machine type; accepted: %s" % (gpu_type, count, _join(counts))
        )
    if machine_type is None:
        machine_type = spec["default_machine_type"]
    vcpus = _n1_vcpus(machine_type)
    if vcpus is None:
        raise AcceleratorError(
            "machine_type",
            "%s is not an N1 machine type, which %s needs; accepted: %s" % (machine_type, gpu_type, _machine_types_for(spec)),
        )
    if vcpus > counts[count]:
        raise AcceleratorError(
            "machine_type",
            "%s has %d vCPUs, more than %d %s GPU(s) allow (%d); accepted: N1 machine types with at most %s"
            % (
                machine_type,
                vcpus,
                count,
                gpu_type,
                counts[count],
                _join("%d vCPUs for %d GPU(s)" % (v, c) for c, v in counts.items()),
            ),
        )
    return count, machine_type


def _resolve_fixed(gpu_type, spec, count, machine_type):
    machine_types = spec["machine_types"]
    if machine_type is None:
        if count is None or machine_types[spec["default_machine_type"]] == count:
            machine_type = spec["default_machine_type"]
        else:
            matching = [m for m, c in machine_types.items() if c == count]
            if not matching:
                raise AcceleratorError(
                    "gpu.count",
                    "no %s machine type carries %d GPUs; accepted: %s"
                    % (gpu_type, count, _join(sorted(set(machine_types.values())))),
                )
            machine_type = matching[0]
    elif machine_type not in machine_types:
        raise AcceleratorError(
            "machine_type",
            "%s does not carry %s GPUs; accepted: %s" % (machine_type, gpu_type, _machine_types_for(spec)),
        )
    carried = machine_types[machine_type]
    if count is not None and count != carried:
        raise AcceleratorError(
            "gpu.count",
            "%s carries exactly %d %s GPU(s), not %d; accepted: %d (or leave gpu.count out), or another machine type: "
            "%s" % (machine_type, carried, gpu_type, count, carried, _machine_types_for(spec)),
        )
    return carried, machine_type


def resolve_gpu(gpu_type, count=None, machine_type=None):
    """Check a GPU request against the machine family and return what the node pool needs.

    ``gpu_type`` is the GKE accelerator type (``nvidia-l4``). For machine types with a fixed number of GPUs
    (L4 on G2, A100, H100, ...) ``count`` may be omitted and is implied; a mismatch is refused. T4 attaches 1, 2 or
    4 GPUs to an N1 machine type (default 1). Without ``machine_type`` the type's default machine type is used, or
    the first one that carries ``count`` GPUs (see GPU_TYPES: n1-standard-4, g2-standard-8, a2-highgpu-1g,
    a2-ultragpu-1g, a3-highgpu-8g, a3-megagpu-8g, a3-ultragpu-8g, a4-highgpu-8g, a4x-highgpu-4g, g4-standard-48).

    Returns a dict: type, count, machine_type, machine_family, gke_accelerator, resource_name, node_selector,
    taint, partition_sizes. Its quota metrics: ``quota_metrics(shape)``.
    Raises AcceleratorError (a ValueError) naming ``gpu.type``, ``gpu.count`` or ``machine_type``.
    """
    gpu_type, spec = gpu_spec(gpu_type)
    count = _gpu_count(count)
    if machine_type is not None:
        machine_type = str(machine_type).strip().lower()
    if "n1_counts" in spec:
        count, machine_type = _resolve_n1(gpu_type, spec, count, machine_type)
    else:
        count, machine_type = _resolve_fixed(gpu_type, spec, count, machine_type)
    return {
        "type": gpu_type,
        "description": spec["description"],
        "count": count,
        "machine_type": machine_type,
        "machine_family": spec["machine_family"],
        "gke_accelerator": gpu_type,
        "resource_name": GPU_RESOURCE,
        "node_selector": {GPU_ACCELERATOR_LABEL: gpu_type},
        "taint": dict(GPU_TAINT),
        "partition_sizes": list(spec["partition_sizes"]),
    }


def validate_gpu_sharing(strategy, max_shared_clients):
    """Check a GPU sharing request; return ``{"strategy", "max_shared_clients_per_gpu"}`` in API spelling.

    ``strategy`` is TIME_SHARING or MPS (case and ``-``/``_`` ignored); ``max_shared_clients`` is 2..48 for both,
    the range GKE documents for time-sharing and MPS. Raises AcceleratorError naming ``gpu.sharing.strategy`` or
    ``gpu.sharing.max_shared_clients``.
    """
    text = str(strategy).strip().upper().replace("-", "_") if isinstance(strategy, str) else None
    if text not in GPU_SHARING_STRATEGIES:
        raise AcceleratorError(
            "gpu.sharing.strategy",
            "unknown GPU sharing strategy %r; accepted: %s" % (strategy, _join(GPU_SHARING_STRATEGIES)),
        )
    clients = None
    if not isinstance(max_shared_clients, bool):
        try:
            clients = int(str(max_shared_clients).strip())
        except ValueError:
            clients = None
    if clients is None or not GPU_SHARING_MIN_CLIENTS <= clients <= GPU_SHARING_MAX_CLIENTS:
        raise AcceleratorError(
            "gpu.sharing.max_shared_clients",
            "%r is not accepted; accepted: a whole number from %d to %d"
            % (max_shared_clients, GPU_SHARING_MIN_CLIENTS, GPU_SHARING_MAX_CLIENTS),
        )
    return {"strategy": text, "max_shared_clients_per_gpu": clients}


def validate_gpu_partition_size(gpu_type, size):
    """Check a MIG partition size (``gpu_partition_size``) for a GPU type; return it normalised, or None if unset.

    A100 (40 and 80 GB), H100 80GB, H200 and RTX PRO 6000 have MIG partitions (see GPU_TYPES). Raises AcceleratorError naming
    ``gpu.partition_size`` (or ``gpu.type`` for an unknown type).
    """
    gpu_type, spec = gpu_spec(gpu_type)
    if size is None or size == "":
        return None
    text = str(size).strip().lower()
    sizes = spec["partition_sizes"]
    if not sizes:
        with_mig = [name for name, entry in GPU_TYPES.items() if entry["partition_sizes"]]
        raise AcceleratorError(
            "gpu.partition_size",
            "%s has no MIG partitions; accepted: no partition size (leave gpu.partition_size out), or a GPU type "
            "with MIG partitions: %s"
            % (gpu_type, _join(with_mig)),
        )
    if text not in sizes:
        raise AcceleratorError(
            "gpu.partition_size",
            "%r is not a %s partition size; accepted: %s" % (size, gpu_type, _join(sizes)),
        )
    return text


def boot_disk_types(machine_type):
    """The boot disk types a machine type takes, or None when the catalog records no limit (GKE decides)."""
    if any(str(machine_type or "").startswith(prefix) for prefix in HYPERDISK_ONLY_BOOT["families"]):
        return HYPERDISK_ONLY_BOOT["disk_types"]
    return None


def check_boot_disk_type(machine_type, disk_type, ignore_unverified=False):
    """Refuse a boot disk type the machine family does not take; return the disk type to send.

    No type given is fine: GKE picks one the family takes. The rule is recorded, not confirmed for every family:
    ``ignore_unverified`` sends the type as given. Raises AcceleratorError naming ``disk_type``.
    """
    accepted = boot_disk_types(machine_type)
    if not accepted or not disk_type:
        return disk_type
    if disk_type in accepted or (ignore_unverified and not HYPERDISK_ONLY_BOOT["verified"]):
        return disk_type
    raise AcceleratorError(
        "disk_type",
        "%s machines boot only from Hyperdisk, not %s; accepted: %s (or leave disk_type out). If GKE now takes %s "
        "there, set ignore_unverified: true" % (machine_type, disk_type, _join(accepted), disk_type),
    )


def quota_metrics(shape):
    """The quota metrics that limit a resolved TPU (resolve_tpu) or GPU (resolve_gpu) shape, for capacity checks.

    Returns a new dict - ``api`` (``compute`` or ``cloudquotas``), ``metric`` (on-demand), ``spot_metric`` (or
    None), and ``service``, ``dimensions``, ``verified`` where recorded (``verified: false`` marks names reported but
    not confirmed) - or None when no metric is recorded for a TPU generation. GPU shapes always carry
    ``project_metric``, the project-wide GPU quota on top of the regional one.
    """
    if "generation" in shape:
        quota = TPU_GENERATIONS[tpu_generation(shape["generation"])]["quota"]
        return dict(quota) if quota else None
    _gpu_type, spec = gpu_spec(shape.get("type"))
    metrics = dict(spec["quota"] or {})
    metrics["project_metric"] = GPU_PROJECT_QUOTA_METRIC
    return metrics


# Device files a container needs to use each kind of GPU itself (DinD job containers get them passed through).
DEVICES = {
    "amd": ("/dev/kfd", "/dev/dri/renderD*"),
    "nvidia": ("/dev/nvidia[0-9]*", "/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools"),
}
_TAINT_EFFECTS = {"NO_SCHEDULE": "NoSchedule", "PREFER_NO_SCHEDULE": "PreferNoSchedule", "NO_EXECUTE": "NoExecute"}
_ACCELERATOR_KEYS = ("tpu", "gpu", "amd_gpu", "nvidia_gpu")


def toleration_for(taint):
    """The toleration matching a taint; the effect may be spelled as the GKE API does (NO_SCHEDULE) or as
    Kubernetes does (NoSchedule)."""
    value = taint.get("value")
    effect = taint.get("effect") or "NoSchedule"
    toleration = {"key": taint["key"], "operator": "Equal" if value not in (None, "") else "Exists",
                  "effect": _TAINT_EFFECTS.get(str(effect).upper(), effect)}
    if value not in (None, ""):
        toleration["value"] = str(value)
    return toleration


def _add_toleration(tolerations, toleration):
    if toleration not in tolerations:
        tolerations.append(toleration)


def _positive_int(field, value):
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise AcceleratorError(field, "must be a positive integer, got %r" % (value,))
    return value


def _tpu_profile(profile, pool):
    tpu = pool["tpu"]
    try:
        shape = resolve_tpu(tpu.get("accelerator"), tpu.get("topology"), tpu.get("machine_type"))
    except AcceleratorError as exc:
        raise AcceleratorError("node_pools[%s].tpu" % profile["pool"], str(exc))
    profile.update(kind="tpu", resource_name=shape["resource_name"], count=shape["chips_per_vm"])
    profile["node_selector"].update(shape["node_selector"])
    _add_toleration(profile["tolerations"], toleration_for(shape["taint"]))
    profile["details"] = dict(machine_type=shape["machine_type"], topology=shape["topology"],
                              gke_accelerator=shape["gke_accelerator"], chips_per_vm=shape["chips_per_vm"],
                              vms=shape["vms"], multi_host=shape["multi_host"], generation=shape["generation"])


def _gpu_profile(profile, pool):
    gpu = pool["gpu"]
    try:
        spec = resolve_gpu(gpu.get("type"), gpu.get("count"), pool.get("machine_type") or gpu.get("machine_type"))
    except AcceleratorError as exc:
        raise AcceleratorError("node_pools[%s].gpu" % profile["pool"], str(exc))
    profile.update(kind="nvidia", resource_name=spec["resource_name"], count=int(spec["count"]),
                   devices=list(DEVICES["nvidia"]))
    profile["node_selector"].update(spec["node_selector"])
    _add_toleration(profile["tolerations"], toleration_for(spec["taint"]))
    profile["details"] = dict(machine_type=spec["machine_type"], gpu_type=spec["gke_accelerator"])


def _off_gke_profile(profile, pool):
    key = "amd_gpu" if pool.get("amd_gpu") else "nvidia_gpu"
    name = profile["pool"]
    accel = pool[key]
    count = _positive_int("node_pools[%s].%s.count" % (name, key), accel.get("count", 1))
    if key == "amd_gpu":
        group = accel.get("render_group", AMD_RENDER_GROUP)
        if not isinstance(group, int) or isinstance(group, bool) or group < 0:
            raise AcceleratorError("node_pools[%s].amd_gpu.render_group" % name, "must be the numeric GID of the "
                                   "nodes' render group (%d in seed 004), got %r" % (AMD_RENDER_GROUP, group))
        profile.update(kind="amd", resource_name=accel.get("resource_name", AMD_GPU_RESOURCE), count=count,
                       supplemental_groups=[group], devices=list(DEVICES["amd"]))
        profile["details"] = dict(render_group=group)
    else:
        profile.update(kind="nvidia", resource_name=accel.get("resource_name", GPU_RESOURCE), count=count,
                       devices=list(DEVICES["nvidia"]))
        profile["details"] = dict(driver_dir=accel.get("driver_dir"))
    if not pool.get("node_selector"):
        raise AcceleratorError("node_pools[%s].node_selector" % name, "a pool off GKE needs node_selector (the "
                               "labels of the nodes that carry the accelerator, e.g. {pytorch: 'yes'})")


def scheduling_profile(pool):
    """What a pod needs to run on a node pool of the estate, and where it may run.

    ``pool`` is an ``accelci_node_pools`` entry. GKE pools (``tpu:``, ``gpu:`` or a plain ``machine_type``) are
    pinned with the ``cloud.google.com/gke-nodepool`` label and the accelerator labels GKE sets, and tolerate the
    taint GKE puts on accelerator nodes. Pools off GKE (``gke: false``, ``amd_gpu:``, ``nvidia_gpu:``) describe the
    accelerator and give their own ``node_selector``; ``taints`` and ``tolerations`` of any pool are added.

    Returns a dict: pool, kind (cpu, tpu, nvidia, amd), resource_name (or None) and count (per node), node_selector,
    tolerations, supplemental_groups, devices (device files for containers that use the accelerator directly),
    spot, gke (managed by GKE), details (machine type, topology, VMs per slice, ...).
    Raises AcceleratorError (an InputError) naming the field, e.g. ``node_pools[tpu-v6e-1].tpu``.
    """
    if not isinstance(pool, dict) or not pool.get("name"):
        raise AcceleratorError("node_pool", "a node pool entry needs a name")
    name = pool["name"]
    kinds = [k for k in _ACCELERATOR_KEYS if pool.get(k)]
    if len(kinds) > 1:
        raise AcceleratorError("node_pools[%s]" % name, "describes more than one accelerator (%s); give one"
                               % ", ".join(kinds))
    off_gke = bool(pool.get("amd_gpu") or pool.get("nvidia_gpu") or pool.get("gke") is False)
    profile = dict(pool=name, kind="cpu", resource_name=None, count=0, node_selector={}, tolerations=[],
                   supplemental_groups=[], devices=[], spot=bool(pool.get("spot")), gke=not off_gke, details={})
    if profile["gke"]:
        grouped = isinstance(pool.get("slices"), int) and pool["slices"] > 1
        profile["node_selector"][SLICE_GROUP_LABEL if grouped else NODE_POOL_LABEL] = name
    if pool.get("tpu"):
        _tpu_profile(profile, pool)
    elif pool.get("gpu"):
        _gpu_profile(profile, pool)
    elif off_gke and kinds:
        _off_gke_profile(profile, pool)
    for key, value in (pool.get("node_selector") or {}).items():
        profile["node_selector"][str(key)] = str(value)
    for taint in pool.get("taints") or []:
        if not isinstance(taint, dict) or not taint.get("key"):
            raise AcceleratorError("node_pools[%s].taints" % name, "each taint needs key (and value, effect)")
        _add_toleration(profile["tolerations"], toleration_for(taint))
    for toleration in pool.get("tolerations") or []:
        _add_toleration(profile["tolerations"], dict(toleration))
    return profile

"""The emulator's own machine-type table: TPU slices, GPU machine families and the quota metric each one uses.

The emulator plays the GKE API, so it keeps its own small copy of these facts instead of importing the collection's
accelerator catalog: a bug in the catalog must show up as a disagreement with the emulator, not be mirrored by it.
"""

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class TpuMachine:
    """One TPU VM shape."""

    generation: str      # v4, v5e, v5e-device, v5p, v6e, 7x, 7
    chips_per_vm: int
    dimensions: int      # 2 for AxB topologies, 3 for AxBxC
    multi_host: bool     # whether this machine type can form multi-host slices
    quota_metric: str    # on-demand metric; spot, preemptible and flex-start use "PREEMPTIBLE_" + metric
    needs_workload_policy: bool = False  # 7x / 7: multi-host needs placement_policy.policy_name, not COMPACT


def _tpu(generation, dims, metric, sizes, multi_host_on=(), workload_policy=False, prefix=""):
    return {
        "%s-%dt" % (prefix, size): TpuMachine(generation, size, dims, size in multi_host_on, metric, workload_policy)
        for size in sizes
    }


TPU_MACHINE_TYPES = {}
TPU_MACHINE_TYPES.update(_tpu("v4", 3, "TPU_V4_PODSLICE", [4], multi_host_on=(4,), prefix="ct4p-hightpu"))
TPU_MACHINE_TYPES.update(_tpu("v5e", 2, "TPU_LITE_PODSLICE_V5", [1, 4, 8], multi_host_on=(4,), prefix="ct5lp-hightpu"))
TPU_MACHINE_TYPES.update(_tpu("v5e-device", 2, "TPU_LITE_DEVICE_V5", [1, 4, 8], prefix="ct5l-hightpu"))
TPU_MACHINE_TYPES.update(_tpu("v5p", 3, "TPU_V5P_PODSLICE", [4], multi_host_on=(4,), prefix="ct5p-hightpu"))
TPU_MACHINE_TYPES.update(_tpu("v6e", 2, "TPUS_V6E", [1, 4, 8], multi_host_on=(4,), prefix="ct6e-standard"))
TPU_MACHINE_TYPES.update(_tpu("7x", 3, "TPUS_7X", [1, 4], multi_host_on=(4,), workload_policy=True,
                              prefix="tpu7x-standard"))
TPU_MACHINE_TYPES.update(_tpu("7", 3, "TPUS_7", [1, 4], multi_host_on=(4,), workload_policy=True,
                              prefix="tpu7-standard"))

# accelerator type -> (quota metric, {machine type: GPUs that machine carries}) for accelerator-optimised families,
# or (quota metric, None) for N1, where GPUs are attached in counts of 1, 2 or 4.
GPU_ACCELERATORS = {
    "nvidia-tesla-t4": ("NVIDIA_T4_GPUS", None),
    "nvidia-l4": ("NVIDIA_L4_GPUS", {
        "g2-standard-4": 1, "g2-standard-8": 1, "g2-standard-12": 1, "g2-standard-16": 1, "g2-standard-32": 1,
        "g2-standard-24": 2, "g2-standard-48": 4, "g2-standard-96": 8,
    }),
    "nvidia-tesla-a100": ("NVIDIA_A100_GPUS", {
        "a2-highgpu-1g": 1, "a2-highgpu-2g": 2, "a2-highgpu-4g": 4, "a2-highgpu-8g": 8, "a2-megagpu-16g": 16,
    }),
    "nvidia-a100-80gb": ("NVIDIA_A100_80GB_GPUS", {
        "a2-ultragpu-1g": 1, "a2-ultragpu-2g": 2, "a2-ultragpu-4g": 4, "a2-ultragpu-8g": 8,
    }),
    "nvidia-h100-80gb": ("NVIDIA_H100_GPUS", {
        "a3-highgpu-1g": 1, "a3-highgpu-2g": 2, "a3-highgpu-4g": 4, "a3-highgpu-8g": 8,
    }),
    "nvidia-h100-mega-80gb": ("NVIDIA_H100_MEGA_GPUS", {"a3-megagpu-8g": 8}),
    "nvidia-h200-141gb": ("NVIDIA_H200_GPUS", {"a3-ultragpu-8g": 8}),
    "nvidia-b200": ("NVIDIA_B200_GPUS", {"a4-highgpu-8g": 8}),
    "nvidia-gb200": ("NVIDIA_GB200_GPUS", {"a4x-highgpu-4g": 4}),
    # G4 (Google's cluster-toolkit hardware table); the metric name is the emulator's, unverified.
    "nvidia-rtx-pro-6000": ("NVIDIA_RTX_PRO_6000_GPUS", {
        "g4-standard-48": 1, "g4-standard-96": 2, "g4-standard-192": 4, "g4-standard-384": 8,
    }),
}

N1_GPU_COUNTS = (1, 2, 4)

# MIG partition sizes GKE's partitioner knows per GPU type (GoogleCloudPlatform/container-engine-accelerators,
# partition_gpu/partition_gpu.go: partitionSizeMaxCount; "Running multi-instance GPUs" lists A100 40/80 GB, H100 80GB,
# H200 and B200). GPU types missing here (T4, L4, the H100 Mega) take no gpu_partition_size.
MIG_PARTITION_SIZES = {
    "nvidia-tesla-a100": ("1g.5gb", "2g.10gb", "3g.20gb", "4g.20gb", "7g.40gb"),
    "nvidia-a100-80gb": ("1g.10gb", "2g.20gb", "3g.40gb", "4g.40gb", "7g.80gb"),
    "nvidia-h100-80gb": ("1g.10gb", "1g.20gb", "2g.20gb", "3g.40gb", "4g.40gb", "7g.80gb"),
    "nvidia-h200-141gb": ("1g.18gb", "1g.35gb", "2g.35gb", "3g.71gb", "4g.71gb", "7g.141gb"),
    "nvidia-b200": ("1g.23gb", "1g.45gb", "2g.45gb", "3g.90gb", "4g.90gb", "7g.180gb"),
    "nvidia-gb200": ("1g.23gb", "1g.47gb", "2g.47gb", "3g.93gb", "4g.93gb", "7g.186gb"),
    "nvidia-rtx-pro-6000": ("1g.24gb", "2g.48gb", "4g.96gb"),
}

# GPU sharing (time-sharing, MPS): clients per physical GPU GKE accepts (GKE docs, "time-sharing GPUs").
GPU_SHARING_CLIENTS = (2, 48)

# Families whose boot disk can only be Hyperdisk (Compute Engine machine-family docs; unverified per family), and
# families that take no Hyperdisk boot disk at all (Compute Engine disk support tables, as quoted in
# nextflow-io/nextflow 6841: N1, N2, N2D; E2 takes persistent disks only).
HYPERDISK_ONLY_PREFIXES = ("ct6e-", "tpu7x-", "a3-ultragpu-", "a4-", "a4x-", "g4-")
NO_HYPERDISK_PREFIXES = ("e2-", "n1-", "n2-", "n2d-")
DEFAULT_DISK_TYPE = "pd-balanced"
DEFAULT_HYPERDISK_TYPE = "hyperdisk-balanced"

# vCPUs of machine types whose name does not end in their vCPU count (cloud.google.com/compute/docs machine
# tables). Names ending in "-<N>" for standard, highmem and highcpu shapes carry N vCPUs.
MACHINE_VCPUS = {
    "e2-micro": 2, "e2-small": 2, "e2-medium": 2,
    "a2-highgpu-1g": 12, "a2-highgpu-2g": 24, "a2-highgpu-4g": 48, "a2-highgpu-8g": 96, "a2-megagpu-16g": 96,
    "a2-ultragpu-1g": 12, "a2-ultragpu-2g": 24, "a2-ultragpu-4g": 48, "a2-ultragpu-8g": 96,
    "a3-highgpu-1g": 26, "a3-highgpu-2g": 52, "a3-highgpu-4g": 104, "a3-highgpu-8g": 208, "a3-megagpu-8g": 208,
    "a3-ultragpu-8g": 224, "a4-highgpu-8g": 224, "a4x-highgpu-4g": 140,
}
# Host vCPUs and memory (GiB) of TPU VMs and of GPU machines whose memory is not a multiple of their vCPUs
# (Compute Engine machine-type and TPU VM pages; unverified where the docs give a range). Used for the allocatable
# resources of the emulator's nodes.
TPU_VM_SHAPES = {
    "ct4p-hightpu-4t": (240, 407), "ct5lp-hightpu-1t": (24, 48), "ct5lp-hightpu-4t": (112, 192),
    "ct5lp-hightpu-8t": (224, 384), "ct5l-hightpu-1t": (24, 48), "ct5l-hightpu-4t": (112, 192),
    "ct5l-hightpu-8t": (224, 384), "ct5p-hightpu-4t": (208, 448), "ct6e-standard-1t": (44, 176),
    "ct6e-standard-4t": (180, 720), "ct6e-standard-8t": (180, 1440), "tpu7x-standard-1t": (56, 240),
    "tpu7x-standard-4t": (224, 960), "tpu7-standard-1t": (56, 240), "tpu7-standard-4t": (224, 960),
}
MACHINE_MEMORY_GIB = {
    "e2-micro": 1, "e2-small": 2, "e2-medium": 4,
    "a2-highgpu-1g": 85, "a2-highgpu-2g": 170, "a2-highgpu-4g": 340, "a2-highgpu-8g": 680, "a2-megagpu-16g": 1360,
    "a2-ultragpu-1g": 170, "a2-ultragpu-2g": 340, "a2-ultragpu-4g": 680, "a2-ultragpu-8g": 1360,
    "a3-highgpu-1g": 234, "a3-highgpu-2g": 468, "a3-highgpu-4g": 936, "a3-highgpu-8g": 1872,
    "a3-megagpu-8g": 1872, "a3-ultragpu-8g": 2952, "a4-highgpu-8g": 3968, "a4x-highgpu-4g": 884,
}
# GiB per vCPU of the standard, highmem and highcpu shapes (n1: 3.75 for standard).
_MEMORY_PER_VCPU = {"standard": 4.0, "highmem": 8.0, "highcpu": 1.0}

# Families charged against the regional "CPUS" metric; every other family has its own "<FAMILY>_CPUS" metric
# ("C2_CPUS" is quoted in GoogleCloudPlatform/k8s-config-connector 321; the accelerator families' names are
# unverified). TPU VMs are charged as TPU chips only (unverified whether their host vCPUs count too).
CPUS_METRIC_FAMILIES = ("e2", "n1")

# machine type -> (accelerator type, count) for machines that come with their GPUs attached.
GPU_MACHINE_TYPES = {
    machine: (accelerator, count)
    for accelerator, (_metric, machines) in GPU_ACCELERATORS.items() if machines
    for machine, count in machines.items()
}

_TRAILING_VCPUS = re.compile(r"^[a-z0-9]+-(?:standard|highmem|highcpu)-([0-9]+)$")


def machine_vcpus(machine_type):
    """vCPUs of a machine type, or 0 when the emulator does not know the shape."""
    if machine_type in MACHINE_VCPUS:
        return MACHINE_VCPUS[machine_type]
    if machine_type in TPU_VM_SHAPES:
        return TPU_VM_SHAPES[machine_type][0]
    match = _TRAILING_VCPUS.match(machine_type or "")
    return int(match.group(1)) if match else 0


def machine_memory_gib(machine_type):
    """Memory of a machine type in GiB (4 GiB per vCPU for a shape the emulator does not know)."""
    if machine_type in TPU_VM_SHAPES:
        return TPU_VM_SHAPES[machine_type][1]
    if machine_type in MACHINE_MEMORY_GIB:
        return MACHINE_MEMORY_GIB[machine_type]
    match = re.match(r"^([a-z0-9]+)-(standard|highmem|highcpu)-[0-9]+$", machine_type or "")
    ratio = _MEMORY_PER_VCPU[match.group(2)] if match else 4.0
    if match and match.group(1) == "n1" and match.group(2) == "standard":
        ratio = 3.75
    return machine_vcpus(machine_type) * ratio or 4


def cpu_quota_metric(machine_type):
    """The regional CPU quota metric a machine type is charged against."""
    family = (machine_type or "").split("-", 1)[0]
    return "CPUS" if family in CPUS_METRIC_FAMILIES else "%s_CPUS" % family.upper()


def boot_disk_types(machine_type):
    """(default boot disk type, disk types the family refuses as a predicate) for a machine type."""
    if (machine_type or "").startswith(HYPERDISK_ONLY_PREFIXES):
        return DEFAULT_HYPERDISK_TYPE, lambda disk: not disk.startswith("hyperdisk-")
    if (machine_type or "").startswith(NO_HYPERDISK_PREFIXES):
        return DEFAULT_DISK_TYPE, lambda disk: disk.startswith("hyperdisk-")
    return DEFAULT_DISK_TYPE, lambda disk: False


_TOPOLOGY = re.compile(r"^[1-9][0-9]*(x[1-9][0-9]*){1,2}$")


def parse_topology(topology):
    """Dimensions of an "AxB" / "AxBxC" topology as a list of ints, or None if it is not one."""
    if not _TOPOLOGY.match(topology or ""):
        return None
    return [int(part) for part in topology.split("x")]


def region_of(location):
    """The region of a zone ("us-central1-b" -> "us-central1"); a region is returned unchanged."""
    if is_zone(location):
        return location.rsplit("-", 1)[0]
    return location


def is_zone(location):
    """True for a zone name such as "us-central1-b"."""
    return bool(re.match(r"^[a-z]+-[a-z]+[0-9]+-[a-z]$", location or ""))


def zones_of_region(region):
    """The zones a regional cluster spreads over by default."""
    return ["%s-%s" % (region, suffix) for suffix in ("a", "b", "c")]

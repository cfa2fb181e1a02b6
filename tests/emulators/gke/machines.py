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
}

N1_GPU_COUNTS = (1, 2, 4)

# machine type -> (accelerator type, count) for machines that come with their GPUs attached.
GPU_MACHINE_TYPES = {
    machine: (accelerator, count)
    for accelerator, (_metric, machines) in GPU_ACCELERATORS.items() if machines
    for machine, count in machines.items()
}

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

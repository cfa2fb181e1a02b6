"""The Compute Engine v1 stand-in as a local HTTP server (see README.md)."""

from .backend import ComputeBackend
from ..json_api import SeededJsonApiEmulator


class ComputeEmulator(SeededJsonApiEmulator):
    """A local compute.googleapis.com v1 (REST) for the calls accelerator_capacity_info makes.

    ``ComputeEmulator(port=0, seed=None)``; ``url`` is ready for ``client_options={"api_endpoint": emu.url}``.
    """

    name = "Compute Engine stand-in"

    def __init__(self, port=0, seed=None):
        super().__init__(ComputeBackend(), port=port, seed=seed)

    def set_quota(self, region, metric, limit, usage=0):
        """Set a regional quota metric (limit None removes it from the region's quotas[])."""
        with self._lock:
            self.backend.set_quota(metric, limit, usage, region=region)

    def set_project_quota(self, metric, limit, usage=0):
        """Set a project-wide quota metric such as GPUS_ALL_REGIONS (limit None removes it)."""
        with self._lock:
            self.backend.set_quota(metric, limit, usage)

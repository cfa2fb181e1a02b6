"""The Compute Engine v1 stand-in as a local HTTP server (see README.md)."""

import json

from .backend import ComputeBackend
from ..json_api import JsonApiEmulator


class ComputeEmulator(JsonApiEmulator):
    """A local compute.googleapis.com v1 (REST) for the calls accelerator_capacity_info makes.

    ``ComputeEmulator(port=0, seed=None)``; ``url`` is ready for ``client_options={"api_endpoint": emu.url}``.
    """

    name = "Compute Engine stand-in"

    def __init__(self, port=0, seed=None):
        super().__init__(ComputeBackend(), port=port)
        if seed is not None:
            self.seed(seed)

    def seed(self, data):
        """Replace the state with a data set (a dict, or a path to a JSON file)."""
        if isinstance(data, str):
            with open(data, encoding="utf-8") as handle:
                data = json.load(handle)
        with self._lock:
            self.backend.seed(data)

    def set_quota(self, region, metric, limit, usage=0):
        """Set a regional quota metric (limit None removes it from the region's quotas[])."""
        with self._lock:
            self.backend.set_quota(metric, limit, usage, region=region)

    def set_project_quota(self, metric, limit, usage=0):
        """Set a project-wide quota metric such as GPUS_ALL_REGIONS (limit None removes it)."""
        with self._lock:
            self.backend.set_quota(metric, limit, usage)

    def state(self):
        with self._lock:
            return self.backend.control("GET", "state", {})

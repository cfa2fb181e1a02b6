"""The Cloud Quotas API v1 stand-in as a local HTTP server (see README.md)."""

from ..json_api import SeededJsonApiEmulator
from .backend import CloudQuotasBackend


class CloudQuotasEmulator(SeededJsonApiEmulator):
    """A local cloudquotas.googleapis.com v1 (REST): quotaInfos list and get.

    ``CloudQuotasEmulator(port=0, seed=None)``; ``url`` is ready for ``client_options={"api_endpoint": emu.url}``.
    """

    name = "Cloud Quotas stand-in"

    def __init__(self, port=0, seed=None):
        super().__init__(CloudQuotasBackend(), port=port, seed=seed)

    def set_value(self, quota_id, value, service="compute.googleapis.com", **dimensions):
        """Set the value of a quota for exactly these dimensions (region=..., tpu_family=...); None removes it."""
        with self._lock:
            self.backend.set_value(quota_id, dimensions, value, service)

    def remove(self, quota_id, service="compute.googleapis.com"):
        """Forget a quota: its get answers 404."""
        with self._lock:
            self.backend.remove(quota_id, service)

"""A local stand-in for the Cloud Quotas API v1 (quotaInfos of a service); see README.md."""

from .server import CloudQuotasEmulator

__all__ = ["CloudQuotasEmulator"]

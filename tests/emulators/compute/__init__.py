"""A local stand-in for the Compute Engine v1 API (regions, zones, machine and accelerator types, project quotas);
see README.md."""

from .server import ComputeEmulator

__all__ = ["ComputeEmulator"]

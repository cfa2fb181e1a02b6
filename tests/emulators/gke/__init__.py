"""A local emulator of the GKE API (container.googleapis.com v1, REST) for tests; see README.md."""

from .server import GkeEmulator

__all__ = ["GkeEmulator"]

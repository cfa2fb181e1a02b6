"""A real Kubernetes control plane for the tests and the sandbox (see control_plane.py and build.py)."""

from .control_plane import ControlPlaneError, LocalControlPlane

__all__ = ["ControlPlaneError", "LocalControlPlane"]

"""Make the repository importable as ansible_collections.accelci.runners for every test, and keep the kubeconfigs
that apply-mode runs write (the cluster role, gke_kubeconfig) out of the home directory."""
import os
import sys
import tempfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(ROOT, "build", "collections")
LINK = os.path.join(COLLECTIONS, "ansible_collections", "accelci", "runners")

if not os.path.exists(LINK):
    os.makedirs(os.path.dirname(LINK), exist_ok=True)
    os.symlink(ROOT, LINK)
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

# What module- and session-scoped fixtures (which start before the per-test directory below) inherit.
os.environ.setdefault("ACCELCI_KUBECONFIG_DIR", tempfile.mkdtemp(prefix="accelci-test-kubeconfigs-"))


@pytest.fixture(autouse=True)
def kubeconfig_dir(tmp_path_factory, monkeypatch):
    """A directory of its own per test for the kubeconfigs apply-mode runs write (every ansible-playbook a test
    starts inherits it), so no test sees another's kubeconfig."""
    path = tmp_path_factory.mktemp("kubeconfigs")
    monkeypatch.setenv("ACCELCI_KUBECONFIG_DIR", str(path))
    return path

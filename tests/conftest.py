"""Make the repository importable as ansible_collections.accelci.runners for every test, and keep the kubeconfigs
that apply-mode runs write (the cluster role, gke_kubeconfig) out of the home directory."""
import os
import sys
import tempfile

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

# Every ansible-playbook a test starts inherits this.
os.environ.setdefault("ACCELCI_KUBECONFIG_DIR", tempfile.mkdtemp(prefix="accelci-test-kubeconfigs-"))

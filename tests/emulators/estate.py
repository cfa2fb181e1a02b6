"""Every stand-in an estate converges against, started together: the local Kubernetes control plane, the GKE API
emulator wired to it, fake-gcs-server, an olah Hugging Face mirror serving the sandbox's demo model, and the Compute
and Cloud Quotas stand-ins seeded with the sandbox's quotas and zones. ``env`` is the environment a run of the
collection gets: the stand-ins' endpoints, the operator's Google access token and where the kubeconfigs go, as a
user's CI job would set them.

    with LocalEstate(parent_dir) as estate:
        subprocess.run(["ansible-playbook", "-i", "inventories/sandbox", "site.yml"], env=estate.env, ...)

``make sandbox`` (scripts/sandbox.py) and the molecule harness (scripts/molecule.py) both start one. Each estate is
fresh: the GKE emulator, the control plane and fake-gcs-server keep what a run made until the estate stops.
"""

import contextlib
import os
import shutil
import tempfile

from tests.emulators.cloudquotas import CloudQuotasEmulator
from tests.emulators.compute import ComputeEmulator
from tests.emulators.fake_gcs import FakeGcs
from tests.emulators.gke import GkeEmulator
from tests.emulators.hub import OlahHub, build_sandbox_repos
from tests.emulators.kube import LocalControlPlane

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COMPUTE_SEED = os.path.join(ROOT, "tests", "emulators", "compute", "sandbox.json")
CLOUDQUOTAS_SEED = os.path.join(ROOT, "tests", "emulators", "cloudquotas", "sandbox.json")
# The sandbox operator's Google access token, and who the local API server takes it for (GKE maps a Google identity
# with the Kubernetes Engine Admin role to full access). A made-up value: nothing outside this machine accepts it.
SANDBOX_TOKEN = "ya29.sandbox-operator-token"
SANDBOX_OPERATOR = ("operator@accelci-sandbox.iam.gserviceaccount.com", ("system:masters",))
# What an operator puts in the GitHub Secret that an estate with accelci_github.existing_secret names (docs/arc.md):
# a GitHub App's ids and private key. Made-up values: GitHub is not reachable from here, nothing accepts them.
GITHUB_APP_SECRET = {
    "github_app_id": "123456",
    "github_app_installation_id": "7890123",
    "github_app_private_key": "-----BEGIN RSA PRIVATE KEY-----\nbm90LWEtcmVhbC1rZXktbG9jYWwtZXN0YXRl\n"
                              "-----END RSA PRIVATE KEY-----\n",
}
# Variables that would point a run at a cluster other than the estate's own.
FOREIGN_KUBE_VARIABLES = ("KUBECONFIG", "K8S_AUTH_KUBECONFIG", "K8S_AUTH_CONTEXT")


class LocalEstate:
    """The stand-ins of one estate; a context manager. ``parent_dir`` holds the Hugging Face mirror while it runs
    (a temporary directory of its own, removed on exit)."""

    def __init__(self, parent_dir, operation_seconds=0.5, compute_seed=COMPUTE_SEED, quotas_seed=CLOUDQUOTAS_SEED):
        self.parent_dir = parent_dir
        self.operation_seconds = operation_seconds
        self.compute_seed = compute_seed
        self.quotas_seed = quotas_seed
        self.kube = self.gke = self.gcs = self.hub = self.compute = self.quotas = None
        self.mirror = None
        self.env = None
        self._stack = None

    def __enter__(self):
        stack = contextlib.ExitStack()
        try:
            os.makedirs(self.parent_dir, exist_ok=True)
            self.mirror = tempfile.mkdtemp(prefix="hub-", dir=self.parent_dir)
            stack.callback(shutil.rmtree, self.mirror, ignore_errors=True)
            build_sandbox_repos(self.mirror)
            self.kube = stack.enter_context(LocalControlPlane(tokens={SANDBOX_TOKEN: SANDBOX_OPERATOR}))
            self.gke = stack.enter_context(GkeEmulator(operation_seconds=self.operation_seconds, kube=self.kube))
            self.gcs = stack.enter_context(FakeGcs())
            self.hub = stack.enter_context(OlahHub(self.mirror))
            # The capacity preflight reads quotas and zones from these two.
            self.compute = stack.enter_context(ComputeEmulator(seed=self.compute_seed))
            self.quotas = stack.enter_context(CloudQuotasEmulator(seed=self.quotas_seed))
        except BaseException:
            stack.close()
            raise
        self._stack = stack
        self.env = self.build_env()
        return self

    def __exit__(self, *exc_info):
        stack, self._stack = self._stack, None
        if stack is not None:
            stack.close()

    def create_github_secret(self, namespace="arc-runners", name="accelci-github"):
        """Create the GitHub Secret an estate's scale sets read (accelci_github.existing_secret) in ``namespace``,
        and the namespace, as an operator does out of band before the first converge."""
        from kubernetes import client

        core = client.CoreV1Api(self.kube.api_client())
        core.create_namespace({"metadata": {"name": namespace}})
        core.create_namespaced_secret(namespace, {"metadata": {"name": name}, "type": "Opaque",
                                                  "stringData": GITHUB_APP_SECRET})

    def build_env(self):
        """The environment of a run against this estate: the caller's, with the stand-ins' endpoints."""
        env = dict(os.environ)
        env.update({
            "ANSIBLE_CONFIG": os.path.join(ROOT, "ansible.cfg"),
            "ACCELCI_GKE_API_ENDPOINT": self.gke.url,
            "ACCELCI_COMPUTE_API_ENDPOINT": self.compute.url,
            "ACCELCI_CLOUDQUOTAS_API_ENDPOINT": self.quotas.url,
            "STORAGE_EMULATOR_HOST": self.gcs.endpoint,
            "HF_ENDPOINT": self.hub.endpoint,
            "HF_HUB_DISABLE_XET": "1",
            # The run's Google credentials: the kubeconfig's credential helper reads the token from here.
            "GCP_ACCESS_TOKEN": SANDBOX_TOKEN,
            # The kubeconfig the cluster role writes lives with the control plane it reaches, outside the repository.
            "ACCELCI_KUBECONFIG_DIR": os.path.join(self.kube.dir, "kubeconfigs"),
            "PATH": os.path.join(ROOT, "build", "bin") + os.pathsep + os.environ.get("PATH", ""),
        })
        for name in FOREIGN_KUBE_VARIABLES:
            env.pop(name, None)  # the estate reaches its own cluster only
        return env

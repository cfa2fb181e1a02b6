"""What the Google API stand-ins share: the HTTP shell on 127.0.0.1 (``LoopbackServer`` with ``JsonHandler``, which
hands each request to ``server.emulator.handle`` or, under /_emulator/, ``server.emulator.control``), and for the
Compute Engine and Cloud Quotas stand-ins a request log, faults armed by tests, opaque page tokens and the control
API (``JsonApiEmulator``). Each API's own paths, resources and error bodies live in its backend."""

import argparse
import base64
import json
import re
import signal
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

HOST = "127.0.0.1"
CONTROL_PREFIX = "/_emulator/"


class EmulatorError(Exception):
    """An error reply: HTTP code, google.rpc status name, the API's reason and message."""

    def __init__(self, http_code, status, reason, message):
        super().__init__(message)
        self.http_code = http_code
        self.status = status
        self.reason = reason
        self.message = message


class ControlError(ValueError):
    """A malformed control request (HTTP 400 to the test that sent it)."""


def page_token(kind, offset):
    """An opaque token for the next page of a list, bound to what was listed."""
    return base64.urlsafe_b64encode(json.dumps([kind, offset]).encode()).decode().rstrip("=")


def page_offset(token, kind):
    """The offset a token stands for, or None when it is not a token of this list."""
    try:
        padded = token + "=" * (-len(token) % 4)
        token_kind, offset = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
    except (ValueError, TypeError):
        return None
    return offset if token_kind == kind and isinstance(offset, int) and offset >= 0 else None


class _Fault:
    def __init__(self, kind, method, path_regex, times, opts):
        self.kind, self.method, self.times, self.opts = kind, method, int(times), opts
        self.path_regex = path_regex
        self._pattern = re.compile(path_regex) if path_regex else None

    def matches(self, method, path):
        return self.times > 0 and (self.method is None or self.method == method) and (
            self._pattern is None or self._pattern.search(path) is not None)

    def describe(self):
        return dict(self.opts, kind=self.kind, method=self.method, path_regex=self.path_regex, times=self.times)


class JsonHandler(BaseHTTPRequestHandler):
    """One JSON request in, one JSON answer out; the emulator decides both."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002 - signature fixed by BaseHTTPRequestHandler
        """Stay quiet: the request log is the record."""

    def do_GET(self):
        self._serve()

    def do_POST(self):
        self._serve()

    def do_PUT(self):
        self._serve()

    def do_PATCH(self):
        self._serve()

    def do_DELETE(self):
        self._serve()

    def _serve(self):
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        emulator = self.server.emulator
        if parts.path.startswith(CONTROL_PREFIX):
            status, payload = emulator.control(self.command, parts.path[len(CONTROL_PREFIX):], raw)
        else:
            status, payload = emulator.handle(self.command, parts.path, parts.query, raw)
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class LoopbackServer(ThreadingHTTPServer):
    """A threaded server that can end its keep-alive connections, so no handler outlives it."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.connections = set()
        self.connections_lock = threading.Lock()

    def process_request(self, request, client_address):
        with self.connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self):
        """End keep-alive connections so no handler thread outlives the server."""
        with self.connections_lock:
            connections = list(self.connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class JsonApiEmulator:
    """A local JSON API: ``start()``/``stop()`` or a context manager; ``url`` is ``http://127.0.0.1:PORT``.

    Subclasses set ``backend`` (an object with ``serve(method, path, query)``, ``error_body(EmulatorError)``,
    ``fault_error(kind, opts, path)`` and ``control(method, name, body)``) and ``name``.
    """

    name = "emulator"
    fault_kinds = ("rate_limit", "http_503", "http_error")

    def __init__(self, backend, port=0):
        self.backend = backend
        self._port = port
        self._server = None
        self._thread = None
        self._lock = threading.Lock()
        self._log = []
        self._faults = []

    def start(self):
        """Bind 127.0.0.1:port (0 picks a free port) and serve in a background thread; returns self."""
        if self._server is None:
            self._server = LoopbackServer((HOST, self._port), JsonHandler)
            self._server.emulator = self
            self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                            name="%s-http" % self.name, daemon=True)
            self._thread.start()
        return self

    def stop(self):
        """Stop serving and release the port."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        self._thread.join(timeout=5)
        self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    @property
    def url(self):
        if self._server is None:
            raise RuntimeError("the %s is not running; call start() first" % self.name)
        return "http://%s:%s" % (HOST, self._server.server_address[1])

    # ------------------------------------------------------------------ log and faults

    def requests(self):
        """The request log: dicts with method, path, query (dict) and status."""
        with self._lock:
            return [dict(entry) for entry in self._log]

    def clear_requests(self):
        with self._lock:
            count = len(self._log)
            self._log = []
            return count

    def inject(self, kind, method=None, path_regex=None, times=1, **opts):
        """Arm a fault for the next ``times`` requests matching ``method`` and ``path_regex`` (re.search):
        ``rate_limit`` (the API's own throttling answer), ``http_503``, or ``http_error`` (``code``, ``status``,
        ``reason``, ``message``)."""
        if kind not in self.fault_kinds:
            raise ControlError("unknown fault kind %r; accepted: %s" % (kind, ", ".join(self.fault_kinds)))
        fault = _Fault(kind, method, path_regex, times, opts)
        with self._lock:
            self._faults.append(fault)
        return fault.describe()

    def faults(self):
        with self._lock:
            return [fault.describe() for fault in self._faults if fault.times > 0]

    def clear_faults(self):
        with self._lock:
            self._faults = []

    def _take_fault(self, method, path):
        for fault in self._faults:
            if fault.matches(method, path):
                fault.times -= 1
                return fault
        return None

    # ------------------------------------------------------------------ serving

    def handle(self, method, path, query_string, raw):
        """Serve one API request: (HTTP status, JSON body), logged."""
        query = dict(parse_qsl(query_string, keep_blank_values=True))
        with self._lock:
            try:
                fault = self._take_fault(method, path)
                if fault is not None:
                    raise self.backend.fault_error(fault.kind, fault.opts, path)
                status, payload = 200, self.backend.serve(method, path, query)
            except EmulatorError as err:
                status, payload = err.http_code, self.backend.error_body(err)
            except Exception as exc:  # a bug in the emulator: answer like a backend error, keep serving
                err = EmulatorError(500, "INTERNAL", "backendError", "%s error: %s: %s"
                                    % (self.name, type(exc).__name__, exc))
                status, payload = 500, self.backend.error_body(err)
            self._log.append({"method": method, "path": path, "query": query, "status": status})
        return status, payload

    def control(self, method, name, raw):
        """Serve /_emulator/<name> (never logged): health, requests, faults, then the backend's own."""
        try:
            body = json.loads(raw) if raw else {}
            if not isinstance(body, dict):
                raise ControlError("the body must be a JSON object")
            return 200, self._control(method, name.strip("/"), body)
        except (ControlError, ValueError, TypeError, KeyError) as exc:
            return 400, {"error": {"code": 400, "message": str(exc), "status": "INVALID_ARGUMENT"}}

    def _control(self, method, name, body):
        if name == "health" and method == "GET":
            return {"ok": True}
        if name == "requests" and method == "GET":
            return {"requests": self.requests()}
        if name == "requests" and method == "DELETE":
            return {"cleared": self.clear_requests()}
        if name == "faults" and method == "GET":
            return {"faults": self.faults()}
        if name == "faults" and method == "POST":
            return {"fault": self.inject(**body)}
        if name == "faults" and method == "DELETE":
            self.clear_faults()
            return {}
        with self._lock:
            return self.backend.control(method, name, body)


class SeededJsonApiEmulator(JsonApiEmulator):
    """A JsonApiEmulator whose backend starts from a data set: ``backend.seed(data)`` and ``control("GET",
    "state")``. ``seed`` is a dict or the path of a JSON file."""

    def __init__(self, backend, port=0, seed=None):
        super().__init__(backend, port=port)
        if seed is not None:
            self.seed(seed)

    def seed(self, data):
        """Replace the state with a data set (a dict, or a path to a JSON file)."""
        if isinstance(data, str):
            with open(data, encoding="utf-8") as handle:
                data = json.load(handle)
        with self._lock:
            self.backend.seed(data)

    def state(self):
        with self._lock:
            return self.backend.control("GET", "state", {})


def seeded_main(emulator_class, prog, description, argv=None):
    """The command line of a seeded stand-in: ``--port`` and ``--seed``, then serve until signalled."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 picks a free one)")
    parser.add_argument("--seed", help="JSON data set to serve (see README.md)")
    args = parser.parse_args(argv)
    return serve_until_signalled(emulator_class(port=args.port, seed=args.seed))


def serve_until_signalled(emulator):
    """Run ``emulator`` (started here) until SIGINT or SIGTERM, after printing its URL for whoever started it."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with emulator:
        print(emulator.url, flush=True)
        while not stop.wait(0.5):
            pass
    return 0

"""Replay recorded API responses over real HTTP, logging every request, for clients we cannot point at a live API.

``RecordedHttp`` maps "METHOD /path" to a list of (status, body) answers consumed in order (the last one repeats).
Unrouted requests get a 404 and are logged, so a test that misses a route fails on its assertions.
``RecordedKubeApi`` adds Kubernetes 1.33 discovery (tests/fixtures/recorded/k8s_discovery_1.33.json) and writes a
kubeconfig pointing at the server. Both are context managers bound to 127.0.0.1 on a free port.
"""

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

RECORDED = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fixtures", "recorded")


def recorded(name):
    """Load one recorded-responses file (JSON) from tests/fixtures/recorded."""
    with open(os.path.join(RECORDED, name)) as handle:
        return json.load(handle)


class RecordedHttp:
    """Serve recorded JSON responses and keep a log of the requests received."""

    not_found = {"error": {"code": 404, "message": "no recorded response"}}

    def __init__(self):
        self.routes = {}
        self.requests = []
        self._server = None
        self._thread = None

    def route(self, method_path, *answers):
        """Answer "METHOD /path" with (status, body) pairs, in order; the last one repeats."""
        self.routes[method_path] = list(answers)

    def calls(self, method=None):
        """'METHOD /path' of every request (optionally only one method), in order."""
        return ["%s %s" % (r["method"], r["path"]) for r in self.requests if method in (None, r["method"])]

    @property
    def port(self):
        return self._server.server_address[1]

    @property
    def endpoint(self):
        return "http://127.0.0.1:%d" % self.port

    def __enter__(self):
        api = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                api.requests.append({
                    "method": self.command, "path": parts.path, "query": dict(parse_qsl(parts.query)),
                    "content_type": self.headers.get("Content-Type"), "headers": dict((k.lower(), v) for k, v in self.headers.items()),
                    "body": body,
                })
                answers = api.routes.get("%s %s" % (self.command, parts.path))
                if answers:
                    status, payload = answers.pop(0) if len(answers) > 1 else answers[0]
                else:
                    status, payload = 404, api.not_found
                data = json.dumps(payload).encode() if payload is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PATCH = do_DELETE = do_POST = do_PUT = _answer

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class RecordedKubeApi(RecordedHttp):
    """A Kubernetes API stand-in: recorded discovery plus the routes a test adds."""

    not_found = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": "no recorded response",
                 "reason": "NotFound", "code": 404}

    def __init__(self):
        super().__init__()
        self.discovery = set()
        for key, body in recorded("k8s_discovery_1.33.json").items():
            if not key.startswith("_"):
                self.routes[key] = [(200, body)]
                self.discovery.add(key)

    def object_calls(self):
        """'METHOD /path' of every request except discovery, in order."""
        return [c for c in self.calls() if c not in self.discovery]

    def object_requests(self):
        """The full log entries of every request except discovery."""
        return [r for r in self.requests if "%s %s" % (r["method"], r["path"]) not in self.discovery]

    def kubeconfig(self, directory, token="replay-token"):
        """Write a kubeconfig pointing at this server; returns its path."""
        path = os.path.join(directory, "kubeconfig")
        config = {
            "apiVersion": "v1", "kind": "Config", "current-context": "replay",
            "clusters": [{"name": "replay", "cluster": {"server": self.endpoint}}],
            "users": [{"name": "replay", "user": {"token": token}}],
            "contexts": [{"name": "replay", "context": {"cluster": "replay", "user": "replay"}}],
        }
        with open(path, "w") as handle:
            json.dump(config, handle)
        return path

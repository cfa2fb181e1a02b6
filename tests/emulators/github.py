"""A stand-in for the part of GitHub that ARC's controller talks to, answering as ARC's github/actions client expects:

- ``POST /{repos/OWNER/REPO|orgs/ORG|enterprises/ENT}/actions/runners/registration-token`` with
  ``Authorization: Bearer <token>``: 201 ``{"token", "expires_at"}``; a token it does not know gets 401
  ``{"message": "Bad credentials"}``, a token without admin rights on that scope 403
  ``{"message": "Resource not accessible by personal access token"}``, an unknown scope 404 ``{"message": "Not Found"}``
  (GitHub's REST answers);
- ``POST /actions/runner-registration`` with ``Authorization: RemoteAuth <registration token>`` and
  ``{"url": config URL, "runner_event": "register"}``: 200 ``{"url": <Actions service URL>, "token": <admin token>}``;
  a registration token it did not issue (or one for another scope) gets 404 ``{"message": "Not Found"}``, as GitHub
  answers an expired registration token there (what runner users report for this endpoint);
- ``GET /actions-service/_apis/runtime/runnerscalesets/<id>`` with the admin token: the scale set
  (``id``, ``name``, ``runnerGroupId``, ``runnerGroupName``, ``labels`` of ``{"type", "name"}``), or 404.

Scale sets are registered in process (``register``), as ARC's controller stand-in does when GitHub accepts one.
Tokens are opaque random strings; nothing here reaches the real GitHub.
"""

import json
import re
import secrets
import threading
from datetime import datetime, timedelta, timezone

from tests.emulators.json_api import HOST, JsonHandler, LoopbackServer

SERVICE_PREFIX = "/actions-service/"
_SCOPE_RE = re.compile(r"^/(repos/[^/]+/[^/]+|orgs/[^/]+|enterprises/[^/]+)/actions/runners/registration-token$")
_SCALE_SET_RE = re.compile(r"^/actions-service/_apis/runtime/runnerscalesets/(\d+)$")


def scope_of(config_url):
    """The REST scope path of a configuration URL (https://github.com/ORG[/REPO] or .../enterprises/ENT)."""
    parts = [p for p in config_url.split("://", 1)[1].split("/")[1:] if p]
    if parts[0] == "enterprises":
        return "enterprises/%s" % parts[1]
    return "repos/%s/%s" % (parts[0], parts[1]) if len(parts) == 2 else "orgs/%s" % parts[0]


class _Handler(JsonHandler):
    """JsonHandler's shell; GitHub's answers depend on the Authorization header, which it passes on."""

    def _serve(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = self.path.split("?", 1)[0]
        status, payload = self.server.github.handle(self.command, path, self.headers.get("Authorization") or "", body)
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class GitHubStandIn:
    """``tokens``: {token: [scopes it administers]} (e.g. {"ghp_x": ["repos/org/repo"]}). A context manager;
    ``url`` is the REST API root to give as github_api_url."""

    def __init__(self, tokens):
        self.tokens = dict(tokens)
        self.scale_sets = {}
        self.requests = []
        self._registration = {}
        self._admin = set()
        self._next_id = 1
        self._lock = threading.Lock()
        self._server = None
        self._thread = None

    def __enter__(self):
        self._server = LoopbackServer((HOST, 0), _Handler)
        self._server.github = self
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        self._thread.join(timeout=5)

    @property
    def url(self):
        return "http://%s:%s" % (HOST, self._server.server_address[1])

    def register(self, config_url, name, labels=(), runner_group="Default"):
        """What GitHub does when ARC's controller creates a scale set: returns its id."""
        with self._lock:
            scale_set_id = self._next_id
            self._next_id += 1
            self.scale_sets[scale_set_id] = {
                "id": scale_set_id, "name": name, "runnerGroupId": 1, "runnerGroupName": runner_group,
                "labels": [{"type": "System", "name": label} for label in [name] + list(labels)],
                "runnerSetting": {"ephemeral": True, "disableUpdate": False}, "scope": scope_of(config_url)}
            return scale_set_id

    def handle(self, method, path, authorization, body):
        with self._lock:
            self.requests.append((method, path))
        scope = _SCOPE_RE.match(path)
        if method == "POST" and scope:
            token = authorization[len("Bearer "):] if authorization.startswith("Bearer ") else authorization[6:]
            if token not in self.tokens:
                return 401, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}
            if scope.group(1) not in self.tokens[token]:
                return 403, {"message": "Resource not accessible by personal access token",
                             "documentation_url": "https://docs.github.com/rest/actions/self-hosted-runners"}
            registration = secrets.token_hex(15).upper()
            self._registration[registration] = scope.group(1)
            expires = (datetime.now(timezone.utc) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000+00:00")
            return 201, {"token": registration, "expires_at": expires}
        if method == "POST" and path == "/actions/runner-registration":
            registration = authorization[len("RemoteAuth "):] if authorization.startswith("RemoteAuth ") else ""
            request = json.loads(body or b"{}")
            if registration not in self._registration or scope_of(request.get("url", "https://x/x")) != \
                    self._registration[registration]:
                # GitHub answers an unknown or expired registration token here with 404, not 401.
                return 404, {"message": "Not Found"}
            admin = secrets.token_hex(20)
            self._admin.add(admin)
            return 200, {"url": self.url + SERVICE_PREFIX, "token": admin, "token_schema": "OAuthAccessToken"}
        found = _SCALE_SET_RE.match(path)
        if method == "GET" and found:
            if authorization[len("Bearer "):] not in self._admin:
                return 401, {"message": "unauthorized"}
            scale_set = self.scale_sets.get(int(found.group(1)))
            if scale_set is None:
                return 404, {"message": "Runner scale set %s not found." % found.group(1)}
            return 200, dict((k, v) for k, v in scale_set.items() if k != "scope")
        return 404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}

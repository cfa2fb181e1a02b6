"""A front for fake-gcs-server that answers resumable upload sessions the way Cloud Storage does.

fake-gcs-server takes resumable uploads chunk by chunk, but two requests of the protocol go wrong there:

- the status check (``PUT`` of an empty body with ``Content-Range: bytes */SIZE``) is taken as the last chunk: it
  finishes the object with the bytes held so far, where Cloud Storage answers ``308`` with ``Range: bytes=0-N``
  (no ``Range`` when nothing is held) and keeps the session open
  (https://cloud.google.com/storage/docs/performing-resumable-uploads#status-check);
- cancelling (``DELETE`` of the session URI) answers ``499`` but keeps the session usable, where Cloud Storage
  forgets it: later requests on it answer ``4xx``
  (https://cloud.google.com/storage/docs/performing-resumable-uploads#cancel-upload).

``GcsSessionFront(upstream)`` listens on a free port of 127.0.0.1 and forwards every request to ``upstream`` (the
fake-gcs-server endpoint), except those two, which it answers itself from what it saw of each session: the bytes
acknowledged by the upstream's ``308`` answers, and the object once the upload finished. Session URIs in
``Location`` headers are rewritten to point at the front. ``.requests`` records (method, path, Content-Range) of
every request on an upload session, for tests. A chunk that does not start where the session stands is refused
with ``400`` rather than appended (the stager never sends one; Cloud Storage's answer to it is not relied on).
"""

import http.client
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler

from tests.emulators.hub import LocalFront, free_port

_HOP_HEADERS = ("host", "connection", "content-length", "transfer-encoding", "keep-alive", "date", "server")


def _error_body(code, message):
    return json.dumps({"error": {"code": code, "message": message,
                                 "errors": [{"domain": "global", "reason": "notFound" if code == 404 else "invalid",
                                             "message": message}]}}).encode()


class GcsSessionFront(LocalFront):
    """fake-gcs-server behind a front that keeps resumable sessions the way Cloud Storage does."""

    thread_name = "gcs-session-front"

    def __init__(self, upstream):
        self.upstream = upstream.rstrip("/")
        parsed = urllib.parse.urlparse(self.upstream)
        self._upstream_host, self._upstream_port = parsed.hostname, parsed.port
        self.port = free_port()
        self.sessions = {}  # upload_id -> {"name", "held": int, "object": dict or None, "cancelled": bool}
        self.requests = []
        self._lock = threading.Lock()

    def session_requests(self):
        """Recorded (method, path, Content-Range) of requests on upload sessions."""
        with self._lock:
            return list(self.requests)

    def _forward(self, method, path, headers, body):
        conn = http.client.HTTPConnection(self._upstream_host, self._upstream_port, timeout=120)
        try:
            forwarded = {k: v for k, v in headers.items() if k.lower() not in _HOP_HEADERS}
            forwarded["Host"] = "%s:%s" % (self._upstream_host, self._upstream_port)
            forwarded["Content-Length"] = str(len(body))
            conn.request(method, path, body=body, headers=forwarded)
            response = conn.getresponse()
            return response.status, response.reason, response.getheaders(), response.read()
        finally:
            conn.close()

    def _session_answer(self, method, upload_id, content_range, body):
        """(status, headers, body) when the front answers itself, else None (forward, then note())."""
        with self._lock:
            self.requests.append((method, upload_id, content_range))
            session = self.sessions.setdefault(upload_id, {"name": "", "held": 0, "object": None,
                                                           "cancelled": False})
            if session["cancelled"]:
                return 404, {}, _error_body(404, "No such upload session")
            if method == "DELETE":
                session["cancelled"] = True
                return 499, {}, _error_body(499, "Client Closed Request")
            if session["object"] is not None:
                return 200, {}, json.dumps(session["object"]).encode()
            if not body and content_range.startswith("bytes */"):
                headers = {"Range": "bytes=0-%d" % (session["held"] - 1)} if session["held"] else {}
                return 308, headers, b""
            start = content_range[len("bytes "):].split("-", 1)[0]
            if start.isdigit() and int(start) != session["held"]:
                return 400, {}, _error_body(400, "chunk starts at %s, the session holds %d bytes"
                                            % (start, session["held"]))
        return None

    def _opened(self, headers):
        """Register the session a resumable upload's initiation answered with (its Location)."""
        location = dict((k.lower(), v) for k, v in headers).get("location")
        if not location:
            return
        query = urllib.parse.parse_qs(urllib.parse.urlparse(location).query)
        upload_id = (query.get("upload_id") or [None])[0]
        if upload_id:
            with self._lock:
                self.sessions[upload_id] = {"name": (query.get("name") or [""])[0], "held": 0, "object": None,
                                            "cancelled": False}

    def _note(self, upload_id, status, headers, body):
        with self._lock:
            session = self.sessions[upload_id]
            if status == 308:
                held = dict((k.lower(), v) for k, v in headers).get("range")
                session["held"] = int(held.rsplit("-", 1)[1]) + 1 if held else session["held"]
            elif status in (200, 201):
                session["object"] = json.loads(body.decode() or "{}")

    def _handler_class(self):
        front = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                return

            def _body(self):
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    data = b""
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            self.rfile.readline()
                            return data
                        data += self.rfile.read(size)
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _reply(self, status, headers, body, reason=None):
                self.send_response(status, reason)
                for key, value in headers:
                    if key.lower() in _HOP_HEADERS:
                        continue
                    if key.lower() == "location":
                        value = value.replace(front.upstream, front.endpoint)
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _handle(self):
                body = self._body()
                query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
                upload_id = (query.get("upload_id") or [None])[0]
                if upload_id and self.command in ("PUT", "POST", "DELETE"):
                    answer = front._session_answer(self.command, upload_id, self.headers.get("Content-Range", ""),
                                                   body)
                    if answer is not None:
                        status, headers, data = answer
                        headers = dict(headers, **({"Content-Type": "application/json"} if data else {}))
                        self._reply(status, list(headers.items()), data)
                        return
                status, reason, headers, data = front._forward(self.command, self.path, self.headers, body)
                if upload_id:
                    front._note(upload_id, status, headers, data)
                elif query.get("uploadType") == ["resumable"] and self.command == "POST":
                    front._opened(headers)
                self._reply(status, headers, data, reason)

            do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = do_HEAD = _handle

        return Handler

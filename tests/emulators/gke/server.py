"""HTTP shell around GkeBackend: the container.googleapis.com v1 REST surface plus the /_emulator/ control API."""

import json
import threading

from ..json_api import HOST, JsonHandler, LoopbackServer
from .backend import GkeBackend
from .errors import ApiError


class GkeEmulator:
    """A local container.googleapis.com v1 (REST) for tests.

    ``GkeEmulator(port=0, operation_seconds=0.2, state_file=None, kube=None, scale_down_seconds=10)``;
    ``start()``/``stop()`` or use it as a context manager; ``url`` is ``http://127.0.0.1:PORT``, ready for
    ``client_options={"api_endpoint": emu.url}``.

    With ``kube`` (a running tests.emulators.kube.LocalControlPlane) clusters answer with its endpoint and CA, the
    node pools' nodes appear in it as kwok nodes, and pending pods make autoscaled pools grow (nodes.py).
    """

    def __init__(self, port=0, operation_seconds=0.2, state_file=None, kube=None, scale_down_seconds=10.0):
        control_plane = (kube.endpoint, kube.ca_base64) if kube else None
        self.backend = GkeBackend(operation_seconds=operation_seconds, state_file=state_file,
                                  control_plane=control_plane)
        self.kube = kube
        self.nodes = self.autoscaler = None
        self.node_errors = []  # the node loop's last failures (an API server that is stopping), for reports
        self._node_round = threading.Lock()
        if kube is not None:
            from .nodes import NodeMirror, ScaleFromZero

            self.nodes = NodeMirror(self.backend, kube)
            self.autoscaler = ScaleFromZero(self.nodes, scale_down_seconds=scale_down_seconds)
        self._port = port
        self._server = None
        self._threads = []
        self._stopping = threading.Event()

    # --------------------------------------------------------------- lifecycle

    def start(self):
        """Bind 127.0.0.1:port (0 picks a free port) and serve in background threads; returns self."""
        if self._server is not None:
            return self
        self._server = LoopbackServer((HOST, self._port), JsonHandler)
        self._server.emulator = self
        self._stopping.clear()
        serve = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                 name="gke-emulator-http", daemon=True)
        ticker = threading.Thread(target=self._tick_loop, name="gke-emulator-ticker", daemon=True)
        self._threads = [serve, ticker]
        if self.nodes is not None:
            self._threads.append(threading.Thread(target=self._node_loop, name="gke-emulator-nodes", daemon=True))
        for thread in self._threads:
            thread.start()
        return self

    def stop(self):
        """Stop serving and release the port."""
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._server = None
        self._threads = []

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def _tick_loop(self):
        # Complete operations on time even when nobody polls, so the state file follows along.
        while not self._stopping.is_set():
            wait = self.backend.next_deadline()
            self._stopping.wait(0.5 if wait is None else min(0.5, wait + 0.001))
            self.backend.tick()

    def _node_loop(self):
        # Nodes follow the pools; the autoscaler acts on what the scheduler could not place.
        while not self._stopping.wait(0.5):
            try:
                self.sync_nodes()
            except Exception as exc:  # the API server may be stopping; the next round retries
                self.node_errors.append(repr(exc))
                del self.node_errors[:-20]

    def sync_nodes(self):
        """One round of the node mirror and the autoscaler (the background thread runs this twice a second)."""
        with self._node_round:
            self.nodes.sync()
            if self.autoscaler.scale_up() or self.autoscaler.scale_down():
                self.nodes.sync()

    @property
    def port(self):
        return self._server.server_address[1] if self._server else None

    @property
    def url(self):
        port = self.port
        if port is None:
            raise RuntimeError("the GKE emulator is not running; call start() first")
        return "http://%s:%s" % (HOST, port)

    # ------------------------------------------------------------ Python API

    def requests(self):
        """The request log: dicts with method, path, query (dict), body (parsed JSON or None) and status."""
        return self.backend.requests()

    def clear_requests(self):
        return self.backend.clear_requests()

    def inject(self, kind, method=None, path_regex=None, times=1, **opts):
        """Arm a fault (see README: http_429, http_503, http_error, incompatible_operation, operation_failed,
        slow_operation) for the next ``times`` matching requests; returns its description."""
        return self.backend.inject(kind, method=method, path_regex=path_regex, times=times, **opts)

    def faults(self):
        return self.backend.list_faults()

    def clear_faults(self):
        self.backend.clear_faults()

    def advance(self, seconds):
        """Move the emulator's clock forward by ``seconds``: operations due by then complete at once.

        Lets a test hold an operation open (``inject("slow_operation")``), look at the in-between state, then
        finish it without sleeping."""
        self.backend.advance(seconds)

    def reset(self):
        """Forget all clusters, operations, quotas, faults and logged requests."""
        self.backend.reset()

    def set_quota(self, region, metric, limit):
        """Limit a quota metric (e.g. "TPUS_V6E", "NVIDIA_L4_GPUS") in a region; limit None removes it."""
        self.backend.set_quota(region, metric, limit)

    def quotas(self):
        return self.backend.quota_report()

    def add_resource_policy(self, region, name, accelerator_topology=None, project=None):
        """Declare a Compute Engine resource policy that node pools may name in ``placement_policy.policy_name``:
        a workload policy for 7x / 7 slices (``accelerator_topology`` such as "2x2x2") or a compact placement
        policy (no topology). ``project`` None means every project the emulator serves."""
        self.backend.add_resource_policy(project or "*", region, name, accelerator_topology)

    def resource_policies(self):
        return self.backend.list_resource_policies()

    def state(self):
        """Clusters (with node pools), operations, quotas and node counts, with enums as strings."""
        return self.backend.snapshot()

    # ------------------------------------------------------------ HTTP

    def handle(self, method, path, query_string, raw):
        """Serve one API request: (HTTP status, JSON body), logged by the backend."""
        return self.backend.handle(method, path, query_string, raw)

    def control(self, method, name, raw):
        """Serve /_emulator/<name>; these requests are not logged."""
        try:
            body = json.loads(raw) if raw else {}
            if not isinstance(body, dict):
                raise ValueError("the body must be a JSON object")
            return 200, self._control(method, name.strip("/"), body)
        except ApiError as err:
            return err.http_code, err.body()
        except (ValueError, TypeError) as err:
            return 400, ApiError("INVALID_ARGUMENT", str(err)).body()

    def _control(self, method, name, body):
        if name == "health" and method == "GET":
            return {"ok": True}
        if name == "requests":
            if method == "GET":
                return {"requests": self.requests()}
            if method == "DELETE":
                return {"cleared": self.clear_requests()}
        if name == "faults":
            if method == "GET":
                return {"faults": self.faults()}
            if method == "POST":
                if "kind" not in body:
                    raise ValueError("a fault needs a 'kind'")
                return {"fault": self.inject(**body)}
            if method == "DELETE":
                self.clear_faults()
                return {}
        if name == "advance" and method == "POST":
            self.advance(float(body.get("seconds", 0)))
            return {}
        if name == "reset" and method == "POST":
            self.reset()
            return {}
        if name == "state" and method == "GET":
            return self.state()
        if name == "quota":
            if method == "GET":
                return {"quotas": self.quotas()}
            if method == "POST":
                for key in ("region", "metric"):
                    if not body.get(key):
                        raise ValueError("a quota needs '%s'" % key)
                self.set_quota(body["region"], body["metric"], body.get("limit"))
                return {"quotas": self.quotas()}
        if name == "resource_policies":
            if method == "GET":
                return {"resource_policies": self.resource_policies()}
            if method == "POST":
                for key in ("region", "name"):
                    if not body.get(key):
                        raise ValueError("a resource policy needs '%s'" % key)
                self.add_resource_policy(body["region"], body["name"], body.get("accelerator_topology"),
                                         body.get("project"))
                return {"resource_policies": self.resource_policies()}
        raise ApiError("NOT_FOUND", "No emulator control endpoint %s /_emulator/%s." % (method, name))

"""The emulator's state and behaviour: clusters, node pools, operations, quotas, faults and the request log.

Everything is guarded by one lock. Resources are kept as raw protobuf messages of the types in
``google.cloud.container_v1.types`` (a cluster carries its node pools in ``node_pools``), so requests are parsed and
replies written by ``google.protobuf.json_format`` exactly as the client library expects.

Operation model: every mutation installs a "during" snapshot at once (PROVISIONING / RECONCILING / STOPPING) and
records the "after" snapshot in its operation. The operation is PENDING for the first quarter of its duration,
RUNNING until the duration has passed on the monotonic clock, then DONE; the "after" snapshot is installed when it
completes (or a "failed" / "before" snapshot when it fails). Completion is applied by a ticker thread and before
every request, so a client never sees a DONE operation whose change is not visible.
"""

import json
import os
import re
import secrets
import threading
import time
from datetime import datetime, timezone
from urllib.parse import parse_qsl

from google.cloud.container_v1 import types
from google.protobuf import empty_pb2, json_format

from . import resources as res
from .errors import ApiError, already_exists, failed_precondition, invalid_argument, not_found, rpc_code
from .machines import region_of

STATE_FORMAT = 1

OP = types.Operation.Type
OP_STATUS = types.Operation.Status
POOL_STATUS = types.NodePool.Status
CLUSTER_STATUS = types.Cluster.Status

FAULT_KINDS = ("http_429", "http_503", "http_error", "incompatible_operation", "operation_failed", "slow_operation")
_SYNC_FAULTS = ("http_429", "http_503", "http_error", "incompatible_operation")
_MUTATING = ("POST", "PUT", "DELETE", "PATCH")

# UpdateNodePoolRequest fields GKE counts as a change, in the order its error message lists them.
NODE_POOL_UPDATE_FIELDS = [
    "node_version", "image_type", "updated_node_pool", "locations", "workload_metadata_config", "upgrade_settings",
    "kubelet_config", "linux_node_config", "tags", "taints", "labels", "node_network_config", "gcfs_config", "gvnic",
    "confidential_nodes", "logging_config", "fast_socket", "resource_labels", "accelerators", "windows_node_config",
    "machine_type", "disk_type", "disk_size_gb", "boot_disk", "storage_pools", "containerd_config",
    "resource_manager_tags", "performance_monitoring_unit", "queued_provisioning", "max_run_duration", "flex_start",
]
# Request fields that name the target or guard the write rather than change anything.
_UPDATE_POOL_IDENTITY = {"project_id", "zone", "cluster_id", "node_pool_id", "name", "etag"}
# UpdateNodePoolRequest field -> (message the value goes to, field there, sub-field to unwrap)
_POOL_UPDATE_TARGETS = {
    "image_type": ("config", "image_type", None),
    "workload_metadata_config": ("config", "workload_metadata_config", None),
    "upgrade_settings": ("pool", "upgrade_settings", None),
    "tags": ("config", "tags", "tags"),
    "taints": ("config", "taints", "taints"),
    "labels": ("config", "labels", "labels"),
    "resource_labels": ("config", "resource_labels", "labels"),
    "linux_node_config": ("config", "linux_node_config", None),
    "kubelet_config": ("config", "kubelet_config", None),
    "node_network_config": ("pool", "network_config", None),
    "gcfs_config": ("config", "gcfs_config", None),
    "confidential_nodes": ("config", "confidential_nodes", None),
    "gvnic": ("config", "gvnic", None),
    "fast_socket": ("config", "fast_socket", None),
    "logging_config": ("config", "logging_config", None),
    "windows_node_config": ("config", "windows_node_config", None),
    "accelerators": ("config", "accelerators", None),
    "machine_type": ("config", "machine_type", None),
    "disk_type": ("config", "disk_type", None),
    "disk_size_gb": ("config", "disk_size_gb", None),
    "resource_manager_tags": ("config", "resource_manager_tags", None),
    "containerd_config": ("config", "containerd_config", None),
    "queued_provisioning": ("pool", "queued_provisioning", None),
    "storage_pools": ("config", "storage_pools", None),
    "max_run_duration": ("config", "max_run_duration", None),
    "flex_start": ("config", "flex_start", None),
    "boot_disk": ("config", "boot_disk", None),
    "node_drain_config": ("pool", "node_drain_config", None),
    "consolidation_delay": ("config", "consolidation_delay", None),
    "taint_config": ("config", "taint_config", None),
    "maintenance_policy": ("pool", "maintenance_policy", None),
}

_PROJECT = r"/v1/projects/(?P<project>[^/:]+)"
_LOC = _PROJECT + r"/(?P<form>locations|zones)/(?P<location>[^/:]+)"
_CLUSTER = _LOC + r"/clusters/(?P<cluster>[^/:]+)"
_POOL = _CLUSTER + r"/nodePools/(?P<pool>[^/:]+)"
_OPERATION = _LOC + r"/operations/(?P<operation>[^/:]+)"
_BOTH = ("locations", "zones")

# (HTTP method, path pattern, handler, request message, path forms that carry this route)
ROUTES = [
    ("GET", _LOC + "/clusters", "list_clusters", types.ListClustersRequest, _BOTH),
    ("POST", _LOC + "/clusters", "create_cluster", types.CreateClusterRequest, _BOTH),
    ("GET", _CLUSTER, "get_cluster_route", types.GetClusterRequest, _BOTH),
    ("PUT", _CLUSTER, "update_cluster", types.UpdateClusterRequest, _BOTH),
    ("DELETE", _CLUSTER, "delete_cluster", types.DeleteClusterRequest, _BOTH),
    ("POST", _CLUSTER + ":setResourceLabels", "set_labels", types.SetLabelsRequest, ("locations",)),
    ("POST", _CLUSTER + "/resourceLabels", "set_labels", types.SetLabelsRequest, ("zones",)),
    ("GET", _CLUSTER + "/nodePools", "list_node_pools", types.ListNodePoolsRequest, _BOTH),
    ("POST", _CLUSTER + "/nodePools", "create_node_pool", types.CreateNodePoolRequest, _BOTH),
    ("GET", _POOL, "get_node_pool", types.GetNodePoolRequest, _BOTH),
    ("PUT", _POOL, "update_node_pool", types.UpdateNodePoolRequest, ("locations",)),
    ("POST", _POOL + "/update", "update_node_pool", types.UpdateNodePoolRequest, ("zones",)),
    ("DELETE", _POOL, "delete_node_pool", types.DeleteNodePoolRequest, _BOTH),
    ("POST", _POOL + ":setAutoscaling", "set_autoscaling", types.SetNodePoolAutoscalingRequest, ("locations",)),
    ("POST", _POOL + "/autoscaling", "set_autoscaling", types.SetNodePoolAutoscalingRequest, ("zones",)),
    ("POST", _POOL + ":setSize", "set_size", types.SetNodePoolSizeRequest, ("locations",)),
    ("POST", _POOL + "/setSize", "set_size", types.SetNodePoolSizeRequest, ("zones",)),
    ("POST", _POOL + ":setManagement", "set_management", types.SetNodePoolManagementRequest, ("locations",)),
    ("POST", _POOL + "/setManagement", "set_management", types.SetNodePoolManagementRequest, ("zones",)),
    ("GET", _LOC + "/serverConfig", "get_server_config", types.GetServerConfigRequest, ("locations",)),
    ("GET", _LOC + "/serverconfig", "get_server_config", types.GetServerConfigRequest, ("zones",)),
    ("GET", _LOC + "/operations", "list_operations", types.ListOperationsRequest, _BOTH),
    ("GET", _OPERATION, "get_operation", types.GetOperationRequest, _BOTH),
    ("POST", _OPERATION + ":cancel", "cancel_operation", types.CancelOperationRequest, _BOTH),
]
_COMPILED_ROUTES = [(m, re.compile(p), h, t.pb(), f) for m, p, h, t, f in ROUTES]


def _now_rfc3339():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _is_repeated(field):
    # protobuf 5.28+ has is_repeated; older releases only have label.
    if hasattr(field, "is_repeated"):
        return field.is_repeated
    return field.label == field.LABEL_REPEATED


def _snake(name):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _dict_of(message, int_enums=False):
    return json_format.MessageToDict(message, use_integers_for_enums=int_enums, preserving_proto_field_name=False)


def _parse_error(exc):
    """Rewrite a json_format.ParseError in the words of the real API's JSON-to-proto layer."""
    text = str(exc)
    unknown = re.search(r'has no field named "([^"]+)" at "([^"]+)"', text)
    if unknown:
        name, where = unknown.groups()
        path = ".".join(_snake(p) for p in where.split(".")[1:])
        at = " at '%s'" % path if path else ""
        message = "Invalid JSON payload received. Unknown name \"%s\"%s: Cannot find field." % (name, at)
        return invalid_argument(message, path or None)
    enum = re.search(r"Invalid enum value (\S+) for enum type (\S+) at (\S+?)\.*$", text, re.S)
    if enum:
        value, enum_type, where = enum.groups()
        path = ".".join(_snake(p) for p in where.split(".")[1:])
        message = "Invalid value at '%s' (type.googleapis.com/%s), \"%s\"" % (path, enum_type, value)
        return invalid_argument(message, path)
    if text.startswith("Failed to load JSON"):
        return invalid_argument("Invalid JSON payload received. %s" % text)
    return invalid_argument("Invalid JSON payload received. %s" % text.split("\n", maxsplit=1)[0])


def _apply_pool_update(cluster, pool, name, value):
    """Apply one field of an UpdateNodePoolRequest to a node pool."""
    if name == "node_version":
        pool.version = cluster.current_master_version if value in ("-", "latest") else value
        return
    if name == "locations":
        del pool.locations[:]
        pool.locations.extend(value)
        return
    target_kind, target_name, unwrap = _POOL_UPDATE_TARGETS.get(name, ("config", name, None))
    target = pool if target_kind == "pool" else pool.config
    if unwrap:
        value = getattr(value, unwrap)
    field = target.DESCRIPTOR.fields_by_name.get(target_name)
    if field is None:
        raise ApiError("UNIMPLEMENTED", "UpdateNodePoolRequest.%s is not implemented by the GKE emulator." % name)
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        getattr(target, target_name).clear()
        getattr(target, target_name).update(dict(value))
    elif _is_repeated(field):
        del getattr(target, target_name)[:]
        getattr(target, target_name).extend(value)
    elif field.message_type is not None:
        getattr(target, target_name).CopyFrom(value)
    else:
        setattr(target, target_name, value)


class Fault:
    """One injected fault: what it does, which requests it matches, how many more times it fires."""

    def __init__(self, fault_id, kind, method=None, path_regex=None, times=1, **opts):
        if kind not in FAULT_KINDS:
            raise ValueError("unknown fault kind %r; expected one of %s" % (kind, ", ".join(FAULT_KINDS)))
        self.id = fault_id
        self.kind = kind
        self.method = method.upper() if method else None
        self.path_regex = path_regex
        self._pattern = re.compile(path_regex) if path_regex else None
        self.times = int(times)
        self.opts = opts

    def matches(self, method, path):
        if self.times <= 0:
            return False
        if self.method and self.method != method:
            return False
        if self.method is None and self.kind == "incompatible_operation" and method not in _MUTATING:
            return False
        return not self._pattern or bool(self._pattern.search(path))

    def describe(self):
        return {"id": self.id, "kind": self.kind, "method": self.method, "path_regex": self.path_regex,
                "times": self.times, "opts": dict(self.opts)}


class _Operation:
    """An operation and the change it applies when it completes."""

    def __init__(self, **fields):
        self.name = fields["name"]
        self.project = fields["project"]
        self.location = fields["location"]
        self.op_type = fields["op_type"]
        self.target_link = fields["target_link"]
        self.self_link = fields["self_link"]
        self.start_time = fields["start_time"]
        self.end_time = fields.get("end_time")
        self.cluster_key = tuple(fields["cluster_key"])
        self.started = fields["started"]
        self.duration = fields["duration"]
        self.done = fields.get("done", False)
        self.error = fields.get("error")              # {"code", "message"} once failed
        self.failure = fields.get("failure")          # {"code", "message"} to report when it completes
        self.scope = fields["scope"]                  # "cluster" or "pool"
        self.pool = fields.get("pool")
        self.before = fields.get("before")
        self.after = fields.get("after")
        self.failed = fields.get("failed")            # snapshot installed on failure; None -> "before"
        self.detail = fields.get("detail", "")
        self.node_count = fields.get("node_count")    # [project, location, cluster, pool, per-zone count] for setSize


class GkeBackend:
    """State and request handling for the emulator; the HTTP server is a thin shell around ``handle``."""

    def __init__(self, operation_seconds=0.2, state_file=None, clock=time.monotonic, control_plane=None):
        self.operation_seconds = float(operation_seconds)
        # (endpoint, base64 CA) of a local Kubernetes control plane that new clusters answer with, or None.
        self.control_plane = control_plane
        self.state_file = state_file
        self._clock = clock
        self._skipped = 0.0  # seconds added by advance()
        self.lock = threading.RLock()
        self._fault_ids = 0
        self._clear()
        if state_file and os.path.exists(state_file):
            self._load()

    # ----------------------------------------------------------------- state

    def _clear(self):
        self.clusters = {}          # (project, location, name) -> Cluster pb, node pools inside
        self.operations = {}        # name -> _Operation, in creation order
        self.quotas = {}            # (region, metric) -> limit
        self.node_counts = {}       # (project, location, cluster, pool) -> per-zone size set by :setSize
        self.resource_policies = {}  # (project, region, name) -> accelerator topology ("" for a compact policy)
        self.faults = []
        self.request_log = []

    def _now(self):
        return self._clock() + self._skipped

    def advance(self, seconds):
        """Move the emulator's clock forward: operations due by then complete now."""
        if seconds < 0:
            raise ValueError("seconds must not be negative")
        with self.lock:
            self._skipped += float(seconds)
            self._advance()

    def reset(self):
        """Forget every cluster, operation, quota, fault and logged request."""
        with self.lock:
            self._clear()
            self._save()

    def set_quota(self, region, metric, limit):
        """Set (or with limit None, remove) the limit of a quota metric in a region."""
        with self.lock:
            if limit is None:
                self.quotas.pop((region, metric), None)
            else:
                self.quotas[(region, metric)] = float(limit)
            self._save()

    def quota_report(self):
        """Every configured limit with the usage the emulator counts against it (all projects together)."""
        with self.lock:
            self._advance()
            usage = {}
            for project, region, metric, amount in self._usages():
                usage[(region, metric)] = usage.get((region, metric), 0) + amount
            keys = sorted(set(self.quotas) | set(usage))
            return [{"region": r, "metric": m, "limit": self.quotas.get((r, m)), "usage": usage.get((r, m), 0)}
                    for r, m in keys]

    def inject(self, kind, method=None, path_regex=None, times=1, **opts):
        """Add a fault; returns its description."""
        with self.lock:
            self._fault_ids += 1
            fault = Fault(self._fault_ids, kind, method, path_regex, times, **opts)
            self.faults.append(fault)
            return fault.describe()

    def list_faults(self):
        with self.lock:
            return [f.describe() for f in self.faults if f.times > 0]

    def clear_faults(self):
        with self.lock:
            self.faults = []

    def requests(self):
        with self.lock:
            return json.loads(json.dumps(self.request_log))

    def clear_requests(self):
        with self.lock:
            count = len(self.request_log)
            self.request_log = []
            return count

    def snapshot(self):
        """Clusters (with node pools), operations, quotas and node counts, with enums as strings."""
        with self.lock:
            self._advance()
            return {
                "clusters": [_dict_of(c) for c in self.clusters.values()],
                "operations": [_dict_of(self._operation_pb(op)) for op in self.operations.values()],
                "quotas": self.quota_report(),
                "nodeCounts": [{"cluster": "/".join(k[:3]), "nodePool": k[3], "perZone": v}
                               for k, v in sorted(self.node_counts.items())],
                "resourcePolicies": self.list_resource_policies(),
            }

    # ------------------------------------------------------------ persistence

    def _save(self):
        if not self.state_file:
            return
        now = self._now()
        operations = []
        for op in self.operations.values():
            entry = {k: getattr(op, k) for k in (
                "name", "project", "location", "op_type", "target_link", "self_link", "start_time", "end_time",
                "done", "error", "failure", "scope", "pool", "detail", "node_count")}
            entry["cluster_key"] = list(op.cluster_key)
            entry["remaining"] = max(0.0, op.started + op.duration - now)
            for key in ("before", "after", "failed"):
                snap = getattr(op, key)
                entry[key] = None if snap is None else _dict_of(snap)
            operations.append(entry)
        data = {
            "format": STATE_FORMAT,
            "clusters": [_dict_of(c) for c in self.clusters.values()],
            "cluster_keys": [list(k) for k in self.clusters],
            "operations": operations,
            "quotas": [{"region": r, "metric": m, "limit": v} for (r, m), v in self.quotas.items()],
            "node_counts": [[list(k), v] for k, v in self.node_counts.items()],
            "resource_policies": [[list(k), v] for k, v in self.resource_policies.items()],
        }
        tmp = "%s.tmp-%d" % (self.state_file, os.getpid())
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=1, sort_keys=True)
        os.replace(tmp, self.state_file)

    def _load(self):
        with open(self.state_file, encoding="utf-8") as handle:
            data = json.load(handle)
        if data.get("format") != STATE_FORMAT:
            raise ValueError("unsupported state file format in %s" % self.state_file)
        cluster_pb = types.Cluster.pb()
        for key, body in zip(data["cluster_keys"], data["clusters"]):
            self.clusters[tuple(key)] = json_format.ParseDict(body, cluster_pb())
        now = self._now()
        for entry in data["operations"]:
            scope_type = cluster_pb if entry["scope"] == "cluster" else types.NodePool.pb()
            fields = dict(entry)
            for key in ("before", "after", "failed"):
                fields[key] = None if entry[key] is None else json_format.ParseDict(entry[key], scope_type())
            # Re-anchor the remaining time on this process's monotonic clock.
            fields["started"] = now
            fields["duration"] = entry.pop("remaining")
            self.operations[entry["name"]] = _Operation(**fields)
        for quota in data["quotas"]:
            self.quotas[(quota["region"], quota["metric"])] = quota["limit"]
        for key, value in data.get("node_counts", []):
            self.node_counts[tuple(key)] = value
        for key, value in data.get("resource_policies", []):
            self.resource_policies[tuple(key)] = value

    # ------------------------------------------------------------- operations

    def _new_operation_name(self):
        return "operation-%d-%s" % (int(time.time() * 1000), secrets.token_hex(4))

    def _op_status(self, op):
        if op.done:
            return OP_STATUS.DONE.value
        elapsed = self._now() - op.started
        if elapsed < op.duration / 4.0:
            return OP_STATUS.PENDING.value
        return OP_STATUS.RUNNING.value

    def _operation_pb(self, op):
        message = types.Operation.pb()(
            name=op.name, zone=op.location, location=op.location, operation_type=op.op_type,
            status=self._op_status(op), self_link=op.self_link, target_link=op.target_link,
            start_time=op.start_time, detail=op.detail)
        if op.end_time:
            message.end_time = op.end_time
        if op.error:
            message.error.code = op.error["code"]
            message.error.message = op.error["message"]
            message.status_message = op.error["message"]
        return message

    def next_deadline(self):
        """Seconds until the next operation completes, or None when none is running."""
        with self.lock:
            pending = [op.started + op.duration for op in self.operations.values() if not op.done]
            if not pending:
                return None
            return max(0.0, min(pending) - self._now())

    def tick(self):
        """Complete every operation whose time has come (called by the server's ticker thread)."""
        with self.lock:
            self._advance()

    def _advance(self):
        now = self._now()
        changed = False
        for op in list(self.operations.values()):
            if not op.done and now - op.started >= op.duration:
                self._complete(op, op.failure)
                changed = True
        if changed:
            self._save()

    def _complete(self, op, failure, cancelled=False):
        op.done = True
        op.end_time = _now_rfc3339()
        if failure:
            # A failed GKE operation carries the text in both error and detail (v1 Operation fields).
            op.error = {"code": failure["code"], "message": failure["message"]}
            op.detail = failure["message"]
            snapshot = op.before if cancelled or op.failed is None else op.failed
        else:
            snapshot = op.after
            if op.node_count:
                self.node_counts[tuple(op.node_count[:4])] = op.node_count[4]
        self._install(op, snapshot)

    def _install(self, op, snapshot):
        key = op.cluster_key
        if op.scope == "cluster":
            if snapshot is None:
                self.clusters.pop(key, None)
                for count_key in [k for k in self.node_counts if k[:3] == key]:
                    del self.node_counts[count_key]
            else:
                self.clusters[key] = res.copy_pb(snapshot)
            return
        cluster = self.clusters.get(key)
        if cluster is None:
            return
        pools = list(cluster.node_pools)
        names = [p.name for p in pools]
        if snapshot is None:
            if op.pool in names:
                del cluster.node_pools[names.index(op.pool)]
            self.node_counts.pop(key + (op.pool,), None)
            return
        if op.pool in names:
            cluster.node_pools[names.index(op.pool)].CopyFrom(snapshot)
        else:
            cluster.node_pools.add().CopyFrom(snapshot)

    def _busy_operation(self, key, pool=None):
        """A running operation that a new one on the cluster (pool None) or on one of its pools conflicts with.

        Operations on different node pools of one cluster run side by side (Terraform takes a cluster read lock and
        a per-pool lock; the v1 proto notes SET_NODE_POOL_MANAGEMENT may run concurrently); one pool takes one
        operation at a time, and the cluster itself takes one cluster-level operation at a time, never while a
        pool operation runs.
        """
        for op in self.operations.values():
            if op.done or op.cluster_key != key:
                continue
            if pool is None or op.scope == "cluster" or op.pool == pool:
                return op
        return None

    def _start_operation(self, ctx, op_type, key, scope, target_path, before, during, after, pool=None,
                         failed=None, failure=None, detail="", node_count=None):
        """Install the "during" snapshot and register the operation that will install "after"."""
        project, location, _cluster = key
        duration = self.operation_seconds
        slow = self._take_fault(("slow_operation",), ctx)
        if slow:
            duration = float(slow.opts.get("seconds", 30))
        forced = self._take_fault(("operation_failed",), ctx)
        if forced:
            failure = {"code": int(forced.opts.get("code", 13)),
                       "message": forced.opts.get("message", "Internal error.")}
            failed = None  # an injected failure changes nothing
        # Snapshots are private copies: "before" may be the very message the "during" snapshot overwrites.
        before, during, after, failed = (None if snap is None else res.copy_pb(snap)
                                         for snap in (before, during, after, failed))
        name = self._new_operation_name()
        form = res.link_form(location)
        op = _Operation(
            name=name, project=project, location=location, op_type=op_type,
            target_link=res.self_link(target_path(form)),
            self_link=res.self_link("%s/operations/%s" % (res.location_path(project, location, form), name)),
            start_time=_now_rfc3339(), cluster_key=key, started=self._now(), duration=duration,
            scope=scope, pool=pool, before=before, after=after, failed=failed, failure=failure, detail=detail,
            node_count=node_count)
        self.operations[name] = op
        self._install(op, during)
        if duration <= 0:
            self._complete(op, failure)
        self._save()
        return self._operation_pb(op)

    # ----------------------------------------------------------------- faults

    def _take_fault(self, kinds, ctx):
        method, path = ctx
        for fault in self.faults:
            if fault.kind in kinds and fault.matches(method, path):
                fault.times -= 1
                return fault
        return None

    def _sync_fault_error(self, fault, project):
        message = fault.opts.get("message")
        if fault.kind == "http_429":
            return ApiError("RESOURCE_EXHAUSTED", message or (
                "Quota exceeded for quota metric 'Requests' and limit 'Requests per minute' of service "
                "'container.googleapis.com' for consumer 'project_number:%s'." % _project_number(project)),
                details=[{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "RATE_LIMIT_EXCEEDED",
                          "domain": "googleapis.com",
                          "metadata": {"quota_metric": "container.googleapis.com/requests",
                                       "quota_limit": "RequestsPerMinutePerProject",
                                       "service": "container.googleapis.com",
                                       "consumer": "projects/%s" % _project_number(project)}}])
        if fault.kind == "http_503":
            return ApiError("UNAVAILABLE", message or "The service is currently unavailable.")
        if fault.kind == "incompatible_operation":
            return failed_precondition(
                message or "Cluster is running incompatible operation %s." % self._new_operation_name())
        status = fault.opts.get("status", "INTERNAL")
        return ApiError(status, message or "Internal error encountered.", http_code=fault.opts.get("code"))

    # ------------------------------------------------------------- dispatch

    def handle(self, method, raw_path, query_string, raw_body):
        """Serve one API request: returns (HTTP status, JSON-serialisable body) and logs it."""
        query = dict(parse_qsl(query_string, keep_blank_values=True))
        try:
            body_json = json.loads(raw_body) if raw_body else None
        except ValueError:
            body_json = None
        int_enums = "enum-encoding=int" in query.get("$alt", query.get("alt", ""))
        with self.lock:
            self._advance()
            try:
                status, payload = 200, self._dispatch(method, raw_path, query, raw_body, int_enums)
            except ApiError as err:
                status, payload = err.http_code, err.body()
            except Exception as exc:  # a bug in the emulator: answer like a backend error, keep serving
                err = ApiError("INTERNAL", "GKE emulator error: %s: %s" % (type(exc).__name__, exc))
                status, payload = err.http_code, err.body()
            self.request_log.append({"method": method, "path": raw_path, "query": query, "body": body_json,
                                     "status": status})
            return status, payload

    def _dispatch(self, method, path, query, raw_body, int_enums):
        project_match = re.match(_PROJECT, path)
        fault = self._take_fault(_SYNC_FAULTS, (method, path))
        if fault:
            raise self._sync_fault_error(fault, project_match.group("project") if project_match else "unknown")
        for route_method, pattern, handler, request_type, forms in _COMPILED_ROUTES:
            match = pattern.fullmatch(path)
            if not match or match.group("form") not in forms:
                continue
            if route_method != method:
                continue
            request = self._parse_request(request_type, method, query, raw_body)
            ids = match.groupdict()
            result = getattr(self, "_" + handler)(request, ids, (method, path))
            return _dict_of(result, int_enums)
        raise ApiError("NOT_FOUND", "The requested URL %s was not found on this server (method %s)." % (path, method))

    def _parse_request(self, request_type, method, query, raw_body):
        request = request_type()
        if raw_body and method in _MUTATING:
            try:
                json_format.Parse(raw_body.decode("utf-8") if isinstance(raw_body, bytes) else raw_body, request)
            except (json_format.ParseError, UnicodeDecodeError) as exc:
                raise _parse_error(exc) from None
        params = {k: v for k, v in query.items() if k.lstrip("$") not in ("alt", "prettyPrint", "key", "fields")}
        for name, value in params.items():
            field = request.DESCRIPTOR.fields_by_camelcase_name.get(name) or request.DESCRIPTOR.fields_by_name.get(name)
            if field is None or field.message_type is not None:
                raise invalid_argument(
                    "Invalid JSON payload received. Unknown name \"%s\": Cannot bind query parameter. Field '%s' "
                    "could not be found in request message." % (name, name))
            try:
                json_format.ParseDict({field.json_name: value}, request, ignore_unknown_fields=False)
            except json_format.ParseError as exc:
                raise _parse_error(exc) from None
        return request

    # --------------------------------------------------------------- lookups

    def _cluster_key(self, ids):
        return (ids["project"], ids["location"], ids["cluster"])

    def _get_cluster(self, ids):
        key = self._cluster_key(ids)
        cluster = self.clusters.get(key)
        if cluster is None:
            raise not_found(res.cluster_path(*key, form=ids["form"]))
        return key, cluster

    def _get_pool(self, ids, cluster):
        for pool in cluster.node_pools:
            if pool.name == ids["pool"]:
                return pool
        raise not_found(res.pool_path(ids["project"], ids["location"], ids["cluster"], ids["pool"], ids["form"]))

    def _check_not_busy(self, key, pool=None):
        op = self._busy_operation(key, pool)
        if op is not None:
            raise failed_precondition("Cluster is running incompatible operation %s." % op.name)

    def _pool_target(self, ids):
        return lambda form: res.pool_path(ids["project"], ids["location"], ids["cluster"], ids["pool"], form)

    def _cluster_target(self, key):
        return lambda form: res.cluster_path(*key, form=form)

    # -------------------------------------------------------------- clusters

    def _list_clusters(self, request, ids, ctx):
        response = types.ListClustersResponse.pb()()
        for (project, location, _name), cluster in self.clusters.items():
            if project == ids["project"] and ids["location"] in ("-", location):
                response.clusters.add().CopyFrom(cluster)
        return response

    def _get_cluster_route(self, request, ids, ctx):
        return self._get_cluster(ids)[1]

    def _create_cluster(self, request, ids, ctx):
        project, location = ids["project"], ids["location"]
        cluster = res.copy_pb(request.cluster)
        res.check_name(cluster.name, "cluster.name")
        key = (project, location, cluster.name)
        if key in self.clusters:
            raise already_exists(res.cluster_path(*key, form=ids["form"]))
        autopilot = cluster.autopilot.enabled
        if not autopilot:
            if cluster.node_pools and cluster.initial_node_count:
                raise invalid_argument(
                    "Cluster.initial_node_count and Cluster.node_pools are mutually exclusive; specify one of them.",
                    "cluster.initial_node_count")
            if not cluster.node_pools and cluster.initial_node_count <= 0:
                raise invalid_argument("Cluster.initial_node_count must be greater than zero.",
                                       "cluster.initial_node_count")
        if cluster.HasField("workload_identity_config"):
            res.check_workload_pool(project, cluster.workload_identity_config, "cluster.workload_identity_config")
        res.fill_cluster_defaults(project, location, cluster, _now_rfc3339(), "/".join(key))
        if self.control_plane:
            cluster.endpoint, cluster.master_auth.cluster_ca_certificate = self.control_plane
        else:
            cluster.master_auth.cluster_ca_certificate = res.cluster_ca_certificate()
        if not cluster.node_pools and cluster.initial_node_count:
            default_pool = cluster.node_pools.add()
            default_pool.name = "default-pool"
            default_pool.initial_node_count = cluster.initial_node_count
            default_pool.config.CopyFrom(cluster.node_config)
        names = [p.name for p in cluster.node_pools]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise invalid_argument("Node pool names must be unique; duplicated: %s." % ", ".join(duplicates),
                                   "cluster.node_pools")
        failure, failed_pool = self._prepare_cluster_pools(project, location, cluster)
        self._check_not_busy(key)
        after = res.copy_pb(cluster)
        after.status = CLUSTER_STATUS.RUNNING.value
        for pool in after.node_pools:
            pool.status = POOL_STATUS.RUNNING.value
            pool.etag = res.etag_of(pool)
        during = res.copy_pb(cluster)
        during.status = CLUSTER_STATUS.PROVISIONING.value
        for pool in during.node_pools:
            pool.status = POOL_STATUS.PROVISIONING.value
        failed = None
        failure_dict = None
        if failure:
            failure_dict = {"code": failure.code, "message": failure.message}
            failed = res.copy_pb(after)
            failed.status = CLUSTER_STATUS.ERROR.value
            failed.status_message = failure.message
            for pool in failed.node_pools:
                if pool.name == failed_pool:
                    pool.status = POOL_STATUS.ERROR.value
                    pool.status_message = failure.message
        return self._start_operation(ctx, OP.CREATE_CLUSTER.value, key, "cluster", self._cluster_target(key),
                                     before=None, during=during, after=after, failed=failed, failure=failure_dict)

    def _prepare_cluster_pools(self, project, location, cluster):
        """Validate, fill in and charge quota for the pools of a new cluster; returns (AsyncFailure, pool name)."""
        failure = None
        failed_pool = None
        new_uses = []
        # GKE leaves the GPU taint off when every pool of a new cluster has GPUs (terraform-google-kubernetes-engine
        # 703, quoting the GKE docs).
        gpu_taint = not all(res.is_gpu_pool(p.config) for p in cluster.node_pools)
        for index, pool in enumerate(cluster.node_pools):
            field = "cluster.node_pools[%d]" % index
            self._resolve_placement_policy(project, location, pool, field)
            problem = res.validate_pool(cluster, pool, field)
            if problem and failure is None:
                failure, failed_pool = problem, pool.name
            res.fill_pool_defaults(project, cluster, pool, gpu_taint=gpu_taint)
            new_uses += res.quota_uses(cluster, pool, pool.initial_node_count)
        self._check_quota(project, location, new_uses)
        return failure, failed_pool

    def _update_cluster(self, request, ids, ctx):
        key, cluster = self._get_cluster(ids)
        update = request.update
        changes = [f.name for f, _v in update.ListFields() if f.name not in ("desired_node_pool_id", "etag")]
        if not changes:
            raise invalid_argument("Update must specify exactly one change; the ClusterUpdate is empty.", "update")
        if len(changes) > 1:
            raise invalid_argument(
                "Only one update can be applied to a cluster with each request; got %d: %s."
                % (len(changes), ", ".join(changes)), "update")
        self._check_not_busy(key)
        after = res.copy_pb(cluster)
        op_type = self._apply_cluster_update(ids, after, update, changes[0])
        after.status = CLUSTER_STATUS.RUNNING.value
        during = res.copy_pb(cluster)
        during.status = CLUSTER_STATUS.RECONCILING.value
        return self._start_operation(ctx, op_type, key, "cluster", self._cluster_target(key),
                                     before=cluster, during=during, after=after)

    def _update_target_pool(self, ids, cluster, update):
        if update.desired_node_pool_id:
            return self._get_pool(dict(ids, pool=update.desired_node_pool_id), cluster)
        if len(cluster.node_pools) != 1:
            raise invalid_argument("Node pool id must be specified if cluster has more than one node pool.",
                                   "update.desired_node_pool_id")
        return cluster.node_pools[0]

    def _apply_cluster_update(self, ids, cluster, update, change):
        """Apply the one change of a ClusterUpdate to ``cluster``; returns the operation type."""
        project = ids["project"]
        if change == "desired_master_version":
            version = update.desired_master_version
            cluster.current_master_version = res.DEFAULT_VERSION if version in ("-", "latest") else version
            return OP.UPGRADE_MASTER.value
        if change in ("desired_node_version", "desired_image_type", "desired_node_pool_autoscaling"):
            pool = self._update_target_pool(ids, cluster, update)
            if change == "desired_node_version":
                version = update.desired_node_version
                pool.version = cluster.current_master_version if version in ("-", "latest") else version
                cluster.current_node_version = min(p.version for p in cluster.node_pools)
                return OP.UPGRADE_NODES.value
            if change == "desired_image_type":
                pool.config.image_type = update.desired_image_type
                return OP.UPGRADE_NODES.value
            failure = res.gang_failure(pool, res.autoscaling_counts(update.desired_node_pool_autoscaling))
            if failure:
                raise invalid_argument(failure.message, "update.desired_node_pool_autoscaling")
            pool.autoscaling.CopyFrom(update.desired_node_pool_autoscaling)
            res.fill_autoscaling_defaults(pool)
            return OP.UPDATE_CLUSTER.value
        if change == "desired_locations":
            del cluster.locations[:]
            cluster.locations.extend(update.desired_locations)
            for pool in cluster.node_pools:
                del pool.locations[:]
                pool.locations.extend(update.desired_locations)
            return OP.UPDATE_CLUSTER.value
        if change == "desired_addons_config":
            # Each addon named in the update replaces that addon's settings; the others are kept.
            for field, value in update.desired_addons_config.ListFields():
                getattr(cluster.addons_config, field.name).CopyFrom(value)
            return OP.UPDATE_CLUSTER.value
        if change == "desired_workload_identity_config":
            res.check_workload_pool(project, update.desired_workload_identity_config,
                                    "update.desired_workload_identity_config")
            cluster.workload_identity_config.CopyFrom(update.desired_workload_identity_config)
            return OP.UPDATE_CLUSTER.value
        if change == "desired_datapath_provider":
            raise invalid_argument("Datapath provider of an existing cluster cannot be changed; recreate the cluster.",
                                   "update.desired_datapath_provider")
        target = change[len("desired_"):] if change.startswith("desired_") else change
        source_field = update.DESCRIPTOR.fields_by_name[change]
        target_field = cluster.DESCRIPTOR.fields_by_name.get(target)
        if target_field is None or target_field.type != source_field.type or (
                source_field.message_type is not None and target_field.message_type != source_field.message_type):
            raise ApiError("UNIMPLEMENTED", "ClusterUpdate.%s is not implemented by the GKE emulator." % change)
        value = getattr(update, change)
        if source_field.message_type is not None:
            getattr(cluster, target).CopyFrom(value)
        elif _is_repeated(source_field):
            del getattr(cluster, target)[:]
            getattr(cluster, target).extend(value)
        else:
            setattr(cluster, target, value)
        return OP.UPDATE_CLUSTER.value

    def _delete_cluster(self, request, ids, ctx):
        key, cluster = self._get_cluster(ids)
        self._check_not_busy(key)
        during = res.copy_pb(cluster)
        during.status = CLUSTER_STATUS.STOPPING.value
        for pool in during.node_pools:
            pool.status = POOL_STATUS.STOPPING.value
        return self._start_operation(ctx, OP.DELETE_CLUSTER.value, key, "cluster", self._cluster_target(key),
                                     before=cluster, during=during, after=None)

    def _set_labels(self, request, ids, ctx):
        key, cluster = self._get_cluster(ids)
        self._check_not_busy(key)
        if request.label_fingerprint != cluster.label_fingerprint:
            raise failed_precondition(
                "Labels could not be set due to fingerprint mismatch; try again with the proper fingerprint: "
                "incorrect fingerprint supplied was \"%s\", the expected one is \"%s\"."
                % (request.label_fingerprint, cluster.label_fingerprint))
        after = res.copy_pb(cluster)
        after.resource_labels.clear()
        after.resource_labels.update(dict(request.resource_labels))
        after.label_fingerprint = res.label_fingerprint(after.resource_labels)
        return self._start_operation(ctx, OP.SET_LABELS.value, key, "cluster", self._cluster_target(key),
                                     before=cluster, during=res.copy_pb(cluster), after=after)

    # ------------------------------------------------------------ node pools

    def _list_node_pools(self, request, ids, ctx):
        _key, cluster = self._get_cluster(ids)
        response = types.ListNodePoolsResponse.pb()()
        response.node_pools.extend(cluster.node_pools)
        return response

    def _get_node_pool(self, request, ids, ctx):
        _key, cluster = self._get_cluster(ids)
        return self._get_pool(ids, cluster)

    def _create_node_pool(self, request, ids, ctx):
        key, cluster = self._get_cluster(ids)
        pool = res.copy_pb(request.node_pool)
        ids = dict(ids, pool=pool.name)
        self._resolve_placement_policy(ids["project"], ids["location"], pool, "node_pool")
        failure = res.validate_pool(cluster, pool, "node_pool")
        if any(p.name == pool.name for p in cluster.node_pools):
            raise already_exists(res.pool_path(*key, pool.name, form=ids["form"]))
        # GKE adds no GPU taint when every existing pool has GPUs (terraform-google-kubernetes-engine 703).
        gpu_taint = not all(res.is_gpu_pool(p.config) for p in cluster.node_pools)
        res.fill_pool_defaults(ids["project"], cluster, pool, gpu_taint=gpu_taint)
        # Quota is charged on the nodes asked for now, in every zone, not on the autoscaling maximum: a pool that
        # starts at 0 never fails here (terraform-google-kubernetes-engine 1795: charged on the nodes created).
        self._check_quota(ids["project"], ids["location"],
                          res.quota_uses(cluster, pool, pool.initial_node_count))
        self._check_not_busy(key, pool.name)
        after = res.copy_pb(pool)
        after.status = POOL_STATUS.RUNNING.value
        after.etag = res.etag_of(after)
        during = res.copy_pb(pool)
        during.status = POOL_STATUS.PROVISIONING.value
        failed = None
        failure_dict = None
        if failure:
            failure_dict = {"code": failure.code, "message": failure.message}
            failed = res.copy_pb(after)
            failed.status = POOL_STATUS.ERROR.value
            failed.status_message = failure.message
        return self._start_operation(ctx, OP.CREATE_NODE_POOL.value, key, "pool", self._pool_target(ids),
                                     before=None, during=during, after=after, pool=pool.name, failed=failed,
                                     failure=failure_dict)

    def _pool_change(self, ctx, ids, op_type, mutate, during_status=POOL_STATUS.RECONCILING, node_count=None):
        """Common shape of a node pool mutation: busy check, copy, change, RECONCILING while it runs."""
        key, cluster = self._get_cluster(ids)
        pool = self._get_pool(ids, cluster)
        after = res.copy_pb(pool)
        failure = mutate(cluster, after)
        self._check_not_busy(key, pool.name)
        after.status = POOL_STATUS.RUNNING.value
        after.etag = res.etag_of(after)
        during = res.copy_pb(pool)
        during.status = during_status.value
        return self._start_operation(ctx, op_type, key, "pool", self._pool_target(ids), before=pool,
                                     during=during, after=after, pool=pool.name, failure=failure,
                                     node_count=node_count)

    def _update_node_pool(self, request, ids, ctx):
        present = []
        for field, _value in request.ListFields():
            if field.name not in _UPDATE_POOL_IDENTITY:
                present.append(field.name)
        if not present:
            raise invalid_argument("At least one of [%s] must be specified."
                                   % ", ".join("'%s'" % name for name in NODE_POOL_UPDATE_FIELDS))
        # Locations may travel with other fields; those then apply to new nodes only (UpdateNodePoolRequest
        # documents locations beside the other fields).

        def mutate(cluster, pool):
            if request.etag and request.etag != pool.etag:
                raise ApiError("ABORTED", "Node pool %s was modified concurrently: etag \"%s\" does not match "
                                          "the current etag \"%s\"." % (pool.name, request.etag, pool.etag))
            gpu_tainted = res.has_gpu_taint(pool.config)
            for name in present:
                _apply_pool_update(cluster, pool, name, getattr(request, name))
            if gpu_tainted and res.is_gpu_pool(pool.config):
                res.add_gpu_taint(pool.config)  # GKE manages this taint: an update that drops it gets it back
            if "accelerators" in present or "machine_type" in present:
                res.check_accelerators(pool.config, cluster.location, "node_pool.config")
            if set(present) & {"machine_type", "disk_type", "boot_disk"}:
                res.check_boot_disk(pool.config, "node_pool.config")
            if "upgrade_settings" in present:
                res.fill_upgrade_defaults(pool.upgrade_settings)
            return None

        return self._pool_change(ctx, ids, OP.UPGRADE_NODES.value, mutate)

    def _delete_node_pool(self, request, ids, ctx):
        key, cluster = self._get_cluster(ids)
        pool = self._get_pool(ids, cluster)
        self._check_not_busy(key, pool.name)
        during = res.copy_pb(pool)
        during.status = POOL_STATUS.STOPPING.value
        return self._start_operation(ctx, OP.DELETE_NODE_POOL.value, key, "pool", self._pool_target(ids),
                                     before=pool, during=during, after=None, pool=pool.name)

    def _set_autoscaling(self, request, ids, ctx):
        def mutate(cluster, pool):
            scaling = request.autoscaling
            if scaling.enabled and scaling.max_node_count < scaling.min_node_count:
                raise invalid_argument(
                    "max_node_count (%d) must be greater than or equal to min_node_count (%d)."
                    % (scaling.max_node_count, scaling.min_node_count), "autoscaling.max_node_count")
            pool.autoscaling.CopyFrom(scaling)
            res.fill_autoscaling_defaults(pool)
            failure = res.gang_failure(pool, res.autoscaling_counts(scaling))
            return {"code": failure.code, "message": failure.message} if failure else None

        return self._pool_change(ctx, ids, OP.UPDATE_CLUSTER.value, mutate)

    def _set_size(self, request, ids, ctx):
        def mutate(cluster, pool):
            if request.node_count < 0:
                raise invalid_argument("node_count must be non-negative.", "node_count")
            # A resize is charged like a create: the nodes added, in every zone of the pool.
            added = request.node_count - self._pool_size(ids, pool)
            if added > 0:
                self._check_quota(ids["project"], ids["location"], res.quota_uses(cluster, pool, added))
            # A multi-host slice takes 0 or exactly its VMs; anything else fails in the operation (xpk issue 751).
            failure = res.gang_failure(pool, [("size", request.node_count)])
            return {"code": failure.code, "message": failure.message} if failure else None

        # The new size is recorded when the operation completes, like every other change.
        size = [ids["project"], ids["location"], ids["cluster"], ids["pool"], request.node_count]
        return self._pool_change(ctx, ids, OP.SET_NODE_POOL_SIZE.value, mutate, node_count=size)

    def _set_management(self, request, ids, ctx):
        def mutate(cluster, pool):
            res.check_management(cluster, request.management, "management")
            pool.management.CopyFrom(request.management)
            return None

        return self._pool_change(ctx, ids, OP.SET_NODE_POOL_MANAGEMENT.value, mutate)

    def _get_server_config(self, request, ids, ctx):
        config = types.ServerConfig.pb()(
            default_cluster_version=res.DEFAULT_VERSION, default_image_type="COS_CONTAINERD",
            valid_image_types=["COS_CONTAINERD", "UBUNTU_CONTAINERD"],
            valid_master_versions=res.VALID_VERSIONS, valid_node_versions=res.VALID_VERSIONS)
        for channel in ("RAPID", "REGULAR", "STABLE"):
            entry = config.channels.add()
            entry.channel = types.ReleaseChannel.Channel[channel].value
            entry.default_version = res.DEFAULT_VERSION
            entry.valid_versions.extend(res.VALID_VERSIONS)
        return config

    # ------------------------------------------------------------ operations

    def _find_operation(self, ids):
        op = self.operations.get(ids["operation"])
        if op is None or op.project != ids["project"] or ids["location"] not in ("-", op.location):
            raise not_found("%s/operations/%s" % (res.location_path(ids["project"], ids["location"], ids["form"]),
                                                  ids["operation"]))
        return op

    def _get_operation(self, request, ids, ctx):
        return self._operation_pb(self._find_operation(ids))

    def _list_operations(self, request, ids, ctx):
        response = types.ListOperationsResponse.pb()()
        for op in self.operations.values():
            if op.project == ids["project"] and ids["location"] in ("-", op.location):
                response.operations.add().CopyFrom(self._operation_pb(op))
        return response

    def _cancel_operation(self, request, ids, ctx):
        op = self._find_operation(ids)
        if op.done:
            raise failed_precondition("Operation %s is already done and cannot be cancelled." % op.name)
        self._complete(op, {"code": rpc_code("CANCELLED"), "message": "Operation was cancelled."}, cancelled=True)
        self._save()
        return empty_pb2.Empty()

    def set_autoscaled_size(self, pool_key, per_zone):
        """The cluster autoscaler resized a pool's instance groups (no API operation, as on GKE)."""
        with self.lock:
            self.node_counts[tuple(pool_key)] = int(per_zone)
            self._save()

    # ----------------------------------------------------------------- quota

    def _pool_size(self, ids, pool):
        """Nodes per zone a pool has now: what setSize last set, else its initial count."""
        key = (ids["project"], ids["location"], ids["cluster"], pool.name)
        return self.node_counts.get(key, pool.initial_node_count)

    def _usages(self):
        """(project, region, metric, amount) for the nodes every existing node pool has now."""
        for (project, location, name), cluster in self.clusters.items():
            ids = {"project": project, "location": location, "cluster": name}
            for pool in cluster.node_pools:
                for use in res.quota_uses(cluster, pool, self._pool_size(ids, pool)):
                    yield project, region_of(location), use.metric, use.amount

    def _check_quota(self, project, location, uses):
        """HTTP 403 when the request needs more than is free of a limited metric; unset metrics are unlimited.

        GKE's words, one shortage: terraform-google-kubernetes-engine 1795; several, numbered "(1) ... (2) ...",
        each in lower case and on its own line: kaiwaehner/hivemq-mqtt-tensorflow-kafka-realtime-iot-machine-
        learning-training-inference 48.
        """
        region = region_of(location)
        wanted = {}
        for use in uses:
            wanted[use.metric] = wanted.get(use.metric, 0) + use.amount
        shortages = []
        for metric, amount in sorted(wanted.items()):
            limit = self.quotas.get((region, metric))
            if limit is None:
                continue
            used = sum(a for p, r, m, a in self._usages() if p == project and r == region and m == metric)
            available = max(0.0, limit - used)
            if amount > available:
                shortages.append(
                    "insufficient regional quota to satisfy request: resource \"%s\": request requires '%.1f' and "
                    "is short '%.1f'. project has a quota of '%.1f' with '%.1f' available. View and manage quotas "
                    "at https://console.cloud.google.com/iam-admin/quotas?usage=USED&project=%s"
                    % (metric, amount, amount - available, limit, available, project))
        if len(shortages) == 1:
            raise ApiError("PERMISSION_DENIED", "I" + shortages[0][1:] + ".")
        if shortages:
            raise ApiError("PERMISSION_DENIED", "\n".join(
                "(%d) %s" % (number, text) for number, text in enumerate(shortages, 1)) + ".")

    # ------------------------------------------------------- resource policies

    def add_resource_policy(self, project, region, name, accelerator_topology=None):
        """Stand in for a Compute Engine resource policy a node pool names in placement_policy.policy_name: a
        workload policy (HIGH_THROUGHPUT, with ``accelerator_topology``) or a compact placement policy (none).
        Project "*" matches every project."""
        with self.lock:
            self.resource_policies[(project, region, name)] = accelerator_topology or ""
            self._save()

    def list_resource_policies(self):
        with self.lock:
            return [{"project": p, "region": r, "name": n, "accelerator_topology": t or None}
                    for (p, r, n), t in sorted(self.resource_policies.items())]

    def _resolve_placement_policy(self, project, location, pool, field):
        """Check a named placement policy exists; a 7x / 7 pool takes its slice topology from its workload policy
        and GKE returns it in placement_policy.tpu_topology (reported: vllm-project/ci-infra 547).

        The refusal texts follow Compute Engine's "was not found" wording; GKE's own are unverified.
        """
        name = pool.placement_policy.policy_name
        if not name:
            return
        region = region_of(location)
        path = "projects/%s/regions/%s/resourcePolicies/%s" % (project, region, name)
        topology = self.resource_policies.get((project, region, name), self.resource_policies.get(("*", region, name)))
        if topology is None:
            raise invalid_argument("The resource '%s' was not found" % path, field + ".placement_policy.policy_name")
        machine = res.tpu_of(pool)
        if not topology or machine is None or not machine.needs_workload_policy:
            return
        sent = pool.placement_policy.tpu_topology
        if sent and sent != topology:
            raise invalid_argument(
                "TPU topology \"%s\" does not match the accelerator topology \"%s\" of workload policy %s."
                % (sent, topology, path), field + ".placement_policy.tpu_topology")
        pool.placement_policy.tpu_topology = topology


def _project_number(project):
    """A stable, made-up project number for messages that name one."""
    return str(100000000000 + sum(ord(c) * 31 ** i for i, c in enumerate(project)) % 900000000000)

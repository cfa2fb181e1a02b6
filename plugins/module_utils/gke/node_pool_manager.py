# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Converge one GKE node pool: read once, diff, then make only the calls the differences need."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import AccelciError, InputError
from ansible_collections.accelci.runners.plugins.module_utils.gke.catalog import check_min_gke_version
from ansible_collections.accelci.runners.plugins.module_utils.gke.names import validate_name
from ansible_collections.accelci.runners.plugins.module_utils.gke.node_pool import (
    desired_node_pool,
    node_pool_diff,
    single_zone_default,
    summarize_pool,
    taints_to_send,
    update_request_fields,
    validate_node_pool,
)
from ansible_collections.accelci.runners.plugins.module_utils.gke.operation_manager import (
    GkeOperations,
    proto_to_dict,
)

# What GKE turns on when a pool is created without management settings.
MANAGEMENT_DEFAULTS = {"auto_upgrade": True, "auto_repair": True}

try:
    from google.cloud import container_v1
except ImportError:  # reported by the module through missing_required_lib
    container_v1 = None


def _canonical_node_pool(desired):
    """The desired body as the API would echo it (int64 as strings, enum names), for a like-for-like diff.

    Proto JSON drops empty values, so an explicitly empty map or list (labels: {} to clear them) is put back.
    """
    canonical = proto_to_dict(container_v1.NodePool(desired))
    for key in ("labels", "taints"):
        if key in desired.get("config", {}) and key not in canonical.get("config", {}):
            canonical.setdefault("config", {})[key] = desired["config"][key]
    return canonical


def _pick(tree, paths):
    """The parts of tree under the given dotted paths, as a nested dict (for diff output)."""
    out = {}
    for path in paths:
        node, parts = tree, path.split(".")
        for part in parts:
            node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            continue
        target = out
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = node
    return out


def check_delete_confirmed(kind, name, confirmation):
    """state=absent deletes what the user owns: refuse, before any call, unless confirm_delete names it."""
    if confirmation != name:
        raise InputError("confirm_delete", "deleting %s %s takes its nodes and running jobs with it; set "
                         "confirm_delete: %s to confirm (got %r)" % (kind, name, name, confirmation))


class NodePoolManager:
    """Create, update, recreate or delete one node pool.

    ``pool_params`` are the pool's gke_node_pool options (default: the module's); ``cluster`` is the cluster as
    already read (a dict), when the caller has it, so its version needs no second read.
    """

    def __init__(self, module, ops=None, params=None, pool_params=None, cluster=None):
        self.module = module
        self.params = params or module.params
        self.pool = pool_params or self.params
        self.ops = ops or GkeOperations(module)
        self.cluster = cluster

    @property
    def cluster_path(self):
        return "projects/%s/locations/%s/clusters/%s" % (
            self.params["project"], self.params["location"], self.pool.get("cluster") or self.params["cluster"])

    @property
    def path(self):
        return "%s/nodePools/%s" % (self.cluster_path, self.pool["name"])

    def run(self):
        """The module's work: check the options, then converge (state=present) or remove (state=absent)."""
        if self.pool.get("state") == "absent":
            validate_name("name", self.pool.get("name"))
            validate_name("cluster", self.pool.get("cluster"))
            check_delete_confirmed("node pool", self.pool["name"], self.pool.get("confirm_delete"))
            return self.remove()
        kind, shape, machine_type = validate_node_pool(self.pool)
        return self.converge(kind, shape, machine_type)

    def read_cluster(self):
        """The cluster as already read by the caller, or read once (a dict; {} when it does not exist)."""
        if self.cluster is None:
            self.cluster = proto_to_dict(self.module.call(
                "read cluster %s" % self.cluster_path.rsplit("/", 1)[-1], self.module.client.get_cluster,
                name=self.cluster_path, not_found_ok=True)) or {}
        return self.cluster

    def _check_against_cluster(self):
        """Rules that depend on the cluster: auto_upgrade off is refused on a release channel (GKE answers 400
        "Auto_upgrade cannot be false when release_channel REGULAR is set")."""
        if self.pool.get("auto_upgrade") is not False:
            return
        channel = ((self.read_cluster().get("release_channel") or {}).get("channel") or "UNSPECIFIED")
        if channel != "UNSPECIFIED":
            raise InputError("auto_upgrade", "cannot be false on cluster %s, which is on the %s release channel; "
                             "accepted: true (or left out), or take the cluster off its release channel"
                             % (self.cluster_path.rsplit("/", 1)[-1], channel))

    def read(self):
        """The pool as GKE reports it (a snake_case dict), or None when it does not exist."""
        pool = self.module.call("read node pool %s" % self.pool["name"], self.module.client.get_node_pool,
                                name=self.path, not_found_ok=True)
        return proto_to_dict(pool)

    def converge(self, kind, shape, machine_type, current=None, read=True):
        """Bring the pool to the desired state. Returns the result dict (changed, diff, node_pool, ...)."""
        if read:
            current = self.read()
        self._check_against_cluster()
        requested = desired_node_pool(self.pool, kind, shape, machine_type)
        if current is None:
            zone = single_zone_default(self.pool, shape, self.read_cluster().get("locations")
                                       if shape and shape.get("multi_host") else None)
            if zone:
                requested["locations"] = [zone]
            if "management" in requested:
                # The API cannot tell a flag left out from false: state GKE's defaults (on) for the flags not asked
                # for, or a cluster on a release channel refuses the pool ("Auto_upgrade cannot be false ...").
                requested["management"] = dict(MANAGEMENT_DEFAULTS, **requested["management"])
            self._check_cluster_version(shape)
            return self._create(_canonical_node_pool(requested), shape)
        desired = _canonical_node_pool(requested)
        if current.get("status") == "ERROR" and not self.pool.get("recreate"):
            raise AccelciError(
                "Node pool %s is in ERROR (%s); set recreate: true to delete and create it again"
                % (self.pool["name"], current.get("status_message") or "no message"),
                node_pool=summarize_pool(current, shape))
        diff = node_pool_diff(desired, current, managed=requested)
        if current.get("status") == "ERROR":
            diff.recreate.append("status")
        if diff.recreate:
            return self._recreate(desired, current, diff, shape)
        result = {
            "changed": diff.changed,
            "diff": {"before": _pick(current, diff.changed_paths), "after": _pick(desired, diff.changed_paths)},
            "changes": list(diff.changed_paths),
        }
        if diff.changed and not self.module.check_mode:
            self._update(diff, current)
            current = self.read() if self.params.get("wait", True) else current
        result["node_pool"] = summarize_pool(current, shape)
        return result

    def _check_cluster_version(self, shape):
        """Refuse, before the create request, a TPU generation newer than the cluster (catalog min_gke_version).

        The cluster is read only when the shape has a minimum and the caller did not pass the cluster.
        """
        if not shape or not shape.get("min_gke_version"):
            return
        check_min_gke_version(shape, self.read_cluster().get("current_master_version"))

    def _update(self, diff, current):
        """The in-place calls: one UpdateNodePool per group, then setAutoscaling (+ setSize), setManagement."""
        client, name = self.module.client, self.pool["name"]
        for group, changes in diff.updates:
            if "config.taints" in changes:
                # Send back the taints GKE manages (the GPU taint) so the update never tries to remove them.
                have = (current.get("config") or {}).get("taints") or []
                changes = dict(changes, **{"config.taints": taints_to_send(changes["config.taints"], have)})
            request = dict(update_request_fields(changes), name=self.path)
            self.ops.run("update node pool %s (%s)" % (name, group), client.update_node_pool,
                         container_v1.UpdateNodePoolRequest(request))
        if diff.set_autoscaling is not None:
            self.ops.run("set autoscaling on node pool %s" % name, client.set_node_pool_autoscaling,
                         container_v1.SetNodePoolAutoscalingRequest(name=self.path, autoscaling=diff.set_autoscaling))
            if not diff.set_autoscaling.get("enabled") and self.pool.get("node_count") is not None:
                # Turning autoscaling off: the pool keeps whatever size it had; size it as asked.
                self.ops.run("resize node pool %s" % name, client.set_node_pool_size,
                             container_v1.SetNodePoolSizeRequest(name=self.path, node_count=self.pool["node_count"]))
        if diff.set_management is not None:
            management = dict((current.get("management") or {}), **diff.set_management)
            self.ops.run("set management on node pool %s" % name, client.set_node_pool_management,
                         container_v1.SetNodePoolManagementRequest(name=self.path, management=management))

    def _create(self, desired, shape):
        result = {"changed": True, "diff": {"before": {}, "after": desired}, "changes": ["created"]}
        if self.module.check_mode:
            result["node_pool"] = summarize_pool(desired, shape)
            return result
        self.ops.run("create node pool %s" % self.pool["name"], self.module.client.create_node_pool,
                     container_v1.CreateNodePoolRequest(parent=self.cluster_path,
                                                        node_pool=container_v1.NodePool(desired)))
        created = self.read() if self.params.get("wait", True) else desired
        result["node_pool"] = summarize_pool(created, shape)
        return result

    def _recreate(self, desired, current, diff, shape):
        fields = sorted(set(diff.recreate))
        if not self.pool.get("recreate"):
            raise AccelciError(
                "Node pool %s: %s cannot change in place; set recreate: true to delete and create the pool "
                "(its nodes and running pods go away)" % (self.pool["name"], ", ".join(fields)),
                changes=fields,
                diff={"before": _pick(current, fields), "after": _pick(desired, fields)},
            )
        self._check_cluster_version(shape)
        result = {
            "changed": True,
            "recreated": True,
            "changes": fields,
            "diff": {"before": _pick(current, diff.changed_paths or fields),
                     "after": _pick(desired, diff.changed_paths or fields)},
        }
        if self.module.check_mode:
            result["node_pool"] = summarize_pool(desired, shape)
            return result
        self.delete()
        created = self._create(desired, shape)
        result["node_pool"] = created["node_pool"]
        return result

    def delete(self):
        """Delete the pool and wait for it (unless wait=false)."""
        self.ops.run("delete node pool %s" % self.pool["name"], self.module.client.delete_node_pool,
                     container_v1.DeleteNodePoolRequest(name=self.path))

    def remove(self):
        """state=absent: delete the pool if it exists."""
        current = self.read()
        if current is None:
            return {"changed": False, "diff": {"before": {}, "after": {}}, "node_pool": {}}
        result = {"changed": True, "diff": {"before": summarize_pool(current), "after": {}},
                  "node_pool": summarize_pool(current)}
        if not self.module.check_mode:
            self.delete()
        return result

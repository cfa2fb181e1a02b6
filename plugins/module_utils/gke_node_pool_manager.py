# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Converge one GKE node pool: read once, diff, then make only the calls the differences need."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.accelci.runners.plugins.module_utils.gke_node_pool_spec import (
    desired_node_pool,
    node_pool_diff,
    summarize_pool,
    update_request_fields,
)
from ansible_collections.accelci.runners.plugins.module_utils.gke_operations import (
    OperationFailed,
    OperationTimeout,
    operation_path,
    wait_for_operation,
)

try:
    from google.cloud import container_v1
except ImportError:  # reported by the module through missing_required_lib
    container_v1 = None


def proto_to_dict(message):
    """A container_v1 message as a snake_case dict with enum names, zero values left out."""
    if message is None:
        return None
    return type(message).to_dict(message, preserving_proto_field_name=True, use_integers_for_enums=False,
                                 always_print_fields_with_no_presence=False)


def canonical_node_pool(desired):
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


class GkeOperations:
    """Issue GKE mutations through a module and wait for their operations, recording what was done."""

    def __init__(self, module):
        self.module = module
        self.operations = []

    def run(self, action, func, request):
        """Call a mutating method with retries, then wait for its operation unless wait=false."""
        operation = self.module.call(action, func, request=request)
        self.operations.append({"action": action, "operation": operation.name})
        return self.run_wait(action, operation)

    def run_wait(self, action, operation):
        """Wait for an operation already recorded in ``operations``; fail the module if it fails."""
        record = self.operations[-1]
        if not self.module.params.get("wait", True):
            record["status"] = "RUNNING"
            return operation
        name = operation_path(self.module.params["project"], self.module.params["location"], operation.name)
        try:
            done = wait_for_operation(
                lambda name: self.module.call("read operation %s" % operation.name,
                                              self.module.client.get_operation, name=name),
                name, timeout=self.module.params.get("wait_timeout") or 1800,
            )
        except OperationFailed as exc:
            record["status"] = "FAILED"
            self.module.fail_json(msg="Failed to %s: %s" % (action, exc), operation=operation.name,
                                  error_code=exc.code, operations=self.operations, retries=self.module.retry_log)
        except OperationTimeout as exc:
            self.module.fail_json(msg="Timeout trying to %s: %s" % (action, exc), operations=self.operations)
        record["status"] = "DONE"
        return done


class NodePoolManager:
    """Create, update, recreate or delete one node pool."""

    def __init__(self, module, ops=None, params=None, pool_params=None):
        self.module = module
        self.params = params or module.params
        self.pool = pool_params or self.params
        self.ops = ops or GkeOperations(module)

    @property
    def cluster_path(self):
        return "projects/%s/locations/%s/clusters/%s" % (
            self.params["project"], self.params["location"], self.pool.get("cluster") or self.params["cluster"])

    @property
    def path(self):
        return "%s/nodePools/%s" % (self.cluster_path, self.pool["name"])

    def read(self):
        client = self.module.client
        pool = self.module.call("read node pool %s" % self.pool["name"], client.get_node_pool, name=self.path,
                                not_found_ok=True)
        return proto_to_dict(pool)

    def converge(self, kind, shape, machine_type, current=None, read=True):
        """Bring the pool to the desired state. Returns the result dict (changed, diff, node_pool, ...)."""
        if read:
            current = self.read()
        requested = desired_node_pool(self.pool, kind, shape, machine_type)
        desired = canonical_node_pool(requested)
        if current is None:
            return self._create(desired, shape)
        if current.get("status") == "ERROR" and not self.pool.get("recreate"):
            self.module.fail_json(
                msg="Node pool %s is in ERROR (%s); set recreate: true to delete and create it again"
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
            client = self.module.client
            for group, changes in diff.updates:
                request = dict(update_request_fields(changes), name=self.path)
                self.ops.run("update node pool %s (%s)" % (self.pool["name"], group), client.update_node_pool,
                             container_v1.UpdateNodePoolRequest(request))
            if diff.set_autoscaling is not None:
                self.ops.run("set autoscaling on node pool %s" % self.pool["name"],
                             client.set_node_pool_autoscaling,
                             container_v1.SetNodePoolAutoscalingRequest(name=self.path,
                                                                        autoscaling=diff.set_autoscaling))
                if not diff.set_autoscaling.get("enabled") and self.pool.get("node_count") is not None:
                    # Turning autoscaling off: the pool keeps whatever size it had; size it as asked.
                    self.ops.run("resize node pool %s" % self.pool["name"], client.set_node_pool_size,
                                 container_v1.SetNodePoolSizeRequest(name=self.path,
                                                                     node_count=self.pool["node_count"]))
            if diff.set_management is not None:
                management = dict((current.get("management") or {}), **diff.set_management)
                self.ops.run("set management on node pool %s" % self.pool["name"],
                             client.set_node_pool_management,
                             container_v1.SetNodePoolManagementRequest(name=self.path, management=management))
            current = self.read() if self.params.get("wait", True) else current
        result["node_pool"] = summarize_pool(current, shape)
        return result

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
            self.module.fail_json(
                msg="Node pool %s: %s cannot change in place; set recreate: true to delete and create the pool "
                    "(its nodes and running pods go away)" % (self.pool["name"], ", ".join(fields)),
                changes=fields,
                diff={"before": _pick(current, fields), "after": _pick(desired, fields)},
            )
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

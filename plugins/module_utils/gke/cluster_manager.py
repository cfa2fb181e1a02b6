# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Converge one GKE cluster: read once, then one UpdateCluster per change, as the API requires."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import AccelciError
from ansible_collections.accelci.runners.plugins.module_utils.gcp.api_errors import error_message
from ansible_collections.accelci.runners.plugins.module_utils.gke.cluster import (
    ADDONS,
    cluster_changes,
    desired_cluster,
    system_pool_params,
    validate_cluster,
    validate_system_pool,
)
from ansible_collections.accelci.runners.plugins.module_utils.gke.node_pool import desired_node_pool
from ansible_collections.accelci.runners.plugins.module_utils.gke.node_pool_manager import (
    NodePoolManager,
    check_delete_confirmed,
)
from ansible_collections.accelci.runners.plugins.module_utils.gke.operation_manager import (
    GkeOperations,
    proto_to_dict,
)

try:
    from google.api_core import exceptions as gexc
    from google.cloud import container_v1
except ImportError:  # reported by the module through missing_required_lib
    container_v1 = gexc = None


def _addons_summary(addons_config):
    """Addon -> enabled, named as the module's options where it has one (gcs_fuse_csi_driver)."""
    names = dict((v, k) for k, v in ADDONS.items())
    summary = {}
    for key, value in addons_config.items():
        value = value or {}
        enabled = value.get("enabled") if "enabled" in value else not value.get("disabled", False)
        summary[names.get(key, key[:-len("_config")] if key.endswith("_config") else key)] = bool(enabled)
    return summary


def _summarize_cluster(cluster):
    """The module's result: a compact view of the cluster."""
    return {
        "name": cluster.get("name"),
        "status": cluster.get("status"),
        "location": cluster.get("location"),
        "endpoint": cluster.get("endpoint"),
        # Public: the CA that signs the API server's certificate (what a kubeconfig trusts).
        "cluster_ca_certificate": (cluster.get("master_auth") or {}).get("cluster_ca_certificate"),
        "current_master_version": cluster.get("current_master_version"),
        "release_channel": (cluster.get("release_channel") or {}).get("channel"),
        "workload_pool": (cluster.get("workload_identity_config") or {}).get("workload_pool"),
        "addons": _addons_summary(cluster.get("addons_config") or {}),
        "labels": cluster.get("resource_labels") or {},
        "node_pools": [p.get("name") for p in cluster.get("node_pools") or []],
        "self_link": cluster.get("self_link"),
    }


class ClusterManager:
    """Create, update or delete one cluster and, when given, its system pool."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.ops = GkeOperations(module)

    @property
    def parent(self):
        return "projects/%s/locations/%s" % (self.params["project"], self.params["location"])

    @property
    def path(self):
        return "%s/clusters/%s" % (self.parent, self.params["name"])

    def run(self):
        """The module's work: check the options, then converge (state=present) or remove (state=absent)."""
        validate_cluster(self.params)
        if self.params["state"] == "absent":
            check_delete_confirmed("cluster", self.params["name"], self.params.get("confirm_delete"))
            return self.remove()
        validate_system_pool(self.params)
        return self.converge()

    def read(self):
        """The cluster as GKE reports it (a snake_case dict), or None when it does not exist."""
        cluster = self.module.call("read cluster %s" % self.params["name"], self.module.client.get_cluster,
                                   name=self.path, not_found_ok=True)
        return proto_to_dict(cluster)

    def converge(self):
        """Create the cluster, or make the in-place changes it needs, then converge the system pool if given."""
        current = self.read()
        if current is None:
            if not self.params.get("allow_create", True):
                raise AccelciError(
                    "Cluster %s does not exist in %s and allow_create is false: run playbooks/cluster.yml first "
                    "(the cluster role), or create it elsewhere" % (self.params["name"], self.parent))
            return self._create()
        desired = desired_cluster(self.params)
        changes, recreate = cluster_changes(desired, current, self.params.get("purge_labels"))
        if recreate:
            raise AccelciError(
                "Cluster %s: %s can only be set when the cluster is created; GKE would need a new cluster "
                "(delete it with state: absent first, if that is really wanted)"
                % (self.params["name"], ", ".join(recreate)),
                diff={"before": dict((k, current.get(k)) for k in recreate),
                      "after": dict((k, desired.get(k)) for k in recreate)})
        result = {
            "changed": bool(changes),
            "changes": [c[1] for c in changes],
            "diff": {"before": dict((c[1], c[3]) for c in changes), "after": dict((c[1], c[4]) for c in changes)},
        }
        if changes and not self.module.check_mode:
            self._apply(changes, current)
        if self.params.get("system_pool") is not None:
            self._merge_pool_result(result, self._converge_system_pool(current))
        if result["changed"] and not self.module.check_mode and self.params.get("wait", True):
            current = self.read()
        result["cluster"] = _summarize_cluster(current)
        self._report_undeclared_pools(result, current)
        return result

    def _report_undeclared_pools(self, result, current):
        """Pools in the cluster that nobody declared are reported, never deleted: they may be someone's."""
        declared = self.params.get("declared_node_pools")
        if declared is None:
            return
        declared = set(declared) | set([system_pool_params(self.params)["name"]])
        extra = sorted(p.get("name") for p in current.get("node_pools") or [] if p.get("name") not in declared)
        result["undeclared_node_pools"] = extra
        if extra:
            self.module.warn("Cluster %s has node pools that the inventory does not declare: %s. They are left "
                             "as they are; delete one with gke_node_pool state=absent and confirm_delete."
                             % (self.params["name"], ", ".join(extra)))

    def _apply(self, changes, current):
        """One UpdateCluster per change, as the API requires; labels through setResourceLabels."""
        for kind, path, payload, _before, _after in changes:
            if kind == "update":
                self.ops.run("update cluster %s (%s)" % (self.params["name"], path), self.module.client.update_cluster,
                             container_v1.UpdateClusterRequest(name=self.path,
                                                               update=container_v1.ClusterUpdate(payload)))
            else:
                self._set_labels(payload, current.get("label_fingerprint", ""))

    @staticmethod
    def _merge_pool_result(result, pool_result):
        if not pool_result["changed"]:
            return
        result["changed"] = True
        result["changes"].extend("system_pool.%s" % c for c in pool_result["changes"])
        result["diff"]["before"]["system_pool"] = pool_result["diff"]["before"]
        result["diff"]["after"]["system_pool"] = pool_result["diff"]["after"]

    def _set_labels(self, labels, fingerprint):
        """setResourceLabels with the fingerprint read; on a stale fingerprint, re-read and retry once.

        GKE answers a stale fingerprint with HTTP 400 FAILED_PRECONDITION "... fingerprint mismatch ...".
        """
        action = "set labels on cluster %s" % self.params["name"]
        request = container_v1.SetLabelsRequest(name=self.path, resource_labels=labels, label_fingerprint=fingerprint)
        try:
            operation = self.module.retry_policy.call(self.module.client.set_labels, request=request)
        except gexc.GoogleAPIError as exc:
            if "fingerprint" not in error_message(exc).lower():
                raise self.module.api_error(action, exc)
            fresh = self.read() or {}
            request = container_v1.SetLabelsRequest(name=self.path, resource_labels=labels,
                                                    label_fingerprint=fresh.get("label_fingerprint", ""))
            self.ops.run(action, self.module.client.set_labels, request)
            return
        self.ops.track(action, operation)

    def _converge_system_pool(self, current):
        pool_params = system_pool_params(self.params)
        found = None
        for pool in current.get("node_pools") or []:
            if pool.get("name") == pool_params["name"]:
                found = pool
        manager = NodePoolManager(self.module, ops=self.ops, params=self.params, pool_params=pool_params,
                                  cluster=current)
        return manager.converge("cpu", None, pool_params["machine_type"], current=found, read=False)

    def _create(self):
        body = desired_cluster(self.params, create=True)
        pool_params = system_pool_params(self.params)
        body["node_pools"] = [desired_node_pool(pool_params, "cpu", None, pool_params["machine_type"])]
        result = {"changed": True, "changes": ["created"], "diff": {"before": {}, "after": body}}
        if self.module.check_mode:
            result["cluster"] = _summarize_cluster(body)
            return result
        self.ops.run("create cluster %s" % self.params["name"], self.module.client.create_cluster,
                     container_v1.CreateClusterRequest(parent=self.parent, cluster=container_v1.Cluster(body)))
        created = self.read() if self.params.get("wait", True) else body
        result["cluster"] = _summarize_cluster(created or body)
        return result

    def remove(self):
        """state=absent: delete the cluster (and its node pools) if it exists."""
        current = self.read()
        if current is None:
            return {"changed": False, "diff": {"before": {}, "after": {}}, "cluster": {}}
        result = {"changed": True, "diff": {"before": _summarize_cluster(current), "after": {}},
                  "cluster": _summarize_cluster(current)}
        if not self.module.check_mode:
            self.ops.run("delete cluster %s" % self.params["name"], self.module.client.delete_cluster,
                         container_v1.DeleteClusterRequest(name=self.path))
        return result

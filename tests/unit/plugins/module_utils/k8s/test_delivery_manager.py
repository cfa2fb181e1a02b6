"""k8s.delivery_manager: render mode on disk, apply mode against recorded API server responses, the k8s_objects flow.

K8sDelivery never calls fail_json: the fake module has none, and failures are the errors the module's main()
reports."""

import copy
import json
import os
import socket

import pytest
import urllib3
from kubernetes.client.exceptions import ApiException
import yaml

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import AccelciError, InputError
from ansible_collections.accelci.runners.plugins.module_utils.k8s import delivery_manager as kd
from ansible_collections.accelci.runners.plugins.module_utils.k8s.manifests import SECRET_MASK
from tests.unit.recorded_http import RecordedKubeApi, recorded


class FakeModule:
    """What K8sDelivery uses of an AnsibleModule (no fail_json/exit_json: it must raise instead)."""

    def __init__(self, params, check_mode=False, tmpdir=None):
        base = dict(delivery="apply", render_dir=None, kubeconfig=None, context=None, kubernetes_version=None,
                    force_conflicts=False)
        base.update(params)
        self.params = base
        self.check_mode = check_mode
        self.no_log_values = set()
        self.tmpdir = tmpdir
        self._diff = True


NAMESPACE = {"apiVersion": "v1", "kind": "Namespace",
             "metadata": {"name": "arc-runners", "labels": {"app.kubernetes.io/managed-by": "accelci-runners"}}}
SERVICE_ACCOUNT = {"apiVersion": "v1", "kind": "ServiceAccount",
                   "metadata": {"name": "arc-runner", "namespace": "arc-runners",
                                "annotations": {"accelci.io/model-cache": "gcs"}}}
SECRET = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
          "metadata": {"name": "github-app", "namespace": "arc-runners"},
          "stringData": {"github_app_private_key": "secret-key-value"}}
SA_PATH = "/api/v1/namespaces/arc-runners/serviceaccounts/arc-runner"
SECRET_PATH = "/api/v1/namespaces/arc-runners/secrets/github-app"

RESPONSES = recorded("k8s_objects.json")


def answer(name, status=200):
    return (status, copy.deepcopy(RESPONSES[name]))


# -- render ----------------------------------------------------------------------------------------------------


def render_delivery(tmp_path, check_mode=False):
    return kd.K8sDelivery(FakeModule({"delivery": "render", "render_dir": str(tmp_path / "out")}, check_mode))


def test_render_writes_layout_and_is_idempotent(tmp_path):
    delivery = render_delivery(tmp_path)
    first = delivery.ensure(SERVICE_ACCOUNT, render_subdir="storage")
    expected = tmp_path / "out" / "storage" / "arc-runners" / "serviceaccount-arc-runner.yaml"
    assert first["changed"] is True
    assert first["path"] == str(expected)
    assert yaml.safe_load(expected.read_text()) == SERVICE_ACCOUNT
    assert first["diff"] == {"before": None, "after": SERVICE_ACCOUNT}
    second = delivery.ensure(SERVICE_ACCOUNT, render_subdir="storage")
    assert second["changed"] is False
    cluster = delivery.ensure(NAMESPACE, render_subdir="storage")
    assert cluster["path"] == str(tmp_path / "out" / "storage" / "_cluster" / "namespace-arc-runners.yaml")
    # No temporary files are left next to the rendered ones.
    assert sorted(os.listdir(expected.parent)) == ["serviceaccount-arc-runner.yaml"]


def test_render_change_reports_before_and_after(tmp_path):
    delivery = render_delivery(tmp_path)
    delivery.ensure(SERVICE_ACCOUNT)
    changed = copy.deepcopy(SERVICE_ACCOUNT)
    changed["metadata"]["annotations"]["accelci.io/model-cache"] = "filestore"
    result = delivery.ensure(changed)
    assert result["changed"] is True
    assert result["diff"]["before"]["metadata"]["annotations"] == {"accelci.io/model-cache": "gcs"}
    assert result["diff"]["after"]["metadata"]["annotations"] == {"accelci.io/model-cache": "filestore"}


def test_render_check_mode_writes_nothing(tmp_path):
    result = render_delivery(tmp_path, check_mode=True).ensure(SERVICE_ACCOUNT, render_subdir="storage")
    assert result["changed"] is True
    assert not (tmp_path / "out").exists()


def test_render_never_writes_secret_values(tmp_path):
    module = FakeModule({"delivery": "render", "render_dir": str(tmp_path / "out")})
    result = kd.K8sDelivery(module).ensure(SECRET, render_subdir="arc")
    assert result["changed"] is False and result["rendered"] is False and result["path"] is None
    assert result["secret_keys"] == ["github_app_private_key"]
    assert "github_app_private_key" in result["note"]
    assert "secret-key-value" not in json.dumps(result)
    assert not (tmp_path / "out").exists()
    # The value (and its base64 form) is registered for masking everywhere Ansible prints.
    assert {"secret-key-value", "c2VjcmV0LWtleS12YWx1ZQ=="} <= module.no_log_values


def test_render_secret_flag_applies_to_any_kind(tmp_path):
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "token", "namespace": "arc-runners"},
              "data": {"token": "abc"}}
    result = render_delivery(tmp_path).ensure(config, secret=True)
    assert result["rendered"] is False and not (tmp_path / "out").exists()


def test_render_remove_deletes_file(tmp_path):
    delivery = render_delivery(tmp_path)
    path = delivery.ensure(SERVICE_ACCOUNT, render_subdir="storage")["path"]
    check = render_delivery(tmp_path, check_mode=True).remove("v1", "ServiceAccount", "arc-runner", "arc-runners",
                                                              render_subdir="storage")
    assert check["changed"] is True and os.path.exists(path)
    removed = delivery.remove("v1", "ServiceAccount", "arc-runner", "arc-runners", render_subdir="storage")
    assert removed["changed"] is True and not os.path.exists(path)
    assert removed["diff"]["before"] == SERVICE_ACCOUNT
    assert delivery.remove("v1", "ServiceAccount", "arc-runner", "arc-runners", render_subdir="storage")["changed"] is False


@pytest.mark.parametrize("manifest, message", [
    ({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "arc-runner"}}, "set metadata.namespace"),
    ({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x", "namespace": "y"}}, "cluster-scoped"),
    ({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "Bad_Name", "namespace": "a"}}, "not a valid name"),
    ({"kind": "ConfigMap", "metadata": {"name": "a", "namespace": "a"}}, "apiVersion is required"),
])
def test_invalid_manifest_fails_before_anything(tmp_path, manifest, message):
    with pytest.raises(InputError, match=message) as failure:
        render_delivery(tmp_path).ensure(manifest)
    assert failure.value.field in ("apiVersion", "metadata.name", "metadata.namespace")
    assert not (tmp_path / "out").exists()


def test_render_needs_render_dir():
    with pytest.raises(InputError, match="render_dir") as failure:
        kd.K8sDelivery(FakeModule({"delivery": "render"}))
    assert failure.value.field == "render_dir"


def test_render_writes_the_one_yaml_style(tmp_path):
    # Block style with keys sorted: the style of every file this collection renders.
    path = render_delivery(tmp_path).ensure(SERVICE_ACCOUNT)["path"]
    with open(path) as handle:
        text = handle.read()
    assert text.splitlines()[:3] == ["apiVersion: v1", "kind: ServiceAccount", "metadata:"]
    assert text.index("annotations:") < text.index("name: arc-runner") < text.index("namespace: arc-runners")


# -- apply (recorded API server responses) -----------------------------------------------------------------------


@pytest.fixture
def kube(tmp_path):
    with RecordedKubeApi() as api:
        yield api


def apply_delivery(kube, tmp_path, check_mode=False, **params):
    options = {"kubeconfig": kube.kubeconfig(str(tmp_path))}
    options.update(params)
    return kd.K8sDelivery(FakeModule(options, check_mode=check_mode, tmpdir=str(tmp_path)))


def test_apply_creates_with_server_side_apply(kube, tmp_path):
    kube.route("GET " + SA_PATH, answer("serviceaccount_not_found", 404))
    kube.route("PATCH " + SA_PATH, answer("serviceaccount_applied"))
    result = apply_delivery(kube, tmp_path).ensure(SERVICE_ACCOUNT)
    assert result["changed"] is True and result["method"] == "create"
    assert kube.object_calls() == ["GET " + SA_PATH, "PATCH " + SA_PATH]
    patch = kube.object_requests()[1]
    assert patch["content_type"] == "application/apply-patch+yaml"
    assert patch["query"] == {"fieldManager": "accelci-runners", "force": "false"}
    assert patch["body"] == SERVICE_ACCOUNT
    assert patch["headers"]["authorization"] == "Bearer replay-token"
    assert result["object"]["metadata"]["uid"] == RESPONSES["serviceaccount_applied"]["metadata"]["uid"]
    assert result["diff"] == {"before": None, "after": SERVICE_ACCOUNT}


def test_apply_unchanged_object_makes_no_write(kube, tmp_path):
    kube.route("GET " + SA_PATH, answer("serviceaccount_applied"))
    result = apply_delivery(kube, tmp_path).ensure(SERVICE_ACCOUNT)
    assert result["changed"] is False
    assert kube.object_calls() == ["GET " + SA_PATH]


def test_apply_changed_field_patches_and_diffs_only_our_fields(kube, tmp_path):
    kube.route("GET " + SA_PATH, answer("serviceaccount_applied"))
    kube.route("PATCH " + SA_PATH, answer("serviceaccount_applied"))
    desired = copy.deepcopy(SERVICE_ACCOUNT)
    desired["metadata"]["annotations"]["accelci.io/model-cache"] = "filestore"
    result = apply_delivery(kube, tmp_path).ensure(desired)
    assert result["changed"] is True and result["differences"] == ["metadata.annotations.accelci.io/model-cache"]
    assert kube.object_calls() == ["GET " + SA_PATH, "PATCH " + SA_PATH]
    before = result["diff"]["before"]
    # 'before' covers the fields we set, not uid/managedFields/resourceVersion.
    assert before == {"apiVersion": "v1", "kind": "ServiceAccount",
                      "metadata": {"name": "arc-runner", "namespace": "arc-runners",
                                   "annotations": {"accelci.io/model-cache": "gcs"}}}


def test_apply_field_we_no_longer_set_counts_as_change(kube, tmp_path):
    kube.route("GET " + SA_PATH, answer("serviceaccount_applied"))
    kube.route("PATCH " + SA_PATH, answer("serviceaccount_applied"))
    desired = copy.deepcopy(SERVICE_ACCOUNT)
    del desired["metadata"]["annotations"]
    result = apply_delivery(kube, tmp_path).ensure(desired)
    assert result["changed"] is True
    assert result["removed_fields"] == ["metadata.annotations.accelci.io/model-cache"]
    assert kube.object_calls()[-1] == "PATCH " + SA_PATH


def test_apply_check_mode_only_reads(kube, tmp_path):
    kube.route("GET " + SA_PATH, answer("serviceaccount_not_found", 404))
    result = apply_delivery(kube, tmp_path, check_mode=True).ensure(SERVICE_ACCOUNT)
    assert result["changed"] is True
    assert kube.calls("PATCH") == [] and kube.calls("DELETE") == [] and kube.calls("POST") == []


def test_apply_conflict_names_fix(kube, tmp_path):
    kube.route("GET " + SA_PATH, answer("serviceaccount_not_found", 404))
    kube.route("PATCH " + SA_PATH, answer("serviceaccount_conflict", 409))
    with pytest.raises(kd.K8sDeliveryError, match="force_conflicts=true") as failure:
        apply_delivery(kube, tmp_path).ensure(SERVICE_ACCOUNT)
    assert "kubectl-edit" in str(failure.value)
    assert failure.value.fail_json_kwargs()["msg"].startswith("Failed to apply ServiceAccount arc-runners/arc-runner")


def test_apply_force_conflicts_sends_force_true(kube, tmp_path):
    kube.route("GET " + SA_PATH, answer("serviceaccount_not_found", 404))
    kube.route("PATCH " + SA_PATH, answer("serviceaccount_applied"))
    apply_delivery(kube, tmp_path, force_conflicts=True).ensure(SERVICE_ACCOUNT)
    assert kube.object_requests()[-1]["query"] == {"fieldManager": "accelci-runners", "force": "true"}


def test_apply_secret_compares_as_data_and_masks(kube, tmp_path):
    kube.route("GET " + SECRET_PATH, answer("secret_live"))
    result = apply_delivery(kube, tmp_path).ensure(SECRET)
    # stringData is folded into base64 data, which the live Secret already holds: nothing to do.
    assert result["changed"] is False
    assert kube.object_calls() == ["GET " + SECRET_PATH]
    text = json.dumps(result)
    assert "secret-key-value" not in text and "c2VjcmV0LWtleS12YWx1ZQ==" not in text
    assert result["object"]["data"] == {"github_app_private_key": SECRET_MASK}


def test_apply_new_secret_sends_data_not_logged(kube, tmp_path):
    kube.route("GET " + SECRET_PATH, answer("secret_not_found", 404))
    kube.route("PATCH " + SECRET_PATH, answer("secret_live"))
    result = apply_delivery(kube, tmp_path).ensure(SECRET)
    assert result["changed"] is True
    assert kube.object_requests()[-1]["body"]["data"] == {"github_app_private_key": "c2VjcmV0LWtleS12YWx1ZQ=="}
    assert "stringData" not in kube.object_requests()[-1]["body"]
    assert "c2VjcmV0LWtleS12YWx1ZQ==" not in json.dumps(result)


def test_apply_unknown_kind_names_crd(kube, tmp_path):
    runner_set = {"apiVersion": "actions.github.com/v1alpha1", "kind": "AutoscalingRunnerSet",
                  "metadata": {"name": "x", "namespace": "arc-runners"}}
    with pytest.raises(kd.K8sDeliveryError, match="is its CRD installed"):
        apply_delivery(kube, tmp_path).ensure(runner_set)
    assert kube.calls("PATCH") == []


def test_apply_remove_deletes_and_check_mode_does_not(kube, tmp_path):
    path = "/api/v1/namespaces/arc-runners"
    kube.route("GET " + path, answer("namespace_live"))
    kube.route("DELETE " + path, answer("namespace_deleting"))
    check = apply_delivery(kube, tmp_path, check_mode=True).remove("v1", "Namespace", "arc-runners")
    assert check["changed"] is True and kube.calls("DELETE") == []
    result = apply_delivery(kube, tmp_path).remove("v1", "Namespace", "arc-runners")
    assert result["changed"] is True
    delete = [r for r in kube.requests if r["method"] == "DELETE"]
    assert len(delete) == 1 and delete[0]["query"] == {"propagationPolicy": "Background"}
    assert "managedFields" not in result["diff"]["before"]["metadata"]


def test_apply_remove_absent_is_unchanged(kube, tmp_path):
    kube.route("GET " + SA_PATH, answer("serviceaccount_not_found", 404))
    result = apply_delivery(kube, tmp_path).remove("v1", "ServiceAccount", "arc-runner", "arc-runners")
    assert result["changed"] is False and kube.calls("DELETE") == []


def test_apply_without_kubeconfig_fails_clearly(tmp_path, monkeypatch):
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    missing = str(tmp_path / "nope")
    delivery = kd.K8sDelivery(FakeModule({"kubeconfig": missing}, tmpdir=str(tmp_path)))
    with pytest.raises(kd.K8sDeliveryError, match="No Kubernetes access"):
        delivery.ensure(SERVICE_ACCOUNT)


# -- read ---------------------------------------------------------------------------------------------------------


def test_read_rendered_and_live(kube, tmp_path):
    delivery = render_delivery(tmp_path)
    assert delivery.read("v1", "ServiceAccount", "arc-runner", "arc-runners", render_subdir="storage") is None
    delivery.ensure(SERVICE_ACCOUNT, render_subdir="storage")
    assert delivery.read("v1", "ServiceAccount", "arc-runner", "arc-runners", render_subdir="storage") == SERVICE_ACCOUNT
    kube.route("GET " + SECRET_PATH, answer("secret_live"))
    live = apply_delivery(kube, tmp_path).read("v1", "Secret", "github-app", "arc-runners")
    assert live["data"] == {"github_app_private_key": SECRET_MASK} and "managedFields" not in live["metadata"]
    assert kube.calls("PATCH") == []


# -- the k8s_objects module's flow ----------------------------------------------------------------------------------


class ExitModule(FakeModule):
    def __init__(self, params, **kwargs):
        base = dict(objects=[], state="present", render_subdir="")
        base.update(params)
        super().__init__(base, **kwargs)


def test_k8s_objects_validates_every_object_before_writing(tmp_path):
    bad_pvc = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "models", "namespace": "a"},
               "spec": {"accessModes": "ReadOnlyMany"}}
    module = ExitModule({"delivery": "render", "render_dir": str(tmp_path / "out"), "kubernetes_version": "1.33",
                         "objects": [SERVICE_ACCOUNT, bad_pvc]})
    with pytest.raises(InputError) as failure:
        kd.run_k8s_objects(module)
    assert "PersistentVolumeClaim a/models: spec.accessModes" in str(failure.value)
    assert "Kubernetes 1.33" in str(failure.value)
    assert failure.value.field == "objects"
    assert failure.value.details["validation_errors"][0].startswith("PersistentVolumeClaim a/models: spec.accessModes")
    assert not (tmp_path / "out").exists()  # the valid ServiceAccount was not written either


def test_k8s_objects_results_and_diff(tmp_path):
    runner_set = {"apiVersion": "actions.github.com/v1alpha1", "kind": "AutoscalingRunnerSet",
                  "metadata": {"name": "x", "namespace": "arc-runners"}}
    module = ExitModule({"delivery": "render", "render_dir": str(tmp_path / "out"), "kubernetes_version": "1.33",
                         "render_subdir": "storage", "objects": [SERVICE_ACCOUNT, SECRET, runner_set]})
    result = kd.run_k8s_objects(module)
    assert result["changed"] is True
    assert [o["ref"] for o in result["objects"]] == ["ServiceAccount arc-runners/arc-runner",
                                                     "Secret arc-runners/github-app", "AutoscalingRunnerSet arc-runners/x"]
    assert [o["changed"] for o in result["objects"]] == [True, False, True]
    assert len(result["skipped_validation"]) == 1 and "AutoscalingRunnerSet" in result["skipped_validation"][0]
    assert [d["before_header"] for d in result["diff"]] == [o["ref"] for o in result["objects"]]
    assert "secret-key-value" not in json.dumps(result)
    assert kd.run_k8s_objects(module)["changed"] is False


def test_apply_retries_throttling_and_server_errors(kube, tmp_path):
    busy = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": "the server is currently unable to "
            "handle the request", "reason": "ServiceUnavailable", "code": 503}
    kube.route("GET " + SA_PATH, (429, dict(busy, code=429, reason="TooManyRequests")),
               answer("serviceaccount_not_found", 404))
    kube.route("PATCH " + SA_PATH, (503, busy), answer("serviceaccount_applied"))
    delivery = apply_delivery(kube, tmp_path)
    delivery.retry_policy.base = 0.001  # retry timing is the test's to choose, in-process
    result = delivery.ensure(SERVICE_ACCOUNT)
    assert result["changed"] is True
    assert kube.object_calls() == ["GET " + SA_PATH, "GET " + SA_PATH, "PATCH " + SA_PATH, "PATCH " + SA_PATH]


def _closed_port():
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_api_server_not_reached_is_retried_then_named(tmp_path, monkeypatch):
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    server = "http://127.0.0.1:%d" % _closed_port()
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "c", "cluster": {"server": server}}],
        "users": [{"name": "u", "user": {"token": "planted-token-value"}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}]}))
    delivery = kd.K8sDelivery(FakeModule({"kubeconfig": str(kubeconfig), "retry_timeout": 1}, tmpdir=str(tmp_path)))
    assert delivery.retry_policy.timeout == 1.0
    delivery.retry_policy.base = 0.01  # retry timing is the test's to choose, in-process
    with pytest.raises(kd.K8sDeliveryError) as failure:
        delivery.ensure(SERVICE_ACCOUNT)
    message = failure.value.message
    assert message.startswith("Failed to discover the Kubernetes API: the Kubernetes API at %s could not be "
                              "reached: connection refused (" % server), message
    attempts = int(message.split("connection refused (")[1].split(" ")[0])
    assert attempts > 1, message
    assert "check kubeconfig and context" in message
    assert "urllib3" not in message and "planted-token-value" not in message
    assert failure.value.details["endpoint"] == server


@pytest.mark.parametrize("value", [-1, "soon", True])
def test_retry_timeout_that_is_not_a_whole_number_of_seconds_is_refused(value):
    with pytest.raises(InputError, match="retry_timeout: ") as failure:
        kd.K8sDelivery(FakeModule({"retry_timeout": value}))
    assert failure.value.field == "retry_timeout"


def test_retry_predicate_retries_a_refused_connection_not_an_untrusted_certificate():
    refused = urllib3.exceptions.MaxRetryError(None, "/version", urllib3.exceptions.NewConnectionError(
        None, "Failed to establish a new connection: [Errno 111] Connection refused"))
    tls_failure = ApiException(status=0, reason="SSLError\n[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify "
                               "failed: self signed certificate")
    untrusted = kd.DynamicApiError(tls_failure)
    assert kd._k8s_retryable(refused) is True
    assert kd._unreachable(refused) == "connection refused"
    assert kd._unreachable(untrusted) == "TLS certificate not trusted"
    assert kd._k8s_retryable(untrusted) is False
    assert kd._unreachable(ValueError("connection refused")) is None


def test_k8s_objects_names_the_object_at_fault(tmp_path):
    module = ExitModule({"delivery": "render", "render_dir": str(tmp_path / "out"),
                         "objects": [SERVICE_ACCOUNT, {"apiVersion": "v1", "kind": "ConfigMap",
                                                       "metadata": {"name": "Bad_Name", "namespace": "a"}}]})
    with pytest.raises(InputError, match=r"objects\[1\] \(ConfigMap a/Bad_Name\): metadata.name") as failure:
        kd.run_k8s_objects(module)
    assert failure.value.field == "objects[1].metadata.name"
    assert not (tmp_path / "out").exists()


def test_cluster_errors_are_api_errors_of_the_one_contract():
    from ansible_collections.accelci.runners.plugins.module_utils._common.errors import ApiError

    assert issubclass(kd.K8sDeliveryError, ApiError) and issubclass(kd.K8sDeliveryError, AccelciError)

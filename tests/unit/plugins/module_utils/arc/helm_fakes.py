"""Stand-ins for the ARC manager tests: an AnsibleModule whose run_command answers helm from recorded outputs
(tests/fixtures/helm), a recorder in place of K8sDelivery, and the modules' parameters.

No Kubernetes API is reachable here, so the apply paths are tested from recorded helm outputs.
"""
import json
import os

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import AccelciError
from ansible_collections.accelci.runners.plugins.module_utils.gke.catalog import scheduling_profile

from tests.paths import FIXTURES, ROOT

HELM_FIXTURES = os.path.join(FIXTURES, "helm")
CONTROLLER_CHART = os.path.join(ROOT, "tests", "fixtures", "charts", "gha-runner-scale-set-controller")
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIdecisiontestsecret\n-----END RSA PRIVATE KEY-----"
TPU_V6E_1 = scheduling_profile({"name": "tpu-v6e-1", "tpu": {"accelerator": "v6e", "topology": "1x1"}, "spot": True})


def recorded(name):
    with open(os.path.join(HELM_FIXTURES, name)) as handle:
        return handle.read()


def failure(func, *args):
    """What the module's main() would pass to fail_json when func raises."""
    try:
        func(*args)
    except AccelciError as exc:
        return exc.fail_json_kwargs()
    raise AssertionError("%s did not fail" % getattr(func, "__name__", func))


class FakeModule(object):
    """Just enough of AnsibleModule: params, check and diff mode, warnings, run_command from a routing table."""

    def __init__(self, params, routes, check_mode=False):
        self.params = params
        self.routes = routes
        self.check_mode = check_mode
        self._diff = False
        self.no_log_values = set()
        self.warnings = []
        self.commands = []
        self.tmpdir = None

    def get_bin_path(self, name, required=False):
        return "/usr/local/bin/helm"

    def add_cleanup_file(self, path):
        pass

    def warn(self, msg):
        self.warnings.append(msg)

    def fail_json(self, **kwargs):  # module_utils raise; nothing may call this
        raise AssertionError("fail_json called from module_utils: %s" % kwargs)

    def run_command(self, argv, environ_update=None, data=None, check_rc=False):
        self.commands.append(argv[1:])
        words = argv[1:]
        for prefix, answer in self.routes:
            if words[:len(prefix)] == prefix:
                return answer(words) if callable(answer) else answer
        raise AssertionError("unexpected helm call: %s" % words)

    def verbs(self):
        return [c[0] if c[0] not in ("get", "diff") else " ".join(c[:2]) for c in self.commands]


class ObjectRecorder(object):
    """K8sDelivery's interface, recording what would be applied or removed."""

    ensured = []

    def __init__(self, module, params=None):
        self.params = params

    def ensure(self, manifest, render_subdir="", secret=False, public_keys=(), always_apply=False):
        ObjectRecorder.ensured.append((manifest["kind"], manifest["metadata"]["name"], secret))
        return dict(changed=True, diff={}, object=manifest)

    def remove(self, api_version, kind, name, namespace=None, render_subdir=""):
        ObjectRecorder.ensured.append(("remove " + kind, name, False))
        return dict(changed=True, diff={})


def scale_set_params(**overrides):
    params = dict(
        name="arc-runner-v6e-1", namespace="arc-runners", state="present", delivery="apply", render_dir=None,
        kubeconfig=None, context=None, kubernetes_version="1.33", force_conflicts=False, binary_path=None, wait=True,
        wait_timeout=600, rollback_on_failure=True, use_helm_diff=True, version="0.14.2", gitops="flux",
        argocd_namespace="argocd", argocd_project="default", flux_source_namespace=None, chart_ref=None,
        gitops_chart_ref=None, validate_with_chart=True,
        github_config_url="https://github.com/alexshires/sglang-jax", github_app_id=None,
        github_app_installation_id=None, github_app_private_key=None, github_token=None,
        existing_secret="accelci-github", github_secret_name=None, labels=[], recreate_on_label_change=False,
        runner_group=None, min_runners=0, max_runners=4, container_mode="none", work_volume_claim=None,
        work_dir_size_limit="100Gi", runner_image="ghcr.io/actions/actions-runner:latest", dind_image="docker:dind",
        dind_mtu=None, dind_resources=None, resources={"requests": {"cpu": "4", "memory": "16Gi"},
                                                       "limits": {"cpu": "8", "memory": "32Gi"}},
        env={"SGLANG_JAX_IS_IN_CI": "true", "JAX_PLATFORMS": "tpu"}, pod_template=None, service_account=None,
        node_pool=TPU_V6E_1, model_cache=None, gcsfuse=None, job_policy={"deny_fork_pull_requests": False},
        listener_node_selector=None, listener_tolerations=None, spot_termination_grace_seconds=None,
        controller_release="arc", controller_namespace="arc-systems", controller_service_account=None,
        extra_values=None,
    )
    params.update(overrides)
    return params


def scale_set_routes(release_list, values=None, controller="list-controller-deployed.json", upgrade=(0, "upgraded", ""),
                     controller_values="get-values-all-controller.json"):
    def list_answer(words):
        if "^arc$" in words:
            return (0, recorded(controller), "")
        return (0, recorded(release_list), "")

    def values_answer(words):
        if words[2] == "arc":
            assert "--all" in words  # effective values, chart defaults included
            return (0, recorded(controller_values), "")
        return (0, json.dumps(values) if values is not None else "null", "")

    return [
        (["version"], (0, recorded("version-v4.1.4.txt"), "")),
        (["list"], list_answer),
        (["get", "values"], values_answer),
        (["plugin", "list"], (0, "NAME\tVERSION\tDESCRIPTION\n", "")),
        (["upgrade"], upgrade),
        (["uninstall"], (0, "release uninstalled", "")),
        (["rollback"], (0, "Rollback was a success!", "")),
    ]


def controller_params(**overrides):
    params = dict(name="arc", namespace="arc-systems", state="present", delivery="apply", render_dir=None,
                  kubeconfig=None, context=None, kubernetes_version="1.33", force_conflicts=False, binary_path=None,
                  wait=True, wait_timeout=600, rollback_on_failure=True, use_helm_diff=True, version="0.14.2",
                  gitops="flux", argocd_namespace="argocd", argocd_project="default", flux_source_namespace=None,
                  chart_ref=CONTROLLER_CHART, gitops_chart_ref=None, validate_with_chart=True, create_namespace=False,
                  service_account_name=None, replicas=1, resources=None, node_selector=None, tolerations=None,
                  affinity=None, priority_class_name=None, metrics=False, metrics_port=8080, metrics_path="/metrics",
                  log_level="info", log_format="json", watch_single_namespace=None, reinstall_scale_sets=False,
                  remove_scale_sets=False, extra_values=None)
    params.update(overrides)
    return params


def controller_routes(own, all_releases, values=None):
    def list_answer(words):
        return (0, recorded(all_releases if "--all-namespaces" in words else own), "")

    return [
        (["version"], (0, recorded("version-v4.1.4.txt"), "")),
        (["list"], list_answer),
        (["get", "values"], (0, json.dumps(values) if values is not None else "null", "")),
        (["plugin", "list"], (0, "", "")),
        (["upgrade"], (0, "upgraded", "")),
        (["uninstall"], (0, "uninstalled", "")),
    ]

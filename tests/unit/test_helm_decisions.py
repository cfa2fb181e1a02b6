"""Install / upgrade / no-op / recreate decisions from recorded helm outputs (no Kubernetes API here).

The modules' apply paths run with a stand-in AnsibleModule whose run_command answers from tests/fixtures/helm;
Kubernetes objects (Secret, ConfigMap, CRDs) go to a recorder in place of K8sDelivery.
"""
import json
import os

import pytest

from ansible_collections.accelci.runners.plugins.module_utils import arc_release
from ansible_collections.accelci.runners.plugins.module_utils import arc_values as av
from ansible_collections.accelci.runners.plugins.module_utils.helm import release_action

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "helm")
CONTROLLER_CHART = os.path.join(ROOT, "tests", "fixtures", "charts", "gha-runner-scale-set-controller")
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIdecisiontestsecret\n-----END RSA PRIVATE KEY-----"


def recorded(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return handle.read()


class Failed(Exception):
    pass


class FakeModule(object):
    """Just enough of AnsibleModule: params, check mode, run_command from a routing table, fail_json."""

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

    def fail_json(self, **kwargs):
        raise Failed(kwargs)

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
    def __init__(self, module, params=None):
        self.params = params
        ObjectRecorder.ensured = getattr(ObjectRecorder, "ensured", [])

    def ensure(self, manifest, render_subdir="", secret=False, public_keys=()):
        ObjectRecorder.ensured.append((manifest["kind"], manifest["metadata"]["name"], secret))
        return dict(changed=True, diff={}, object=manifest)

    def remove(self, api_version, kind, name, namespace=None, render_subdir=""):
        ObjectRecorder.ensured.append(("remove " + kind, name, False))
        return dict(changed=True, diff={})


@pytest.fixture(autouse=True)
def record_objects(monkeypatch):
    ObjectRecorder.ensured = []
    monkeypatch.setattr(arc_release, "K8sDelivery", ObjectRecorder)


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
        node_pool="tpu-v6e-1", node_pools=[{"name": "tpu-v6e-1", "tpu": {"accelerator": "v6e", "topology": "1x1"},
                                            "spot": True}],
        model_cache=None, gcsfuse=None, job_policy={"deny_fork_pull_requests": False}, listener_node_selector=None,
        listener_tolerations=None, spot_termination_grace_seconds=None, controller_release="arc",
        controller_namespace="arc-systems", controller_service_account=None, extra_values=None,
    )
    params.update(overrides)
    return params


def desired_values(params):
    spec, _secret = arc_release.scale_set_spec(params)
    return av.scale_set_values(spec)["values"]


def routes_for(release_list, values=None, controller="list-controller-deployed.json", upgrade=(0, "upgraded", ""),
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


def test_release_action_from_recorded_lists():
    entry = json.loads(recorded("list-scale-set-deployed.json"))[0]
    assert release_action(None, {}, "gha-runner-scale-set", "0.14.2", {"a": 1}) == ("install", "release not found")
    assert release_action(entry, {"a": 1}, "gha-runner-scale-set", "0.14.2", {"a": 1})[0] == "none"
    assert release_action(entry, {"a": 1}, "gha-runner-scale-set", "0.14.2", {"a": 2}) == ("upgrade", "values differ")
    old = json.loads(recorded("list-scale-set-old.json"))[0]
    assert release_action(old, {"a": 1}, "gha-runner-scale-set", "0.14.2", {"a": 1}) == (
        "upgrade", "chart version 0.13.1 -> 0.14.2")
    failed = json.loads(recorded("list-scale-set-failed.json"))[0]
    assert release_action(failed, {"a": 1}, "gha-runner-scale-set", "0.14.2", {"a": 1}) == (
        "upgrade", "release status is failed")


def test_scale_set_install_then_no_op():
    params = scale_set_params()
    module = FakeModule(params, routes_for("list-empty.json"))
    result = arc_release.run_scale_set(module)
    assert result["changed"] and result["scale_set"]["action"] == "install"
    upgrade = next(c for c in module.commands if c[0] == "upgrade")
    assert upgrade[:4] == ["upgrade", "arc-runner-v6e-1",
                           "oci://ghcr.io/actions/actions-runner-controller-charts/gha-runner-scale-set", "--install"]
    assert "--version" in upgrade and upgrade[upgrade.index("--version") + 1] == "0.14.2"

    module = FakeModule(params, routes_for("list-scale-set-deployed.json", desired_values(params)))
    result = arc_release.run_scale_set(module)
    assert not result["changed"] and result["scale_set"]["action"] == "none"
    assert "upgrade" not in module.verbs()


def test_scale_set_upgrade_on_value_change_and_check_mode_changes_nothing():
    params = scale_set_params()
    current = desired_values(params)
    current["maxRunners"] = 2
    module = FakeModule(params, routes_for("list-scale-set-deployed.json", current), check_mode=True)
    result = arc_release.run_scale_set(module)
    assert result["changed"] and result["scale_set"]["action"] == "upgrade"
    assert "maxRunners" in result["scale_set"]["changed_values"]
    assert result["diff"]["before"]["maxRunners"] == 2 and result["diff"]["after"]["maxRunners"] == 4
    assert "upgrade" not in module.verbs() and "uninstall" not in module.verbs()


def test_label_change_is_refused_with_an_explanation():
    params = scale_set_params(labels=["tpu", "v6e"])
    current = desired_values(scale_set_params(labels=["tpu"]))
    module = FakeModule(params, routes_for("list-scale-set-deployed.json", current))
    with pytest.raises(Failed) as err:
        arc_release.run_scale_set(module)
    msg = err.value.args[0]["msg"]
    assert "was created with labels ['tpu'] and now asks for ['tpu', 'v6e']" in msg
    assert "recreate_on_label_change=true" in msg
    assert "upgrade" not in module.verbs()


def test_label_change_recreates_when_asked():
    params = scale_set_params(labels=["tpu", "v6e"], recreate_on_label_change=True)
    current = desired_values(scale_set_params(labels=["tpu"]))
    module = FakeModule(params, routes_for("list-scale-set-deployed.json", current))
    result = arc_release.run_scale_set(module)
    assert result["scale_set"]["action"] == "recreate"
    verbs = module.verbs()
    assert verbs.index("uninstall") < verbs.index("upgrade")
    uninstall = next(c for c in module.commands if c[0] == "uninstall")
    assert "--wait=watcher" in uninstall


def test_failed_release_is_upgraded_without_rollback_target():
    params = scale_set_params()
    module = FakeModule(params, routes_for("list-scale-set-failed.json", desired_values(params),
                                           upgrade=(1, "", "Error: UPGRADE FAILED: context deadline exceeded")))
    with pytest.raises(Failed) as err:
        arc_release.run_scale_set(module)
    assert err.value.args[0]["rc"] == 1 and "UPGRADE FAILED" in err.value.args[0]["stderr"]
    assert "rollback" not in module.verbs()  # a failed release has no deployed revision to return to


def test_failed_upgrade_of_a_deployed_release_rolls_back():
    params = scale_set_params(max_runners=6)
    module = FakeModule(params, routes_for("list-scale-set-deployed.json", desired_values(scale_set_params()),
                                           upgrade=(1, "", "Error: UPGRADE FAILED: timed out waiting")))
    with pytest.raises(Failed) as err:
        arc_release.run_scale_set(module)
    assert "rolled back to revision 3" in err.value.args[0]["msg"]
    rollback = next(c for c in module.commands if c[0] == "rollback")
    assert rollback[:3] == ["rollback", "arc-runner-v6e-1", "3"]


def test_scale_set_refused_when_the_controller_runs_another_version():
    params = scale_set_params()
    module = FakeModule(params, routes_for("list-empty.json", controller="list-controller-old.json"))
    with pytest.raises(Failed) as err:
        arc_release.run_scale_set(module)
    assert "runs chart 0.13.1 but this scale set asks for 0.14.2" in err.value.args[0]["msg"]


def test_scale_set_refused_when_the_controller_runs_as_another_service_account():
    params = scale_set_params()
    module = FakeModule(params, routes_for("list-empty.json", controller_values="get-values-all-controller-custom-sa.json"))
    with pytest.raises(Failed) as err:
        arc_release.run_scale_set(module)
    assert err.value.args[0]["msg"] == (
        "The ARC controller arc-systems/arc runs as service account platform-arc but this scale set would grant "
        "arc-gha-rs-controller: set controller_service_account=platform-arc")
    params = scale_set_params(controller_service_account="platform-arc")
    module = FakeModule(params, routes_for("list-empty.json", controller_values="get-values-all-controller-custom-sa.json"))
    assert arc_release.run_scale_set(module)["scale_set"]["action"] == "install"


def test_app_credentials_go_to_a_secret_never_to_helm():
    params = scale_set_params(existing_secret=None, github_app_id="1234567", github_app_installation_id="89012345",
                              github_app_private_key=PEM, job_policy={"allowed_events": ["push"]})
    module = FakeModule(params, routes_for("list-empty.json"))
    result = arc_release.run_scale_set(module)
    assert ("Secret", "arc-runner-v6e-1-github-config", True) in ObjectRecorder.ensured
    assert ("ConfigMap", "arc-runner-v6e-1-accelci-hooks", False) in ObjectRecorder.ensured
    assert all("MIIdecisiontestsecret" not in " ".join(c) for c in module.commands)
    assert "MIIdecisiontestsecret" not in json.dumps(result)
    assert PEM in module.no_log_values
    assert result["scale_set"]["values"]["githubConfigSecret"] == "arc-runner-v6e-1-github-config"


@pytest.mark.parametrize("overrides, message", [
    (dict(name="a-very-long-scale-set-name-that-is-over-45-chars"), "ARC accepts at most 45"),
    (dict(min_runners=5, max_runners=2), "min_runners (5) is greater than max_runners (2)"),
    (dict(node_pool="tpu-v7"), "'tpu-v7' is not a node pool of this estate"),
    (dict(existing_secret=None), "GitHub credentials are missing"),
    (dict(existing_secret=None, github_token="ghp_abc", github_app_id="1", github_app_installation_id="2",
          github_app_private_key=PEM), "not both"),
    (dict(node_pool="big", node_pools=[{"name": "big", "tpu": {"accelerator": "v6e", "topology": "4x4"}}]),
     "multi-host TPU slice"),
    (dict(labels=["x" * 300]), "non-empty string of less than 256 characters"),
])
def test_invalid_inputs_fail_before_any_helm_call(overrides, message):
    module = FakeModule(scale_set_params(**overrides), routes_for("list-empty.json"))
    with pytest.raises(Failed) as err:
        arc_release.run_scale_set(module)
    assert message in err.value.args[0]["msg"]
    assert module.commands == [] and ObjectRecorder.ensured == []


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


def test_controller_upgrade_refused_while_old_scale_sets_exist():
    routes = controller_routes("list-controller-old.json", "list-all-namespaces.json", {"flags": {"logLevel": "info"}})
    module = FakeModule(controller_params(), routes)
    with pytest.raises(Failed) as err:
        arc_release.run_controller(module)
    msg = err.value.args[0]["msg"]
    assert "0.13.1 -> 0.14.2" in msg and "arc-runners/arc-runner-v6e-1, arc-runners/arc-runner-v6e-4" in msg
    assert "reinstall_scale_sets=true" in msg
    assert "upgrade" not in module.verbs() and "uninstall" not in module.verbs()


def test_controller_upgrade_in_the_documented_order():
    module = FakeModule(controller_params(reinstall_scale_sets=True),
                        controller_routes("list-controller-old.json", "list-all-namespaces.json", {}))
    result = arc_release.run_controller(module)
    verbs = module.verbs()
    uninstalled = [c[1] for c in module.commands if c[0] == "uninstall"]
    assert uninstalled == ["arc-runner-v6e-1", "arc-runner-v6e-4"]  # ingress-nginx is left alone
    assert verbs.index("uninstall") < verbs.index("upgrade")
    crds = [name for kind, name, _s in ObjectRecorder.ensured if kind == "CustomResourceDefinition"]
    assert "autoscalingrunnersets.actions.github.com" in crds and len(crds) == 4
    assert result["controller"]["action"] == "upgrade"
    assert [s["name"] for s in result["controller"]["removed_scale_sets"]] == ["arc-runner-v6e-1", "arc-runner-v6e-4"]


def test_controller_no_op():
    params = controller_params()
    values = av.controller_values(params)
    module = FakeModule(params, controller_routes("list-controller-deployed.json", "list-controller-deployed.json",
                                                  values))
    result = arc_release.run_controller(module)
    assert not result["changed"] and result["controller"]["action"] == "none"
    assert result["controller"]["service_account"] == {"name": "arc-gha-rs-controller", "namespace": "arc-systems"}


def test_controller_removal_refused_while_scale_sets_exist_then_done_in_order():
    routes = controller_routes("list-controller-old.json", "list-all-namespaces.json")
    with pytest.raises(Failed) as err:
        arc_release.run_controller(FakeModule(controller_params(state="absent"), routes))
    assert "Refusing to remove the ARC controller arc-systems/arc while scale sets exist" in err.value.args[0]["msg"]
    module = FakeModule(controller_params(state="absent", remove_scale_sets=True), routes)
    arc_release.run_controller(module)
    assert [c[1] for c in module.commands if c[0] == "uninstall"] == ["arc-runner-v6e-1", "arc-runner-v6e-4", "arc"]

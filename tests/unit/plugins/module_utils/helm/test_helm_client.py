"""The helm runner against the real helm binary (template, lint, package, show, version) and its safety rules."""
import json
import os
import stat
import subprocess

import pytest
import yaml

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import ApiError
from ansible_collections.accelci.runners.plugins.module_utils.helm import helm_client as helm_mod
from ansible_collections.accelci.runners.plugins.module_utils.helm import release
from ansible_collections.accelci.runners.plugins.module_utils.helm.helm_client import Helm, HelmError

from tests.paths import ROOT
HELM = os.path.join(ROOT, "build", "bin", "helm")
CHARTS = os.path.join(ROOT, "tests", "fixtures", "charts")
SCALE_SET_CHART = os.path.join(CHARTS, "gha-runner-scale-set")
CONTROLLER_CHART = os.path.join(CHARTS, "gha-runner-scale-set-controller")
SECRET = "-----BEGIN RSA PRIVATE KEY-----\nMIIsupersecretmaterial\n-----END RSA PRIVATE KEY-----"

real_helm = pytest.mark.skipif(not os.path.exists(HELM), reason="build/bin/helm missing (make bootstrap extracts it)")

VALUES = {"githubConfigUrl": "https://github.com/o/r", "githubConfigSecret": "accelci-github",
          "controllerServiceAccount": {"name": "arc-gha-rs-controller", "namespace": "arc-systems"},
          "minRunners": 0, "maxRunners": 3}


class Recorder(object):
    """An executor that records argv/env and answers from a script of (rc, stdout, stderr)."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.calls = []
        self.value_files = []

    def __call__(self, argv, env):
        self.calls.append((argv, env))
        if "--values" in argv:
            path = argv[argv.index("--values") + 1]
            self.value_files.append((path, stat.S_IMODE(os.stat(path).st_mode), open(path).read()))
        answer = self.answers.pop(0)
        return answer(argv) if callable(answer) else answer


@real_helm
def test_version_of_the_real_binary():
    assert Helm(binary_path=HELM).version() >= (3, 8, 0)


@pytest.mark.parametrize("text, ok", [("v3.7.2", False), ("v3.8.0", True), ("v3.14.4+g81c902a", True),
                                      ("v4.1.4", True), ("v5.0.0", False)])
def test_version_gate(text, ok):
    runner = Helm(binary_path=HELM if os.path.exists(HELM) else "/bin/true", executor=Recorder([(0, text, "")]))
    if ok:
        assert runner.version() == release.parse_version(text)
    else:
        with pytest.raises(HelmError, match="is not supported"):
            runner.version()


def test_missing_binary_is_a_clear_error(tmp_path):
    with pytest.raises(HelmError, match="is not an executable file"):
        Helm(binary_path=str(tmp_path / "nope")).version()


def test_helm_not_on_path_names_the_real_options(monkeypatch):
    monkeypatch.setattr(helm_mod.shutil, "which", lambda name: None)
    with pytest.raises(HelmError) as err:
        Helm().version()
    assert "set binary_path" in err.value.msg and "validate_with_chart=false" in err.value.msg
    assert "validate=false" not in err.value.msg


def test_helm_error_is_an_api_error_with_details():
    recorder = Recorder([(3, "out", "Error: boom")])
    with pytest.raises(ApiError) as err:
        Helm(binary_path="/bin/true", executor=recorder).uninstall("r", "ns", wait=False)
    kwargs = err.value.fail_json_kwargs()
    assert kwargs["msg"] == "helm uninstall failed (rc=3): Error: boom"
    assert (kwargs["rc"], kwargs["stdout"], kwargs["stderr"]) == (3, "out", "Error: boom")
    assert kwargs["command"] == ["/bin/true", "uninstall", "r", "--namespace", "ns"]


@real_helm
def test_template_renders_the_test_chart_with_kube_version():
    out = Helm(binary_path=HELM).template("arc-runner-v6e-1", SCALE_SET_CHART, "arc-runners", VALUES,
                                          kube_version="1.33")
    docs = [d for d in yaml.safe_load_all(out) if d]
    ars = next(d for d in docs if d["kind"] == "AutoscalingRunnerSet")
    assert ars["spec"]["maxRunners"] == 3 and ars["spec"]["githubConfigSecret"] == "accelci-github"
    binding = next(d for d in docs if d["kind"] == "RoleBinding")
    assert binding["subjects"][0] == {"kind": "ServiceAccount", "name": "arc-gha-rs-controller",
                                      "namespace": "arc-systems"}


@real_helm
@pytest.mark.parametrize("change, message", [
    ({"runnerScaleSetName": "x" * 46}, "Name must have up to 45 characters"),
    ({"minRunners": 5, "maxRunners": 2}, "maxRunners has to be greater or equal to minRunners"),
    ({"scaleSetLabels": [""]}, "scaleSetLabels contains an empty string"),
    ({"githubConfigSecret": ""}, "githubConfigSecret is required"),
    ({"githubConfigSecret": {"github_app_id": "1"}}, "github_app_installation_id and"),
    ({"controllerServiceAccount": None}, "No gha-rs-controller deployment found"),
    ({"containerMode": {"type": "kubernetes"}}, "kubernetesModeWorkVolumeClaim is required"),
])
def test_the_test_chart_enforces_the_real_charts_checks(change, message):
    values = dict(VALUES)
    values.update(change)
    values = dict((k, v) for k, v in values.items() if v is not None)
    with pytest.raises(HelmError) as err:
        Helm(binary_path=HELM).template("arc-runner-v6e-1", SCALE_SET_CHART, "arc-runners", values, kube_version="1.33")
    assert message in err.value.stderr
    assert err.value.rc == 1 and err.value.command[1] == "template"


@real_helm
def test_a_string_min_runners_is_silently_dropped_like_upstream():
    values = dict(VALUES, minRunners="2", maxRunners="5")
    out = Helm(binary_path=HELM).template("x", SCALE_SET_CHART, "arc-runners", values, kube_version="1.33")
    ars = next(d for d in yaml.safe_load_all(out) if d and d["kind"] == "AutoscalingRunnerSet")
    assert "minRunners" not in ars["spec"] and "maxRunners" not in ars["spec"]


@real_helm
def test_lint_package_and_show_on_a_tarball(tmp_path):
    runner = Helm(binary_path=HELM)
    runner.run(["lint", CONTROLLER_CHART])
    runner.run(["package", CONTROLLER_CHART, "--destination", str(tmp_path)])
    tarball = tmp_path / "gha-runner-scale-set-controller-0.14.2.tgz"
    assert tarball.exists()
    assert runner.show_chart(str(tarball))["version"] == "0.14.2"
    out = runner.template("arc", str(tarball), "arc-systems", {"flags": {"logLevel": "info"}}, kube_version="1.33")
    assert "--log-level=info" in out
    chart_dir = runner.pull(str(tarball), None, str(tmp_path / "pulled"))
    assert sorted(os.listdir(os.path.join(chart_dir, "crds")))[0] == "actions.github.com_autoscalinglisteners.yaml"


def test_values_go_through_a_0600_file_that_is_removed_and_argv_has_no_secret():
    recorder = Recorder([(0, "v4.1.4", ""), (0, "Release upgraded", "")])
    runner = Helm(binary_path="/bin/true", executor=recorder, secrets=[SECRET], kubeconfig="/k/config", context="ctx")
    runner.upgrade_install("r", "oci://example/chart", "ns", {"githubConfigSecret": {"github_app_private_key": SECRET}},
                           version="0.14.2", wait=True, timeout=300)
    argv, env = recorder.calls[-1]
    assert all(SECRET not in arg and "MIIsupersecretmaterial" not in arg for arg in argv)
    assert argv[1:4] == ["upgrade", "r", "oci://example/chart"]
    assert "--wait=watcher" in argv and argv[argv.index("--timeout") + 1] == "300s"
    assert "--version" in argv and "--reset-values" in argv
    assert env == {"KUBECONFIG": "/k/config", "HELM_KUBECONTEXT": "ctx"}
    path, mode, content = recorder.value_files[0]
    assert mode == 0o600 and "MIIsupersecretmaterial" in content
    assert not os.path.exists(path)


def test_helm3_flags():
    recorder = Recorder([(0, "v3.14.4", ""), (0, "[]", ""), (0, "ok", "")])
    runner = Helm(binary_path="/bin/true", executor=recorder)
    runner.get_release("r", "ns")
    runner.uninstall("r", "ns", wait=True, timeout=60)
    assert "--all" in recorder.calls[1][0]
    assert "--wait" in recorder.calls[2][0] and "--wait=watcher" not in recorder.calls[2][0]


def test_failures_report_rc_output_and_command_with_secrets_masked():
    stderr = "Error: UPGRADE FAILED: cannot patch Secret with data %s" % SECRET
    recorder = Recorder([(0, "v4.1.4", ""), (1, "", stderr), (0, "Rollback was a success!", "")])
    runner = Helm(binary_path="/bin/true", executor=recorder, secrets=[SECRET])
    with pytest.raises(HelmError) as err:
        runner.upgrade_install("r", "chart", "ns", {}, previous={"revision": "3", "status": "deployed"})
    text = json.dumps(err.value.fail_json_kwargs())
    assert "MIIsupersecretmaterial" not in text and "BEGIN RSA" not in text
    assert err.value.rc == 1 and "UPGRADE FAILED" in err.value.stderr
    assert "rolled back to revision 3" in err.value.msg
    assert recorder.calls[2][0][1:4] == ["rollback", "r", "3"]


def test_no_rollback_without_a_deployed_revision():
    recorder = Recorder([(0, "v4.1.4", ""), (1, "", "Error: INSTALLATION FAILED: timed out")])
    runner = Helm(binary_path="/bin/true", executor=recorder)
    with pytest.raises(HelmError, match="INSTALLATION FAILED"):
        runner.upgrade_install("r", "chart", "ns", {}, previous=None)
    assert len(recorder.calls) == 2


def test_helm_diff_detection_and_exit_codes():
    recorder = Recorder([(0, "NAME\tVERSION\tDESCRIPTION\ndiff\t3.9.11\tPreview helm upgrade changes as a diff\n", ""),
                         (2, "arc-runners, arc-runner-v6e-1, AutoscalingRunnerSet\n-  maxRunners: 4\n+  maxRunners: 5\n", "")])
    runner = Helm(binary_path="/bin/true", executor=recorder)
    assert runner.has_diff_plugin()
    changed, text = runner.diff_upgrade("arc-runner-v6e-1", "chart", "arc-runners", {"maxRunners": 5})
    assert changed and "+  maxRunners: 5" in text
    argv = recorder.calls[1][0]
    assert argv[1:3] == ["diff", "upgrade"] and "--detailed-exitcode" in argv


@real_helm
def test_real_helm_runs_through_subprocess_without_a_shell(tmp_path, monkeypatch):
    calls = []
    original = subprocess.run

    def spy(argv, **kwargs):
        calls.append((argv, kwargs))
        return original(argv, **kwargs)  # pylint: disable=subprocess-run-check  # the caller sets check

    monkeypatch.setattr(helm_mod.subprocess, "run", spy)
    Helm(binary_path=HELM).version()
    assert isinstance(calls[0][0], list) and not calls[0][1].get("shell")


REFUSED = ('Error: Kubernetes cluster unreachable: Get "https://127.0.0.1:6443/version": dial tcp 127.0.0.1:6443: '
           'connect: connection refused')
UNTRUSTED = ('Error: Kubernetes cluster unreachable: Get "https://127.0.0.1:6443/version": tls: failed to verify '
             'certificate: x509: certificate signed by unknown authority')


def test_a_cluster_not_reached_is_retried_like_a_503():
    recorder = Recorder([(1, "", REFUSED), (1, "", REFUSED), (0, "[]", "")])
    runner = Helm(binary_path="/bin/true", executor=recorder)
    runner.retry_policy.base = 0.001  # retry timing is the test's to choose, in-process
    assert runner.run(["list", "--all-namespaces", "--output", "json"]) == (0, "[]", "")
    assert len(recorder.calls) == 3


def test_a_cluster_never_reached_names_the_reason_and_the_attempts():
    recorder = Recorder([(1, "", REFUSED)] * 200)
    runner = Helm(binary_path="/bin/true", executor=recorder, retry_timeout=0.2)
    runner.retry_policy.base = 0.001
    with pytest.raises(HelmError) as err:
        runner.uninstall("r", "ns", wait=False)
    attempts = len(recorder.calls)
    assert attempts > 1
    assert err.value.msg.startswith("helm uninstall: the Kubernetes API could not be reached: connection refused "
                                    "(%d attempts over 0 s); check kubeconfig and context" % attempts), err.value.msg


@pytest.mark.parametrize("stderr", [UNTRUSTED, "Error: UPGRADE FAILED: connection refused by webhook"])
def test_other_failures_are_not_retried(stderr):
    recorder = Recorder([(1, "", stderr)])
    runner = Helm(binary_path="/bin/true", executor=recorder)
    with pytest.raises(HelmError):
        runner.uninstall("r", "ns", wait=False)
    assert len(recorder.calls) == 1

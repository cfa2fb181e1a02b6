"""The job-start hook refuses jobs by event, repository, ref and fork origin: run with bash on recorded payloads."""
import json
import os
import shutil
import subprocess

import pytest

from ansible_collections.accelci.runners.plugins.module_utils.arc.job_policy import (
    JobPolicyError,
    job_started_script,
    normalize_policy,
)

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")

POLICY = {"allowed_events": ["push", "pull_request", "workflow_dispatch"], "denied_events": [],
          "allowed_repositories": ["alexshires/*"], "allowed_refs": ["refs/heads/main", "refs/pull/*", "refs/tags/v*"],
          "deny_fork_pull_requests": True}


def pr_payload(head_repo):
    head = {"repo": {"full_name": head_repo}} if head_repo else {"repo": None}
    return {"pull_request": {"head": head, "base": {"repo": {"full_name": "alexshires/sglang-jax"}}}}


def run_hook(tmp_path, policy, event, repository="alexshires/sglang-jax", ref="refs/heads/main", payload=None,
             path=None):
    script = tmp_path / "job-started.sh"
    script.write_text(job_started_script(policy, "arc-runner-v6e-1"))
    event_path = tmp_path / "event.json"
    event_path.write_text(json.dumps(payload or {}))
    env = {"PATH": path or os.environ["PATH"], "GITHUB_EVENT_NAME": event, "GITHUB_REPOSITORY": repository,
           "GITHUB_REF": ref, "GITHUB_EVENT_PATH": str(event_path)}
    proc = subprocess.run([shutil.which("bash"), str(script)], env=env, capture_output=True, text=True, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def test_allowed_push_runs(tmp_path):
    assert run_hook(tmp_path, POLICY, "push")[0] == 0


@pytest.mark.parametrize("kwargs, message", [
    (dict(event="issue_comment"), "event 'issue_comment' is not allowed on this runner"),
    (dict(event="push", repository="someone/else"), "repository 'someone/else' is not allowed"),
    (dict(event="push", ref="refs/heads/feature"), "ref 'refs/heads/feature' is not allowed"),
    (dict(event="pull_request", ref="refs/pull/7/merge", payload=pr_payload("mallory/sglang-jax")),
     "pull request from 'mallory/sglang-jax' into 'alexshires/sglang-jax': pull requests from forks are not run"),
    (dict(event="pull_request", ref="refs/pull/7/merge", payload=pr_payload(None)), "a deleted fork"),
])
def test_refusals(tmp_path, kwargs, message):
    rc, output = run_hook(tmp_path, POLICY, **kwargs)
    assert rc == 1
    assert message in output
    assert "::error title=Job refused by runner policy::" in output


def test_same_repository_pull_request_runs(tmp_path):
    rc, output = run_hook(tmp_path, POLICY, "pull_request", ref="refs/pull/8/merge",
                          payload=pr_payload("alexshires/sglang-jax"))
    assert rc == 0, output


def test_denied_event_wins(tmp_path):
    policy = dict(POLICY, allowed_events=[], denied_events=["pull_request_target"])
    rc, output = run_hook(tmp_path, policy, "pull_request_target", ref="refs/pull/1/merge",
                          payload=pr_payload("alexshires/sglang-jax"))
    assert rc == 1 and "event 'pull_request_target' is denied" in output


def test_fork_check_fails_closed_without_a_json_reader(tmp_path):
    # A PATH with bash's basic tools but neither jq nor node: the hook refuses rather than guess.
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for tool in ("ls", "sort", "tail"):
        os.symlink(shutil.which(tool), bindir / tool)
    rc, output = run_hook(tmp_path, POLICY, "pull_request", ref="refs/pull/8/merge",
                          payload=pr_payload("alexshires/sglang-jax"), path=str(bindir))
    assert rc == 1 and "neither jq nor node" in output


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node")
def test_fork_check_reads_the_payload_with_node_when_jq_is_missing(tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for tool in ("ls", "sort", "tail", "node"):
        os.symlink(shutil.which(tool), bindir / tool)
    rc, output = run_hook(tmp_path, POLICY, "pull_request", ref="refs/pull/8/merge",
                          payload=pr_payload("mallory/sglang-jax"), path=str(bindir))
    assert rc == 1 and "mallory/sglang-jax" in output
    rc, output = run_hook(tmp_path, POLICY, "pull_request", ref="refs/pull/8/merge",
                          payload=pr_payload("alexshires/sglang-jax"), path=str(bindir))
    assert rc == 0, output


@pytest.mark.parametrize("policy, message", [
    ({"allowed_events": "push"}, "must be a list of strings"),
    ({"allowed_events": ["Push!"]}, "is not a GitHub event name"),
    ({"allowed_repositories": ["just-a-name"]}, "is not OWNER/REPO"),
    ({"allowed_refs": ["refs/heads/it's"]}, "no quotes"),
    ({"branches": ["main"]}, "unknown keys branches"),
])
def test_invalid_policies(policy, message):
    with pytest.raises(JobPolicyError, match=message):
        normalize_policy(policy)

"""The GitHub registration check over HTTP against the GitHub stand-in (tests/emulators/github.py): the scale set
is looked up under the id the controller recorded, as ARC's controller reaches the Actions service; a token GitHub
refuses is reported with what it needs, and never quoted."""

import pytest

from ansible_collections.accelci.runners.plugins.module_utils.arc.checks import run_runner_checks
from ansible_collections.accelci.runners.plugins.module_utils.arc.github_registration import (
    GitHubRegistration,
    GitHubRegistrationError,
)
from tests.emulators.github import GitHubStandIn
from tests.unit.plugins.module_utils.arc.test_checks import EXPECTED, NOW, FakeCluster, healthy

CONFIG_URL = "https://github.com/accelci-demo/runners"
TOKEN = "ghp_unitonlynotarealtoken0123456789"


@pytest.fixture()
def github():
    with GitHubStandIn({TOKEN: ["repos/accelci-demo/runners"], "ghp_readonly": []}) as standin:
        yield standin


def test_a_registered_scale_set_is_found_under_its_id(github):
    scale_set_id = github.register(CONFIG_URL, "v6e-1")
    client = GitHubRegistration(CONFIG_URL, TOKEN, api_url=github.url)
    found = client.scale_set(scale_set_id)
    assert found["name"] == "v6e-1" and found["runnerGroupName"] == "Default"
    assert client.scale_set(999) is None
    # One registration token and one Actions service token per configuration URL, then only lookups.
    assert [p for _m, p in github.requests] == ["/repos/accelci-demo/runners/actions/runners/registration-token",
                                                "/actions/runner-registration",
                                                "/actions-service/_apis/runtime/runnerscalesets/%d" % scale_set_id,
                                                "/actions-service/_apis/runtime/runnerscalesets/999"]


@pytest.mark.parametrize("token, status, needs", [
    ("ghp_wrong", "401 Bad credentials", "administration write on the repository"),
    ("ghp_readonly", "403 Resource not accessible by personal access token", "repo scope"),
])
def test_a_refused_token_says_what_it_needs_and_is_not_quoted(github, token, status, needs):
    with pytest.raises(GitHubRegistrationError) as refused:
        GitHubRegistration(CONFIG_URL, token, api_url=github.url).scale_set(1)
    message = str(refused.value)
    assert message.startswith("registration token: GitHub answered " + status)
    assert needs in message and token not in message


def checks_with_github(github, objects, token=TOKEN):
    results = run_runner_checks(FakeCluster(objects), {"release": "arc", "namespace": "arc-systems"}, [EXPECTED],
                                now=NOW, github_token=token, github_api_url=github.url)
    return results[-1]


def with_id(scale_set_id, config_url=CONFIG_URL):
    objects = healthy()
    ars = objects[("AutoscalingRunnerSet", "arc-runners", "v6e-1")]
    ars["metadata"]["annotations"]["runner-scale-set-id"] = str(scale_set_id)
    ars["spec"]["githubConfigUrl"] = config_url
    return objects


def test_the_registration_check_passes_and_fails_on_what_github_holds(github):
    scale_set_id = github.register(CONFIG_URL, "v6e-1")
    check = checks_with_github(github, with_id(scale_set_id))
    assert check["check"] == "scale set v6e-1 registered with GitHub (%s)" % CONFIG_URL
    assert check["status"] == "PASS" and check["reason"].startswith("id %d, name v6e-1, runner group Default" % scale_set_id)
    gone = checks_with_github(github, with_id(scale_set_id + 10))
    assert gone["status"] == "FAIL" and "GitHub has no runner scale set %d" % (scale_set_id + 10) in gone["reason"]
    other = github.register(CONFIG_URL, "gpu-l4")
    renamed = checks_with_github(github, with_id(other))
    assert renamed["status"] == "FAIL" and "is named gpu-l4, not v6e-1" in renamed["reason"]
    refused = checks_with_github(github, with_id(scale_set_id), token="ghp_wrong")
    assert refused["status"] == "FAIL" and "401 Bad credentials" in refused["reason"]
    assert "ghp_wrong" not in refused["reason"] + refused["fix"]


def test_without_a_token_no_github_request_is_made(github):
    results = run_runner_checks(FakeCluster(with_id(1)), {"release": "arc", "namespace": "arc-systems"}, [EXPECTED],
                                now=NOW, github_api_url=github.url)
    assert not any("registered with GitHub (" in r["check"] for r in results)
    assert github.requests == []

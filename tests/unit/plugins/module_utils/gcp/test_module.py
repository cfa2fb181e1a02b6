"""GcpModule: retried calls with the Google predicate, errors raised as ApiError, timing from the policy."""

import pytest
from ansible.module_utils.testing import patch_module_args
from google.api_core import exceptions as gexc

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import ApiError
from ansible_collections.accelci.runners.plugins.module_utils._common.retries import RetryPolicy
from ansible_collections.accelci.runners.plugins.module_utils.gcp.api_errors import is_retryable
from ansible_collections.accelci.runners.plugins.module_utils.gcp.module import GcpModule
from tests.unit.plugins.module_utils.gcp.fakes import BUSY, FakeClock, rest_error


def test_retries_until_success_with_growing_jittered_delays():
    clock = FakeClock()
    outcomes = [rest_error(429, "RESOURCE_EXHAUSTED", "slow down"), BUSY, BUSY, "done"]

    def call():
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    seen = []
    policy = RetryPolicy(is_retryable, timeout=60, base=1.0, cap=30.0, clock=clock, sleep=clock.sleep,
                         rng=lambda: 1.0)
    assert policy.call(call, on_retry=lambda exc, attempt, delay: seen.append(attempt)) == "done"
    assert clock.sleeps == [1.0, 2.0, 4.0]  # the upper bounds; the real rng draws below them
    assert seen == [0, 1, 2]


def test_non_retryable_error_is_raised_at_once():
    policy = RetryPolicy(is_retryable, timeout=60, sleep=lambda s: pytest.fail("must not sleep"))
    denied = rest_error(403, "PERMISSION_DENIED", "Insufficient regional quota to satisfy request")

    def refuse():
        raise denied

    with pytest.raises(gexc.Forbidden):
        policy.call(refuse)


def test_retries_stop_at_the_deadline():
    clock = FakeClock()
    policy = RetryPolicy(is_retryable, timeout=10, base=4.0, cap=30.0, clock=clock, sleep=clock.sleep,
                         rng=lambda: 1.0)

    def always_busy():
        raise BUSY

    with pytest.raises(gexc.BadRequest):
        policy.call(always_busy)
    assert sum(clock.sleeps) <= 10


def test_retry_timing_comes_from_the_policy_not_the_environment(monkeypatch):
    monkeypatch.setenv("ACCELCI_RETRY_BASE_SECONDS", "0.05")
    with patch_module_args({"project": "p", "api_endpoint": "http://127.0.0.1:1"}):
        module = GcpModule("container", {"wait_timeout": dict(type="int", default=120)})
    assert module.retry_policy.base == RetryPolicy.DEFAULT_BASE == 1.0
    assert module.retry_policy.timeout == 120
    assert module.retry_policy.predicate is is_retryable
    # Tests lower the default in-process, for every policy built afterwards.
    monkeypatch.setattr(RetryPolicy, "DEFAULT_BASE", 0.01)
    with patch_module_args({"project": "p", "api_endpoint": "http://127.0.0.1:1"}):
        assert GcpModule("container", {}).retry_policy.base == 0.01


def test_api_errors_become_api_error_with_status_and_retries():
    with patch_module_args({"project": "p", "api_endpoint": "http://127.0.0.1:1"}):
        module = GcpModule("container", {})
    module.retry_policy = RetryPolicy(is_retryable, timeout=60, base=0.0)
    outcomes = [rest_error(503, "UNAVAILABLE", "try later"), rest_error(403, "PERMISSION_DENIED", "denied")]

    def call():
        raise outcomes.pop(0)

    with pytest.raises(ApiError) as err:
        module.call("read cluster c", call)
    assert str(err.value) == "Failed to read cluster c: HTTP 403 PERMISSION_DENIED: denied"
    assert err.value.details["status"] == "PERMISSION_DENIED" and err.value.details["http_code"] == 403
    assert [r["error"] for r in err.value.details["retries"]] == ["HTTP 503 UNAVAILABLE: try later"]

    def missing():
        raise rest_error(404, "NOT_FOUND", "no such cluster")

    assert module.call("read cluster c", missing, not_found_ok=True) is None

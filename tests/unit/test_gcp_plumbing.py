"""Retries, the operation waiter, credentials and error translation (no server)."""

import json

import pytest
import requests
from google.api_core import exceptions as gexc
from google.auth.credentials import AnonymousCredentials
from google.cloud import container_v1
from google.oauth2 import credentials as oauth2_credentials

from ansible_collections.accelci.runners.plugins.module_utils import gcp
from ansible_collections.accelci.runners.plugins.module_utils.gke_operations import (
    OperationFailed,
    OperationTimeout,
    operation_path,
    wait_for_operation,
)
from ansible_collections.accelci.runners.plugins.module_utils.retries import (
    RetryPolicy,
    error_message,
    is_cluster_busy,
    is_retryable,
)


def rest_error(code, status, message):
    """An api_core exception as the REST transport raises it: HTTP code, and the JSON body on .response."""
    response = requests.Response()
    response.status_code = code
    response._content = json.dumps({"error": {"code": code, "status": status, "message": message}}).encode()
    response.request = requests.Request("POST", "http://127.0.0.1/v1/x").prepare()
    return gexc.from_http_response(response)


BUSY = rest_error(400, "FAILED_PRECONDITION",
                  "Cluster is running incompatible operation operation-1700000000000-abcd1234.")


class FakeClock:
    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def test_retry_predicate():
    assert is_retryable(rest_error(429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'Requests'"))
    assert is_retryable(rest_error(503, "UNAVAILABLE", "The service is currently unavailable."))
    assert is_retryable(BUSY) and is_cluster_busy(BUSY)
    assert not is_retryable(rest_error(400, "INVALID_ARGUMENT", "TPU topology can't be specified"))
    assert not is_retryable(rest_error(403, "PERMISSION_DENIED", "Insufficient regional quota"))
    assert not is_retryable(rest_error(404, "NOT_FOUND", "Not found"))
    assert not is_retryable(ValueError("not an API error"))


def test_error_message_comes_from_the_body():
    assert error_message(BUSY).startswith("Cluster is running incompatible operation")
    assert gcp.describe_api_error(BUSY) == (
        "HTTP 400 FAILED_PRECONDITION: Cluster is running incompatible operation operation-1700000000000-abcd1234.")


def test_retries_until_success_with_growing_jittered_delays():
    clock = FakeClock()
    outcomes = [rest_error(429, "RESOURCE_EXHAUSTED", "slow down"), BUSY, BUSY, "done"]

    def call():
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    seen = []
    policy = RetryPolicy(timeout=60, base=1.0, cap=30.0, clock=clock, sleep=clock.sleep, rng=lambda: 1.0)
    assert policy.call(call, on_retry=lambda exc, attempt, delay: seen.append(attempt)) == "done"
    assert clock.sleeps == [1.0, 2.0, 4.0]  # the upper bounds; the real rng draws below them
    assert seen == [0, 1, 2]


def test_non_retryable_error_is_raised_at_once():
    policy = RetryPolicy(timeout=60, sleep=lambda s: pytest.fail("must not sleep"))
    denied = rest_error(403, "PERMISSION_DENIED", "Insufficient regional quota to satisfy request")

    def refuse():
        raise denied

    with pytest.raises(gexc.Forbidden):
        policy.call(refuse)


def test_retries_stop_at_the_deadline():
    clock = FakeClock()
    policy = RetryPolicy(timeout=10, base=4.0, cap=30.0, clock=clock, sleep=clock.sleep, rng=lambda: 1.0)

    def always_busy():
        raise BUSY

    with pytest.raises(gexc.BadRequest):
        policy.call(always_busy)
    assert sum(clock.sleeps) <= 10


def operation(status, code=0, message=""):
    op = container_v1.Operation(name="operation-1", status=status)
    if code or message:
        op.error = {"code": code, "message": message}
    return op


def test_waiter_polls_until_done():
    clock = FakeClock()
    states = [operation(1), operation(2), operation(2), operation(3)]
    polled = []
    result = wait_for_operation(lambda name: states.pop(0), "projects/p/locations/l/operations/operation-1",
                                timeout=60, clock=clock, sleep=clock.sleep, on_poll=polled.append)
    assert int(result.status) == 3
    assert len(polled) == 4
    assert clock.sleeps == sorted(clock.sleeps)  # backs off


def test_waiter_surfaces_the_operation_error():
    gang = "Requested invalid target size 3 in the gang mode of size 4."
    with pytest.raises(OperationFailed) as err:
        wait_for_operation(lambda name: operation(3, 3, gang), "op", timeout=5, sleep=lambda s: None)
    assert err.value.code == 3
    assert str(err.value) == "operation operation-1 failed with INVALID_ARGUMENT: " + gang


def test_waiter_times_out_on_the_monotonic_clock():
    clock = FakeClock()
    with pytest.raises(OperationTimeout, match="still running"):
        wait_for_operation(lambda name: operation(2), "op", timeout=10, clock=clock, sleep=clock.sleep)
    assert clock.now == pytest.approx(10)


def test_operation_path():
    assert operation_path("p", "us-central1-b", "operation-1") == "projects/p/locations/us-central1-b/operations/operation-1"
    assert operation_path("p", "l", "projects/p/locations/l/operations/o") == "projects/p/locations/l/operations/o"


def test_emulator_endpoint_gets_no_credentials():
    params = {"api_endpoint": "http://127.0.0.1:8089", "auth_kind": None}
    assert gcp.resolved_auth_kind(params) == "none"
    assert isinstance(gcp.gcp_credentials(params), AnonymousCredentials)


def test_access_token_credentials():
    params = {"auth_kind": None, "access_token": "ya29.token-for-test", "api_endpoint": None}
    assert gcp.resolved_auth_kind(params) == "accesstoken"
    creds = gcp.gcp_credentials(params)
    assert isinstance(creds, oauth2_credentials.Credentials)
    assert creds.token == "ya29.token-for-test"


def test_missing_service_account_key_names_the_options():
    with pytest.raises(gcp.GcpCredentialsError, match="service_account_file or service_account_contents"):
        gcp.gcp_credentials({"auth_kind": "serviceaccount"})


def test_no_default_credentials_says_how_to_get_them(monkeypatch, tmp_path):
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    with pytest.raises(gcp.GcpCredentialsError, match="gcloud auth application-default login"):
        gcp.gcp_credentials({"auth_kind": "application"})


def test_client_factory_points_at_the_endpoint():
    client = gcp.gcp_client("container", {"api_endpoint": "http://127.0.0.1:8089", "project": "p"})
    assert client._transport._host == "http://127.0.0.1:8089"
    with pytest.raises(ValueError, match="unknown service"):
        gcp.gcp_client("compute", {"api_endpoint": "http://127.0.0.1:1"})


class FakeModule:
    """Enough of GcpModule for the managers: params, a client, call() and failures as exceptions."""

    def __init__(self, client, **params):
        self.params = dict(project="p", location="us-central1-b", name="ci-runners", wait=True, wait_timeout=60,
                           **params)
        self.client = client
        self.check_mode = False
        self.retry_log = []
        self.retry_policy = RetryPolicy(timeout=5, base=0.0)

    def call(self, action, func, *args, **kwargs):
        kwargs.pop("not_found_ok", None)
        return func(*args, **kwargs)

    def fail_api(self, action, exc, **extra):
        raise AssertionError("fail_api: %s: %s" % (action, exc))

    def fail_json(self, **kwargs):
        raise AssertionError("fail_json: %s" % kwargs)


def test_stale_label_fingerprint_is_read_again_and_retried_once():
    from ansible_collections.accelci.runners.plugins.module_utils.gke_cluster_manager import ClusterManager

    stale = rest_error(400, "FAILED_PRECONDITION", "Labels could not be set due to fingerprint mismatch; try again "
                       "with the proper fingerprint: incorrect fingerprint supplied was \"a\", the expected one is \"b\".")
    sent = []

    class Client:
        def set_labels(self, request):
            sent.append(request.label_fingerprint)
            if len(sent) == 1:
                raise stale
            return container_v1.Operation(name="operation-2", status=1)

        def get_cluster(self, name):
            return container_v1.Cluster(name="ci-runners", label_fingerprint="b")

        def get_operation(self, name):
            return container_v1.Operation(name="operation-2", status=3)

    manager = ClusterManager(FakeModule(Client()))
    manager._set_labels({"team": "ml"}, "a")
    assert sent == ["a", "b"]
    assert manager.ops.operations == [{"action": "set labels on cluster ci-runners", "operation": "operation-2",
                                       "status": "DONE"}]

"""Errors tell the cause: a client library's RetryError is read through to its last error, an endpoint that cannot
be reached is retried like a 503 and then named (service, host, URL), and the library's own retry is turned off so
every attempt is recorded."""

import pytest
import requests
from ansible.module_utils.testing import patch_module_args
from google.api_core import exceptions as gexc
from google.api_core import retry as api_retry

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import ApiError
from ansible_collections.accelci.runners.plugins.module_utils._common.retries import RetryPolicy
from ansible_collections.accelci.runners.plugins.module_utils.gcp import api_errors
from ansible_collections.accelci.runners.plugins.module_utils.gcp.module import GcpModule, service_endpoint
from tests.unit.plugins.module_utils.gcp.fakes import rest_error

UNAVAILABLE = rest_error(503, "UNAVAILABLE", "The service is currently unavailable.")
REFUSED = requests.exceptions.ConnectionError(
    "HTTPConnectionPool(host='127.0.0.1', port=9): Max retries exceeded with url: /v1/x (Caused by "
    "NewConnectionError('<urllib3.connection.HTTPConnection object>: Failed to establish a new connection: "
    "[Errno 111] Connection refused'))")


def gapic_retry_error(cause):
    """What api_core raises when its own retry gives up: the message hides the cause."""
    return gexc.RetryError("Timeout of 20.0s exceeded", cause)


def module(endpoint="http://127.0.0.1:9", service="container"):
    with patch_module_args({"project": "p", "api_endpoint": endpoint}):
        built = GcpModule(service, {})
    built.retry_policy = RetryPolicy(api_errors.is_retryable, timeout=60, base=0.0)
    return built


def test_retry_error_is_read_through_to_its_cause():
    wrapped = gapic_retry_error(UNAVAILABLE)
    assert api_errors.error_http_code(wrapped) == 503
    assert api_errors.error_status(wrapped) == "UNAVAILABLE"
    assert api_errors.describe_api_error(wrapped) == "HTTP 503 UNAVAILABLE: The service is currently unavailable."
    assert api_errors.is_retryable(wrapped)
    assert not api_errors.is_retryable(gapic_retry_error(rest_error(403, "PERMISSION_DENIED", "denied")))


def test_unreachable_endpoints_are_retryable_and_said_plainly():
    assert api_errors.is_retryable(REFUSED)
    assert api_errors.describe_api_error(REFUSED) == "endpoint not reached: connection refused"
    assert api_errors.is_retryable(requests.exceptions.ConnectTimeout("timed out"))
    assert api_errors.connection_reason(requests.exceptions.ConnectionError(
        "Failed to resolve 'nowhere.invalid' ([Errno -2] Name or service not known)")) == "host name not found"


def test_a_503_that_never_clears_reports_its_last_cause_and_every_retry():
    gcp = module()
    attempts = []

    def poll(name, retry=api_retry.Retry()):
        attempts.append(retry)
        raise UNAVAILABLE

    gcp.retry_policy = RetryPolicy(api_errors.is_retryable, timeout=0.05, base=0.001)
    with pytest.raises(ApiError) as failure:
        gcp.call("read operation operation-1", poll, name="operation-1")
    assert str(failure.value) == ("Failed to read operation operation-1: HTTP 503 UNAVAILABLE: The service is "
                                  "currently unavailable.")
    assert "Timeout of" not in str(failure.value)
    assert failure.value.details["status"] == "UNAVAILABLE" and failure.value.details["http_code"] == 503
    assert len(failure.value.details["retries"]) == len(attempts) - 1 >= 1
    # The library's own retry was off: each attempt was one request, recorded by the module's policy.
    assert set(attempts) == {None}


def test_a_library_retry_error_still_names_the_cause():
    gcp = module()

    def read():
        raise gapic_retry_error(rest_error(403, "PERMISSION_DENIED", "Permission denied on cluster"))

    with pytest.raises(ApiError, match="^Failed to read cluster c: HTTP 403 PERMISSION_DENIED: Permission denied"):
        gcp.call("read cluster c", read)


def test_refused_connection_is_retried_then_names_service_host_and_url():
    gcp = module("http://127.0.0.1:9")
    outcomes = [REFUSED, REFUSED, "cluster"]

    def read():
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert gcp.call("read cluster c", read) == "cluster"
    assert [entry["error"] for entry in gcp.retry_log] == ["endpoint not reached: connection refused"] * 2

    gcp = module("http://127.0.0.1:9")
    gcp.retry_policy = RetryPolicy(api_errors.is_retryable, timeout=0.05, base=0.001)

    def refused():
        raise REFUSED

    with pytest.raises(ApiError) as failure:
        gcp.call("read cluster c", refused)
    message = str(failure.value)
    assert message.startswith("Failed to read cluster c: the GKE API at 127.0.0.1:9 (http://127.0.0.1:9) could "
                              "not be reached: connection refused (")
    assert "urllib3" not in message and "HTTPConnectionPool" not in message
    assert failure.value.details["endpoint"] == "http://127.0.0.1:9"
    assert failure.value.details["service"] == "container"
    assert failure.value.details["retries"]


@pytest.mark.parametrize("service, endpoint, expected", [
    ("container", None, ("GKE API", "container.googleapis.com", "https://container.googleapis.com")),
    ("filestore", None, ("Filestore API", "file.googleapis.com", "https://file.googleapis.com")),
    ("storage", "http://127.0.0.1:4443/", ("Cloud Storage API", "127.0.0.1:4443", "http://127.0.0.1:4443")),
    ("compute", None, ("Compute Engine API", "compute.googleapis.com", "https://compute.googleapis.com")),
])
def test_service_endpoint_names(service, endpoint, expected):
    assert service_endpoint(service, endpoint) == expected


def test_other_errors_are_not_swallowed():
    gcp = module()

    def broken():
        raise KeyError("bug")

    with pytest.raises(KeyError):
        gcp.call("read cluster c", broken)

"""Reading Google API errors and the Google retry predicate (no server)."""

from ansible_collections.accelci.runners.plugins.module_utils.gcp.api_errors import (
    describe_api_error,
    error_http_code,
    error_message,
    error_status,
    is_cluster_busy,
    is_retryable,
)
from tests.unit.plugins.module_utils.gcp.fakes import BUSY, rest_error


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
    assert error_status(BUSY) == "FAILED_PRECONDITION" and error_http_code(BUSY) == 400
    assert error_http_code(ValueError("no code")) is None
    assert describe_api_error(BUSY) == (
        "HTTP 400 FAILED_PRECONDITION: Cluster is running incompatible operation operation-1700000000000-abcd1234.")

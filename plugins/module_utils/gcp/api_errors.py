# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Reading Google API errors: status name, HTTP code, the API's own message, and what is worth retrying.

Retried: throttling (429), server errors (500, 502, 503, 504), GKE's "another operation is running on this
cluster" FAILED_PRECONDITION, which clears once that operation finishes, and an endpoint that could not be reached
(connection refused or reset, a name that does not resolve, a timeout; not an untrusted TLS certificate), which a
restarting or overloaded front end answers with as often as with a 503. Everything else fails at once.

A client library that retried by itself raises api_core's RetryError ("Timeout of 20.0s exceeded"), which hides
what went wrong: every function here reads its ``cause`` instead. The functions read attributes only (duck
typing), so they need no Google library to import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.accelci.runners.plugins.module_utils._common.retries import (
    PERMANENT_UNREACHABLE_REASONS,
    RETRYABLE_HTTP_CODES,
    unreachable_reason,
)

try:
    from requests import exceptions as requests_exceptions

    _CONNECTION_ERRORS = (requests_exceptions.ConnectionError, requests_exceptions.Timeout, ConnectionError)
except ImportError:  # requests comes with every Google client library; without it only the builtin errors apply
    _CONNECTION_ERRORS = (ConnectionError,)

# Phrases GKE uses when a cluster is busy with another operation (HTTP 400, status FAILED_PRECONDITION).
_BUSY_PHRASES = ("incompatible operation", "please wait and try again")


def root_cause(exc):
    """The error behind a client library's RetryError (its last attempt's), else the error itself."""
    seen = 0
    while getattr(exc, "cause", None) is not None and type(exc).__name__ == "RetryError" and seen < 5:
        exc = exc.cause
        seen += 1
    return exc


def is_connection_error(exc):
    """True when the endpoint could not be reached at all (no HTTP answer)."""
    exc = root_cause(exc)
    if isinstance(exc, _CONNECTION_ERRORS):
        return True
    # google.auth's TransportError (fetching a token) wraps the same urllib3 errors.
    return type(exc).__name__ == "TransportError" and connection_reason(exc) is not None


def connection_reason(exc):
    """'connection refused', 'host name not found', ... from an unreachable endpoint's error, or None."""
    return unreachable_reason(root_cause(exc))


def _error_body_field(exc, key):
    """A field of the JSON error body of a REST error ({"error": {...}}), or None."""
    response = getattr(exc, "response", None)
    if response is None:
        return None
    try:
        return response.json().get("error", {}).get(key)
    except Exception:  # not JSON, or no body
        return None


def error_status(exc):
    """Return the google.rpc status name of an API exception ("FAILED_PRECONDITION"), or None.

    Over REST, api_core maps errors by HTTP code (a FAILED_PRECONDITION arrives as BadRequest), so the status
    name is read from the response body when there is one.
    """
    exc = root_cause(exc)
    status = _error_body_field(exc, "status")
    if status:
        return status
    grpc_status = getattr(exc, "grpc_status_code", None)
    return getattr(grpc_status, "name", None)


def error_message(exc):
    """The API's own message: from the JSON error body when there is one (REST errors otherwise prefix it with
    the method and URL), else the exception's message."""
    exc = root_cause(exc)
    message = _error_body_field(exc, "message")
    if message:
        return message
    return getattr(exc, "message", None) or str(exc)


def error_http_code(exc):
    """HTTP status of an API exception, or None for non-API errors."""
    code = getattr(root_cause(exc), "code", None)
    if isinstance(code, int):
        return code
    return None


def is_cluster_busy(exc):
    """True for GKE's "incompatible operation" FAILED_PRECONDITION."""
    message = error_message(exc).lower()
    return error_status(exc) == "FAILED_PRECONDITION" and any(p in message for p in _BUSY_PHRASES)


def is_rate_limited(exc):
    """True for Compute Engine's throttling, HTTP 403 with reason rateLimitExceeded (Compute Engine rate quota docs:
    "you receive a 403 error with the reason rateLimitExceeded")."""
    errors = getattr(root_cause(exc), "errors", None) or []
    return error_http_code(exc) == 403 and any(
        isinstance(e, dict) and e.get("reason") in ("rateLimitExceeded", "userRateLimitExceeded") for e in errors)


def is_retryable(exc):
    """The retry predicate for Google APIs: throttling, 5xx, a busy cluster, and an endpoint not reached."""
    return (error_http_code(exc) in RETRYABLE_HTTP_CODES or is_rate_limited(exc) or is_cluster_busy(exc)
            or (is_connection_error(exc) and connection_reason(exc) not in PERMANENT_UNREACHABLE_REASONS))


def describe_api_error(exc):
    """One line for a user: HTTP code, status name and the API's message (or why the endpoint was not reached)."""
    if is_connection_error(exc):
        return "endpoint not reached: %s" % (connection_reason(exc) or type(root_cause(exc)).__name__)
    code = error_http_code(exc)
    status = error_status(exc)
    message = error_message(exc)
    parts = []
    if code:
        parts.append("HTTP %s" % code)
    if status:
        parts.append(status)
    prefix = " ".join(parts)
    return "%s: %s" % (prefix, message) if prefix else to_native(message)

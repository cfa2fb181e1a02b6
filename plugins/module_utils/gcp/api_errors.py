# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Reading Google API errors: status name, HTTP code, the API's own message, and what is worth retrying.

Retried: throttling (429), server errors (500, 502, 503, 504) and GKE's "another operation is running on this
cluster" FAILED_PRECONDITION, which clears once that operation finishes. Everything else fails at once.
The functions read attributes only (duck typing), so they need no Google library to import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.accelci.runners.plugins.module_utils._common.retries import RETRYABLE_HTTP_CODES

# Phrases GKE uses when a cluster is busy with another operation (HTTP 400, status FAILED_PRECONDITION).
_BUSY_PHRASES = ("incompatible operation", "please wait and try again")


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
    status = _error_body_field(exc, "status")
    if status:
        return status
    grpc_status = getattr(exc, "grpc_status_code", None)
    return getattr(grpc_status, "name", None)


def error_message(exc):
    """The API's own message: from the JSON error body when there is one (REST errors otherwise prefix it with
    the method and URL), else the exception's message."""
    message = _error_body_field(exc, "message")
    if message:
        return message
    return getattr(exc, "message", None) or str(exc)


def error_http_code(exc):
    """HTTP status of an API exception, or None for non-API errors."""
    code = getattr(exc, "code", None)
    if isinstance(code, int):
        return code
    return None


def is_cluster_busy(exc):
    """True for GKE's "incompatible operation" FAILED_PRECONDITION."""
    message = error_message(exc).lower()
    return error_status(exc) == "FAILED_PRECONDITION" and any(p in message for p in _BUSY_PHRASES)


def is_retryable(exc):
    """The retry predicate for Google APIs: throttling, 5xx, and a busy cluster."""
    return error_http_code(exc) in RETRYABLE_HTTP_CODES or is_cluster_busy(exc)


def describe_api_error(exc):
    """One line for a user: HTTP code, status name and the API's message."""
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

# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Jittered-backoff retries for Google Cloud calls.

Retried: throttling (429), server errors (500, 502, 503, 504) and GKE's "another operation is running on this
cluster" FAILED_PRECONDITION, which clears once that operation finishes. Everything else fails at once.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import random
import time

RETRYABLE_HTTP_CODES = frozenset([429, 500, 502, 503, 504])

# Phrases GKE uses when a cluster is busy with another operation (HTTP 400, status FAILED_PRECONDITION).
_BUSY_PHRASES = ("incompatible operation", "please wait and try again")


def error_status(exc):
    """Return the google.rpc status name of an API exception ("FAILED_PRECONDITION"), or None.

    Over REST, api_core maps errors by HTTP code (a FAILED_PRECONDITION arrives as BadRequest), so the status
    name is read from the response body when there is one.
    """
    response = getattr(exc, "response", None)
    if response is not None:
        try:
            status = response.json().get("error", {}).get("status")
        except Exception:  # not JSON, or no body
            status = None
        if status:
            return status
    grpc_status = getattr(exc, "grpc_status_code", None)
    return getattr(grpc_status, "name", None)


def error_message(exc):
    """The API's own message: from the JSON error body when there is one (REST errors otherwise prefix it with
    the method and URL), else the exception's message."""
    response = getattr(exc, "response", None)
    if response is not None:
        try:
            message = response.json().get("error", {}).get("message")
        except Exception:  # not JSON, or no body
            message = None
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
    """The default retry predicate: throttling, 5xx, and a busy cluster."""
    return error_http_code(exc) in RETRYABLE_HTTP_CODES or is_cluster_busy(exc)


class RetryPolicy:
    """Exponential backoff with full jitter, bounded by a deadline on a monotonic clock.

    delay(n) = uniform(0, min(cap, base * 2**n)), so concurrent callers spread out instead of retrying in step.
    """

    def __init__(self, timeout=300.0, base=1.0, cap=30.0, predicate=is_retryable,
                 clock=time.monotonic, sleep=time.sleep, rng=random.random):
        self.timeout = float(timeout)
        self.base = float(base)
        self.cap = float(cap)
        self.predicate = predicate
        self.clock = clock
        self.sleep = sleep
        self.rng = rng

    def delay(self, attempt):
        return self.rng() * min(self.cap, self.base * (2 ** attempt))

    def call(self, func, *args, **kwargs):
        """Call func until it succeeds, raises a non-retryable error, or the deadline passes.

        on_retry (keyword, optional) is called with (exception, attempt, delay) before each sleep.
        """
        on_retry = kwargs.pop("on_retry", None)
        deadline = self.clock() + self.timeout
        attempt = 0
        while True:
            try:
                return func(*args, **kwargs)
            except Exception as exc:  # the predicate decides; non-API errors are never retryable
                if not self.predicate(exc):
                    raise
                wait = self.delay(attempt)
                if self.clock() + wait > deadline:
                    raise
                if on_retry is not None:
                    on_retry(exc, attempt, wait)
                self.sleep(wait)
                attempt += 1

# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Jittered-backoff retries, for any service: the caller says what is retryable.

``RETRYABLE_HTTP_CODES`` are the HTTP statuses every service of this collection retries (throttling and server
errors); ``unreachable_reason`` reads an endpoint that gave no HTTP answer at all (also retried). What else is
retryable is the caller's predicate: Google's (with GKE's "cluster busy") is in ``gcp/api_errors.py``, the
Kubernetes one in ``k8s/delivery_manager.py``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import random
import time

RETRYABLE_HTTP_CODES = frozenset([429, 500, 502, 503, 504])

# What an unreachable endpoint looks like in urllib3's and the socket library's text -> how to say it. A restarting
# or overloaded front end answers this way as often as with a 503.
_UNREACHABLE_REASONS = (
    ("connection refused", "connection refused"),
    ("name or service not known", "host name not found"),
    ("nodename nor servname", "host name not found"),
    ("temporary failure in name resolution", "host name not found"),
    ("timed out", "timed out"),
    ("connection reset", "connection reset"),
    ("connection aborted", "connection closed by the server"),
    ("remote end closed", "connection closed by the server"),
    ("network is unreachable", "network unreachable"),
    ("no route to host", "no route to host"),
    ("certificate verify failed", "TLS certificate not trusted"),
    # Go's wording (helm): "dial tcp: lookup h: no such host", "i/o timeout", "x509: certificate signed by ...".
    ("no such host", "host name not found"),
    ("i/o timeout", "timed out"),
    ("x509:", "TLS certificate not trusted"),
    ("failed to verify certificate", "TLS certificate not trusted"),
)
# Reasons another attempt cannot cure.
PERMANENT_UNREACHABLE_REASONS = frozenset(["TLS certificate not trusted"])


def unreachable_reason(error_text):
    """'connection refused', 'host name not found', ... read from an error's text, or None."""
    text = str(error_text).lower()
    for phrase, reason in _UNREACHABLE_REASONS:
        if phrase in text:
            return reason
    return None


class RetryPolicy:
    """Exponential backoff with full jitter, bounded by a deadline on a monotonic clock.

    delay(n) = uniform(0, min(cap, base * 2**n)), so concurrent callers spread out instead of retrying in step.
    ``predicate(exc)`` says whether an exception is worth another attempt. ``base`` defaults to
    ``RetryPolicy.DEFAULT_BASE`` (seconds), read when the policy is built, so a process may change it for every
    policy it builds.
    """

    DEFAULT_BASE = 1.0

    def __init__(self, predicate, timeout=300.0, base=None, cap=30.0,
                 clock=time.monotonic, sleep=time.sleep, rng=random.random):
        self.predicate = predicate
        self.timeout = float(timeout)
        self.base = float(self.DEFAULT_BASE if base is None else base)
        self.cap = float(cap)
        self.clock = clock
        self.sleep = sleep
        self.rng = rng

    def delay(self, attempt):
        """The jittered delay before retry number ``attempt`` (0 for the first retry)."""
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

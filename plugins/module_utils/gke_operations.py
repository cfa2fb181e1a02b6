# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Waiting for GKE long-running operations.

GKE mutations return a plain Operation (not an api_core future): poll ``get_operation`` until ``status`` is
DONE, then read ``error`` (a google.rpc.Status). A failed operation is surfaced with its own message, which is
where GKE reports wrong TPU slice sizes, stockouts and some quota errors.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

DONE = 3  # container_v1.Operation.Status.DONE

# google.rpc.Code numbers -> names, for messages.
RPC_CODE_NAMES = {
    1: "CANCELLED", 2: "UNKNOWN", 3: "INVALID_ARGUMENT", 4: "DEADLINE_EXCEEDED", 5: "NOT_FOUND",
    6: "ALREADY_EXISTS", 7: "PERMISSION_DENIED", 8: "RESOURCE_EXHAUSTED", 9: "FAILED_PRECONDITION",
    10: "ABORTED", 11: "OUT_OF_RANGE", 12: "UNIMPLEMENTED", 13: "INTERNAL", 14: "UNAVAILABLE",
    16: "UNAUTHENTICATED",
}


class OperationFailed(Exception):
    """The operation finished with an error; ``str()`` is the API's message with its code name."""

    def __init__(self, operation, code, message):
        self.operation = operation
        self.code = code
        self.message = message
        code_name = RPC_CODE_NAMES.get(code, "code %s" % code)
        super(OperationFailed, self).__init__("operation %s failed with %s: %s" % (operation, code_name, message))


class OperationTimeout(Exception):
    """The operation was still running when the timeout ran out."""


def operation_path(project, location, operation):
    """Full resource name of an operation; accepts a bare name or a full one."""
    if operation.startswith("projects/"):
        return operation
    return "projects/%s/locations/%s/operations/%s" % (project, location, operation)


def operation_error(operation):
    """(code, message) of a finished operation's error, or None when it succeeded.

    ``error`` is the google.rpc.Status; old servers only fill the deprecated ``status_message``.
    """
    error = getattr(operation, "error", None)
    if error is not None and (error.code or error.message):
        return error.code, error.message
    if getattr(operation, "status_message", ""):
        return 2, operation.status_message
    return None


def wait_for_operation(get_operation, name, timeout, clock=time.monotonic, sleep=time.sleep,
                       first_delay=0.25, max_delay=5.0, on_poll=None):
    """Poll ``get_operation(name=...)`` until DONE; return the operation or raise.

    Polls on a monotonic clock, starting fast (operations on small changes finish in seconds) and backing off
    to ``max_delay``. ``get_operation`` is expected to retry transient errors itself.
    """
    deadline = clock() + timeout
    delay = first_delay
    while True:
        operation = get_operation(name=name)
        if on_poll is not None:
            on_poll(operation)
        if int(operation.status) == DONE:
            error = operation_error(operation)
            if error:
                raise OperationFailed(operation.name, error[0], error[1])
            return operation
        remaining = deadline - clock()
        if remaining <= 0:
            raise OperationTimeout(
                "Timeout waiting for operation %s (%s) after %ss; it is still running: rerun the task to pick up "
                "where it left off, or raise wait_timeout" % (operation.name, _status_name(operation), int(timeout))
            )
        sleep(min(delay, remaining))
        delay = min(max_delay, delay * 1.6)


def _status_name(operation):
    status = operation.status
    return getattr(status, "name", str(status))

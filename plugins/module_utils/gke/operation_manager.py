# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""GKE long-running operations: issuing mutations, waiting for them, and reading replies as dicts.

GKE mutations return a plain Operation (not an api_core future): poll ``get_operation`` until ``status`` is
DONE, then read ``error`` (a google.rpc.Status). A failed operation is surfaced with its own message, which is
where GKE reports wrong TPU slice sizes, stockouts and some quota errors. Both managers (cluster and node pool)
issue their calls through ``GkeOperations``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import AccelciError, ApiError

DONE = 3  # container_v1.Operation.Status.DONE

# google.rpc.Code numbers -> names, for messages.
RPC_CODE_NAMES = {
    1: "CANCELLED", 2: "UNKNOWN", 3: "INVALID_ARGUMENT", 4: "DEADLINE_EXCEEDED", 5: "NOT_FOUND",
    6: "ALREADY_EXISTS", 7: "PERMISSION_DENIED", 8: "RESOURCE_EXHAUSTED", 9: "FAILED_PRECONDITION",
    10: "ABORTED", 11: "OUT_OF_RANGE", 12: "UNIMPLEMENTED", 13: "INTERNAL", 14: "UNAVAILABLE",
    16: "UNAUTHENTICATED",
}


class OperationFailed(ApiError):
    """The operation finished with an error; ``str()`` is the API's message with its code name."""

    def __init__(self, operation, code, message):
        code_name = RPC_CODE_NAMES.get(code, "code %s" % code)
        super(OperationFailed, self).__init__("operation %s failed with %s: %s" % (operation, code_name, message),
                                              operation=operation, error_code=code)
        self.operation = operation
        self.code = code
        self.api_message = message


class OperationTimeout(ApiError):
    """The operation was still running when the timeout ran out."""


def proto_to_dict(message):
    """A container_v1 message as a snake_case dict with enum names, zero values left out."""
    if message is None:
        return None
    return type(message).to_dict(message, preserving_proto_field_name=True, use_integers_for_enums=False,
                                 always_print_fields_with_no_presence=False)


def operation_path(project, location, operation):
    """Full resource name of an operation; accepts a bare name or a full one."""
    if operation.startswith("projects/"):
        return operation
    return "projects/%s/locations/%s/operations/%s" % (project, location, operation)


def _operation_error(operation):
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
    """Poll ``get_operation(name=...)`` until DONE; return the operation or raise OperationFailed/OperationTimeout.

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
            error = _operation_error(operation)
            if error:
                raise OperationFailed(operation.name, error[0], error[1])
            return operation
        remaining = deadline - clock()
        if remaining <= 0:
            raise OperationTimeout(
                "Timeout waiting for operation %s (%s) after %ss; it is still running: rerun the task to pick up "
                "where it left off, or raise wait_timeout" % (operation.name, _status_name(operation), int(timeout)),
                operation=operation.name,
            )
        sleep(min(delay, remaining))
        delay = min(max_delay, delay * 1.6)


def _status_name(operation):
    status = operation.status
    return getattr(status, "name", str(status))


class GkeOperations:
    """Issue GKE mutations through a GcpModule and wait for their operations, recording what was done.

    ``operations`` lists every operation started (action, operation name, final status); a failure or timeout
    raises ApiError carrying ``operation``, ``error_code`` (failures), ``operations`` and ``retries``.
    """

    def __init__(self, module):
        self.module = module
        self.operations = []

    def run(self, action, func, request):
        """Call a mutating method with retries, then wait for its operation unless wait=false."""
        operation = self.module.call(action, func, request=request)
        return self.track(action, operation)

    def track(self, action, operation):
        """Record an operation started by the caller, then wait for it unless wait=false."""
        record = {"action": action, "operation": operation.name}
        self.operations.append(record)
        if not self.module.params.get("wait", True):
            record["status"] = "RUNNING"
            return operation
        name = operation_path(self.module.params["project"], self.module.params["location"], operation.name)
        try:
            done = wait_for_operation(
                lambda name: self.module.call("read operation %s" % operation.name,
                                              self.module.client.get_operation, name=name),
                name, timeout=self.module.params.get("wait_timeout") or 1800,
            )
        except OperationFailed as exc:
            record["status"] = "FAILED"
            raise ApiError("Failed to %s: %s" % (action, exc), operation=operation.name, error_code=exc.code,
                           operations=self.operations, retries=self.module.retry_log)
        except OperationTimeout as exc:
            record["status"] = "RUNNING"
            raise ApiError("Timeout trying to %s: %s" % (action, exc), operation=operation.name,
                           operations=self.operations, retries=self.module.retry_log)
        except ApiError as exc:
            # Polling failed (after retries): the operation itself may well be running. Say so, with the cause.
            record["status"] = "UNKNOWN"
            details = dict(exc.details, operation=operation.name, operations=self.operations,
                           retries=self.module.retry_log)
            raise ApiError("Failed to %s: operation %s was started but could not be read until it finished (it may "
                           "still be running: rerun the task to pick up where it left off). Last error: %s"
                           % (action, operation.name, exc.message), **details)
        record["status"] = "DONE"
        return done


def exit_with_operations(module, manager):
    """Run a GKE manager (``manager.run()``) and end the module: its result, or its error through ``fail_json``,
    either way with the operations started and the API calls retried, so a failure halfway says what was done."""
    try:
        result = manager.run()
    except AccelciError as exc:
        failure = exc.fail_json_kwargs()
        failure.setdefault("operations", manager.ops.operations)
        failure.setdefault("retries", module.retry_log)
        module.fail_json(**failure)
    module.exit_json(operations=manager.ops.operations, retries=module.retry_log, **result)

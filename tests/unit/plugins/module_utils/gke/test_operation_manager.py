"""The GKE operation waiter and GkeOperations (no server)."""

import pytest
from google.cloud import container_v1

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import ApiError
from ansible_collections.accelci.runners.plugins.module_utils.gke.operation_manager import (
    GkeOperations,
    OperationFailed,
    OperationTimeout,
    operation_path,
    proto_to_dict,
    wait_for_operation,
)
from tests.unit.plugins.module_utils.gcp.fakes import FakeClock, FakeModule


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


def test_operation_failure_raises_api_error_with_the_operations():
    class Client:
        def get_operation(self, name):
            return operation(3, 8, "The zone does not have enough resources available to fulfill the request.")

    module = FakeModule(Client())
    ops = GkeOperations(module)
    with pytest.raises(ApiError) as err:
        ops.track("create node pool tpu-v6e-4", container_v1.Operation(name="operation-1", status=1))
    assert str(err.value) == (
        "Failed to create node pool tpu-v6e-4: operation operation-1 failed with RESOURCE_EXHAUSTED: The zone does "
        "not have enough resources available to fulfill the request.")
    details = err.value.fail_json_kwargs()
    assert details["operation"] == "operation-1" and details["error_code"] == 8
    assert details["operations"] == [{"action": "create node pool tpu-v6e-4", "operation": "operation-1",
                                      "status": "FAILED"}]


def test_operation_timeout_raises_api_error():
    class Client:
        def get_operation(self, name):
            return operation(2)

    module = FakeModule(Client(), wait_timeout=0.3)
    with pytest.raises(ApiError, match="^Timeout trying to delete node pool x: Timeout waiting for operation") as err:
        GkeOperations(module).track("delete node pool x", container_v1.Operation(name="operation-1", status=1))
    assert err.value.details["operation"] == "operation-1"
    assert err.value.details["operations"][0]["status"] == "RUNNING"


def test_wait_false_returns_the_running_operation():
    module = FakeModule(None, wait=False)
    ops = GkeOperations(module)
    started = container_v1.Operation(name="operation-1", status=1)
    assert ops.track("update cluster c (addons_config)", started) is started
    assert ops.operations == [{"action": "update cluster c (addons_config)", "operation": "operation-1",
                               "status": "RUNNING"}]


def test_proto_to_dict_uses_snake_case_and_enum_names():
    pool = container_v1.NodePool(name="p", status=container_v1.NodePool.Status.RUNNING,
                                 config=container_v1.NodeConfig(machine_type="e2-standard-4", spot=False))
    assert proto_to_dict(pool) == {"name": "p", "status": "RUNNING", "config": {"machine_type": "e2-standard-4"}}
    assert proto_to_dict(None) is None


def test_polling_that_keeps_failing_reports_the_last_cause_and_the_operation():
    from tests.unit.plugins.module_utils.gcp.fakes import rest_error

    class Client:
        def get_operation(self, name):
            raise rest_error(503, "UNAVAILABLE", "The service is currently unavailable.")

    class PollingModule(FakeModule):
        """FakeModule whose call() reports failures the way GcpModule does (ApiError with the cause)."""

        def call(self, action, func, *args, **kwargs):
            try:
                return func(*args, **kwargs)
            except Exception as exc:
                self.retry_log.append({"action": action, "attempt": 1, "error": "HTTP 503 UNAVAILABLE"})
                raise ApiError("Failed to %s: HTTP 503 UNAVAILABLE: %s" % (action, "The service is currently "
                                                                           "unavailable."), status="UNAVAILABLE",
                               http_code=503) from exc

    module = PollingModule(Client())
    with pytest.raises(ApiError) as err:
        GkeOperations(module).track("create node pool x", container_v1.Operation(name="operation-1", status=1))
    message = str(err.value)
    assert message.startswith("Failed to create node pool x: operation operation-1 was started but could not be read")
    assert message.endswith("Last error: Failed to read operation operation-1: HTTP 503 UNAVAILABLE: The service is "
                            "currently unavailable.")
    details = err.value.details
    assert details["status"] == "UNAVAILABLE" and details["retries"] and details["operation"] == "operation-1"
    assert details["operations"] == [{"action": "create node pool x", "operation": "operation-1", "status": "UNKNOWN"}]

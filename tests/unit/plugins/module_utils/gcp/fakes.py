"""Stand-ins shared by the gcp and gke unit tests: REST errors as api_core raises them, a fake clock, a fake
module."""

import json

import requests
from google.api_core import exceptions as gexc

from ansible_collections.accelci.runners.plugins.module_utils._common.retries import RetryPolicy
from ansible_collections.accelci.runners.plugins.module_utils.gcp.api_errors import is_retryable


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
    """A monotonic clock whose sleep() advances it."""

    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


class FakeModule:
    """Enough of GcpModule for the managers: params, a client and call() without retries.

    module_utils never call fail_json; a call would fail the test.
    """

    def __init__(self, client, **params):
        self.params = dict(project="p", location="us-central1-b", name="ci-runners", wait=True, wait_timeout=60)
        self.params.update(params)
        self.client = client
        self.check_mode = False
        self.retry_log = []
        self.retry_policy = RetryPolicy(is_retryable, timeout=5, base=0.0)

    def call(self, action, func, *args, **kwargs):
        not_found_ok = kwargs.pop("not_found_ok", False)
        try:
            return func(*args, **kwargs)
        except gexc.NotFound:
            if not_found_ok:
                return None
            raise

    def fail_json(self, **kwargs):
        raise AssertionError("fail_json: %s" % kwargs)

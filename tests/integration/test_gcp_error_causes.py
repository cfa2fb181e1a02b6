"""Errors tell the cause, through the real modules and client libraries: 503s while polling a GKE operation are
retried and then reported with their status and message (not the client library's "Timeout of 20.0s exceeded"),
and an endpoint that refuses connections is retried like a 503, then named (service, host, URL)."""

import json

import pytest
import yaml

from tests.emulators.fake_gcs import free_port
from tests.emulators.gke import GkeEmulator
from tests.integration.playbook_runner import run_playbook, write_inventory

pytestmark = pytest.mark.integration


def module_result(tmp_path, module, options):
    """Run one module task in a playbook and return its result (failed or not)."""
    out = tmp_path / "result.json"
    playbook = tmp_path / "playbook.yml"
    playbook.write_text(yaml.safe_dump([{"name": "One call", "hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "The call", module: options, "register": "outcome", "ignore_errors": True},
        {"name": "Keep the result",
         "ansible.builtin.copy": {"content": "{{ outcome | to_json }}", "dest": str(out), "mode": "0600"}}]}]))
    run = run_playbook(str(playbook), write_inventory(tmp_path, {}))
    assert run.rc == 0, run
    return json.loads(out.read_text())


def test_503_while_polling_an_operation_reports_the_last_cause(tmp_path):
    with GkeEmulator(operation_seconds=0.1) as gke:
        # The create is accepted; every read of its operation answers 503 from then on.
        gke.inject("http_503", method="GET", path_regex="/operations/", times=10000)
        result = module_result(tmp_path, "accelci.runners.gke_cluster", {
            "project": "acme-ci", "location": "us-central1-b", "name": "ci-runners", "api_endpoint": gke.url,
            "wait_timeout": 3, "system_pool": {"machine_type": "e2-standard-4", "min_nodes": 1, "max_nodes": 1}})
    assert result["failed"], result
    message = result["msg"]
    assert "Timeout of" not in message
    assert message.startswith("Failed to create cluster ci-runners: operation ")
    assert "could not be read until it finished (it may still be running" in message
    assert message.endswith("HTTP 503 UNAVAILABLE: The service is currently unavailable.")
    assert result["status"] == "UNAVAILABLE" and result["http_code"] == 503
    assert result["retries"] and all("HTTP 503 UNAVAILABLE" in r["error"] for r in result["retries"])
    assert result["operations"][0]["status"] == "UNKNOWN"


def test_a_refused_connection_is_retried_then_names_the_endpoint(tmp_path):
    endpoint = "http://127.0.0.1:%d" % free_port()  # nothing listens there
    result = module_result(tmp_path, "accelci.runners.gke_cluster", {
        "project": "acme-ci", "location": "us-central1-b", "name": "ci-runners", "api_endpoint": endpoint,
        "wait_timeout": 3})
    assert result["failed"], result
    host = endpoint.split("//")[1]
    assert result["msg"].startswith("Failed to read cluster ci-runners: the GKE API at %s (%s) could not be reached: "
                                    "connection refused (" % (host, endpoint)), result["msg"]
    assert "urllib3" not in result["msg"] and "HTTPConnectionPool" not in result["msg"]
    assert result["endpoint"] == endpoint and result["service"] == "container"
    assert result["retries"] and result["retries"][0]["error"] == "endpoint not reached: connection refused"

    bucket = module_result(tmp_path, "accelci.runners.gcs_bucket", {
        "project": "acme-ci", "name": "acme-ci-models", "location": "US-CENTRAL1", "api_endpoint": endpoint,
        "wait_timeout": 3})
    assert bucket["failed"], bucket
    assert bucket["msg"].startswith("Failed to read bucket acme-ci-models: the Cloud Storage API at %s (%s) could not "
                                    "be reached: connection refused" % (host, endpoint)), bucket["msg"]

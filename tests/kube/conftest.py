"""Tests against a real Kubernetes control plane (tests/emulators/kube): one per test session, shared.

Tests keep out of each other's way by name (each uses namespaces of its own). When a test that used the control
plane fails, the last lines of every component's log are added to its report.
"""

import pytest

from tests.emulators.kube import LocalControlPlane

# The Google access token the tests' GCP credentials carry (GCP_ACCESS_TOKEN), and who the API server takes it
# for: GKE maps a Google identity with the Kubernetes Engine Admin role to full access.
OPERATOR_TOKEN = "ya29.local-operator-token"
OPERATOR = ("operator@accelci-tests.iam.gserviceaccount.com", ("system:masters",))


@pytest.fixture(scope="session")
def control_plane():
    with LocalControlPlane(tokens={OPERATOR_TOKEN: OPERATOR}) as kube:
        yield kube


@pytest.fixture(scope="session")
def kube_client(control_plane):
    return control_plane.api_client()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed and "control_plane" in getattr(item, "fixturenames", ()):
        kube = item.funcargs.get("control_plane")
        if kube is not None:
            for name, tail in kube.logs(30).items():
                report.sections.append(("control plane: %s (last lines)" % name, tail))

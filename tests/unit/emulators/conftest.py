"""Fixtures for the GKE emulator's tests: one emulator per module, reset around every test."""

import pytest

from tests.emulators.gke import GkeEmulator
from tests.unit.emulators.gke_support import OP_SECONDS, make_client


@pytest.fixture(scope="module")
def emulator():
    with GkeEmulator(operation_seconds=OP_SECONDS) as emu:
        yield emu


@pytest.fixture
def emu(emulator):
    emulator.reset()
    yield emulator
    emulator.reset()


@pytest.fixture
def client(emu):
    return make_client(emu.url)

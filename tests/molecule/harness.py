"""Run one molecule scenario (molecule/<name>/) against fresh local stand-ins and say what each step did.

A scenario gets an estate of its own (tests/emulators/estate.py): the GKE emulator, the control plane and
fake-gcs-server keep what a converge made, so a scenario run after another would find its cluster, releases and
bucket and prove nothing. molecule sees only that scenario (MOLECULE_GLOB) and keeps its state and inventory in a
directory of the run's own, removed afterwards.
scripts/molecule.py (make molecule) and tests/molecule/test_scenarios.py both run scenarios through here.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

from kubernetes.dynamic.exceptions import ResourceNotFoundError

from tests.emulators.arc_controller import ArcControllerStandIn
from tests.emulators.estate import ROOT, LocalEstate

SCENARIOS_DIR = os.path.join(ROOT, "molecule")
BASE_CONFIG = os.path.join(ROOT, ".config", "molecule", "config.yml")
VERIFY_PLAYBOOK = os.path.join(ROOT, "playbooks", "verify.yml")
WORK_DIR = os.path.join(ROOT, "build", "molecule")
# Where the render scenario writes (its accelci_render_dir); emptied before each scenario, left for review after.
RENDER_DIR = os.path.join(WORK_DIR, "rendered")
# molecule, ansible-playbook and ansible-config from the interpreter's own environment (the project's venv).
BIN_DIR = os.path.dirname(sys.executable)
MOLECULE = os.path.join(BIN_DIR, "molecule")
# ARC's namespaces in every scenario's estate (inventories/sandbox names them, inventories/gpu takes ARC's defaults:
# the same two) and the GitHub Secret their scale sets read (accelci_github.existing_secret).
CONTROLLER_NAMESPACE = "arc-systems"
RUNNERS_NAMESPACE = "arc-runners"
GITHUB_SECRET = "accelci-github"

ANSI_RE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# How molecule reports a step: "INFO     [default > converge] Executing", "... [default > converge] Executed:
# Successful", and in its closing details "default > verify: Executed: Missing playbook (...)".
STEP_RE = re.compile(r"^(?:[A-Z]+\s+)?\[?(?P<scenario>[\w.-]+) > (?P<step>[\w-]+)(?:\]|:) (?P<status>.*)$")
RECAP_HOST_RE = re.compile(r"^(?P<host>[\w.-]+)\s+:\s+ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unr>\d+)"
                           r"\s+failed=(?P<failed>\d+)")


def scenario_names():
    """Every scenario under molecule/, sorted."""
    return sorted(name for name in os.listdir(SCENARIOS_DIR)
                  if os.path.isfile(os.path.join(SCENARIOS_DIR, name, "molecule.yml")))


class ScenarioRun:
    """What one ``molecule test`` of a scenario did: its exit code, time, output, and each step's outcome."""

    def __init__(self, name, returncode, seconds, lines, rendered=()):
        """``lines``: (seconds since the run started, line) for each line molecule printed."""
        self.name = name
        self.returncode = returncode
        self.seconds = seconds
        self._lines = [(at, ANSI_RE.sub("", line).rstrip("\n")) for at, line in lines]
        self.output = "\n".join(line for _at, line in self._lines)
        # The files the scenario rendered into RENDER_DIR (the render scenario's accelci_render_dir), relative.
        self.rendered = list(rendered)

    @property
    def passed(self):
        return self.returncode == 0

    def _step_lines(self):
        """(step, status, line) for each line of the output; step and status are None outside molecule's reports."""
        for step, status, line, _at in self._timed_step_lines():
            yield step, status, line

    def _timed_step_lines(self):
        for at, line in self._lines:
            match = STEP_RE.match(line.strip())
            if match and match.group("scenario") == self.name:
                yield match.group("step"), match.group("status"), line, at
            else:
                yield None, None, line, at

    @property
    def step_seconds(self):
        """{step: seconds from molecule's "Executing" to its "Executed"} for the steps that ran."""
        started, took = {}, {}
        for step, status, _line, at in self._timed_step_lines():
            if step:
                if status == "Executing":
                    started[step] = at
                elif status.startswith("Executed") and step in started:
                    took[step] = at - started.pop(step)
        return took

    @property
    def steps(self):
        """{step: what molecule said it did}, in the order run: "Executed: Successful", "Executed: Failed (...)",
        "Executed: Missing playbook (...)", "Skipping, ..."."""
        found = {}
        for step, status, _line in self._step_lines():
            if step and status.startswith(("Executed", "Skipping")):
                found[step] = status
        return found

    def step_output(self, step):
        """What ``step`` printed between molecule's "Executing" and "Executed" (the playbook's output)."""
        lines, inside = [], False
        for found, status, line in self._step_lines():
            if found == step:
                inside = status == "Executing"
            elif inside:
                lines.append(line)
        return "\n".join(lines)

    def recap(self, step):
        """{host: {ok, changed, unreachable, failed}} from the PLAY RECAP of ``step``'s playbook run."""
        hosts = {}
        text = self.step_output(step)
        if "PLAY RECAP" not in text:
            return hosts
        for line in text.split("PLAY RECAP", 1)[1].splitlines():
            match = RECAP_HOST_RE.match(line.strip())
            if match:
                hosts[match.group("host")] = {key: int(match.group(key if key != "unreachable" else "unr"))
                                              for key in ("ok", "changed", "unreachable", "failed")}
        return hosts

    def __repr__(self):
        tail = "\n".join(self.output.splitlines()[-60:])
        return "ScenarioRun(%s, rc=%d, %.0f s)\n%s" % (self.name, self.returncode, self.seconds, tail)


def molecule_env(estate_env, ephemeral_dir, name):
    """The estate's environment, plus what molecule needs: the venv's tools on PATH, only this scenario in view,
    its working files in ``ephemeral_dir``, and no colour codes in the output."""
    env = dict(estate_env)
    env.update({
        "PATH": BIN_DIR + os.pathsep + env.get("PATH", ""),
        "MOLECULE_GLOB": os.path.join("molecule", name, "molecule.yml"),
        "MOLECULE_EPHEMERAL_DIRECTORY": ephemeral_dir,
        "NO_COLOR": "1",
        "PY_COLORS": "0",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
    })
    return env


def run_scenario(name, stream=None):
    """``molecule test`` of scenario ``name`` against fresh stand-ins; its output goes to ``stream`` as it comes.
    Returns a ScenarioRun."""
    os.makedirs(WORK_DIR, exist_ok=True)
    shutil.rmtree(RENDER_DIR, ignore_errors=True)
    started = time.monotonic()
    with LocalEstate(WORK_DIR) as estate, \
            tempfile.TemporaryDirectory(prefix="molecule-%s-" % name, dir=WORK_DIR) as ephemeral_dir:
        # What the estate's operator does out of band (the GitHub Secret its inventory names), and what ARC's
        # controller does once helm installs it (register each scale set, start its listener): the verify step
        # checks both. Nothing happens until the converge installs ARC (the render scenario never does).
        estate.create_github_secret(RUNNERS_NAMESPACE, GITHUB_SECRET)
        controller = ArcControllerOnceInstalled(estate.kube.api_client())
        controller.start()
        try:
            returncode, lines = run_molecule(name, molecule_env(estate.env, ephemeral_dir, name), stream, started)
        finally:
            controller.stop()
    return ScenarioRun(name, returncode, time.monotonic() - started, lines, files_under(RENDER_DIR))


class ArcControllerOnceInstalled(threading.Thread):
    """ARC's controller stand-in (tests/emulators/arc_controller.py), started once the converge has installed ARC's
    CRDs (it reads them when it starts), until ``stop()``."""

    def __init__(self, api_client):
        super().__init__(daemon=True)
        self.api_client = api_client
        self.stopping = threading.Event()
        self.standin = None

    def run(self):
        while not self.stopping.wait(0.5):
            try:
                self.standin = ArcControllerStandIn(self.api_client, CONTROLLER_NAMESPACE, RUNNERS_NAMESPACE)
            except ResourceNotFoundError:
                continue
            self.standin.start()
            return

    def stop(self):
        self.stopping.set()
        self.join(timeout=10)
        if self.standin is not None:
            self.standin.stop()


def run_molecule(name, env, stream, started):
    """``molecule test`` of scenario ``name``; returns its exit code and its lines, each with the seconds since
    ``started`` (a time.monotonic()) when it came, and copies them to ``stream``."""
    command = [MOLECULE, "--base-config", BASE_CONFIG, "test", "--scenario-name", name]
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    for line in proc.stdout:
        lines.append((time.monotonic() - started, line))
        if stream is not None:
            stream.write(line)
            stream.flush()
    return proc.wait(), lines


def files_under(top):
    """Every file below ``top``, as sorted paths relative to it (none when it does not exist)."""
    return sorted(os.path.relpath(os.path.join(folder, name), top)
                  for folder, _dirs, names in os.walk(top) for name in names)

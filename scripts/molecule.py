"""`make molecule`: the molecule scenarios under molecule/, each against fresh local stand-ins.

    python scripts/molecule.py              # every scenario
    python scripts/molecule.py gpu render   # the ones named

Each scenario runs `molecule test` (syntax, converge, idempotence, verify; see .config/molecule/config.yml, which
every scenario shares) with the environment that points the collection at its own stand-ins (tests/emulators/estate.py:
control plane, GKE emulator, fake-gcs-server, olah, Compute and Cloud Quotas). Prints each scenario's result, steps
and time; exits non-zero when one fails.
"""

import argparse
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tests.molecule.harness import VERIFY_PLAYBOOK, run_scenario, scenario_names  # noqa: E402


def banner(text):
    print("\n" + "=" * 100 + "\n" + text + "\n" + "=" * 100, flush=True)


def step_outcome(status):
    """molecule's "Executed: Successful" as "ok", "Executed: Missing playbook (...)" as "no playbook", ..."""
    for prefix, outcome in (("Executed: Successful", "ok"), ("Executed: Failed", "FAILED"),
                            ("Executed: Missing playbook", "no playbook"), ("Skipping", "skipped")):
        if status.startswith(prefix):
            return outcome
    return status


def summary_line(run):
    took = run.step_seconds
    steps = ", ".join("%s %s%s" % (step, step_outcome(status), (" %.0f s" % took[step]) if step in took else "")
                      for step, status in run.steps.items())
    return "%-10s %-6s %4.0f s   %s" % (run.name, "passed" if run.passed else "FAILED", run.seconds, steps or "(no steps)")


def main(argv=None):
    available = scenario_names()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("scenarios", nargs="*", metavar="SCENARIO",
                        help="scenarios to run (default: all of %s)" % ", ".join(available))
    args = parser.parse_args(argv)
    unknown = sorted(set(args.scenarios) - set(available))
    if unknown:
        parser.error("no such scenario: %s (scenarios: %s)" % (", ".join(unknown), ", ".join(available)))
    if not os.path.exists(VERIFY_PLAYBOOK):
        print("Note: %s is not in the tree; molecule skips the verify step (missing playbook)."
              % os.path.relpath(VERIFY_PLAYBOOK, ROOT))
    runs = []
    for name in args.scenarios or available:
        banner("molecule scenario %s: starting its stand-ins, then molecule test -s %s" % (name, name))
        run = run_scenario(name, stream=sys.stdout)
        runs.append(run)
        print("\nmolecule scenario %s: %s" % (name, summary_line(run)), flush=True)
    banner("Molecule scenarios")
    for run in runs:
        print(summary_line(run))
    failed = [run.name for run in runs if not run.passed]
    if failed:
        sys.exit("molecule: scenario(s) failed: %s" % ", ".join(failed))


if __name__ == "__main__":
    main()

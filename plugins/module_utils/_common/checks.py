# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One verification result, the shape every check of the collection returns and playbooks/verify.yml prints:
``{"check": what was checked, "status": PASS|FAIL|SKIP, "reason": what was found, "fix": what to do (FAIL only)}``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

PASS = "PASS"
FAIL = "FAIL"
SKIP = "SKIP"


def passed(check, reason):
    """A check that found what it expected."""
    return {"check": check, "status": PASS, "reason": reason, "fix": None}


def failed(check, reason, fix):
    """A check that did not; ``fix`` says what to change or run."""
    return {"check": check, "status": FAIL, "reason": reason, "fix": fix}


def skipped(check, reason):
    """A check that could not run here (nothing to check, or nothing to check it against)."""
    return {"check": check, "status": SKIP, "reason": reason, "fix": None}


def outcome(check, problems, reason, fix):
    """PASS with ``reason`` when ``problems`` is empty, else FAIL listing them, with ``fix``."""
    if problems:
        return failed(check, "; ".join(problems), fix)
    return passed(check, reason)


def checks_result(checks):
    """The result of a module that only checks: nothing changed, the checks, and how many failed."""
    return dict(changed=False, checks=checks, failed_checks=sum(1 for c in checks if c["status"] == FAIL))

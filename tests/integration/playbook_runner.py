"""Run ansible-playbook from the repository root the way a user would, and read its results.

Results come back through a small JSON file the test playbooks write (``results_file`` extra var) and through
the recap, parsed into counts.
"""

import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
RECAP_RE = re.compile(r"^localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


class PlaybookRun:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        match = RECAP_RE.search(proc.stdout)
        self.ok, self.changed, _unreachable, self.failed = (int(g) for g in match.groups()) if match else (0, 0, 0, 0)

    def __repr__(self):
        return "PlaybookRun(rc=%s, changed=%s, failed=%s)\n%s\n%s" % (
            self.rc, self.changed, self.failed, self.stdout[-6000:], self.stderr[-3000:])


def write_inventory(tmp_path, variables):
    """A one-host inventory with the estate's variables in group_vars/all.yml (JSON is valid YAML)."""
    inventory = tmp_path / "inventory"
    (inventory / "group_vars").mkdir(parents=True, exist_ok=True)
    (inventory / "hosts.yml").write_text(
        "all:\n  hosts:\n    localhost:\n      ansible_connection: local\n"
        "      ansible_python_interpreter: '{{ ansible_playbook_python }}'\n"
    )
    (inventory / "group_vars" / "all.yml").write_text(json.dumps(variables, indent=1))
    return inventory


def run_playbook(playbook, inventory, env=None, extra_args=(), extra_vars=None, timeout=600):
    """ansible-playbook PLAYBOOK -i INVENTORY from the repository root; returns a PlaybookRun."""
    full_env = dict(os.environ)
    full_env.update({
        "ANSIBLE_CONFIG": os.path.join(ROOT, "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
    })
    full_env.update(env or {})
    argv = [ANSIBLE_PLAYBOOK, "-i", str(inventory), os.path.join(ROOT, playbook)] + list(extra_args)
    if extra_vars:
        argv += ["-e", json.dumps(extra_vars)]
    proc = subprocess.run(argv, cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=timeout,
                          check=False)
    return PlaybookRun(proc)

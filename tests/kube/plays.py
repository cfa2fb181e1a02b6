"""Run a few tasks of the collection as a playbook against the local control plane, the way a user's play would."""

import yaml

from tests.integration.playbook_runner import run_playbook, write_inventory


def run_tasks(tmp_path, tasks, kubeconfig, extra_args=(), env=None, name="play"):
    """ansible-playbook with one play of ``tasks`` on localhost; K8S_AUTH_KUBECONFIG names the cluster."""
    play = [{"name": name, "hosts": "localhost", "connection": "local", "gather_facts": False, "tasks": tasks}]
    path = tmp_path / ("%s.yml" % name)
    path.write_text(yaml.safe_dump(play, sort_keys=False))
    inventory = tmp_path / "inventory"
    if not inventory.exists():
        write_inventory(tmp_path, {})
    environment = {"K8S_AUTH_KUBECONFIG": kubeconfig}
    environment.update(env or {})
    return run_playbook(str(path), inventory, env=environment, extra_args=list(extra_args))

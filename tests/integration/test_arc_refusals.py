"""playbooks/arc.yml refuses bad input in its preflight, naming the estate variable the user wrote and what is
accepted, before any file is rendered or any helm or Kubernetes call is made."""

import os

import pytest

from tests.integration.playbook_runner import ROOT, run_playbook, write_inventory

pytestmark = pytest.mark.integration

GOOD = {"name": "v6e-1", "node_pool": "tpu-v6e-1", "max_runners": 2}


def estate(tmp_path, scale_sets, **variables):
    estate_vars = {"accelci_k8s_delivery": "render", "accelci_render_dir": str(tmp_path / "rendered"),
                   "accelci_kubernetes_version": "1.33", "accelci_github": {"config_url": "https://github.com/o/r"},
                   "accelci_node_pools": [{"name": "tpu-v6e-1", "tpu": {"accelerator": "v6e", "topology": "1x1"}}],
                   "accelci_scale_sets": scale_sets}
    estate_vars.update(variables)
    return write_inventory(tmp_path, estate_vars)


def bad(**keys):
    return [GOOD, dict(GOOD, name="bad", **keys)]


CASES = [
    (bad(resources={"requests": {"cpu": "lots"}}), {},
     "accelci_scale_sets[bad].resources.requests.cpu: 'lots' is not accepted; accepted: a Kubernetes quantity"),
    (bad(resources={"limits": {"memory": "-4Gi"}}), {},
     "accelci_scale_sets[bad].resources.limits.memory: '-4Gi' is not accepted"),
    (bad(max_runners=10 ** 12), {},
     "accelci_scale_sets[bad].max_runners: 1000000000000 is not accepted; accepted: a whole number from 0 to "
     "2147483647"),
    (bad(max_runners=-1), {}, "accelci_scale_sets[bad].max_runners: -1 is not accepted"),
    (bad(min_runners=5, max_runners=2), {},
     "accelci_scale_sets[bad].min_runners: min_runners (5) is greater than max_runners (2)"),
    (bad(work_dir_size_limit="a lot"), {}, "accelci_scale_sets[bad].work_dir_size_limit: 'a lot' is not accepted"),
    (bad(labels=["x" * 300]), {}, "accelci_scale_sets[bad].labels[0]: is 300 characters"),
    (bad(container_mode="podman"), {}, "accelci_scale_sets[bad]"),
    (bad(max_runner=3), {}, "only these keys: name, namespace"),
    (bad(node_pool="tpu-v9"), {}, "accelci_scale_sets[bad].node_pool: tpu-v9 is not a node pool of this estate"),
    # The role's argument spec refuses it first (arc_scale_sets defaults to accelci_scale_sets).
    ([GOOD, "v6e-2"], {}, "Elements value for option 'arc_scale_sets' is of type str"),
    ([GOOD, {"max_runners": 2}], {}, "accelci_scale_sets must be a list of mappings, each with a name"),
    ([GOOD], {"accelci_arc": {"version": "latest"}},
     "accelci_arc.version: 'latest' is not a chart version; accepted: MAJOR.MINOR.PATCH"),
    ([GOOD], {"accelci_arc": {"runners_namespace": "Team_A"}}, "accelci_arc.runners_namespace: 'Team_A'"),
    ([GOOD], {"accelci_arc": {"controller": {"replicas": 0}}}, "accelci_arc.controller.replicas: must be a positive"),
    ([GOOD], {"accelci_github": {"config_url": "https://github.com/o/r", "app_id": "12", "app_installation_id": "x",
                                 "app_private_key": "not a key"}},
     "accelci_github.app_installation_id: must be the numeric installation ID"),
]


@pytest.mark.parametrize("scale_sets, variables, message", CASES)
def test_bad_input_is_refused_before_any_file_is_written(tmp_path, scale_sets, variables, message):
    # A good scale set comes first: before the preflight ran every check, it used to be rendered (9 files) before
    # the bad one failed.
    # helm is left off PATH: nothing may run it either.
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if not os.path.isfile(
        os.path.join(p, "helm")))
    run = run_playbook("playbooks/arc.yml", estate(tmp_path, scale_sets, **variables), env={"PATH": path})
    assert run.rc != 0, run
    assert message in run.stdout, run
    assert not (tmp_path / "rendered").exists()


def test_the_same_estate_without_the_bad_scale_set_renders(tmp_path):
    run = run_playbook("playbooks/arc.yml", estate(tmp_path, [GOOD]),
                       env={"PATH": os.path.join(ROOT, "build", "bin") + os.pathsep + os.environ.get("PATH", "")})
    assert run.rc == 0, run
    assert os.path.isfile(str(tmp_path / "rendered" / "arc" / "values" / "v6e-1.yaml"))

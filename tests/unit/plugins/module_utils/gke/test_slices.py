"""slices: N on an accelci_node_pools entry, and how runners find every slice."""

import pytest

from ansible_collections.accelci.runners.plugins.filter.gke_node_pools import node_pool_problems
from ansible_collections.accelci.runners.plugins.module_utils._common.errors import InputError
from ansible_collections.accelci.runners.plugins.module_utils.gke.catalog import (
    NODE_POOL_LABEL,
    SLICE_GROUP_LABEL,
    scheduling_profile,
)
from ansible_collections.accelci.runners.plugins.module_utils.gke.slices import expand_slices, slice_pool_name

V6E_16 = {"name": "tpu-v6e-16", "tpu": {"accelerator": "v6e", "topology": "4x4"}, "spot": True,
          "labels": {"team": "ml"}, "autoscaling": {"min_nodes": 0, "max_nodes": 4}}


def test_slices_expand_to_pools_with_stable_names_and_the_group_label():
    pools = expand_slices([dict(V6E_16, slices=3), {"name": "cpu", "machine_type": "e2-standard-4"}])
    assert [p["name"] for p in pools] == ["tpu-v6e-16", "tpu-v6e-16-s2", "tpu-v6e-16-s3", "cpu"]
    for pool in pools[:3]:
        assert pool["slice_of"] == "tpu-v6e-16" and "slices" not in pool
        assert pool["labels"] == {"team": "ml", SLICE_GROUP_LABEL: "tpu-v6e-16"}
        assert pool["autoscaling"] == {"min_nodes": 0, "max_nodes": 4}
    assert pools[3] == {"name": "cpu", "machine_type": "e2-standard-4"}
    # Growing keeps the names of the slices already there.
    assert [p["name"] for p in expand_slices([dict(V6E_16, slices=4)])][:3] == [p["name"] for p in pools[:3]]
    assert slice_pool_name("tpu-v6e-16", 1) == "tpu-v6e-16"


def test_one_slice_is_the_entry_itself():
    assert expand_slices([V6E_16]) == [V6E_16]
    assert expand_slices([dict(V6E_16, slices=1)])[0]["name"] == "tpu-v6e-16"


@pytest.mark.parametrize("entry, message", [
    (dict(V6E_16, slices=0), "accelci_node_pools[tpu-v6e-16].slices: 0 is not accepted; accepted: a whole number "
                             "from 1 to 64"),
    (dict(V6E_16, slices=True), "accelci_node_pools[tpu-v6e-16].slices: True is not accepted"),
    (dict(V6E_16, slices=65), "accelci_node_pools[tpu-v6e-16].slices: 65 is not accepted"),
    ({"name": "tpu-v6e-4", "tpu": {"accelerator": "v6e", "topology": "2x2"}, "slices": 2},
     "accelci_node_pools[tpu-v6e-4].slices: only multi-host TPU pools come in slices"),
    ({"name": "gpu", "gpu": {"type": "nvidia-l4"}, "slices": 2},
     "accelci_node_pools[gpu].slices: only multi-host TPU pools come in slices"),
    (dict(V6E_16, name="a-very-long-pool-name-for-many-slices-x", slices=12),
     "accelci_node_pools[a-very-long-pool-name-for-many-slices-x].slices: 'a-very-long-pool-name-for-many-slices-x-s12'"
     " is not a valid GKE name"),
])
def test_bad_slices_name_the_entry(entry, message):
    with pytest.raises(InputError) as err:
        expand_slices([entry])
    assert str(err.value).startswith(message)


def test_names_must_stay_unique_once_slices_are_expanded():
    with pytest.raises(InputError, match="repeated: tpu-v6e-16-s2"):
        expand_slices([dict(V6E_16, slices=2), dict(V6E_16, name="tpu-v6e-16-s2")])


def test_runners_of_a_sliced_entry_select_every_slice():
    assert scheduling_profile(dict(V6E_16, slices=2))["node_selector"][SLICE_GROUP_LABEL] == "tpu-v6e-16"
    assert NODE_POOL_LABEL not in scheduling_profile(dict(V6E_16, slices=2))["node_selector"]
    assert scheduling_profile(V6E_16)["node_selector"][NODE_POOL_LABEL] == "tpu-v6e-16"


def test_node_pool_problems_name_the_inventory_variable_and_report_all():
    problems = node_pool_problems([
        {"name": "a", "tpu": {"accelerator": "v6e", "topology": "3x3"}},
        {"name": "b", "gpu": {"type": "nvidia-rtx-9000"}},
    ])
    assert len(problems) == 2
    assert problems[0].startswith("accelci_node_pools[a].tpu: tpu.topology: v6e has no topology 3x3")
    assert problems[1].startswith("accelci_node_pools[b].gpu: gpu.type")
    assert node_pool_problems([V6E_16]) == []
    assert node_pool_problems("x") == ["accelci_node_pools: expected a list of node pool entries, got str"]

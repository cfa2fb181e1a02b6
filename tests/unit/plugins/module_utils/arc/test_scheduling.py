"""The node_pool option is one scheduling profile, as the catalog resolves it: shape checks and ARC's own rule."""
import copy
import re
import shutil
import subprocess

import pytest

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import InputError
from ansible_collections.accelci.runners.plugins.module_utils.arc.defaults import arc_settings
from ansible_collections.accelci.runners.plugins.module_utils.arc.names import SCALE_SET_NAME_PATTERN, validate_scale_set_name
from ansible_collections.accelci.runners.plugins.module_utils.arc.pod_template import gpu_entrypoint_script
from ansible_collections.accelci.runners.plugins.module_utils.arc.scheduling import runner_profile
from ansible_collections.accelci.runners.plugins.module_utils.gke.catalog import DEVICES, scheduling_profile

V6E_4 = scheduling_profile({"name": "tpu-v6e-4", "tpu": {"accelerator": "v6e", "topology": "2x2"}})
MI300 = scheduling_profile({"name": "mi300", "amd_gpu": {"count": 2, "render_group": 110},
                            "node_selector": {"pytorch": "yes"}})
L4 = scheduling_profile({"name": "gpu-l4", "gpu": {"type": "nvidia-l4", "count": 1}, "machine_type": "g2-standard-8"})


def test_a_catalog_profile_is_accepted_as_is_and_copied():
    profile = runner_profile(V6E_4)
    assert profile == V6E_4 and profile is not V6E_4
    profile["node_selector"]["x"] = "y"
    assert "x" not in V6E_4["node_selector"]


def test_no_pool_runs_anywhere_on_gke_without_an_accelerator():
    profile = runner_profile(None)
    assert profile["pool"] is None and profile["kind"] == "cpu" and profile["gke"] and not profile["node_selector"]


@pytest.mark.parametrize("value, field, message", [
    ("tpu-v6e-4", "node_pool", "must be a scheduling profile (a mapping), got str"),
    ({"name": "tpu-v6e-4", "tpu": {"accelerator": "v6e", "topology": "2x2"}}, "node_pool",
     "got a node pool entry (tpu-v6e-4), not its scheduling profile"),
    (dict(V6E_4, zone="us-central1-b"), "node_pool", "unknown keys zone"),
    (dict((k, v) for k, v in V6E_4.items() if k != "devices"), "node_pool", "missing keys devices"),
    (dict(V6E_4, kind="fpga"), "node_pool.kind", "must be one of cpu, tpu, nvidia, amd, got 'fpga'"),
    (dict(V6E_4, count="4"), "node_pool.count", "must be accelerators per node, an integer, got '4'"),
    (dict(V6E_4, count=True), "node_pool.count", "must be accelerators per node, an integer"),
    (dict(V6E_4, count=0), "node_pool.count", "must be at least 1 with resource_name google.com/tpu"),
    (dict(V6E_4, spot="yes"), "node_pool.spot", "must be true or false"),
    (dict(V6E_4, node_selector=["a"]), "node_pool.node_selector", "must be a mapping of node labels"),
    (dict(V6E_4, tolerations=["NoSchedule"]), "node_pool.tolerations", "must be a list of mappings"),
])
def test_anything_but_a_profile_is_refused_naming_node_pool(value, field, message):
    with pytest.raises(InputError) as err:
        runner_profile(value)
    assert err.value.field == field
    assert message in str(err.value)
    assert "accelci.runners.scheduling_profile" in str(err.value) or field != "node_pool"


def test_multi_host_tpu_is_refused_from_the_profile_details():
    big = scheduling_profile({"name": "tpu-v6e-16", "tpu": {"accelerator": "v6e", "topology": "4x4"}})
    with pytest.raises(InputError) as err:
        runner_profile(big)
    assert err.value.field == "node_pool"
    assert "tpu-v6e-16 is a multi-host TPU slice (tpu-v6e-slice 4x4: 4 VMs of 4 chips)" in str(err.value)


def test_gpu_entrypoint_passes_the_profile_devices_and_groups():
    amd = gpu_entrypoint_script(MI300)
    assert "for device in %s; do" % " ".join(DEVICES["amd"]) in amd
    assert 'args="$args --group-add 110"' in amd and "NVIDIA_VISIBLE_DEVICES" not in amd
    nvidia = gpu_entrypoint_script(L4)
    assert "for device in %s; do" % " ".join(DEVICES["nvidia"]) in nvidia
    assert "--group-add" not in nvidia and "-v /usr/local/nvidia:/usr/local/nvidia:ro" in nvidia
    custom = copy.deepcopy(MI300)
    custom["devices"] = ["/dev/accel*"]
    assert "for device in /dev/accel*; do" in gpu_entrypoint_script(custom)


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_gpu_entrypoint_is_valid_bash():
    for profile in (MI300, L4):
        proc = subprocess.run(["bash", "-n"], input=gpu_entrypoint_script(profile), text=True, capture_output=True,
                              check=False)
        assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("name", ["a", "arc-runner-v6e-1", "x" * 45, "x" * 46, "Arc", "-a", "a-", "a_b", ""])
def test_the_name_pattern_roles_check_is_the_rule_the_module_applies(name):
    try:
        validate_scale_set_name(name)
        accepted = True
    except InputError:
        accepted = False
    assert bool(re.match(SCALE_SET_NAME_PATTERN, name)) == accepted
    assert arc_settings({})["scale_set_name_pattern"] == SCALE_SET_NAME_PATTERN


def test_arc_settings_carries_the_defaults_roles_must_not_type():
    settings = arc_settings({"runners_namespace": "ci"})
    assert settings["github_secret_name"] == "accelci-github"
    assert settings["kubernetes_version"] == "1.33"
    assert settings["runners_namespace"] == "ci"
    with pytest.raises(InputError, match="unknown keys github_secret_name"):
        arc_settings({"github_secret_name": "x"})

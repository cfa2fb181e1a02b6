"""The tpu_slice filter: the catalog's answer and errors, through the filter class and through Ansible by FQCN."""

import json
import os
import subprocess
import sys

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.accelci.runners.plugins.filter.tpu_slice import FilterModule
from ansible_collections.accelci.runners.plugins.module_utils.gke.catalog import resolve_tpu

from tests.paths import ROOT
tpu_slice = FilterModule().filters()["tpu_slice"]


def test_filter_returns_the_catalog_answer():
    assert tpu_slice("v6e", "2x2") == resolve_tpu("v6e", "2x2")
    shape = tpu_slice("tpu-v6e-slice", "2x4", machine_type="ct6e-standard-4t")
    assert (shape["vms"], shape["machine_type"], shape["placement"]) == (2, "ct6e-standard-4t", "compact")


@pytest.mark.parametrize(
    "args,kwargs,field",
    [
        (("v9", "2x2"), {}, "tpu.accelerator"),
        (("v6e", "4x2"), {}, "tpu.topology"),
        (("v6e", "4x4"), {"machine_type": "ct6e-standard-8t"}, "tpu.machine_type"),
    ],
)
def test_filter_errors_carry_the_catalog_message(args, kwargs, field):
    with pytest.raises(ValueError) as catalog:
        resolve_tpu(*args, **kwargs)
    with pytest.raises(AnsibleFilterError) as info:
        tpu_slice(*args, **kwargs)
    assert info.value.message == str(catalog.value)
    assert info.value.message.startswith(field + ": ")


@pytest.mark.integration
def test_filter_is_reachable_by_fqcn():
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"),
        ANSIBLE_CALLBACK_RESULT_FORMAT="json",
        ANSIBLE_NOCOLOR="1",
    )
    ansible = os.path.join(os.path.dirname(sys.executable), "ansible")
    result = subprocess.run(
        [ansible, "-i", "localhost,", "-c", "local", "-m", "ansible.builtin.debug",
         "-a", "msg={{ 'v6e' | accelci.runners.tpu_slice('2x2') }}", "localhost"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # The default callback prints "localhost | SUCCESS => {...}" for an ad-hoc run.
    prefix, body = result.stdout.split("=>", 1)
    assert prefix.strip() == "localhost | SUCCESS", result.stdout
    msg = json.loads(body)["msg"]
    assert msg["machine_type"] == "ct6e-standard-4t"
    assert msg["chips_per_vm"] == 4 and msg["vms"] == 1
    assert msg["node_selector"]["cloud.google.com/gke-tpu-accelerator"] == "tpu-v6e-slice"

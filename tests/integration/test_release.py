"""The collection as users get it.

- The tarball `make build` writes holds the collection and none of the development tree.
- Installed from that tarball with ansible-galaxy into a directory of its own, it converges the estate with
  `ansible-playbook accelci.runners.cluster` from a project outside the repository (its own ansible.cfg, nothing
  of the repository on the collections path), against the GKE, Compute and Cloud Quotas stand-ins: the
  capacity preflight, the cluster, a TPU and a GPU pool, then a second run that changes nothing.
- A release (antsibull-changelog release, what `make release-changelog` runs) turns the fragments into
  CHANGELOG.rst and changelogs/changelog.yaml, and the tarball built after it carries both.
"""

import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile

import pytest
import yaml

from tests.emulators.cloudquotas import CloudQuotasEmulator
from tests.emulators.compute import ComputeEmulator
from tests.emulators.gke import GkeEmulator
from tests.integration.playbook_runner import PlaybookRun
from tests.paths import ROOT

pytestmark = pytest.mark.integration

BIN = os.path.dirname(sys.executable)
PROJECT = "accelci-release"
LOCATION = "us-central1-b"
V6E_SPOT = "PREEMPTIBLE-TPU-V6E-per-project-region"

# What a checkout holds and an installed collection must not: top-level names, then names at any depth.
DEVELOPMENT_TOP = {"tests", "bench", "build", "molecule", "scripts", "tools", "requirements", "rendered", "Makefile",
                   "ansible.cfg", "pytest.ini", "execution-environment.yml"}
DEVELOPMENT_ANYWHERE = {"__pycache__", ".pytest_cache"}


def read(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def version():
    return yaml.safe_load(read(os.path.join(ROOT, "galaxy.yml")))["version"]


def run(argv, **kwargs):
    proc = subprocess.run([str(a) for a in argv], capture_output=True, text=True, check=False, timeout=600, **kwargs)
    assert proc.returncode == 0, "%s\n%s\n%s" % (argv, proc.stdout[-6000:], proc.stderr[-4000:])
    return proc


def build(source, output):
    """`make build`'s command, from SOURCE into OUTPUT; returns the tarball's path."""
    run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--force", "--output-path", output, source],
        cwd=source)
    return os.path.join(str(output), "accelci-runners-%s.tar.gz" % version())


def members(tarball):
    with tarfile.open(tarball) as tar:
        return {member.name.rstrip("/") for member in tar.getmembers()}


def tar_text(tarball, name):
    with tarfile.open(tarball) as tar:
        return tar.extractfile(name).read().decode("utf-8")


@pytest.fixture(scope="module")
def tarball(tmp_path_factory):
    return build(ROOT, tmp_path_factory.mktemp("dist"))


def test_tarball_holds_the_collection_and_none_of_the_development_tree(tarball):
    names = members(tarball)
    top = {name.split("/")[0] for name in names}
    assert not top & DEVELOPMENT_TOP, sorted(top & DEVELOPMENT_TOP)
    assert not [name for name in top if name.startswith(".")]  # .ci, .git, .venv, .config, .ansible-lint, ...
    assert not [name for name in names if set(name.split("/")) & DEVELOPMENT_ANYWHERE or name.endswith(".pyc")]
    assert not [name for name in names if name.startswith("changelogs/fragments") or "plugin-cache" in name]

    expected = {"MANIFEST.json", "FILES.json", "README.md", "LICENSE", "requirements.txt", "bindep.txt",
                "meta/runtime.yml", "meta/execution-environment.yml", "changelogs/changelog.yaml",
                "changelogs/config.yaml", "plugins/modules", "plugins/module_utils", "roles", "playbooks"}
    for path in glob.glob(os.path.join(ROOT, "plugins", "modules", "*.py")):
        expected.add("plugins/modules/" + os.path.basename(path))
    for path in glob.glob(os.path.join(ROOT, "roles", "*", "tasks", "main.yml")):
        expected.add(os.path.relpath(path, ROOT).replace(os.sep, "/"))
    for path in glob.glob(os.path.join(ROOT, "playbooks", "*.yml")):
        expected.add("playbooks/" + os.path.basename(path))
    assert len([name for name in expected if name.startswith("plugins/modules/")]) >= 12
    assert not expected - names, sorted(expected - names)

    manifest = json.loads(tar_text(tarball, "MANIFEST.json"))["collection_info"]
    assert (manifest["namespace"], manifest["name"], manifest["version"]) == ("accelci", "runners", version())
    # Every file the tarball holds is in FILES.json with its checksum, and nothing else is.
    listed = {entry["name"] for entry in json.loads(tar_text(tarball, "FILES.json"))["files"] if entry["name"] != "."}
    assert listed == names - {"MANIFEST.json", "FILES.json"}


# ----------------------------------------------------------------------------- installed, run by FQCN

def compute_world():
    zone = {"name": LOCATION, "status": "UP", "machine_types": ["e2-standard-4", "ct6e-standard-1t", "g2-standard-8"],
            "accelerator_types": ["nvidia-l4"]}
    return {"project": PROJECT, "project_number": "111111111111",
            "project_quotas": [{"metric": "GPUS_ALL_REGIONS", "limit": 8, "usage": 0}],
            "regions": [{"name": "us-central1", "zones": [zone],
                         "quotas": [{"metric": "NVIDIA_L4_GPUS", "limit": 8, "usage": 0}]}]}


def quotas_world():
    return {"project": PROJECT, "project_number": "111111111111", "regions": ["us-central1"],
            "quota_infos": [{"quota_id": V6E_SPOT, "dimensions": ["region"],
                             "values": [{"dimensions": {"region": "us-central1"}, "value": 8}]}]}


def estate():
    """Like inventories/sandbox/group_vars/all/cluster.yml: one TPU pool, one GPU pool."""
    return {
        "accelci_project": PROJECT,
        "accelci_location": LOCATION,
        "accelci_cluster": {"name": "ci-runners", "release_channel": "regular", "workload_identity": True,
                            "addons": {"gcs_fuse_csi_driver": True},
                            "system_pool": {"machine_type": "e2-standard-4", "min_nodes": 1, "max_nodes": 3}},
        "accelci_node_pools": [
            {"name": "tpu-v6e-1", "tpu": {"accelerator": "v6e", "topology": "1x1"}, "spot": True,
             "autoscaling": {"min_nodes": 0, "max_nodes": 4}},
            {"name": "gpu-l4", "gpu": {"type": "nvidia-l4", "count": 1, "driver_version": "LATEST"},
             "machine_type": "g2-standard-8", "autoscaling": {"min_nodes": 0, "max_nodes": 2}},
        ],
    }


@pytest.fixture
def stand_ins():
    with GkeEmulator(operation_seconds=0.1) as gke, ComputeEmulator(seed=compute_world()) as compute, \
            CloudQuotasEmulator(seed=quotas_world()) as quotas:
        yield gke, {"ACCELCI_GKE_API_ENDPOINT": gke.url, "ACCELCI_COMPUTE_API_ENDPOINT": compute.url,
                    "ACCELCI_CLOUDQUOTAS_API_ENDPOINT": quotas.url}


@pytest.fixture
def user_project(tmp_path):
    """A project outside the repository: its own ansible.cfg whose only collections path is an empty directory."""
    project = tmp_path / "project"
    collections_dir = tmp_path / "collections"
    (project / "inventory" / "group_vars" / "all").mkdir(parents=True)
    collections_dir.mkdir()
    (project / "ansible.cfg").write_text(
        "[defaults]\ncollections_path = %s\n"
        # Not even a collection importable from Python's path counts.
        "collections_scan_sys_path = false\n" % collections_dir)
    (project / "inventory" / "hosts.yml").write_text(
        "all:\n  hosts:\n    localhost:\n      ansible_connection: local\n"
        "      ansible_python_interpreter: '{{ ansible_playbook_python }}'\n")
    (project / "inventory" / "group_vars" / "all" / "cluster.yml").write_text(
        "---\n" + yaml.safe_dump(estate(), sort_keys=False))
    return project, collections_dir


def project_env(project, collections_dir, extra=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_") and k != "PYTHONPATH"}
    env.update(ANSIBLE_CONFIG=str(project / "ansible.cfg"), ANSIBLE_COLLECTIONS_PATH=str(collections_dir),
               ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    env.update(extra or {})
    return env


def test_installed_tarball_converges_the_cluster_playbook_by_fqcn(tarball, stand_ins, user_project):
    gke, endpoints = stand_ins
    project, collections_dir = user_project
    env = project_env(project, collections_dir, endpoints)
    run([os.path.join(BIN, "ansible-galaxy"), "collection", "install", tarball, "-p", collections_dir],
        cwd=project, env=env)
    installed = os.path.realpath(collections_dir / "ansible_collections" / "accelci" / "runners")
    assert not installed.startswith(os.path.realpath(ROOT) + os.sep)

    # The copy Ansible finds is the installed one, and the only one.
    listing = json.loads(run([os.path.join(BIN, "ansible-galaxy"), "collection", "list", "accelci.runners",
                              "--format", "json"], cwd=project, env=env).stdout)
    assert listing == {str(collections_dir / "ansible_collections"): {"accelci.runners": {"version": version()}}}

    playbook = [os.path.join(BIN, "ansible-playbook"), "-i", "inventory", "accelci.runners.cluster"]
    first_proc = subprocess.run(playbook + ["-vvv"], cwd=project, env=env, capture_output=True, text=True,
                                check=False, timeout=600)
    first = PlaybookRun(first_proc)
    assert first.rc == 0, first
    assert first.changed > 0, first
    assert "pool tpu-v6e-1 (fits" in first.stdout and "pool gpu-l4 (fits" in first.stdout, first

    # Every module and role task came from the installed copy.
    module_files = re.findall(r"^Using module file (\S+)$", first.stdout, re.M)
    used = {os.path.basename(path)[:-3] for path in module_files if "/ansible_collections/accelci/" in path}
    assert {"gke_cluster", "gke_node_pool", "accelerator_capacity_info", "gke_kubeconfig"} <= used, sorted(used)
    collection_files = [path for path in module_files if "/ansible_collections/accelci/" in path]
    assert [path for path in collection_files if not os.path.realpath(path).startswith(installed + os.sep)] == []
    task_paths = re.findall(r"^task path: (\S+):\d+$", first.stdout, re.M)
    role_tasks = [path for path in task_paths if "/roles/cluster/tasks/" in path]
    assert role_tasks and all(os.path.realpath(path).startswith(installed + os.sep) for path in role_tasks)

    clusters = gke.state()["clusters"]
    assert [cluster["name"] for cluster in clusters] == ["ci-runners"]
    assert {"tpu-v6e-1", "gpu-l4"} <= {pool["name"] for pool in clusters[0]["nodePools"]}

    gke.clear_requests()
    second = PlaybookRun(subprocess.run(playbook, cwd=project, env=env, capture_output=True, text=True,
                                        check=False, timeout=600))
    assert second.rc == 0, second
    assert second.changed == 0, second
    assert [r for r in gke.requests() if r["method"] != "GET"] == []


# ----------------------------------------------------------------------------- the changelog of a release

def collection_files():
    """What a commit of the working tree would hold (tracked files, and untracked ones git does not ignore)."""
    proc = run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT)
    return [name for name in proc.stdout.split("\0") if name and os.path.lexists(os.path.join(ROOT, name))]


def copy_tree(names, destination):
    for name in names:
        source = os.path.join(ROOT, name)
        target = os.path.join(str(destination), name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(source, target, follow_symlinks=False)


def first_fragment_entry():
    """One entry of an actual fragment: (file name, text)."""
    for path in sorted(glob.glob(os.path.join(ROOT, "changelogs", "fragments", "*.yml"))):
        for section, entries in (yaml.safe_load(read(path)) or {}).items():
            if section != "trivial" and isinstance(entries, list) and entries:
                return os.path.basename(path), entries[0]
    pytest.fail("no changelog fragment with an entry in changelogs/fragments")
    return None


def test_a_release_writes_the_changelog_from_the_fragments_and_the_tarball_carries_it(tmp_path):
    fragment, entry = first_fragment_entry()
    source = tmp_path / "checkout"
    copy_tree(collection_files(), source)
    assert (source / "changelogs" / "fragments" / fragment).is_file()
    # A copy outside the repository: antsibull-changelog finds the plugins there without git.
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ["PATH"])
    run([os.path.join(BIN, "antsibull-changelog"), "release", "--reload-plugins"], cwd=source, env=env)

    changelog = read(source / "CHANGELOG.rst")
    heading = "v%s" % version()
    assert re.search(r"^%s\n=+\n" % re.escape(heading), changelog, re.M), changelog[:2000]
    assert " ".join(entry.split()) in " ".join(changelog.split()), (fragment, entry)
    assert re.search(r"^- accelci\.runners\.gke_cluster - ", changelog, re.M)  # New Modules, from the plugins
    released = yaml.safe_load(read(source / "changelogs" / "changelog.yaml"))["releases"][version()]
    assert fragment in released["fragments"]
    # keep_fragments is false: a release consumes them.
    assert not glob.glob(str(source / "changelogs" / "fragments" / "*.yml"))

    tarball = build(source, tmp_path / "dist")
    names = members(tarball)
    assert {"CHANGELOG.rst", "changelogs/changelog.yaml"} <= names
    assert tar_text(tarball, "CHANGELOG.rst") == changelog
    assert version() in yaml.safe_load(tar_text(tarball, "changelogs/changelog.yaml"))["releases"]

"""The execution environment as `make ee` writes it: ansible-builder's build context from execution-environment.yml
(a link to meta/execution-environment.yml), checked file by file, and the collection's dependency metadata as
ansible-builder reads it from the installed collection when another execution environment installs it.

No image is built (`ansible-builder create` needs no container engine); the helm release's checksums cannot be
checked offline, so the test checks that the step verifies them before anything is unpacked."""

import importlib.util
import json
import os
import re
import subprocess
import sys
import tarfile

import pytest
import yaml
from bindep.depends import Depends

from tests.paths import ROOT

pytestmark = pytest.mark.integration

BIN = os.path.dirname(sys.executable)
HELM = os.path.join(ROOT, "build", "bin", "helm")
HELM_STEP_RE = re.compile(r"(x86_64|aarch64)\) helm_arch=(\w+) helm_sha256=([0-9a-f]{64}) ;;")


def read(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def galaxy():
    return yaml.safe_load(read(os.path.join(ROOT, "galaxy.yml")))


def requirement_lines(path):
    """The requirement lines of a pip or bindep file, without comments and blank lines."""
    return [line.strip() for line in read(path).splitlines() if line.strip() and not line.lstrip().startswith("#")]


def pinned(name):
    """The version requirements/constraints.txt pins for a package."""
    for line in requirement_lines(os.path.join(ROOT, "requirements", "constraints.txt")):
        if line.lower().startswith(name.lower() + "=="):
            return line.split("==", 1)[1]
    raise AssertionError("%s is not pinned in requirements/constraints.txt" % name)


def isolated_env(collections_dir, config):
    """Ansible sees only COLLECTIONS_DIR: not the repository's ansible.cfg nor its build/collections link."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_") and k != "PYTHONPATH"}
    env.update(ANSIBLE_CONFIG=str(config), ANSIBLE_COLLECTIONS_PATH=str(collections_dir), ANSIBLE_NOCOLOR="1")
    return env


def run(argv, **kwargs):
    proc = subprocess.run([str(a) for a in argv], capture_output=True, text=True, check=False, timeout=300, **kwargs)
    assert proc.returncode == 0, "%s\n%s\n%s" % (argv, proc.stdout[-4000:], proc.stderr[-4000:])
    return proc


@pytest.fixture(scope="module")
def tarball():
    """The collection tarball where `make build` puts it, which the definition copies into the build context."""
    run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--force", "--output-path",
         os.path.join(ROOT, "build", "dist"), ROOT], cwd=ROOT)
    path = os.path.join(ROOT, "build", "dist", "accelci-runners-%s.tar.gz" % galaxy()["version"])
    assert os.path.isfile(path)
    return path


@pytest.fixture(scope="module")
def context(tarball, tmp_path_factory):
    """`make ee`'s ansible-builder create, into a directory of the test's own."""
    del tarball  # built first: the definition copies it into the context
    context_dir = tmp_path_factory.mktemp("ee") / "context"
    run([os.path.join(BIN, "ansible-builder"), "create", "--file", "execution-environment.yml", "--context",
         context_dir, "--output-filename", "Containerfile"], cwd=ROOT)
    return context_dir


@pytest.fixture(scope="module")
def containerfile(context):
    return read(context / "Containerfile")


def build_arg(containerfile_text, name):
    match = re.search(r'^ARG %s="([^"]*)"$' % name, containerfile_text, re.M)
    assert match, "ARG %s not in the Containerfile" % name
    return match.group(1)


def test_the_root_definition_is_the_collections_own():
    # A copy would drift from the file ansible-builder reads when another EE installs the collection.
    link = os.path.join(ROOT, "execution-environment.yml")
    assert os.path.islink(link) and os.readlink(link) == os.path.join("meta", "execution-environment.yml")


def test_base_image_and_ansible_are_pinned(containerfile):
    image = build_arg(containerfile, "EE_BASE_IMAGE")
    name, separator, tag = image.rpartition(":")
    assert separator and "/" in name and tag and tag != "latest", image
    refs = build_arg(containerfile, "ANSIBLE_INSTALL_REFS").split()
    assert "ansible-core==%s" % pinned("ansible-core") in refs, refs
    assert [ref for ref in refs if re.fullmatch(r"ansible-runner==\d+\.\d+\.\d+", ref)], refs
    assert build_arg(containerfile, "PYCMD") == "/usr/bin/python3.11"


def test_python_and_system_requirements_are_the_collections(context, containerfile):
    assert requirement_lines(context / "_build" / "requirements.txt") == requirement_lines(
        os.path.join(ROOT, "requirements.txt"))
    assert requirement_lines(context / "_build" / "bindep.txt") == requirement_lines(os.path.join(ROOT, "bindep.txt"))
    assert "COPY _build/requirements.txt requirements.txt" in containerfile
    assert "COPY _build/bindep.txt bindep.txt" in containerfile
    # The base image is an RPM platform: what bindep would install there.
    rules = Depends(read(context / "_build" / "bindep.txt")).active_rules(["platform:rpm", "platform:centos"])
    assert [rule[0] for rule in rules] == ["ca-certificates"]


def test_the_collection_is_installed_from_its_own_tarball(context, containerfile):
    assert galaxy()["dependencies"] == {}  # nothing else for ansible-galaxy to fetch
    requirements = yaml.safe_load(read(context / "_build" / "requirements.yml"))
    expected = "collections/accelci-runners-%s.tar.gz" % galaxy()["version"]
    assert requirements == {"collections": [{"name": expected, "type": "file"}]}
    # The galaxy stage installs it with /build (the context's _build) as its working directory.
    assert "COPY _build /build\nWORKDIR /build" in containerfile
    with tarfile.open(context / "_build" / expected) as tar:
        manifest = json.load(tar.extractfile("MANIFEST.json"))
    assert (manifest["collection_info"]["namespace"], manifest["collection_info"]["name"],
            manifest["collection_info"]["version"]) == ("accelci", "runners", galaxy()["version"])


def test_helm_is_installed_only_after_its_checksum_is_verified(containerfile):
    final_stage = containerfile[containerfile.index("FROM base AS final"):]
    steps = [line for line in final_stage.splitlines() if "get.helm.sh" in line]
    assert len(steps) == 1, steps
    step = steps[0]
    assert final_stage.index(step) < final_stage.index("USER 1000")  # still root
    checksums = {arch: digest for _machine, arch, digest in HELM_STEP_RE.findall(step)}
    assert set(checksums) == {"amd64", "arm64"} and len(set(checksums.values())) == 2, step
    version = re.search(r"helm-(v\d+\.\d+\.\d+)-linux-", step).group(1)
    verify = step.index("sha256sum --check")
    assert verify < step.index("tar -xzf") < step.index("install -m 0755"), step
    assert "set -eu" in step  # a failed check stops the build
    # The same helm the tests run against (make bootstrap, scripts/install_helm.py).
    helm = run([HELM, "version", "--template", "{{ .Version }}"]).stdout.strip()
    assert version == helm, "the EE installs helm %s, make bootstrap %s" % (version, helm)


def load_introspect(context):
    """The introspection script ansible-builder put into the context (it runs it in the builder stage)."""
    spec = importlib.util.spec_from_file_location("ee_introspect", context / "_build" / "scripts" / "introspect.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_an_ee_that_installs_the_collection_gets_its_requirements(context, tarball, tmp_path):
    # What ansible-builder does in the builder stage of any EE that lists accelci.runners: install it, then read
    # meta/execution-environment.yml of each installed collection.
    collections_dir = tmp_path / "collections"
    config = tmp_path / "ansible.cfg"
    config.write_text("[defaults]\ncollections_path = %s\n" % collections_dir)
    run([os.path.join(BIN, "ansible-galaxy"), "collection", "install", tarball, "-p", collections_dir],
        cwd=tmp_path, env=isolated_env(collections_dir, config))
    proc = run([sys.executable, context / "_build" / "scripts" / "introspect.py", "introspect", collections_dir],
               cwd=tmp_path)
    found = yaml.safe_load(proc.stdout)
    from_collection = "  # from collection accelci.runners"
    # ansible-builder drops what it installs itself (PyYAML, ansible-core, ...) from collections' requirements.
    builder_own = load_introspect(context).EXCLUDE_REQUIREMENTS
    python = [line for line in requirement_lines(os.path.join(ROOT, "requirements.txt"))
              if re.split(r"[<>=!~\[; ]", line, maxsplit=1)[0].lower() not in builder_own]
    assert found["python"] == [line + from_collection for line in python]
    assert found["system"] == [line + from_collection for line in requirement_lines(os.path.join(ROOT, "bindep.txt"))]

"""Build the local control plane's programs from the Go module proxy, once per machine.

    python -m tests.emulators.kube.build          # build what is missing, with progress; prints the bin dir
    python -m tests.emulators.kube.build --check  # exit 1 when something is missing, build nothing

Two small Go modules in this repository pin what is built (their go.mod and go.sum are the versions):

- ``tools/kube``: ``kube-apiserver``, ``kube-controller-manager`` and ``kube-scheduler`` from ``k8s.io/kubernetes``
  (which cannot be ``go install``-ed: its go.mod replaces every ``k8s.io/<staging repo>`` with a local directory,
  so this module requires it and replaces each staging repo with its published ``v0.X.Y``), and ``etcd``, a
  small main embedding ``go.etcd.io/etcd/server/v3/embed`` at the version Kubernetes itself requires;
- ``tools/kwok``: ``kwok``, which stands in for the nodes and their kubelets.

Binaries go to ``$ACCELCI_CACHE_DIR`` (default ``~/.cache/accelci``) ``/kube/<key>/bin``, where the key names the
versions and a digest of the module files, so a version bump builds into a new directory and an old clone keeps
using its own. Go's own module and build caches make a rebuild after a bump much faster than the first build.
"""

import argparse
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
TOOLS = os.path.join(ROOT, "tools")

# (program, Go module directory under tools/, package to build)
COMPONENTS = [
    ("etcd", "kube", "./etcd"),
    ("kube-apiserver", "kube", "k8s.io/kubernetes/cmd/kube-apiserver"),
    ("kube-controller-manager", "kube", "k8s.io/kubernetes/cmd/kube-controller-manager"),
    ("kube-scheduler", "kube", "k8s.io/kubernetes/cmd/kube-scheduler"),
    ("kwok", "kwok", "sigs.k8s.io/kwok/cmd/kwok"),
]
PROGRAMS = [name for name, _module, _package in COMPONENTS]
# kwok's own default stages (node-initialize, node heartbeat with a lease, pod ready/complete/delete), taken from the
# kwok module at build time into one file beside the programs: kwok runs with no stage unless told.
KWOK_STAGES = "kwok-stages.yaml"
_KWOK_STAGE_FILES = ("node/fast/node-initialize.yaml", "node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
                     "pod/fast/pod-ready.yaml", "pod/fast/pod-complete.yaml", "pod/fast/pod-delete.yaml")
_MODULE_FILES = ("go.mod", "go.sum")


class BuildError(RuntimeError):
    """A component could not be built; the message names it and carries the tail of Go's output."""


def cache_root():
    return os.path.join(os.environ.get("ACCELCI_CACHE_DIR") or os.path.expanduser("~/.cache/accelci"), "kube")


def required_version(module_dir, path):
    """The version tools/<module_dir>/go.mod requires of ``path``."""
    with open(os.path.join(TOOLS, module_dir, "go.mod")) as handle:
        text = handle.read()
    match = re.search(r"^\s*(?:require\s+)?%s\s+(v\S+)" % re.escape(path), text, re.M)
    if not match:
        raise BuildError("tools/%s/go.mod does not require %s" % (module_dir, path))
    return match.group(1)


def versions():
    """What is built: {program: version}."""
    kubernetes = required_version("kube", "k8s.io/kubernetes")
    return {
        "kube-apiserver": kubernetes,
        "kube-controller-manager": kubernetes,
        "kube-scheduler": kubernetes,
        "etcd": required_version("kube", "go.etcd.io/etcd/server/v3"),
        "kwok": required_version("kwok", "sigs.k8s.io/kwok"),
    }


def cache_key():
    """'kubernetes-v1.34.4-etcd-v3.6.4-kwok-v0.8.0-<digest>': versions for people, a digest of every file that
    goes into the build (this one included) so that any change to them builds afresh."""
    digest = hashlib.sha256()
    with open(os.path.abspath(__file__), "rb") as handle:  # the build flags live here
        digest.update(handle.read())
    for module_dir in ("kube", "kwok"):
        base = os.path.join(TOOLS, module_dir)
        for current, _dirs, files in sorted(os.walk(base)):
            for name in sorted(files):
                if name.endswith(".go") or name in _MODULE_FILES:
                    path = os.path.join(current, name)
                    digest.update(os.path.relpath(path, TOOLS).encode() + b"\0")
                    with open(path, "rb") as handle:
                        digest.update(handle.read())
    found = versions()
    return "kubernetes-%s-etcd-%s-kwok-%s-%s" % (found["kube-apiserver"], found["etcd"], found["kwok"],
                                                 digest.hexdigest()[:10])


def bin_dir():
    return os.path.join(cache_root(), cache_key(), "bin")


def missing(directory=None):
    directory = directory or bin_dir()
    absent = [name for name in PROGRAMS if not os.access(os.path.join(directory, name), os.X_OK)]
    if not os.path.exists(os.path.join(directory, KWOK_STAGES)):
        absent.append(KWOK_STAGES)
    return absent


def binaries():
    """{program: path} of the built programs; BuildError naming the command to run when any is missing."""
    directory = bin_dir()
    absent = missing(directory)
    if absent:
        raise BuildError("the local control plane is not built (missing: %s); run `make kube` "
                         "(or python -m tests.emulators.kube.build)" % ", ".join(absent))
    found = {name: os.path.join(directory, name) for name in PROGRAMS}
    found[KWOK_STAGES] = os.path.join(directory, KWOK_STAGES)
    return found


def _go():
    go = shutil.which("go")
    if not go:
        raise BuildError("Go is not on PATH: the local control plane is built from the Go module proxy with the "
                         "go command (Go 1.26 or newer)")
    return go


def _ldflags(name):
    """Strip symbols; stamp the Kubernetes programs with their version, as the release build does (without it they
    report v0.0.0-master, and clients such as helm read the server's version for chart constraints)."""
    flags = ["-s", "-w"]
    if name.startswith("kube-"):
        version = versions()[name]
        major, minor, _patch = version.lstrip("v").split(".", 2)
        for variable, value in (("gitVersion", version), ("gitMajor", major), ("gitMinor", minor),
                                ("gitTreeState", "clean")):
            flags.append("-X k8s.io/component-base/version.%s=%s" % (variable, value))
    return " ".join(flags)


def _build_one(go, name, module_dir, package, directory, log):
    target = os.path.join(directory, name)
    partial = target + ".partial"
    env = dict(os.environ, CGO_ENABLED="0", GOFLAGS="-mod=readonly")
    command = [go, "build", "-trimpath", "-ldflags=" + _ldflags(name), "-o", partial, package]
    started = time.monotonic()
    proc = subprocess.run(command, cwd=os.path.join(TOOLS, module_dir), env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, check=False)
    if proc.returncode != 0:
        tail = "\n".join(proc.stdout.strip().splitlines()[-30:])
        raise BuildError("building %s (%s, from tools/%s) failed with exit code %d:\n%s"
                         % (name, package, module_dir, proc.returncode, tail))
    os.replace(partial, target)
    log("  built %-24s in %5.1f s" % (name, time.monotonic() - started))


def _write_kwok_stages(go, directory, log):
    """Concatenate kwok's default stage files from the kwok module Go downloaded for the build."""
    proc = subprocess.run([go, "list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/kwok"], cwd=os.path.join(TOOLS, "kwok"),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    module_dir = proc.stdout.strip()
    if proc.returncode != 0 or not os.path.isdir(module_dir):
        raise BuildError("finding kwok's stage files (go list -m sigs.k8s.io/kwok) failed:\n%s" % proc.stdout)
    documents = []
    for relative in _KWOK_STAGE_FILES:
        path = os.path.join(module_dir, "kustomize", "stage", relative)
        try:
            with open(path) as handle:
                documents.append(handle.read().strip() + "\n")
        except OSError as exc:
            raise BuildError("kwok %s has no stage file %s: %s" % (versions()["kwok"], relative, exc))
    target = os.path.join(directory, KWOK_STAGES)
    with open(target + ".partial", "w") as handle:
        handle.write("---\n".join(documents))
    os.replace(target + ".partial", target)
    log("  wrote %s (kwok's default stages)" % KWOK_STAGES)


def build(log=print):
    """Build every missing program (under a lock, so parallel callers wait for one build); returns the bin dir."""
    directory = bin_dir()
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(os.path.dirname(directory), ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        todo = missing(directory)
        if not todo:
            return directory
        go = _go()
        found = versions()
        log("Building the local control plane into %s" % directory)
        log("  %s" % ", ".join("%s %s" % (name, found[name]) for name in PROGRAMS))
        log("  (first build on a machine: about 8 minutes on 2 cores; later builds reuse Go's caches)")
        started = time.monotonic()
        for index, (name, module_dir, package) in enumerate(COMPONENTS, 1):
            if name not in todo:
                continue
            log("  [%d/%d] building %s %s ..." % (index, len(COMPONENTS), name, found[name]))
            _build_one(go, name, module_dir, package, directory, log)
        if KWOK_STAGES in todo:
            _write_kwok_stages(go, directory, log)
        with open(os.path.join(os.path.dirname(directory), "versions.json"), "w") as handle:
            json.dump(found, handle, indent=2, sort_keys=True)
        log("Local control plane built in %.0f s" % (time.monotonic() - started))
    return directory


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a program is missing; build nothing")
    args = parser.parse_args(argv)
    try:
        if args.check:
            absent = missing()
            if absent:
                print("missing in %s: %s" % (bin_dir(), ", ".join(absent)))
                return 1
            print(bin_dir())
            return 0
        print(build(log=lambda line: print(line, flush=True)))
        return 0
    except BuildError as exc:
        print("make kube: %s" % exc, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

"""Run `ansible-test sanity` on this collection, offline except for PyPI.

ansible-test must run from a directory named .../ansible_collections/<namespace>/<name>, and it resolves the real
path of its working directory, so the symlink under build/collections is not enough. This script:

1. copies the collection's files (git-tracked plus untracked-but-not-ignored, i.e. what a commit would hold) into a
   fresh build/sanity/ansible_collections/<namespace>/<name>;
2. seeds ansible-test's pip bootstrap cache (~/.ansible/test/cache/get_pip_<version>.py). ansible-test downloads that
   script from a CI files host when it creates its per-test virtual environments; the seeded stand-in bootstraps pip
   with the standard library's ensurepip and then installs the pinned pip from PyPI, so only PyPI is needed;
3. runs `ansible-test sanity --venv --requirements --python X.Y` there: every sanity test gets its own virtual
   environment under ~/.ansible/test/venv with ansible-test's pinned requirements (created once, then reused), so
   the project's .venv is never changed;
4. when ansible-test aborts inside one test (a crash, not a finding), runs the tests it did not reach in a further
   pass, so one broken file does not hide the other tests' findings;
5. prints a summary: per test its status and time, and the files with issues. Exit status 0 only when every test
   passed.

Usage: .venv/bin/python scripts/run_sanity.py [--python 3.11] [--test NAME] [--skip-test NAME] [PATH ...]
"""

import argparse
import fcntl
import os
import re
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SANITY_ROOT = os.path.join(ROOT, "build", "sanity")
CACHE_DIR = os.path.expanduser(os.path.join("~", ".ansible", "test", "cache"))

# The stand-in for get-pip.py. ansible-test runs it as `python get_pip_X.py --disable-pip-version-check pip==X
# --no-setuptools --no-wheel` inside a virtual environment created without pip.
GET_PIP_STANDIN = '''\
"""Offline stand-in for get-pip.py, written by the collection's scripts/run_sanity.py.

Bootstraps pip with the standard library's ensurepip, then installs the requested pip from the package index.
"""
import importlib.metadata
import subprocess
import sys

GET_PIP_ONLY = {"--no-setuptools": "setuptools", "--no-wheel": "wheel"}


def installed(name):
    try:
        importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


args = [a for a in sys.argv[1:] if a not in GET_PIP_ONLY]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"])
subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", "--upgrade"] + args)
# ensurepip brings setuptools along; drop what get-pip.py was told not to install.
unwanted = [GET_PIP_ONLY[a] for a in sys.argv[1:] if a in GET_PIP_ONLY and installed(GET_PIP_ONLY[a])]
if unwanted:
    subprocess.check_call([sys.executable, "-m", "pip", "uninstall", "--quiet", "--yes"] + unwanted)
'''

RUNNING_RE = re.compile(r"^Running sanity test [\"']([^\"']+)[\"']")
ISSUE_RE = re.compile(r"^ERROR: ([^\s:][^:]*):(\d+):(\d+): (.*)$")
ANSI_RE = re.compile(r"\x1b\[[0-9;]*m")
FOUND_RE = re.compile(r"^ERROR: Found (\d+) (\S+) issue")
# FATAL lines that end a run normally: the list of failed tests, and the delegated ansible-test's exit status.
# Any other FATAL means ansible-test aborted inside the current test.
END_OF_RUN_RE = re.compile(r"^FATAL: (The \d+ sanity test|Command \"/usr/bin/env ANSIBLE_TEST_CONTENT_ROOT=)")


def collection_name():
    """(namespace, name) from galaxy.yml, read without a YAML parser so the script needs nothing installed."""
    values = {}
    with open(os.path.join(ROOT, "galaxy.yml"), encoding="utf-8") as handle:
        for line in handle:
            match = re.match(r"^(namespace|name):\s*['\"]?([A-Za-z0-9_]+)", line)
            if match:
                values[match.group(1)] = match.group(2)
    return values["namespace"], values["name"]


def collection_files():
    """Paths (relative to the repository) a commit would hold: tracked plus untracked files git does not ignore."""
    output = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.decode("utf-8")
    return sorted(set(path for path in output.split("\0") if path))


def copy_collection(destination):
    """Copy the collection's files into a fresh destination; returns how many files were copied.

    ansible-test's own virtual environment (tests/output/.tmp/delegation) survives the refresh: it is reused when it
    is back at the same path, which saves creating it on every run.
    """
    delegation = os.path.join(destination, "tests", "output", ".tmp", "delegation")
    kept = os.path.join(os.path.dirname(SANITY_ROOT), "sanity-delegation")
    if os.path.exists(kept):
        shutil.rmtree(kept)
    if os.path.isdir(delegation):
        os.rename(delegation, kept)
    if os.path.exists(destination):
        shutil.rmtree(destination)
    copied = 0
    for relative in collection_files():
        source = os.path.join(ROOT, relative)
        if not os.path.lexists(source):  # deleted in the work tree, still in the index
            continue
        target = os.path.join(destination, relative)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if os.path.islink(source):
            os.symlink(os.readlink(source), target)
        elif os.path.isfile(source):
            shutil.copy2(source, target)
        else:
            continue
        copied += 1
    if os.path.isdir(kept):
        os.makedirs(os.path.dirname(delegation), exist_ok=True)
        os.rename(kept, delegation)
    return copied


def bootstrap_pip_version():
    """The pip version ansible-test bootstraps into its virtual environments (24.2 for ansible-core 2.19)."""
    from ansible_test._internal.python_requirements import get_venv_packages  # pylint: disable=import-outside-toplevel

    class _Python:  # get_venv_packages only reads .version
        version = "%d.%d" % sys.version_info[:2]

    return get_venv_packages(_Python())["pip"]


def seed_pip_bootstrap_cache(pip_version):
    """Write the get-pip stand-in (and the empty .download marker) unless a real or seeded script is there."""
    os.makedirs(CACHE_DIR, exist_ok=True)
    path = os.path.join(CACHE_DIR, "get_pip_%s.py" % pip_version.replace(".", "_"))
    current = None
    if os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            current = handle.read()
    # Leave a real get-pip.py alone; refresh an older copy of the stand-in.
    if current is None or (current != GET_PIP_STANDIN and current.startswith(GET_PIP_STANDIN.split("\n", 1)[0])):
        with open(path + ".tmp", "w", encoding="utf-8") as handle:
            handle.write(GET_PIP_STANDIN)
        os.replace(path + ".tmp", path)
        print("run_sanity: seeded %s (pip bootstrap through ensurepip)" % path, flush=True)
    marker = path + ".download"
    if not os.path.exists(marker):
        open(marker, "w", encoding="utf-8").close()
    return path


def git_commit_snapshot(path):
    """Make the copy a one-commit git repository, so ansible-test lists exactly the copied files."""
    env = dict(
        os.environ,
        GIT_AUTHOR_NAME="sanity",
        GIT_AUTHOR_EMAIL="sanity@localhost",
        GIT_COMMITTER_NAME="sanity",
        GIT_COMMITTER_EMAIL="sanity@localhost",
    )
    for command in (
        ["git", "init", "--quiet"],
        ["git", "add", "--all"],
        ["git", "commit", "--quiet", "--no-gpg-sign", "--no-verify", "-m", "sanity snapshot"],
    ):
        subprocess.run(command, cwd=path, env=env, check=True, stdout=subprocess.DEVNULL)


class SanityResults:
    """What the ansible-test runs reported, per sanity test."""

    def __init__(self):
        self.durations = {}  # test -> seconds
        self.issues = {}  # test -> [(path, line, message)]
        self.failed = []  # tests that reported a failure
        self.crashed = []  # tests during which ansible-test aborted (FATAL): later tests did not run in that pass
        self.details = {}  # test -> first error lines, for failures that name no path:line:column

    def status(self, test):
        if test in self.crashed:
            return "CRASHED"
        if test in self.failed or test in self.issues:
            return "FAILED"
        return "ok"

    @property
    def ok(self):
        return not (self.failed or self.issues or self.crashed)


def run_ansible_test(workdir, argv, results):
    """Run ansible-test once, echoing its output into results; return (exit code, the test it crashed in or None)."""
    env = dict(os.environ)
    env.pop("ANSIBLE_CONFIG", None)  # the repository's ansible.cfg points at build/collections; not wanted here
    env["PYTHONUNBUFFERED"] = "1"
    current, started, crashed_in, tail = None, None, None, []
    process = subprocess.Popen(
        argv, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    )
    for line in process.stdout:
        sys.stdout.write(line)
        sys.stdout.flush()
        text = line.rstrip("\n")
        match = RUNNING_RE.match(text)
        if match:
            now = time.monotonic()
            if current is not None:
                results.durations[current] = now - started
            current, started = match.group(1), now
            continue
        if crashed_in is not None:
            # Keep the end of the traceback: its last lines name the exception and often the file.
            if text.strip() and not END_OF_RUN_RE.match(text):
                tail.append(ANSI_RE.sub("", text).strip()[:300])
                del tail[:-5]
            continue
        if current is None:
            continue
        match = ISSUE_RE.match(text)
        if match and not FOUND_RE.match(text):
            results.issues.setdefault(current, []).append((match.group(1), match.group(2), match.group(4)))
        elif END_OF_RUN_RE.match(text):
            continue
        elif text.startswith("FATAL: "):
            crashed_in = current
            results.crashed.append(current)
        elif text.startswith("ERROR: ") or text.startswith("[ERROR]: "):
            if current not in results.failed:
                results.failed.append(current)
            if not FOUND_RE.match(text):
                results.details.setdefault(current, [])
                if len(results.details[current]) < 3:
                    results.details[current].append(text[:300])
    code = process.wait()
    if current is not None:
        results.durations[current] = time.monotonic() - started
    if crashed_in is not None:
        results.details[crashed_in] = results.details.get(crashed_in, []) + tail
    return code, crashed_in


def print_summary(results, elapsed, copied, passes):
    """Per test: status and seconds; failing tests with their files and issue counts."""
    print("")
    print("=" * 78)
    print("ansible-test sanity summary (%d files, %d pass(es), %.0f s in total)" % (copied, passes, elapsed))
    print("-" * 78)
    for test, seconds in sorted(results.durations.items(), key=lambda item: -item[1]):
        print("  %-28s %-8s %6.1f s" % (test, results.status(test), seconds))
    if results.issues:
        print("-" * 78)
        print("Files with issues:")
        for test in sorted(results.issues):
            per_file = {}
            for path, _line, _message in results.issues[test]:
                per_file[path] = per_file.get(path, 0) + 1
            for path, count in sorted(per_file.items()):
                print("  %-20s %s (%d)" % (test, path, count))
    other = [test for test in sorted(results.details) if test not in results.issues]
    if other:
        print("-" * 78)
        print("Failures without a file position (first lines; full output above):")
        for test in other:
            for text in results.details[test]:
                print("  %-20s %s" % (test, text))
    if results.crashed:
        print("-" * 78)
        print("ansible-test aborted inside: %s (the tests after it ran in a further pass)" % ", ".join(results.crashed))
    print("-" * 78)
    if results.ok:
        print("RESULT: all sanity tests passed")
    else:
        names = sorted(set(results.failed) | set(results.issues) | set(results.crashed))
        print("RESULT: FAILED: %s" % ", ".join(names))
    print("=" * 78)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default="%d.%d" % sys.version_info[:2], help="Python version to test (default: this one)")
    parser.add_argument("--test", action="append", default=[], help="run only this sanity test (repeatable)")
    parser.add_argument("--skip-test", action="append", default=[], help="skip this sanity test (repeatable)")
    parser.add_argument("targets", nargs="*", help="limit the tests to these paths (relative to the collection root)")
    options = parser.parse_args()

    namespace, name = collection_name()
    workdir = os.path.join(SANITY_ROOT, "ansible_collections", namespace, name)
    os.makedirs(SANITY_ROOT, exist_ok=True)
    # One run at a time: a second run would delete the copy (and share the test venvs) under the first.
    lock = open(os.path.join(SANITY_ROOT, ".lock"), "w", encoding="utf-8")  # pylint: disable=consider-using-with
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        print("run_sanity: another sanity run holds %s; waiting for it" % lock.name, flush=True)
        fcntl.flock(lock, fcntl.LOCK_EX)
    started = time.monotonic()
    copied = copy_collection(workdir)
    git_commit_snapshot(workdir)
    print("run_sanity: copied %d files to %s" % (copied, os.path.relpath(workdir, ROOT)), flush=True)
    seed_pip_bootstrap_cache(bootstrap_pip_version())

    ansible_test = os.path.join(os.path.dirname(sys.executable), "ansible-test")
    base = [ansible_test, "sanity", "--venv", "--requirements", "--python", options.python, "--color", "no"]
    for test in options.test:
        base += ["--test", test]
    results, passes, code = SanityResults(), 0, 0
    while True:
        # A crash (FATAL) in one test stops ansible-test; run the tests it did not reach in a further pass.
        skip = list(options.skip_test) + sorted(results.durations)
        argv = base + [arg for test in skip for arg in ("--skip-test", test)] + options.targets
        print("run_sanity: %s" % " ".join(argv[1:]), flush=True)
        passes += 1
        code, crashed_in = run_ansible_test(workdir, argv, results)
        if crashed_in is None or passes > 10:
            break
    print_summary(results, time.monotonic() - started, copied, passes)
    if results.ok and code != 0:
        print("run_sanity: ansible-test exited %d without naming a failing test; see its output above" % code)
    return 0 if results.ok and code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

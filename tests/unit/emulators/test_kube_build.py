"""The control plane's build: what it reads its versions from, where it caches, and how a failure is reported."""

import os

import pytest

from tests.emulators.kube import build


def test_versions_come_from_the_pinned_go_modules():
    found = build.versions()
    assert found["kube-apiserver"] == found["kube-scheduler"] == found["kube-controller-manager"]
    assert found["kube-apiserver"].startswith("v1.")
    assert int(found["kube-apiserver"].split(".")[1]) >= 34  # a minor GKE's regular channel runs
    assert found["etcd"].startswith("v3.") and found["kwok"].startswith("v0.")


def test_the_cache_is_keyed_by_versions_outside_the_clone(monkeypatch, tmp_path):
    monkeypatch.setenv("ACCELCI_CACHE_DIR", str(tmp_path))
    directory = build.bin_dir()
    assert directory.startswith(str(tmp_path / "kube"))
    assert "kubernetes-%s" % build.versions()["kube-apiserver"] in directory
    assert build.missing() == build.PROGRAMS + [build.KWOK_STAGES]
    with pytest.raises(build.BuildError) as missing:
        build.binaries()
    assert "run `make kube`" in str(missing.value)


def test_a_failed_component_is_named_with_gos_output(monkeypatch, tmp_path):
    fake_go = tmp_path / "bin" / "go"
    fake_go.parent.mkdir()
    fake_go.write_text("#!/bin/sh\necho 'k8s.io/kubernetes@v1.34.4: reading module: 403 Forbidden' >&2\nexit 1\n")
    fake_go.chmod(0o755)
    monkeypatch.setenv("PATH", str(fake_go.parent) + os.pathsep + os.environ["PATH"])
    monkeypatch.setenv("ACCELCI_CACHE_DIR", str(tmp_path / "cache"))
    lines = []
    with pytest.raises(build.BuildError) as failed:
        build.build(log=lines.append)
    message = str(failed.value)
    assert message.startswith("building etcd (./etcd, from tools/kube) failed with exit code 1")
    assert "403 Forbidden" in message
    assert any("[1/5] building etcd" in line for line in lines)
    assert build.main(["--check"]) == 1


def test_without_go_the_error_says_what_is_needed(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("ACCELCI_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(build.BuildError) as failed:
        build.build(log=lambda line: None)
    assert "Go is not on PATH" in str(failed.value)

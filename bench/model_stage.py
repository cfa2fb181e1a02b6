"""Benchmark: model_stage vs the naive path of seed 000, on one generated repo of about 2 GB.

Not a test: it prints figures and never passes or fails on time.

  .venv/bin/python bench/model_stage.py [--large-files 6 --large-mib 320 --small-files 150 --small-kib 1024]

What it does, all on this machine:
1. builds a repo (a few large LFS files, many small git files) that olah serves offline; fake-gcs-server (in-memory
   backend) stands in for the bucket;
2. naive path (the source document's "download, then gsutil cp"): huggingface_hub.snapshot_download of the whole
   repo into a local dir (plain HTTP, HF_HUB_DISABLE_XET=1), then one google-cloud-storage upload per file, one
   after the other;
3. model_stage's path: ModelStager + GcsModelStore, streaming Hub -> bucket with N threads, every file verified;
4. an unchanged refresh with model_stage.
Each path runs in its own process, with its own TMPDIR, so its peak RSS and the peak size of its local working
directory (sampled every 0.2 s) belong to it alone.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "build", "collections")]

REPO_ID = "bench-org/bench-model"
BUCKET = "accelci-bench"

CHILD_PRELUDE = r"""
import json, os, resource, sys, threading, time
sys.path[:0] = [%(root)r, %(collections)r]

def tree_size(path):
    total = 0
    for dirpath, _dirs, names in os.walk(path):
        for name in names:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_blocks * 512
            except OSError:
                pass
    return total

class DiskMonitor(threading.Thread):
    def __init__(self, path):
        super().__init__(daemon=True)
        self.path, self.peak, self.stop_flag = path, 0, threading.Event()
    def run(self):
        while not self.stop_flag.is_set():
            self.peak = max(self.peak, tree_size(self.path))
            self.stop_flag.wait(0.2)
    def stop(self):
        self.stop_flag.set(); self.join(); self.peak = max(self.peak, tree_size(self.path))
        return self.peak

def storage_client(endpoint):
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage
    return storage.Client(project="bench", credentials=AnonymousCredentials(),
                          client_options={"api_endpoint": endpoint})

def report(**figures):
    usage = resource.getrusage(resource.RUSAGE_SELF)
    figures["peak_rss_bytes"] = usage.ru_maxrss * 1024
    figures["cpu_seconds"] = usage.ru_utime + usage.ru_stime
    print("RESULT " + json.dumps(figures), flush=True)
"""

NAIVE_CHILD = CHILD_PRELUDE + r"""
hub, gcs, workdir = sys.argv[1:4]
from huggingface_hub import snapshot_download
monitor = DiskMonitor(workdir); monitor.start()
started = time.monotonic()
local = os.path.join(workdir, "download")
snapshot_download(REPO_ID, revision="main", local_dir=local, endpoint=hub)
downloaded = time.monotonic()
bucket = storage_client(gcs).bucket(BUCKET)
sent = 0
for dirpath, dirs, names in os.walk(local):
    dirs[:] = [d for d in dirs if d != ".cache"]
    for name in sorted(names):
        full = os.path.join(dirpath, name)
        rel = os.path.relpath(full, local)
        bucket.blob("naive/%%s/%%s" %% (REPO_ID, rel)).upload_from_filename(full)
        sent += os.path.getsize(full)
finished = time.monotonic()
report(seconds=finished - started, download_seconds=downloaded - started, upload_seconds=finished - downloaded,
       bytes=sent, peak_disk_bytes=monitor.stop())
"""

STAGE_CHILD = CHILD_PRELUDE + r"""
hub, gcs, workdir, concurrency = sys.argv[1:5]
from ansible_collections.accelci.runners.plugins.module_utils.models.hub_client import HubSource
from ansible_collections.accelci.runners.plugins.module_utils.models.stage_manager import ModelStager
from ansible_collections.accelci.runners.plugins.module_utils.models.gcs_store_client import (
    GcsModelStore, widen_connection_pool)
monitor = DiskMonitor(workdir); monitor.start()
started = time.monotonic()
client = storage_client(gcs)
widen_connection_pool(client, int(concurrency))
source = HubSource(REPO_ID, revision="main", endpoint=hub)
result = ModelStager(source, GcsModelStore(client, "gs://%%s/staged" %% BUCKET), concurrency=int(concurrency)).run()
finished = time.monotonic()
model = result["model"]
report(seconds=finished - started, bytes=model["bytes_transferred"], bytes_skipped=model["bytes_skipped"],
       changed=result["changed"], hub_requests=model["hub_requests"], files=model["files"],
       commit=model["commit"], peak_disk_bytes=monitor.stop())
"""


def process_cpu(pid):
    """CPU seconds (user + system) a process has used so far."""
    with open("/proc/%d/stat" % pid) as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / float(os.sysconf("SC_CLK_TCK"))


def servers_cpu(hub, gcs):
    """CPU seconds of olah, fake-gcs-server and this process (the Hub front and the CDN run here)."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    return {"olah": process_cpu(hub._process.pid), "fake-gcs": process_cpu(gcs._process.pid),
            "front+cdn": own.ru_utime + own.ru_stime}


def run_child(script, args, workdir, servers=None):
    """Run one path in its own process; returns its RESULT dict (with the servers' CPU during the run)."""
    before = servers() if servers else {}
    os.makedirs(workdir, exist_ok=True)
    env = dict(os.environ, TMPDIR=workdir, HF_HUB_DISABLE_XET="1", HF_HUB_DISABLE_PROGRESS_BARS="1",
               HF_HUB_DISABLE_TELEMETRY="1", HF_HOME=os.path.join(workdir, "hf-home"))
    env.pop("STORAGE_EMULATOR_HOST", None)
    env.pop("HF_ENDPOINT", None)
    code = script % {"root": ROOT, "collections": os.path.join(ROOT, "build", "collections")}
    code = code.replace("REPO_ID", repr(REPO_ID)).replace("BUCKET", repr(BUCKET))
    proc = subprocess.run([sys.executable, "-c", code] + list(args), env=env, capture_output=True, text=True,
                          check=False)
    after = servers() if servers else {}
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT "):])
            result["server_cpu"] = {k: after[k] - before[k] for k in after}
            return result
    raise SystemExit("benchmark child failed (rc %s):\n%s\n%s"
                     % (proc.returncode, proc.stdout[-3000:], proc.stderr[-5000:]))


def build_bench_repo(mirror_root, large_files, large_mib, small_files, small_kib):
    """The benchmark repo: large LFS weights plus many small files kept in git."""
    import random

    from tests.emulators.hub import LargeFile, build_repo

    files = {"config.json": json.dumps({"model_type": "bench"}).encode(),
             "README.md": b"# bench model\n"}
    for i in range(large_files):
        files["weights/model-%05d-of-%05d.safetensors" % (i + 1, large_files)] = LargeFile(large_mib << 20, seed=i)
    rng = random.Random(1234)
    for i in range(small_files):
        files["shards/part-%04d.bin" % i] = rng.randbytes(small_kib << 10)
    return build_repo(mirror_root, REPO_ID, [files], lfs_paths=lambda path, data: False)


def mib(n):
    return n / float(1 << 20)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--large-files", type=int, default=6)
    parser.add_argument("--large-mib", type=int, default=320)
    parser.add_argument("--small-files", type=int, default=150)
    parser.add_argument("--small-kib", type=int, default=1024)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workdir", default=None, help="where the repo and the working dirs go (a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the work dir")
    args = parser.parse_args()

    from tests.emulators.fake_gcs import FakeGcs
    from tests.emulators.hub import OlahHub

    workdir = args.workdir or tempfile.mkdtemp(prefix="model-stage-bench-")
    try:
        t0 = time.monotonic()
        built = build_bench_repo(os.path.join(workdir, "mirror"), args.large_files, args.large_mib,
                                 args.small_files, args.small_kib)
        total = args.large_files * (args.large_mib << 20) + args.small_files * (args.small_kib << 10)
        print("repo %s: %d files, %.0f MiB (%d x %d MiB LFS + %d x %d KiB in git), built in %.1fs"
              % (REPO_ID, args.large_files + args.small_files + 2, mib(total), args.large_files, args.large_mib,
                 args.small_files, args.small_kib, time.monotonic() - t0), flush=True)
        # olah for the API and git files, LFS files by redirect to a CDN (as huggingface.co does); fake-gcs-server in
        # memory.
        with OlahHub(os.path.join(workdir, "mirror"), cdn=True) as hub, FakeGcs() as gcs:
            gcs.create_bucket(BUCKET)

            def servers():
                return servers_cpu(hub, gcs)

            naive = run_child(NAIVE_CHILD, [hub.endpoint, gcs.endpoint, os.path.join(workdir, "naive")],
                              os.path.join(workdir, "naive"), servers)
            print("naive done in %.1fs" % naive["seconds"], flush=True)
            staged = run_child(STAGE_CHILD, [hub.endpoint, gcs.endpoint, os.path.join(workdir, "stage"),
                                             str(args.concurrency)], os.path.join(workdir, "stage"), servers)
            print("model_stage done in %.1fs" % staged["seconds"], flush=True)
            refresh = run_child(STAGE_CHILD, [hub.endpoint, gcs.endpoint, os.path.join(workdir, "refresh"),
                                              str(args.concurrency)], os.path.join(workdir, "refresh"), servers)
        assert staged["commit"] == built.head
        rows = [
            ("path", "wall s", "MiB/s", "moved MiB", "peak RSS MiB", "peak local disk MiB"),
            ("naive: snapshot_download + upload one by one", "%.1f" % naive["seconds"],
             "%.1f" % (mib(naive["bytes"]) / naive["seconds"]), "%.0f" % mib(naive["bytes"]),
             "%.0f" % mib(naive["peak_rss_bytes"]), "%.0f" % mib(naive["peak_disk_bytes"])),
            ("model_stage (concurrency %d, verified, streamed)" % args.concurrency, "%.1f" % staged["seconds"],
             "%.1f" % (mib(staged["bytes"]) / staged["seconds"]), "%.0f" % mib(staged["bytes"]),
             "%.0f" % mib(staged["peak_rss_bytes"]), "%.0f" % mib(staged["peak_disk_bytes"])),
            ("model_stage unchanged refresh", "%.2f" % refresh["seconds"], "-", "%.0f" % mib(refresh["bytes"]),
             "%.0f" % mib(refresh["peak_rss_bytes"]), "%.0f" % mib(refresh["peak_disk_bytes"])),
        ]
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        print()
        for row in rows:
            print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        print()
        print("naive split: download %.1fs, upload %.1fs" % (naive["download_seconds"], naive["upload_seconds"]))
        for name, fig in (("naive", naive), ("model_stage", staged)):
            print("CPU seconds during %s: client %.1f, %s" % (name, fig["cpu_seconds"], ", ".join(
                "%s %.1f" % (k, v) for k, v in sorted(fig["server_cpu"].items()))))
        load = " ".join("%.1f" % x for x in os.getloadavg())
        print("load average at the end: %s (%d CPUs)" % (load, os.cpu_count()))
        print("speed-up of model_stage over naive: %.2fx" % (naive["seconds"] / staged["seconds"]))
        print("unchanged refresh: %.2fs = %.1f%% of the full stage, %d bytes moved, %d Hub request(s), changed=%s"
              % (refresh["seconds"], 100.0 * refresh["seconds"] / staged["seconds"], refresh["bytes"],
                 refresh["hub_requests"], refresh["changed"]))
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print("work dir kept: %s" % workdir)


if __name__ == "__main__":
    main()

"""`make sandbox`: converge inventories/sandbox against local stand-ins, twice, and say what was made.

Starts the GKE API emulator, fake-gcs-server and an olah Hugging Face mirror serving a small demo model, points
the collection at them through environment variables, runs site.yml twice (the second run must change nothing),
and prints the recaps, the GKE requests of the second run, and a summary of what exists.
"""

import os
import re
import subprocess
import sys
import tempfile
from collections import Counter

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tests.emulators.fake_gcs import FakeGcs  # noqa: E402
from tests.emulators.gke import GkeEmulator  # noqa: E402
from tests.emulators.hub import OlahHub, build_sandbox_repos  # noqa: E402

SANDBOX_DIR = os.path.join(ROOT, "build", "sandbox")
RENDER_DIR = os.path.join(SANDBOX_DIR, "rendered")
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
RECAP_RE = re.compile(r"^PLAY RECAP.*?(?=\Z)", re.S | re.M)


def banner(text):
    print("\n" + "=" * 100 + "\n" + text + "\n" + "=" * 100, flush=True)


def converge(env, label):
    banner("%s: ansible-playbook -i inventories/sandbox site.yml" % label)
    proc = subprocess.run([ANSIBLE_PLAYBOOK, "-i", "inventories/sandbox", "site.yml"], cwd=ROOT, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    sys.stdout.write(proc.stdout)
    if proc.returncode != 0:
        sys.exit("sandbox: %s failed (rc=%d)" % (label, proc.returncode))
    match = RECAP_RE.search(proc.stdout)
    return match.group(0).strip() if match else "(no recap)"


def gke_request_summary(requests):
    counts = Counter("%s %s" % (r["method"], re.sub(r"^/v1/projects/[^/]+/locations/[^/]+", "", r["path"]))
                     for r in requests)
    return "\n".join("  %3d  %s" % (n, call) for call, n in sorted(counts.items()))


def main():
    os.makedirs(SANDBOX_DIR, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="hub-", dir=SANDBOX_DIR) as mirror:
        build_sandbox_repos(mirror)
        run_sandbox(mirror)


def run_sandbox(mirror):
    with GkeEmulator(operation_seconds=0.5) as gke, FakeGcs() as gcs, OlahHub(mirror) as hub:
        env = dict(os.environ)
        env.update({
            "ANSIBLE_CONFIG": os.path.join(ROOT, "ansible.cfg"),
            "ACCELCI_GKE_API_ENDPOINT": gke.url,
            "STORAGE_EMULATOR_HOST": gcs.endpoint,
            "HF_ENDPOINT": hub.endpoint,
            "HF_HUB_DISABLE_XET": "1",
            "ACCELCI_RENDER_DIR": RENDER_DIR,
            "PATH": os.path.join(ROOT, "build", "bin") + os.pathsep + os.environ.get("PATH", ""),
        })
        print("GKE API emulator  %s\nfake-gcs-server   %s\nHugging Face hub  %s (olah, offline)\nrender dir        %s"
              % (gke.url, gcs.endpoint, hub.endpoint, os.path.relpath(RENDER_DIR, ROOT)))

        first = converge(env, "First converge")
        gke.clear_requests()
        second = converge(env, "Second converge (must change nothing)")
        second_requests = gke.requests()

        banner("Summary")
        print("First converge:\n" + first)
        print("\nSecond converge:\n" + second)
        print("\nGKE API requests during the second converge (one read per resource, no writes):")
        print(gke_request_summary(second_requests))
        state = gke.state()
        for cluster in state["clusters"]:
            print("\nCluster %s (%s), workload pool %s" % (
                cluster["name"], cluster.get("status"), cluster.get("workloadIdentityConfig", {}).get("workloadPool")))
            for pool in cluster.get("nodePools", []):
                config = pool.get("config", {})
                scaling = pool.get("autoscaling", {})
                print("  pool %-14s %-18s spot=%-5s autoscaling %s-%s %s" % (
                    pool["name"], config.get("machineType"), bool(config.get("spot")),
                    scaling.get("minNodeCount", 0), scaling.get("maxNodeCount", "-"),
                    ("placement %s" % pool["placementPolicy"]) if pool.get("placementPolicy") else ""))
        client = gcs.client()
        for bucket in client.list_buckets():
            blobs = list(client.list_blobs(bucket.name))
            total = sum(b.size or 0 for b in blobs)
            print("\nBucket gs://%s: %d objects, %d bytes" % (bucket.name, len(blobs), total))
        if os.path.isdir(RENDER_DIR):
            print("\nRendered Kubernetes objects and Helm values (%s):" % os.path.relpath(RENDER_DIR, ROOT))
            for base, _dirs, files in sorted(os.walk(RENDER_DIR)):
                for name in sorted(files):
                    print("  " + os.path.relpath(os.path.join(base, name), ROOT))
        if "changed=0" not in second or "failed=0" not in second:
            sys.exit("sandbox: the second converge changed something; it must not")


if __name__ == "__main__":
    main()

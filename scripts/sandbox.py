"""`make sandbox`: converge inventories/sandbox against local stand-ins, twice, verify it, say what was made, then
tear it down.

Starts a real Kubernetes control plane on loopback (tests/emulators/kube: kube-apiserver, controller-manager,
scheduler, etcd, kwok nodes), the GKE API emulator wired to it (clusters answer with its endpoint and CA, node
pools appear as nodes), fake-gcs-server and an olah Hugging Face mirror serving a small demo model; points the
collection at them through environment variables, as a user's CI job would (the access token in
GCP_ACCESS_TOKEN, which the control plane accepts as GKE accepts Google's); creates the GitHub Secret the inventory
names, as an operator does out of band; runs site.yml twice (the second run must change nothing) with a stand-in
for ARC's controller registering the scale sets (tests/emulators/arc_controller.py: the real one needs GitHub);
runs playbooks/verify.yml (every check must pass or be skipped); prints the recaps, the GKE requests of the second
run, a summary of what exists and the cost estimate; then runs playbooks/teardown.yml in check mode, for real and
again (the last must change nothing) and shows what is left: the kept bucket only.
"""

import json
import os
import re
import subprocess
import sys
from collections import Counter

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tests.emulators.arc_controller import ArcControllerStandIn  # noqa: E402
from tests.emulators.estate import LocalEstate  # noqa: E402
from tests.emulators.gke.nodes import NODEPOOL_LABEL  # noqa: E402

SANDBOX_DIR = os.path.join(ROOT, "build", "sandbox")
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
RECAP_RE = re.compile(r"^PLAY RECAP.*?(?=\Z)", re.S | re.M)


def banner(text):
    print("\n" + "=" * 100 + "\n" + text + "\n" + "=" * 100, flush=True)


def run_playbook(env, label, playbook, *args, quiet=False):
    """ansible-playbook on the sandbox inventory; exits on failure. Returns (output, recap)."""
    banner("%s: ansible-playbook -i inventories/sandbox %s" % (label, " ".join((playbook,) + args)))
    proc = subprocess.run([ANSIBLE_PLAYBOOK, "-i", "inventories/sandbox", playbook] + list(args), cwd=ROOT, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    match = RECAP_RE.search(proc.stdout)
    recap = match.group(0).strip() if match else "(no recap)"
    sys.stdout.write(recap + "\n" if quiet and proc.returncode == 0 else proc.stdout)
    if proc.returncode != 0:
        sys.exit("sandbox: %s failed (rc=%d)" % (label, proc.returncode))
    return proc.stdout, recap


def converge(env, label):
    return run_playbook(env, label, "site.yml")[1]


def verify(env):
    """playbooks/verify.yml: its check lines (the full output only when it fails)."""
    output, _recap = run_playbook(env, "Verify", "playbooks/verify.yml", quiet=True)
    print("\n".join(line.strip() for line in output.splitlines()
                    if re.match(r"^\s+(PASS|FAIL|SKIP)  |^\s+fix: |^\s+\d+ checks: ", line)))


def teardown(env, kube, gke, gcs):
    """playbooks/teardown.yml in check mode, for real, and again; then what is left."""
    confirm = ("-e", "accelci_teardown_confirm=ci-runners")
    _output, checked = run_playbook(env, "Teardown, check mode", "playbooks/teardown.yml", *confirm, "--check",
                                    quiet=True)
    output, removed = run_playbook(env, "Teardown", "playbooks/teardown.yml", *confirm, quiet=True)
    print("What it did, in order:")
    print("\n".join(line.strip() for line in output.splitlines()
                    if line.startswith(("TASK [accelci", "changed: ")) or "Kept bucket" in line))
    _output, again = run_playbook(env, "Teardown again (must change nothing)", "playbooks/teardown.yml", *confirm,
                                  quiet=True)
    banner("What is left after teardown")
    from kubernetes import client

    api = kube.api_client()
    namespaces = [n.metadata.name for n in client.CoreV1Api(api).list_namespace().items]
    crds = [c.metadata.name for c in client.ApiextensionsV1Api(api).list_custom_resource_definition().items]
    print("Kubernetes namespaces: %s (the control plane's own)" % ", ".join(sorted(namespaces)))
    print("CustomResourceDefinitions: %s" % (", ".join(crds) or "none"))
    print("GKE clusters: %s" % (", ".join(c["name"] for c in gke.state()["clusters"]) or "none"))
    storage = gcs.client()
    for bucket in storage.list_buckets():
        blobs = list(storage.list_blobs(bucket.name))
        print("Bucket gs://%s kept: %d objects, %d bytes (delete it with -e accelci_teardown_delete_model_cache=true)"
              % (bucket.name, len(blobs), sum(b.size or 0 for b in blobs)))
    print("\nTeardown --check:\n%s\n\nTeardown:\n%s\n\nTeardown again:\n%s" % (checked, removed, again))
    if "changed=0" not in again or "failed=0" not in again:
        sys.exit("sandbox: the second teardown changed something; it must not")


def print_estimate(env):
    """The sandbox estate's monthly cost (playbooks/cost.yml), written to build/sandbox/cost.{json,md} and shown."""
    report = os.path.join(SANDBOX_DIR, "cost")
    banner("Estimated monthly cost: ansible-playbook -i inventories/sandbox playbooks/cost.yml")
    proc = subprocess.run([ANSIBLE_PLAYBOOK, "-i", "inventories/sandbox", "playbooks/cost.yml",
                           "-e", "accelci_cost_report=" + report], cwd=ROOT, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    if proc.returncode != 0:
        sys.stdout.write(proc.stdout)
        sys.exit("sandbox: playbooks/cost.yml failed (rc=%d)" % proc.returncode)
    with open(report + ".md") as handle:
        print(handle.read())
    print("Written to %s.json and %s.md" % (os.path.relpath(report, ROOT), os.path.relpath(report, ROOT)))


def kube_version(kube):
    from kubernetes import client

    return client.VersionApi(kube.api_client()).get_code().git_version


def print_kubernetes_summary(kube, gke, env):
    """What the estate left in the control plane: namespaces, Helm releases, AutoscalingRunnerSets, nodes per pool."""
    from kubernetes import client
    from kubernetes.dynamic import DynamicClient

    api = kube.api_client()
    core = client.CoreV1Api(api)
    print("\nKubernetes (%s):" % kube.server)
    namespaces = [n.metadata.name for n in core.list_namespace().items]
    print("  namespaces: %s" % ", ".join(sorted(namespaces)))
    helm = subprocess.run(["helm", "list", "--all-namespaces", "--kubeconfig", kube.admin_kubeconfig, "-o", "json"],
                          env=env, capture_output=True, text=True, check=False)
    releases = json.loads(helm.stdout or "[]") if helm.returncode == 0 else []
    print("  Helm releases:")
    for release in releases:
        print("    %-18s %-12s %-40s %s (revision %s)" % (release["name"], release["namespace"], release["chart"],
                                                          release["status"], release["revision"]))
    dynamic = DynamicClient(api)
    runner_sets = dynamic.resources.get(api_version="actions.github.com/v1alpha1", kind="AutoscalingRunnerSet")
    print("  AutoscalingRunnerSets:")
    for item in runner_sets.get().items:
        spec = item.spec
        print("    %s/%-18s runners %s-%s, secret %s"
              % (item.metadata.namespace, item.metadata.name, spec.minRunners, spec.maxRunners,
                 spec.githubConfigSecret))
    nodes = core.list_node(label_selector=NODEPOOL_LABEL).items
    print("  nodes per node pool (kwok; accelerator pools scale from zero when a runner pod waits):")
    pools = [pool["name"] for cluster in gke.state()["clusters"] for pool in cluster.get("nodePools", [])]
    for pool in pools:
        names = [n.metadata.name for n in nodes if n.metadata.labels.get(NODEPOOL_LABEL) == pool]
        print("    %-16s %d node(s)%s" % (pool, len(names), (": " + ", ".join(names)) if names else ""))


def gke_request_summary(requests):
    counts = Counter("%s %s" % (r["method"], re.sub(r"^/v1/projects/[^/]+/locations/[^/]+", "", r["path"]))
                     for r in requests)
    return "\n".join("  %3d  %s" % (n, call) for call, n in sorted(counts.items()))


def main():
    run_sandbox()


def run_sandbox():
    # The stand-ins (tests/emulators/estate.py): the control plane, the GKE emulator wired to it, fake-gcs-server,
    # olah serving the demo model, and the Compute and Cloud Quotas stand-ins the capacity preflight reads, seeded
    # with the sandbox's data sets. The environment points the collection at them.
    banner("Starting the local control plane and the stand-ins")
    with LocalEstate(SANDBOX_DIR) as estate:
        kube, gke, gcs, hub, compute, quotas = estate.kube, estate.gke, estate.gcs, estate.hub, estate.compute, \
            estate.quotas
        env = estate.env
        print("Kubernetes API    %s (kube-apiserver %s, kwok nodes)\nGKE API emulator  %s\nfake-gcs-server   %s\n"
              "Hugging Face hub  %s (olah, offline)"
              % (kube.server, kube_version(kube), gke.url, gcs.endpoint, hub.endpoint))
        print("Compute stand-in  %s\nCloud Quotas      %s" % (compute.url, quotas.url))

        # What an operator creates out of band: the inventory names an existing Secret (accelci_github).
        estate.create_github_secret()
        first = converge(env, "First converge")
        # ARC's controller, once its CRDs exist: registers each scale set, starts its listener, owns its finalizer.
        controller = ArcControllerStandIn(kube.api_client(), "arc-systems", "arc-runners")
        controller.start()
        gke.clear_requests()
        second = converge(env, "Second converge (must change nothing)")
        second_requests = gke.requests()
        verify(env)

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
        print_kubernetes_summary(kube, gke, env)
        if "changed=0" not in second or "failed=0" not in second:
            sys.exit("sandbox: the second converge changed something; it must not")
        print_estimate(env)
        teardown(env, kube, gke, gcs)
        controller.stop()


if __name__ == "__main__":
    main()

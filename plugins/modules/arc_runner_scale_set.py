#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: arc_runner_scale_set
short_description: One Actions Runner Controller runner scale set (gha-runner-scale-set release) on accelerators
version_added: 0.1.0
description:
  - Installs, upgrades or removes one C(gha-runner-scale-set) Helm release, or renders its values and GitOps objects.
    Jobs reach its runners with C(runs-on:) O(name) (or any of O(labels)).
  - The runner pod is built from the scheduling profile of the node pool the scale set runs on (O(node_pool)), so
    requests, node selector and tolerations always match the pool; a runner on a TPU pool gets the chips of one VM,
    on a GPU pool the GPUs of one node, on an AMD pool (off GKE) the GPUs and the render group. Multi-host TPU pools
    are refused.
  - The model cache published by the storage role (O(model_cache)) is mounted read-only.
  - GitHub credentials go to a Kubernetes Secret the module writes (O(github_secret_name), default
    C(<name>-github-config)), or O(existing_secret) names one; values files only name the Secret, and render mode
    never writes it to disk (the result's C(notes) say what to create). C(controllerServiceAccount) is always set,
    so rendering works offline and in GitOps.
  - Labels reach GitHub only when a scale set is created; a label change is refused unless
    O(recreate_on_label_change=true), which uninstalls and reinstalls the scale set.
  - Everything is validated before anything is touched; the runner pod template is checked against the Kubernetes
    schema of O(kubernetes_version).
options:
  name:
    description:
      - The scale set name, the C(runs-on:) label, the Helm release and the AutoscalingRunnerSet name.
      - Lowercase letters, digits and C(-), at most 45 characters.
    type: str
    required: true
    version_added: 0.1.0
  namespace:
    description:
      - Namespace of the scale set (its runners, listener Secret, hook ConfigMap).
    type: str
    default: arc-runners
    version_added: 0.1.0
  state:
    description:
      - V(present) installs or upgrades; V(absent) uninstalls (waiting, so finalizers are processed) and removes the
        objects the scale set owns, its hooks ConfigMap and its default C(<name>-github-config) Secret. A Secret named
        by O(github_secret_name) or O(existing_secret) is shared and never deleted.
    type: str
    choices: [present, absent]
    default: present
    version_added: 0.1.0
  github_config_url:
    description:
      - Where runners register, C(https://github.com/ORG), C(https://github.com/ORG/REPO),
        C(https://github.com/enterprises/ENTERPRISE), or the same on a GHES host. Required with O(state=present).
    type: str
    version_added: 0.1.0
  github_app_id:
    description:
      - GitHub App ID (or client ID). With O(github_app_installation_id) and O(github_app_private_key).
    type: str
    version_added: 0.1.0
  github_app_installation_id:
    description:
      - Installation ID of the GitHub App.
    type: str
    version_added: 0.1.0
  github_app_private_key:
    description:
      - The GitHub App's private key (PEM).
    type: str
    version_added: 0.1.0
  github_token:
    description:
      - A personal access token, instead of a GitHub App.
    type: str
    version_added: 0.1.0
  existing_secret:
    description:
      - Name of a Secret in O(namespace) that already holds the credentials (keys C(github_token) or
        C(github_app_id), C(github_app_installation_id), C(github_app_private_key)). The module never writes or
        deletes it.
    type: str
    version_added: 0.1.0
  github_secret_name:
    description:
      - Name of the Secret the module writes the credentials to, for a Secret several scale sets share (the C(arc)
        role passes the estate's C(accelci-github) to every scale set; each writes the same content).
      - Defaults to C(<name>-github-config), a Secret of this scale set alone.
      - O(state=absent) deletes only that default Secret, never a Secret named by O(github_secret_name) or
        O(existing_secret) (other scale sets may read it).
    type: str
    version_added: 0.1.0
  labels:
    description:
      - Extra labels jobs can name in C(runs-on:). Each a non-empty string under 256 characters.
    type: list
    elements: str
    default: []
    version_added: 0.1.0
  recreate_on_label_change:
    description:
      - When O(labels) differ from those the scale set was created with, uninstall and reinstall it (running jobs are
        cancelled). Without it such a change fails with an explanation.
    type: bool
    default: false
    version_added: 0.1.0
  runner_group:
    description:
      - Runner group of the scale set (the default group when unset).
    type: str
    version_added: 0.1.0
  min_runners:
    description:
      - Idle runners kept ready (warm capacity). 0 scales to zero.
    type: int
    default: 0
    version_added: 0.1.0
  max_runners:
    description:
      - Most runners at once. Keep it at or below what the node pool can hold (one runner per accelerator node).
    type: int
    version_added: 0.1.0
  container_mode:
    description:
      - V(none) runs jobs in the runner container (the accelerator is there).
      - V(dind) adds a privileged Docker daemon as a native sidecar (Kubernetes 1.29+) with GKE's MTU, a startup
        probe, and, on GPU pools, the runner's GPUs passed into job containers (C($ACCELCI_DOCKER_GPU_ARGS)).
      - V(kubernetes) runs job containers as pods on the runner's node with a work volume claim
        (O(work_volume_claim)); the accelerator and the model cache go to the job pod.
      - V(kubernetes-novolume) is the same without a shared work volume.
    type: str
    choices: [none, dind, kubernetes, kubernetes-novolume]
    default: none
    version_added: 0.1.0
  work_volume_claim:
    description:
      - Claim spec of the work volume in V(kubernetes) mode (default C(ReadWriteOnce), 20Gi, default storage class).
    type: dict
    version_added: 0.1.0
  work_dir_size_limit:
    description:
      - Size limit of the job workspace (an C(emptyDir) at C(/home/runner/_work)) in V(none) and V(dind) modes.
    type: str
    version_added: 0.1.0
  runner_image:
    description:
      - The runner image.
    type: str
    default: ghcr.io/actions/actions-runner:latest
    version_added: 0.1.0
  dind_image:
    description:
      - The Docker daemon image in V(dind) mode.
    type: str
    default: docker:dind
    version_added: 0.1.0
  dind_mtu:
    description:
      - MTU of the Docker daemon's networks in V(dind) mode. V(0) keeps Docker's default (1500).
      - When unset, 1460 (GKE's VPC MTU) on GKE node pools and on scale sets without a node pool, Docker's default on
        pools off GKE.
    type: int
    version_added: 0.1.0
  dind_resources:
    description:
      - Resources of the dind container.
    type: dict
    version_added: 0.1.0
  resources:
    description:
      - Requests and limits of the runner container, with keys C(requests) and C(limits). The accelerator
        resource comes from the node pool and is added to both.
    type: dict
    version_added: 0.1.0
  env:
    description:
      - Environment variables of the runner container (values become strings).
    type: dict
    default: {}
    version_added: 0.1.0
  pod_template:
    description:
      - Extra pod template merged last, with keys C(metadata) and C(spec). Containers and volumes merge by name,
        so a C(spec.containers) entry named C(runner) changes the runner container.
    type: dict
    version_added: 0.1.0
  service_account:
    description:
      - Service account of the runner pods (the model cache's service account is used when unset).
    type: str
    version_added: 0.1.0
  node_pool:
    description:
      - The node pool the runners run on, resolved once by the catalog - the scheduling profile the
        C(accelci.runners.scheduling_profile) filter returns for an C(accelci_node_pools) entry (or one value of
        C(accelci_node_pool_profiles), which the cluster role publishes).
      - Its keys are C(pool), C(kind) (V(cpu), V(tpu), V(nvidia) or V(amd)), C(resource_name), C(count) (per node),
        C(node_selector), C(tolerations), C(supplemental_groups), C(devices), C(spot), C(gke) and C(details); a
        mapping with other or missing keys is refused naming O(node_pool).
      - Requests and limits of C(resource_name), node selector, tolerations and supplemental groups of the runner pod
        come from it; C(devices) are passed into DinD job containers on GPU pools; C(spot) is exported as
        C(ACCELCI_SPOT). A multi-host TPU slice (C(details.multi_host)) is refused.
      - When unset, runners run anywhere in the cluster without an accelerator.
    type: dict
    version_added: 0.1.0
  model_cache:
    description:
      - The model cache the storage role publishes (C(accelci_runner_model_cache)), C(backend), C(mount_path),
        C(namespace), C(service_account), C(pod_annotations), C(volumes), C(volume_mounts), C(env).
        Mounted read-only.
    type: dict
    version_added: 0.1.0
  gcsfuse:
    description:
      - GCS FUSE tuning for model loading, applied to the cache's CSI volume and pod annotations,
        C(file_cache_capacity), C(file_cache_for_range_read), C(metadata_cache_ttl_seconds),
        C(metadata_stat_cache_capacity), C(metadata_type_cache_capacity), C(cpu_limit), C(memory_limit),
        C(ephemeral_storage_limit).
    type: dict
    version_added: 0.1.0
  job_policy:
    description:
      - Refuse jobs before they start (an C(ACTIONS_RUNNER_HOOK_JOB_STARTED) script from a ConfigMap),
        C(allowed_events), C(denied_events), C(allowed_repositories) (C(OWNER/REPO), C(OWNER/*)),
        C(allowed_refs) (globs such as C(refs/heads/main)), C(deny_fork_pull_requests) (default true).
    type: dict
    default: {}
    version_added: 0.1.0
  listener_node_selector:
    description:
      - Node selector of the listener pod (set at C(listenerTemplate.spec)).
    type: dict
    version_added: 0.1.0
  listener_tolerations:
    description:
      - Tolerations of the listener pod (set at C(listenerTemplate.spec)).
    type: list
    elements: dict
    version_added: 0.1.0
  spot_termination_grace_seconds:
    description:
      - C(terminationGracePeriodSeconds) of runner pods on spot pools (GKE gives spot VMs about 30 seconds).
    type: int
    version_added: 0.1.0
  controller_release:
    description:
      - Release name of the ARC controller that manages this scale set.
    type: str
    default: arc
    version_added: 0.1.0
  controller_namespace:
    description:
      - Namespace of the ARC controller.
    type: str
    default: arc-systems
    version_added: 0.1.0
  controller_service_account:
    description:
      - The controller's service account (default as the controller chart names it, C(<release>-gha-rs-controller)).
    type: str
    version_added: 0.1.0
  extra_values:
    description:
      - Chart values merged last (for chart options this module does not model, such as C(proxy)).
    type: dict
    version_added: 0.1.0
extends_documentation_fragment:
  - accelci.runners.kubernetes
  - accelci.runners.helm
  - accelci.runners.helm.ARC
attributes:
  check_mode:
    support: full
    description: Reads the release and objects; installs, upgrades and writes nothing.
  diff_mode:
    support: full
    description: Values before and after (secrets masked); the helm-diff output when the plugin is present.
author:
  - accelci.runners maintainers (@accelci)
"""

EXAMPLES = r"""
- name: TPU v6e-4 runners for seed 000's runs-on label, credentials in the estate's shared Secret
  accelci.runners.arc_runner_scale_set:
    name: arc-runner-v6e-4
    github_config_url: https://github.com/alexshires/sglang-jax
    github_app_id: "{{ vault_github_app_id }}"
    github_app_installation_id: "{{ vault_github_app_installation_id }}"
    github_app_private_key: "{{ vault_github_app_private_key }}"
    github_secret_name: accelci-github
    node_pool: "{{ accelci_node_pools | selectattr('name', 'equalto', 'tpu-v6e-4') | first
                   | accelci.runners.scheduling_profile }}"
    max_runners: 2
    env: {SGLANG_JAX_IS_IN_CI: "true", JAX_PLATFORMS: tpu}
    resources: {requests: {cpu: "16", memory: 64Gi}, limits: {cpu: "32", memory: 128Gi}}
    model_cache: "{{ accelci_runner_model_cache }}"
    job_policy: {allowed_events: [push, pull_request, workflow_dispatch], deny_fork_pull_requests: true}
    kubernetes_version: "1.33"

- name: Render the same for Flux, credentials in a Secret created out of band, pools resolved once
  accelci.runners.arc_runner_scale_set:
    name: arc-runner-v6e-1
    github_config_url: https://github.com/alexshires/sglang-jax
    existing_secret: accelci-github
    node_pool: "{{ (accelci_node_pools | accelci.runners.scheduling_profiles)['tpu-v6e-1'] }}"
    max_runners: 4
    delivery: render
    render_dir: rendered

- name: Remove a scale set (its own <name>-github-config Secret goes too; a shared Secret stays)
  accelci.runners.arc_runner_scale_set:
    name: arc-runner-v6e-1
    state: absent
"""

RETURN = r"""
scale_set:
  description: The scale set, what its runner pods get, and what was done.
  returned: always
  type: dict
  contains:
    runs_on:
      description: Labels a job can name in C(runs-on:).
      type: list
      elements: str
      sample: [arc-runner-v6e-4]
    action:
      description: install, upgrade, recreate, none, render, uninstall, remove or validate (O(validate_only)).
      type: str
      sample: install
    reason:
      description: Why the action was chosen.
      type: str
    runner_pod:
      description: Resources, node selector, tolerations, mounts, service account and env of each runner pod.
      type: dict
    values:
      description: The chart values (secrets masked; the GitHub Secret is referenced by name).
      type: dict
    secret_name:
      description: The Secret C(githubConfigSecret) names.
      type: str
    rendered:
      description: Files written in render mode.
      type: list
      elements: str
    notes:
      description: What to create out of band in render mode (the GitHub Secret).
      type: list
      elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import AccelciError
from ansible_collections.accelci.runners.plugins.module_utils.arc.defaults import (
    CONTROLLER_NAMESPACE,
    CONTROLLER_RELEASE,
    DIND_IMAGE,
    RUNNER_IMAGE,
    RUNNERS_NAMESPACE,
)
from ansible_collections.accelci.runners.plugins.module_utils.arc.options import arc_argument_spec
from ansible_collections.accelci.runners.plugins.module_utils.arc.pod_template import CONTAINER_MODES
from ansible_collections.accelci.runners.plugins.module_utils.arc.scale_set_manager import run_scale_set
from ansible_collections.accelci.runners.plugins.module_utils.helm.helm_client import helm_argument_spec
from ansible_collections.accelci.runners.plugins.module_utils.k8s.delivery_manager import (
    KUBERNETES_REQUIRED_IF,
    kubernetes_argument_spec,
)


def main():
    argument_spec = kubernetes_argument_spec()
    argument_spec.update(helm_argument_spec())
    argument_spec.update(arc_argument_spec())
    argument_spec.update(
        name=dict(type="str", required=True),
        namespace=dict(type="str", default=RUNNERS_NAMESPACE),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        github_config_url=dict(type="str"),
        github_app_id=dict(type="str"),
        github_app_installation_id=dict(type="str"),
        github_app_private_key=dict(type="str", no_log=True),
        github_token=dict(type="str", no_log=True),
        existing_secret=dict(type="str", no_log=False),
        github_secret_name=dict(type="str", no_log=False),
        labels=dict(type="list", elements="str", default=[]),
        recreate_on_label_change=dict(type="bool", default=False),
        runner_group=dict(type="str"),
        min_runners=dict(type="int", default=0),
        max_runners=dict(type="int"),
        container_mode=dict(type="str", choices=list(CONTAINER_MODES), default="none"),
        work_volume_claim=dict(type="dict"),
        work_dir_size_limit=dict(type="str"),
        runner_image=dict(type="str", default=RUNNER_IMAGE),
        dind_image=dict(type="str", default=DIND_IMAGE),
        dind_mtu=dict(type="int"),
        dind_resources=dict(type="dict"),
        resources=dict(type="dict"),
        env=dict(type="dict", default={}),
        pod_template=dict(type="dict"),
        service_account=dict(type="str"),
        node_pool=dict(type="dict"),
        model_cache=dict(type="dict"),
        gcsfuse=dict(type="dict"),
        job_policy=dict(type="dict", default={}),
        listener_node_selector=dict(type="dict"),
        listener_tolerations=dict(type="list", elements="dict"),
        spot_termination_grace_seconds=dict(type="int"),
        controller_release=dict(type="str", default=CONTROLLER_RELEASE),
        controller_namespace=dict(type="str", default=CONTROLLER_NAMESPACE),
        controller_service_account=dict(type="str"),
        extra_values=dict(type="dict"),
        validate_only=dict(type="bool", default=False),
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        required_if=KUBERNETES_REQUIRED_IF + [("state", "present", ["github_config_url"])],
        mutually_exclusive=[("github_token", "github_app_id"), ("github_token", "github_app_private_key"),
                            ("existing_secret", "github_token"), ("existing_secret", "github_app_id")],
        required_together=[("github_app_id", "github_app_installation_id", "github_app_private_key")],
        supports_check_mode=True,
    )
    try:
        result = run_scale_set(module)
    except AccelciError as exc:
        module.fail_json(**exc.fail_json_kwargs())
    module.exit_json(**result)


if __name__ == "__main__":
    main()

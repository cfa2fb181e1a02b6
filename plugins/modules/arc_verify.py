#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: arc_verify
short_description: Check the ARC controller and runner scale sets as they run in the cluster
version_added: 0.1.0
description:
  - Reads the cluster and returns one check per finding, each PASS, FAIL (with the fix) or SKIP; never changes
    anything and never fails because a check failed (the caller decides; C(playbooks/verify.yml) fails the run).
  - The controller Deployment is available.
  - Each scale set's AutoscalingRunnerSet exists with the declared minimum and maximum, and its runner pod template
    asks for the pool's accelerator, node selector and tolerations, mounts the model cache read-only, and runs as the
    declared service account.
  - The troubleshooting checks of the runbook this collection replaces. Runners not picking up jobs (the controller
    registered the scale set with GitHub, its listener runs, the GitHub Secret has the keys the chart needs).
    TPU or GPU not available (no runner pod has waited for a node longer than O(pending_grace_seconds)).
    OOM errors (no runner container was OOM-killed).
  - With O(github_token), that GitHub holds each scale set under the id the controller recorded.
  - Secret values are never read into the result (only the Secret's key names are compared).
options:
  controller_release:
    description: The controller's Helm release name.
    type: str
    default: arc
    version_added: 0.1.0
  controller_namespace:
    description: The controller's namespace.
    type: str
    default: arc-systems
    version_added: 0.1.0
  scale_sets:
    description:
      - The scale sets to check, as M(accelci.runners.arc_runner_scale_set) plans them (its RV(accelci.runners.arc_runner_scale_set#module:scale_set)
        result, which the arc role keeps from its preflight). Other keys in an entry are ignored.
    type: list
    elements: dict
    default: []
    version_added: 0.1.0
    suboptions:
      name:
        description: The scale set name (the runs-on label).
        type: str
        required: true
      namespace:
        description: Its namespace.
        type: str
        required: true
      secret_name:
        description: The GitHub Secret it reads.
        type: str
      runner_pod:
        description: What its runner pods should get (resources, node_selector, tolerations, mounts, service_account,
          min_runners, max_runners).
        type: dict
        required: true
  github_token:
    description:
      - A GitHub token (a PAT, or an App installation token) that may create runner registration tokens for the
        scale sets' configuration URLs. With it, each scale set is also looked up in GitHub under the id the
        controller recorded, as ARC's controller does (a registration token, then the Actions service).
      - Without it that check is not made; the registration the controller recorded is still checked.
    type: str
    version_added: 0.1.0
  github_api_url:
    description:
      - The GitHub REST API root. Defaults to V(https://api.github.com), or C(https://HOST/api/v3) for a GHES
        configuration URL.
    type: str
    version_added: 0.1.0
  pending_grace_seconds:
    description:
      - How long a runner pod may wait for a node before the accelerator check fails. Accelerator nodes take minutes
        to provision from zero, so a pod waiting less than this is normal.
    type: int
    default: 600
    version_added: 0.1.0
extends_documentation_fragment:
  - accelci.runners.kubernetes
notes:
  - Needs O(delivery=apply); there is nothing live to check in render mode.
attributes:
  check_mode:
    support: full
    description: Reads only, in any mode.
  diff_mode:
    support: none
    description: Nothing changes.
author:
  - accelci.runners maintainers (@accelci)
"""

EXAMPLES = r"""
- name: Check the runners of the estate
  accelci.runners.arc_verify:
    kubeconfig: ~/.kube/accelci/my-project_us-central1-b_ci-runners.yaml
    scale_sets: "{{ planned.results | map(attribute='scale_set') | list }}"
  register: runner_checks

- name: Show what failed
  ansible.builtin.debug:
    msg: "{{ runner_checks.checks | selectattr('status', 'eq', 'FAIL') | list }}"
"""

RETURN = r"""
checks:
  description: One entry per check, controller first, then each scale set's checks in order.
  returned: always
  type: list
  elements: dict
  contains:
    check:
      description: What was checked.
      type: str
    status:
      description: PASS, FAIL or SKIP.
      type: str
    reason:
      description: What was found.
      type: str
    fix:
      description: What to do, for a FAIL.
      type: str
  sample:
    - check: ARC controller arc-systems/arc-gha-rs-controller available
      status: PASS
      reason: 1 of 1 replicas available, image ghcr.io/actions/gha-runner-scale-set-controller:0.14.2
      fix: null
failed_checks:
  description: How many checks failed.
  returned: always
  type: int
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.accelci.runners.plugins.module_utils._common.checks import checks_result
from ansible_collections.accelci.runners.plugins.module_utils._common.errors import AccelciError, InputError
from ansible_collections.accelci.runners.plugins.module_utils.arc.checks import run_runner_checks
from ansible_collections.accelci.runners.plugins.module_utils.k8s.delivery_manager import K8sDelivery, kubernetes_argument_spec


def main():
    argument_spec = kubernetes_argument_spec()
    argument_spec.update(
        controller_release=dict(type="str", default="arc"),
        controller_namespace=dict(type="str", default="arc-systems"),
        # Entries are checked below rather than by suboptions, so arc_runner_scale_set's planned scale_set results
        # (which carry more keys) can be passed as they are.
        scale_sets=dict(type="list", elements="dict", default=[]),
        pending_grace_seconds=dict(type="int", default=600),
        github_token=dict(type="str", no_log=True),
        github_api_url=dict(type="str"),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    try:
        if params["delivery"] != "apply":
            raise InputError("delivery", "must be apply: render mode has no live runners to check")
        for index, scale_set in enumerate(params["scale_sets"]):
            for key in ("name", "namespace", "runner_pod"):
                if not scale_set.get(key):
                    raise InputError("scale_sets[%d].%s" % (index, key), "is required (the scale set as "
                                     "arc_runner_scale_set returns it)")
        if params["pending_grace_seconds"] < 0:
            raise InputError("pending_grace_seconds", "must be 0 or more seconds, got %d" % params["pending_grace_seconds"])
        checks = run_runner_checks(K8sDelivery(module),
                                   dict(release=params["controller_release"], namespace=params["controller_namespace"]),
                                   params["scale_sets"], pending_grace_seconds=params["pending_grace_seconds"],
                                   github_token=params["github_token"], github_api_url=params["github_api_url"])
    except AccelciError as exc:
        module.fail_json(**exc.fail_json_kwargs())
    module.exit_json(**checks_result(checks))


if __name__ == "__main__":
    main()

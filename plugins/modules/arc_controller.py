#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: arc_controller
short_description: The Actions Runner Controller (gha-runner-scale-set-controller) Helm release
version_added: 0.1.0
description:
  - Installs, upgrades or removes the ARC controller at a pinned chart version, or renders its values and a Flux
    C(HelmRelease) / Argo CD C(Application) for GitOps.
  - Helm never upgrades CRDs. On install and on every version change the module applies the chart's CRDs
    server-side first (the AutoscalingRunnerSet CRD is too big for client-side apply), then runs helm with the
    CRDs skipped.
  - A version change follows the documented order. Scale sets at another version are uninstalled first (only with
    O(reinstall_scale_sets=true); the C(arc) role then reinstalls them at the new version), because the controller
    deletes scale sets whose version differs from its own.
  - O(state=absent) refuses while scale sets exist unless O(remove_scale_sets=true), which uninstalls them first
    (their finalizers need the controller). CRDs are left in place.
options:
  name:
    description:
      - Release name. The controller's service account is C(<name>-gha-rs-controller) unless
        O(service_account_name) is set; scale sets need it.
    type: str
    default: arc
    version_added: 0.1.0
  namespace:
    description:
      - Namespace of the controller.
    type: str
    default: arc-systems
    version_added: 0.1.0
  state:
    description:
      - V(present) installs or upgrades; V(absent) uninstalls.
    type: str
    choices: [present, absent]
    default: present
    version_added: 0.1.0
  create_namespace:
    description:
      - Let helm create O(namespace) (the C(arc) role creates namespaces itself).
    type: bool
    default: false
    version_added: 0.1.0
  service_account_name:
    description:
      - Name of the controller's service account (not V(default)).
    type: str
    version_added: 0.1.0
  replicas:
    description:
      - Controller replicas; more than one turns on leader election.
    type: int
    default: 1
    version_added: 0.1.0
  resources:
    description:
      - Requests and limits of the controller container.
    type: dict
    version_added: 0.1.0
  node_selector:
    description:
      - Node selector of the controller pod (keep it off accelerator nodes).
    type: dict
    version_added: 0.1.0
  tolerations:
    description:
      - Tolerations of the controller pod.
    type: list
    elements: dict
    version_added: 0.1.0
  affinity:
    description:
      - Affinity of the controller pod.
    type: dict
    version_added: 0.1.0
  priority_class_name:
    description:
      - Priority class of the controller pod.
    type: str
    version_added: 0.1.0
  metrics:
    description:
      - Expose Prometheus metrics of the controller and of every listener on O(metrics_port) at O(metrics_path),
        with C(prometheus.io/*) pod annotations.
    type: bool
    default: false
    version_added: 0.1.0
  metrics_port:
    description:
      - Metrics port.
    type: int
    default: 8080
    version_added: 0.1.0
  metrics_path:
    description:
      - Metrics path of the listeners.
    type: str
    default: /metrics
    version_added: 0.1.0
  log_level:
    description:
      - Controller log level.
    type: str
    choices: [debug, info, warn, error]
    default: info
    version_added: 0.1.0
  log_format:
    description:
      - Controller log format.
    type: str
    choices: [text, json]
    default: json
    version_added: 0.1.0
  watch_single_namespace:
    description:
      - Only manage scale sets in this namespace.
    type: str
    version_added: 0.1.0
  reinstall_scale_sets:
    description:
      - On a version change, uninstall scale sets that run another chart version first (the documented order).
        Without it such an upgrade fails with the list of scale sets.
    type: bool
    default: false
    version_added: 0.1.0
  remove_scale_sets:
    description:
      - With O(state=absent), uninstall every runner scale set first. Without it removal fails while any exists.
    type: bool
    default: false
    version_added: 0.1.0
  extra_values:
    description:
      - Chart values merged last.
    type: dict
    version_added: 0.1.0
extends_documentation_fragment:
  - accelci.runners.kubernetes
  - accelci.runners.helm
  - accelci.runners.helm.ARC
attributes:
  check_mode:
    support: full
    description: Reads releases and CRDs; changes nothing.
  diff_mode:
    support: full
    description: Values before and after; the helm-diff output when the plugin is present.
author:
  - accelci.runners maintainers (@accelci)
"""

EXAMPLES = r"""
- name: The ARC controller, pinned, off the accelerator nodes
  accelci.runners.arc_controller:
    name: arc
    namespace: arc-systems
    version: 0.14.2
    # Pinned to the system pool by the label the catalog puts on GKE pools.
    node_selector: "{{ ({'name': 'system'} | accelci.runners.scheduling_profile).node_selector }}"
    metrics: true

- name: Upgrade it, reinstalling scale sets in the documented order (re-run the scale set tasks afterwards)
  accelci.runners.arc_controller:
    version: 0.14.2
    reinstall_scale_sets: true

- name: Air-gapped, from a chart tarball
  accelci.runners.arc_controller:
    chart_ref: /srv/charts/gha-runner-scale-set-controller-0.14.2.tgz

- name: Render for Argo CD
  accelci.runners.arc_controller:
    delivery: render
    render_dir: rendered
    gitops: argocd
"""

RETURN = r"""
controller:
  description: The controller release and what was done.
  returned: always
  type: dict
  contains:
    service_account:
      description: The controller's service account; every scale set's C(controllerServiceAccount).
      type: dict
      sample: {name: arc-gha-rs-controller, namespace: arc-systems}
    action:
      description: install, upgrade, none, render, uninstall, remove or validate (O(validate_only)).
      type: str
    installed_version:
      description: Chart version installed before this run.
      type: str
    removed_scale_sets:
      description: Scale sets uninstalled by this run (version change or removal).
      type: list
      elements: dict
    crds:
      description: CRDs applied server-side, each with whether it changed.
      type: list
      elements: dict
    values:
      description: The chart values.
      type: dict
    rendered:
      description: Files written in render mode.
      type: list
      elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import AccelciError
from ansible_collections.accelci.runners.plugins.module_utils.arc.controller_manager import run_controller
from ansible_collections.accelci.runners.plugins.module_utils.arc.defaults import CONTROLLER_NAMESPACE, CONTROLLER_RELEASE
from ansible_collections.accelci.runners.plugins.module_utils.arc.options import arc_argument_spec
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
        name=dict(type="str", default=CONTROLLER_RELEASE),
        namespace=dict(type="str", default=CONTROLLER_NAMESPACE),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        create_namespace=dict(type="bool", default=False),
        service_account_name=dict(type="str"),
        replicas=dict(type="int", default=1),
        resources=dict(type="dict"),
        node_selector=dict(type="dict"),
        tolerations=dict(type="list", elements="dict"),
        affinity=dict(type="dict"),
        priority_class_name=dict(type="str"),
        metrics=dict(type="bool", default=False),
        metrics_port=dict(type="int", default=8080),
        metrics_path=dict(type="str", default="/metrics"),
        log_level=dict(type="str", choices=["debug", "info", "warn", "error"], default="info"),
        log_format=dict(type="str", choices=["text", "json"], default="json"),
        watch_single_namespace=dict(type="str"),
        reinstall_scale_sets=dict(type="bool", default=False),
        remove_scale_sets=dict(type="bool", default=False),
        extra_values=dict(type="dict"),
        validate_only=dict(type="bool", default=False),
    )
    module = AnsibleModule(argument_spec=argument_spec, required_if=KUBERNETES_REQUIRED_IF, supports_check_mode=True)
    try:
        result = run_controller(module)
    except AccelciError as exc:
        module.fail_json(**exc.fail_json_kwargs())
    module.exit_json(**result)


if __name__ == "__main__":
    main()

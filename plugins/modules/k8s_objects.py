#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: k8s_objects
short_description: Apply or render Kubernetes objects, validated against the target Kubernetes version
version_added: 0.1.0
description:
  - Makes a list of Kubernetes objects present or absent, by server-side apply against a cluster
    (O(delivery=apply)) or as YAML files for GitOps (O(delivery=render)).
  - Every object is first validated against the built-in schemas of O(kubernetes_version); the module fails
    naming the object and the error before anything is applied or written.
  - Secrets are masked in results and diffs and never written in render mode.
options:
  objects:
    description:
      - The manifests, each with C(apiVersion), C(kind) and C(metadata.name) (and C(metadata.namespace) for
        namespaced kinds).
    type: list
    elements: dict
    required: true
    version_added: 0.1.0
  state:
    description:
      - V(present) creates or updates the objects; V(absent) deletes them (render mode deletes their files).
    type: str
    choices: [present, absent]
    default: present
    version_added: 0.1.0
  render_subdir:
    description:
      - Subdirectory of O(render_dir) for these objects (for example V(storage)).
    type: str
    default: ''
    version_added: 0.1.0
extends_documentation_fragment:
  - accelci.runners.kubernetes
attributes:
  check_mode:
    support: full
    description: Reads only; no object is written and no file is changed.
  diff_mode:
    support: full
    description: One before/after pair per object, secret values masked.
author:
  - accelci.runners maintainers (@accelci)
"""

EXAMPLES = r"""
- name: Render the runners' namespace and service account for GitOps
  accelci.runners.k8s_objects:
    delivery: render
    render_dir: rendered
    render_subdir: storage
    kubernetes_version: "1.33"
    objects:
      - apiVersion: v1
        kind: Namespace
        metadata: {name: arc-runners}
      - apiVersion: v1
        kind: ServiceAccount
        metadata: {name: arc-runner, namespace: arc-runners}

- name: Apply them to the cluster of the current kubeconfig context
  accelci.runners.k8s_objects:
    kubernetes_version: "1.33"
    objects:
      - apiVersion: v1
        kind: Namespace
        metadata: {name: arc-runners}
"""

RETURN = r"""
objects:
  description: One result per object, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    ref:
      description: C(Kind namespace/name) of the object.
      type: str
      sample: ServiceAccount arc-runners/arc-runner
    changed:
      description: Whether this object changed (or would change in check mode).
      type: bool
    path:
      description: The file written or removed (render mode).
      type: str
      sample: rendered/storage/arc-runners/serviceaccount-arc-runner.yaml
    object:
      description: The object as the API server returned it (apply mode; secret values masked).
      type: dict
    differences:
      description: Paths of the fields that differ from the live object (apply mode).
      type: list
      elements: str
    note:
      description: Why an object was not rendered (Secrets).
      type: str
skipped_validation:
  description: Objects whose kind has no built-in schema (custom resources), so they were not validated.
  returned: always
  type: list
  elements: str
diff:
  description: Before/after per object (in diff mode).
  returned: when diff mode is on
  type: list
  elements: dict
"""

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import AccelciError
from ansible_collections.accelci.runners.plugins.module_utils.k8s.delivery_manager import (
    KUBERNETES_REQUIRED_IF,
    K8sObjectsModule,
    kubernetes_argument_spec,
    run_k8s_objects,
)


def main():
    argument_spec = kubernetes_argument_spec()
    argument_spec.update(
        objects=dict(type="list", elements="dict", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        render_subdir=dict(type="str", default=""),
    )
    module = K8sObjectsModule(argument_spec=argument_spec, required_if=KUBERNETES_REQUIRED_IF,
                              supports_check_mode=True)
    try:
        result = run_k8s_objects(module)
    except AccelciError as exc:
        module.fail_json(**exc.fail_json_kwargs())
    module.exit_json(**result)


if __name__ == "__main__":
    main()

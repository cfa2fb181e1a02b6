#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: k8s_object_info
short_description: Read one Kubernetes object, live or as rendered
version_added: 0.1.0
description:
  - Returns one object as the cluster holds it (O(delivery=apply)) or as the last render wrote it
    (O(delivery=render)), so a role can read state it recorded the same way it delivered it.
  - Secret values are masked. Never changes anything.
options:
  api_version:
    description: The object's C(apiVersion), for example V(v1).
    type: str
    required: true
    version_added: 0.1.0
  kind:
    description: The object's kind, for example V(ConfigMap).
    type: str
    required: true
    version_added: 0.1.0
  name:
    description: The object's name.
    type: str
    required: true
    version_added: 0.1.0
  namespace:
    description: The object's namespace (for namespaced kinds).
    type: str
    version_added: 0.1.0
  render_subdir:
    description: Subdirectory of O(render_dir) the object was rendered under.
    type: str
    default: ''
    version_added: 0.1.0
extends_documentation_fragment:
  - accelci.runners.kubernetes
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
- name: Read the model cache marker the storage role recorded
  accelci.runners.k8s_object_info:
    delivery: render
    render_dir: rendered
    render_subdir: storage
    api_version: v1
    kind: ConfigMap
    name: accelci-model-cache
    namespace: arc-runners
  register: marker
"""

RETURN = r"""
exists:
  description: Whether the object exists (or was rendered).
  returned: always
  type: bool
object:
  description: The object, or null when absent (secret values masked).
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import AccelciError
from ansible_collections.accelci.runners.plugins.module_utils.k8s.delivery_manager import (
    KUBERNETES_REQUIRED_IF,
    K8sDelivery,
    kubernetes_argument_spec,
)


def main():
    argument_spec = kubernetes_argument_spec()
    argument_spec.update(
        api_version=dict(type="str", required=True),
        kind=dict(type="str", required=True),
        name=dict(type="str", required=True),
        namespace=dict(type="str"),
        render_subdir=dict(type="str", default=""),
    )
    module = AnsibleModule(argument_spec=argument_spec, required_if=KUBERNETES_REQUIRED_IF, supports_check_mode=True)
    params = module.params
    try:
        found = K8sDelivery(module).read(params["api_version"], params["kind"], params["name"],
                                         params.get("namespace"), render_subdir=params["render_subdir"])
    except AccelciError as exc:
        module.fail_json(**exc.fail_json_kwargs())
    module.exit_json(changed=False, exists=found is not None, object=found)


if __name__ == "__main__":
    main()

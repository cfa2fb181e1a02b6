# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The workload_identity_principal filter: the IAM principal of a Kubernetes ServiceAccount under GKE workload
identity federation (docs in workload_identity_principal.yml)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible.errors import AnsibleFilterError

from ansible_collections.accelci.runners.plugins.module_utils.storage.bucket import (
    workload_identity_principal as _principal,
)

_PROJECT_NUMBER = re.compile(r"^[0-9]+$")


def workload_identity_principal(service_account, namespace, project, project_number):
    """principal://... of ServiceAccount ``service_account`` in ``namespace`` of a cluster in ``project``."""
    if not _PROJECT_NUMBER.match(str(project_number)):
        raise AnsibleFilterError("accelci_project_number: the project number is digits, got %r" % (project_number,))
    for field, value in (("service_account", service_account), ("namespace", namespace), ("project", project)):
        if not value:
            raise AnsibleFilterError("workload_identity_principal: %s is empty" % field)
    return _principal(project_number, project, namespace, service_account)


class FilterModule(object):
    """Workload identity filters."""

    def filters(self):
        return {"workload_identity_principal": workload_identity_principal}

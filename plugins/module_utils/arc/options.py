# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The options both ARC modules share (doc fragment accelci.runners.helm.ARC), defaults from ``arc.defaults``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.accelci.runners.plugins.module_utils.arc.defaults import ARC_VERSION, GITOPS, GITOPS_TOOLS


def arc_argument_spec():
    """Chart version, GitOps rendering and chart references of arc_controller and arc_runner_scale_set."""
    return dict(
        version=dict(type="str", default=ARC_VERSION),
        gitops=dict(type="str", choices=list(GITOPS_TOOLS), default=GITOPS),
        argocd_namespace=dict(type="str", default="argocd"),
        argocd_project=dict(type="str", default="default"),
        flux_source_namespace=dict(type="str"),
        chart_ref=dict(type="str"),
        gitops_chart_ref=dict(type="str"),
        validate_with_chart=dict(type="bool", default=True),
    )

# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # How modules of this collection run helm.
    DOCUMENTATION = r"""
options:
  binary_path:
    description:
      - Path of the C(helm) binary. When unset, C(helm) is looked up on E(PATH).
      - Helm 3.8 or later (OCI charts) and helm 4.x are supported; other versions are refused.
    type: path
    version_added: 0.1.0
  wait:
    description:
      - Wait until the release's resources are ready (helm 3 C(--wait), helm 4 C(--wait=watcher)).
    type: bool
    default: true
    version_added: 0.1.0
  wait_timeout:
    description:
      - Seconds helm waits for an install, upgrade, rollback or uninstall.
    type: int
    default: 600
    version_added: 0.1.0
  rollback_on_failure:
    description:
      - When an upgrade fails, roll the release back to its last deployed revision (then report the failure).
    type: bool
    default: true
    version_added: 0.1.0
  use_helm_diff:
    description:
      - In diff mode, show the manifest changes from the helm-diff plugin when it is installed
        (C(helm diff upgrade --detailed-exitcode)). Without the plugin the diff shows values only.
    type: bool
    default: true
    version_added: 0.1.0
requirements:
  - helm 3.8+ or 4.x on the host that runs the module (for O(delivery=apply), and to check local charts in render mode)
notes:
  - Helm runs with argument lists, never a shell string. Values go to helm in a temporary file readable only by its
    owner and removed afterwards; Kubernetes access goes through E(KUBECONFIG) and E(HELM_KUBECONTEXT). Secret values
    are masked in every message, command line and diff.
  - Whether a release changes is decided from C(helm list) (status, chart version) and C(helm get values)
    (the user-supplied values), so a second run with the same input reports no change.
"""

    # Options shared by arc_controller and arc_runner_scale_set.
    ARC = r"""
options:
  version:
    description:
      - Chart version of both ARC charts. The controller and every scale set must run the same version.
    type: str
    default: 0.14.2
    version_added: 0.1.0
  gitops:
    description:
      - What O(delivery=render) writes next to the values file, under C(<render_dir>/arc/).
      - V(flux) writes an C(OCIRepository) and a C(HelmRelease) (C(helm.toolkit.fluxcd.io/v2)).
      - V(argocd) writes an Argo CD C(Application) with the values inline and server-side apply.
    type: str
    choices: [flux, argocd]
    default: flux
    version_added: 0.1.0
  argocd_namespace:
    description:
      - Namespace of the Argo CD C(Application) objects.
    type: str
    default: argocd
    version_added: 0.1.0
  argocd_project:
    description:
      - Argo CD project of the C(Application) objects.
    type: str
    default: default
    version_added: 0.1.0
  validate_only:
    description:
      - Check every option and build the release's values (and, for a scale set, its runner pod, validated against
        the Kubernetes schema), then stop. Nothing is read from or written to the cluster or the render directory
        and no release is installed; in render mode the chart's own checks run on a local chart (C(helm template)).
      - The arc role runs every release this way in its preflight, so a bad scale set is refused before any file
        or object is written. The result's C(action) is V(validate).
    type: bool
    default: false
    version_added: 0.1.0
  flux_source_namespace:
    description:
      - Namespace of the Flux C(OCIRepository) objects (defaults to the release namespace).
    type: str
    version_added: 0.1.0
  chart_ref:
    description:
      - The chart to install. Defaults to the chart in C(oci://ghcr.io/actions/actions-runner-controller-charts).
      - A local chart directory or C(.tgz) works too (air-gapped installs); O(version) is then ignored by helm and
        render mode runs C(helm template --kube-version) on it to check the rendered values.
    type: str
    version_added: 0.1.0
  gitops_chart_ref:
    description:
      - The OCI chart the rendered Flux and Argo CD objects install (default the published chart, also when
        O(chart_ref) is a local chart used to check the values).
    type: str
    version_added: 0.1.0
  validate_with_chart:
    description:
      - In render mode with a local O(chart_ref), run C(helm template) on the rendered values.
    type: bool
    default: true
    version_added: 0.1.0
"""

# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The GitOps objects render mode writes next to a release's values: a Flux OCIRepository + HelmRelease pair or an
Argo CD Application, values inline and no secrets in them (pure; raises InputError)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import InputError
from ansible_collections.accelci.runners.plugins.module_utils.arc.defaults import CHART_REPOSITORY

FLUX_SOURCE_API = "source.toolkit.fluxcd.io/v1"
FLUX_HELM_API = "helm.toolkit.fluxcd.io/v2"
ARGOCD_API = "argoproj.io/v1alpha1"


def _split_chart_ref(chart_ref):
    """('oci://REGISTRY/PATH', 'CHART') from 'oci://REGISTRY/PATH/CHART'; (None, chart_ref) for anything else."""
    if chart_ref.startswith("oci://"):
        base, _sep, chart = chart_ref.rstrip("/").rpartition("/")
        return base, chart
    return None, chart_ref


def flux_helmrelease(release, namespace, chart_ref, version, values, depends_on=None, source_namespace=None,
                     upgrade_crds="Skip"):
    """A Flux OCIRepository + HelmRelease pair for one release (values inline; no secrets in them)."""
    base, chart = _split_chart_ref(chart_ref)
    if not base:
        raise InputError("chart_ref", "Flux rendering needs an OCI chart reference (oci://...); for a local chart "
                                      "publish it to a registry or use gitops=argocd with a Git source")
    source_ns = source_namespace or namespace
    source = {
        "apiVersion": FLUX_SOURCE_API,
        "kind": "OCIRepository",
        "metadata": {"name": release, "namespace": source_ns},
        "spec": {"interval": "10m", "url": "%s/%s" % (base, chart), "ref": {"tag": str(version)},
                 "layerSelector": {"mediaType": "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
                                   "operation": "copy"}},
    }
    helmrelease = {
        "apiVersion": FLUX_HELM_API,
        "kind": "HelmRelease",
        "metadata": {"name": release, "namespace": namespace},
        "spec": {
            "interval": "10m",
            "releaseName": release,
            "chartRef": {"kind": "OCIRepository", "name": release, "namespace": source_ns},
            # CRDs: Flux creates them on install; upgrades need the documented order (docs/arc.md).
            "install": {"crds": "Create", "remediation": {"retries": 3}},
            "upgrade": {"crds": upgrade_crds, "remediation": {"retries": 3, "remediateLastFailure": True}},
            "values": values,
        },
    }
    if depends_on:
        helmrelease["spec"]["dependsOn"] = [dict(d) for d in depends_on]
    return [source, helmrelease]


def argocd_application(release, namespace, chart_ref, version, values, argocd_namespace="argocd", project="default",
                       sync_wave=None):
    """An Argo CD Application for one release (Helm values inline; no secrets in them)."""
    base, chart = _split_chart_ref(chart_ref)
    if not base:
        raise InputError("chart_ref", "Argo CD rendering needs an OCI chart reference (oci://...)")
    application = {
        "apiVersion": ARGOCD_API,
        "kind": "Application",
        "metadata": {"name": release, "namespace": argocd_namespace,
                     "finalizers": ["resources-finalizer.argocd.argoproj.io"]},
        "spec": {
            "project": project,
            "source": {"repoURL": base[len("oci://"):], "chart": chart, "targetRevision": str(version),
                       "helm": {"releaseName": release, "valuesObject": values}},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": namespace},
            # ServerSideApply: the AutoscalingRunnerSet CRD is too big for client-side apply's annotation.
            "syncPolicy": {"automated": {"prune": True, "selfHeal": True},
                           "syncOptions": ["ServerSideApply=true", "CreateNamespace=false"]},
        },
    }
    if sync_wave is not None:
        application["metadata"]["annotations"] = {"argocd.argoproj.io/sync-wave": str(sync_wave)}
    return [application]


def published_chart_ref(chart_name):
    """The chart in the OCI repository ARC publishes to."""
    return "%s/%s" % (CHART_REPOSITORY, chart_name)


def gitops_chart_ref(params, chart_name, chart_ref):
    """The OCI chart GitOps objects install: gitops_chart_ref, else chart_ref when it is OCI, else the published one.

    A local chart_ref (air-gapped checks) never reaches a GitOps object.
    """
    if params.get("gitops_chart_ref"):
        return params["gitops_chart_ref"]
    if chart_ref.startswith("oci://"):
        return chart_ref
    return published_chart_ref(chart_name)


def gitops_objects(params, chart_name, release, namespace, chart_ref, values, depends_on=None, sync_wave=None,
                   upgrade_crds="Skip"):
    """Flux or Argo CD objects for a release, as the module's gitops, version and GitOps options ask."""
    oci_ref = gitops_chart_ref(params, chart_name, chart_ref)
    if params["gitops"] == "argocd":
        return argocd_application(release, namespace, oci_ref, params["version"], values,
                                  argocd_namespace=params["argocd_namespace"], project=params["argocd_project"],
                                  sync_wave=sync_wave)
    return flux_helmrelease(release, namespace, oci_ref, params["version"], values, depends_on=depends_on,
                            source_namespace=params.get("flux_source_namespace"), upgrade_crds=upgrade_crds)


def gitops_refs(params, release, namespace):
    """(apiVersion, kind, name, namespace) of the GitOps objects ``gitops_objects`` renders for a release."""
    if params["gitops"] == "argocd":
        return [(ARGOCD_API, "Application", release, params["argocd_namespace"])]
    return [(FLUX_HELM_API, "HelmRelease", release, namespace),
            (FLUX_SOURCE_API, "OCIRepository", release, params.get("flux_source_namespace") or namespace)]

# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Quota values as Compute Engine and the Cloud Quotas API report them, and which metric a request draws on.

- ``compute_quota(quotas, metric, where)``: a metric of ``regions.get`` / ``projects.get`` ``quotas[]`` (limit and
  usage).
- ``cloudquotas_quota(info, region, dimensions, quota_id)``: the limit a ``QuotaInfo`` of the Cloud Quotas API sets
  for a region and the catalog's dimensions. QuotaInfo carries no usage (its fields are limits, dimensions and
  eligibility; Google's own example reads usage from Cloud Monitoring's
  ``serviceruntime.googleapis.com/quota/allocation/usage``), so these rows have ``usage`` and ``free`` None.
- ``regional_quota(accelerator, spot, region, compute_quotas, quota_infos)``: the row that governs a request in a
  region, with the spot rules below.

Spot rules: TPU spot (and flex-start) capacity draws on the generation's preemptible metric only. Spot GPUs use the
preemptible GPU metric where the project has such quota in the region, and the standard metric otherwise (Compute
Engine: without preemptible quota, Spot VMs consume the standard GPU quota).

Rows are dicts: api, metric, dimensions, found, limit, usage, free, unlimited, verified, note, fallback_from.
Pure: no I/O.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

USAGE_NOT_REPORTED = (
    "usage is not reported: the Cloud Quotas API gives limits only (QuotaInfo has no usage field); usage lives in "
    "Cloud Monitoring (serviceruntime.googleapis.com/quota/allocation/usage)"
)


def _number(value):
    """A quota number as an int when it is whole (Compute reports doubles: 8.0), else the float."""
    if value is None:
        return None
    value = float(value)
    return int(value) if value.is_integer() else value


def _row(api, metric, dimensions=None, verified=True, **values):
    row = {"api": api, "metric": metric, "dimensions": dict(dimensions or {}), "found": False, "limit": None,
           "usage": None, "free": None, "unlimited": False, "verified": verified, "note": None,
           "fallback_from": None}
    row.update(values)
    return row


def compute_quota(quotas, metric, where, warning=None):
    """The row of ``metric`` from Compute ``quotas`` ({metric: {limit, usage}}) of ``where`` (a region or project).

    ``quotas`` None means Compute did not return the quotas field (``warning`` says why: QUOTA_INFO_UNAVAILABLE).
    """
    if quotas is None:
        return _row("compute", metric, note="Compute Engine returned no quotas for %s (%s)"
                    % (where, warning or "no quotas field"))
    entry = quotas.get(metric)
    if entry is None:
        return _row("compute", metric, note="%s reports no %s quota: the project has none there, or the metric "
                                            "has another name" % (where, metric))
    limit, usage = _number(entry.get("limit")), _number(entry.get("usage")) or 0
    return _row("compute", metric, found=True, limit=limit, usage=usage, free=max(limit - usage, 0))


def _dimensions_match(info, region, wanted):
    """True when a DimensionsInfo applies to ``region`` and the catalog's dimensions.

    A dimension missing from the entry means "every value without an entry of its own"; ``applicableLocations``
    lists the regions an entry without a region dimension covers (``global`` for quotas not per location).
    """
    dimensions = info.get("dimensions") or {}
    for key, value in dimensions.items():
        expected = region if key == "region" else wanted.get(key)
        if expected is None or str(value) != str(expected):
            return False
    locations = info.get("applicable_locations") or []
    if "region" not in dimensions and locations and "global" not in locations and region not in locations:
        return False
    return True


def cloudquotas_quota(info, region, dimensions, quota_id, verified=False):
    """The row of one Cloud Quotas ``QuotaInfo`` (a dict; None when the service has no such quota) for ``region``.

    ``dimensions_infos`` are ordered from the most specific to the least, so the first entry that applies wins.
    A negative value is no limit.
    """
    if info is None:
        return _row("cloudquotas", quota_id, dimensions, verified, note=(
            "the Cloud Quotas API has no quota %s for compute.googleapis.com%s"
            % (quota_id, "" if verified else " (the name is unverified: see docs/capacity.md)")))
    for entry in info.get("dimensions_infos") or []:
        if _dimensions_match(entry, region, dimensions):
            value = _number((entry.get("details") or {}).get("value"))
            if value is not None and value < 0:
                return _row("cloudquotas", quota_id, dimensions, verified, found=True, unlimited=True,
                            note="no limit")
            return _row("cloudquotas", quota_id, dimensions, verified, found=True, limit=value,
                        note=USAGE_NOT_REPORTED)
    return _row("cloudquotas", quota_id, dimensions, verified,
                note="%s sets no value for %s%s" % (quota_id, region, _dimensions_text(dimensions)))


def _dimensions_text(dimensions):
    return "".join(" %s=%s" % item for item in sorted(dimensions.items()))


def quota_ids(accelerator, spot):
    """The Cloud Quotas quota IDs a request may read: the preemptible one for spot, else the on-demand one."""
    quota = accelerator.get("quota") or {}
    if quota.get("api") != "cloudquotas":
        return []
    metric = quota.get("spot_metric") if spot else quota.get("metric")
    return [metric] if metric else []


def _read(quota, metric, region, compute_quotas, quota_infos):
    if quota.get("api") == "cloudquotas":
        # The catalog's dimensions (tpu_family=CT6E) qualify the on-demand metric; an entry of the preemptible
        # metric that has no such dimension still matches.
        return cloudquotas_quota(quota_infos.get(metric), region, quota.get("dimensions") or {}, metric,
                                 verified=bool(quota.get("verified")))
    data = compute_quotas or {}
    return compute_quota(data.get("quotas"), metric, region, data.get("warning"))


def regional_quota(accelerator, spot, region, compute_quotas, quota_infos):
    """The quota row that governs ``accelerator`` (spot or not) in ``region``.

    ``compute_quotas`` is the region as read from Compute ({quotas: {metric: {limit, usage}} or None, warning});
    ``quota_infos`` maps Cloud Quotas quota IDs to QuotaInfo dicts (None for a 404). Returns a row whose metric is
    None (with a note) when the catalog records no metric for this request.
    """
    quota = accelerator.get("quota") or {}
    kind = "spot" if spot else "on-demand"
    metric = quota.get("spot_metric") if spot else quota.get("metric")
    if metric:
        row = _read(quota, metric, region, compute_quotas, quota_infos)
        usable = row["found"] and (row["unlimited"] or row["limit"])
        if usable or not spot or accelerator["kind"] != "gpu" or not quota.get("metric"):
            return row
        fallback = _read(quota, quota["metric"], region, compute_quotas, quota_infos)
        fallback["fallback_from"] = metric
        fallback["note"] = "no %s quota in %s, so Spot VMs draw on the standard %s quota%s" % (
            metric, region, quota["metric"], "; " + fallback["note"] if fallback["note"] else "")
        return fallback
    if spot and accelerator["kind"] == "gpu" and quota.get("metric"):
        row = _read(quota, quota["metric"], region, compute_quotas, quota_infos)
        row["note"] = "no preemptible metric recorded for %s; Spot VMs draw on the standard quota%s" % (
            accelerator["name"], "; " + row["note"] if row["note"] else "")
        return row
    return _row(quota.get("api") or "compute", None, verified=False,
                note="the catalog records no %s quota metric for %s; not checked" % (kind, accelerator["name"]))


def project_quota(accelerator, project_quotas, project):
    """The project-wide GPU row (GPUS_ALL_REGIONS from projects.get), or None for TPUs."""
    metric = (accelerator.get("quota") or {}).get("project_metric")
    if not metric:
        return None
    data = project_quotas or {}
    return compute_quota(data.get("quotas"), metric, "project %s" % project, data.get("warning"))

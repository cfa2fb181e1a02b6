# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The capacity report: per region the quota and the zones that offer the machine, the best zone, and whether a
number of nodes fits.

- ``plan_locations(request, zone_index, project)``: which regions and zones to read, from ``zones.list``;
  InputError for a zone or region the project does not have.
- ``region_row(...)``: one region's quota row (``quota.regional_quota``) and its zones.
- ``best_zone(rows, project_row, accelerator)``: seed 002's rule - the region with the most free quota wins, and
  its first zone (in the order asked) that offers the machine; nothing when every region is full.
- ``demand_check(request, rows, project_row)``: whether ``nodes`` x units per node fit (verdicts below).

Verdicts: ``fits``; ``reserved`` (a pool on a specific reservation: its capacity is the reservation's);
``unknown`` (no metric recorded, the metric missing, or Compute returned no quotas); ``may_be_short`` (more than
is free but not more than the limit: the usage may be this pool's own nodes, which the quota cannot tell apart);
``short`` (more than the limit: it can never fit); ``not_offered`` (a zone asked about does not offer the machine).
Pure: no I/O.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import InputError
from ansible_collections.accelci.runners.plugins.module_utils.capacity.quota import regional_quota

SEVERITY = {"fits": 0, "reserved": 0, "unknown": 1, "may_be_short": 2, "short": 3, "not_offered": 3}


def _join(values):
    return ", ".join(values) if values else "none"


def plan_locations(request, zone_index, project):
    """[(region, [zones to check])] in the order asked, from zones.list ({zone: {region, status}}).

    ``zones`` are checked as given; ``regions`` expand to every zone of the region. InputError names the zone or
    region the project does not have, listing what it has.
    """
    plan = []
    for zone in request["zones"]:
        if zone not in zone_index:
            raise InputError("zones", "%s is not a zone of project %s; accepted: %s"
                             % (zone, project, _join(sorted(zone_index))))
        region = zone_index[zone]["region"]
        entry = [item for item in plan if item[0] == region]
        if entry:
            entry[0][1].append(zone)
        else:
            plan.append((region, [zone]))
    known = sorted(set(item["region"] for item in zone_index.values()))
    for region in request["regions"]:
        if region not in known:
            raise InputError("regions", "%s is not a region of project %s; accepted: %s"
                             % (region, project, _join(known)))
        if region not in [item[0] for item in plan]:
            plan.append((region, sorted(z for z, item in zone_index.items() if item["region"] == region)))
    return plan


def region_row(request, region, zones, zone_index, offers, compute_quotas, quota_infos):
    """One region: its quota row and which of ``zones`` offer the machine (``offers``: {zone: bool})."""
    accelerator = request["accelerator"]
    down = [z for z in zones if zone_index.get(z, {}).get("status") != "UP"]
    return {
        "region": region,
        "zones": list(zones),
        "zones_offering": [z for z in zones if z not in down and offers.get(z)],
        "zones_not_offering": [z for z in zones if z not in down and not offers.get(z)],
        "zones_down": down,
        "quota": regional_quota(accelerator, request["spot"], region, compute_quotas, quota_infos),
    }


def _room(row):
    """How much a region can still give, for ranking: free, else the limit when usage is unknown, else None."""
    quota = row["quota"]
    if not quota["found"]:
        return None
    if quota["unlimited"]:
        return float("inf")
    return quota["free"] if quota["free"] is not None else quota["limit"]


def _room_text(row):
    room = _room(row)
    if room is None:
        return "%s unknown" % row["region"]
    return "%s %s" % (row["region"], "no limit" if room == float("inf") else room)


def best_zone(rows, project_row, accelerator):
    """(zone, region, reason) by seed 002's rule, or (None, None, why not)."""
    name, offer = accelerator["name"], accelerator["offer"]["name"]
    candidates = [row for row in rows if row["zones_offering"]]
    if not candidates:
        return None, None, "no zone asked about offers %s (%s)" % (offer, _join([z for r in rows for z in r["zones"]]))
    if project_row and project_row["found"] and project_row["free"] == 0:
        return None, None, "the project-wide %s quota has no free %s (limit %s, usage %s)" % (
            project_row["metric"], accelerator["unit"], project_row["limit"], project_row["usage"])
    ranked = [row for row in candidates if _room(row) is not None]
    if not ranked:
        row = candidates[0]
        return row["zones_offering"][0], row["region"], (
            "no quota is known for %s in %s; %s is the first zone asked about that offers %s"
            % (name, _join([r["region"] for r in candidates]), row["zones_offering"][0], offer))
    best = ranked[0]
    for row in ranked[1:]:
        if _room(row) > _room(best):
            best = row
    what = "%s free" % accelerator["unit"] if best["quota"]["free"] is not None else (
        "%s by limit, usage not reported" % accelerator["unit"])
    ranking = ", ".join(_room_text(row) for row in candidates)
    if _room(best) <= 0:
        return None, None, "every region that offers %s is full (%s: %s)" % (offer, what, ranking)
    return best["zones_offering"][0], best["region"], (
        "%s has the most %s quota (%s: %s); %s is its first zone asked about that offers %s"
        % (best["region"], best["quota"]["metric"], what, ranking, best["zones_offering"][0], offer))


def _plural(count, unit):
    return "%s %s" % (count, unit[:-1] if count == 1 and unit.endswith("s") else unit)


def _quota_text(quota):
    if quota["usage"] is None:
        return "%s: limit %s; the Cloud Quotas API reports no usage" % (quota["metric"], quota["limit"])
    return "%s: limit %s, usage %s" % (quota["metric"], quota["limit"], quota["usage"])


def quota_verdict(quota, demand, unit, label):
    """(verdict, message) of ``demand`` units against one quota row; ``label`` says whose quota ("v6e spot quota
    in us-central1")."""
    asks = "the pool can use %s" % _plural(demand, unit)
    if quota["metric"] is None or not quota["found"]:
        return "unknown", "%s not checked: %s" % (label, quota["note"])
    if quota["unlimited"]:
        return "fits", "%s: %s; %s sets no limit" % (label, asks, quota["metric"])
    free = quota["free"]
    have = "%s free" % ("1 is" if free == 1 else "%s are" % free) if free is not None else (
        "the limit is %s" % quota["limit"])
    if demand > quota["limit"]:
        return "short", "not enough %s: %s, %s (%s)" % (label, asks, have, _quota_text(quota))
    if free is None or demand <= free:
        return "fits", "%s: %s, %s (%s)" % (label, asks, have, _quota_text(quota))
    return "may_be_short", ("%s may be short: %s, %s (%s; the usage may include this pool's own nodes)"
                            % (label, asks, have, _quota_text(quota)))


def _offer_problem(request, row):
    offer = request["accelerator"]["offer"]["name"]
    if request["zones"]:
        missing = [z for z in row["zones"] if z not in row["zones_offering"]]
    else:
        missing = [] if row["zones_offering"] else row["zones"]
    if not missing:
        return None
    return "%s is not offered in %s (zones of %s asked about that offer it: %s%s)" % (
        offer, _join(missing), row["region"], _join(row["zones_offering"]),
        "; down: %s" % _join(row["zones_down"]) if row["zones_down"] else "")


def _row_check(request, row, project_row, demand):
    accelerator = request["accelerator"]
    label = "%s%s quota" % (accelerator["name"], " spot" if request["spot"] else "")
    found = []
    problem = _offer_problem(request, row)
    if problem:
        found.append(("not_offered", problem))
    found.append(quota_verdict(row["quota"], demand, accelerator["unit"], "%s in %s" % (label, row["region"])))
    if project_row is not None:
        found.append(quota_verdict(project_row, demand, accelerator["unit"],
                                   "GPU quota across all regions (%s)" % project_row["metric"]))
    verdict = max((item[0] for item in found), key=lambda v: SEVERITY[v])
    problems = [message for v, message in found if SEVERITY[v] >= SEVERITY["may_be_short"]]
    notes = [message for v, message in found if SEVERITY[v] < SEVERITY["may_be_short"]]
    return {"region": row["region"], "verdict": verdict, "problems": problems, "notes": notes,
            "message": "; ".join(problems or notes)}


def demand_check(request, rows, project_row):
    """Whether request['nodes'] nodes fit, or None when no node count was asked about.

    Returns: nodes, demand (nodes x units per node), unit, verdict, message, problems, notes, regions (one check
    per region; the summary is the most favourable region's), scales_from_zero and reservation for a node_pool.
    """
    nodes = request["nodes"]
    if nodes is None:
        return None
    accelerator, pool = request["accelerator"], request["pool"] or {}
    demand = nodes * accelerator["units_per_node"]
    summary = {"nodes": nodes, "demand": demand, "unit": accelerator["unit"],
               "scales_from_zero": pool.get("scales_from_zero"), "reservation": pool.get("reservation")}
    if pool.get("reservation"):
        message = "the pool consumes reservation %s: its capacity is the reservation's; quota not checked" % (
            pool["reservation"])
        summary.update(verdict="reserved", message=message, problems=[], notes=[message], regions=[])
        return summary
    checks = [_row_check(request, row, project_row, demand) for row in rows]
    best = min(checks, key=lambda check: SEVERITY[check["verdict"]]) if checks else None
    summary.update(regions=checks, verdict=best["verdict"] if best else "unknown",
                   message=best["message"] if best else "no region to check", problems=best["problems"] if best else
                   [], notes=best["notes"] if best else [])
    if pool.get("zones_assumed"):
        summary["notes"].append("the pool has no locations: counted over %d zones, GKE's default for a regional "
                                "cluster" % pool["zone_count"])
    return summary

# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The reads behind accelerator_capacity_info, and its entry point ``capacity_info(module)``.

``CapacityClient`` reads Compute Engine (``zones.list``, ``regions.get``, ``machineTypes.list`` and
``acceleratorTypes.list`` per zone, ``projects.get``) through the module's client, and the Cloud Quotas API
(``quotaInfos.get``) through a second client from the same factory, every call retried and translated by
``GcpModule.call``. Lists are read page by page (``pageToken`` / ``nextPageToken``), each page its own retried
call. Nothing here writes. What the answers mean is decided in ``capacity.quota`` and ``capacity.report``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import traceback

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import AccelciError, ApiError, InputError
from ansible_collections.accelci.runners.plugins.module_utils.capacity.quota import project_quota, quota_ids
from ansible_collections.accelci.runners.plugins.module_utils.capacity.report import (
    best_zone,
    demand_check,
    plan_locations,
    region_row,
)
from ansible_collections.accelci.runners.plugins.module_utils.capacity.request import capacity_request
from ansible_collections.accelci.runners.plugins.module_utils.gcp.client import (
    SERVICES,
    gcp_client,
    is_emulator_endpoint,
)

COMPUTE_PAGE_SIZE = 500  # Compute Engine's largest maxResults
MAX_PAGES = 100  # a page token that never ends is the server's bug; stop instead of looping
QUOTA_SERVICE = "compute.googleapis.com"
# Deprecation states after which a machine or accelerator type can no longer be used.
_GONE_STATES = ("OBSOLETE", "DELETED")


def _last_segment(url):
    return (url or "").rstrip("/").rsplit("/", 1)[-1]


def _usable(resource):
    deprecated = getattr(resource, "deprecated", None)
    return getattr(deprecated, "state", "") not in _GONE_STATES


def _quotas(resource, may_warn=False):
    """{metric: {limit, usage}} of a Compute region or project; None when a region sent a quota warning instead."""
    quotas = dict((q.metric, {"limit": q.limit, "usage": q.usage}) for q in resource.quotas)
    warning = None
    if may_warn and "quota_status_warning" in resource:
        status = resource.quota_status_warning
        warning = "%s: %s" % (status.code, status.message)
        if not quotas:
            quotas = None
    return {"quotas": quotas, "warning": warning}


class CapacityClient(object):
    """Read-only calls for one project through a GcpModule for 'compute' (``cloudquotas_api_endpoint`` option)."""

    def __init__(self, module):
        self.module = module
        self.project = module.params["project"]
        self._quotas_client = None

    def _pages(self, action, method, request, items_field="items"):
        items, token = [], None
        for _page in range(MAX_PAGES):
            page = self.module.call(action, method, request=dict(request, page_token=token) if token else request)
            items.extend(getattr(page, items_field))
            token = page.next_page_token
            if not token:
                return items
        raise ApiError("Failed to %s: more than %d pages; the last page token was %r" % (action, MAX_PAGES, token))

    def zone_index(self):
        """{zone: {region, status}} of every zone the project can use (zones.list)."""
        zones = self._pages("list the zones of project %s" % self.project, self.module.client.zones.list,
                            {"project": self.project, "max_results": COMPUTE_PAGE_SIZE})
        return dict((zone.name, {"region": _last_segment(zone.region), "status": zone.status}) for zone in zones)

    def region_quotas(self, region):
        """The region's quotas (regions.get): {quotas: {metric: {limit, usage}} or None, warning}."""
        found = self.module.call("read region %s of project %s" % (region, self.project),
                                 self.module.client.regions.get, project=self.project, region=region)
        return _quotas(found, may_warn=True)

    def project_quotas(self):
        """The project-wide quotas (projects.get), such as GPUS_ALL_REGIONS."""
        found = self.module.call("read project %s" % self.project, self.module.client.projects.get,
                                 project=self.project)
        return _quotas(found)

    def offers(self, zone, offer):
        """True when the zone lists the machine type (machineTypes.list) or GPU type (acceleratorTypes.list)."""
        if offer["resource"] == "machineTypes":
            method, what = self.module.client.machine_types.list, "machine types"
        else:
            method, what = self.module.client.accelerator_types.list, "accelerator types"
        items = self._pages("list the %s of zone %s" % (what, zone), method,
                            {"project": self.project, "zone": zone, "max_results": COMPUTE_PAGE_SIZE})
        return any(item.name == offer["name"] and _usable(item) for item in items)

    @property
    def quotas_client(self):
        """The Cloud Quotas client, built on first use from the same connection options and its own endpoint."""
        if self._quotas_client is None:
            params = dict(self.module.params, api_endpoint=self.module.params.get("cloudquotas_api_endpoint"))
            try:
                self._quotas_client = gcp_client("cloudquotas", params)
            except ImportError:
                raise AccelciError(missing_required_lib(SERVICES["cloudquotas"][1]), exception=traceback.format_exc())
        return self._quotas_client

    def quota_info(self, quota_id):
        """A QuotaInfo of compute.googleapis.com as a dict, or None when the service has no such quota (404)."""
        name = "projects/%s/locations/global/services/%s/quotaInfos/%s" % (self.project, QUOTA_SERVICE, quota_id)
        client = self.quotas_client
        module = self.module
        # GcpModule.call names its own service and endpoint when one cannot be reached; say the right one.
        saved = module.service, module.params.get("api_endpoint")
        module.service, module.params["api_endpoint"] = "cloudquotas", module.params.get("cloudquotas_api_endpoint")
        try:
            info = module.call("read quota %s" % name, client.get_quota_info, name=name, not_found_ok=True)
        finally:
            module.service, module.params["api_endpoint"] = saved
        if info is None:
            return None
        return {"quota_id": info.quota_id, "dimensions_infos": [
            {"dimensions": dict(entry.dimensions), "details": {"value": entry.details.value},
             "applicable_locations": list(entry.applicable_locations)} for entry in info.dimensions_infos]}


def _check_endpoints(params, request):
    """Refuse to read v6e quota from Google while Compute is a local stand-in (and the other way round)."""
    if not quota_ids(request["accelerator"], request["spot"]):
        return
    compute, quotas = params.get("api_endpoint"), params.get("cloudquotas_api_endpoint")
    if is_emulator_endpoint(compute) != is_emulator_endpoint(quotas):
        raise InputError("cloudquotas_api_endpoint", "the Compute endpoint is %s but the Cloud Quotas endpoint is %s; "
                         "point both at local stand-ins or both at Google (ACCELCI_COMPUTE_API_ENDPOINT, "
                         "ACCELCI_CLOUDQUOTAS_API_ENDPOINT)" % (compute or "Google's", quotas or "Google's"))


def _read_rows(client, request, plan, zone_index):
    accelerator = request["accelerator"]
    quota = accelerator.get("quota") or {}
    needs_compute = quota.get("api") == "compute" and (quota.get("metric") or quota.get("spot_metric"))
    quota_infos = dict((quota_id, client.quota_info(quota_id)) for quota_id in quota_ids(accelerator,
                                                                                         request["spot"]))
    rows = []
    for region, zones in plan:
        offers = dict((zone, client.offers(zone, accelerator["offer"])) for zone in zones
                      if zone_index[zone]["status"] == "UP")
        compute_quotas = client.region_quotas(region) if needs_compute else None
        rows.append(region_row(request, region, zones, zone_index, offers, compute_quotas, quota_infos))
    return rows


def capacity_info(module):
    """accelerator_capacity_info: check the options, read, and report. Returns the module result."""
    request = capacity_request(module.params)
    _check_endpoints(module.params, request)
    client = CapacityClient(module)
    zone_index = client.zone_index()
    plan = plan_locations(request, zone_index, client.project)
    rows = _read_rows(client, request, plan, zone_index)
    accelerator = request["accelerator"]
    project_row = None
    if (accelerator.get("quota") or {}).get("project_metric"):
        project_row = project_quota(accelerator, client.project_quotas(), client.project)
    zone, region, reason = best_zone(rows, project_row, accelerator)
    check = demand_check(request, rows, project_row)
    public = dict((key, accelerator[key]) for key in ("kind", "name", "description", "machine_type",
                                                      "units_per_node", "unit", "offer"))
    capacity = {"project": client.project, "accelerator": public, "spot": request["spot"],
                "quota_metrics": accelerator.get("quota"), "regions": rows, "project_quota": project_row,
                "best_zone": zone, "best_region": region, "reason": reason, "check": check, "pool": request["pool"]}
    return {"changed": False, "capacity": capacity, "retries": module.retry_log}

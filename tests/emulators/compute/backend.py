"""The Compute Engine v1 stand-in's state and answers: regions (with quotas), zones, machine types and
accelerator types per zone, and the project (with its project-wide quotas).

What it follows, and where from:
- Paths and resource fields: the v1 REST reference, as ``google-cloud-compute`` sends and reads them
  (``/compute/v1/projects/P/regions/R``, ``.../zones/Z/machineTypes``, ...; ``Region.quotas[]`` of
  ``{metric, limit, usage}`` as doubles, ``Region.zones[]`` and ``Zone.region`` as URLs, ``MachineType.zone`` as a
  name, int64 fields such as ``maximumPersistentDisksSizeGb`` as JSON strings).
- Paging: ``maxResults`` 0-500 (default 500), ``pageToken``, ``nextPageToken`` only while more remain; an empty page
  has no ``items``.
- Errors: the legacy Google error body Compute answers with, ``{"error": {"code", "message", "errors": [{"message",
  "domain": "global", "reason"}]}}``: an unknown region or zone is 400 ``invalid`` "Invalid value for field 'region':
  'X'. Unknown region." (quoted in GoogleCloudPlatform/terraformer 1956), a missing resource 404 ``notFound`` "The
  resource '...' was not found", throttling 403 ``rateLimitExceeded`` (Compute Engine rate quota docs: "you receive a
  403 error with the reason rateLimitExceeded"), an outage 503 ``backendError``.
- A region whose quotas Compute could not fetch has no ``quotas`` and a ``quotaStatusWarning`` with code
  ``QUOTA_INFO_UNAVAILABLE`` (Region.quotaStatusWarning in the v1 types); the message text is ours.
"""

import copy
import re

from tests.emulators.gke.machines import GPU_MACHINE_TYPES, TPU_MACHINE_TYPES, machine_vcpus

from ..json_api import ControlError, EmulatorError, page_offset, page_token

BASE = "https://www.googleapis.com/compute/v1/"
MAX_RESULTS = 500
CREATED = "2016-05-03T14:04:35.000-07:00"
_PROJECT = r"^/compute/v1/projects/(?P<project>[^/]+)"
_ROUTES = [
    (re.compile(_PROJECT + r"$"), "project"),
    (re.compile(_PROJECT + r"/regions$"), "regions"),
    (re.compile(_PROJECT + r"/regions/(?P<region>[^/]+)$"), "region"),
    (re.compile(_PROJECT + r"/zones$"), "zones"),
    (re.compile(_PROJECT + r"/zones/(?P<zone>[^/]+)$"), "zone"),
    (re.compile(_PROJECT + r"/zones/(?P<zone>[^/]+)/machineTypes$"), "machine_types"),
    (re.compile(_PROJECT + r"/zones/(?P<zone>[^/]+)/machineTypes/(?P<name>[^/]+)$"), "machine_type"),
    (re.compile(_PROJECT + r"/zones/(?P<zone>[^/]+)/acceleratorTypes$"), "accelerator_types"),
    (re.compile(_PROJECT + r"/zones/(?P<zone>[^/]+)/acceleratorTypes/(?P<name>[^/]+)$"), "accelerator_type"),
]
# Query parameters of list calls the stand-in honours; filter and orderBy are refused rather than ignored.
_LIST_PARAMS = {"maxResults", "pageToken", "returnPartialSuccess", "$alt", "alt"}
GPU_DESCRIPTIONS = {"nvidia-tesla-t4": "NVIDIA T4", "nvidia-l4": "NVIDIA L4", "nvidia-tesla-a100": "NVIDIA A100 40GB",
                    "nvidia-a100-80gb": "NVIDIA A100 80GB", "nvidia-h100-80gb": "NVIDIA H100 80GB"}
# Host vCPUs of TPU VM machine types (Cloud TPU system architecture pages); names not listed get 1.
TPU_HOST_VCPUS = {"ct6e-standard-1t": 44, "ct6e-standard-4t": 180, "ct6e-standard-8t": 180, "ct5lp-hightpu-1t": 24,
                  "ct5lp-hightpu-4t": 112, "ct5lp-hightpu-8t": 224, "ct4p-hightpu-4t": 240, "ct5p-hightpu-4t": 208}


def invalid(field, value, why):
    message = "Invalid value for field '%s': '%s'. %s" % (field, value, why)
    return EmulatorError(400, "INVALID_ARGUMENT", "invalid", message)


def not_found(resource):
    return EmulatorError(404, "NOT_FOUND", "notFound", "The resource '%s' was not found" % resource)


def _id(name):
    """A stable numeric id per name, as Compute gives every resource (uint64, a JSON string)."""
    value = 0
    for char in name:
        value = (value * 131 + ord(char)) % (10 ** 18)
    return str(value)


def _number(value, field):
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ControlError("%s must be a number, got %r" % (field, value))


def _quota_list(entries, field):
    quotas = []
    for entry in entries or []:
        if not isinstance(entry, dict) or not entry.get("metric"):
            raise ControlError("%s entries need a metric, got %r" % (field, entry))
        quotas.append({"metric": entry["metric"], "limit": _number(entry.get("limit", 0), field + ".limit"),
                       "usage": _number(entry.get("usage", 0), field + ".usage")})
    return quotas


def _typed_names(entries, field):
    """[{name, deprecated?}] from names or dicts."""
    out = []
    for entry in entries or []:
        item = {"name": entry} if isinstance(entry, str) else dict(entry) if isinstance(entry, dict) else None
        if not item or not item.get("name"):
            raise ControlError("%s entries are names or {name, deprecated}, got %r" % (field, entry))
        out.append(item)
    return out


class ComputeBackend:
    """Seeded state: ``{"project", "project_number", "project_quotas": [...], "regions": [{"name", "quotas": [...],
    "quota_info_unavailable": bool, "zones": [{"name", "status", "machine_types": [...],
    "accelerator_types": [...]}]}]}`` (see README.md)."""

    def __init__(self):
        self.project = None
        self.project_number = None
        self.project_quotas = []
        self.regions = {}  # name -> {"quotas": [...], "quota_info_unavailable": bool, "zones": [names]}
        self.zones = {}    # name -> {"region", "status", "machine_types": [...], "accelerator_types": [...]}

    # ------------------------------------------------------------------ seeding

    def seed(self, data):
        """Replace the whole state with a data set."""
        if not isinstance(data, dict) or not data.get("project"):
            raise ControlError("a seed needs a project")
        regions, zones = {}, {}
        for region in data.get("regions") or []:
            name = region.get("name") if isinstance(region, dict) else None
            if not name:
                raise ControlError("every region needs a name")
            regions[name] = {"quotas": _quota_list(region.get("quotas"), "regions[%s].quotas" % name),
                             "quota_info_unavailable": bool(region.get("quota_info_unavailable")), "zones": []}
            for zone in region.get("zones") or []:
                zone_name = zone.get("name") if isinstance(zone, dict) else None
                if not zone_name or not zone_name.startswith(name + "-"):
                    raise ControlError("zone %r must be named after its region %s" % (zone_name, name))
                field = "zones[%s]" % zone_name
                zones[zone_name] = {"region": name, "status": zone.get("status", "UP"),
                                    "machine_types": _typed_names(zone.get("machine_types"), field + ".machine_types"),
                                    "accelerator_types": _typed_names(zone.get("accelerator_types"),
                                                                      field + ".accelerator_types")}
                regions[name]["zones"].append(zone_name)
        self.project, self.project_number = data["project"], str(data.get("project_number") or _id(data["project"]))
        self.project_quotas = _quota_list(data.get("project_quotas"), "project_quotas")
        self.regions, self.zones = regions, zones

    def set_quota(self, metric, limit, usage=0, region=None):
        """Set a region's (or, without region, the project's) quota metric; limit None removes it."""
        if region is not None and region not in self.regions:
            raise ControlError("no region %s in the seed" % region)
        quotas = self.regions[region]["quotas"] if region is not None else self.project_quotas
        quotas[:] = [q for q in quotas if q["metric"] != metric]
        if limit is not None:
            quotas.append({"metric": metric, "limit": _number(limit, "limit"), "usage": _number(usage, "usage")})

    def control(self, method, name, body):
        if name == "seed" and method == "POST":
            self.seed(body)
            return {"regions": sorted(self.regions), "zones": sorted(self.zones)}
        if name == "quota" and method == "POST":
            if not body.get("metric"):
                raise ControlError("a quota needs a metric")
            self.set_quota(body["metric"], body.get("limit"), body.get("usage", 0), body.get("region"))
            return {}
        if name == "state" and method == "GET":
            return {"project": self.project, "project_quotas": copy.deepcopy(self.project_quotas),
                    "regions": copy.deepcopy(self.regions), "zones": copy.deepcopy(self.zones)}
        raise ControlError("no control endpoint %s /_emulator/%s" % (method, name))

    # ------------------------------------------------------------------ errors and faults

    @staticmethod
    def error_body(err):
        return {"error": {"code": err.http_code, "message": err.message,
                          "errors": [{"message": err.message, "domain": "global", "reason": err.reason}]}}

    def fault_error(self, kind, opts, path):
        message = opts.get("message")
        if kind == "rate_limit":
            return EmulatorError(403, "PERMISSION_DENIED", "rateLimitExceeded", message or (
                "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute' of service "
                "'compute.googleapis.com' for consumer 'project_number:%s'." % (self.project_number or "0")))
        if kind == "http_503":
            return EmulatorError(503, "UNAVAILABLE", "backendError", message or "The service is currently unavailable.")
        return EmulatorError(int(opts.get("code", 500)), opts.get("status", "INTERNAL"),
                             opts.get("reason", "backendError"), message or "Internal error. Please try again.")

    # ------------------------------------------------------------------ serving

    def serve(self, method, path, query):
        for pattern, route in _ROUTES:
            match = pattern.match(path)
            if match and method == "GET":
                args = match.groupdict()
                self._check_project(args.pop("project"))
                return getattr(self, "_" + route)(query=query, **args)
        raise EmulatorError(404, "NOT_FOUND", "notFound", "The requested URL %s was not found on this server." % path)

    def _check_project(self, project):
        if self.project is None or project not in (self.project, self.project_number):
            raise not_found("projects/%s" % project)

    def _link(self, *parts):
        return BASE + "projects/%s/" % self.project + "/".join(parts)

    def _region_of(self, region):
        if region not in self.regions:
            raise invalid("region", region, "Unknown region.")
        return self.regions[region]

    def _zone_of(self, zone):
        if zone not in self.zones:
            raise invalid("zone", zone, "Unknown zone.")
        return self.zones[zone]

    def _page(self, kind, list_id, link, items, query):
        unsupported = sorted(set(query) - _LIST_PARAMS)
        if unsupported:
            raise EmulatorError(501, "UNIMPLEMENTED", "notImplemented",
                                "The Compute Engine stand-in does not implement %s" % ", ".join(unsupported))
        text = query.get("maxResults", "")
        if text and (not text.isdigit() or int(text) > MAX_RESULTS):
            raise invalid("maxResults", text, "Must be less than or equal to %d" % MAX_RESULTS)
        size = int(text) if text and int(text) > 0 else MAX_RESULTS
        offset = 0
        if query.get("pageToken"):
            offset = page_offset(query["pageToken"], list_id)
            if offset is None:
                raise invalid("pageToken", query["pageToken"], "Invalid page token.")
        page = {"kind": kind, "id": list_id, "selfLink": link}
        if items[offset:offset + size]:
            page["items"] = items[offset:offset + size]
        if offset + size < len(items):
            page["nextPageToken"] = page_token(list_id, offset + size)
        return page

    def _project(self, query):
        return {"kind": "compute#project", "id": _id(self.project), "creationTimestamp": CREATED,
                "name": self.project, "quotas": copy.deepcopy(self.project_quotas),
                "selfLink": BASE + "projects/%s" % self.project,
                "defaultServiceAccount": "%s-compute@developer.gserviceaccount.com" % self.project_number,
                "xpnProjectStatus": "UNSPECIFIED_XPN_PROJECT_STATUS", "defaultNetworkTier": "PREMIUM"}

    def _region_resource(self, name):
        region = self.regions[name]
        resource = {"kind": "compute#region", "id": _id(name), "creationTimestamp": CREATED, "name": name,
                    "description": name, "status": "UP", "zones": [self._link("zones", z) for z in region["zones"]],
                    "selfLink": self._link("regions", name), "supportsPzs": False}
        if region["quota_info_unavailable"]:
            resource["quotaStatusWarning"] = {
                "code": "QUOTA_INFO_UNAVAILABLE", "message": "Quota information for this region is unavailable.",
                "data": [{"key": "region", "value": name}]}
        else:
            resource["quotas"] = copy.deepcopy(region["quotas"])
        return resource

    def _regions(self, query):
        items = [self._region_resource(name) for name in sorted(self.regions)]
        return self._page("compute#regionList", "projects/%s/regions" % self.project, self._link("regions"),
                          items, query)

    def _region(self, region, query):
        self._region_of(region)
        return self._region_resource(region)

    def _zone_resource(self, name):
        zone = self.zones[name]
        return {"kind": "compute#zone", "id": _id(name), "creationTimestamp": CREATED, "name": name,
                "description": name, "status": zone["status"], "region": self._link("regions", zone["region"]),
                "selfLink": self._link("zones", name), "availableCpuPlatforms": ["Intel Cascade Lake", "AMD Milan"],
                "supportsPzs": False}

    def _zones(self, query):
        items = [self._zone_resource(name) for name in sorted(self.zones)]
        return self._page("compute#zoneList", "projects/%s/zones" % self.project, self._link("zones"), items, query)

    def _zone(self, zone, query):
        self._zone_of(zone)
        return self._zone_resource(zone)

    def _machine_type_resource(self, zone, entry):
        name = entry["name"]
        vcpus = TPU_HOST_VCPUS.get(name) or machine_vcpus(name) or 1
        resource = {"kind": "compute#machineType", "id": _id(zone + name), "creationTimestamp": CREATED,
                    "name": name, "description": "%d vCPUs, %d GB RAM" % (vcpus, vcpus * 4), "guestCpus": vcpus,
                    "memoryMb": vcpus * 4096, "imageSpaceGb": 0, "maximumPersistentDisks": 128,
                    "maximumPersistentDisksSizeGb": "263168", "zone": zone, "isSharedCpu": False,
                    "selfLink": self._link("zones", zone, "machineTypes", name), "architecture": "X86_64"}
        if name in GPU_MACHINE_TYPES:
            gpu, count = GPU_MACHINE_TYPES[name]
            resource["accelerators"] = [{"guestAcceleratorType": gpu, "guestAcceleratorCount": count}]
        if name in TPU_MACHINE_TYPES:
            tpu = TPU_MACHINE_TYPES[name]
            resource["description"] = "TPU %s host, %d chips" % (tpu.generation, tpu.chips_per_vm)
        if entry.get("deprecated"):
            resource["deprecated"] = dict(entry["deprecated"])
        return resource

    def _machine_types(self, zone, query):
        items = [self._machine_type_resource(zone, entry) for entry in self._zone_of(zone)["machine_types"]]
        return self._page("compute#machineTypeList", "projects/%s/zones/%s/machineTypes" % (self.project, zone),
                          self._link("zones", zone, "machineTypes"), items, query)

    def _machine_type(self, zone, name, query):
        for entry in self._zone_of(zone)["machine_types"]:
            if entry["name"] == name:
                return self._machine_type_resource(zone, entry)
        raise not_found("projects/%s/zones/%s/machineTypes/%s" % (self.project, zone, name))

    def _accelerator_type_resource(self, zone, entry):
        name = entry["name"]
        resource = {"kind": "compute#acceleratorType", "id": _id(zone + name), "creationTimestamp": CREATED,
                    "name": name, "description": GPU_DESCRIPTIONS.get(name, name), "zone": self._link("zones", zone),
                    "selfLink": self._link("zones", zone, "acceleratorTypes", name), "maximumCardsPerInstance": 4}
        if entry.get("deprecated"):
            resource["deprecated"] = dict(entry["deprecated"])
        return resource

    def _accelerator_types(self, zone, query):
        items = [self._accelerator_type_resource(zone, entry) for entry in self._zone_of(zone)["accelerator_types"]]
        return self._page("compute#acceleratorTypeList",
                          "projects/%s/zones/%s/acceleratorTypes" % (self.project, zone),
                          self._link("zones", zone, "acceleratorTypes"), items, query)

    def _accelerator_type(self, zone, name, query):
        for entry in self._zone_of(zone)["accelerator_types"]:
            if entry["name"] == name:
                return self._accelerator_type_resource(zone, entry)
        raise not_found("projects/%s/zones/%s/acceleratorTypes/%s" % (self.project, zone, name))

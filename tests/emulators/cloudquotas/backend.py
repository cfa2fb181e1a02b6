"""The Cloud Quotas API v1 stand-in's state and answers: ``quotaInfos`` list and get under
``projects/P/locations/global/services/S``.

What it follows, and where from:
- Resource: ``QuotaInfo`` of the v1 REST reference (``name``, ``quotaId``, ``metric``, ``service``, ``isPrecise``,
  ``containerType``, ``dimensions``, display names, ``metricUnit``, ``quotaIncreaseEligibility``, ``isFixed``,
  ``dimensionsInfos``, ``isConcurrent``); ``dimensionsInfos[]`` are
  ``{dimensions, details: {value}, applicableLocations}`` ordered from the most specific to the least,
  ``details.value`` an int64 and so a JSON string. A dimension left out of an entry means every value without an
  entry of its own; ``applicableLocations`` lists the regions it covers.
- Usage: QuotaInfo has no usage field, so none is served (the docs read usage from Cloud Monitoring).
- Enums: integers when the query carries ``$alt=json;enum-encoding=int`` (what the REST client sends), names
  otherwise.
- Paging: ``pageSize`` and ``pageToken``; ``nextPageToken`` while more remain. The reference only says the server
  picks a default size: 100 here, and at most 1000, are the stand-in's own choices.
- Errors: the JSON error body of Google's v1 APIs, ``{"error": {"code", "message", "status", "details"}}`` with a
  ``google.rpc.ErrorInfo``; a location other than ``global`` is 400 (the reference: "The ID component following
  locations/ must be global"), an unknown project 403 "Permission denied on resource project P.", an unknown quota
  404, throttling 429 RESOURCE_EXHAUSTED. Message texts other than the quoted ones are the stand-in's.
"""

import copy
import re

from ..json_api import ControlError, EmulatorError, page_offset, page_token

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
CONTAINER_TYPES = {"CONTAINER_TYPE_UNSPECIFIED": 0, "PROJECT": 1, "FOLDER": 2, "ORGANIZATION": 3}
_SERVICE_PATH = r"^/v1/projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)/services/(?P<service>[^/]+)"
_LIST = re.compile(_SERVICE_PATH + r"/quotaInfos$")
_GET = re.compile(_SERVICE_PATH + r"/quotaInfos/(?P<quota_id>[^/]+)$")
_STATUS_CODES = {"INVALID_ARGUMENT": 400, "PERMISSION_DENIED": 403, "NOT_FOUND": 404, "RESOURCE_EXHAUSTED": 429,
                 "UNAVAILABLE": 503, "INTERNAL": 500}


def _error(status, reason, message, **metadata):
    err = EmulatorError(_STATUS_CODES[status], status, reason, message)
    err.metadata = metadata
    return err


def _value(value, field):
    if isinstance(value, bool):
        raise ControlError("%s must be a whole number, got %r" % (field, value))
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ControlError("%s must be a whole number, got %r" % (field, value))


class CloudQuotasBackend:
    """Seeded state: ``{"project", "project_number", "regions": [...], "quota_infos": [{"service", "quota_id",
    "metric", "dimensions": [...], "values": [{"dimensions": {...}, "value": N, "applicable_locations": [...]}]}]}``
    (see README.md)."""

    def __init__(self):
        self.project = None
        self.project_number = None
        self.regions = []
        self.infos = {}  # (service, quota_id) -> seed entry

    # ------------------------------------------------------------------ seeding

    def seed(self, data):
        if not isinstance(data, dict) or not data.get("project"):
            raise ControlError("a seed needs a project")
        infos = {}
        for entry in data.get("quota_infos") or []:
            if not isinstance(entry, dict) or not entry.get("quota_id"):
                raise ControlError("every quota info needs a quota_id, got %r" % (entry,))
            item = {"service": entry.get("service", "compute.googleapis.com"), "quota_id": entry["quota_id"],
                    "metric": entry.get("metric") or "compute.googleapis.com/%s" % entry["quota_id"].lower(),
                    "dimensions": list(entry.get("dimensions") or ["region"]),
                    "display_name": entry.get("display_name") or entry["quota_id"], "values": []}
            for value in entry.get("values") or []:
                item["values"].append(self._value_entry(item, value))
            infos[(item["service"], item["quota_id"])] = item
        self.project = data["project"]
        self.project_number = str(data.get("project_number") or "")
        self.regions = list(data.get("regions") or [])
        self.infos = infos

    @staticmethod
    def _value_entry(item, value):
        field = "quota_infos[%s].values" % item["quota_id"]
        if not isinstance(value, dict) or "value" not in value:
            raise ControlError("%s entries need a value, got %r" % (field, value))
        dimensions = dict(value.get("dimensions") or {})
        unknown = sorted(set(dimensions) - set(item["dimensions"]))
        if unknown:
            raise ControlError("%s: %s is not a dimension of the quota (%s)"
                               % (field, ", ".join(unknown), ", ".join(item["dimensions"])))
        return {"dimensions": dimensions, "value": _value(value["value"], field + ".value"),
                "applicable_locations": value.get("applicable_locations")}

    def set_value(self, quota_id, dimensions, value, service="compute.googleapis.com"):
        """Set (value None: remove) the entry of a quota for exactly these dimensions; creates the quota."""
        key = (service, quota_id)
        if key not in self.infos:
            self.infos[key] = {"service": service, "quota_id": quota_id, "metric": "%s/%s" % (service,
                               quota_id.lower()), "dimensions": sorted(set(["region"]) | set(dimensions)),
                               "display_name": quota_id, "values": []}
        item = self.infos[key]
        item["values"] = [v for v in item["values"] if v["dimensions"] != dimensions]
        if value is not None:
            item["values"].append(self._value_entry(item, {"dimensions": dimensions, "value": value}))

    def remove(self, quota_id, service="compute.googleapis.com"):
        self.infos.pop((service, quota_id), None)

    def control(self, method, name, body):
        if name == "seed" and method == "POST":
            self.seed(body)
            return {"quota_infos": sorted(quota_id for _service, quota_id in self.infos)}
        if name == "quota" and method == "POST":
            if not body.get("quota_id"):
                raise ControlError("a quota value needs a quota_id")
            self.set_value(body["quota_id"], dict(body.get("dimensions") or {}), body.get("value"),
                           body.get("service", "compute.googleapis.com"))
            return {}
        if name == "quota" and method == "DELETE":
            self.remove(body.get("quota_id"), body.get("service", "compute.googleapis.com"))
            return {}
        if name == "state" and method == "GET":
            return {"project": self.project, "quota_infos": [copy.deepcopy(v) for v in self.infos.values()]}
        raise ControlError("no control endpoint %s /_emulator/%s" % (method, name))

    # ------------------------------------------------------------------ errors and faults

    @staticmethod
    def error_body(err):
        error = {"code": err.http_code, "message": err.message, "status": err.status}
        if err.reason and err.reason.isupper():
            error["details"] = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": err.reason,
                                 "domain": "googleapis.com",
                                 "metadata": dict(getattr(err, "metadata", {}) or {},
                                                  service="cloudquotas.googleapis.com")}]
        return {"error": error}

    def fault_error(self, kind, opts, path):
        message = opts.get("message")
        if kind == "rate_limit":
            return _error("RESOURCE_EXHAUSTED", "RATE_LIMIT_EXCEEDED", message or (
                "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute' of service "
                "'cloudquotas.googleapis.com' for consumer 'project_number:%s'." % (self.project_number or "0")),
                quota_limit="ReadRequestsPerMinutePerProject")
        if kind == "http_503":
            return _error("UNAVAILABLE", "", message or "The service is currently unavailable.")
        status = opts.get("status", "INTERNAL")
        err = EmulatorError(int(opts.get("code", _STATUS_CODES.get(status, 500))), status, opts.get("reason", ""),
                            message or "Internal error encountered.")
        return err

    # ------------------------------------------------------------------ serving

    def serve(self, method, path, query):
        match = _GET.match(path) or _LIST.match(path)
        if not match or method != "GET":
            raise _error("NOT_FOUND", "", "Method not found.")
        args = match.groupdict()
        self._check_parent(args["project"], args["location"])
        int_enums = "enum-encoding=int" in query.get("$alt", query.get("alt", ""))
        if "quota_id" in args:
            return self._get(args, int_enums)
        return self._list(args, query, int_enums)

    def _check_parent(self, project, location):
        if self.project is None or project not in (self.project, self.project_number):
            raise _error("PERMISSION_DENIED", "CONSUMER_INVALID", "Permission denied on resource project %s."
                         % project, consumer="projects/%s" % project)
        if location != "global":
            raise _error("INVALID_ARGUMENT", "", "Invalid location '%s': the ID component following locations/ "
                                                 "must be global." % location)

    def _name(self, service, quota_id):
        return "projects/%s/locations/global/services/%s/quotaInfos/%s" % (
            self.project_number or self.project, service, quota_id)

    def _applicable(self, item, entry):
        if entry["applicable_locations"]:
            return list(entry["applicable_locations"])
        if "region" in entry["dimensions"]:
            return [entry["dimensions"]["region"]]
        if "region" not in item["dimensions"]:
            return ["global"]
        # Regions that have an entry of their own for the same other dimensions are not covered by this one.
        own = set(v["dimensions"]["region"] for v in item["values"] if "region" in v["dimensions"] and dict(
            (k, x) for k, x in v["dimensions"].items() if k != "region") == entry["dimensions"])
        return [region for region in self.regions if region not in own]

    def _resource(self, item, int_enums):
        ordered = sorted(item["values"], key=lambda v: -len(v["dimensions"]))
        return {
            "name": self._name(item["service"], item["quota_id"]), "quotaId": item["quota_id"],
            "metric": item["metric"], "service": item["service"], "isPrecise": True,
            "containerType": CONTAINER_TYPES["PROJECT"] if int_enums else "PROJECT",
            "dimensions": list(item["dimensions"]), "metricDisplayName": item["display_name"],
            "quotaDisplayName": item["display_name"], "metricUnit": "1",
            "quotaIncreaseEligibility": {"isEligible": True}, "isFixed": False, "isConcurrent": False,
            "dimensionsInfos": [{"dimensions": dict(entry["dimensions"]), "details": {"value": str(entry["value"])},
                                 "applicableLocations": self._applicable(item, entry)} for entry in ordered],
        }

    def _get(self, args, int_enums):
        item = self.infos.get((args["service"], args["quota_id"]))
        if item is None:
            raise _error("NOT_FOUND", "", "QuotaInfo '%s' not found." % self._name(args["service"], args["quota_id"]))
        return self._resource(item, int_enums)

    def _list(self, args, query, int_enums):
        items = [self._resource(item, int_enums) for (service, _id), item in sorted(self.infos.items())
                 if service == args["service"]]
        text = query.get("pageSize", "")
        if text and (not text.lstrip("-").isdigit() or int(text) < 0):
            raise _error("INVALID_ARGUMENT", "", "page_size must not be negative.")
        size = min(int(text), MAX_PAGE_SIZE) if text and int(text) > 0 else DEFAULT_PAGE_SIZE
        kind = "quotaInfos/%s/%s" % (args["project"], args["service"])
        offset = 0
        if query.get("pageToken"):
            offset = page_offset(query["pageToken"], kind)
            if offset is None:
                raise _error("INVALID_ARGUMENT", "", "Invalid page token.")
        page = {"quotaInfos": items[offset:offset + size]} if items[offset:offset + size] else {}
        if offset + size < len(items):
            page["nextPageToken"] = page_token(kind, offset + size)
        return page

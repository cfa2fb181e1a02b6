"""Google JSON errors, as container.googleapis.com returns them."""

# google.rpc.Code name -> (numeric code, HTTP status), per google/rpc/code.proto.
STATUS_CODES = {
    "CANCELLED": (1, 499),
    "UNKNOWN": (2, 500),
    "INVALID_ARGUMENT": (3, 400),
    "DEADLINE_EXCEEDED": (4, 504),
    "NOT_FOUND": (5, 404),
    "ALREADY_EXISTS": (6, 409),
    "PERMISSION_DENIED": (7, 403),
    "RESOURCE_EXHAUSTED": (8, 429),
    "FAILED_PRECONDITION": (9, 400),
    "ABORTED": (10, 409),
    "OUT_OF_RANGE": (11, 400),
    "UNIMPLEMENTED": (12, 501),
    "INTERNAL": (13, 500),
    "UNAVAILABLE": (14, 503),
    "DATA_LOSS": (15, 500),
    "UNAUTHENTICATED": (16, 401),
}


# google.rpc.Code name -> the legacy "errors[].reason" Google APIs put beside it. Seen from GKE: "badRequest"
# (HTTP 400, e.g. jetstack/terraform-google-gke-cluster 28), "forbidden" (quota, kaiwaehner/hivemq-mqtt-... 48),
# "failedPrecondition" (Terraform's retry predicate for "incompatible operation" reads it); the rest follow the
# googleapis JSON error convention.
REASONS = {
    "CANCELLED": "cancelled",
    "UNKNOWN": "backendError",
    "INVALID_ARGUMENT": "badRequest",
    "DEADLINE_EXCEEDED": "deadlineExceeded",
    "NOT_FOUND": "notFound",
    "ALREADY_EXISTS": "alreadyExists",
    "PERMISSION_DENIED": "forbidden",
    "RESOURCE_EXHAUSTED": "rateLimitExceeded",
    "FAILED_PRECONDITION": "failedPrecondition",
    "ABORTED": "aborted",
    "OUT_OF_RANGE": "outOfRange",
    "UNIMPLEMENTED": "notImplemented",
    "INTERNAL": "backendError",
    "UNAVAILABLE": "backendError",
    "DATA_LOSS": "backendError",
    "UNAUTHENTICATED": "unauthorized",
}


def rpc_code(status):
    """Numeric google.rpc.Code of a status name ("INVALID_ARGUMENT" -> 3)."""
    return STATUS_CODES[status][0]


class ApiError(Exception):
    """An error reply: HTTP status, google.rpc status name, message and optional details."""

    def __init__(self, status, message, http_code=None, details=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.http_code = http_code or STATUS_CODES[status][1]
        self.details = details or []

    def body(self):
        """The JSON body: {"error": {"code", "message", "errors": [{"message", "domain", "reason"}], "status"
        [, "details"]}}."""
        error = {"code": self.http_code, "message": self.message,
                 "errors": [{"message": self.message, "domain": "global",
                             "reason": REASONS.get(self.status, "backendError")}],
                 "status": self.status}
        if self.details:
            error["details"] = self.details
        return {"error": error}


def invalid_argument(message, field=None):
    """HTTP 400 INVALID_ARGUMENT, with a BadRequest field violation when the field is known."""
    details = None
    if field:
        details = [{
            "@type": "type.googleapis.com/google.rpc.BadRequest",
            "fieldViolations": [{"field": field, "description": message}],
        }]
    return ApiError("INVALID_ARGUMENT", message, details=details)


def failed_precondition(message):
    """HTTP 400 FAILED_PRECONDITION."""
    return ApiError("FAILED_PRECONDITION", message)


def not_found(resource_path):
    """HTTP 404 in GKE's words: "Not found: projects/P/locations/L/clusters/C."."""
    return ApiError("NOT_FOUND", "Not found: %s." % resource_path)


def already_exists(resource_path):
    """HTTP 409 in GKE's words: "Already exists: projects/P/locations/L/clusters/C/nodePools/N."."""
    return ApiError("ALREADY_EXISTS", "Already exists: %s." % resource_path)

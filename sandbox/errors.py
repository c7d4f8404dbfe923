"""The sibling ("ICON") error envelope used by every business error, and the login error body."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import orjson

# HTTP status -> default envelope code [SIBLING]; 404 and 503 codes are [SANDBOX]
DEFAULT_CODES = {
    400: "missing_or_invalid_param",
    401: "invalid_token",
    403: "forbiden",
    404: "not_found",
    405: "method_not_allowed",
    429: "too_many_request",
    500: "internal_server_error",
    503: "service_unavailable",
}


class ApiError(Exception):
    """A business error answered with the envelope: status, code and a human-readable message."""

    def __init__(self, status: int, message: str, code: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code or DEFAULT_CODES.get(status, "error")
        self.message = message
        self.headers = headers or {}


def envelope(status: int, url: str, code: str, message: str) -> bytes:
    """`{"httpCode", "url", "errorDate", "fishtag", "messages": [{"code", "message"}]}` as JSON bytes."""
    now = datetime.now(UTC)
    return orjson.dumps({
        "httpCode": status,
        "url": url,
        "errorDate": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z",
        "fishtag": uuid.uuid4().hex,
        "messages": [{"code": code, "message": message}],
    })


def login_error(kind: str, message: str) -> bytes:
    """Login failures: `{"__type": kind, "message": "kind: message"}` (HTTP 400) [SANDBOX]."""
    return orjson.dumps({"__type": kind, "message": f"{kind}: {message}"})

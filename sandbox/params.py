"""Parsing and validation of query parameters: dates, date windows, paging, required values."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sandbox.errors import ApiError
from sandbox.store import day_start

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class Window:
    """A half-open instant window [start, end) in seconds; None means unbounded on that side."""

    start: int | None
    end: int | None


@dataclass(frozen=True)
class Paging:
    page: int
    size: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size


def parse_date(name: str, value: str) -> date:
    """A strict `YYYY-MM-DD`; anything else is a 400 `missing_or_invalid_param` naming the parameter."""
    if not _DATE.match(value):
        raise ApiError(400, f"{name} must be a date YYYY-MM-DD (got {value!r})")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ApiError(400, f"{name} is not a valid calendar date (got {value!r})") from None


def parse_window(query, horizon: date) -> Window:
    """`dateFrom` (inclusive) / `dateTo` (exclusive), each `YYYY-MM-DD` = that day 00:00:00Z.

    A `dateFrom` before `horizon` (today - 2 years) is refused, naming the first date available; a
    missing `dateFrom` means the horizon itself.
    """
    raw_from, raw_to = query.get("dateFrom"), query.get("dateTo")
    start = parse_date("dateFrom", raw_from) if raw_from is not None else None
    end = parse_date("dateTo", raw_to) if raw_to is not None else None
    if start is not None and start < horizon:
        raise ApiError(400, f"dateFrom {start.isoformat()} is outside the two-year retention window: "
                            f"the first date available is {horizon.isoformat()}")
    if start is not None and end is not None and end <= start:
        raise ApiError(400, f"dateTo ({end.isoformat()}) must be after dateFrom ({start.isoformat()}); "
                            "dateTo is exclusive")
    return Window(day_start(start or horizon), day_start(end) if end is not None else None)


def parse_paging(query) -> Paging:
    """`page` (1-based, default 1) and `pageSize` (1..100, default 20)."""
    page = _int(query, "page", 1, 1, 10**9)
    size = _int(query, "pageSize", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    return Paging(page, size)


def _int(query, name: str, default: int, low: int, high: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    if not raw.isdigit():
        raise ApiError(400, f"{name} must be an integer between {low} and {high} (got {raw!r})")
    value = int(raw)
    if not low <= value <= high:
        raise ApiError(400, f"{name} must be between {low} and {high} (got {value})")
    return value


def required(query, name: str) -> str:
    """A required, non-blank parameter; missing is a 400 `missing_param`."""
    value = query.get(name)
    if value is None or not value.strip():
        raise ApiError(400, f"the query parameter {name} is required", code="missing_param")
    return value


def optional(query, name: str) -> str | None:
    """An optional parameter; blank counts as absent."""
    value = query.get(name)
    return value if value is not None and value.strip() else None


def envelope(key: str, items: list[bytes], count: int, paging: Paging) -> bytes:
    """A list answer: ``{"<key>": [items], "count", "page", "pageSize"}`` from items already encoded."""
    return b"".join((b'{"', key.encode(), b'":[', b",".join(items),
                     b'],"count":%d,"page":%d,"pageSize":%d}' % (count, paging.page, paging.size)))

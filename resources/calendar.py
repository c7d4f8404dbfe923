"""The calendar: GMT days, the API's two-year window, and a partition's API date window.

A partition key is a GMT calendar day ``YYYY-MM-DD``. Partition ``D`` covers the half-open window
``[D 00:00:00Z, D+1 00:00:00Z)``. CofaServe reads a date parameter as that day at 00:00 GMT, so the API
window sent for ``D`` is ``dateFrom=D``, ``dateTo=D+1``: :func:`api_window` is the one function that
makes this conversion (the client's ``DateWindow`` uses it), and nothing else in the project does date
arithmetic for API calls.

The API serves only the last two years (:func:`retention_start`). :func:`check_in_window` refuses a
partition outside ``[retention_start(today), today)`` with :class:`PartitionOutsideWindow` before any
call is made.

A pure leaf: it imports nothing of the project and reads no setting and no clock; "today" and the
contract start are arguments (the pipeline's settings hold them, ``resources/settings.py``).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

RETENTION_YEARS = 2
"""CofaServe serves the last two years of data [DOC]."""

_KEY_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ONE_DAY = timedelta(days=1)


class InvalidPartitionKey(ValueError):
    """A partition key (or date setting) is not a real calendar day written ``YYYY-MM-DD``."""


class PartitionOutsideWindow(ValueError):
    """A partition cannot be fetched from the API: it is older than the retention window, before the
    contract start, or not a complete GMT day yet."""

    def __init__(self, partition_key: str, reason: str, first_available: date, last_available: date):
        self.partition_key = partition_key
        self.reason = reason
        self.first_available = first_available
        self.last_available = last_available
        if first_available <= last_available:
            available = f"available partitions are {first_available.isoformat()} to {last_available.isoformat()}"
        else:
            available = "no partition is available yet"
        super().__init__(f"partition {partition_key} is refused: {reason}; {available} (GMT days)")


def parse_partition_key(partition_key: str) -> date:
    """Return the day named by ``partition_key``.

    Promises: only the exact form ``YYYY-MM-DD`` naming a real calendar day is accepted (no time, no
    offset, no compact ``YYYYMMDD``); anything else raises :class:`InvalidPartitionKey` saying what was
    expected.
    """
    if not isinstance(partition_key, str) or not _KEY_RE.fullmatch(partition_key):
        raise InvalidPartitionKey(
            f"partition key {partition_key!r} is malformed: expected a GMT day written YYYY-MM-DD"
        )
    try:
        return date.fromisoformat(partition_key)
    except ValueError as exc:
        raise InvalidPartitionKey(f"partition key {partition_key!r} is not a calendar day: {exc}") from None


def partition_key_for(moment: datetime) -> str:
    """Return the key of the GMT day that contains ``moment`` (which must carry a time zone).

    ``D 23:59:59Z`` belongs to ``D``; ``D+1 00:00:00Z`` belongs to ``D+1``. A local time is converted to
    GMT first, so a DST change in any zone never splits or merges a partition.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment!r} has no time zone; a partition is a GMT day, so the zone is needed")
    return moment.astimezone(UTC).date().isoformat()


def api_window(first_day: date, last_day: date) -> tuple[date, date]:
    """Return the API date window ``(dateFrom, dateTo)`` covering the GMT days ``first_day`` to ``last_day``,
    both included: half-open ``[first, last + 1)``.

    Send ``dateFrom=first`` and ``dateTo=last+1``: the API reads both as 00:00:00 GMT, so the window holds
    every instant of those days and nothing else. A reversed range raises :class:`InvalidPartitionKey`.
    """
    if last_day < first_day:
        raise InvalidPartitionKey(f"day range {first_day}..{last_day} is reversed: the start is after the end")
    return first_day, last_day + _ONE_DAY


def api_window_for(partition_key: str) -> tuple[date, date]:
    """Return the API date window ``(dateFrom, dateTo)`` for one partition: half-open ``[D, D+1)``."""
    day = parse_partition_key(partition_key)
    return api_window(day, day)


def api_window_for_range(start_key: str, end_key: str) -> tuple[date, date]:
    """Return the API window covering the partitions ``start_key`` to ``end_key``, both included.

    The window is half-open ``[start, end + 1 day)``, as Dagster's partition ranges are inclusive.
    """
    start, end_day = parse_partition_key(start_key), parse_partition_key(end_key)
    if end_day < start:
        raise InvalidPartitionKey(f"partition range {start_key}..{end_key} is reversed: the start is after the end")
    return api_window(start, end_day)


def retention_start(today: date) -> date:
    """Return the first day the API still serves on ``today``: ``today`` minus two years.

    When that day does not exist (``today`` is 29 February) the result is 1 March: the later of the two
    candidates, so the pipeline never asks for a day the API may already refuse.
    """
    try:
        return today.replace(year=today.year - RETENTION_YEARS)
    except ValueError:  # 29 February two years before a leap year's 29 February
        return date(today.year - RETENTION_YEARS, 3, 1)


def utc_today() -> date:
    """Return the current GMT calendar day, by the wall clock."""
    return datetime.now(UTC).date()


def parse_setting_day(name: str, raw: str) -> date:
    """Return the day a date setting names (``YYYY-MM-DD``); a malformed value raises
    :class:`InvalidPartitionKey` naming the setting."""
    try:
        return parse_partition_key(raw.strip())
    except InvalidPartitionKey as exc:
        raise InvalidPartitionKey(f"setting {name}: {exc}") from None


def first_partition(today: date, start: date | None = None) -> date:
    """Return the first partition the calendar offers on ``today``.

    It is the contract start when set, but never earlier than the API's retention start.
    """
    horizon = retention_start(today)
    return horizon if start is None else max(start, horizon)


def check_in_window(partition_key: str, today: date, start: date | None = None) -> date:
    """Return the partition's day if the API can serve it on ``today``; raise otherwise.

    Available days are ``first_partition(today, start)`` to ``today - 1`` (the last complete GMT day).
    A malformed key raises :class:`InvalidPartitionKey`; a day outside that range raises
    :class:`PartitionOutsideWindow`, whose message says why and which days are available. Call this
    before any API request for the partition.
    """
    day = parse_partition_key(partition_key)
    first, last = first_partition(today, start), today - _ONE_DAY
    horizon = retention_start(today)
    if day < horizon:
        reason = (
            f"it is older than the API's two-year retention window, which starts at {horizon.isoformat()} "
            f"on {today.isoformat()}"
        )
    elif start is not None and day < start:
        reason = f"it is before the contract start {start.isoformat()} (COFASERVE_CONTRACT_START)"
    elif day > last:
        reason = f"it is not a complete GMT day yet on {today.isoformat()}"
    else:
        return day
    raise PartitionOutsideWindow(partition_key, reason, first, last)

"""The partition calendar: daily GMT partitions inside the API's two-year window.

A partition key is a GMT calendar day ``YYYY-MM-DD``. Partition ``D`` covers the half-open window
``[D 00:00:00Z, D+1 00:00:00Z)``. CofaServe reads a date parameter as that day at 00:00 GMT, so the API
window sent for ``D`` is ``dateFrom=D``, ``dateTo=D+1``: :func:`api_window_for` is the one function that
makes this conversion, and nothing else in the project does date arithmetic for API calls.

The API serves only the last two years (:func:`retention_start`). :func:`check_in_window` refuses a
partition outside ``[retention_start(today), today)`` with :class:`PartitionOutsideWindow` before any
call is made.

This module is a leaf: it imports nothing of the project, so assets, schedules and tests can all use it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta

from dagster import DailyPartitionsDefinition

CONTRACT_START_SETTING = "COFASERVE_CONTRACT_START"
"""Environment setting: first day (``YYYY-MM-DD``) the contract has data for."""

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


def api_window_for(partition_key: str) -> tuple[date, date]:
    """Return the API date window ``(dateFrom, dateTo)`` for one partition: half-open ``[D, D+1)``.

    Send ``dateFrom=D`` and ``dateTo=D+1``: the API reads both as 00:00:00 GMT, so the window holds every
    instant of day ``D`` and nothing else.
    """
    day = parse_partition_key(partition_key)
    return day, day + _ONE_DAY


def api_window_for_range(start_key: str, end_key: str) -> tuple[date, date]:
    """Return the API window covering the partitions ``start_key`` to ``end_key``, both included.

    The window is half-open ``[start, end + 1 day)``, as Dagster's partition ranges are inclusive.
    """
    start, _ = api_window_for(start_key)
    end_day, end = api_window_for(end_key)
    if end_day < start:
        raise InvalidPartitionKey(f"partition range {start_key}..{end_key} is reversed: the start is after the end")
    return start, end


def retention_start(today: date) -> date:
    """Return the first day the API still serves on ``today``: ``today`` minus two years.

    When that day does not exist (``today`` is 29 February) the result is 1 March: the later of the two
    candidates, so the pipeline never asks for a day the API may already refuse.
    """
    try:
        return today.replace(year=today.year - RETENTION_YEARS)
    except ValueError:  # 29 February two years before a leap year's 29 February
        return date(today.year - RETENTION_YEARS, 3, 1)


TODAY_SETTING = "COFASYNC_TODAY"
"""Environment setting: pins "today" (``YYYY-MM-DD``), for a sandbox whose virtual clock is not the real
date. Unset in production, where today is the current GMT day."""


def utc_today(env: Mapping[str, str] | None = None) -> date:
    """Return today's GMT calendar day, or the day pinned by ``COFASYNC_TODAY`` when it is set."""
    raw = (os.environ if env is None else env).get(TODAY_SETTING, "").strip()
    if raw:
        try:
            return parse_partition_key(raw)
        except InvalidPartitionKey as exc:
            raise InvalidPartitionKey(f"setting {TODAY_SETTING}: {exc}") from None
    return datetime.now(UTC).date()


def contract_start(env: Mapping[str, str] | None = None) -> date | None:
    """Return the ``COFASERVE_CONTRACT_START`` setting as a date, or None when it is not set.

    A malformed value raises :class:`InvalidPartitionKey` naming the setting.
    """
    raw = (os.environ if env is None else env).get(CONTRACT_START_SETTING, "").strip()
    if not raw:
        return None
    try:
        return parse_partition_key(raw)
    except InvalidPartitionKey as exc:
        raise InvalidPartitionKey(f"setting {CONTRACT_START_SETTING}: {exc}") from None


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
        reason = f"it is before the contract start {start.isoformat()} ({CONTRACT_START_SETTING})"
    elif day > last:
        reason = f"it is not a complete GMT day yet on {today.isoformat()}"
    else:
        return day
    raise PartitionOutsideWindow(partition_key, reason, first, last)


def build_daily_partitions(
    today: date | None = None, env: Mapping[str, str] | None = None
) -> DailyPartitionsDefinition:
    """Return the daily GMT partitions definition for ``today`` (default: the current GMT day).

    Starts at :func:`first_partition` of the ``COFASERVE_CONTRACT_START`` setting; ``timezone="UTC"``
    and ``end_offset=0``, so the last partition is the last complete GMT day.
    """
    pinned = today is not None or bool((os.environ if env is None else env).get(TODAY_SETTING, "").strip())
    today = utc_today(env) if today is None else today
    start = first_partition(today, contract_start(env))
    # with a pinned (virtual) today the last partition is that today's yesterday, not the real one's
    return DailyPartitionsDefinition(
        start_date=start.isoformat(), timezone="UTC", end_offset=0, fmt="%Y-%m-%d",
        end_date=today.isoformat() if pinned else None,
    )


daily_partitions = build_daily_partitions()
"""The definition the assets use, built when the code location loads. Because the retention start moves
every day, a long-lived code server may offer a day that has just left the window:
:func:`check_in_window` still refuses it before any call."""

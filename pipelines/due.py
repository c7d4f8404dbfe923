"""What is due: the GMT days whose nightly extraction has not landed yet, as contiguous ranges.

One implementation, used by the nightly schedule (which also catches up missed nights) and by
`cofasync sync`. The landing zone's manifests are the truth: a day is done when every daily stream has a
current manifest for it.
"""

from __future__ import annotations

from datetime import date, timedelta

from resources.calendar import first_partition
from resources.streams import daily_streams

DAILY_STREAMS = daily_streams()
_ONE_DAY = timedelta(days=1)


def landed_days(store) -> set[date]:
    """Return the days for which every daily stream has a current manifest."""
    per_stream = []
    for stream in DAILY_STREAMS:
        per_stream.append({p for p in store.partitions(stream) if isinstance(p, date)})
    return set.intersection(*per_stream) if per_stream else set()


def missing_ranges(done: set[date], first: date, last: date) -> list[tuple[date, date]]:
    """Return the contiguous ranges (first day, last day, both included) of days in [first, last] not
    in ``done``, oldest first."""
    ranges: list[tuple[date, date]] = []
    day = first
    while day <= last:
        if day in done:
            day += _ONE_DAY
            continue
        start = day
        while day <= last and day not in done:
            day += _ONE_DAY
        ranges.append((start, day - _ONE_DAY))
    return ranges


def due_ranges(store, today: date, contract_start: date | None = None) -> list[tuple[date, date]]:
    """Return the ranges of days due on ``today``: every day from the first available partition (the
    contract start, never before the API's window) up to yesterday that has not fully landed."""
    return missing_ranges(landed_days(store), first_partition(today, contract_start), today - _ONE_DAY)


def partition_range_tags(first: date, last: date) -> dict[str, str]:
    """The run tags that make one Dagster run cover the partitions ``first`` to ``last`` (a single-run
    backfill)."""
    return {
        "dagster/asset_partition_range_start": first.isoformat(),
        "dagster/asset_partition_range_end": last.isoformat(),
    }

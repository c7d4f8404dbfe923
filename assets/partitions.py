"""The Dagster partitions of the daily extraction assets, from the calendar's days."""

from __future__ import annotations

from datetime import date

from dagster import DailyPartitionsDefinition


def daily_partitions(start: date, pinned_today: date | None = None) -> DailyPartitionsDefinition:
    """Daily GMT partitions from ``start`` (a fixed day: the contract start, or the first day the API
    served when the code location was wired) to the last complete GMT day; ``timezone="UTC"``,
    ``end_offset=0``. With a pinned (virtual) today the last partition is that today's yesterday, whatever
    the wall clock. A day that has since left the API's window is still offered, and refused at run time
    before any call (``CalendarResource.run_days``)."""
    return DailyPartitionsDefinition(
        start_date=start.isoformat(), timezone="UTC", end_offset=0, fmt="%Y-%m-%d",
        end_date=pinned_today.isoformat() if pinned_today else None,
    )

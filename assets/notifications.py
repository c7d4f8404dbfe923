"""Notifications: every decision change Coface notified in a range of GMT days (one row per notification)."""

from __future__ import annotations

from datetime import date

from resources.cofaserve import DateWindow
from resources.landing import LandingStore

from .extraction import LandedSummary, land_records

STREAM = "notifications"


def extract_notifications(client, store: LandingStore, days: list[date], run_id: str) -> LandedSummary:
    """Land the notifications whose event lies in ``days`` (one list query for the whole range),
    each in the partition of its GMT event day."""
    window = DateWindow.covering(days[0], days[-1])
    records = client.iter_notifications(window)
    summary = land_records(store, STREAM, days, run_id, window.to_params(), records,
                           day_of=lambda row: row["event_at"].date())
    summary.reported_total = getattr(records, "reported_total", None)
    summary.api_window = window.to_params()
    return summary

"""Portfolio: the last decision (or pending order) per company × product whose event fell in a range of
GMT days; and the reconciliation snapshot, the full portfolio as listed on one day."""


from collections.abc import Mapping
from datetime import date

from resources.cofaserve import DateWindow
from resources.landing import LandingStore

from .extraction import LandedSummary, land_records

STREAM = "portfolio"
SNAPSHOT_STREAM = "portfolio_snapshot"


def portfolio_event_day(row: Mapping) -> date | None:
    """The GMT day of a portfolio row's event, the instant the API's date window filters on: its latest
    decision or order status change, whichever is later (the order date when neither is given)."""
    moments = [m for m in (row.get("decision_at"), row.get("order_status_at")) if m is not None]
    return max(moments).date() if moments else row.get("order_date")


def extract_portfolio(client, store: LandingStore, days: list[date], run_id: str) -> LandedSummary:
    """Land the portfolio rows whose event lies in ``days`` (one list query for the whole range),
    each in the partition of its event day."""
    window = DateWindow.covering(days[0], days[-1])
    records = client.iter_portfolio(window=window)
    summary = land_records(store, STREAM, days, run_id, window.to_params(), records, day_of=portfolio_event_day)
    summary.reported_total = getattr(records, "reported_total", None)
    summary.api_window = window.to_params()
    return summary


def extract_portfolio_snapshot(client, store: LandingStore, as_of: date, run_id: str) -> LandedSummary:
    """Land the whole portfolio as the API lists it now, under the partition ``as_of``.

    This is the only extract that may show a record's absence: the warehouse closes what a snapshot no
    longer lists (aged out past the two-year window, or removed).
    """
    records = client.iter_portfolio()
    summary = land_records(store, SNAPSHOT_STREAM, [as_of], run_id, None, records, day_of=lambda row: as_of)
    summary.reported_total = getattr(records, "reported_total", None)
    summary.api_window = None
    return summary

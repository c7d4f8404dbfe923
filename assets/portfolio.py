"""Portfolio: the last decision (or pending order) per company × product whose event fell in a range of
GMT days; and the reconciliation snapshot, the full portfolio as listed on one day."""


from datetime import date

import dagster as dg

from pipelines.partitions import utc_today
from resources.cofaserve import DateWindow
from resources.landing import LandingStore

from .extraction import LandedSummary, land_records
from .runtime import (
    API_POOL,
    OWNERS,
    TRANSIENT_RETRY,
    daily_extraction_asset,
    landing_check_specs,
    landing_checks,
    open_client,
    summary_metadata,
    telemetry_delta,
)

STREAM = "portfolio"
SNAPSHOT_STREAM = "portfolio_snapshot"


def portfolio_event_day(row: dict) -> date | None:
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


portfolio_asset = daily_extraction_asset(
    STREAM,
    "One row per company × product whose last decision (or pending order) fell on the partition's GMT "
    "day, as the portfolio listed it.",
    extract_portfolio,
)


@dg.asset(
    name=SNAPSHOT_STREAM,
    description="The whole portfolio as listed on the snapshot's GMT day (one row per company × product); "
    "weekly and on demand. The only extract that may close a record for being absent.",
    pool=API_POOL,
    retry_policy=TRANSIENT_RETRY,
    group_name="extract",
    kinds={"python", "parquet"},
    owners=OWNERS,
    check_specs=landing_check_specs(SNAPSHOT_STREAM),
    required_resource_keys={"cofaserve", "landing"},
)
def portfolio_snapshot_asset(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """Land a reconciliation snapshot of the full portfolio under today's GMT day."""
    landing = context.resources.landing
    with open_client(context.resources.cofaserve) as client:
        before = client.telemetry.snapshot()
        summary = extract_portfolio_snapshot(client, landing.store(), utc_today(), context.run_id)
        api = telemetry_delta(before, client.telemetry.snapshot())
    return dg.MaterializeResult(
        metadata=summary_metadata(summary, api),
        check_results=landing_checks(summary, context.asset_key, landing.quarantine_threshold),
    )

"""The jobs: what each schedule, sensor or CLI command runs."""

from __future__ import annotations

import dagster as dg

DAILY_EXTRACT = ["notifications", "portfolio", "deliveries", "orders", "overdues", "overdue_documents"]
REFERENCE = ["countries", "country_identifiers", "customer_references", "policies"]

nightly_job = dg.define_asset_job(
    "nightly_extract",
    selection=dg.AssetSelection.assets(*DAILY_EXTRACT),
    description="Extract the changes of one or more GMT days (a range runs as one single-run backfill).",
)

models_job = dg.define_asset_job(
    "refresh_models",
    selection=dg.AssetSelection.assets(*REFERENCE) | dg.AssetSelection.groups("staging", "history", "marts"),
    description="Refresh the reference lists, then rebuild the warehouse models from the landing zone.",
)

snapshot_job = dg.define_asset_job(
    "reconciliation_snapshot",
    selection=dg.AssetSelection.assets("portfolio_snapshot"),
    description="Land a snapshot of the full portfolio (detects removals and records aging out).",
)

order_polls_job = dg.define_asset_job(
    "repoll_pending_orders",
    selection=dg.AssetSelection.assets("order_polls"),
    description="Re-poll orders still pending, temporary Z EASY numbers included.",
)

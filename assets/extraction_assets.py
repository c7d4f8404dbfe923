"""The single-stream extraction assets: each wraps its stream module's plain extraction function.

The stream modules (``notifications``, ``portfolio``, ``deliveries``, ``orders``) import no Dagster, so a
script, a benchmark or a test can run an extraction without loading the orchestrator; this module adds
the Dagster side (partitions, checks, metadata) through :func:`assets.runtime.extraction_asset`.
"""

from . import deliveries, notifications, orders, portfolio
from .runtime import extraction_asset

notifications_asset = extraction_asset(
    notifications.STREAM,
    "One row per CofaServe notification (a decision change), in the partition of its GMT event day.",
    notifications.extract_notifications,
)


portfolio_asset = extraction_asset(
    portfolio.STREAM,
    "One row per company × product whose last decision (or pending order) fell on the partition's GMT "
    "day, as the portfolio listed it.",
    portfolio.extract_portfolio,
)


portfolio_snapshot_asset = extraction_asset(
    portfolio.SNAPSHOT_STREAM,
    "The whole portfolio as listed on the snapshot's GMT day (one row per company × product); weekly and "
    "on demand. The only extract that may close a record for being absent.",
    portfolio.extract_portfolio_snapshot,
    daily=False,
)


deliveries_asset = extraction_asset(
    deliveries.STREAM,
    "One row per decision (delivery) new or changed on the partition's GMT day, with its full detail; "
    "fetched only for the decisions that day's notifications and portfolio rows mention.",
    deliveries.extract_deliveries,
    deps=("notifications", "portfolio"),
)


orders_asset = extraction_asset(
    orders.STREAM,
    "One row per order mentioned by the partition's GMT day (new, pending or decided), in its state at "
    "extraction time.",
    orders.extract_orders,
    deps=("notifications", "portfolio"),
)


order_polls_asset = extraction_asset(
    orders.REPOLL_STREAM,
    "One row per order still pending (temporary Z EASY numbers included) at each re-poll, under the GMT "
    "day of the poll; stops once an order reaches a final status.",
    orders.repoll_pending_orders,
    deps=(orders.STREAM,),
    daily=False,
)

"""Orders: the current state of each order that a change in a range of GMT days mentioned, and what the
landed orders say of each order's latest state (which the re-polls of pending orders read)."""


from datetime import UTC, date, datetime, timedelta

import pyarrow as pa
import pyarrow.compute as pc

from resources.landing import LandedSummary, LandingStore, land_dated_records

from .upstream import fetch_in_day_order, landed_by_day, landed_while_settling, quarantined_items, text

STREAM = "orders"
REPOLL_STREAM = "order_polls"

FINAL_STATUSES = frozenset({"STATUS_CLOSED", "STATUS_REJECTED", "STATUS_ANNULED"})
"""Order statuses after which an order never changes again [DOC]; every other status is re-polled."""


def changed_orders(store: LandingStore, days: list[date]) -> dict[str, tuple[str, date]]:
    """Return {orderId: (easyNumber to ask with, day)} for every order the landed portfolio rows and
    notifications of ``days`` mention and that was not already final before those days, in day order;
    the latest mention wins the day.

    A decision change on an order that was closed long ago does not change the order, so it costs no
    call. Only landings from before the run's first day are consulted, so re-running a day selects the
    same orders as its first run did.
    """
    known = latest_order_states(store, before=days[0])
    wanted: dict[str, tuple[str, date]] = {}

    def mention(order, easy, day):
        if order and known.get(order, (None, None, None))[2] not in FINAL_STATUSES:
            wanted.pop(order, None)
            wanted[order] = (easy, day)

    rows = landed_by_day(store, "portfolio", days, ["order_id", "easy_number", "temporary_easy_number"])
    notes = landed_by_day(store, "notifications", days, ["order_id", "easy_number"])
    damaged_notes = quarantined_items(store, "notifications", days)
    damaged_companies = quarantined_items(store, "portfolio", days)
    for day in days:
        for order, easy, temp in rows.get(day, ()):
            mention(order, easy or temp, day)
        for order, easy in notes.get(day, ()):
            mention(order, easy, day)
        # a damaged notification or portfolio company still names its orders
        for raw in damaged_notes.get(day, ()):
            if text(raw.get("orderId")) and text(raw.get("easyNumber")):
                mention(raw["orderId"], raw["easyNumber"], day)
        for raw in damaged_companies.get(day, ()):
            products = raw.get("products") if isinstance(raw.get("products"), list) else []
            for product in products:
                if isinstance(product, dict) and text(product.get("orderId")):
                    easy = text(raw.get("easyNumber")) or text(product.get("temporaryEasyNumber"))
                    if easy:
                        mention(product["orderId"], easy, day)
    landed = landed_while_settling(store, STREAM, days, ["order_id"], ("orderId", "id"))  # fetched already
    return dict(sorted(((order, where) for order, where in wanted.items() if order not in landed.get(where[1], ())),
                       key=lambda item: item[1][1]))


def land(client, store: LandingStore, days: list[date], run_id: str) -> LandedSummary:
    """Land the current state of every order mentioned by the landed portfolio and notifications of
    ``days``, each in the partition of the day that last mentioned it."""
    wanted = changed_orders(store, days)
    pairs = fetch_in_day_order(client, client.get_order, wanted, what="order")
    summary = land_dated_records(store, STREAM, days, run_id, pairs, expected=len(wanted))
    summary.reported_total = len(wanted)
    return summary


def latest_order_states(store: LandingStore, before: date | None = None) -> dict[str, tuple]:
    """Return {orderId: (extracted_at, easyNumber to ask with, status)}: the latest landed state of each
    order across the nightly orders and the re-polls, counting only partitions before ``before`` when
    given."""
    latest: dict[str, tuple] = {}
    for stream in (STREAM, REPOLL_STREAM):
        table = store.read_table(stream, columns=["order_id", "easy_number", "temporary_easy_number",
                                                  "status", "_extracted_at", "_partition"])
        if table.num_rows == 0:
            continue
        keep = pc.invert(pc.is_null(table["order_id"]))
        if before is not None:
            keep = pc.and_(keep, pc.less(table["_partition"], pa.scalar(before, pa.date32())))
        table = table.filter(keep)
        for order, easy, temp, status, seen, _ in zip(*(table[c].to_pylist() for c in table.column_names),
                                                      strict=True):
            if order not in latest or seen > latest[order][0]:
                latest[order] = (seen, easy or temp, status)
    return latest


REPOLL_AFTER = timedelta(days=7)
"""A pending order is re-polled once nothing was heard of it for this many whole GMT days, counted on
the pipeline's clock (``COFASYNC_NOW`` when set), like the days it lands. Every order status change
moves the order's portfolio event date, so the nightly extraction sees it the day it happens; the re-poll
is the safety net for an order the API stays silent about."""


def pending_orders(store: LandingStore, quiet_for: timedelta | None | str = "default",
                   now: datetime | None = None) -> dict[str, str]:
    """Return {orderId: easyNumber to ask with} for every landed order whose latest known state is not
    final, across the nightly orders and the earlier re-polls, and (unless ``quiet_for`` is None) was
    last extracted at least ``quiet_for`` (default :data:`REPOLL_AFTER`) GMT days before ``now`` (default:
    the store's clock). Days, not hours: a nightly run a few minutes earlier than last week's still
    re-polls."""
    quiet_for = REPOLL_AFTER if quiet_for == "default" else quiet_for
    today = (store.clock() if now is None else now).astimezone(UTC).date()
    return {order: easy for order, (seen, easy, status) in sorted(latest_order_states(store).items())
            if status not in FINAL_STATUSES
            and (quiet_for is None or today - _gmt_day(seen) >= quiet_for)}


def _gmt_day(moment: datetime) -> date:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC).date()

"""Deliveries: the full detail of each decision that was new or changed in a range of GMT days.

Which deliveries to fetch comes from the landed notifications and portfolio rows of those days (by
externalId, or deliveryId when a portfolio row has no externalId), never from "all deliveries": the
cost of a night grows with the number of changes, not with the size of the portfolio.
"""

from __future__ import annotations

from datetime import date

from resources.landing import LandedSummary, LandingStore, land_dated_records

from .upstream import fetch_in_day_order, landed_by_day, landed_while_settling, quarantined_items, text

STREAM = "deliveries"


def changed_deliveries(store: LandingStore, days: list[date]) -> dict[str, tuple[str, date]]:
    """Return {externalId or deliveryId: (easyNumber, day)} for every decision the landed notifications
    and portfolio rows of ``days`` mention, one entry per decision, in day order, but those a settling
    day holds already."""
    wanted: dict[str, tuple[str, date]] = {}
    notes = landed_by_day(store, "notifications", days, ["external_id", "easy_number"])
    rows = landed_by_day(store, "portfolio", days, ["external_id", "delivery_id", "easy_number"])
    damaged = quarantined_items(store, "notifications", days)
    for day in days:
        for ext, easy in notes.get(day, ()):
            if ext:
                wanted.setdefault(ext, (easy, day))
        for ext, delivery, easy in rows.get(day, ()):
            key = ext or delivery
            if key:
                wanted.setdefault(key, (easy, day))
        # a notification that broke its contract may still name its decision: fetch it anyway, so a
        # malformed notification never hides a decision from history
        for raw in damaged.get(day, ()):
            ext, easy = text(raw.get("externalId")), text(raw.get("easyNumber"))
            if ext and easy:
                wanted.setdefault(ext, (easy, day))
    landed = landed_keys(store, days)
    return {key: where for key, where in wanted.items() if key not in landed.get(where[1], ())}


def landed_keys(store: LandingStore, days: list[date]) -> dict[date, set[str]]:
    """{day: externalIds and deliveryIds} the deliveries of the settling days among ``days`` hold already,
    landed or set aside (an earlier night fetched them: not again)."""
    held = landed_while_settling(store, STREAM, days, ["external_id", "delivery_id"], ("externalId", "deliveryId", "id"))
    return {day: {key for value in found for key in (value if isinstance(value, tuple) else (value,)) if key}
            for day, found in held.items()}


def named_by_notification(record) -> tuple[str, str] | None:
    """(easyNumber, externalId) of the decision a paged notification names (None when it broke its
    contract): the key :func:`land` asks for when the notification's day is the first to mention it."""
    model = record.model if record.ok else None
    return (model.easy_number, model.external_id) if model is not None else None


def land(client, store: LandingStore, days: list[date], run_id: str, getter=None) -> LandedSummary:
    """Land the detail of every decision mentioned by the landed notifications and portfolio of ``days``,
    each in the partition of the day that mentioned it; ``getter(easy_number, id)`` fetches one
    (default: ``client.get_delivery``; an :class:`~assets.early_fetches.EarlyFetches`' ``get``)."""
    wanted = changed_deliveries(store, days)
    pairs = fetch_in_day_order(client, getter or client.get_delivery, wanted, what="delivery")
    summary = land_dated_records(store, STREAM, days, run_id, pairs, expected=len(wanted))
    summary.reported_total = len(wanted)
    return summary

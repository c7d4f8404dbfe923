"""The nightly extraction of every daily stream, each endpoint busy at once within its own rate budget.

Phase 1 pages the lists side by side (notifications, portfolio, and the overdue cases of every status:
three endpoints) and lands the two listing streams; the deliveries the notifications name are fetched as
their pages arrive (:mod:`.early_fetches`), so the busiest endpoint starts with the lists. Phase 2
fetches by id what phase 1 named, on four endpoints side by side: the decisions (deliveries) and the
orders the landed rows mention, the detail of each listed overdue case and the names of its documents
(and of the documents added since to every case landed before). Each endpoint has its own budget and its
own bounded fan-out (``client.fetch_many``), so the slowest endpoint sets the pace, not the sum of them.
Every stream is landed as before: per day, atomically, quarantine included, and reported as soon as it
has (the Dagster asset records its partitions while the other endpoints are still busy). A day still
settling (``resources.landing.settling``) is listed again, and only what it does not hold yet is fetched.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date

from resources.landing import LandedSummary, LandingStore
from resources.streams import DAILY_ASSET, Extraction, assets

from . import deliveries, orders, overdues
from .backfill_plan import BY_ID_ENDPOINT, range_plan
from .early_fetches import EarlyFetches
from .extraction import extract_listing
from .fetch_progress import FetchProgress
from .side_by_side import as_they_finish

log = logging.getLogger(__name__)
LISTED = "overdue cases listed"
NOTIFICATIONS = "notifications"


def extract(client, store: LandingStore, days: list[date], run_id: str,
            selected: frozenset[str] | None = None) -> Iterator[LandedSummary]:
    """Land the daily streams ``selected`` (default: all) for ``days``; yields one summary per landed
    stream as soon as it has landed. A by-id stream selected without the list that names its ids reads
    the list's rows as they landed earlier."""
    declared = assets()[DAILY_ASSET]
    wanted = {s.name for s in declared} if selected is None else set(selected)
    with EarlyFetches(client.get_delivery, client.settings.max_workers) as early:
        yield from _extract(client, store, days, run_id, declared, wanted, early)


def _extract(client, store: LandingStore, days: list[date], run_id: str, declared, wanted: set[str],
             early: EarlyFetches) -> Iterator[LandedSummary]:
    baseline = client.telemetry.snapshot()  # early calls count as done in the by-id phase's progress
    # the deliveries named by the notifications being paged are fetched as their pages arrive
    landed = {key for keys in deliveries.landed_keys(store, days).values() for key in keys}

    def not_landed(record):  # a decision a settling day holds already is not fetched again
        named = deliveries.named_by_notification(record)
        return None if named is None or named[1] in landed else named

    tap = (lambda records: early.tap(records, not_landed)) if deliveries.STREAM in wanted else None
    listed = None
    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="lists") as pool:
        futures = {s.name: pool.submit(extract_listing, client, store, s, days, run_id,
                                       tap if s.name == NOTIFICATIONS else None)
                   for s in declared if s.extraction is Extraction.LISTING and s.name in wanted}
        if wanted & {overdues.STREAM, overdues.DOCUMENTS_STREAM}:
            futures[LISTED] = pool.submit(lambda: overdues.with_refresh(store, days, overdues.not_landed_yet(
                store, days, overdues.changed_overdues(client, days))))
        try:
            for name, result in as_they_finish(futures):
                if name == LISTED:
                    listed = result
                else:
                    yield result
        finally:
            early.stop()
    by_id = {deliveries.STREAM: lambda: deliveries.land(client, store, days, run_id, early.get),
             orders.STREAM: lambda: orders.land(client, store, days, run_id),
             overdues.STREAM: lambda: overdues.land_details(client, store, days, run_id, listed),
             overdues.DOCUMENTS_STREAM: lambda: overdues.land_documents(client, store, days, run_id, listed)}
    fetched = [name for name in by_id if name in wanted]
    if not fetched:
        return
    plan = range_plan(client, store, days, listed, tuple(BY_ID_ENDPOINT[name] for name in fetched))
    with FetchProgress(client, plan, since=baseline), ThreadPoolExecutor(max_workers=4, thread_name_prefix="by-id") as pool:
        yield from (summary for _, summary in as_they_finish({name: pool.submit(by_id[name]) for name in fetched}))
    if early.unused:  # each one is a call more than the minimum: say so, it should stay rare
        log.warning("%d delivery calls made while the lists paged went unused: the day that first named "
                    "them did so under another company number (a temporary one, or the definitive one)",
                    early.unused)

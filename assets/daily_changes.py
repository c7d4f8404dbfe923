"""The nightly extraction of every daily stream, each endpoint busy at once within its own rate budget.

Phase 1 pages the lists side by side (notifications, portfolio, and the overdue cases of every status:
three endpoints) and lands the two listing streams. Phase 2 fetches by id what phase 1 named, on four
endpoints side by side: the decisions (deliveries) and the orders the landed rows mention, the detail of
each listed overdue case and the names of its documents. Each endpoint has its own budget and its own
bounded fan-out (``client.fetch_many``), so the slowest endpoint sets the pace, not the sum of them.
Every stream is landed as before: per day, atomically, quarantine included.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date

from resources.landing import LandedSummary, LandingStore
from resources.streams import DAILY_ASSET, Extraction, assets

from . import deliveries, orders, overdues
from .backfill_plan import BY_ID_ENDPOINT, range_plan
from .extraction import extract_listing
from .fetch_progress import FetchProgress

LISTED = "overdue cases listed"


def _results(futures: list[Future]) -> list:
    """Every future's result once all have finished; the first failure is raised after that (the other
    streams have committed what they landed, each atomically)."""
    for future in futures:
        future.exception()
    return [future.result() for future in futures]


def extract(client, store: LandingStore, days: list[date], run_id: str,
            selected: frozenset[str] | None = None) -> tuple[LandedSummary, ...]:
    """Land the daily streams ``selected`` (default: all) for ``days``; returns one summary per landed
    stream, in declaration order. A by-id stream selected without the list that names its ids reads the
    list's rows as they landed earlier."""
    declared = assets()[DAILY_ASSET]
    wanted = {s.name for s in declared} if selected is None else set(selected)
    landed: dict[str, LandedSummary] = {}
    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="lists") as pool:
        futures = {s.name: pool.submit(extract_listing, client, store, s, days, run_id)
                   for s in declared if s.extraction is Extraction.LISTING and s.name in wanted}
        if wanted & {overdues.STREAM, overdues.DOCUMENTS_STREAM}:
            futures[LISTED] = pool.submit(overdues.changed_overdues, client, days)
        phase_1 = dict(zip(futures, _results(list(futures.values())), strict=True))
    listed = phase_1.pop(LISTED, None)
    landed.update(phase_1)
    by_id = {deliveries.STREAM: lambda: deliveries.land(client, store, days, run_id),
             orders.STREAM: lambda: orders.land(client, store, days, run_id),
             overdues.STREAM: lambda: overdues.land_details(client, store, days, run_id, listed),
             overdues.DOCUMENTS_STREAM: lambda: overdues.land_documents(client, store, days, run_id, listed)}
    fetched = [name for name in by_id if name in wanted]
    if not fetched:
        return tuple(landed[s.name] for s in declared if s.name in landed)
    plan = range_plan(client, store, days, listed, tuple(BY_ID_ENDPOINT[name] for name in fetched))
    with FetchProgress(client, plan), ThreadPoolExecutor(max_workers=4, thread_name_prefix="by-id") as pool:
        futures = {name: pool.submit(by_id[name]) for name in fetched}
        landed.update(zip(futures, _results(list(futures.values())), strict=True))
    return tuple(landed[s.name] for s in declared if s.name in landed)

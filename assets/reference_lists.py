"""The reference lists (countries, their identifier types, customer references, policies): each paged
whole and replacing its one partition, the lists side by side (one endpoint each, each on its own budget),
each reported as soon as it has landed."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date

from resources.landing import LandedSummary, LandingStore
from resources.streams import REFERENCE_ASSET, assets

from .extraction import extract_listing
from .side_by_side import as_they_finish


def extract(client, store: LandingStore, today: date, run_id: str,
            selected: frozenset[str] | None = None) -> Iterator[LandedSummary]:
    """Land the reference lists ``selected`` (default: all); yields each one's summary once it has landed."""
    streams = [s for s in assets()[REFERENCE_ASSET] if selected is None or s.name in selected]
    with ThreadPoolExecutor(max_workers=len(streams) or 1, thread_name_prefix="reference") as pool:
        futures = {s.name: pool.submit(extract_listing, client, store, s, today, run_id) for s in streams}
        yield from (summary for _, summary in as_they_finish(futures))

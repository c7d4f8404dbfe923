"""Which function extracts each extraction asset, derived from the stream declarations.

An asset of one LISTING stream is extracted by :func:`assets.extraction.extract_listing`; any other (a
CUSTOM stream, or several streams landed together) by the function ``extract`` of the module
``assets/<asset>.py`` (its stream-specific logic: which ids to fetch, what runs side by side).
Plain Python, no Dagster: a script, a benchmark or a test extracts a stream as an asset run would.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from functools import cache

from resources.landing import LandedSummary, LandingStore
from resources.streams import Extraction, assets

from .extraction import extract_listing

Extract = Callable[..., Iterator[LandedSummary]]


@cache
def extractor(asset: str) -> Extract:
    """Return ``extract(client, store, scope, run_id, selected=None)`` of one extraction asset: an iterator
    of one LandedSummary per stream it lands (of those ``selected``, when given), each yielded as soon as
    its stream has landed (an asset of several streams lands them side by side), so that its caller can
    record a stream while the others are still fetched.
    ``scope`` is the run's days for a daily asset, else the GMT day of the run (today)."""
    streams = assets()[asset]
    first = streams[0]
    if len(streams) == 1 and first.extraction is Extraction.LISTING:
        return lambda client, store, scope, run_id, selected=None: iter(
            (extract_listing(client, store, first, scope, run_id),))
    module = importlib.import_module(f"{__package__}.{asset}")
    custom = getattr(module, "extract", None)
    if custom is None:
        raise LookupError(f"stream {first.name} is declared CUSTOM but assets/{asset}.py has no extract()")

    def run(client, store: LandingStore, scope, run_id: str,
            selected: frozenset[str] | None = None) -> Iterator[LandedSummary]:
        result = custom(client, store, scope, run_id, selected) if selected is not None else \
            custom(client, store, scope, run_id)
        declared = [s.name for s in streams if selected is None or s.name in selected]
        seen: list[str] = []
        for summary in (result,) if isinstance(result, LandedSummary) else result:
            if summary.stream not in declared or summary.stream in seen:
                raise RuntimeError(f"assets/{asset}.py extract() landed {[*seen, summary.stream]}, declared {declared}")
            seen.append(summary.stream)
            yield summary
        if sorted(seen) != sorted(declared):
            raise RuntimeError(f"assets/{asset}.py extract() landed {seen}, declared {declared}")

    return run


def extract_asset(client, store: LandingStore, asset: str, scope, run_id: str,
                  selected: frozenset[str] | None = None) -> tuple[LandedSummary, ...]:
    """Run the extraction of one asset (see :func:`extractor`), of the streams ``selected`` among its own
    (default: all; only an asset of several streams can be subset); returns what each landed, in the
    order :func:`resources.streams.assets` lists the streams."""
    landed = {summary.stream: summary for summary in extractor(asset)(client, store, scope, run_id, selected)}
    return tuple(landed[s.name] for s in assets()[asset] if s.name in landed)

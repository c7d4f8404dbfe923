"""The extraction of a LISTING stream: its endpoint's list, landed through the landing router.

Records arrive from the client in the API's order, already validated once by their payload model, and
are routed by their day into the run's partitions (``resources.landing.land_records``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from resources.cofaserve import DateWindow
from resources.landing import LandedSummary, LandingStore, land_records
from resources.streams import Partitioning, Stream


def extract_listing(client, store: LandingStore, stream: Stream, scope, run_id: str,
                    tap: Callable[[Iterable], Iterable] | None = None) -> LandedSummary:
    """The whole extraction of a LISTING stream: its endpoint's list, landed under ``scope``.

    A daily stream lists the date window of ``scope`` (its days) in one query and lands each row on the
    day ``stream.day_of`` gives; an as-of stream lists everything and lands it under the day ``scope``;
    a current stream lists everything into its one partition. ``tap`` (records in, the same records
    out) sees each record as it is paged, before it lands.
    """
    if stream.partitioning is Partitioning.DAILY:
        window = DateWindow.covering(scope[0], scope[-1])
        days, day_of, api_window = list(scope), stream.day_of, window.to_params()
        records = client.list_records(stream.endpoint, window)
    else:
        day = scope if stream.partitioning is Partitioning.AS_OF else None
        days, day_of, api_window = [day], (lambda row: day), None
        records = client.list_records(stream.endpoint)
    summary = land_records(store, stream.name, days, run_id, api_window, tap(records) if tap else records,
                           day_of=day_of)
    summary.reported_total = records.reported_total
    summary.api_window = api_window
    return summary



"""The one mechanism every extraction uses to land API records into per-day partitions.

A run covers a range of GMT days (one day nightly, many in a backfill). Records arrive from the client
in the API's order, already validated once by their payload model; each valid record's rows are read
from its model (``Stream.rows``) and routed by their day into one range writer (:func:`open_range`) for
the whole run; every day of the range gets a manifest, even a day with no records, so "landed, and
empty" is distinguishable from "never landed". Records that broke their contract go to quarantine with
their raw JSON and reason.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from resources.streams import get_stream

from .range_writer import open_range
from .store import LandingStore

CHECKPOINT_SHARE = 0.01
"""A by-id run that knows how many records it fetches commits a checkpoint at least every this share of them."""


@dataclass
class LandedSummary:
    """What one stream landed in one run: rows and quarantined records per day, records seen."""

    stream: str
    rows_by_day: dict[date, int] = field(default_factory=dict)
    quarantined_by_day: dict[date, int] = field(default_factory=dict)
    records: int = 0
    duplicate_keys: int = 0
    outside_days: int = 0
    unknown_field_records: int = 0
    unknown_fields: set[str] = field(default_factory=set)
    reported_total: int | None = None
    api_window: dict | None = None
    checkpoints: int = 0
    """Checkpoints committed before the end of the run (days committed early, see land_dated_records)."""
    figures: dict[str, int] = field(default_factory=dict)
    """Figures of the stream's own extraction, reported with the run (``run_<name>``)."""
    held_by_day: dict[date, int] = field(default_factory=dict)
    """Rows each settling day the run extended holds in all (its earlier nights' and this run's)."""
    already_landed: int = 0
    """Records (or a record's rows of one day) a settling day held already: not landed again."""

    @property
    def rows(self) -> int:
        """Rows landed, all days together."""
        return sum(self.rows_by_day.values())

    @property
    def quarantined(self) -> int:
        """Records quarantined, all days together."""
        return sum(self.quarantined_by_day.values())


class RowView(Mapping):
    """A read-only mapping view of one flattened row (a tuple in the stream's column order), by column
    name: what ``day_of`` functions read. The router points one view at each row in turn, so a
    ``day_of`` must not keep it beyond its call."""

    __slots__ = ("_index", "row")

    def __init__(self, columns: tuple[str, ...]) -> None:
        self._index = {name: i for i, name in enumerate(columns)}
        self.row: tuple = ()

    def __getitem__(self, name: str):
        return self.row[self._index[name]]

    def __iter__(self):
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)

    def get(self, name: str, default=None):
        """The value of column ``name``, or ``default`` when the stream has no such column."""
        i = self._index.get(name)
        return default if i is None else self.row[i]


class DayRouter:
    """Lands the records of one stream run into its partitions: the days of a daily stream through one
    range writer (rows may arrive in any day order; every day is committed together by ``close()``), a
    non-daily stream's one partition through a partition writer. If the run fails, ``abort()`` leaves
    every partition's previous state untouched. ``checkpoint_records``: a daily run also commits a
    checkpoint every that many records, besides every ``store.checkpoint_seconds``.
    """

    def __init__(self, store: LandingStore, stream: str, days: list, run_id: str, api_window: dict | None,
                 checkpoint_records: int | None = None) -> None:
        self._stream = get_stream(stream)
        self._days = sorted(days) if self._stream.daily else list(days)
        self._day_set = set(days)
        if self._stream.daily:
            self._writer = open_range(store, stream, days, run_id, api_window).__enter__()
        else:
            self._writer = _OnePartition(store.open_partition(stream, None, run_id, api_window=api_window).__enter__())
        self._view = RowView(self._stream.columns)
        self._seen = _landed_raw_json(store, stream, sorted(getattr(self._writer, "extending", ())))
        self._checkpoint_seconds = store.checkpoint_seconds
        self._last_checkpoint = time.monotonic()
        self._checkpoint_records = checkpoint_records  # also checkpoint every this many records (by-id runs)
        self._records_at_checkpoint = 0
        self.summary = LandedSummary(stream=stream, rows_by_day={d: 0 for d in days},
                                     quarantined_by_day={d: 0 for d in days})

    def land(self, record, day_of: Callable[[Mapping], date | None],
             context: Mapping[str, Any] | None = None) -> None:
        """Land the rows of one record (read from its validated model) on their days, or quarantine it
        with the reason it broke its contract. ``context`` fills the stream's context columns."""
        summary = self.summary
        summary.records += 1
        unknown = record.unknown_fields
        if unknown:
            summary.unknown_field_records += 1
            summary.unknown_fields.update(unknown)
        seen = self._seen
        if record.error is not None:
            if record.raw_json in seen.get(None, ()):  # set aside by an earlier night of a settling day
                summary.already_landed += 1
                return
            day = self._quarantine_day(day_of)
            self._writer.quarantine(day, record.raw_json, record.error, record.request)
            summary.quarantined_by_day[day] += 1
            return
        view = self._view
        by_day: dict[date, list[tuple]] = {}
        for row in self._stream.rows(record, context):
            view.row = row
            day = day_of(view)
            if day not in self._day_set:
                # rows outside the run's days are landed by the run of their own day; counted and
                # reported, never silently ignored
                summary.outside_days += 1
                continue
            by_day.setdefault(day, []).append(row)
        for day, day_rows in by_day.items():
            if record.raw_json in seen.get(day, ()):  # an earlier night of this settling day landed it
                summary.already_landed += 1
                continue
            summary.rows_by_day[day] += self._writer.write_values(day, record.raw_json, record.request, day_rows)

    def _quarantine_day(self, day_of: Callable[[Mapping], date | None]):
        # a rejected record has no trustworthy date of its own: use the day the caller routes it to when
        # that does not depend on the record, else the run's last day
        try:
            day = day_of({})
        except Exception:
            day = None
        return day if day in self._day_set else self._days[-1]

    def checkpoint_before(self, day) -> None:
        """Every day of the run before ``day`` has all its records: when the store's
        ``checkpoint_seconds`` have passed since the run's start or its last checkpoint, commit them
        (each atomically) so that a kill loses at most that much work."""
        if not self._stream.daily:
            return
        due_by_time = time.monotonic() - self._last_checkpoint >= self._checkpoint_seconds
        every = self._checkpoint_records
        due_by_work = every is not None and self.summary.records - self._records_at_checkpoint >= every
        if not (due_by_time or due_by_work):
            return
        if self._writer.checkpoint([d for d in self._days if d < day]):
            self.summary.checkpoints += 1
        self._last_checkpoint = time.monotonic()
        self._records_at_checkpoint = self.summary.records

    def close(self) -> LandedSummary:
        """Commit every partition of the run (empty days included) and return what was landed."""
        writer, self._writer = self._writer, None
        writer.__exit__(None, None, None)
        self.summary.duplicate_keys = writer.duplicate_keys
        for day in getattr(writer, "extending", ()):
            self.summary.held_by_day[day] = writer.manifests[day]["rows"]
        return self.summary

    def abort(self, exc: BaseException) -> None:
        """Discard everything this run wrote, leaving every partition's previous state in place."""
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.__exit__(type(exc), exc, exc.__traceback__)


def _landed_raw_json(store: LandingStore, stream: str, days: list[date]) -> dict[date | None, set[str]]:
    """{day: raw JSON of every record landed on it} of the settling ``days`` a run extends, and under
    None the raw JSON of every record they set aside (a record quarantined on one night may be routed
    to another day of a later run: its own date cannot be trusted)."""
    if not days:
        return {}
    seen: dict[date | None, set[str]] = {}
    table = store.read_table(stream, days, columns=["_partition", "_raw_json"])
    for day, raw in zip(table["_partition"].to_pylist(), table["_raw_json"].to_pylist(), strict=True):
        seen.setdefault(day, set()).add(raw)
    seen[None] = set(store.read_quarantine(stream, days)["raw_json"].to_pylist())
    return seen


class _OnePartition:
    """A non-daily stream's partition writer, spoken to as a range writer of the one day ``None``."""

    def __init__(self, writer) -> None:
        self._writer = writer

    @property
    def duplicate_keys(self) -> int:
        return self._writer.duplicate_keys

    def write_values(self, day, raw_json: str, request: str, rows: list[tuple]) -> int:
        return self._writer.write_values(raw_json, request, rows)

    def quarantine(self, day, raw_json: str, reason: str, request: str) -> None:
        self._writer.quarantine(raw_json, reason, request)

    def __exit__(self, *exc) -> None:
        self._writer.__exit__(*exc)


def land_records(
    store: LandingStore,
    stream: str,
    days: list,
    run_id: str,
    api_window: dict | None,
    records: Iterable,
    day_of: Callable[[Mapping], date | None],
) -> LandedSummary:
    """Land client records (:class:`resources.cofaserve.Record`) into their partitions.

    ``day_of`` reads a row by column name (a :class:`RowView`, valid during the call) and names its day.

    Records may arrive in any day order (a portfolio company holds products of several days). Days are
    committed only once every record has been read; on an error every day keeps its previous state and
    the error propagates. A record that breaks its contract is quarantined under the day ``day_of``
    gives without looking at the record, else under the run's last day (its own date cannot be trusted).
    """
    router = DayRouter(store, stream, days, run_id, api_window)
    try:
        for record in records:
            router.land(record, day_of)
    except BaseException as exc:
        router.abort(exc)
        raise
    return router.close()


def land_dated_records(
    store: LandingStore,
    stream: str,
    days: list[date],
    run_id: str,
    triples: Iterable[tuple[date, object, Mapping[str, Any] | None]],
    expected: int | None = None,
) -> LandedSummary:
    """Land (day, record, context) triples: all rows of a record go to the given day.

    Used for by-id fetches, whose partition is the day of the change that triggered the fetch. Triples
    come in day order, so the days before the current one are complete: they are committed as a
    checkpoint every ``store.checkpoint_seconds`` (a record for a day already checkpointed raises
    LandingError), and, when the run ``expected`` that many records, also every ``CHECKPOINT_SHARE`` of
    them: a kill then loses at most that share of a long run's fetches, however fast they go.
    """
    router = DayRouter(store, stream, days, run_id, None,
                       checkpoint_records=max(1, int(expected * CHECKPOINT_SHARE)) if expected else None)
    current = None
    try:
        for day, record, context in triples:
            if day != current:
                router.checkpoint_before(day)
                current = day
            router.land(record, lambda row, day=day: day, context)
    except BaseException as exc:
        router.abort(exc)
        raise
    return router.close()

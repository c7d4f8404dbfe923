"""Range runs: one run of a daily stream over many days, landed in part files the days share.

A backfill covers hundreds of days. Landing each day as its own Parquet file and manifest costs a file
footer and several fsyncs per day, however few rows the day holds. A :class:`RangeWriter` instead
streams the rows of all its days, in arrival order, into shared part files (one row group in memory, a
new file every ``rows_per_file`` rows; each file counts its rows per day), and on a clean exit commits
every day of the range:

1. the part files are closed, renamed to their final names and made durable (one sync per filesystem);
2. under the partition locks of all its days at once (in batches of days where each day's lock is a file
   of its own, ``locks.lock_batch``), every day's manifest is replaced by one naming this run and the
   part files that hold rows of the day (a day without rows names the first part file: it holds none of
   the day's rows, so the day reads as landed and empty); the batch's manifests are made durable, then
   renamed into place.

A long run also commits **checkpoints** (:meth:`RangeWriter.checkpoint`): the days whose rows have all
arrived (a by-id stream fetches in day order, so every day before the one being fetched) are committed
as above, early: the part files so far are closed, named and made durable, then those days' manifests
are swapped. Those days are then final for this run (a row for one of them is refused), and the files
they name are kept whatever happens to the rest of the run.

An exception, or a process killed before step 2, leaves every day not yet checkpointed exactly as it
was; killed during step 2, each day is either on its previous run or on this one, never a mix. Readers take a daily partition's
rows from its files where ``_partition`` is the day (:meth:`LandingStore.read_table`, the warehouse's
reader), so a later run of one day supersedes exactly that day. Layout::

    {stream}/range={first}--{last}/run={run_id}/part-{n:05d}-{attempt}.parquet
    _quarantine/{stream}/range={first}--{last}/run={run_id}/part-{n:05d}-{attempt}.parquet

The range lock (``_locks/{stream}/range=....lock``) keeps two writers of one range apart and tells
garbage collection that the range's files are being written.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from resources.streams import get_stream

from .durability import make_durable
from .errors import LandingError
from .locks import lock_batch, partition_locks
from .manifest import checked_run, next_manifest, partition_key
from .parquet import RollingParquet, count_duplicate_keys
from .settling import extended_files, extending_days
from .writer import QUARANTINE_SCHEMA, WriterBlock, append_values, quarantine_row

if TYPE_CHECKING:
    from resources.streams import Stream

    from .store import LandingStore

RANGE_PREFIX = "range="
"""Folder prefix of the files a range run shares between the days it covers."""
BUFFER_ROWS = 2048
"""Rows a range writer holds before writing them as a row group (a range file's row groups are this small)."""


def open_range(store: LandingStore, stream: str, days: Iterable[date], run_id: str,
               api_window: Mapping[str, Any] | None = None) -> RangeWriter:
    """Return a :class:`RangeWriter` (a context manager) for one run of a daily ``stream`` over ``days``.

    Every day of ``days`` gets a manifest naming this run when the ``with`` block exits cleanly, days
    without rows included. The arguments are checked as :meth:`LandingStore.open_partition` checks them.
    """
    days = list(dict.fromkeys(days))
    if not days:
        raise LandingError("a range run needs at least one day")
    spec = get_stream(stream)
    if not spec.daily:
        raise LandingError(f"stream {stream} is not daily-partitioned: land it with open_partition(..., None, ...)")
    window = checked_run(spec, days, run_id, api_window)
    return RangeWriter(store, spec, sorted(days), run_id, window)


class RangeWriter(WriterBlock):
    """Writes one run of a daily stream over several days; use it as a context manager (see open_range).

    Counters: ``rows_by_day``, ``quarantined_by_day``; after a clean exit ``duplicate_keys`` (rows whose
    stream key repeats another row of the same day) and ``manifests`` ({day: manifest written}).
    """

    def __init__(self, store: LandingStore, stream: Stream, days: list[date], run_id: str, api_window: dict | None):
        self.store, self.stream, self.days, self.run_id, self.api_window = store, stream, days, run_id, api_window
        self.rows_by_day: Counter = Counter()
        self.quarantined_by_day: Counter = Counter()
        self.duplicate_keys = 0
        self.manifests: dict[date, dict] = {}
        self._day_set = frozenset(days)
        self._allowed = frozenset(stream.columns)
        self.committed: set[date] = set()
        """Days already committed by a checkpoint of this run (final: no row may be added to them)."""
        self._named: dict[int, int] = {}  # id(part writer) -> how many of its closed files are named
        self._kept: set[str] = set()  # final paths a committed day may name: never discarded
        self._data: RollingParquet | None = None
        self._quarantine: RollingParquet | None = None
        self.extending: frozenset[date] = frozenset(extending_days(store, stream.name, days))
        """Days still settling: their commit extends the current run instead of replacing it."""

    @property
    def key(self) -> str:
        """The range's folder name: ``range={first}--{last}``."""
        return f"{RANGE_PREFIX}{self.days[0].isoformat()}--{self.days[-1].isoformat()}"

    def open_files(self, attempt: str) -> None:
        """Start the range's shared data and quarantine part files of this attempt (called on entry)."""
        name, run = self.stream.name, f"run={self.run_id}"
        label = f"{name} {self.key}"
        self._data = RollingParquet(self.store, f"{self.store.stream_dir(name)}/{self.key}/{run}", attempt,
                                    self.stream.schema, label, day_column="_partition", durable=False,
                                    buffer_rows=min(BUFFER_ROWS, self.store.row_group_size))
        self._quarantine = RollingParquet(self.store, f"{self.store.stream_dir(name, True)}/{self.key}/{run}",
                                          attempt, QUARANTINE_SCHEMA, f"quarantine of {label}",
                                          day_column="partition", durable=False)

    def _check(self, day: date) -> None:
        if not self.is_open:
            raise LandingError("write inside the 'with open_range(...)' block")
        if day not in self._day_set:
            raise LandingError(f"{self.stream.name}: {day} is not a day of this range run ({self.key})")
        if day in self.committed:
            raise LandingError(f"{self.stream.name}: {day} was committed by a checkpoint of this run; "
                               "a checkpointed day takes no more rows")

    def write_record(self, day: date, raw_json: str, request: str | None, rows: Iterable[Mapping[str, Any]]) -> int:
        """Append the typed rows (dicts) of one API record to ``day``, each keeping the record's raw JSON
        and request; return how many. Rows are checked as :meth:`PartitionWriter.write` checks them."""
        columns = self.stream.columns
        values = []
        for row in rows:
            if not row.keys() <= self._allowed:
                raise LandingError(f"{self.stream.name}: unknown columns {sorted(set(row) - self._allowed)}")
            values.append(tuple(row.get(name) for name in columns))
        return self.write_values(day, raw_json, request, values)

    def write_values(self, day: date, raw_json: str, request: str | None, rows: Iterable[tuple]) -> int:
        """Append the rows of one API record as :meth:`Stream.flatten_values` gives them (values in the
        stream's ``columns`` order) to ``day``; return how many."""
        self._check(day)
        count = append_values(self._data, self.stream, day, self.run_id, raw_json, request, rows)
        self.rows_by_day[day] += count
        return count

    def quarantine(self, day: date, raw_json: str, reason: str, request: str | None = None) -> None:
        """Set one record aside in the quarantine dataset of ``day`` with its raw JSON and the reason."""
        self._check(day)
        self._quarantine.append(quarantine_row(self.stream.name, day, self.run_id, reason, request, raw_json,
                                               self.store.clock()))
        self.quarantined_by_day[day] += 1

    def discard(self) -> None:
        """Delete every file this run wrote (the block raised, or its commit failed before naming any day):
        every day stays as it was."""
        for part in (self._data, self._quarantine):
            finals = [final for _, final, _ in part.done if final not in self._kept]
            part.discard(keep=self._kept)
            for path in finals:  # renamed already when a commit failed before naming them
                with contextlib.suppress(Exception):
                    self.store.remove(path)

    def commit(self) -> None:
        """Name and make durable this run's files, then replace the manifest of every day not yet
        checkpointed, in batches of days (a clean exit)."""
        named = False
        try:
            self._name_files(at_least_one=True)
            self.duplicate_keys = count_duplicate_keys(self.store, self.stream,
                                                       [final for _, final, _ in self._data.done])
            self._commit_in_batches([day for day in self.days if day not in self.committed])
            named = True
        finally:
            if not named:  # what a checkpoint committed stays (discard keeps the files it names)
                self.discard()

    def checkpoint(self, days: Iterable[date]) -> list[date]:
        """Commit ``days`` (of this range, all their rows written) now, as a clean exit commits them, and
        return those newly committed. An exception leaves those days as they were and the run going."""
        days = sorted(set(days) - self.committed)
        if not days:
            return []
        if not self.is_open:
            raise LandingError("checkpoint inside the 'with open_range(...)' block")
        outside = [day for day in days if day not in self._day_set]
        if outside:
            raise LandingError(f"{self.stream.name}: {outside[0]} is not a day of this range run ({self.key})")
        self._name_files(at_least_one=True)
        self._commit_in_batches(days)
        return days

    def _name_files(self, at_least_one: bool) -> None:
        """Close the open part files, rename the closed ones not yet named and make them durable; every
        named file may then be named by a day's manifest, so it is kept."""
        store = self.store
        self._data.finish(at_least_one=at_least_one)
        self._quarantine.finish(at_least_one=False)
        renamed, directories = [], []
        for part in (self._data, self._quarantine):
            fresh = part.done[self._named.get(id(part), 0):]
            for temporary, final, _ in fresh:
                store.rename(temporary, final)
                renamed.append(final)
            if fresh:
                directories.append(part.directory)
            self._named[id(part)] = len(part.done)
        if store.local and renamed:
            make_durable(renamed + directories)

    def _commit_in_batches(self, days: list[date]) -> None:
        batch = lock_batch(self.store) or max(len(days), 1)
        for start in range(0, len(days), batch):
            self._commit_days(days[start:start + batch])
            # from here on a day names these files: never discard them
            self._kept.update(final for part in (self._data, self._quarantine) for _, final, _ in part.done)
            self.committed.update(days[start:start + batch])

    def _commit_days(self, days: list[date]) -> None:
        store, name = self.store, self.stream.name
        data = [(final, counts) for (_, final, _), counts in zip(self._data.done, self._data.days, strict=True)]
        quarantine = [(final, counts) for (_, final, _), counts in
                      zip(self._quarantine.done, self._quarantine.days, strict=True)]
        keys = [partition_key(day) for day in days]
        digests = {**self._data.digests, **self._quarantine.digests}
        with partition_locks(store, name, keys):
            previous = store.previous_manifests(name, keys)
            updates = {}
            for day, key in zip(days, keys, strict=True):
                files = [(final, counts[day]) for final, counts in data if counts[day]]
                quarantined = [final for final, counts in quarantine if counts[day]]
                rows, set_aside, named = self.rows_by_day[day], self.quarantined_by_day[day], digests
                before = previous.get(key)
                if day in self.extending and before is not None:  # the earlier nights' files stay named
                    files, quarantined, kept = extended_files(before, files, quarantined, store.join)
                    rows, set_aside = rows + before.get("rows", 0), set_aside + before.get("quarantined", 0)
                    named = {**kept, **digests}
                manifest = next_manifest(
                    before, store, name, day, self.run_id, self.attempt, self.api_window,
                    files=files or [(data[0][0], 0)], rows=rows, quarantined=set_aside,
                    quarantine_files=quarantined, digests=named, listed_on=store.relisting.listed_on,
                )
                updates[key] = manifest
                self.manifests[day] = manifest
            store.replace_manifests(name, updates)

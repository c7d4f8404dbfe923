"""Writing one run of one (stream, partition): the ``with`` block every writer shares, the partition
writer, and the rows the writers append (typed rows completed with the writer's columns, quarantine rows).

A partition run (:meth:`LandingStore.open_partition`):

1. rows are streamed into hidden temporary files (``.part-...parquet.tmp``) in bounded row groups;
2. on a clean exit every file is closed (and fsynced locally), then renamed to its final name;
3. only then the manifest is replaced atomically (temporary file + rename) by one naming this run.

An exception, or a process killed at any point, leaves the previous manifest, and so the previous rows,
exactly as they were; the leftovers are not referenced by any manifest and garbage collection removes
them. ``attempt`` is a random token per writer, so a retried step with the same Dagster run id never
overwrites the files a manifest names.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Self

import pyarrow as pa

from .durability import make_durable
from .errors import LandingError
from .locks import partition_lock
from .manifest import next_manifest, partition_key
from .parquet import RollingParquet, count_duplicate_keys

if TYPE_CHECKING:
    from resources.streams import Stream

    from .store import LandingStore


QUARANTINE_SCHEMA = pa.schema(
    [
        pa.field("stream", pa.string(), nullable=False),
        pa.field("partition", pa.date32()),
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("request", pa.string()),
        pa.field("raw_json", pa.string()),
        pa.field("extracted_at", pa.timestamp("us", tz="UTC"), nullable=False),
    ]
)
"""Columns of quarantine files: one row per record that broke its contract."""


def quarantine_row(stream: str, partition: date | None, run_id: str, reason: str, request: str | None,
                   raw_json: str | None, extracted_at: datetime) -> tuple:
    """One quarantine row, its values in ``QUARANTINE_SCHEMA`` order."""
    return (stream, partition, run_id, reason, request, raw_json, extracted_at)


_ROW_EXTRAS = frozenset({"_raw_json", "_request"})


class WriterBlock:
    """The ``with`` block of a writer of one (stream, key), a partition or a range of days: entering takes
    the key's lock and draws the writer's ``attempt`` token (a writer is used once), a clean exit
    commits, an exception discards, and the lock is released either way.

    A subclass sets ``store``, ``stream`` and ``key``, and implements :meth:`open_files`, :meth:`commit`
    and :meth:`discard`: the block calls them, under the lock; nothing else does.
    """

    store: LandingStore
    stream: Stream
    key: str
    attempt: str | None = None
    _lock: contextlib.ExitStack | None = None

    @property
    def is_open(self) -> bool:
        """True inside the ``with`` block."""
        return self._lock is not None

    def __enter__(self) -> Self:
        if self.attempt is not None:
            raise LandingError(f"a {type(self).__name__} is used once; open a new one for another run")
        lock = contextlib.ExitStack()
        lock.enter_context(partition_lock(self.store, self.stream.name, self.key))
        self._lock = lock
        self.attempt = secrets.token_hex(4)
        self.open_files(self.attempt)
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if self._lock is None:
            return False
        try:
            if exc_type is None:
                self.commit()
            else:
                self.discard()
        finally:
            lock, self._lock = self._lock, None
            lock.close()
        return False

    def open_files(self, attempt: str) -> None:
        """Start the part files of this attempt (on entry)."""
        raise NotImplementedError

    def commit(self) -> None:
        """Publish what the block wrote (a clean exit)."""
        raise NotImplementedError

    def discard(self) -> None:
        """Delete what the block wrote (the block raised)."""
        raise NotImplementedError


class PartitionWriter(WriterBlock):
    """Writes one run of one (stream, partition); use it as a context manager (see LandingStore.open_partition).

    Counters: ``rows`` (data rows written), ``quarantined`` (records quarantined), ``files`` (data part
    files). After a clean exit ``manifest`` holds the manifest written and ``duplicate_keys`` the rows
    whose stream key repeats another row of the partition.
    """

    def __init__(self, store: LandingStore, stream: Stream, partition: date | None, run_id: str, api_window: dict | None):
        self.store, self.stream, self.partition, self.run_id, self.api_window = store, stream, partition, run_id, api_window
        self.key = partition_key(partition)
        self.rows = 0
        self.quarantined = 0
        self.duplicate_keys = 0
        self.manifest: dict | None = None
        self._allowed = frozenset(stream.columns) | _ROW_EXTRAS
        self._data: RollingParquet | None = None
        self._quarantine: RollingParquet | None = None

    @property
    def files(self) -> int:
        """Data part files written so far."""
        return 0 if self._data is None else self._data.files

    def open_files(self, attempt: str) -> None:
        """Start the partition's data and quarantine part files of this attempt (called on entry)."""
        run = f"run={self.run_id}"
        label = f"{self.stream.name} partition {self.key}"
        self._data = RollingParquet(
            self.store, f"{self.store.partition_dir(self.stream.name, self.key)}/{run}", attempt, self.stream.schema, label
        )
        self._quarantine = RollingParquet(
            self.store, f"{self.store.partition_dir(self.stream.name, self.key, True)}/{run}", attempt,
            QUARANTINE_SCHEMA, f"quarantine of {label}",
        )

    def _require_open(self) -> None:
        if not self.is_open:
            raise LandingError("write inside the 'with store.open_partition(...)' block")

    def write(self, rows: Iterable[Mapping[str, Any]], *, raw_json: str | None = None, request: str | None = None) -> int:
        """Append typed rows; return how many.

        A row's keys are the stream's typed columns (missing ones are null), optionally ``_raw_json`` and
        ``_request``, which override the keyword values for that row. Every row must end up with its raw
        JSON (invariant 3: history can be rebuilt from it). ``_partition``, ``_run_id`` and
        ``_extracted_at`` are filled here. An unknown key, a missing raw JSON or a value of the wrong type
        raises :class:`LandingError` (the message names the column, never the value).
        """
        self._require_open()
        extracted_at = self.store.clock()
        common = {"_partition": self.partition, "_run_id": self.run_id, "_extracted_at": extracted_at,
                  "_raw_json": raw_json, "_request": request}
        names = self.stream.schema.names
        count = 0
        for row in rows:
            if not row.keys() <= self._allowed:
                unknown = sorted(set(row) - self._allowed)
                raise LandingError(f"{self.stream.name}: unknown columns {unknown}")
            full = {**common, **row}
            if full["_raw_json"] is None:
                raise LandingError(f"{self.stream.name}: a landed row needs its raw JSON (raw_json= or _raw_json)")
            self._data.append(tuple(full.get(name) for name in names))
            count += 1
        self.rows += count
        return count

    def write_record(self, raw_json: str, request: str, rows: Iterable[Mapping[str, Any]]) -> int:
        """Append the typed rows of one API record, each keeping the record's raw JSON and request."""
        return self.write(rows, raw_json=raw_json, request=request)

    def write_values(self, raw_json: str, request: str | None, rows: Iterable[tuple]) -> int:
        """Append the rows of one API record as :meth:`Stream.flatten_values` gives them (values in the
        stream's ``columns`` order), each keeping the record's raw JSON and request; return how many."""
        self._require_open()
        count = append_values(self._data, self.stream, self.partition, self.run_id, raw_json, request, rows)
        self.rows += count
        return count

    def write_parsed(self, record: Any, context: Mapping[str, Any] | None = None) -> int:
        """Land one client Record: its rows (read from its validated model) when it met its contract,
        else the record in quarantine with its reason (returns 0). ``context`` fills the stream's
        context columns."""
        if record.error is not None:
            self.quarantine(record.raw_json, record.error, record.request)
            return 0
        return self.write_values(record.raw_json, record.request, self.stream.rows(record, context))

    def quarantine(self, raw_json: str, reason: str, request: str | None = None) -> None:
        """Set one record aside in the quarantine dataset with its raw JSON and the reason."""
        self._require_open()
        self._quarantine.append(quarantine_row(self.stream.name, self.partition, self.run_id, reason, request,
                                               raw_json, self.store.clock()))
        self.quarantined += 1

    def discard(self) -> None:
        """Delete every file this run wrote (the block raised, or the commit failed): the partition stays
        as it was."""
        for part in (self._data, self._quarantine):
            part.discard()

    def commit(self) -> None:
        """Name this run's files, then replace the partition's manifest by one naming this run (a clean
        exit); on any failure, delete what this run wrote and keep the previous manifest."""
        store, renamed, committed = self.store, [], False
        try:
            self._data.finish(at_least_one=True)
            self._quarantine.finish(at_least_one=False)
            for temporary, final, _ in self._data.done + self._quarantine.done:
                store.rename(temporary, final)
                renamed.append(final)
            if store.local:
                make_durable({d.directory for d in (self._data, self._quarantine) if d.done})
            self.duplicate_keys = count_duplicate_keys(store, self.stream, [final for _, final, _ in self._data.done])
            manifest = self._manifest(store.previous_manifests(self.stream.name, [self.key]).get(self.key))
            store.replace_manifests(self.stream.name, {self.key: manifest})
            committed = True
            self.manifest = manifest
        finally:
            if not committed:
                self.discard()
                for path in renamed:
                    with contextlib.suppress(Exception):
                        store.remove(path)

    def _manifest(self, previous: dict | None) -> dict:
        return next_manifest(
            previous, self.store, self.stream.name, self.partition, self.run_id, self.attempt, self.api_window,
            files=[(final, rows) for _, final, rows in self._data.done], rows=self.rows,
            quarantine_files=[final for _, final, _ in self._quarantine.done], quarantined=self.quarantined,
            digests={**self._data.digests, **self._quarantine.digests},
        )


def append_values(data: RollingParquet, stream: Stream, partition: date | None, run_id: str, raw_json: str,
                  request: str | None, rows: Iterable[tuple]) -> int:
    """Append the rows of one API record (values in ``stream.columns`` order) to ``data``, each completed
    with the columns the writer owns (extracted now, by the store's clock); return how many. A missing
    raw JSON or a row of the wrong width raises LandingError."""
    if raw_json is None:
        raise LandingError(f"{stream.name}: a landed row needs its raw JSON")
    width = len(stream.columns)
    common = (partition, run_id, data.store.clock(), request, raw_json)  # COMMON_FIELDS order
    append = data.append
    count = 0
    for row in rows:
        if len(row) != width:
            raise LandingError(f"{stream.name}: a row has {len(row)} values for {width} typed columns")
        append(row + common)
        count += 1
    return count

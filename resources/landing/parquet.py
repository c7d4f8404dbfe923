"""Parquet part files of the landing zone: the rolling part writer and its memory pool, rows to Arrow,
and the readers' helpers (a table conformed to a schema, the days of a shared file, repeated keys)."""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections import Counter
from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .arrays import to_array
from .errors import LandingError

if TYPE_CHECKING:
    from resources.streams import Stream

    from .store import LandingStore


class _Digesting:
    """A binary file being written, hashed (SHA-256) and counted on the way: a part file's digest and
    size are known when it closes, without reading it back."""

    def __init__(self, handle: Any):
        self._handle, self.size, self._sha = handle, 0, hashlib.sha256()

    def write(self, data) -> int:
        self._sha.update(data)
        self.size += len(data)
        return self._handle.write(data)

    def digest(self) -> dict:
        """``{"size": bytes, "sha256": hex}`` of what was written."""
        return {"size": self.size, "sha256": self._sha.hexdigest()}

    def __getattr__(self, name: str) -> Any:  # flush, fileno, close, closed, tell...
        return getattr(self._handle, name)


def _writer_pool() -> pa.MemoryPool:
    """The Arrow memory pool of the landing writers: jemalloc told to return freed memory to the system at
    once (the system allocator where jemalloc is absent). A writer converts and encodes one batch after
    another; with a pool that keeps freed memory mapped (mimalloc, Arrow's usual default) a long
    backfill's peak memory would be the high-water mark of all its batches. The writers use it whatever
    the process's default pool is (``resources/__init__.py`` makes that jemalloc too, when it can)."""
    try:
        pool = pa.jemalloc_memory_pool()
        pa.jemalloc_set_decay_ms(0)
    except (NotImplementedError, pa.ArrowException):
        pool = pa.system_memory_pool()
    return pool


_WRITER_POOL = _writer_pool()


def _to_table(columns: list[tuple], schema: pa.Schema, label: str) -> pa.Table:
    """Columns (one tuple of values per field of ``schema``, in order) as an Arrow table; a value that
    does not fit its column raises LandingError naming the column and the Python types it got, never the
    values. Columns are built from their buffers where ``arrays.to_array`` can (no pandas import), else
    by ``pa.array``."""
    arrays = []
    for f, values in zip(schema, columns, strict=True):
        try:
            array = to_array(values, f.type)
            arrays.append(pa.array(values, type=f.type, memory_pool=_WRITER_POOL) if array is None else array)
        except (pa.ArrowException, TypeError, ValueError, OverflowError):
            kinds = sorted({type(v).__name__ for v in values})
            raise LandingError(f"{label}: column {f.name!r} ({f.type}) cannot hold values of type {kinds}") from None
    return pa.Table.from_arrays(arrays, schema=schema)


class RollingParquet:
    """Writes rows into Parquet part files under hidden temporary names, one row group per
    ``row_group_size`` rows, a new part file every ``rows_per_file`` rows. Holds at most one row group of
    rows in memory.

    ``done`` lists each closed file as (temporary path, final path, rows): the caller renames them when it
    commits. With ``day_column``, ``days[i]`` counts the rows of each day in ``done[i]`` (a range run's
    files hold several days). With ``durable=False`` a closed file is not fsynced: the caller makes many
    files durable at once (``make_durable``) before naming them. ``buffer_rows`` (at most
    ``row_group_size``) makes smaller row groups to hold fewer rows in memory.
    """

    def __init__(self, store: LandingStore, directory: str, attempt: str, schema: pa.Schema, label: str,
                 *, day_column: str | None = None, durable: bool = True, buffer_rows: int | None = None):
        self.store, self.directory, self.attempt, self.schema, self.label = store, directory, attempt, schema, label
        self._buffer_rows = buffer_rows or store.row_group_size
        self.done: list[tuple[str, str, int]] = []  # (temporary path, final path, rows) of closed files
        self.digests: dict[str, dict] = {}  # final path -> {"size", "sha256"} of each closed file
        self.days: list[Counter] = []  # rows per day of each closed file (with day_column)
        self._day_column, self._durable = day_column, durable
        self._file_days: Counter = Counter()
        self._buffer: list[tuple] = []  # rows: values in schema order
        self._writer: pq.ParquetWriter | None = None
        self._handle: Any = None
        self._file_rows = 0
        self._current: tuple[str, str] | None = None

    @property
    def files(self) -> int:
        """Part files written so far, the open one included."""
        return len(self.done) + (self._current is not None)

    def append(self, row: tuple) -> None:
        """Buffer one row (values in schema order); a full buffer is written as a row group."""
        self._buffer.append(row)
        if len(self._buffer) >= self._buffer_rows:
            self.flush()

    def flush(self) -> None:
        """Write the buffered rows, rolling over to a new part file every ``rows_per_file`` rows."""
        if not self._buffer:
            return
        columns = list(zip(*self._buffer, strict=True))
        self._buffer = []
        table = _to_table(columns, self.schema, self.label)
        days = columns[self.schema.get_field_index(self._day_column)] if self._day_column is not None else None
        offset = 0
        while offset < table.num_rows:
            if self._writer is None:
                self._open()
            take = min(table.num_rows - offset, self.store.rows_per_file - self._file_rows)
            part = table.slice(offset, take)
            self._writer.write_table(part, row_group_size=self.store.row_group_size)
            if days is not None:
                self._file_days.update(days[offset:offset + take])
            self._file_rows += take
            offset += take
            if self._file_rows >= self.store.rows_per_file:
                self._close_file()

    def _open(self) -> None:
        index = len(self.done)
        final = f"{self.directory}/part-{index:05d}-{self.attempt}.parquet"
        temporary = f"{self.directory}/.part-{index:05d}-{self.attempt}.parquet.tmp"
        self.store.fs.makedirs(self.directory, exist_ok=True)
        self._handle = _Digesting(open(temporary, "wb") if self.store.local else self.store.fs.open(temporary, "wb"))
        self._current = (temporary, final)
        # page checksums: a flipped byte in a data page fails the read instead of changing a value
        self._writer = pq.ParquetWriter(self._handle, self.schema, compression="zstd", memory_pool=_WRITER_POOL,
                                        write_page_checksum=True)
        self._file_rows = 0

    def _close_file(self) -> None:
        self._writer.close()
        if self.store.local and self._durable:
            self._handle.flush()
            os.fsync(self._handle.fileno())
        self._handle.close()
        self.digests[self._current[1]] = self._handle.digest()
        self.done.append((*self._current, self._file_rows))
        self.days.append(self._file_days)
        self._file_days = Counter()
        self._writer = self._handle = self._current = None

    def finish(self, at_least_one: bool) -> None:
        """Flush and close every file; with ``at_least_one``, an empty run still gets a zero-row file."""
        self.flush()
        if self._writer is None and at_least_one and not self.done:
            self._open()
        if self._writer is not None:
            self._close_file()

    def discard(self, keep: frozenset[str] | set[str] = frozenset()) -> None:
        """Close and delete every temporary file (nothing of this writer stays behind but the closed
        files whose final path is in ``keep``)."""
        with contextlib.suppress(Exception):
            if self._writer is not None:
                self._writer.close()
        with contextlib.suppress(Exception):
            if self._handle is not None:
                self._handle.close()
        paths = [t for t, final, _ in self.done if final not in keep] + ([self._current[0]] if self._current else [])
        for path in paths:
            with contextlib.suppress(Exception):
                self.store.remove(path)
        self._buffer, self._writer, self._handle, self._current = [], None, None, None


def conform_table(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """Return ``table`` with ``schema``'s columns in order; columns it lacks become nulls."""
    columns = [
        table.column(f.name).cast(f.type) if f.name in table.column_names else pa.nulls(table.num_rows, f.type)
        for f in schema
    ]
    return pa.Table.from_arrays(columns, schema=schema)


def read_days(parquet: pq.ParquetFile, names: list[str], day_column: str, days: list[date | None]) -> pa.Table:
    """Read ``names`` (those the file has) of the rows of ``days`` (all rows when a day is None): a file of
    a range run holds several days, so only row groups whose statistics may hold one of them are read."""
    present = parquet.schema_arrow.names
    wanted = list(dict.fromkeys(n for n in names if n in present))
    if None in days or day_column not in present:
        return parquet.read(columns=wanted)
    index = parquet.schema_arrow.get_field_index(day_column)
    groups = []
    for g in range(parquet.metadata.num_row_groups):
        stats = parquet.metadata.row_group(g).column(index).statistics
        if stats is None or not stats.has_min_max or any(stats.min <= day <= stats.max for day in days):
            groups.append(g)
    if not groups:
        return parquet.schema_arrow.empty_table().select(wanted)
    table = parquet.read_row_groups(groups, columns=wanted)
    return table.filter(pc.is_in(table[day_column], pa.array(days, pa.date32())))


def count_duplicate_keys(store: LandingStore, stream: Stream, files: Iterable[str]) -> int:
    """How many rows of ``files`` (paths relative to the root, or absolute) repeat the stream key of
    another row of the same partition (nulls equal to nulls, as a group-by counts them)."""
    columns = ["_partition", *stream.key]
    tables = []
    for path in files:
        with store.fs.open(path if path.startswith(store.path) else store.join(path), "rb") as fh:
            tables.append(pq.ParquetFile(fh).read(columns=columns))
    keys = pa.concat_tables(tables) if tables else None
    if keys is None or keys.num_rows == 0:
        return 0
    return keys.num_rows - _distinct_rows(keys)


def _distinct_rows(table: pa.Table) -> int:
    """How many distinct rows ``table`` has: each column's dictionary codes, combined column by column
    into one code per distinct prefix (so the codes stay below rows², within int64). Not Table.group_by:
    that loads pyarrow.acero, which imports pandas (0.2 s of CPU) in a process that has not."""
    codes = None
    for column in table.columns:
        encoded = pc.dictionary_encode(column.combine_chunks(), null_encoding="encode")
        indices = encoded.indices  # no nulls (encoded); read from its buffer: to_numpy imports pandas too
        column_codes = np.frombuffer(indices.buffers()[1], dtype=np.int32)[indices.offset:indices.offset + len(indices)]
        if codes is None:
            codes = column_codes.astype(np.int64)
        else:
            codes = np.unique(codes * len(encoded.dictionary) + column_codes, return_inverse=True)[1]
    return int(np.unique(codes).size)

"""The Parquet landing zone: immutable, atomic per-(stream, partition) runs named by a manifest.

Layout under ``root`` (a local path or any fsspec URL), as in docs/contracts.md section 3::

    {stream}/partition={YYYY-MM-DD|current}/run={run_id}/part-00000-{attempt}.parquet
    _quarantine/{stream}/partition=.../run={run_id}/part-00000-{attempt}.parquet
    _manifests/{stream}/{YYYY-MM-DD|current}.json
    _locks/{stream}/{YYYY-MM-DD|current}.lock            (local roots only)

A partition's *manifest* names its current run and that run's files; readers only ever read the files a
manifest names, so a file that is being written, a failed run or a superseded run is never seen. Writing
a partition (:meth:`LandingStore.open_partition`):

1. rows are streamed into hidden temporary files (``.part-...parquet.tmp``) in bounded row groups;
2. on a clean exit every file is closed (and fsynced locally), then renamed to its final name;
3. only then the manifest is replaced atomically (temporary file + rename) by one naming this run.

An exception, or a process killed at any point, leaves the previous manifest, and so the previous rows,
exactly as they were; the leftovers are not referenced by any manifest and
:meth:`LandingStore.garbage_collect` removes them. ``attempt`` is a random token per writer, so a retried
step with the same Dagster run id never overwrites the files a manifest names.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import json
import os
import re
import secrets
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import fsspec
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from fsspec.implementations.local import LocalFileSystem

from resources.streams import Stream, get_stream

MANIFEST_VERSION = 1
CURRENT = "current"
"""Partition key of streams that are not daily-partitioned (``_partition`` is NULL)."""
RANGE_PREFIX = "range="
"""Folder prefix of the files a range run shares between the days it covers (see ``resources.landing.range_writer``)."""

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

_RUN_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_TEMPORARY_MANIFEST = re.compile(r"\.(.+)\.json\.tmp-[^/]+")  # name of a manifest being replaced
_WRITER_OWNED = ("_partition", "_run_id", "_extracted_at")
_ROW_EXTRAS = frozenset({"_raw_json", "_request"})
_PROCESS_LOCKS: dict[tuple[str, ...], threading.Lock] = {}
_PROCESS_LOCKS_GUARD = threading.Lock()


class LandingError(RuntimeError):
    """Rows or arguments the landing store cannot accept (a bug in the caller, not bad data)."""


class PartitionLocked(LandingError):
    """Another writer holds the (stream, partition): two writers never write one partition at once."""


def partition_key(partition: date | None) -> str:
    """Return the folder/manifest key of a partition: ``YYYY-MM-DD``, or ``current`` for None."""
    return CURRENT if partition is None else partition.isoformat()


def wall_clock() -> datetime:
    """The default clock of a :class:`LandingStore`: now, as an aware UTC datetime.

    It reads the time through ``resources.landing._utcnow``, looked up at each call: a harness that runs
    a whole process on a simulated clock replaces that one attribute (tests/exactness.py does); code that
    builds its own store passes ``clock=`` instead."""
    return sys.modules[__package__]._utcnow()


def _redact(url: str) -> str:
    return re.sub(r"//[^/@]*@", "//***@", url)


class LandingStore:
    """The landing zone at ``root``: a local path, a ``file://`` URL or any fsspec URL (``s3://``, ``memory://``...).

    ``storage_options`` go to fsspec (credentials belong there, never in the URL). ``row_group_size`` rows
    form one Parquet row group (the writer holds at most that many rows in memory per file it writes);
    a part file rolls over after ``rows_per_file`` rows. ``lock_timeout`` is how long
    :meth:`open_partition` waits for a partition held by another writer before raising
    :class:`PartitionLocked`. ``retention`` is how long :meth:`garbage_collect` keeps superseded runs,
    so that a reader which listed the previous files just before a swap can finish.

    Clock: ``clock`` is a callable returning an aware UTC datetime (default: :func:`wall_clock`). It dates
    every landed row (``_extracted_at``), every quarantined record (``extracted_at``), the manifests'
    ``written_at`` and ``superseded_at``, and is garbage collection's "now".

    Locking: on a local root a per-(stream, partition) ``fcntl.flock`` on ``_locks/...`` excludes writers
    in any process on the machine, and is released by the kernel if the process dies. Object storage has
    no such lock: there the lock only excludes writers in the same process, and Dagster's concurrency pools
    (one run per stream partition) must keep writers of other processes apart.
    """

    def __init__(
        self,
        root: str,
        *,
        storage_options: Mapping[str, Any] | None = None,
        row_group_size: int = 10_000,
        rows_per_file: int = 500_000,
        lock_timeout: float = 0.0,
        retention: timedelta = timedelta(days=7),
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if row_group_size < 1 or rows_per_file < 1:
            raise ValueError("row_group_size and rows_per_file must be at least 1")
        self.fs, path = fsspec.core.url_to_fs(str(root), **dict(storage_options or {}))
        self.local = isinstance(self.fs, LocalFileSystem)
        self.path = (os.path.abspath(path) if self.local else path).rstrip("/") or "/"
        """The root as the filesystem ``fs`` names it (no protocol)."""
        self.root = self.path if self.local else self.fs.unstrip_protocol(self.path)
        """The root as an absolute path (local) or a URL without credentials; manifest files are relative to it."""
        self.url = _redact(str(root))
        self.row_group_size = row_group_size
        self.rows_per_file = rows_per_file
        self.lock_timeout = lock_timeout
        self.retention = retention
        self.clock = wall_clock if clock is None else clock

    def __repr__(self) -> str:
        return f"LandingStore({self.url!r})"

    # -- paths -------------------------------------------------------------------------------------
    def _join(self, *parts: str) -> str:
        return "/".join((self.path.rstrip("/"), *parts))

    def _stream_dir(self, stream: str, quarantine: bool = False) -> str:
        return self._join("_quarantine", stream) if quarantine else self._join(stream)

    def _partition_dir(self, stream: str, key: str, quarantine: bool = False) -> str:
        return f"{self._stream_dir(stream, quarantine)}/partition={key}"

    def _manifest_path(self, stream: str, key: str) -> str:
        return self._join("_manifests", stream, f"{key}.json")

    def _relative(self, path: str) -> str:
        return path[len(self.path.rstrip("/")) + 1 :]

    def _absolute(self, relative: str) -> str:
        path = self._join(relative)
        return path if self.local else self.fs.unstrip_protocol(path)

    # -- writing -----------------------------------------------------------------------------------
    def open_partition(
        self, stream: str, partition: date | None, run_id: str, api_window: Mapping[str, Any] | None = None
    ) -> PartitionWriter:
        """Return a :class:`PartitionWriter` (a context manager) for one run of one stream partition.

        ``partition`` is the GMT day for a daily stream and None for the others. ``run_id`` (letters,
        digits, ``._-``) names the run in paths and in every row. ``api_window`` (JSON-able; dates become
        ISO strings) is recorded in the manifest. Nothing is visible to readers until the ``with`` block
        exits cleanly; the partition lock is taken on entry.
        """
        spec = get_stream(stream)
        window = checked_run(spec, [partition], run_id, api_window)
        return PartitionWriter(self, spec, partition, run_id, window)

    @contextlib.contextmanager
    def _locked(self, stream: str, key: str) -> Iterator[None]:
        """Hold the (stream, partition) lock; raise PartitionLocked after ``lock_timeout`` seconds."""
        deadline = time.monotonic() + self.lock_timeout
        if not self.local:
            ident = (self.root, stream, key)
            with _PROCESS_LOCKS_GUARD:
                lock = _PROCESS_LOCKS.setdefault(ident, threading.Lock())
            got = lock.acquire(timeout=self.lock_timeout) if self.lock_timeout > 0 else lock.acquire(blocking=False)
            if not got:
                raise PartitionLocked(f"{stream} partition {key} is being written by another writer in this process")
            try:
                yield
            finally:
                lock.release()
            return
        path = self._join("_locks", stream, f"{key}.lock")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
                        raise PartitionLocked(
                            f"{stream} partition {key} is being written by another writer (pid {holder}, lock {path}); "
                            "two writers never write the same partition at once"
                        ) from None
                    time.sleep(0.05)
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def _put_atomic(self, path: str, data: bytes) -> None:
        """Replace ``path`` with ``data`` so a reader sees the old or the new content, never a mix."""
        self._put_many_atomic([(path, data)])

    def _put_many_atomic(self, files: list[tuple[str, bytes]]) -> None:
        """Replace each path with its data, each atomically (old or new content, never a mix); locally
        every new content is durable before any rename, and the renames are durable on return."""
        staged, made = [], set()
        for path, data in files:
            directory, name = path.rsplit("/", 1)
            tmp = f"{directory}/.{name}.tmp-{secrets.token_hex(4)}"
            if directory not in made:
                self.fs.makedirs(directory, exist_ok=True)
                made.add(directory)
            if self.local:
                with open(tmp, "wb") as fh:
                    fh.write(data)
            else:  # object stores: a single PUT is atomic; the copy keeps other fsspec backends safe too
                self.fs.pipe_file(tmp, data)
            staged.append((tmp, path))
        if self.local:
            make_durable(tmp for tmp, _ in staged)
        for tmp, path in staged:
            self._rename(tmp, path)
        if self.local:
            make_durable(made)

    def _rename(self, src: str, dst: str) -> None:
        if self.local:
            os.replace(src, dst)
        else:
            self.fs.mv(src, dst)

    def _remove(self, path: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm_file(path)

    # -- reading -----------------------------------------------------------------------------------
    def manifest(self, stream: str, partition: date | None) -> dict | None:
        """Return the manifest of one partition (its current run), or None if it was never landed.

        Keys: ``version, stream, partition`` (ISO day or null), ``run_id, attempt, files`` (paths relative
        to the root), ``file_rows, rows, quarantined, quarantine_files, written_at, api_window,
        superseded`` (earlier runs kept until garbage collection).
        """
        get_stream(stream)
        return self._read_manifest(stream, partition_key(partition))

    def _read_manifest(self, stream: str, key: str) -> dict | None:
        path = self._manifest_path(stream, key)
        try:
            if self.local:
                with open(path, "rb") as fh:
                    return orjson.loads(fh.read())
            return orjson.loads(self.fs.cat_file(path))
        except FileNotFoundError:
            return None

    def _manifest_keys(self, stream: str) -> list[str]:
        files = (n.rsplit("/", 1)[-1] for n in self._manifest_dir_listing(stream))
        return sorted(f[: -len(".json")] for f in files if f.endswith(".json") and not f.startswith("."))

    def _manifest_dir_listing(self, stream: str) -> list[str]:
        try:
            return self.fs.ls(self._join("_manifests", stream), detail=False)
        except FileNotFoundError:
            return []

    def manifests(self, stream: str) -> list[dict]:
        """Return every partition's manifest of ``stream``, in partition order."""
        get_stream(stream)
        found = (self._read_manifest(stream, k) for k in self._manifest_keys(stream))
        return [m for m in found if m is not None]

    def partitions(self, stream: str) -> list[date | None]:
        """Return the landed partitions of ``stream`` (days in order; ``[None]`` for a non-daily stream)."""
        return [None if m["partition"] is None else date.fromisoformat(m["partition"]) for m in self.manifests(stream)]

    def current_files(self, stream: str) -> list[str]:
        """Return the absolute paths (local root) or URLs of every current run's data files of ``stream``.

        Every partition with a manifest contributes at least one file (an empty run writes one zero-row
        file), no file of a superseded or unfinished run is listed, and each file is listed once. A file
        written by a range run holds several days: a daily partition's rows are those of its files whose
        ``_partition`` is that day (what :meth:`read_table` and the warehouse read).
        """
        return list(dict.fromkeys(self._absolute(f) for m in self.manifests(stream) for f in m["files"]))

    def current_quarantine_files(self, stream: str) -> list[str]:
        """Return the absolute paths or URLs of the current runs' quarantine files (may be empty), each once."""
        return list(dict.fromkeys(self._absolute(f) for m in self.manifests(stream) for f in m["quarantine_files"]))

    def _selected(self, stream: str, partition: date | Iterable[date] | None) -> list[dict]:
        spec = get_stream(stream)
        if partition is None:
            return self.manifests(stream)
        if not spec.daily:
            raise LandingError(f"stream {stream} is not daily-partitioned: read it with partition=None")
        days = [partition] if isinstance(partition, date) else sorted(set(partition))
        found = (self.manifest(stream, day) for day in days)
        return [m for m in found if m is not None]

    def read_table(self, stream: str, partition: date | Iterable[date] | None = None,
                   columns: Iterable[str] | None = None) -> pa.Table:
        """Return the current rows of one partition, of several days (an iterable of dates), or of every
        partition when ``partition`` is None; partitions in order, each one's rows in landed order.

        The table has exactly the stream's schema, or only ``columns`` in that order (files landed before
        a column was added get nulls). An unknown column raises LandingError.
        """
        schema = get_stream(stream).schema
        if columns is not None:
            columns = list(columns)
            unknown = [c for c in columns if c not in schema.names]
            if unknown:
                raise LandingError(f"stream {stream} has no columns {unknown}")
            schema = pa.schema([schema.field(c) for c in columns])
        return self._read(self._selected(stream, partition), "files", "_partition", schema)

    def read_quarantine(self, stream: str, partition: date | Iterable[date] | None = None) -> pa.Table:
        """Return the current quarantined records of one partition, of several days, or of all when
        ``partition`` is None."""
        return self._read(self._selected(stream, partition), "quarantine_files", "partition", QUARANTINE_SCHEMA)

    def _read(self, manifests: list[dict], files_key: str, day_column: str, schema: pa.Schema) -> pa.Table:
        # a file shared by several days (a range run) is read once, for the days whose manifest names it
        days_of: dict[str, list[date | None]] = {}
        for manifest in manifests:
            day = None if manifest["partition"] is None else date.fromisoformat(manifest["partition"])
            for relative in manifest[files_key]:
                days_of.setdefault(relative, []).append(day)
        tables, order = [], []
        for relative, days in days_of.items():
            with self.fs.open(self._join(relative), "rb") as fh:
                table = _read_days(pq.ParquetFile(fh), [*schema.names, day_column], day_column, days)
            tables.append(conform_table(table, schema))
            order.append(table[day_column] if day_column in table.column_names else pa.nulls(len(table), pa.date32()))
        if not tables:
            return schema.empty_table()
        table = pa.concat_tables(tables)
        if len(manifests) > 1:  # partitions in order, each one's rows as landed (the sort is stable)
            days = pa.chunked_array([c.cast(pa.date32()) for c in order])
            table = table.take(pc.sort_indices(days))
        return table

    # -- garbage collection ------------------------------------------------------------------------
    def garbage_collect(self, stream: str, *, retention: timedelta | None = None, now: datetime | None = None) -> list[str]:
        """Remove files of ``stream`` that no reader needs; return what was removed (absolute paths/URLs).

        Removed: files of runs superseded more than ``retention`` (default: the store's) ago, and leftovers
        of failed or killed writers (temporary files, files no manifest names): at once on a local root,
        where the partition (or range) lock proves no writer owns them, otherwise once older than
        ``retention``. Never removed: a file any manifest names as current, or as superseded within
        ``retention`` (a range run's file is shared by the manifests of its days). A partition or range
        being written is skipped.
        """
        get_stream(stream)
        retention = self.retention if retention is None else retention
        now = self.clock() if now is None else now if now.tzinfo else now.replace(tzinfo=UTC)
        cutoff = now - retention
        keys = set(self._manifest_keys(stream))
        ranges: set[str] = set()
        for quarantine in (False, True):
            with contextlib.suppress(FileNotFoundError):
                listed = self.fs.ls(self._stream_dir(stream, quarantine), detail=False)
                keys |= {p.rsplit("/partition=", 1)[-1] for p in listed if "/partition=" in p}
                ranges |= {p.rsplit("/", 1)[-1] for p in listed if p.rsplit("/", 1)[-1].startswith(RANGE_PREFIX)}
        needed = self._needed_files(stream, cutoff)
        temporary_manifests: dict[str, list[str]] = {}  # of writers killed while committing, by partition key
        for path in self._manifest_dir_listing(stream):
            found = _TEMPORARY_MANIFEST.fullmatch(path.rsplit("/", 1)[-1])
            if found:
                temporary_manifests.setdefault(found.group(1), []).append(path)
        removed: list[str] = []
        for key in sorted(keys):
            try:
                with self._locked(stream, key):
                    removed += self._collect_partition(stream, key, cutoff, needed, temporary_manifests.get(key, []))
            except PartitionLocked:
                continue
        for key in sorted(ranges):
            try:
                with self._locked(stream, key):
                    removed += self._collect_files(stream, key, cutoff, needed)
            except PartitionLocked:
                continue
        return removed

    def _needed_files(self, stream: str, cutoff: datetime) -> set[str]:
        """Files some manifest of ``stream`` names as current, or as superseded after ``cutoff``."""
        needed: set[str] = set()
        for manifest in self.manifests(stream):
            needed |= set(manifest["files"]) | set(manifest["quarantine_files"])
            for old in manifest.get("superseded", []):
                if datetime.fromisoformat(old["superseded_at"]) >= cutoff:
                    needed |= set(old["files"]) | set(old["quarantine_files"])
        return needed

    def _collect_partition(self, stream: str, key: str, cutoff: datetime, needed: set[str],
                           temporary_manifests: list[str]) -> list[str]:
        manifest = self._read_manifest(stream, key)
        keep: set[str] = set()  # besides ``needed``: this partition's files (read under its lock)
        expired: list[str] = []
        if manifest is not None:
            keep |= set(manifest["files"]) | set(manifest["quarantine_files"])
            still = []
            for old in manifest.get("superseded", []):
                if datetime.fromisoformat(old["superseded_at"]) < cutoff:
                    expired += old["files"] + old["quarantine_files"]
                else:
                    still.append(old)
                    keep |= set(old["files"]) | set(old["quarantine_files"])
            if len(still) != len(manifest.get("superseded", [])):
                self._put_atomic(self._manifest_path(stream, key), _dump({**manifest, "superseded": still}))
        removed = []
        for relative in expired:
            if relative not in keep and relative not in needed:
                self._remove(self._join(relative))
                removed.append(self._absolute(relative))
        for path in temporary_manifests:
            if self.local or _older_than(self.fs, path, cutoff):
                self._remove(path)
                removed.append(self._absolute(self._relative(path)))
        return removed + self._collect_files(stream, f"partition={key}", cutoff, needed, keep)

    def _collect_files(self, stream: str, folder: str, cutoff: datetime, keep: set[str],
                       also_keep: set[str] = frozenset()) -> list[str]:
        """Remove the files under ``{stream}/{folder}`` (data and quarantine) that ``keep`` and
        ``also_keep`` do not name."""
        removed = []
        for quarantine in (False, True):
            directory = f"{self._stream_dir(stream, quarantine)}/{folder}"
            for path in self.fs.find(directory):
                relative = self._relative(path)
                if relative in keep or relative in also_keep or (
                        not self.local and not _older_than(self.fs, path, cutoff)):
                    continue
                self._remove(path)
                removed.append(self._absolute(relative))
            if self.local:
                _remove_empty_dirs(directory)
        return removed


def count_duplicate_keys(store: LandingStore, stream: Stream, files: Iterable[str]) -> int:
    """How many rows of ``files`` (paths relative to the root, or absolute) repeat the stream key of
    another row of the same partition."""
    columns = ["_partition", *stream.key]
    tables = []
    for path in files:
        with store.fs.open(path if path.startswith(store.path) else store._join(path), "rb") as fh:
            tables.append(pq.ParquetFile(fh).read(columns=columns))
    keys = pa.concat_tables(tables) if tables else None
    if keys is None or keys.num_rows == 0:
        return 0
    return keys.num_rows - keys.group_by(columns).aggregate([]).num_rows


def checked_run(spec: Stream, partitions: Iterable[date | None], run_id: str,
                api_window: Mapping[str, Any] | None) -> dict | None:
    """Return the api window as JSON-able values once the partitions (days of a daily stream, None
    otherwise) and the run id are valid for ``spec``; else raise LandingError saying which is not."""
    for partition in partitions:
        if spec.daily:
            if not isinstance(partition, date) or isinstance(partition, datetime):
                raise LandingError(
                    f"stream {spec.name} is daily-partitioned: partition must be a date, got {partition!r}")
        elif partition is not None:
            raise LandingError(f"stream {spec.name} is not daily-partitioned: partition must be None, got {partition!r}")
    if not isinstance(run_id, str) or not _RUN_ID_RE.fullmatch(run_id):
        raise LandingError(f"run_id {run_id!r} must be 1-128 letters, digits, '.', '_' or '-'")
    return None if api_window is None else json.loads(json.dumps(dict(api_window), default=_iso))


def _iso(value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"api_window value of type {type(value).__name__} is not JSON-able")


def _dump(manifest: dict) -> bytes:
    return orjson.dumps(manifest, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)


def _load_syncfs():
    try:
        syncfs = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None
    syncfs.argtypes = [ctypes.c_int]
    return syncfs


_SYNCFS = _load_syncfs() if sys.platform.startswith("linux") else None
_SYNCFS_FROM = 8  # below this many paths, an fsync of each costs less than flushing the whole filesystem


def make_durable(paths: Iterable[str]) -> None:
    """Return once the content of the given local files and directories (a directory: its entries, so
    renames into it) is on stable storage. Many paths cost one ``syncfs`` per filesystem where Linux has
    it; otherwise each path is fsynced."""
    paths = list(dict.fromkeys(paths))
    if _SYNCFS is not None and len(paths) >= _SYNCFS_FROM:
        one_per_device = {os.stat(path).st_dev: path for path in paths}
        if all(_syncfs(path) for path in one_per_device.values()):
            return
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _syncfs(path: str) -> bool:
    fd = os.open(path, os.O_RDONLY)
    try:
        return _SYNCFS(fd) == 0
    finally:
        os.close(fd)


def _older_than(fs: Any, path: str, cutoff: datetime) -> bool:
    try:
        modified = fs.modified(path)
    except (NotImplementedError, FileNotFoundError, OSError):
        return False
    if modified.tzinfo is None:
        modified = modified.replace(tzinfo=UTC)
    return modified < cutoff


def _remove_empty_dirs(directory: str) -> None:
    for current, _dirs, _files in sorted(os.walk(directory), key=lambda t: -len(t[0])):
        with contextlib.suppress(OSError):
            os.rmdir(current)


def conform_table(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """Return ``table`` with ``schema``'s columns in order; columns it lacks become nulls."""
    columns = [
        table.column(f.name).cast(f.type) if f.name in table.column_names else pa.nulls(table.num_rows, f.type)
        for f in schema
    ]
    return pa.Table.from_arrays(columns, schema=schema)


def _read_days(parquet: pq.ParquetFile, names: list[str], day_column: str, days: list[date | None]) -> pa.Table:
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


class _RollingParquet:
    """Writes rows into Parquet part files under temporary names, one row group per ``row_group_size``
    rows, a new part file every ``rows_per_file`` rows. Holds at most one row group of rows in memory.

    With ``day_column``, ``days[i]`` counts the rows of each day in ``done[i]`` (a range run's files hold
    several days). With ``durable=False`` a closed file is not fsynced: the caller makes many files
    durable at once (:func:`make_durable`) before naming them. ``buffer_rows`` (at most
    ``row_group_size``) makes smaller row groups to hold fewer rows in memory.
    """

    def __init__(self, store: LandingStore, directory: str, attempt: str, schema: pa.Schema, label: str,
                 *, day_column: str | None = None, durable: bool = True, buffer_rows: int | None = None):
        self.store, self.directory, self.attempt, self.schema, self.label = store, directory, attempt, schema, label
        self._buffer_rows = buffer_rows or store.row_group_size
        self.done: list[tuple[str, str, int]] = []  # (temporary path, final path, rows) of closed files
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
        return len(self.done) + (self._current is not None)

    def append(self, row: tuple) -> None:
        self._buffer.append(row)
        if len(self._buffer) >= self._buffer_rows:
            self.flush()

    def flush(self) -> None:
        if not self._buffer:
            return
        table = _to_table(self._buffer, self.schema, self.label)
        self._buffer = []
        offset = 0
        while offset < table.num_rows:
            if self._writer is None:
                self._open()
            take = min(table.num_rows - offset, self.store.rows_per_file - self._file_rows)
            part = table.slice(offset, take)
            self._writer.write_table(part, row_group_size=self.store.row_group_size)
            if self._day_column is not None:
                self._file_days.update({e["values"]: e["counts"] for e in part[self._day_column].value_counts().to_pylist()})
            self._file_rows += take
            offset += take
            if self._file_rows >= self.store.rows_per_file:
                self._close_file()

    def _open(self) -> None:
        index = len(self.done)
        final = f"{self.directory}/part-{index:05d}-{self.attempt}.parquet"
        temporary = f"{self.directory}/.part-{index:05d}-{self.attempt}.parquet.tmp"
        self.store.fs.makedirs(self.directory, exist_ok=True)
        self._handle = open(temporary, "wb") if self.store.local else self.store.fs.open(temporary, "wb")
        self._current = (temporary, final)
        self._writer = pq.ParquetWriter(self._handle, self.schema, compression="zstd", memory_pool=_WRITER_POOL)
        self._file_rows = 0

    def _close_file(self) -> None:
        self._writer.close()
        if self.store.local and self._durable:
            self._handle.flush()
            os.fsync(self._handle.fileno())
        self._handle.close()
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

    def discard(self) -> None:
        """Close and delete every temporary file (nothing of this writer stays behind)."""
        with contextlib.suppress(Exception):
            if self._writer is not None:
                self._writer.close()
        with contextlib.suppress(Exception):
            if self._handle is not None:
                self._handle.close()
        paths = [t for t, _, _ in self.done] + ([self._current[0]] if self._current else [])
        for path in paths:
            with contextlib.suppress(Exception):
                self.store._remove(path)
        self._buffer, self._writer, self._handle, self._current = [], None, None, None


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


def _to_table(rows: list[tuple], schema: pa.Schema, label: str) -> pa.Table:
    """Rows (tuples of values in ``schema`` order) as an Arrow table; a value that does not fit its column
    raises LandingError naming the column and the Python types it got, never the values."""
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in schema]
    arrays = []
    for f, values in zip(schema, columns, strict=True):
        try:
            arrays.append(pa.array(values, type=f.type, memory_pool=_WRITER_POOL))
        except (pa.ArrowException, TypeError, ValueError, OverflowError):
            kinds = sorted({type(v).__name__ for v in values})
            raise LandingError(f"{label}: column {f.name!r} ({f.type}) cannot hold values of type {kinds}") from None
    return pa.Table.from_arrays(arrays, schema=schema)


class _WriterBlock:
    """The ``with`` block of a writer: a clean exit commits, an exception discards, and the lock taken on
    entry (``_lock``, an ExitStack) is released either way."""

    _lock: contextlib.ExitStack | None

    def __exit__(self, exc_type, exc, tb) -> bool:
        if self._lock is None:
            return False
        try:
            if exc_type is None:
                self._commit()
            else:
                self._discard()
        finally:
            lock, self._lock = self._lock, None
            lock.close()
        return False

    def _commit(self) -> None:
        raise NotImplementedError

    def _discard(self) -> None:
        raise NotImplementedError


class PartitionWriter(_WriterBlock):
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
        self.attempt: str | None = None
        self._allowed = frozenset(stream.columns) | _ROW_EXTRAS
        self._lock: contextlib.ExitStack | None = None
        self._data: _RollingParquet | None = None
        self._quarantine: _RollingParquet | None = None

    @property
    def files(self) -> int:
        return 0 if self._data is None else self._data.files

    def __enter__(self) -> PartitionWriter:
        if self.attempt is not None:
            raise LandingError("a PartitionWriter is used once; open a new one for another run")
        lock = contextlib.ExitStack()
        lock.enter_context(self.store._locked(self.stream.name, self.key))
        self._lock = lock
        attempt = self.attempt = secrets.token_hex(4)
        run = f"run={self.run_id}"
        label = f"{self.stream.name} partition {self.key}"
        self._data = _RollingParquet(
            self.store, f"{self.store._partition_dir(self.stream.name, self.key)}/{run}", attempt, self.stream.schema, label
        )
        self._quarantine = _RollingParquet(
            self.store, f"{self.store._partition_dir(self.stream.name, self.key, True)}/{run}", attempt,
            QUARANTINE_SCHEMA, f"quarantine of {label}",
        )
        return self

    def _require_open(self) -> None:
        if self._lock is None:
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

    def _discard(self) -> None:
        for part in (self._data, self._quarantine):
            part.discard()

    def _commit(self) -> None:
        store, renamed, committed = self.store, [], False
        try:
            self._data.finish(at_least_one=True)
            self._quarantine.finish(at_least_one=False)
            for temporary, final, _ in self._data.done + self._quarantine.done:
                store._rename(temporary, final)
                renamed.append(final)
            if store.local:
                make_durable({d.directory for d in (self._data, self._quarantine) if d.done})
            self.duplicate_keys = count_duplicate_keys(store, self.stream, [final for _, final, _ in self._data.done])
            manifest = self._manifest(store._read_manifest(self.stream.name, self.key))
            store._put_atomic(store._manifest_path(self.stream.name, self.key), _dump(manifest))
            committed = True
            self.manifest = manifest
        finally:
            if not committed:
                self._discard()
                for path in renamed:
                    with contextlib.suppress(Exception):
                        store._remove(path)

    def _manifest(self, previous: dict | None) -> dict:
        return next_manifest(
            previous, self.store, self.stream.name, self.partition, self.run_id, self.attempt, self.api_window,
            files=[(final, rows) for _, final, rows in self._data.done], rows=self.rows,
            quarantine_files=[final for _, final, _ in self._quarantine.done], quarantined=self.quarantined,
        )


def append_values(data: _RollingParquet, stream: Stream, partition: date | None, run_id: str, raw_json: str,
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


def next_manifest(previous: dict | None, store: LandingStore, stream: str, partition: date | None, run_id: str,
                  attempt: str, api_window: dict | None, *, files: list[tuple[str, int]], rows: int,
                  quarantine_files: list[str], quarantined: int) -> dict:
    """The manifest naming a new current run of one partition (``files``: absolute paths and their rows),
    the previous run moved to ``superseded`` (kept until garbage collection); dated by the store's clock."""
    now = store.clock()
    superseded = [] if previous is None else list(previous.get("superseded", []))
    if previous is not None:
        superseded.append({key: previous[key] for key in ("run_id", "attempt", "files", "quarantine_files")}
                          | {"superseded_at": now.isoformat()})
    return {
        "version": MANIFEST_VERSION,
        "stream": stream,
        "partition": None if partition is None else partition.isoformat(),
        "run_id": run_id,
        "attempt": attempt,
        "files": [store._relative(final) for final, _ in files],
        "file_rows": [count for _, count in files],
        "rows": rows,
        "quarantined": quarantined,
        "quarantine_files": [store._relative(final) for final in quarantine_files],
        "written_at": now.isoformat(),
        "api_window": api_window,
        "superseded": superseded,
    }

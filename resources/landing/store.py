"""The Parquet landing zone: immutable, atomic per-(stream, partition) runs named by a manifest.

Layout under ``root`` (a local path or any fsspec URL), as in docs/contracts.md section 3::

    {stream}/partition={YYYY-MM-DD|current}/run={run_id}/part-00000-{attempt}.parquet
    {stream}/range={first}--{last}/run={run_id}/part-00000-{attempt}.parquet    (range runs)
    _quarantine/{stream}/partition=.../run={run_id}/part-00000-{attempt}.parquet
    _manifests/{stream}/month={YYYY-MM}.json, current.json   (see manifest_files.py)
    _locks/{stream}/days.lock, {current|range=...}.lock  (local roots only; see locks.py)

A partition's *manifest* names its current run and that run's files; readers only ever read the files a
manifest names, so a file that is being written, a failed run or a superseded run is never seen. The
writers (``writer.py``, ``range_writer.py``) replace a manifest only once the files it names are in
place; :meth:`LandingStore.garbage_collect` removes what no manifest needs any more.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import fsspec
import pyarrow as pa
from fsspec.implementations.local import LocalFileSystem

from resources.streams import get_stream

from . import gc, manifest_files
from .durability import put_many_atomic, rename
from .errors import LandingError
from .manifest import checked_run, partition_key
from .policies import PREFIX, landed_policies, policy_dir
from .reads import read_manifested
from .settling import Relisting
from .writer import QUARANTINE_SCHEMA, PartitionWriter

log = logging.getLogger(__name__)


def wall_clock() -> datetime:
    """The default clock of a :class:`LandingStore`: now, as an aware UTC datetime. A store that must
    date its records otherwise (a sandbox's virtual clock, ``COFASYNC_NOW``) is given ``clock=``."""
    return datetime.now(UTC)


def _redact(url: str) -> str:
    return re.sub(r"//[^/@]*@", "//***@", url)


class LandingStore:
    """The landing zone at ``root``: a local path, a ``file://`` URL or any fsspec URL (``s3://``, ``memory://``...).

    ``storage_options`` go to fsspec (credentials belong there, never in the URL). ``row_group_size`` rows
    form one Parquet row group (the writer holds at most that many rows in memory per file it writes);
    a part file rolls over after ``rows_per_file`` rows. ``lock_timeout`` is how long
    :meth:`open_partition` waits for a partition held by another writer before raising
    :class:`PartitionLocked`. ``checkpoint_seconds``: a long range run of a by-id stream commits the
    days it has finished at least this often (``RangeWriter.checkpoint``). ``relisting``: how a run lands
    a day that already has one (``settling.py``; default: it replaces it). ``retention`` is how long
    :meth:`garbage_collect` keeps superseded runs, so that a reader which listed the previous files just
    before a swap can finish.

    Policies (``policies.py``): with ``policy``, the store is that policy's zone, the folder
    ``policy={policy}`` under ``root`` (the account's root); :meth:`for_policy` gives another policy's.

    Clock: ``clock`` is a callable returning an aware UTC datetime (default: :func:`wall_clock`). It dates
    every landed row (``_extracted_at``), every quarantined record (``extracted_at``), the manifests'
    ``written_at`` and ``superseded_at``, and is garbage collection's "now".

    Locking (``locks.py``): on a local root a per-(stream, partition) kernel lock under ``_locks/...`` (a
    byte range of the stream's ``days.lock`` for a day on Linux, else an ``fcntl.flock`` of the key's own
    file) excludes writers in any process on the machine, and is released by the kernel if the process dies.
    Object storage has no such lock: there the lock only excludes writers in the same process, and
    Dagster's concurrency pools (one run per stream partition) must keep writers of other processes apart.
    """

    def __init__(
        self,
        root: str,
        *,
        storage_options: Mapping[str, Any] | None = None,
        row_group_size: int = 10_000,
        rows_per_file: int = 500_000,
        lock_timeout: float = 0.0,
        checkpoint_seconds: float = 120.0,
        retention: timedelta = timedelta(days=7),
        clock: Callable[[], datetime] | None = None,
        relisting: Relisting | None = None,
        policy: str | None = None,
    ) -> None:
        if row_group_size < 1 or rows_per_file < 1:
            raise ValueError("row_group_size and rows_per_file must be at least 1")
        self.fs, path = fsspec.core.url_to_fs(str(root), **dict(storage_options or {}))
        self.local = isinstance(self.fs, LocalFileSystem)
        self.account_path = (os.path.abspath(path) if self.local else path).rstrip("/") or "/"
        """The account's root (as ``fs`` names it): the policies' folders are under it."""
        self.policy = policy
        """The policy whose zone this is (``policies.py``), or None for a store rooted at ``root`` itself."""
        self.path = self.account_path if policy is None else policy_dir(self.account_path, policy)
        self.storage_options = dict(storage_options or {})
        """The root as the filesystem ``fs`` names it (no protocol)."""
        self.root = self.path if self.local else self.fs.unstrip_protocol(self.path)
        """The root as an absolute path (local) or a URL without credentials; manifest files are relative to it."""
        self.url = _redact(str(root)) + ("" if policy is None else f"/{PREFIX}{policy}")
        self.row_group_size = row_group_size
        self.rows_per_file = rows_per_file
        self.lock_timeout = lock_timeout
        self.checkpoint_seconds = checkpoint_seconds
        self.retention = retention
        self.clock = wall_clock if clock is None else clock
        self.relisting = relisting or Relisting()

    def __repr__(self) -> str:
        return f"LandingStore({self.url!r})"

    def for_policy(self, policy: str) -> LandingStore:
        """The store of ``policy``'s zone under the same account root, with this store's settings."""
        store = object.__new__(LandingStore)
        store.__dict__.update(self.__dict__)
        store.policy, store.path = policy, policy_dir(self.account_path, policy)
        store.root = store.path if self.local else self.fs.unstrip_protocol(store.path)
        store.url = self.url.split(f"/{PREFIX}")[0] + f"/{PREFIX}{policy}"
        return store

    def with_relisting(self, relisting: Relisting) -> LandingStore:
        """This store, its runs landing days as ``relisting`` says (extending or replacing a day's run)."""
        store = object.__new__(LandingStore)
        store.__dict__.update(self.__dict__)
        store.relisting = relisting
        return store

    def policies(self) -> list[str]:
        """The policies that have a zone under this store's account root, in order."""
        return landed_policies(self.fs, self.account_path)

    # -- paths (as ``fs`` names them) ----------------------------------------------------------------
    def join(self, *parts: str) -> str:
        """The path of ``parts`` (relative path pieces) under the root."""
        return "/".join((self.path.rstrip("/"), *parts))

    def stream_dir(self, stream: str, quarantine: bool = False) -> str:
        """The folder of a stream's data files, or of its quarantine files."""
        return self.join("_quarantine", stream) if quarantine else self.join(stream)

    def partition_dir(self, stream: str, key: str, quarantine: bool = False) -> str:
        """The folder of one partition's runs (data or quarantine); ``key`` from :func:`partition_key`."""
        return f"{self.stream_dir(stream, quarantine)}/partition={key}"

    def manifest_path(self, stream: str, key: str) -> str:
        """The file that holds the manifest of partition ``key``: its month file for a day
        (``manifest_files.py``), ``current.json`` otherwise."""
        return manifest_files.path_of(self, stream, key)

    def relative(self, path: str) -> str:
        """``path`` (under the root) relative to the root, as manifests name files."""
        return path[len(self.path.rstrip("/")) + 1 :]

    def absolute(self, relative: str) -> str:
        """A manifest's relative path as readers open it: an absolute path (local root) or a URL."""
        path = self.join(relative)
        return path if self.local else self.fs.unstrip_protocol(path)

    # -- file operations (the writers and garbage collection go through these) ------------------------
    def put_atomic(self, path: str, data: bytes) -> None:
        """Replace ``path`` with ``data`` so a reader sees the old or the new content, never a mix."""
        self.put_many_atomic([(path, data)])

    def put_many_atomic(self, files: list[tuple[str, bytes]]) -> None:
        """Replace each path with its data, each atomically (see :func:`durability.put_many_atomic`)."""
        put_many_atomic(self.fs, files)

    def rename(self, src: str, dst: str) -> None:
        """Rename ``src`` to ``dst``, replacing it (atomic on a local root)."""
        rename(self.fs, src, dst)

    def remove(self, path: str) -> None:
        """Remove the file ``path``, if it is there."""
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm_file(path)

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

    # -- reading -----------------------------------------------------------------------------------
    def manifest(self, stream: str, partition: date | None) -> dict | None:
        """Return the manifest of one partition (its current run), or None if it was never landed.

        Keys: ``version, stream, partition`` (ISO day or null), ``run_id, attempt, files`` (paths relative
        to the root), ``file_rows, rows, quarantined, quarantine_files, written_at, api_window,
        superseded`` (earlier runs kept until garbage collection).
        """
        get_stream(stream)
        return self.read_manifest(stream, partition_key(partition))

    def read_manifest(self, stream: str, key: str) -> dict | None:
        """Return the manifest of partition key ``key`` (see :func:`partition_key`), or None; DamagedLanding
        when the file that holds it is damaged."""
        return manifest_files.read_many(self, stream, [key]).get(key)

    def previous_manifests(self, stream: str, keys: list[str]) -> dict[str, dict]:
        """The manifests new runs of ``keys`` supersede ({key: manifest} of those landed): as
        :meth:`read_manifest` reads them, except that a damaged one (empty, garbled) is replaced rather than
        refused, so re-extracting the day repairs it."""
        return manifest_files.read_many(self, stream, keys, damaged_as_absent=True)

    def replace_manifests(self, stream: str, manifests: Mapping[str, dict]) -> None:
        """File ``manifests`` ({partition key: manifest}) as their partitions' current manifests, each file
        replaced atomically and durably (``manifest_files.replace``); the caller holds those partitions'
        locks."""
        manifest_files.replace(self, stream, manifests)

    def manifest_keys(self, stream: str) -> list[str]:
        """Return the partition keys of ``stream`` that have a manifest, in order."""
        return list(manifest_files.read_all(self, stream))

    def manifests(self, stream: str) -> list[dict]:
        """Return every partition's manifest of ``stream``, in partition order."""
        get_stream(stream)
        return list(manifest_files.read_all(self, stream).values())

    def partitions(self, stream: str) -> list[date | None]:
        """Return the landed partitions of ``stream`` (days in order; ``[None]`` for a non-daily stream)."""
        return [None if m["partition"] is None else date.fromisoformat(m["partition"]) for m in self.manifests(stream)]

    def current_files(self, stream: str) -> list[str]:
        """Return the absolute paths (local root) or URLs of every current run's data files of ``stream``,
        each once: at least one per partition (an empty run names a zero-row file), none of a superseded or
        unfinished run. A daily partition's rows are those of its files whose ``_partition`` is that day."""
        return list(dict.fromkeys(self.absolute(f) for m in self.manifests(stream) for f in m["files"]))

    def current_quarantine_files(self, stream: str) -> list[str]:
        """Return the absolute paths or URLs of the current runs' quarantine files (may be empty), each once."""
        return list(dict.fromkeys(self.absolute(f) for m in self.manifests(stream) for f in m["quarantine_files"]))

    def _selected(self, stream: str, partition: date | Iterable[date] | None) -> list[dict]:
        spec = get_stream(stream)
        if partition is None:
            return self.manifests(stream)
        if not spec.daily:
            raise LandingError(f"stream {stream} is not daily-partitioned: read it with partition=None")
        keys = [partition_key(day) for day in ([partition] if isinstance(partition, date) else sorted(set(partition)))]
        found = manifest_files.read_many(self, stream, keys)
        return [found[key] for key in keys if key in found]

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
        return read_manifested(self, manifests, files_key, day_column, schema)

    # -- garbage collection ------------------------------------------------------------------------
    def garbage_collect(self, stream: str, *, retention: timedelta | None = None, now: datetime | None = None) -> list[str]:
        """Remove files of ``stream`` that no reader needs; return what was removed (absolute paths/URLs).

        Removed: files of runs superseded more than ``retention`` (default: the store's) ago, and leftovers
        of failed or killed writers (temporary files, files no manifest names): at once on a local root,
        where the partition (or range) lock proves no writer owns them, otherwise once older than
        ``retention``. Never removed: a file any manifest names as current, or as superseded within
        ``retention`` (a range run's file is shared by the manifests of its days). A partition or range
        being written is skipped. ``now`` defaults to the store's clock (a naive ``now`` is UTC).
        """
        get_stream(stream)
        retention = self.retention if retention is None else retention
        now = self.clock() if now is None else now if now.tzinfo else now.replace(tzinfo=UTC)
        return gc.collect(self, stream, now - retention)

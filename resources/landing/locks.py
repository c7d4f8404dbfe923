"""The writer locks of one (stream, partition) or (stream, range): two writers never write it at once.

On a local root the locks are the kernel's, under ``_locks/{stream}/``. They exclude writers in any
process on the machine, and two writers in one process alike; the kernel releases them if the process
dies; the lock names the holder's pid.

- A day partition (key ``YYYY-MM-DD``) is, on Linux, a byte range of the stream's one day-lock file
  ``_locks/{stream}/days.lock`` (an open file description lock, ``F_OFD_SETLK``): the day's
  ``DAY_SLOT`` bytes at ``DAY_SLOT × its ordinal``, where the holder writes its pid. A writer takes
  the days of a whole range with one lock call per run of consecutive days, and no file per day.
- Any other key (``current``, ``range=...``, ``month=...``: a month file of manifests being replaced), and
  every key where those locks do not exist (macOS), is
  an ``fcntl.flock`` on its own file ``_locks/{stream}/{key}.lock``, which holds the holder's pid.

Every writer of one root must therefore run on the same kind of system (a root is local to one machine).
Object storage has no such lock: there the lock only excludes writers in the same process, and
Dagster's concurrency pools (one run per stream partition) must keep writers of other processes apart.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import platform
import re
import struct
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from datetime import date
from typing import TYPE_CHECKING

from .errors import PartitionLocked

if TYPE_CHECKING:
    from .store import LandingStore

DAY_LOCKS = (sys.platform.startswith("linux") and platform.machine() in ("x86_64", "aarch64")
             and hasattr(fcntl, "F_OFD_SETLK"))
"""True where day partitions are locked as byte ranges of one file per stream (see the module docstring)."""
DAY_LOCK_FILE = "days.lock"
DAY_SLOT = 8
"""Bytes of the day-lock file per day: the holder's pid, in ASCII."""
FILE_LOCK_BATCH = 128
"""Keys a writer should hold at once when each key is a file of its own (one open file per key)."""

_DAY_KEY = re.compile(r"\d{4}-\d{2}-\d{2}")
_FLOCK = struct.Struct("hhqqi4x")  # struct flock on 64-bit Linux: type, whence, start, len, pid
_PROCESS_LOCKS: dict[tuple[str, ...], threading.Lock] = {}
_PROCESS_LOCKS_GUARD = threading.Lock()


def lock_batch(store: LandingStore) -> int | None:
    """How many keys one :func:`partition_locks` should hold at once on ``store``: None (no limit) where
    day locks share one file or live in the process, else ``FILE_LOCK_BATCH``."""
    return None if DAY_LOCKS or not store.local else FILE_LOCK_BATCH


@contextlib.contextmanager
def partition_lock(store: LandingStore, stream: str, key: str) -> Iterator[None]:
    """Hold the lock of ``key`` (a partition key or a range folder name) of ``stream`` in ``store``;
    raise PartitionLocked after the store's ``lock_timeout`` seconds."""
    with partition_locks(store, stream, [key]):
        yield


@contextlib.contextmanager
def partition_locks(store: LandingStore, stream: str, keys: Iterable[str],
                    timeout: float | None = None) -> Iterator[None]:
    """Hold the locks of all ``keys`` of ``stream`` at once: taken in one order (days first, in order),
    each waited for up to ``timeout`` seconds (default: the store's ``lock_timeout``), else
    PartitionLocked naming the key held elsewhere, and none of them kept; all released on exit."""
    keys = sorted(set(keys))
    timeout = store.lock_timeout if timeout is None else timeout
    days = [key for key in keys if _DAY_KEY.fullmatch(key)] if DAY_LOCKS and store.local else []
    with contextlib.ExitStack() as held:
        if days:
            held.enter_context(_day_locks(store, stream, days, timeout))
        for key in keys:
            if key in days:
                continue
            held.enter_context(_file_lock(store, stream, key, timeout) if store.local
                               else _process_lock(store, stream, key, timeout))
        yield


@contextlib.contextmanager
def _process_lock(store: LandingStore, stream: str, key: str, timeout: float) -> Iterator[None]:
    ident = (store.root, stream, key)
    with _PROCESS_LOCKS_GUARD:
        lock = _PROCESS_LOCKS.setdefault(ident, threading.Lock())
    got = lock.acquire(timeout=timeout) if timeout > 0 else lock.acquire(blocking=False)
    if not got:
        raise PartitionLocked(f"{stream} partition {key} is being written by another writer in this process")
    try:
        yield
    finally:
        lock.release()


def _locked(stream: str, key: str, holder: bytes, path: str) -> PartitionLocked:
    pid = holder.decode(errors="replace").replace("\0", "").strip() or "unknown"
    return PartitionLocked(f"{stream} partition {key} is being written by another writer (pid {pid}, lock {path}); "
                           "two writers never write the same partition at once")


def _open_lock_file(store: LandingStore, stream: str, name: str) -> tuple[str, int]:
    path = store.join("_locks", stream, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    return path, os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)


@contextlib.contextmanager
def _file_lock(store: LandingStore, stream: str, key: str, timeout: float) -> Iterator[None]:
    deadline = time.monotonic() + timeout
    path, fd = _open_lock_file(store, stream, f"{key}.lock")
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise _locked(stream, key, os.pread(fd, 64, 0), path) from None
                time.sleep(0.05)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _day_runs(days: list[str]) -> list[tuple[int, int]]:
    """(first ordinal, count) of each run of consecutive days, in order."""
    runs: list[list[int]] = []
    for ordinal in sorted({date.fromisoformat(day).toordinal() for day in days}):
        if runs and runs[-1][0] + runs[-1][1] == ordinal:
            runs[-1][1] += 1
        else:
            runs.append([ordinal, 1])
    return [(first, count) for first, count in runs]


@contextlib.contextmanager
def _day_locks(store: LandingStore, stream: str, days: list[str], timeout: float) -> Iterator[None]:
    path, fd = _open_lock_file(store, stream, DAY_LOCK_FILE)
    try:  # closing the file releases every lock taken through it
        pid = str(os.getpid()).encode().ljust(DAY_SLOT)[:DAY_SLOT]
        for first, count in _day_runs(days):
            _lock_days(stream, fd, path, first, count, timeout)
            os.pwrite(fd, pid * count, first * DAY_SLOT)
        yield
    finally:
        os.close(fd)


def _lock_days(stream: str, fd: int, path: str, first: int, count: int, timeout: float) -> None:
    """Take the days ``first`` (an ordinal) to ``first + count - 1`` at once, or raise PartitionLocked."""
    region = _FLOCK.pack(fcntl.F_WRLCK, os.SEEK_SET, first * DAY_SLOT, count * DAY_SLOT, 0)
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.fcntl(fd, fcntl.F_OFD_SETLK, region)
            return
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
        if time.monotonic() < deadline:
            time.sleep(0.05)
            continue
        kind, _, start, _, _ = _FLOCK.unpack(fcntl.fcntl(fd, fcntl.F_OFD_GETLK, region))
        if kind != fcntl.F_UNLCK:  # else released meanwhile: try again
            held = max(start // DAY_SLOT, first)
            raise _locked(stream, date.fromordinal(held).isoformat(), os.pread(fd, DAY_SLOT, held * DAY_SLOT), path)

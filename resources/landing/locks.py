"""The writer lock of one (stream, partition) or (stream, range): two writers never write it at once.

On a local root the lock is an ``fcntl.flock`` on ``_locks/{stream}/{key}.lock``: it excludes writers in
any process on the machine, the kernel releases it if the process dies, and the file names the holder's
pid. Object storage has no such lock: there the lock only excludes writers in the same process, and
Dagster's concurrency pools (one run per stream partition) must keep writers of other processes apart.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from .errors import PartitionLocked

if TYPE_CHECKING:
    from .store import LandingStore

_PROCESS_LOCKS: dict[tuple[str, ...], threading.Lock] = {}
_PROCESS_LOCKS_GUARD = threading.Lock()


@contextlib.contextmanager
def partition_lock(store: LandingStore, stream: str, key: str) -> Iterator[None]:
    """Hold the lock of ``key`` (a partition key or a range folder name) of ``stream`` in ``store``;
    raise PartitionLocked after the store's ``lock_timeout`` seconds."""
    if store.local:
        with _file_lock(store, stream, key):
            yield
    else:
        with _process_lock(store, stream, key):
            yield


@contextlib.contextmanager
def _process_lock(store: LandingStore, stream: str, key: str) -> Iterator[None]:
    ident = (store.root, stream, key)
    with _PROCESS_LOCKS_GUARD:
        lock = _PROCESS_LOCKS.setdefault(ident, threading.Lock())
    got = lock.acquire(timeout=store.lock_timeout) if store.lock_timeout > 0 else lock.acquire(blocking=False)
    if not got:
        raise PartitionLocked(f"{stream} partition {key} is being written by another writer in this process")
    try:
        yield
    finally:
        lock.release()


@contextlib.contextmanager
def _file_lock(store: LandingStore, stream: str, key: str) -> Iterator[None]:
    deadline = time.monotonic() + store.lock_timeout
    path = store.join("_locks", stream, f"{key}.lock")
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

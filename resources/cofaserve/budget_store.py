"""Where the rate budget's schedules live: in memory (one process) or in small files (every process).

Both stores run a change on one endpoint's :class:`~.slots.SlotState` with exclusive access and hand it
the store's own time, so the slot arithmetic is written once (:mod:`.slots`) and never sees the store.

- :class:`MemoryStore`: one state per endpoint key, a ``threading.Lock`` each, a monotonic clock. What a
  client uses alone.
- :class:`FileStore`: one JSON file per (credential fingerprint, endpoint route) in a folder shared by
  the processes of a machine, read, changed and written back under an exclusive ``fcntl.flock`` held for
  that change only (never while a caller sleeps). Times are wall-clock seconds (``time.time()``):
  monotonic clocks differ between processes. A damaged file is rebuilt; a folder that stops working
  sends the process back to a memory store (said once in the log).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, TypeVar

from .fingerprint import folder_salt, salted_fingerprint
from .slots import SlotState

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX: no file locks, so no shared budget
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

T = TypeVar("T")
Change = Callable[[SlotState, float], T]

HORIZON_SECONDS = 3600.0
"""A time further ahead in a state file is not believed (clock set back, damaged file)."""

_warned: set[str] = set()
_warned_lock = threading.Lock()


def _warn_once(folder: Path, message: str, *args: object) -> None:
    with _warned_lock:
        if str(folder) in _warned:
            return
        _warned.add(str(folder))
    log.warning(message, *args)


class SlotStore(Protocol):
    """Runs changes on endpoint states with exclusive access (see the module docstring)."""

    folder: Path | None

    def transact(self, key: str, change: Change[T], *, write: bool = True) -> T:
        """Run ``change(state, now)`` on ``key``'s state alone; keep its effect if ``write``; return its result."""
        ...


class MemoryStore:
    """Endpoint states of one process, on the ``clock`` it is given (monotonic by default)."""

    folder: Path | None = None

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self._states: dict[str, tuple[threading.Lock, SlotState]] = {}

    def transact(self, key: str, change: Change[T], *, write: bool = True) -> T:
        """Run ``change(state, now)`` under the key's lock (``write`` is implied: the state is shared)."""
        with self._lock:
            entry = self._states.get(key)
            if entry is None:
                entry = self._states[key] = (threading.Lock(), SlotState())
        lock, state = entry
        with lock:
            return change(state, self._clock())


class FileStore:
    """Endpoint states shared by every process whose clients have the same ``fingerprint`` and folder.

    ``wall_clock`` gives seconds since the epoch (``time.time``; tests pass a fake). Build it with
    :func:`shared_store`, which also derives the fingerprint.
    """

    def __init__(self, folder: Path, fingerprint: str, wall_clock: Callable[[], float] = time.time):
        self.folder: Path | None = Path(folder)  # None once fallen back to memory
        self._dir = Path(folder)
        self._fingerprint = fingerprint
        self._wall_clock = wall_clock
        self._fallback: MemoryStore | None = None

    def path(self, key: str) -> Path:
        """The state file of endpoint ``key`` (named by hashes: no credential, no route in the name)."""
        route = hashlib.sha256(key.encode()).hexdigest()[:16]
        return self._dir / f"{self._fingerprint[:32]}-{route}.json"

    def transact(self, key: str, change: Change[T], *, write: bool = True) -> T:
        """Read ``key``'s state under an exclusive (``write``) or shared lock, change it, write it back."""
        if self._fallback is None:
            try:
                return self._transact_file(key, change, write)
            except OSError as exc:
                self._fall_back(exc)
        assert self._fallback is not None
        return self._fallback.transact(key, change, write=write)

    def _transact_file(self, key: str, change: Change[T], write: bool) -> T:
        path = self.path(key)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if write else fcntl.LOCK_SH)
            raw = _read_all(fd)
            now = self._wall_clock()
            state = self._decode(raw, now, path)
            result = change(state, now)
            if write:
                data = json.dumps({"route": key, **state.to_dict()}, sort_keys=True).encode()
                os.pwrite(fd, data, 0)
                os.ftruncate(fd, len(data))
            return result
        finally:
            os.close(fd)  # releases the lock

    def _decode(self, raw: bytes, now: float, path: Path) -> SlotState:
        if not raw:
            return SlotState()
        try:
            return SlotState.from_dict(json.loads(raw), now, HORIZON_SECONDS)
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            log.warning("rate budget state %s is damaged (%s): rebuilt from scratch", path.name, exc)
            return SlotState()

    def _fall_back(self, exc: OSError) -> None:
        _warn_once(
            self._dir, "rate budget folder %s stopped working (%s): this process now paces its requests alone",
            self._dir, exc.__class__.__name__,
        )
        self._fallback = MemoryStore(self._wall_clock)
        self.folder = None


def _read_all(fd: int) -> bytes:
    chunks = []
    offset = 0
    while chunk := os.pread(fd, 65536, offset):
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks)


def shared_store(folder: Path, identity: tuple[str, ...], wall_clock: Callable[[], float] = time.time) -> FileStore | None:
    """A :class:`FileStore` in ``folder`` for the API user ``identity``, or None if the folder is unusable.

    ``identity`` (e.g. business URL and username) is fingerprinted with the folder's salt: processes of
    the same user share schedules, other users and other servers never do, and the files name nobody.
    None (said once in the log per folder) when the folder cannot be created or written, or the platform
    has no ``flock``: the caller then paces in memory, for its own process only.
    """
    folder = Path(folder)
    try:
        if fcntl is None:
            raise OSError("no fcntl.flock on this platform")
        fingerprint = salted_fingerprint(folder_salt(folder), *identity)
        if not os.access(folder, os.W_OK | os.X_OK):
            raise PermissionError("the folder is read-only")
        return FileStore(folder, fingerprint, wall_clock)
    except (OSError, ValueError) as exc:
        _warn_once(
            folder,
            "rate budget folder %s is not usable (%s): this process paces its requests alone; other "
            "processes of the same user are not counted",
            folder, exc.__class__.__name__,
        )
        return None

"""By-id fetches that start while the lists are still paging.

The by-id phase of a run waits for the last page of every list: it needs them all to know which day
each record lands on. But each notification already names a decision the deliveries phase will fetch
(its company and externalId). :class:`EarlyFetches` starts those calls as the notification pages
arrive, on the endpoint's own rate budget, and hands each result over when the by-id phase asks for the
same (company, id): the phase still lands every record in day order, on the day it chose, so what lands
and the calls made are those of a run without early fetches; only the first calls start sooner.

Early calls stop with the lists: those not started by then are cancelled (the by-id phase makes them).
At most ``2 x workers`` early calls wait for their slot at once, and a finished one is held until the
phase takes it, so memory is bounded by what the budget allows during the lists.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

Key = tuple[str, str]
"""(easyNumber to ask with, id): the arguments of the endpoint's getter."""


class EarlyFetches:
    """Early calls of ``getter(easy_number, id)`` on ``workers`` threads, while open (a context manager)."""

    def __init__(self, getter: Callable[[str, str], Any], workers: int):
        self._getter = getter
        self._limit = 2 * workers
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="early-by-id")
        self._calls: dict[Key, Future] = {}
        self._waiting = 0
        self._lock = threading.Lock()
        self._open = True
        self.started = 0
        """Early calls started (cancelled ones excluded)."""

    def want(self, key: Key) -> None:
        """Start the call of ``key`` now, unless it was started already, the lists have ended, or
        ``2 x workers`` early calls are waiting (the by-id phase then makes it)."""
        with self._lock:
            if not self._open or key in self._calls or self._waiting >= self._limit:
                return
            self._waiting += 1
            self.started += 1
            future = self._pool.submit(self._getter, *key)
            self._calls[key] = future
        future.add_done_callback(self._finished)

    def _finished(self, _future: Future) -> None:
        with self._lock:
            self._waiting -= 1

    def tap(self, records: Iterable, key_of: Callable[[Any], Key | None]) -> Iterator:
        """Yield ``records`` unchanged, wanting the key ``key_of(record)`` names (None: none) as each passes."""
        for record in records:
            key = key_of(record)
            if key is not None:
                self.want(key)
            yield record

    def stop(self) -> None:
        """The lists have ended: start no more early calls, and cancel those not started yet."""
        with self._lock:
            self._open = False
            calls = list(self._calls.items())
        # outside the lock: cancelling runs the done callback, which takes it
        cancelled = [key for key, future in calls if future.cancel()]
        with self._lock:
            for key in cancelled:
                del self._calls[key]
            self.started -= len(cancelled)

    def get(self, easy_number: str, key: str) -> Any:
        """What ``getter(easy_number, key)`` returns: the early call's result (its error raised, as the
        call would raise it), or a call made now when none was started early."""
        with self._lock:
            future = self._calls.pop((easy_number, key), None)
        if future is None:
            return self._getter(easy_number, key)
        return future.result()

    @property
    def unused(self) -> int:
        """Early calls whose result the by-id phase never asked for (another company named the same id first)."""
        with self._lock:
            return len(self._calls)

    def __enter__(self) -> EarlyFetches:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
        self._pool.shutdown(wait=True, cancel_futures=True)

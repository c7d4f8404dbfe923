"""Bounded concurrent fan-out: call a function for many keys on a thread pool, errors kept per key.

Used by :meth:`CofaServeClient.fetch_many` for by-id calls; the calls share the client's rate budget,
so the pool only overlaps latencies.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any


def fan_out(
    fn: Callable[..., Any],
    keys: Iterable[Any],
    workers: int,
    *,
    ordered: bool = False,
    abort_on: tuple[type[BaseException], ...] = (),
) -> Iterator[tuple[Any, Any]]:
    """Yield ``(key, fn(key) or the exception it raised)`` for every key, ``workers`` calls at a time.

    Promises: a tuple key is spread as arguments; results come in completion order (input order when
    ``ordered``); at most ``2 x workers`` calls are in flight and ``keys`` is read lazily; an exception
    of a type in ``abort_on`` (or one that is not an ``Exception``) stops everything and is raised;
    closing the iterator early cancels the calls not yet started and waits for the running ones.
    """
    if workers < 1:
        raise ValueError("max_workers must be at least 1")

    def call(key: Any) -> Any:
        return fn(*key) if isinstance(key, tuple) else fn(key)

    def outcome(key: Any, future: Future) -> tuple[Any, Any]:
        error = future.exception()
        if error is None:
            return key, future.result()
        if isinstance(error, abort_on) or not isinstance(error, Exception):
            raise error
        return key, error

    def run() -> Iterator[tuple[Any, Any]]:
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cofaserve")
        source = iter(keys)
        in_flight: deque[tuple[Any, Future]] = deque()
        exhausted = False

        def refill() -> None:
            nonlocal exhausted
            while not exhausted and len(in_flight) < 2 * workers:
                try:
                    key = next(source)
                except StopIteration:
                    exhausted = True
                    return
                in_flight.append((key, pool.submit(call, key)))

        try:
            refill()
            while in_flight:
                if ordered:
                    key, future = in_flight.popleft()
                    yield outcome(key, future)
                else:
                    wait([f for _, f in in_flight], return_when=FIRST_COMPLETED)
                    done = [pair for pair in in_flight if pair[1].done()]
                    for pair in done:
                        in_flight.remove(pair)
                    for key, future in done:
                        yield outcome(key, future)
                refill()
        finally:
            for _, future in in_flight:
                future.cancel()
            pool.shutdown(wait=True, cancel_futures=True)

    return run()

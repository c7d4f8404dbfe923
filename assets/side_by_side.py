"""Work landed side by side: the results of several extractions, each as soon as it has finished."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, as_completed


def as_they_finish(futures: dict[str, Future]) -> Iterator[tuple[str, object]]:
    """(name, result) of each future as it finishes; a failure is raised once every other future has
    finished and been yielded (the other streams have committed what they landed, each atomically)."""
    names = {future: name for name, future in futures.items()}
    failure = None
    for future in as_completed(names):
        if future.exception() is not None:
            failure = failure or future.exception()
            continue
        yield names[future], future.result()
    if failure is not None:
        raise failure

"""A lazy listing: the Records of a paged list endpoint, one page in memory, optionally fetched ahead on a
background thread."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

from .paging import Page
from .records import Record


class RecordStream(Iterator[Record]):
    """A lazy listing: iterating fetches page after page and yields one Record per item.

    ``reported_total`` (the server's count) and ``pages_read`` are set once the first page is read.
    With ``prefetch`` > 0, up to that many pages are fetched ahead on a background thread, so the server
    works while the caller handles the current page; an error of a prefetched page is raised when the
    caller reaches it. Close it (or exhaust it) to stop: no page is fetched after that.
    """

    def __init__(self, label: str, pages: Iterator[Page], to_record: Callable[[Any, str], Record], prefetch: int = 0):
        self.label = label
        self.reported_total: int | None = None
        self.pages_read = 0
        self._gen = self._run(_ahead(pages, prefetch, label) if prefetch > 0 else pages, to_record)

    def _run(self, pages: Iterator[Page], to_record: Callable[[Any, str], Record]) -> Iterator[Record]:
        try:
            for page in pages:
                if self.reported_total is None:
                    self.reported_total = page.total
                self.pages_read += 1
                for item in page.items:
                    yield to_record(item, page.request)
        finally:
            close = getattr(pages, "close", None)
            if close is not None:
                close()

    def __iter__(self) -> RecordStream:
        return self

    def __next__(self) -> Record:
        return next(self._gen)

    def close(self) -> None:
        """Stop the listing; no further page is fetched."""
        self._gen.close()

    def __repr__(self) -> str:
        return f"RecordStream({self.label}, reported_total={self.reported_total}, pages_read={self.pages_read})"


def _ahead(pages: Iterator[Page], depth: int, label: str) -> Iterator[Page]:
    """Yield ``pages`` while a background thread fetches up to ``depth`` of them ahead; closing the
    generator stops the thread (after the request in flight, if any)."""
    done = object()
    slots: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry) -> bool:
        while not stop.is_set():
            try:
                slots.put(entry, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for page in pages:
                if not put((page, None)):
                    return
            put((done, None))
        except BaseException as exc:  # handed to the caller, raised where the page would have been
            put((None, exc))
        finally:
            close = getattr(pages, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=produce, name=f"prefetch-{label}", daemon=True)
    worker.start()
    try:
        while True:
            page, error = slots.get()
            if error is not None:
                raise error
            if page is done:
                return
            yield page
    finally:
        stop.set()
        worker.join()

"""Paging, implemented once, as interchangeable strategies.

- :class:`PageNumberPaging` [SANDBOX]: ``?page=1&pageSize=100``, the body carries ``count`` (total) and
  optionally ``page``/``pageSize``.
- :class:`RangePaging` [SIBLING]: ``?range=0-99``, the ``Content-Range: 0-99/245`` header carries the
  position and the total; the body is the list (or an object holding it).

:func:`iterate_pages` drives either strategy and checks the pages against each other: it stops after the
last page by count, and raises :class:`PagingError` when a page repeats the previous one, when the count
moves between pages, when a page starts elsewhere than where the previous one ended, or when a page is
short (or empty) before the count is reached. Only one page is held at a time.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from .errors import PagingError, UnexpectedShapeError
from .records import canonical_json


@dataclass(frozen=True)
class Page:
    """One page as served: its items, the total the server reports, where it starts, its nominal size,
    and the request that fetched it (``METHOD /path?query``)."""

    items: list[Any]
    total: int
    offset: int
    size: int
    request: str = ""


class PagingStrategy(Protocol):
    """How pages are asked for and read. ``parse`` raises MalformedResponseError for a wrong envelope."""

    page_size: int
    ok_statuses: frozenset[int]

    def params(self, index: int, offset: int) -> dict[str, str]:
        """Query parameters for page ``index`` (0-based), which should start at item ``offset``."""
        ...

    def parse(self, body: Any, response: httpx.Response, items_key: str, index: int) -> Page:
        """Read one page from a decoded body (None for a status in ``ok_statuses`` without JSON)."""
        ...


def _items(body: Any, items_key: str, where: str) -> list[Any]:
    if isinstance(body, dict):
        items = body.get(items_key)
        if isinstance(items, list):
            return items
        raise UnexpectedShapeError(f"{where}: the body has no list {items_key!r} (keys: {sorted(body)[:10]})")
    raise UnexpectedShapeError(f"{where}: expected a JSON object holding {items_key!r}, got {type(body).__name__}")


def _count(value: Any, name: str, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise UnexpectedShapeError(f"{where}: {name!r} must be a non-negative integer, got {value!r}")
    return value


class PageNumberPaging:
    """``page`` (1-based by default) and ``pageSize`` query parameters; total in the body's ``count``."""

    ok_statuses: frozenset[int] = frozenset()

    def __init__(
        self,
        page_size: int = 20,
        *,
        page_param: str = "page",
        size_param: str = "pageSize",
        first_page: int = 1,
        count_field: str = "count",
        page_size_field: str = "pageSize",
        page_field: str = "page",
    ):
        self.page_size = page_size
        self._page_param = page_param
        self._size_param = size_param
        self._first = first_page
        self._count_field = count_field
        self._size_field = page_size_field
        self._page_field = page_field

    def params(self, index: int, offset: int) -> dict[str, str]:
        return {self._page_param: str(self._first + index), self._size_param: str(self.page_size)}

    def parse(self, body: Any, response: httpx.Response, items_key: str, index: int) -> Page:
        where = f"page {self._first + index}"
        items = _items(body, items_key, where)
        total = _count(body.get(self._count_field), self._count_field, where)
        size = body.get(self._size_field, self.page_size)
        size = _count(size, self._size_field, where) or self.page_size
        served = body.get(self._page_field)
        if isinstance(served, int) and not isinstance(served, bool) and served != self._first + index:
            raise PagingError(f"asked for page {self._first + index}, the server answered page {served}")
        return Page(items=items, total=total, offset=index * size, size=size)


_CONTENT_RANGE = re.compile(r"^\s*(?:[A-Za-z]+\s+)?(?:(\d+)-(\d+)|\*)\s*/\s*(\d+)\s*$")


class RangePaging:
    """``range=<first>-<last>`` query parameter; position and total in ``Content-Range: first-last/total``.

    A ``416`` answer (nothing in range, e.g. an empty list) is read from its ``Content-Range: */total``.
    """

    ok_statuses: frozenset[int] = frozenset({416})

    def __init__(self, page_size: int = 20, *, range_param: str = "range", header: str = "Content-Range"):
        self.page_size = page_size
        self._param = range_param
        self._header = header

    def params(self, index: int, offset: int) -> dict[str, str]:
        return {self._param: f"{offset}-{offset + self.page_size - 1}"}

    def parse(self, body: Any, response: httpx.Response, items_key: str, index: int) -> Page:
        where = f"range page {index + 1}"
        raw = response.headers.get(self._header)
        match = _CONTENT_RANGE.match(raw or "")
        if match is None:
            raise UnexpectedShapeError(f"{where}: missing or unreadable {self._header} header {raw!r}")
        first, last, total = match.group(1), match.group(2), int(match.group(3))
        if response.status_code == 416 or first is None:
            return Page(items=[], total=total, offset=0, size=self.page_size)
        items = body if isinstance(body, list) else _items(body, items_key, where)
        first_i, last_i = int(first), int(last)
        if last_i < first_i or last_i - first_i + 1 != len(items):
            raise PagingError(f"{where}: {self._header} {raw!r} does not match the {len(items)} items in the body")
        # The server may serve a shorter range than asked; the next page starts where this one ended.
        return Page(items=items, total=total, offset=first_i, size=len(items))


def _repeats(items: list[Any], previous: list[Any] | None) -> bool:
    """True when ``items`` are the previous page's items again, as their canonical JSON compares them.
    Equal canonical text means equal decoded values, so pages whose values differ (nearly always decided
    by their first item) are told apart without encoding either."""
    return previous is not None and items == previous and canonical_json(items) == canonical_json(previous)


def iterate_pages(
    fetch: Callable[[int, dict[str, str]], Page], strategy: PagingStrategy, label: str
) -> Iterator[Page]:
    """Yield the pages of one listing in order, checked against each other (see the module docstring).

    ``fetch(index, params)`` gets one page (with the transport's retries). The first page is always
    yielded, even when empty, so the caller learns the reported total.
    """
    index = 0
    received = 0
    total: int | None = None
    previous: list[Any] | None = None  # the previous page's items
    while True:
        page = fetch(index, strategy.params(index, received))
        number = index + 1
        if total is None:
            total = page.total
        elif page.total != total:
            raise PagingError(
                f"{label}: the count changed from {total} to {page.total} at page {number}; "
                "the listing moved while it was read, so it cannot be trusted"
            )
        if page.items and page.offset != received:
            raise PagingError(
                f"{label}: page {number} starts at item {page.offset} but {received} items came before it"
            )
        if not page.items:
            if received != total:
                raise PagingError(f"{label}: page {number} is empty after {received} of {total} items")
            if index == 0:
                yield page
            return
        if _repeats(page.items, previous):
            raise PagingError(
                f"{label}: page {number} repeats page {number - 1} ({len(page.items)} identical items); "
                "the server is not advancing"
            )
        previous = page.items
        received += len(page.items)
        if received > total:
            raise PagingError(f"{label}: {received} items received by page {number}, more than the count {total}")
        if len(page.items) > page.size:
            raise PagingError(f"{label}: page {number} has {len(page.items)} items, more than the page size {page.size}")
        if received < total and len(page.items) < page.size:
            raise PagingError(
                f"{label}: page {number} has {len(page.items)} items, fewer than the page size {page.size}, "
                f"but only {received} of {total} items were received"
            )
        yield page
        if received == total:
            return
        index += 1


def make_paging(settings) -> PagingStrategy:
    """The paging strategy the settings name (``page`` or ``range``)."""
    if settings.paging == "range":
        return RangePaging(settings.page_size, range_param=settings.range_param, header=settings.content_range_header)
    return PageNumberPaging(
        settings.page_size,
        page_param=settings.page_param,
        size_param=settings.page_size_param,
        first_page=settings.first_page,
        count_field=settings.count_field,
        page_size_field=settings.page_size_field,
        page_field=settings.page_param,
    )

"""Retry policy: what is worth retrying, and how long to wait (exponential backoff with full jitter).

Retried: HTTP 429, 500, 502, 503, 504; timeouts; cut connections and incomplete bodies
(``httpx.NetworkError``, ``httpx.RemoteProtocolError``, ``httpx.DecodingError``); bodies that are not JSON
or not the expected envelope (:class:`MalformedResponseError`). Everything else is definitive. A call
that changes something at Coface (a push subscription, a replay) is retried only after a failure that
certainly changed nothing (:func:`unprocessed`).

The wait before retry ``n`` (1-based) is ``uniform(0, min(cap, base x 2^(n-1)))`` ("full jitter", which
spreads clients apart), but never less than the server's ``Retry-After``. A request is given up when it
has made ``max_attempts`` attempts, or when the next wait would end after ``max_seconds`` since the first
attempt.
"""

from __future__ import annotations

import random
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from .errors import ApiError, MalformedResponseError

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
"""HTTP statuses that are transient."""

RETRYABLE_EXCEPTIONS: tuple[type[BaseException], ...] = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
    httpx.DecodingError,
    MalformedResponseError,
)
"""Exceptions that are transient: no (usable) answer came back."""


def unreachable_reason(exc: BaseException) -> str | None:
    """``connection refused`` or ``unknown host`` when ``exc`` is a connection that could not even be
    opened for one of those reasons (the host is wrong or down: waiting does not heal it), else None."""
    if not isinstance(exc, httpx.ConnectError):
        return None
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ConnectionRefusedError):
            return "connection refused"
        if isinstance(seen, socket.gaierror) and seen.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", None)):
            return "unknown host"
        seen = seen.__cause__ or seen.__context__
    return None


def unprocessed(failure: BaseException) -> bool:
    """Whether a failed request certainly changed nothing at Coface: its connection never opened (nothing
    was sent), or the gateway throttled it (429) before any service saw it. Only such a failure is retried
    for a call that changes something (POST, PATCH): any other may have taken effect."""
    if isinstance(failure, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return True
    return isinstance(failure, ApiError) and failure.status == 429


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds and backoff of retries; see the module docstring for the rules it promises."""

    max_attempts: int = 8
    max_seconds: float = 300.0
    base_seconds: float = 0.5
    cap_seconds: float = 30.0
    unreachable_attempts: int = 3
    """Attempts in a row whose connection was refused (or whose host is unknown) before giving up."""

    def backoff(self, retry_number: int, rng: random.Random) -> float:
        """Full-jitter wait before retry ``retry_number`` (1 = first retry): in ``[0, min(cap, base*2^(n-1))]``."""
        ceiling = min(self.cap_seconds, self.base_seconds * (2 ** max(0, retry_number - 1)))
        return rng.uniform(0.0, ceiling)

    def delay(self, retry_number: int, rng: random.Random, retry_after: float | None = None) -> float:
        """The wait before retry ``retry_number``: the jittered backoff, at least ``retry_after``."""
        wait = self.backoff(retry_number, rng)
        if retry_after is not None:
            wait = max(wait, retry_after)
        return wait

    def may_retry(self, attempts_made: int, elapsed: float, next_delay: float) -> bool:
        """True when another attempt fits in both bounds (attempt count and total time)."""
        return attempts_made < self.max_attempts and elapsed + next_delay <= self.max_seconds


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date); None if absent or bad."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())

"""Rate budget: pace requests per endpoint so the server rarely has to answer 429.

The API limits requests per endpoint (route template) and per user [SIBLING: 60/min]. One
:class:`RateBudget` is shared by every thread of a client. Each endpoint has its own schedule: a request
reserves the next free slot, slots are ``1 / rate`` apart, and the caller sleeps until its slot. So the
requests of all threads are spread evenly, never in bursts, and no window of any length sees more than
``rate x window + 1`` requests.

The rate adapts to what the server says:

- ``X-RateLimit-Limit``: the real limit per ``window`` seconds; the client aims at ``safety`` (95 %) of it.
- ``X-RateLimit-Remaining``: when it runs low (someone else spends the same quota), the rate is cut;
  it recovers gradually while the remainder stays healthy.
- ``429`` with ``Retry-After``: the endpoint is blocked for every thread until then, and the rate is cut.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

_MIN_FACTOR = 0.05
_CUT_ON_429 = 0.7
_CUT_ON_LOW_REMAINING = 0.9
_RECOVERY_STEP = 0.02


@dataclass
class _Endpoint:
    base_rate: float  # requests per second before the adaptive factor
    factor: float = 1.0  # adaptive multiplier in [_MIN_FACTOR, 1]
    next_slot: float = 0.0  # monotonic time of the next free slot
    last_slot: float = 0.0  # monotonic time of the last reserved slot
    blocked_until: float = 0.0  # monotonic time before which nothing is sent
    server_limit: int | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def interval(self) -> float:
        return 1.0 / (self.base_rate * self.factor)


class RateBudget:
    """Per-endpoint pacing shared by all threads of one client.

    ``default_per_minute`` is the assumed limit of an endpoint, ``overrides`` per endpoint key; after the
    first response carrying ``X-RateLimit-Limit`` (if ``adapt`` is on) the limit is the server's. The
    client aims at ``safety x limit``, the limit capped by ``ceiling_per_minute``.
    """

    def __init__(
        self,
        default_per_minute: float = 60.0,
        overrides: Mapping[str, float] | None = None,
        *,
        window_seconds: float = 60.0,
        safety: float = 0.95,
        adapt: bool = True,
        ceiling_per_minute: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self._default = default_per_minute
        self._overrides = dict(overrides or {})
        self._window = window_seconds
        self._safety = safety
        self._adapt = adapt
        self._ceiling = ceiling_per_minute
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._endpoints: dict[str, _Endpoint] = {}

    def _state(self, key: str) -> _Endpoint:
        with self._lock:
            state = self._endpoints.get(key)
            if state is None:
                per_minute = self._capped(self._overrides.get(key, self._default))
                state = self._endpoints[key] = _Endpoint(base_rate=per_minute / 60.0 * self._safety)
            return state

    def _capped(self, per_minute: float) -> float:
        return min(per_minute, self._ceiling) if self._ceiling else per_minute

    # ------------------------------------------------------------------------------------------- pacing

    def acquire(self, key: str) -> float:
        """Wait for the endpoint's next slot; return the seconds waited.

        Slots are reserved in call order, so threads are served first come, first served.
        """
        state = self._state(key)
        waited = 0.0
        while True:
            with state.lock:
                now = self._clock()
                slot = max(now, state.next_slot, state.blocked_until)
                state.last_slot = slot
                state.next_slot = slot + state.interval
                blocked_until = state.blocked_until
            delay = slot - now
            if delay > 0:
                self._sleep(delay)
                waited += delay
            # A 429 seen by another thread while we slept moves the block: take a new slot after it.
            with state.lock:
                if state.blocked_until <= blocked_until or state.blocked_until <= self._clock():
                    return waited

    # ------------------------------------------------------------------------------------------ feedback

    def observe(self, key: str, status: int, headers: Mapping[str, str], retry_after: float | None) -> None:
        """Adapt the endpoint's pace to a response's status and rate-limit headers."""
        state = self._state(key)
        limit = _int_header(headers, "x-ratelimit-limit")
        remaining = _int_header(headers, "x-ratelimit-remaining")
        with state.lock:
            if self._adapt and limit and limit > 0 and limit != state.server_limit:
                state.server_limit = limit
                state.base_rate = self._capped(limit * 60.0 / self._window) / 60.0 * self._safety
                # the slot reserved under the assumed rate may be too far away: re-space it
                state.next_slot = min(state.next_slot, state.last_slot + state.interval)
            if status == 429:
                state.factor = max(_MIN_FACTOR, state.factor * _CUT_ON_429)
                pause = retry_after if retry_after is not None else state.interval
                state.blocked_until = max(state.blocked_until, self._clock() + pause)
                return
            if remaining is not None and state.server_limit:
                low = max(1, state.server_limit * 0.02)
                if remaining <= low:
                    state.factor = max(_MIN_FACTOR, state.factor * _CUT_ON_LOW_REMAINING)
                    return
            if state.factor < 1.0:
                state.factor = min(1.0, state.factor + _RECOVERY_STEP)

    def rate_per_minute(self, key: str) -> float:
        """The endpoint's current target rate (requests per minute)."""
        state = self._state(key)
        with state.lock:
            return state.base_rate * state.factor * 60.0


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    raw = headers.get(name)
    if raw is None:  # a plain dict is case-sensitive; httpx.Headers is not
        raw = next((value for key, value in headers.items() if key.lower() == name), None)
    if raw is None:
        return None
    try:
        return int(str(raw).strip())
    except ValueError:
        return None

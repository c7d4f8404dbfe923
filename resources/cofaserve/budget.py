"""Rate budget: pace requests per endpoint so the server rarely has to answer 429.

The API limits requests per endpoint (route template) and per user [SIBLING: 60/min]. One
:class:`RateBudget` is shared by every thread of a client; with a shared folder (``budget_dir``) its
schedules are shared by every *process* of the same user on the machine too (a backfill beside the
nightly run, ``cofasync`` beside ``dagster-daemon``), so that together they stay within the one limit.
Each endpoint has its own schedule: a request reserves the next free slot, slots are ``1 / rate``
apart, first come first served, and the caller sleeps until its slot. So requests are spread evenly,
never in bursts, and no window of any length sees more than ``rate x window + 1`` requests.

The rate adapts to what the server says, for everyone sharing the schedule:

- ``X-RateLimit-Limit``: the real limit per ``window`` seconds; the client aims at ``safety`` (98.5 %) of it,
  and at least 3 requests per window under it (at 60/min: 57), so that its own pacing never ends a
  window low enough to read as someone else's spending.
- ``X-RateLimit-Remaining``: when it runs low (someone else spends the same quota), the rate is cut;
  it recovers gradually while the remainder stays healthy.
- ``429`` with ``Retry-After``: the endpoint is blocked for every thread and process until then, and the
  rate is cut.

The arithmetic is in :mod:`.slots`, the stores (memory, file) in :mod:`.budget_store`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path

from . import endpoints as ep
from .budget_store import MemoryStore, SlotStore, shared_store
from .settings import ClientSettings
from .slots import Pacing

RECHECK_SECONDS = 0.25
"""A thread sleeping towards a slot further away than this checks every this often whether the schedule was
re-spaced (it then takes a new slot)."""


class RateBudget:
    """Per-endpoint pacing shared by all threads of one client, and by all processes with the same ``store``.

    ``default_per_minute`` is the assumed limit of an endpoint, ``overrides`` per endpoint key; after the
    first response carrying ``X-RateLimit-Limit`` (if ``adapt`` is on) the limit is the server's. The
    client aims at ``safety x limit``, the limit capped by ``ceiling_per_minute``. ``store`` holds the
    schedules: by default a :class:`~.budget_store.MemoryStore` on ``clock``; a
    :class:`~.budget_store.FileStore` keeps its own wall clock. ``sleep`` waits for a slot.
    """

    def __init__(
        self,
        default_per_minute: float = 60.0,
        overrides: Mapping[str, float] | None = None,
        *,
        window_seconds: float = 60.0,
        safety: float = 0.985,
        adapt: bool = True,
        ceiling_per_minute: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        store: SlotStore | None = None,
    ):
        self.pacing = Pacing(
            default_per_minute=default_per_minute,
            overrides=dict(overrides or {}),
            window_seconds=window_seconds,
            safety=safety,
            adapt=adapt,
            ceiling_per_minute=ceiling_per_minute,
        )
        self._store: SlotStore = store if store is not None else MemoryStore(clock)
        self._sleep = sleep

    @property
    def shared_folder(self) -> Path | None:
        """The folder whose schedules this budget shares with other processes (None: this process alone)."""
        return self._store.folder

    # ------------------------------------------------------------------------------------------- pacing

    def acquire(self, key: str) -> float:
        """Wait for the endpoint's next slot; return the seconds waited.

        Slots are reserved in call order, so threads (and processes) are served first come, first served.
        """
        pacing = self.pacing
        waited = 0.0
        while True:
            slot, blocked_until, epoch, now = self._store.transact(
                key, lambda s, now: (*s.reserve(now, pacing, key), now))
            if slot <= now:  # due at once: nothing can have moved the block since the reservation
                return waited
            while (delay := slot - now) > 0:
                # a far slot is slept towards in steps: a re-spaced schedule (the server's limit learned
                # meanwhile) is noticed within one step, not after seconds at the assumed rate
                step = min(delay, RECHECK_SECONDS)
                self._sleep(step)
                waited += step
                now += step
                if step < delay and not self._store.transact(
                        key, lambda s, _now, e=epoch: s.epoch == e, write=False):
                    break
            # A 429 seen by another thread or process while we slept moves the block: take a new slot after it.
            if self._store.transact(key, lambda s, now, b=blocked_until, e=epoch: s.still_valid(now, b, e),
                                    write=False):
                return waited

    # ------------------------------------------------------------------------------------------ feedback

    def observe(self, key: str, status: int, headers: Mapping[str, str], retry_after: float | None) -> None:
        """Adapt the endpoint's pace to a response's status and rate-limit headers."""
        limit = _int_header(headers, "x-ratelimit-limit")
        remaining = _int_header(headers, "x-ratelimit-remaining")
        self._store.transact(
            key, lambda s, now: s.observe(now, self.pacing, key, status, limit, remaining, retry_after)
        )

    def server_limit(self, key: str) -> int | None:
        """The limit the server advertised for the endpoint (``X-RateLimit-Limit``), None until it has."""
        return self._store.transact(key, lambda s, now: s.server_limit, write=False)

    def rate_per_minute(self, key: str) -> float:
        """The endpoint's current target rate (requests per minute)."""
        return self._store.transact(key, lambda s, now: self.pacing.per_minute(key, s), write=False)


def budget_for(
    settings: ClientSettings,
    *,
    clock: Callable[[], float] = time.monotonic,
    wall_clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> RateBudget:
    """The rate budget ``settings`` ask for: shared through ``settings.resolved_budget_dir()`` when
    ``shared_budget`` is on and the folder is usable (schedules on ``wall_clock``, seconds since the
    epoch), else in memory on ``clock``. Overrides are keyed by endpoint name in the settings and by
    route here.
    """
    overrides = {
        endpoint.route(settings): settings.rate_overrides[endpoint.name]
        for endpoint in ep.ALL
        if endpoint.name in settings.rate_overrides
    }
    store = None
    if settings.shared_budget:
        # the limit is per user and server: the password (which may be rotated) is not part of it
        store = shared_store(settings.resolved_budget_dir(), (settings.business_root, settings.username), wall_clock)
    return RateBudget(
        settings.rate_per_minute,
        overrides,
        window_seconds=settings.rate_limit_window_seconds,
        safety=settings.rate_safety,
        adapt=settings.adapt_to_server_limit,
        ceiling_per_minute=settings.max_rate_per_minute,
        clock=clock,
        sleep=sleep,
        store=store,
    )


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

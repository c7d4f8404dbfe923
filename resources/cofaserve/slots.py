"""The slot arithmetic of the rate budget: one endpoint's schedule and how responses adapt it.

Pure: no clock, no lock, no I/O. A :class:`SlotState` is the shared part of one endpoint's budget (the
next free slot, the time before which nothing is sent, the server's limit and the adaptive factor); a
:class:`Pacing` is one client's configuration (assumed limit, safety, ceiling...). Times are seconds on
whatever clock the store holding the state uses (monotonic in memory, wall clock on disk): the
arithmetic never mixes two clocks.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields

MIN_FACTOR = 0.05
CUT_ON_429 = 0.7
CUT_ON_LOW_REMAINING = 0.9
RECOVERY_STEP = 0.02
LOW_REMAINING_SHARE = 0.01
"""A response leaving at most this share of the limit (and at least 1 request) reads as someone else
spending the same quota: the rate is cut."""
RESERVE_PER_WINDOW = 3
"""Requests of every window the client leaves unspent whatever its safety, so that its own pacing ends a
window with more left than the low-remaining mark (at 60/min: 57, not 58.2, of which a window would end
with 1 left and read as someone else's spending)."""


@dataclass(frozen=True)
class Pacing:
    """One client's pacing configuration; the rate of an endpoint follows from it and the shared state.

    ``default_per_minute`` is the assumed limit of an endpoint, ``overrides`` per endpoint key; once the
    server's ``X-RateLimit-Limit`` is known (if ``adapt`` is on) the limit is the server's, counted over
    ``window_seconds``. The client aims at ``safety x limit``, at least :data:`RESERVE_PER_WINDOW`
    requests per window under the limit (never under half of it; a safety of 1 is no margin at all),
    capped by ``ceiling_per_minute``. A schedule nobody touched for ``idle_reset_seconds`` starts again
    at the full rate.
    """

    default_per_minute: float = 60.0
    overrides: Mapping[str, float] = field(default_factory=dict)
    window_seconds: float = 60.0
    safety: float = 0.985
    adapt: bool = True
    ceiling_per_minute: float | None = None
    idle_reset_seconds: float = 600.0

    def base_per_minute(self, key: str, server_limit: int | None) -> float:
        """The endpoint's target (requests per minute) before the adaptive factor."""
        if self.adapt and server_limit:
            per_minute = server_limit * 60.0 / self.window_seconds
        else:
            per_minute = self.overrides.get(key, self.default_per_minute)
        if self.ceiling_per_minute:
            per_minute = min(per_minute, self.ceiling_per_minute)
        if self.safety >= 1.0:  # no margin at all, as asked
            return per_minute
        reserved = per_minute - RESERVE_PER_WINDOW * 60.0 / self.window_seconds
        return min(per_minute * self.safety, max(reserved, per_minute / 2))

    def per_minute(self, key: str, state: SlotState) -> float:
        """The endpoint's current target rate (requests per minute)."""
        return self.base_per_minute(key, state.server_limit) * state.factor

    def interval(self, key: str, state: SlotState) -> float:
        """Seconds between two slots of the endpoint."""
        return 60.0 / self.per_minute(key, state)


@dataclass
class SlotState:
    """One endpoint's schedule, shared by every thread (memory) or every process (file) that paces it."""

    next_slot: float = 0.0  # the next free slot
    last_slot: float = 0.0  # the last reserved slot
    blocked_until: float = 0.0  # nothing is sent before this (after a 429)
    factor: float = 1.0  # adaptive multiplier in [MIN_FACTOR, 1]
    server_limit: int | None = None  # the server's X-RateLimit-Limit, once seen
    touched: float = 0.0  # the last reservation or observation
    epoch: int = 0  # changes when the schedule is re-spaced: slots reserved before are taken again

    def _touch(self, now: float, pacing: Pacing) -> None:
        if self.touched and now - self.touched > pacing.idle_reset_seconds:
            self.factor = 1.0  # the server forgot long ago what slowed us down
        self.touched = max(self.touched, now)

    def reserve(self, now: float, pacing: Pacing, key: str) -> tuple[float, float, int]:
        """Take the next free slot at ``now``: return (slot, blocked_until, epoch as the slot was taken).

        The slot is the latest of now, the next free slot and the end of a block; the next free slot
        moves one interval past it. Callers wait until the slot outside any lock.
        """
        self._touch(now, pacing)
        slot = max(now, self.next_slot, self.blocked_until)
        self.last_slot = slot
        self.next_slot = slot + pacing.interval(key, self)
        return slot, self.blocked_until, self.epoch

    def still_valid(self, now: float, blocked_until: float, epoch: int | None = None) -> bool:
        """Whether a slot taken when the block ended at ``blocked_until`` (in ``epoch``) may be used at ``now``.

        False when a 429 seen meanwhile moved the block past now, or the schedule was re-spaced since
        (``epoch`` given and changed): the caller takes a new slot.
        """
        if epoch is not None and epoch != self.epoch:
            return False
        return self.blocked_until <= blocked_until or self.blocked_until <= now

    def observe(self, now: float, pacing: Pacing, key: str, status: int, limit: int | None,
                remaining: int | None, retry_after: float | None) -> None:
        """Adapt to a response: the server's limit, a 429 (block and cut), a low remainder (cut), else recover."""
        self._touch(now, pacing)
        if pacing.adapt and limit and limit > 0 and limit != self.server_limit:
            self.server_limit = limit
            # slots reserved under the assumed rate may be seconds away: the schedule restarts from now
            # at the server's rate, and whoever holds an older slot takes a new one (the epoch moves)
            self.next_slot = min(self.next_slot, now + pacing.interval(key, self))
            self.epoch += 1
        if status == 429:
            self.factor = max(MIN_FACTOR, self.factor * CUT_ON_429)
            pause = retry_after if retry_after is not None else pacing.interval(key, self)
            self.blocked_until = max(self.blocked_until, now + pause)
            return
        if remaining is not None and pacing.adapt and self.server_limit:
            if remaining <= max(1, self.server_limit * LOW_REMAINING_SHARE):
                self.factor = max(MIN_FACTOR, self.factor * CUT_ON_LOW_REMAINING)
                return
        if self.factor < 1.0:
            self.factor = min(1.0, self.factor + RECOVERY_STEP)

    # ------------------------------------------------------------------------------------ serialisation

    def to_dict(self) -> dict[str, float | int | None]:
        """The state as a JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: object, now: float, horizon: float) -> SlotState:
        """Rebuild a state from :meth:`to_dict`'s output; raise ``ValueError`` if it is not one.

        Times more than ``horizon`` seconds ahead of ``now`` (a clock that went back, a damaged file)
        are not believed: they would stall every process for that long.
        """
        if not isinstance(data, dict):
            raise ValueError("not an object")
        values = {}
        for spec in fields(cls):
            value = data.get(spec.name, getattr(cls(), spec.name))
            if spec.name == "server_limit":
                if value is not None and (type(value) is not int or value <= 0):
                    raise ValueError("bad server_limit")
            elif type(value) not in (int, float) or not math.isfinite(value):
                raise ValueError(f"bad {spec.name}")
            values[spec.name] = value
        state = cls(**values)
        if not MIN_FACTOR <= state.factor <= 1.0:
            raise ValueError("bad factor")
        if max(state.next_slot, state.blocked_until, state.touched) > now + horizon:
            raise ValueError("times beyond the horizon")
        return state

"""Per-endpoint, per-user request budget: a fixed window that opens at a key's first request.

Specs read like `600/min`, `10/s`, `5000/hour` or `off`. Over the budget a request gets a 429 with
`Retry-After` (whole seconds until the window reopens).
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass

_PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600}
_SPEC = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([a-z]+)\s*$")
OFF_LIMIT = 1_000_000  # what the headers show when the limit is off


@dataclass(frozen=True)
class RateSpec:
    limit: int
    period: float

    def __str__(self) -> str:
        return f"{self.limit}/{int(self.period)}s"


def parse_rate(text: str | None) -> RateSpec | None:
    """`N/period` (period s|min|hour, optionally with a count such as `100/5min`) or `off` (None)."""
    if text is None or text.strip().lower() in ("off", "none", ""):
        return None
    m = _SPEC.match(text.lower())
    if not m or m.group(3) not in _PERIODS or int(m.group(1)) < 1:
        raise ValueError(f"rate limit must look like '600/min' or 'off' (got {text!r})")
    return RateSpec(int(m.group(1)), (int(m.group(2)) if m.group(2) else 1) * _PERIODS[m.group(3)])


@dataclass
class Decision:
    allowed: bool
    limit: int
    remaining: int
    retry_after: int

    def headers(self) -> dict[str, str]:
        h = {"X-RateLimit-Limit": str(self.limit), "X-RateLimit-Remaining": str(self.remaining)}
        if not self.allowed:
            h["Retry-After"] = str(self.retry_after)
        return h


class RateLimiter:
    """Counts requests per key (route template, user) in fixed windows on a monotonic clock."""

    def __init__(self, spec: RateSpec | None, clock=time.monotonic):
        self.spec = spec
        self._clock = clock
        self._windows: dict[tuple, list[float]] = {}  # key -> [window start, count]

    def hit(self, key: tuple) -> Decision:
        """Count one request for `key` and say whether it may proceed."""
        spec = self.spec
        if spec is None:
            return Decision(True, OFF_LIMIT, OFF_LIMIT, 0)
        now = self._clock()
        win = self._windows.get(key)
        if win is None or now - win[0] >= spec.period:
            win = self._windows[key] = [now, 0]
        if win[1] >= spec.limit:
            return Decision(False, spec.limit, 0, max(1, math.ceil(win[0] + spec.period - now)))
        win[1] += 1
        return Decision(True, spec.limit, spec.limit - int(win[1]), 0)

    def peek(self, key: tuple) -> Decision:
        """The current state of `key` without counting a request."""
        spec = self.spec
        if spec is None:
            return Decision(True, OFF_LIMIT, OFF_LIMIT, 0)
        win = self._windows.get(key)
        if win is None or self._clock() - win[0] >= spec.period:
            return Decision(True, spec.limit, spec.limit, 0)
        return Decision(True, spec.limit, max(0, spec.limit - int(win[1])), 0)

    def configure(self, spec: RateSpec | None) -> None:
        """Change the budget; every window starts afresh."""
        self.spec = spec
        self._windows.clear()

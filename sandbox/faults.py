"""Deterministic fault injection on business endpoints.

A spec (preset name, JSON text or dict) sets per-request probabilities; the draws come from
`random.Random(f"{seed}:faults")`, one fixed sequence of draws per request, so a sequential client sees
the same faults on every run. Kinds:

- `error` (HTTP 500 or 503, in bursts of `error_burst` requests),
- `throttle` (429 storms of `throttle_burst` requests, `Retry-After: retry_after`),
- `latency` (the answer is delayed by `latency_ms`),
- `cut` (headers and half the body are sent, then the connection is closed),
- `revoke` (every token issued so far becomes invalid: this request and later ones get 401 until re-login),
- `malformed` (a share of records is served breaking its schema: the record chosen by a hash of
  (seed, stream, record key), so the same record is malformed each time it is served),
- `late` (late visibility: a share `late_rate` of decisions and overdue case versions shows in the dated
  lists (notifications, the portfolio and overdue lists filtered by date) only `late_hours` or less after
  its event time, chosen and delayed by a hash of (seed, record key): :func:`late_seconds`). By id, and in
  a list without a date filter, a record shows at once.

`queue` lists faults to apply, in order, to the next business requests (`"500"`, `"503"`, `"429"`,
`"cut"`, `"revoke"`, `"latency"`), before any random draw: tests use it to hit one request exactly.
A fault never changes the data: the same request retried gets the correct answer.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import asdict, dataclass, field, fields

import orjson

PRESETS: dict[str, dict] = {
    "none": {},
    "mild": {"error_rate": 0.01, "error_burst": 2, "throttle_rate": 0.005, "throttle_burst": 3,
             "latency_rate": 0.02, "latency_ms": 50, "cut_rate": 0.005, "malformed_rate": 0.002},
    "hostile": {"error_rate": 0.05, "error_burst": 3, "throttle_rate": 0.03, "throttle_burst": 5,
                "latency_rate": 0.1, "latency_ms": 200, "cut_rate": 0.03, "revoke_rate": 0.002,
                "malformed_rate": 0.01},
}
QUEUE_KINDS = ("500", "503", "429", "cut", "revoke", "latency")
MALFORMED_KINDS = ("missing_id", "bad_date", "amount_string")


@dataclass
class FaultSpec:
    """Probabilities and shapes of the faults; all zero means no fault."""

    seed: int | None = None
    error_rate: float = 0.0
    error_burst: int = 1
    error_codes: list[int] = field(default_factory=lambda: [500, 503])
    throttle_rate: float = 0.0
    throttle_burst: int = 1
    retry_after: int = 1
    latency_rate: float = 0.0
    latency_ms: int = 100
    cut_rate: float = 0.0
    revoke_rate: float = 0.0
    malformed_rate: float = 0.0
    late_rate: float = 0.0
    late_hours: float = 30.0
    queue: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def parse_faults(value: str | dict | FaultSpec | None) -> FaultSpec:
    """`none|mild|hostile`, a JSON object (text or dict, optionally with `"preset"` as a base), or a spec."""
    if value is None:
        return FaultSpec()
    if isinstance(value, FaultSpec):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text in PRESETS:
            return FaultSpec(**PRESETS[text])
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError:
            raise ValueError(f"faults must be none, mild, hostile or a JSON object (got {text!r})") from None
    if not isinstance(value, dict):
        raise ValueError("a fault spec must be a JSON object")
    spec = dict(value)
    base = spec.pop("preset", "none")
    if base not in PRESETS:
        raise ValueError(f"unknown fault preset {base!r}")
    merged = {**PRESETS[base], **spec}
    known = {f.name for f in fields(FaultSpec)}
    unknown = set(merged) - known
    if unknown:
        raise ValueError(f"unknown fault settings: {sorted(unknown)}")
    result = FaultSpec(**merged)
    bad = [q for q in result.queue if q not in QUEUE_KINDS]
    if bad:
        raise ValueError(f"unknown queued faults {bad}; use {list(QUEUE_KINDS)}")
    return result


@dataclass
class Fault:
    kind: str  # error | throttle | latency | cut | revoke
    status: int = 0
    delay: float = 0.0
    retry_after: int = 0


class FaultInjector:
    """Draws the fault (if any) of each business request and decides which records are malformed."""

    def __init__(self, spec: FaultSpec, world_seed: int):
        self.world_seed = world_seed
        self.configure(spec)

    def configure(self, spec: FaultSpec) -> None:
        """Install a new spec; the random sequence and bursts restart from the beginning."""
        self.spec = spec
        self.seed = spec.seed if spec.seed is not None else self.world_seed
        self._rng = random.Random(f"{self.seed}:faults")
        self._error_left = 0
        self._error_status = 500
        self._throttle_left = 0
        self.queue = list(spec.queue)
        self._malformed_threshold = int(spec.malformed_rate * 1_000_000)

    @property
    def active(self) -> bool:
        s = self.spec
        return bool(self.queue or s.error_rate or s.throttle_rate or s.latency_rate or s.cut_rate or s.revoke_rate)

    def next_fault(self) -> Fault | None:
        """The fault to apply to the current business request, or None."""
        if self.queue:
            return self._queued(self.queue.pop(0))
        s = self.spec
        if not self.active:
            return None
        if self._throttle_left:
            self._throttle_left -= 1
            return Fault("throttle", 429, retry_after=s.retry_after)
        if self._error_left:
            self._error_left -= 1
            return Fault("error", self._error_status)
        r = self._rng
        draws = (r.random(), r.random(), r.random(), r.random(), r.random(), r.random())
        if draws[0] < s.throttle_rate:
            self._throttle_left = max(0, s.throttle_burst - 1)
            return Fault("throttle", 429, retry_after=s.retry_after)
        if draws[1] < s.error_rate:
            self._error_status = s.error_codes[int(draws[5] * len(s.error_codes))] if s.error_codes else 500
            self._error_left = max(0, s.error_burst - 1)
            return Fault("error", self._error_status)
        if draws[2] < s.revoke_rate:
            return Fault("revoke", 401)
        if draws[3] < s.cut_rate:
            return Fault("cut")
        if draws[4] < s.latency_rate:
            return Fault("latency", delay=s.latency_ms / 1000)
        return None

    def _queued(self, item: str) -> Fault:
        if item in ("500", "503"):
            return Fault("error", int(item))
        if item == "429":
            return Fault("throttle", 429, retry_after=self.spec.retry_after)
        if item == "latency":
            return Fault("latency", delay=self.spec.latency_ms / 1000)
        return Fault(item)

    @property
    def late_config(self) -> tuple[int, float, float]:
        """What the late-visibility draws depend on (seed, share, longest delay): part of a cached list's key."""
        return self.seed, self.spec.late_rate, self.spec.late_hours

    def late_seconds(self, key: str) -> int:
        """How long after its event time the record ``key`` shows in the dated lists (0: at once)."""
        return late_seconds(self.seed, self.spec.late_rate, self.spec.late_hours, key)

    def malformation(self, stream: str, key: str, kinds: tuple[str, ...]) -> str | None:
        """The malformation kind of record `key` of `stream`, or None; a pure function of (seed, stream, key)."""
        if not self._malformed_threshold:
            return None
        h = int.from_bytes(hashlib.blake2b(f"{self.seed}:{stream}:{key}".encode(), digest_size=8).digest(), "big")
        if h % 1_000_000 >= self._malformed_threshold:
            return None
        return kinds[(h // 1_000_000) % len(kinds)]


def late_seconds(seed: int, rate: float, hours: float, key: str) -> int:
    """Seconds after its event time that record ``key`` (a decision's deliveryId, an overdue case version's
    ``overdueId:lastUpdateDate``) shows in the dated lists, under a late-visibility fault of ``rate`` and
    ``hours``: 0 for most records, else 1 s to ``hours`` hours; a pure function of its arguments, which
    the exactness oracle reads too."""
    if rate <= 0 or hours <= 0:
        return 0
    h = hashlib.blake2b(f"{seed}:late:{key}".encode(), digest_size=16).digest()
    if int.from_bytes(h[:8], "big") / 2**64 >= rate:
        return 0
    return max(1, int(int.from_bytes(h[8:], "big") / 2**64 * hours * 3600))

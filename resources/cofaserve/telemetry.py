"""Thread-safe counters of what the client did, for an asset to attach as metadata.

:meth:`Telemetry.snapshot` returns a flat ``dict`` of plain numbers (int or float), keyed by stable
names; per-endpoint counts are ``requests.<endpoint>``. Latency percentiles come from a fixed-size
reservoir sample, so memory stays constant however long the run.
"""

from __future__ import annotations

import math
import random
import threading
from collections import Counter

_RESERVOIR = 10_000


class Telemetry:
    """Counts requests, retries, 429s, bytes, pages, records and latencies. Safe to share between threads."""

    def __init__(self, reservoir_size: int = _RESERVOIR, rng: random.Random | None = None):
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._by_endpoint: Counter[str] = Counter()
        self._latencies: list[float] = []
        self._seen_latencies = 0
        self._size = reservoir_size
        self._rng = rng or random.Random(0)

    # ------------------------------------------------------------------------------------------- record

    def add(self, name: str, amount: int = 1) -> None:
        """Add ``amount`` to the counter ``name``."""
        with self._lock:
            self._counts[name] += amount

    def request(self, endpoint: str, status: int | None, nbytes: int, latency_seconds: float) -> None:
        """Record one HTTP exchange (``status`` None when no response arrived)."""
        with self._lock:
            self._counts["requests"] += 1
            self._by_endpoint[endpoint] += 1
            self._counts["bytes"] += nbytes
            if status is None:
                self._counts["transport_errors"] += 1
            elif status == 429:
                self._counts["http_429"] += 1
            elif status >= 500:
                self._counts["http_5xx"] += 1
            elif status >= 400:
                self._counts["http_4xx"] += 1
            self._sample(latency_seconds)

    def _sample(self, value: float) -> None:
        self._seen_latencies += 1
        if len(self._latencies) < self._size:
            self._latencies.append(value)
        else:
            slot = self._rng.randrange(self._seen_latencies)
            if slot < self._size:
                self._latencies[slot] = value

    # ------------------------------------------------------------------------------------------- report

    def snapshot(self) -> dict[str, float | int]:
        """Return the counts so far as a flat dict of plain numbers.

        Keys: ``requests``, ``requests.<endpoint>``, ``retries``, ``http_429``, ``http_5xx``, ``http_4xx``,
        ``transport_errors``, ``bytes``, ``pages``, ``records``, ``records_invalid``, ``unknown_fields``,
        ``logins``, ``token_refreshes``, ``replays``, ``latency_p50_ms``, ``latency_p95_ms``,
        ``latency_p99_ms``. Missing counts are 0.
        """
        with self._lock:
            counts = dict(self._counts)
            by_endpoint = dict(self._by_endpoint)
            latencies = sorted(self._latencies)
        out: dict[str, float | int] = {
            key: counts.get(key, 0)
            for key in (
                "requests", "retries", "http_429", "http_5xx", "http_4xx", "transport_errors", "bytes",
                "pages", "records", "records_invalid", "unknown_fields", "logins", "token_refreshes",
                "replays",
            )
        }
        for key, value in counts.items():
            out.setdefault(key, value)
        for endpoint, value in sorted(by_endpoint.items()):
            out[f"requests.{endpoint}"] = value
        for pct in (50, 95, 99):
            out[f"latency_p{pct}_ms"] = round(_percentile(latencies, pct) * 1000, 3)
        return out


def _percentile(ordered: list[float], pct: float) -> float:
    """Nearest-rank percentile of an ascending list (0.0 when empty)."""
    if not ordered:
        return 0.0
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]

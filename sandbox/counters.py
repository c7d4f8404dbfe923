"""Request counters exposed on `/_sandbox/counters` (per endpoint, per status, logins, faults, bytes, and
when each endpoint was first and last served)."""

from __future__ import annotations

import time
from collections import Counter


class Counters:
    """Plain in-memory tallies; `snapshot` gives a JSON-ready dict, `reset` zeroes everything."""

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        self.requests = 0
        self.bytes_sent = 0
        self.by_endpoint: Counter[str] = Counter()
        self.by_status: Counter[str] = Counter()
        self.by_endpoint_status: Counter[str] = Counter()
        self.login: Counter[str] = Counter()
        self.faults: Counter[str] = Counter()
        self.rate_limited = 0
        self.malformed_served = 0
        self.spans: dict[str, list[float]] = {}

    def record_response(self, endpoint: str, status: int, nbytes: int) -> None:
        self.requests += 1
        self.bytes_sent += nbytes
        self.by_endpoint[endpoint] += 1
        self.by_status[str(status)] += 1
        self.by_endpoint_status[f"{endpoint} {status}"] += 1
        now = time.time()
        span = self.spans.setdefault(endpoint, [now, now])
        span[1] = now

    def snapshot(self) -> dict:
        return {
            "requests": self.requests,
            "bytes": self.bytes_sent,
            "byEndpoint": dict(self.by_endpoint),
            "byStatus": dict(self.by_status),
            "byEndpointStatus": dict(self.by_endpoint_status),
            "login": {k: self.login.get(k, 0) for k in
                      ("attempts", "successes", "failures", "ignored", "lockouts", "refreshes")},
            "rateLimited": self.rate_limited,
            "faults": dict(self.faults),
            "malformedServed": self.malformed_served,
            "spans": {endpoint: {"first": first, "last": last} for endpoint, (first, last) in self.spans.items()},
        }

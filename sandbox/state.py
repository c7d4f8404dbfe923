"""The running sandbox: its settings and every stateful part (world, auth, rate limit, faults, counters)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import partial

from sandbox import store
from sandbox.auth import AuthClock, Credentials, Lockout, TokenStore
from sandbox.counters import Counters
from sandbox.faults import FaultInjector, FaultSpec, parse_faults
from sandbox.malformed import MalformedRegister, kinds_for
from sandbox.push.channel import PushChannel
from sandbox.ratelimit import RateLimiter, parse_rate
from sandbox.views import Views
from sandbox.world import World, load_world


def utc_today() -> date:
    """The real current UTC date (the default `today`)."""
    return datetime.now(UTC).date()


@dataclass
class SandboxSettings:
    """Everything that defines a sandbox run; see `python -m sandbox serve --help`."""

    seed: int = 42
    companies: int = 1000
    today: date = field(default_factory=utc_today)
    epoch: date | None = None
    rate_limit: str = "off"
    faults: str | dict = "none"
    username: str | None = None
    password: str | None = None
    api_key: str | None = None
    token_ttl: int = 3600
    policies: int = 1
    push_timeout: float = 5.0
    """Seconds the push sender waits for a subscriber's endpoint to answer (then the attempt failed)."""
    push_rate: int = 10
    """Messages sent per second and per subscription at most ([DOC] 10; tests of the retry timeline raise it)."""


class Sandbox:
    """One sandbox instance; the HTTP layer reads and changes it only through these attributes."""

    def __init__(self, settings: SandboxSettings, world: World | None = None):
        self.settings = settings
        self.world = world or load_world(settings.seed, settings.companies, settings.today, settings.epoch)
        """Policy 0's world (the account's first policy; the only one unless ``policies`` says more)."""
        self.worlds = [self.world] + [
            load_world(settings.seed, settings.companies, self.world.today, self.world.epoch, index)
            for index in range(1, settings.policies)]
        """One world per policy of the account, in policy order."""
        base = Credentials.for_seed(settings.seed, self.world.policy.policy_number)
        self.credentials = Credentials(settings.username or base.username, settings.password or base.password,
                                       settings.api_key or base.api_key, base.policy_number)
        self.auth_clock = AuthClock()
        self.lockout = Lockout()
        self.tokens = TokenStore(self.auth_clock, ttl=settings.token_ttl)
        self.limiter = RateLimiter(parse_rate(settings.rate_limit))
        self.faults = FaultInjector(parse_faults(settings.faults), settings.seed)
        self.counters = Counters()
        self.malformed = MalformedRegister()
        self._push: PushChannel | None = None
        self._advancing = threading.RLock()
        policies = [w.policy for w in self.worlds]
        self.views_by_policy = {w.policy.policy_number: Views(w, partial(self._item_hook, w.policy.policy_number),
                                                              policies, late=self.faults)
                                for w in self.worlds}
        """The read models of each policy the account holds, by policy number."""
        self.views = self.views_by_policy[self.world.policy.policy_number]

    def _item_hook(self, policy: str, stream: str, key: str, item: bytes) -> bytes:
        kind = self.faults.malformation(stream, key, kinds_for(stream))
        if kind is None:
            return item
        self.counters.malformed_served += 1
        return self.malformed.serve(stream, key, kind, item, policy)

    def set_faults(self, spec: FaultSpec) -> None:
        """Install a new fault spec (random sequence restarts; malformed-record choice follows the seed)."""
        self.faults.configure(spec)

    def advance_to(self, today: date) -> None:
        """Move the business clock forward (ValueError if backwards), generating the days in between, for
        every policy; the decisions made meanwhile are pushed to the subscribers of their topics."""
        with self._advancing:
            for world in self.worlds:
                world.advance_to(today)
            if self._push is not None:
                self._push.publish_new(self.worlds)
                self._push.sender.wake()

    @property
    def push(self) -> PushChannel:
        """The push channel (made on first use: its signing key, its sending thread)."""
        with self._advancing:
            if self._push is None:
                self._push = PushChannel(lambda: store.day_start(self.world.today), self.worlds,
                                         timeout=self.settings.push_timeout,
                                         rate=self.settings.push_rate)
            return self._push

    def advance_push_clock(self, seconds: float) -> None:
        """Move the push clock forward by ``seconds``; the business days it reaches start."""
        self.push.advance(seconds, lambda day: self.advance_to(max(day, self.world.today)))

    def close(self) -> None:
        """Stop the push channel's sending thread, if it was started."""
        if self._push is not None:
            self._push.close()

"""A sandbox world: companies, policy and the simulated timeline, stored in one SQLite database.

An account may hold several policies (``policy_index`` 0, 1, ...): each is a world of its own, on the
same companies (so buyers are shared between policies, decided differently under each), with its own
timeline seed, its own id range and its own currency. Policy 0 is the world of the seed as it always was.

The world is a pure function of (seed, size, epoch, today): `World.create` generates the companies,
then simulates every day from `epoch` (default: today - 3 years) to `today - 1`. The API shows
events strictly before `today` 00:00:00Z, i.e. everything up to the end of yesterday.
`advance_to` moves `today` forward by simulating the missing days; the clock never goes back.
Generated worlds are cached per process (`load_world`), so tests pay for each world once.
"""

from __future__ import annotations

import hashlib
import pickle
import sqlite3
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, timedelta

from sandbox import store
from sandbox.companies import CompanyIndex, generate_companies
from sandbox.timeline import SimState, Simulator

HISTORY_YEARS = 3
RETENTION_YEARS = 2


@dataclass(frozen=True)
class Policy:
    """The one contract (policy) of the world."""

    policy_number: str
    customer_name: str
    currency: str
    start_date: str


MAX_POLICIES = 4
_POLICY_CURRENCIES = ("EUR", "USD", "GBP", "CHF")
_POLICY_NAMES = ("Sandbox Trading SA", "Sandbox Trading Inc", "Sandbox Trading Ltd", "Sandbox Trading AG")
ID_STRIDE = 2_000_000
"""Ids (orders, deliveries, notifications, overdues, temporary numbers) of policy k start k × this higher."""


def _derived(seed: int, what: str) -> int:
    return int(hashlib.sha256(f"{seed}:{what}".encode()).hexdigest(), 16)


def policy_for(seed: int, epoch: date, index: int = 0) -> Policy:
    """Policy ``index`` of the account: a 7-digit number derived from the seed (index 0 as it always was),
    each in its own currency, started a year before the epoch."""
    if not 0 <= index < MAX_POLICIES:
        raise ValueError(f"a sandbox account holds 1 to {MAX_POLICIES} policies")
    number = str(1_000_000 + _derived(seed, "policy" if index == 0 else f"policy:{index}") % 9_000_000)
    return Policy(number, _POLICY_NAMES[index], _POLICY_CURRENCIES[index], store.years_before(epoch, 1).isoformat())


def timeline_seed(seed: int, index: int) -> int:
    """The seed of policy ``index``'s timeline: the world's seed for policy 0, a derived one otherwise."""
    return seed if index == 0 else _derived(seed, f"timeline:{index}") % 2**31


class World:
    """The state of one world as of `today`; access is serialised with `lock`."""

    def __init__(self, conn: sqlite3.Connection, state: SimState, companies: CompanyIndex, today: date,
                 seed: int | None = None, policy_index: int = 0):
        self.conn = conn
        self.state = state
        self.companies = companies
        self.today = today
        self.lock = threading.RLock()
        self.version = 0
        self.seed = state.seed if seed is None else seed
        """The world's seed (its companies; policy 0's timeline)."""
        self.policy_index = policy_index
        self.policy = policy_for(self.seed, state.epoch, policy_index)

    @property
    def size(self) -> int:
        return self.state.size

    @property
    def epoch(self) -> date:
        return self.state.epoch

    @property
    def horizon(self) -> date:
        """First day the API still serves (today - 2 years)."""
        return store.years_before(self.today, RETENTION_YEARS)

    @property
    def visible_before(self) -> int:
        """Instant (seconds) before which events are visible: today 00:00:00Z."""
        return store.day_start(self.today)

    @classmethod
    def create(cls, seed: int, size: int, today: date, epoch: date | None = None, policy_index: int = 0) -> World:
        """Generate a new world of `size` companies and simulate policy ``policy_index``'s timeline from
        `epoch` up to `today`."""
        epoch = epoch or store.years_before(today, HISTORY_YEARS)
        if epoch > today:
            raise ValueError("epoch must not be after today")
        policy_for(seed, epoch, policy_index)  # an index out of range is refused before any work
        conn = store.connect(indexes=False)
        companies = generate_companies(conn, seed, size)
        state = SimState(seed=timeline_seed(seed, policy_index), size=size, epoch=epoch,
                         simulated_through=epoch - timedelta(days=1), id_base=policy_index * ID_STRIDE)
        world = cls(conn, state, companies, epoch, seed, policy_index)
        world.advance_to(today)
        store.create_indexes(conn)
        return world

    def advance_to(self, today: date) -> None:
        """Simulate the days up to `today - 1`; `today` earlier than the current one is a ValueError."""
        with self.lock:
            if today < self.today:
                raise ValueError(f"the clock never goes backwards ({self.today} -> {today})")
            sim = Simulator(self.state, self.companies)
            day = self.state.simulated_through
            last = today - timedelta(days=1)
            while day < last:  # flush every 90 days to bound the buffers
                step = min(last, day + timedelta(days=90))
                sim.run_until(step)
                sim.flush(self.conn)
                day = step
            self.today = today
            self.version += 1

    def snapshot(self) -> tuple[bytes, bytes, date]:
        """Bytes from which `from_snapshot` rebuilds an independent copy of this world."""
        with self.lock:
            pickled = pickle.dumps((self.state, self.companies, self.seed, self.policy_index))
            return self.conn.serialize(), pickled, self.today

    @classmethod
    def from_snapshot(cls, snap: tuple[bytes, bytes, date]) -> World:
        """An independent world restored from `snapshot()`."""
        data, pickled, today = snap
        state, companies, seed, index = pickle.loads(pickled)  # noqa: S301 - our own in-process bytes
        return cls(store.copy_of(data), state, companies, today, seed, index)


_CACHE: OrderedDict[tuple, tuple[bytes, bytes, date]] = OrderedDict()
_CACHE_LOCK = threading.Lock()
CACHE_ENTRIES = 6
CACHE_MAX_COMPANIES = 20_000


def load_world(seed: int, size: int, today: date, epoch: date | None = None, policy_index: int = 0) -> World:
    """A fresh, private world for (seed, size, epoch, policy, today), reusing this process's earlier
    generations.

    Worlds of up to CACHE_MAX_COMPANIES companies are cached; a cached world of the same seed, size,
    epoch and policy at an earlier day is advanced rather than regenerated.
    """
    epoch = epoch or store.years_before(today, HISTORY_YEARS)
    if size > CACHE_MAX_COMPANIES:
        return World.create(seed, size, today, epoch, policy_index)
    with _CACHE_LOCK:
        best = None
        for (k_seed, k_size, k_epoch, k_policy, k_today), snap in _CACHE.items():
            if (k_seed, k_size, k_epoch, k_policy) == (seed, size, epoch, policy_index) and k_today <= today:
                if best is None or k_today > best[2]:
                    best = snap
        if best is not None and best[2] == today:
            _CACHE.move_to_end((seed, size, epoch, policy_index, today))
            return World.from_snapshot(best)
    if best is not None:
        world = World.from_snapshot(best)
        world.advance_to(today)
    else:
        world = World.create(seed, size, today, epoch, policy_index)
    with _CACHE_LOCK:
        _CACHE[(seed, size, epoch, policy_index, today)] = world.snapshot()
        while len(_CACHE) > CACHE_ENTRIES:
            _CACHE.popitem(last=False)
    return world

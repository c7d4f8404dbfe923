"""The day-by-day simulation that produces every business event of a world.

Day D is simulated with `random.Random(f"{seed}:day:{D}")` applied to the state left by day D-1, so a
world reaches the same state on day D whether it is advanced one day at a time or in one step. A day
draws its new orders, unknown-buyer orders, overdue cases and customer-reference changes, then plays,
in instant order, every event scheduled for it (earlier days schedule decisions, changes, expiries,
identifications and overdue updates into a heap). Rows are buffered and written to SQLite by `flush`.
"""

from __future__ import annotations

import hashlib
import heapq
import math
import random
import sqlite3
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta

import orjson

from sandbox.companies import CompanyIndex, company_head
from sandbox.reference import (
    ACTIVE_DELIVERY_STATUSES,
    COUNTRIES,
    COVER_PRODUCTS,
    CREDIT_PRODUCTS,
    DECISION_CONDITIONS,
    DOCUMENT_MEDIA_TYPES,
    DOCUMENT_STEMS,
    MONITORED_PRODUCTS,
    NON_PAYMENT_REASONS,
    PENDING_ORDER_STATUSES,
    PRODUCT_CODES,
    PRODUCT_WEIGHTS,
    REJECTION_REASONS,
    SPECIAL_PRODUCTS,
)
from sandbox.store import day_start, fmt_date, fmt_ts

DAY = 86400
# Mean events per day for 1,000 companies (worlds smaller than 500 companies keep the 500 rate)
ORDERS_PER_DAY = 2.4
UNKNOWN_ORDERS_PER_DAY = 0.15
OVERDUES_PER_DAY = 0.12
CUSTREF_CHANGES_PER_DAY = 0.3
BOUNDARY_SHARE = 0.03  # share of scheduled instants at exactly 00:00:00Z, and again at 23:59:59Z
_CURRENCY = {c[0]: ("USD" if c[3] == "USD" else "GBP" if c[3] == "GBP" else "EUR") for c in COUNTRIES}
_REQUESTED = [5_000, 10_000, 20_000, 25_000, 50_000, 75_000, 100_000, 150_000, 200_000, 300_000, 500_000,
              750_000, 1_000_000, 2_000_000]


@dataclass(slots=True)
class Line:
    """A (company, product) of the portfolio: its last order and that order's last delivery."""

    easy: str
    product: str
    company_idx: int
    temp_easy: str | None
    order_id: str
    order_version: int
    order_at: int
    order_status: str
    requested: float | None
    currency: str
    delivery_id: str | None = None
    external_id: str | None = None
    status: str | None = None
    decision_at: int | None = None
    effective_date: str | None = None
    expiry_date: str | None = None
    amount: float | None = None
    rejection: str = "[]"
    order_status_at: int | None = None  # instant of the latest order version (None: the order instant)

    @property
    def event_at(self) -> int:
        """The line's event instant, on which the portfolio's date window filters: its latest decision or
        order status change, whichever is later, so every change surfaces in that day's window."""
        order_at = self.order_status_at if self.order_status_at is not None else self.order_at
        return order_at if self.decision_at is None else max(self.decision_at, order_at)

    @property
    def active(self) -> bool:
        """Pending order, or last decision active: such a line takes no new order and is always listed."""
        if self.status is None:
            return self.order_status in PENDING_ORDER_STATUSES
        return self.status in ACTIVE_DELIVERY_STATUSES


@dataclass
class SimState:
    """Everything the simulation carries from one day to the next (picklable)."""

    seed: int
    size: int
    epoch: date
    simulated_through: date  # last simulated day (epoch - 1 before any)
    id_base: int = 0  # added to every generated number, so that the policies of one account never share an id
    counters: dict[str, int] = field(default_factory=lambda: {
        "order": 0, "delivery": 0, "overdue": 0, "temp": 0, "seq": 0, "custref": 0})
    lines: dict[tuple[str, str], Line] = field(default_factory=dict)
    order_key: dict[str, tuple[str, str]] = field(default_factory=dict)
    reserved: set[tuple[int, str]] = field(default_factory=set)
    heap: list[tuple] = field(default_factory=list)
    overdues: dict[str, dict] = field(default_factory=dict)
    open_overdue: dict[tuple[int, str], str] = field(default_factory=dict)
    custref: dict[int, str] = field(default_factory=dict)
    temp_company: dict[str, int] = field(default_factory=dict)
    pending_links: dict[str, str] = field(default_factory=dict)  # order_id -> temp easy, until decided


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _time_of_day(rng: random.Random) -> int:
    r = rng.random()
    if r < BOUNDARY_SHARE:
        return 0
    if r < 2 * BOUNDARY_SHARE:
        return DAY - 1
    return rng.randrange(6 * 3600, 21 * 3600)


def _date_plus(instant: int, days: int) -> str:
    return fmt_date(instant + days * DAY)


class Simulator:
    """Plays days on a SimState, buffering the rows it produces until `flush`."""

    def __init__(self, state: SimState, companies: CompanyIndex):
        self.s = state
        self.c = companies
        self.rng = random.Random(0)
        self.now = 0
        self._reset_buffers()

    # ------------------------------------------------------------------ driving
    def run_until(self, last_day: date) -> None:
        """Simulate every day after `simulated_through` up to and including `last_day`."""
        day = self.s.simulated_through + timedelta(days=1)
        while day <= last_day:
            self._simulate_day(day)
            self.s.simulated_through = day
            day += timedelta(days=1)

    def _simulate_day(self, day: date) -> None:
        s = self.s
        rng = self.rng = random.Random(f"{s.seed}:day:{day.isoformat()}")
        start = day_start(day)
        end = start + DAY
        scale = max(s.size, 500) / 1000
        heads = self.c.head_offices
        n_orders = max(1, _poisson(rng, ORDERS_PER_DAY * scale))
        ordinal = (day - s.epoch).days
        for i in range(n_orders):
            idx = heads[rng.randrange(len(heads))]
            product = rng.choices(PRODUCT_CODES, PRODUCT_WEIGHTS)[0]
            mode = "normal"
            if i == 0:  # one decided order every day, at awkward instants every few days
                product = "CREDITLIMIT"
                mode = {0: "midnight", 5: "last_second"}.get(ordinal % 10, "immediate")
            at = start + (rng.randrange(20 * 3600, 23 * 3600) if mode == "midnight" else
                          DAY - 1 - rng.randint(30, 300) if mode == "last_second" else
                          rng.randrange(7 * 3600, 19 * 3600))
            self._push(at, "new_order", (idx, product, mode))
        for _ in range(_poisson(rng, UNKNOWN_ORDERS_PER_DAY * scale)):
            self._push(start + rng.randrange(8 * 3600, 18 * 3600), "new_unknown_order", ())
        for _ in range(_poisson(rng, OVERDUES_PER_DAY * scale)):
            self._push(start + rng.randrange(8 * 3600, 18 * 3600), "new_overdue", ())
        for _ in range(_poisson(rng, CUSTREF_CHANGES_PER_DAY * scale)):
            self._push(start + rng.randrange(0, DAY), "custref_change", ())
        heap = s.heap
        while heap and heap[0][0] < end:
            at, _seq, kind, payload = heapq.heappop(heap)
            self.now = at
            getattr(self, "_on_" + kind)(*payload)

    def _push(self, at: int, kind: str, payload: tuple) -> None:
        if at < self.now:
            at = self.now
        self.s.counters["seq"] += 1
        heapq.heappush(self.s.heap, (at, self.s.counters["seq"], kind, payload))

    def _next(self, name: str) -> int:
        self.s.counters[name] += 1
        return self.s.counters[name]

    # ------------------------------------------------------------------ orders
    def _on_new_order(self, idx: int, product: str, mode: str) -> None:
        s, rng, t = self.s, self.rng, self.now
        for _attempt in range(1 if mode == "normal" else 20):  # forced orders look for a free line
            easy = self.c.easy[idx]
            key = (easy, product)
            old = s.lines.get(key)
            if not ((old is not None and old.active) or (idx, product) in s.reserved):
                break
            idx = self.c.head_offices[rng.randrange(len(self.c.head_offices))]
        else:
            return
        order_id = str(10_000_000 + self.s.id_base + self._next("order"))
        requested = self._requested(product)
        line = Line(easy, product, idx, None, order_id, 0, t, "STATUS_STARTED", requested,
                    _CURRENCY[self.c.country[idx]])
        if old is not None:
            s.order_key.pop(old.order_id, None)
        s.lines[key] = line
        s.order_key[order_id] = key
        self._dirty_line(key)
        if idx not in s.custref and rng.random() < 0.5:
            self._set_custref(idx, f"CR-{rng.randrange(10**6):06d}")
        r = rng.random()
        if mode == "midnight":
            self._order_version(line, "STATUS_PENDING_UNDERWRITING", t)
            self._push(day_start(_day_after(t)), "decide", (order_id,))
        elif mode == "last_second":
            self._order_version(line, "STATUS_STARTED", t)
            self._push(t - t % DAY + DAY - 1, "decide", (order_id,))
        elif mode == "immediate":
            self._order_version(line, "STATUS_STARTED", t)
            self._push(t + rng.randint(2, 90), "decide", (order_id,))
        elif r < 0.04:
            code, label = rng.choice(REJECTION_REASONS[:2] + REJECTION_REASONS[3:])
            line.rejection = orjson.dumps([{"code": code, "label": label}]).decode()
            self._order_version(line, "STATUS_REJECTED", t)
            self._finish_order(line)
        elif product not in COVER_PRODUCTS and product != "EDD":
            self._order_version(line, "STATUS_STARTED", t)
            delay = rng.randint(30, 3600) if rng.random() < 0.8 else rng.randint(1, 3) * DAY
            self._push(t + delay, "decide", (order_id,))
        elif r < 0.49:
            self._order_version(line, "STATUS_STARTED", t)
            self._push(t + rng.randint(2, 90), "decide", (order_id,))
        else:
            self._order_version(line, "STATUS_PENDING_UNDERWRITING", t)
            days = rng.randint(1, 20)
            if rng.random() < 0.35:
                status = "STATUS_PENDING_COMPLEMENTARY_INFORMATION" if rng.random() < 0.7 else "STATUS_PENDING_ON_HOLD"
                self._push(t + rng.randint(1, max(1, days - 1)) * DAY // 2, "order_status", (order_id, status))
            decided_at = day_start(_day_after(t) + timedelta(days=days - 1)) + _time_of_day(rng)
            self._push(decided_at, "annul" if rng.random() < 0.05 else "decide", (order_id,))

    def _requested(self, product: str) -> float | None:
        if product in COVER_PRODUCTS or product == "CCO":
            return float(self.rng.choice(_REQUESTED))
        if product == "EDD":
            return float(self.rng.randrange(1_000, 80_000, 10))
        return None

    def _line_of(self, order_id: str) -> Line | None:
        key = self.s.order_key.get(order_id)
        if key is None:
            return None
        line = self.s.lines.get(key)
        return line if line is not None and line.order_id == order_id else None

    def _on_order_status(self, order_id: str, status: str) -> None:
        line = self._line_of(order_id)
        if line is not None and line.status is None and line.order_status in PENDING_ORDER_STATUSES:
            self._order_version(line, status, self.now)

    def _on_annul(self, order_id: str) -> None:
        line = self._line_of(order_id)
        if line is not None and line.status is None and line.order_status in PENDING_ORDER_STATUSES:
            self._order_version(line, "STATUS_ANNULED", self.now)
            self._finish_order(line)

    def _finish_order(self, line: Line) -> None:
        self.s.order_key.pop(line.order_id, None)
        self.s.reserved.discard((line.company_idx, line.product))

    # ------------------------------------------------------------------ unknown buyers
    def _on_new_unknown_order(self) -> None:
        s, rng, t = self.s, self.rng, self.now
        heads = self.c.head_offices
        product = rng.choice(CREDIT_PRODUCTS[:2] + ("CREDITLIMIT",))
        idx = heads[rng.randrange(len(heads))]
        line_def = s.lines.get((self.c.easy[idx], product))
        if (line_def is not None and line_def.active) or (idx, product) in s.reserved:
            return
        n = self._next("temp")
        temp = f"Z{s.seed % 90 + 10:02d}{n + s.id_base:07d}"
        s.temp_company[temp] = idx
        self._temp_company_row(temp, idx)
        order_id = str(10_000_000 + self.s.id_base + self._next("order"))
        line = Line(temp, product, idx, temp, order_id, 0, t, "STATUS_PENDING_DEBTOR_VALIDATION",
                    float(rng.choice(_REQUESTED)), _CURRENCY[self.c.country[idx]])
        s.lines[(temp, product)] = line
        s.order_key[order_id] = (temp, product)
        s.reserved.add((idx, product))
        self._dirty_line((temp, product))
        self._order_version(line, "STATUS_PENDING_DEBTOR_VALIDATION", t)
        at = day_start(_day_after(t) + timedelta(days=rng.randint(0, 14))) + rng.randrange(8 * 3600, 18 * 3600)
        if rng.random() < 0.85:
            self._push(at, "identify", (order_id,))
        else:
            self._push(at + rng.randint(10, 20) * DAY, "reject_unidentified", (order_id,))

    def _temp_company_row(self, temp: str, idx: int) -> None:
        c = self.c
        name = c.name[idx].upper()
        head = company_head(temp, name, c.street[idx], c.postal[idx], c.city[idx], c.country[idx], [], True, None)
        self.rows["companies"].append((len(c) + len(self.s.temp_company), temp, 1, c.country[idx], name.lower(),
                                       c.city[idx].lower(), c.postal[idx], head))

    def _on_identify(self, order_id: str) -> None:
        s, rng, t = self.s, self.rng, self.now
        line = self._line_of(order_id)
        if line is None or line.status is not None or line.order_status != "STATUS_PENDING_DEBTOR_VALIDATION":
            return
        temp = line.easy
        easy = self.c.easy[line.company_idx]
        del s.lines[(temp, line.product)]
        self.deleted_lines.add((temp, line.product))
        self.dirty_lines.discard((temp, line.product))
        old = s.lines.get((easy, line.product))
        if old is not None:
            s.order_key.pop(old.order_id, None)
        line.easy = easy
        s.lines[(easy, line.product)] = line
        s.order_key[order_id] = (easy, line.product)
        s.reserved.discard((line.company_idx, line.product))
        self._dirty_line((easy, line.product))
        self.deleted_lines.discard((easy, line.product))
        self._order_version(line, "STATUS_PENDING_UNDERWRITING", t)
        self.rows["links"].append((temp, easy, order_id, None, t))
        s.pending_links[order_id] = temp
        days = rng.randint(0, 10)
        at = t + rng.randint(60, 7200) if days == 0 else day_start(_day_after(t) + timedelta(days=days - 1)) + _time_of_day(rng)
        self._push(at, "decide", (order_id,))

    def _on_reject_unidentified(self, order_id: str) -> None:
        line = self._line_of(order_id)
        if line is None or line.order_status != "STATUS_PENDING_DEBTOR_VALIDATION":
            return
        code, label = REJECTION_REASONS[2]
        line.rejection = orjson.dumps([{"code": code, "label": label}]).decode()
        self._order_version(line, "STATUS_REJECTED", self.now)
        self._finish_order(line)

    # ------------------------------------------------------------------ decisions
    def _on_decide(self, order_id: str) -> None:
        rng, t = self.rng, self.now
        line = self._line_of(order_id)
        if line is None or line.status is not None or line.order_status not in PENDING_ORDER_STATUSES:
            return
        if line.order_status == "STATUS_PENDING_DEBTOR_VALIDATION":
            return
        product = line.product
        conditions: list[dict] = []
        expiry = None
        r = rng.random()
        if product in COVER_PRODUCTS:
            if r < 0.62:
                status, amount = "DECIDED_FULL", line.requested
            elif r < 0.85:
                status = "DECIDED_PARTIAL"
                amount = max(1000.0, round(line.requested * rng.uniform(0.3, 0.9), -3))
            else:
                status, amount = "DECIDED_REFUSED", 0.0
            if status != "DECIDED_REFUSED":
                if rng.random() < 0.25:
                    code, label = rng.choice(DECISION_CONDITIONS)
                    conditions.append({"code": code, "label": label})
                if product in SPECIAL_PRODUCTS:
                    expiry = _date_plus(t, rng.randint(90, 365))
        elif product == "CCO":
            status, amount = "DELIVERED", max(1000.0, round(line.requested * rng.uniform(0.5, 1.0), -3))
        elif product == "EDD":
            status, amount = ("STATUS_FULLFILLED", line.requested) if r < 0.8 else ("DECIDED_REFUSED", 0.0)
            if status == "STATUS_FULLFILLED":
                expiry = _date_plus(t, rng.randint(60, 180))
        else:
            status, amount = "DELIVERED", None
            conditions.append({"code": "SCORE", "label": str(rng.randint(1, 10))})
        effective = fmt_date(t) if rng.random() < 0.8 else _date_plus(t, 1)
        self._deliver(line, status, amount, effective, expiry, conditions)
        self._order_version(line, "STATUS_CLOSED", t)
        temp = self.s.pending_links.pop(order_id, None)
        if temp is not None:
            self.rows["link_updates"].append((line.delivery_id, temp))
        self._after_decision(line)

    def _after_decision(self, line: Line) -> None:
        """Schedule what may happen next to the line's last delivery (or finish the order)."""
        rng, t = self.rng, self.now
        expected = line.delivery_id
        if line.expiry_date is not None and line.status in ("DECIDED_FULL", "DECIDED_PARTIAL", "REDUCED",
                                                            "STATUS_FULLFILLED"):
            expiry_at = day_start(date.fromisoformat(line.expiry_date))
            if line.product == "EDD" and rng.random() < 0.15:
                self._push(t + rng.randint(1, max(1, (expiry_at - t) // DAY)) * DAY, "change",
                           (line.order_id, expected, "STATUS_REPLACED"))
            else:
                self._push(expiry_at, "finalize", (line.order_id, expected, "EXPIRED"))
            if line.product == "EDD":
                return
        if line.product in MONITORED_PRODUCTS:
            self._push(self._later(rng.randint(30, 120)), "monitor", (line.order_id, expected))
            return
        if line.status in ("DECIDED_FULL", "DECIDED_PARTIAL", "REDUCED") and rng.random() < 0.55:
            at = self._later(max(1, int(rng.expovariate(1 / 150))))
            if line.expiry_date is not None and at >= day_start(date.fromisoformat(line.expiry_date)):
                return
            kind = rng.choices(("REDUCED", "UNDER_CANCELLATION", "UNDER_WITHDRAWAL", "WITHDRAWN", "CANCELLED"),
                               (30, 15, 15, 25, 15))[0]
            self._push(at, "change", (line.order_id, expected, kind))
            return
        if not line.active:
            self._finish_order(line)

    def _later(self, days: int) -> int:
        return day_start(_day_after(self.now) + timedelta(days=days - 1)) + _time_of_day(self.rng)

    def _on_change(self, order_id: str, expected: str, kind: str) -> None:
        rng, t = self.rng, self.now
        line = self._line_of(order_id)
        if line is None or line.delivery_id != expected:
            return
        amount, expiry = line.amount, line.expiry_date
        conditions: list[dict] = []
        if kind == "REDUCED":
            amount = max(1000.0, round((line.amount or 0) * rng.uniform(0.4, 0.85), -3))
        elif kind in ("UNDER_CANCELLATION", "UNDER_WITHDRAWAL"):
            expiry = _date_plus(t, rng.randint(15, 60))
            if line.expiry_date is not None and line.expiry_date < expiry:
                expiry = line.expiry_date
        elif kind in ("WITHDRAWN", "CANCELLED", "STATUS_REPLACED"):
            amount = 0.0
        self._deliver(line, kind, amount, fmt_date(t), expiry, conditions)
        if kind in ("UNDER_CANCELLATION", "UNDER_WITHDRAWAL"):
            final = "CANCELLED" if kind == "UNDER_CANCELLATION" else "WITHDRAWN"
            self._push(day_start(date.fromisoformat(expiry)), "finalize", (order_id, line.delivery_id, final))
        elif kind == "REDUCED":
            line.expiry_date = expiry
            self._after_decision(line)
        else:
            self._finish_order(line)

    def _on_finalize(self, order_id: str, expected: str, final: str) -> None:
        line = self._line_of(order_id)
        if line is None or line.delivery_id != expected:
            return
        self._deliver(line, final, 0.0 if line.amount is not None else None, fmt_date(self.now),
                      line.expiry_date, [])
        self._finish_order(line)

    def _on_monitor(self, order_id: str, expected: str) -> None:
        rng = self.rng
        line = self._line_of(order_id)
        if line is None or line.delivery_id != expected:
            return
        if rng.random() < 0.15:
            self._deliver(line, "WITHDRAWN", None, fmt_date(self.now), None, [])
            self._finish_order(line)
            return
        self._deliver(line, "DELIVERED", None, fmt_date(self.now), None,
                      [{"code": "SCORE", "label": str(rng.randint(1, 10))}])
        self._push(self._later(rng.randint(30, 120)), "monitor", (order_id, line.delivery_id))

    def _deliver(self, line: Line, status: str, amount: float | None, effective: str, expiry: str | None,
                 conditions: list[dict]) -> None:
        n = self._next("delivery")
        delivery_id = str(50_000_000 + self.s.id_base + n)
        external_id = str(uuid.UUID(bytes=hashlib.blake2b(f"{self.s.seed}:ext:{n}".encode(), digest_size=16).digest()))
        notification_id = str(90_000_000 + self.s.id_base + n)
        t = self.now
        line.delivery_id, line.external_id, line.status, line.decision_at = delivery_id, external_id, status, t
        line.effective_date, line.expiry_date, line.amount = effective, expiry, amount
        self._dirty_line((line.easy, line.product))
        self.rows["deliveries"].append((
            n, delivery_id, external_id, notification_id, line.order_id, line.easy, line.temp_easy, line.product,
            status, t, effective, expiry, amount, line.currency if amount is not None else None,
            line.requested, line.currency if line.requested is not None else None,
            orjson.dumps(conditions).decode()))

    def _order_version(self, line: Line, status: str, at: int) -> None:
        line.order_version += 1
        line.order_status = status
        line.order_status_at = at
        self._dirty_line((line.easy, line.product))
        self.rows["order_versions"].append((
            line.order_id, line.order_version, line.easy, line.temp_easy, line.product, line.order_at, status, at,
            line.requested, line.currency if line.requested is not None else None,
            line.delivery_id if status == "STATUS_CLOSED" else None, line.rejection))

    def _dirty_line(self, key: tuple[str, str]) -> None:
        self.dirty_lines.add(key)

    # ------------------------------------------------------------------ customer references
    def _on_custref_change(self) -> None:
        s, rng = self.s, self.rng
        heads = self.c.head_offices
        for _ in range(5):
            idx = heads[rng.randrange(len(heads))]
            if idx in s.custref or any((self.c.easy[idx], p) in s.lines for p in ("CREDITLIMIT", "ECL")):
                erase = idx in s.custref and rng.random() < 0.1
                self._set_custref(idx, "" if erase else f"CR-{rng.randrange(10**6):06d}")
                return

    def _set_custref(self, idx: int, ref: str) -> None:
        if ref:
            self.s.custref[idx] = ref
        else:
            self.s.custref.pop(idx, None)
        self.rows["custref"].append((self._next("custref"), self.c.easy[idx], ref, self.now))
        self.dirty_custref.add(idx)

    # ------------------------------------------------------------------ overdues
    def _on_new_overdue(self) -> None:
        s, rng, t = self.s, self.rng, self.now
        heads = self.c.head_offices
        debt_type = "CI" if rng.random() < 0.8 else "NGD"
        for _ in range(5):
            idx = heads[rng.randrange(len(heads))]
            easy = self.c.easy[idx]
            covered = any((line := s.lines.get((easy, p))) is not None and line.status in ACTIVE_DELIVERY_STATUSES
                          for p in COVER_PRODUCTS)
            if covered and (idx, debt_type) not in s.open_overdue:
                break
        else:
            return
        overdue_id = str(70_000_000 + self.s.id_base + self._next("overdue"))
        currency = _CURRENCY[self.c.country[idx]]
        invoices = []
        for k in range(rng.randint(1, 4)):
            issue = t - rng.randint(60, 200) * DAY
            invoices.append({"invoiceReference": f"INV-{overdue_id}-{k + 1}", "issueDate": fmt_date(issue),
                             "dueDate": fmt_date(issue + rng.choice((30, 60, 90)) * DAY),
                             "amount": {"value": rng.randrange(100_000, 8_000_000) / 100, "currency": currency}})
        total = round(sum(i["amount"]["value"] for i in invoices), 2)
        case = {
            "overdueId": overdue_id, "easyNumber": easy,
            "customerReference": f"OD-{rng.randrange(10**5):05d}" if rng.random() < 0.7 else None,
            "creationDate": fmt_ts(t), "lastUpdateDate": fmt_ts(t),
            "status": "PENDING" if rng.random() < 0.9 else "PENDING_DEBTOR_VALIDATION",
            "debtType": debt_type, "interventionRequested": rng.random() < 0.5,
            "nonPaymentReason": rng.choice(NON_PAYMENT_REASONS),
            "totalAmount": {"value": total, "currency": currency},
            "outstandingAmount": {"value": total, "currency": currency},
            "invoices": invoices, "payments": [], "indemnification": None,
            "_version": 0, "_idx": idx,
        }
        s.overdues[overdue_id] = case
        s.open_overdue[(idx, debt_type)] = overdue_id
        self._overdue_version(case)
        self._push(self._later(rng.randint(3, 40)), "overdue_update", (overdue_id,))
        for k in range(rng.randint(1, 4)):
            self._push(t + rng.randint(0, 30) * DAY + rng.randint(60, 3600), "overdue_document",
                       (overdue_id, easy, k))

    def _on_overdue_update(self, overdue_id: str) -> None:
        rng, t = self.rng, self.now
        case = self.s.overdues.get(overdue_id)
        if case is None:
            return
        status = case["status"]
        final = False
        if status == "PENDING_DEBTOR_VALIDATION":
            case["status"] = "PENDING"
        elif status == "PENDING":
            case["status"] = "IN_PROGRESS"
        elif rng.random() < 0.4:
            self._add_payment(case)
            if case["outstandingAmount"]["value"] <= 0:
                case["status"], final = "CLOSED", True
        else:
            final = True
            r = rng.random()
            if case["debtType"] == "NGD" or r >= 0.75:
                case["status"] = "CLOSED"
            elif r < 0.55:
                case["status"] = "INDEMNIFIED"
                case["indemnification"] = {
                    "amount": {"value": round(case["outstandingAmount"]["value"] * 0.9, 2),
                               "currency": case["totalAmount"]["currency"]},
                    "date": fmt_date(t)}
            else:
                case["status"] = "REJECTED"
        case["lastUpdateDate"] = fmt_ts(t)
        self._overdue_version(case)
        if final:
            del self.s.overdues[overdue_id]
            self.s.open_overdue.pop((case["_idx"], case["debtType"]), None)
        else:
            self._push(self._later(rng.randint(5, 60)), "overdue_update", (overdue_id,))

    def _add_payment(self, case: dict) -> None:
        rng = self.rng
        outstanding = case["outstandingAmount"]["value"]
        paid = outstanding if rng.random() < 0.2 else round(outstanding * rng.uniform(0.1, 0.6), 2)
        case["payments"] = case["payments"] + [{
            "paymentDate": fmt_date(self.now), "amount": {"value": paid, "currency": case["totalAmount"]["currency"]},
            "kind": rng.choice(("PAYMENT", "CREDIT_NOTE", "SETTLEMENT"))}]
        case["outstandingAmount"] = {"value": round(outstanding - paid, 2), "currency": case["totalAmount"]["currency"]}

    def _overdue_version(self, case: dict) -> None:
        case["_version"] += 1
        doc = orjson.dumps({k: v for k, v in case.items() if not k.startswith("_")})
        self.rows["overdue_versions"].append((case["overdueId"], case["_version"], self.now, doc))
        self.dirty_overdues[case["overdueId"]] = (case["overdueId"], case["easyNumber"], case["status"], self.now,
                                                  case["customerReference"], doc)

    def _on_overdue_document(self, overdue_id: str, easy: str, k: int) -> None:
        rng = self.rng
        ext, media = rng.choice(DOCUMENT_MEDIA_TYPES)
        stem = DOCUMENT_STEMS[(k + rng.randrange(len(DOCUMENT_STEMS))) % len(DOCUMENT_STEMS)]
        self.rows["documents"].append((overdue_id, easy, f"{stem}-{overdue_id}-{k + 1}.{ext}", media, self.now))

    # ------------------------------------------------------------------ persistence
    def _reset_buffers(self) -> None:
        self.rows: dict[str, list] = {k: [] for k in (
            "companies", "order_versions", "deliveries", "links", "link_updates", "custref", "overdue_versions",
            "documents")}
        self.dirty_lines: set[tuple[str, str]] = set()
        self.deleted_lines: set[tuple[str, str]] = set()
        self.dirty_custref: set[int] = set()
        self.dirty_overdues: dict[str, tuple] = {}

    def flush(self, conn: sqlite3.Connection) -> None:
        """Write every buffered row and the changed current state to `conn`, in one transaction."""
        s, r = self.s, self.rows
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO companies VALUES (?,?,?,?,?,?,?,?)", r["companies"])
        conn.executemany("INSERT INTO order_versions VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", r["order_versions"])
        conn.executemany("INSERT INTO deliveries VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", r["deliveries"])
        conn.executemany("INSERT INTO easy_links VALUES (?,?,?,?,?)", r["links"])
        conn.executemany("UPDATE easy_links SET delivery_id = ? WHERE temp_easy = ?", r["link_updates"])
        conn.executemany("INSERT INTO custref_versions VALUES (?,?,?,?)", r["custref"])
        conn.executemany("INSERT INTO overdue_versions VALUES (?,?,?,?)", r["overdue_versions"])
        conn.executemany("INSERT INTO overdue_documents VALUES (?,?,?,?,?)", r["documents"])
        conn.executemany("INSERT OR REPLACE INTO overdue_current VALUES (?,?,?,?,?,?)", self.dirty_overdues.values())
        conn.executemany("DELETE FROM lines WHERE easy = ? AND product = ?", self.deleted_lines)
        rows = []
        for key in self.dirty_lines:
            ln = s.lines.get(key)
            if ln is None:
                continue
            rows.append((ln.easy, ln.product, ln.company_idx, self.c.country[ln.company_idx], ln.temp_easy,
                         ln.order_id, ln.order_at, ln.order_status, ln.delivery_id, ln.external_id, ln.status,
                         ln.decision_at, ln.effective_date, ln.expiry_date, ln.amount,
                         ln.currency if ln.amount is not None else None,
                         ln.event_at, int(ln.active),
                         orjson.dumps(portfolio_product(ln))))
        conn.executemany("INSERT OR REPLACE INTO lines VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
        custref_rows, custref_deletes = [], []
        last = {row[1]: row for row in r["custref"]}
        for idx in self.dirty_custref:
            easy = self.c.easy[idx]
            if idx in s.custref:
                custref_rows.append((easy, s.custref[idx], last[easy][3]))
            else:
                custref_deletes.append((easy,))
        conn.executemany("INSERT OR REPLACE INTO custref_current VALUES (?,?,?)", custref_rows)
        conn.executemany("DELETE FROM custref_current WHERE easy = ?", custref_deletes)
        conn.execute("COMMIT")
        self._reset_buffers()


def portfolio_product(ln: Line) -> dict:
    """The portfolio entry of a line (docs/contracts.md: portfolio `products` items)."""
    amount = None
    if ln.amount is not None:
        amount = {"value": int(ln.amount) if float(ln.amount).is_integer() else ln.amount, "currency": ln.currency}
    return {"productCode": ln.product, "orderId": ln.order_id, "orderDate": fmt_ts(ln.order_at),
            "orderStatus": ln.order_status,
            "orderStatusDate": fmt_ts(ln.order_status_at if ln.order_status_at is not None else ln.order_at),
            "deliveryId": ln.delivery_id, "externalId": ln.external_id,
            "status": ln.status, "decisionDate": fmt_ts(ln.decision_at), "effectiveDate": ln.effective_date,
            "expiryDate": ln.expiry_date, "amount": amount, "temporaryEasyNumber": ln.temp_easy}


def _day_after(instant: int) -> date:
    return date(1970, 1, 1) + timedelta(days=instant // DAY + 1)


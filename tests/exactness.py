"""Exactness: the warehouse's history tables compared with the sandbox's ground truth (invariant 5).

Used by `tests/integration/test_exactness.py`, `tests/e2e/test_soak.py` and `bench/soak.py`:

    with run_sandbox_process(seed=42, companies=200, today=..., faults=...) as sb:
        driver = NightlyDriver(sb, root, warehouse_url)
        driver.sync()                        # first night: the backfill of the whole window
        for night in range(10):
            driver.advance()                 # the sandbox's clock moves one day
            driver.sync(snapshot=night == 4, kill=None)
        report = compare_with_truth(driver)
        assert report.ok, report.describe()

`cofasync` runs as a subprocess per attempt (`python -m tests.exactness cofasync --now ... -- sync`),
because the Dagster partitions are built at import from `COFASYNC_TODAY`.

**Clocks.** The sandbox's business clock is virtual; the pipeline stamps what it lands with its own
clock (`_extracted_at`, from which `recorded_at` and a snapshot's time are derived). In production both
clocks are the wall clock and a nightly runs in the early hours of the API's day. The wrapper reproduces
that: the landing zone's clock (`resources.landing._utcnow`) starts at 01:00:00Z of the sandbox's day
and ticks in real time. Nothing else is changed.

**What the API exposed** (the rules `expected_history` derives from the truth; strict, nothing is
tolerated). A *night* t is one sandbox day on which a sync completed (the harness re-runs a killed or
failed sync the same night); it lands the days D(t): the first night every day from the first available
partition (retention start, or `COFASERVE_CONTRACT_START`) to t-1, later nights t-1. "Visible at t" means
an instant strictly before t 00:00:00Z. `lines(t)` is the truth's portfolio lines captured at night t.
A record damaged by the sandbox (truth `malformed`; the same key is damaged each time it is served) never
lands; what it alone would have shown is not exposed.

- Portfolio rows of night t: the lines of `lines(t)` that are listed and whose event (the later of the
  last decision and the order's last status change visible at t) falls on a day of D(t), unless the
  company's portfolio record is damaged. Snapshot rows: every listed line of `lines(s)` on a night s
  whose landing holds a `portfolio_snapshot` partition, company not damaged; the snapshot's time is the
  earliest `_extracted_at` of that partition.
- Decisions (`decision_history`): a delivery is exposed when its detail landed, or a portfolio or
  snapshot row showed it as the line's last decision. Its detail is fetched on each night t where its
  decision day is in D(t) (its notification) or a portfolio row of t names it; it lands when the
  delivery is not damaged and the API served it then (decided at or after t's retention start, or the
  current decision of an active line). Key: (definitive easy number, product). Versions are ordered by
  (decision_at, delivery_id); valid_from = decision_at; valid_to = the next version's valid_from, or the
  closing row's. Requested amount and conditions are known only from the detail; `source_stream` is
  `deliveries` when the detail landed, else `portfolio`, else `portfolio_snapshot`.
- Closing rows: for each version, the first snapshot taken after the last snapshot listing the key
  while that version was current (or after its decision when none) and before the next version, if any.
  The key is listed by a snapshot when `lines(s)` lists the line under the key's definitive number or
  under one of its exposed temporary numbers, even when the company's record was served damaged (a
  quarantined record is not an absence: closing it would claim a deletion that never happened). A
  snapshot that served a company's record without its easyNumber (damage `missing_id`) closes nothing:
  that record could be anyone's. change_kind is `aged_out` when the line is still in the truth (it left
  the listing only by passing the two-year window), `deleted` otherwise; valid_from = the snapshot's
  time; valid_to = the next version's valid_from.
- Orders (`order_history`): an order is mentioned on night t by a notification of a day of D(t) (a
  damaged notification still names its order) or by a portfolio row of t (a damaged company's row still
  names its orders unless its easy number was removed and the line has no temporary number). From the
  first night it is mentioned until its state is final (CLOSED, REJECTED, ANNULED), its state on every
  night (the latest version visible at t) is observable: a pending order's status change surfaces in
  that day's portfolio (the line's event date) and the order is fetched, and the pending orders the API
  stays silent about are re-polled. The history holds each distinct state current on some night, once:
  a status that began and ended between two nights is not observable. valid_from = statusDate; valid_to
  = the next such state's statusDate. A damaged order never lands: no history.
- Overdue cases (`overdue_history`): on night t the pipeline lists the cases whose current lastUpdateDate
  (visible at t) falls on a day of D(t) and sees that current version; a list item whose id was removed
  cannot be fetched (a damaged date is fetched anyway). The history holds each distinct version seen,
  valid_from = lastUpdateDate, valid_to = the next seen version's.
- Temporary numbers (`easy_number_map`): a truth link (Z, definitive, order) is exposed when a landed
  record carries both numbers (an order state seen after identification, a landed delivery detail, a
  portfolio or snapshot row) or the same order was seen under both. The map holds exactly the exposed
  links, each with one candidate; every history table is keyed by the definitive number.
- `recorded_at` of every version is on the night the pipeline first saw it (snapshot rows: the
  snapshot's night).
- Quarantine: every (stream, key) the sandbox served damaged is in that stream's quarantine, is missing
  from the stream's landed rows, and nothing else is quarantined except by-id fetches the API answered
  404 for a record it no longer served.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
FINAL_ORDER_STATUSES = frozenset({"STATUS_CLOSED", "STATUS_REJECTED", "STATUS_ANNULED"})
TRUTH_ENTITIES = ("deliveries", "notifications", "order_versions", "overdue_versions", "easy_number_links",
                  "malformed", "customer_references", "companies")
NIGHT_START = timedelta(hours=1)  # the landing clock of a night starts at 01:00:00Z of the sandbox's day


# ---------------------------------------------------------------------------------------------------------
# Driving the pipeline night by night
# ---------------------------------------------------------------------------------------------------------

@dataclass
class Attempt:
    """One `cofasync` subprocess: its arguments, outcome and output tails."""

    argv: list[str]
    started_at: datetime  # the landing clock it started with
    warehouse_url: str = ""
    returncode: int | None = None
    killed: bool = False
    hung: bool = False  # still running when the night's watchdog expired (then killed)
    kill_phase: str | None = None
    seconds: float = 0.0
    stdout: str = ""
    stderr: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.killed

    def tail(self, lines: int = 15) -> str:
        out = "\n".join(self.stdout.splitlines()[-lines:])
        err = "\n".join(self.stderr.splitlines()[-lines:])
        state = " (hung: killed by the watchdog)" if self.hung else " (killed)" if self.killed else ""
        return f"$ cofasync {' '.join(self.argv)} -> {self.returncode}{state}\n{out}\n{err}"


@dataclass
class Night:
    """One sandbox day on which a sync completed: what it landed and the truth's lines at that moment."""

    today: date
    days: list[date]
    lines: list[dict]
    attempts: list[Attempt] = field(default_factory=list)


@dataclass
class Kill:
    """Kill the attempt with SIGKILL `delay` seconds after it announced the step named `phase`
    (`extract`, `snapshot`, `re-poll` or `models`), or, for `building`, after the DuckDB warehouse's
    building copy (`<file>.building`) appeared."""

    phase: str
    delay: float


PHASE_MARKERS = {"extract": "] extract ", "snapshot": "] reconciliation snapshot", "re-poll": "] re-poll",
                 "models": "] reference lists and warehouse models"}


class NightlyDriver:
    """Runs `cofasync` against a sandbox night after night, recording what the comparison needs."""

    def __init__(self, sandbox, root: Path, warehouse_url: str, *, followers: Iterable[str] = (),
                 contract_start: date | None = None, snapshot_every_days: int = 7, max_attempts: int = 4,
                 night_timeout: float = 900.0, wall_clock: bool = False, extra_env: dict[str, str] | None = None):
        self.sb = sandbox
        self.root = Path(root)
        self.warehouse_url = warehouse_url
        self.followers = list(followers)
        self.contract_start = contract_start
        self.snapshot_every_days = snapshot_every_days
        self.max_attempts = max_attempts
        self.night_timeout = night_timeout  # a watchdog, not a measure: an attempt past it has hung
        self.wall_clock = wall_clock  # True: the landing clock is the machine's (recorded nights then differ)
        self.extra_env = dict(extra_env or {})
        self.nights: list[Night] = []
        self.attempts: list[Attempt] = []
        self._clock_floor: datetime | None = None
        self.landing_root = self.root / "landing"
        (self.root / "dagster").mkdir(parents=True, exist_ok=True)

    # -- environment ---------------------------------------------------------------------------------------
    def env(self, warehouse_url: str | None = None) -> dict[str, str]:
        creds = self.sb.credentials
        env = {k: v for k, v in os.environ.items() if not k.startswith(("COFASERVE_", "COFASYNC_"))}
        env.update({
            "COFASERVE_BASE_URL": self.sb.base_url,
            "COFASERVE_AUTH_URL": self.sb.auth_url,
            "COFASERVE_USERNAME": creds["username"],
            "COFASERVE_PASSWORD": creds["password"],
            "COFASERVE_API_KEY": creds["api_key"],
            "COFASERVE_POLICY_NUMBER": creds["policy_number"],
            "COFASERVE_LOCKOUT_DIR": str(self.root / "lockout"),
            "COFASYNC_TODAY": self.sb.today.isoformat(),
            "COFASYNC_SNAPSHOT_EVERY_DAYS": str(self.snapshot_every_days),
            "LANDING_ROOT": str(self.landing_root),
            "WAREHOUSE_URL": warehouse_url or self.warehouse_url,
            "DAGSTER_HOME": str(self.root / "dagster"),
            "PYTHONPATH": os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p),
            "PYTHONUNBUFFERED": "1",
        })
        if self.contract_start is not None:
            env["COFASERVE_CONTRACT_START"] = self.contract_start.isoformat()
        env.update(self.extra_env)
        return env

    # -- the clock -----------------------------------------------------------------------------------------
    def advance(self, days: int = 1) -> date:
        """Move the sandbox's business clock forward."""
        return self.sb.advance(days)

    def _first_day(self, today: date) -> date:
        from resources.calendar import first_partition

        return first_partition(today, self.contract_start)

    # -- one night -----------------------------------------------------------------------------------------
    def sync(self, snapshot: bool = False, kills: Iterable[Kill] = ()) -> Night:
        """Run `cofasync sync` for the sandbox's current day until it completes.

        Each `Kill` kills one attempt (in order); a failed or killed attempt is re-run the same night,
        at most `max_attempts` times in all beyond the kills. Returns the night recorded.
        """
        today = self.sb.today
        if self.nights and today <= self.nights[-1].today:
            raise RuntimeError(f"night {today} was already synced: advance the sandbox first")
        first = self._first_day(today) if not self.nights else self.nights[-1].today
        days = [first + timedelta(days=i) for i in range((today - first).days)]
        night = Night(today, days, self.sb.truth("lines"))
        argv = ["sync"] + (["--snapshot"] if snapshot else [])
        self._until_done(night, argv, None, list(kills))
        # a follower warehouse is built by its own `cofasync sync` from the same landing zone: every day
        # has landed by then, so it re-polls pending orders (same night, same states) and builds
        for url in self.followers:
            self._until_done(night, ["sync"], url, [])
        self.nights.append(night)
        return night

    def _until_done(self, night: Night, argv: list[str], warehouse_url: str | None, kills: list[Kill]) -> None:
        failures = 0
        while True:
            kill = kills.pop(0) if kills else None
            attempt = self.run(argv, kill=kill, warehouse_url=warehouse_url)
            night.attempts.append(attempt)
            if attempt.ok:
                return
            if attempt.hung:
                raise RuntimeError(f"night {night.today}: cofasync hung (still running after "
                                   f"{attempt.seconds:.0f}s, the watchdog)\n{attempt.tail(40)}\n"
                                   f"last Dagster events: {last_dagster_events(self.root / 'dagster')}")
            if not attempt.killed:
                failures += 1
                if failures >= self.max_attempts:
                    raise RuntimeError(f"night {night.today}: {failures} failed attempts\n{attempt.tail(40)}")

    def run(self, argv: list[str], kill: Kill | None = None, warehouse_url: str | None = None) -> Attempt:
        """Run one `cofasync` subprocess with the landing clock of tonight; kill it as `kill` says."""
        now = datetime.combine(self.sb.today, datetime.min.time(), UTC) + NIGHT_START
        if self._clock_floor is not None and self._clock_floor > now:
            now = self._clock_floor
        clock = [] if self.wall_clock else ["--now", now.isoformat()]
        cmd = [sys.executable, "-m", "tests.exactness", "cofasync", *clock, "--", *argv]
        attempt = Attempt(argv=list(argv), started_at=now, warehouse_url=warehouse_url or self.warehouse_url)
        started = time.monotonic()
        proc = subprocess.Popen(cmd, env=self.env(warehouse_url), cwd=self.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, start_new_session=True)
        out: list[str] = []
        err: list[str] = []
        killer: list[threading.Timer] = []

        def kill_now():
            if proc.poll() is None:
                attempt.killed = True
                os.killpg(proc.pid, signal.SIGKILL)

        def read_out():
            for line in proc.stdout:
                out.append(line)
                if kill is not None and not killer and PHASE_MARKERS.get(kill.phase, "\0") in line:
                    attempt.kill_phase = kill.phase
                    timer = threading.Timer(kill.delay, kill_now)
                    killer.append(timer)
                    timer.start()

        def watch_building():
            building = Path((warehouse_url or self.warehouse_url).removeprefix("duckdb:///") + ".building")
            while proc.poll() is None:
                if building.exists():
                    attempt.kill_phase = "building"
                    time.sleep(kill.delay)
                    kill_now()
                    return
                time.sleep(0.01)

        reader = threading.Thread(target=read_out, daemon=True)
        err_reader = threading.Thread(target=lambda: err.extend(proc.stderr), daemon=True)
        watcher = threading.Thread(target=watch_building, daemon=True)
        reader.start()
        err_reader.start()
        if kill is not None and kill.phase == "building":
            watcher.start()
        timeout = self.night_timeout * (4 if not self.nights else 1)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            attempt.hung = attempt.killed = True
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        reader.join()
        err_reader.join()
        for timer in killer:
            timer.cancel()
        attempt.seconds = time.monotonic() - started
        attempt.returncode = proc.returncode
        attempt.stdout, attempt.stderr = "".join(out), "".join(err)
        # the next attempt's landing clock starts after everything this one may have stamped
        self._clock_floor = now + timedelta(seconds=attempt.seconds + 60)
        self.attempts.append(attempt)
        return attempt

    # -- what was built ------------------------------------------------------------------------------------
    def store(self):
        from resources.landing import LandingStore

        return LandingStore(str(self.landing_root))

    def warehouse(self, url: str | None = None):
        from resources.warehouse import Warehouse

        return Warehouse(url or self.warehouse_url)


def last_dagster_events(dagster_home: Path, count: int = 3) -> list[str]:
    """The last few event messages of the latest run recorded in a Dagster home (for diagnostics)."""
    try:
        from dagster import DagsterInstance
        from dagster._core.instance.ref import InstanceRef

        with DagsterInstance.from_ref(InstanceRef.from_dir(str(dagster_home))) as instance:
            runs = instance.get_runs(limit=1)
            if not runs:
                return []
            logs = instance.all_logs(runs[0].run_id)
            return [f"{runs[0].run_id[:8]} {runs[0].status.value}: {e.user_message}" for e in logs[-count:]]
    except Exception as exc:  # diagnostics only: never hide the failure being reported
        return [f"(could not read the Dagster home: {exc})"]


# ---------------------------------------------------------------------------------------------------------
# Normalization
# ---------------------------------------------------------------------------------------------------------

def ts(value) -> datetime | None:
    """An instant as an aware UTC datetime (from the truth's ISO text or the warehouse's value)."""
    if value is None:
        return None
    if isinstance(value, str):
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    raise TypeError(f"not an instant: {value!r}")


def day(value) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def money(value) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


def amount(obj: dict | None) -> tuple[Decimal | None, str | None]:
    """A truth money object as (value, currency)."""
    if not obj:
        return None, None
    return money(obj.get("value")), obj.get("currency")


def _canon(value):
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float | Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: _canon(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canon(v) for v in value]
    return value


def json_list(value) -> tuple[str, ...] | None:
    """A list (or its JSON text) as a sorted tuple of canonical JSON elements; numbers compare by value."""
    if value is None:
        return None
    items = json.loads(value) if isinstance(value, str) else value
    return tuple(sorted(json.dumps(_canon(item), sort_keys=True) for item in items))


def _vis(night: date) -> str:
    """The instant (truth text) before which events are visible on night `night`."""
    return f"{night.isoformat()}T00:00:00Z"


def retention_start(today: date) -> date:
    from resources.calendar import retention_start as start

    return start(today)


def is_temporary(easy: str | None) -> bool:
    return isinstance(easy, str) and easy.startswith("Z")


# ---------------------------------------------------------------------------------------------------------
# Expected history, derived from the truth and the nights
# ---------------------------------------------------------------------------------------------------------

@dataclass
class Truth:
    """The sandbox's ground truth at the end of the run."""

    deliveries: list[dict]
    notifications: list[dict]
    order_versions: list[dict]
    overdue_versions: list[dict]
    easy_number_links: list[dict]
    malformed: list[dict]
    customer_references: list[dict]
    companies: list[dict]

    @classmethod
    def load(cls, sandbox) -> Truth:
        return cls(**{entity: sandbox.truth(entity) for entity in TRUTH_ENTITIES})

    def damaged(self, stream: str) -> dict[str, dict]:
        return {m["key"]: m for m in self.malformed if m["stream"] == stream}


@dataclass
class Expected:
    """What the history tables must hold, keyed as the warehouse keys them."""

    decisions: dict[tuple[str, str], list[dict]]
    orders: dict[str, list[dict]]
    overdues: dict[str, list[dict]]
    links: dict[str, dict]
    snapshot_times: dict[date, datetime]


class Oracle:
    """Derives the expected history from the truth, the nights and the snapshot times (see module doc)."""

    def __init__(self, truth: Truth, nights: list[Night], snapshot_times: dict[date, datetime]):
        self.truth = truth
        self.nights = nights
        self.snapshot_times = snapshot_times
        self.snapshot_nights = [n for n in nights if n.today in snapshot_times]
        self.snapshot_days = set(snapshot_times)
        self._rows: dict[date, list[dict]] = {}
        missing = set(snapshot_times) - {n.today for n in nights}
        if missing:
            raise ValueError(f"snapshot partitions {sorted(missing)} match no recorded night")
        self.damaged_company = truth.damaged("portfolio")
        self.damaged_delivery = truth.damaged("deliveries")
        self.damaged_order = truth.damaged("orders")
        self.damaged_overdue = truth.damaged("overdues")
        nameless = {key for key, damage in self.damaged_company.items() if damage["kind"] == "missing_id"}
        self.unreadable_snapshots = {n.today for n in self.snapshot_nights
                                     if any(ln["listed"] and ln["easyNumber"] in nameless for ln in n.lines)}
        self.versions_of_order: dict[str, list[dict]] = defaultdict(list)
        for v in truth.order_versions:
            self.versions_of_order[v["orderId"]].append(v)
        for versions in self.versions_of_order.values():
            versions.sort(key=lambda v: v["version"])
        self.versions_of_overdue: dict[str, list[dict]] = defaultdict(list)
        for v in truth.overdue_versions:
            self.versions_of_overdue[v["overdueId"]].append(v)
        for versions in self.versions_of_overdue.values():
            versions.sort(key=lambda v: v["version"])
        self.delivery = {d["deliveryId"]: d for d in truth.deliveries}

    # -- helpers -----------------------------------------------------------------------------------------------
    def order_state(self, order_id: str, night: date) -> dict | None:
        """The order's latest version visible on `night`."""
        state = None
        for v in self.versions_of_order.get(order_id, []):
            if v["statusDate"] < _vis(night):
                state = v
        return state

    def overdue_state(self, overdue_id: str, night: date) -> dict | None:
        state = None
        for v in self.versions_of_overdue.get(overdue_id, []):
            if v["lastUpdateDate"] < _vis(night):
                state = v
        return state

    def line_event_day(self, line: dict, night: date) -> date:
        state = self.order_state(line["orderId"], night)
        moments = [m for m in (line.get("decisionDate"), state["statusDate"] if state else None) if m]
        return day(max(moments)) if moments else day(line["orderDate"])

    def portfolio_rows(self, night: Night) -> list[dict]:
        """The lines the incremental portfolio of that night lists, damaged companies included."""
        if night.today not in self._rows:
            days = set(night.days)
            self._rows[night.today] = [ln for ln in night.lines
                                       if ln["listed"] and self.line_event_day(ln, night.today) in days]
        return self._rows[night.today]

    def landed(self, line: dict) -> bool:
        return line["easyNumber"] not in self.damaged_company

    def names_order(self, line: dict) -> bool:
        """Whether a portfolio row (landed or quarantined) still names its order with a number to ask."""
        damage = self.damaged_company.get(line["easyNumber"])
        return damage is None or damage["kind"] != "missing_id" or bool(line.get("temporaryEasyNumber"))

    # -- the derivation ----------------------------------------------------------------------------------------
    def expected(self) -> Expected:
        seen_orders = self._orders_seen()
        detail, portfolio_seen, snapshot_seen = self._deliveries_seen()
        links = self._links(seen_orders, detail, portfolio_seen, snapshot_seen)
        resolve = {z: link["easyNumber"] for z, link in links.items()}
        decisions = self._decisions(detail, portfolio_seen, snapshot_seen, resolve, links)
        orders = self._orders(seen_orders, resolve)
        overdues = self._overdues(resolve)
        return Expected(decisions, orders, overdues, links, dict(self.snapshot_times))

    def _orders_seen(self) -> dict[str, list[tuple[date, dict]]]:
        """{orderId: [(night, state seen)]} for every landed order (damaged orders never land)."""
        first: dict[str, date] = {}
        by_day: dict[date, list[dict]] = defaultdict(list)
        for d in self.truth.deliveries:
            by_day[day(d["decisionDate"])].append(d)
        for night in self.nights:
            mentioned = {d["orderId"] for dd in night.days for d in by_day.get(dd, [])}
            mentioned |= {ln["orderId"] for ln in self.portfolio_rows(night) if self.names_order(ln)}
            for order_id in mentioned:
                first.setdefault(order_id, night.today)
        seen: dict[str, list[tuple[date, dict]]] = {}
        for order_id, start in first.items():
            if order_id in self.damaged_order:
                continue
            states = []
            for night in self.nights:
                if night.today < start:
                    continue
                state = self.order_state(order_id, night.today)
                states.append((night.today, state))
                if state["status"] in FINAL_ORDER_STATUSES:
                    break
            seen[order_id] = states
        return seen

    def _deliveries_seen(self):
        """(detail: {deliveryId: night its detail first landed},
            portfolio: {deliveryId: first night a landed portfolio row showed it},
            snapshot: {deliveryId: first snapshot night listing it})."""
        by_day: dict[date, list[dict]] = defaultdict(list)
        for d in self.truth.deliveries:
            by_day[day(d["decisionDate"])].append(d)
        detail: dict[str, date] = {}
        portfolio: dict[str, date] = {}
        snapshot: dict[str, date] = {}
        for night in self.nights:
            active_current = {ln["deliveryId"] for ln in night.lines if ln["active"] and ln["deliveryId"]}
            horizon = _vis(retention_start(night.today))
            fetched = {d["deliveryId"] for dd in night.days for d in by_day.get(dd, [])}
            for ln in self.portfolio_rows(night):
                if ln["deliveryId"] and self.landed(ln):
                    fetched.add(ln["deliveryId"])
                    portfolio.setdefault(ln["deliveryId"], night.today)
            for delivery_id in fetched:
                served = self.delivery[delivery_id]["decisionDate"] >= horizon or delivery_id in active_current
                if served and delivery_id not in self.damaged_delivery:
                    detail.setdefault(delivery_id, night.today)
            if night.today in self.snapshot_days:
                for ln in night.lines:
                    if ln["listed"] and ln["deliveryId"] and self.landed(ln):
                        snapshot.setdefault(ln["deliveryId"], night.today)
        return detail, portfolio, snapshot

    def _links(self, seen_orders, detail, portfolio, snapshot) -> dict[str, dict]:
        """The truth links some landed record exposed: {Z: link}."""
        evidence: set[str] = set()
        under_z: set[str] = set()
        under_definitive: set[str] = set()
        for states in seen_orders.values():
            for _, state in states:
                if is_temporary(state["temporaryEasyNumber"]) and not is_temporary(state["easyNumber"]):
                    evidence.add(state["temporaryEasyNumber"])
                (under_z if is_temporary(state["easyNumber"]) else under_definitive).add(state["orderId"])
        for delivery_id in detail:
            d = self.delivery[delivery_id]
            if is_temporary(d["temporaryEasyNumber"]) and not is_temporary(d["easyNumber"]):
                evidence.add(d["temporaryEasyNumber"])
            under_definitive.add(d["orderId"])
        for night in self.nights:
            rows = [ln for ln in self.portfolio_rows(night) if self.landed(ln)]
            if night.today in self.snapshot_days:
                rows += [ln for ln in night.lines if ln["listed"] and self.landed(ln)]
            for ln in rows:
                if is_temporary(ln["temporaryEasyNumber"]) and not is_temporary(ln["easyNumber"]):
                    evidence.add(ln["temporaryEasyNumber"])
                (under_z if is_temporary(ln["easyNumber"]) else under_definitive).add(ln["orderId"])
        both = under_z & under_definitive
        links = {}
        for link in self.truth.easy_number_links:
            if link["temporaryEasyNumber"] in evidence or link["orderId"] in both:
                links[link["temporaryEasyNumber"]] = link
        return links

    def _decisions(self, detail, portfolio, snapshot, resolve, links) -> dict[tuple[str, str], list[dict]]:
        temp_of_order = {link["orderId"]: z for z, link in links.items()}
        exposed = set(detail) | set(portfolio) | set(snapshot)
        by_key: dict[tuple[str, str], list[dict]] = defaultdict(list)
        for delivery_id in exposed:
            d = self.delivery[delivery_id]
            has_detail = delivery_id in detail
            value, currency = amount(d["amount"])
            req_value, req_currency = amount(d["requestedAmount"]) if has_detail else (None, None)
            first_seen = min(n for n in (detail.get(delivery_id), portfolio.get(delivery_id),
                                         snapshot.get(delivery_id)) if n is not None)
            key = (resolve.get(d["easyNumber"], d["easyNumber"]), d["productCode"])
            by_key[key].append({
                "row": "version",
                "delivery_id": delivery_id,
                "external_id": d["externalId"],
                "order_id": d["orderId"],
                "temporary_easy_number": d["temporaryEasyNumber"] or temp_of_order.get(d["orderId"]),
                "status": d["status"],
                "decision_at": ts(d["decisionDate"]),
                "effective_date": day(d["effectiveDate"]),
                "expiry_date": day(d["expiryDate"]),
                "amount_value": value,
                "amount_currency": currency,
                "requested_amount_value": req_value,
                "requested_amount_currency": req_currency,
                "conditions": json_list(d["conditions"]) if has_detail else None,
                "change_kind": _decision_kind(d["status"]),
                "source_stream": "deliveries" if has_detail else
                                 "portfolio" if delivery_id in portfolio else "portfolio_snapshot",
                "valid_from": ts(d["decisionDate"]),
                "recorded_day": first_seen,
            })
        listed_by_snapshot = self._snapshot_listings(resolve)
        in_truth_by_snapshot = {n.today: {(resolve.get(ln["easyNumber"], ln["easyNumber"]), ln["productCode"])
                                          for ln in n.lines} for n in self.snapshot_nights}
        result = {}
        for key, versions in by_key.items():
            versions.sort(key=lambda v: (v["valid_from"], v["delivery_id"]))
            rows: list[dict] = []
            for i, version in enumerate(versions):
                next_at = versions[i + 1]["valid_from"] if i + 1 < len(versions) else None
                closing = self._closing(key, version, next_at, listed_by_snapshot, in_truth_by_snapshot)
                version["valid_to"] = closing["valid_from"] if closing else next_at
                rows.append(version)
                if closing:
                    closing["valid_to"] = next_at
                    closing["temporary_easy_number"] = version["temporary_easy_number"]
                    rows.append(closing)
            result[key] = rows
        return result

    def _snapshot_listings(self, resolve) -> dict[date, set[tuple[str, str]]]:
        """The keys each snapshot listed, as the API listed them: a company whose record was served
        damaged was listed all the same (a quarantined record is not an absence)."""
        return {n.today: {(resolve.get(ln["easyNumber"], ln["easyNumber"]), ln["productCode"])
                          for ln in n.lines if ln["listed"]}
                for n in self.snapshot_nights}

    def _closing(self, key, version, next_at, listed, in_truth) -> dict | None:
        start = version["valid_from"]
        inside = [(self.snapshot_times[s], s) for s in sorted(self.snapshot_times)
                  if self.snapshot_times[s] >= start and (next_at is None or self.snapshot_times[s] < next_at)]
        listing = [at for at, s in inside if key in listed[s]]
        after = max(listing) if listing else start
        closers = [(at, s) for at, s in inside if at > after and s not in self.unreadable_snapshots]
        if not closers:
            return None
        at, s = closers[0]
        return {"row": "closing", "change_kind": "aged_out" if key in in_truth[s] else "deleted",
                "valid_from": at, "source_stream": "portfolio_snapshot", "recorded_day": s}

    def _orders(self, seen_orders, resolve) -> dict[str, list[dict]]:
        result = {}
        for order_id, seen in seen_orders.items():
            temps = [s["temporaryEasyNumber"] for _, s in seen if is_temporary(s["temporaryEasyNumber"])]
            temps += [s["easyNumber"] for _, s in seen if is_temporary(s["easyNumber"])]
            states: dict[tuple, dict] = {}
            for night, s in seen:
                value, currency = amount(s["requestedAmount"])
                row = {
                    "easy_number": resolve.get(s["easyNumber"], s["easyNumber"]),
                    "status": s["status"],
                    "status_at": ts(s["statusDate"]),
                    "requested_amount_value": value,
                    "requested_amount_currency": currency,
                    "delivery_id": s["deliveryId"],
                    "rejection_reasons": json_list(s["rejectionReasons"]),
                }
                identity = tuple(row.values())
                if identity not in states:
                    row.update({"temporary_easy_number": max(temps) if temps else None,
                                "product_code": s["productCode"], "order_at": ts(s["orderDate"]),
                                "valid_from": ts(s["statusDate"]), "change_kind": _order_kind(s["status"]),
                                "recorded_day": night})
                    states[identity] = row
            rows = sorted(states.values(), key=lambda r: r["valid_from"])
            for i, row in enumerate(rows):
                row["valid_to"] = rows[i + 1]["valid_from"] if i + 1 < len(rows) else None
            result[order_id] = rows
        return result

    def _overdues(self, resolve) -> dict[str, list[dict]]:
        seen: dict[str, dict[int, tuple[date, dict]]] = defaultdict(dict)
        for night in self.nights:
            days = set(night.days)
            for overdue_id in self.versions_of_overdue:
                damage = self.damaged_overdue.get(overdue_id)
                if damage is not None and damage["kind"] == "missing_id":
                    continue
                state = self.overdue_state(overdue_id, night.today)
                if state is not None and day(state["lastUpdateDate"]) in days:
                    seen[overdue_id].setdefault(state["version"], (night.today, state))
        result = {}
        for overdue_id, versions in seen.items():
            rows = []
            for _, (night, v) in sorted(versions.items()):
                indemnification = v.get("indemnification") or {}
                total, total_currency = amount(v.get("totalAmount"))
                outstanding, outstanding_currency = amount(v.get("outstandingAmount"))
                indemnified, indemnified_currency = amount(indemnification.get("amount"))
                rows.append({
                    "easy_number": resolve.get(v["easyNumber"], v["easyNumber"]),
                    "customer_reference": v.get("customerReference"),
                    "debt_type": v["debtType"],
                    "status": v["status"],
                    "created_at": ts(v["creationDate"]),
                    "updated_at": ts(v["lastUpdateDate"]),
                    "intervention_requested": v.get("interventionRequested"),
                    "non_payment_reason": v.get("nonPaymentReason"),
                    "total_amount_value": total,
                    "total_amount_currency": total_currency,
                    "outstanding_amount_value": outstanding,
                    "outstanding_amount_currency": outstanding_currency,
                    "indemnified_amount_value": indemnified,
                    "indemnified_amount_currency": indemnified_currency,
                    "indemnified_on": day(indemnification.get("date")),
                    "invoices": json_list(v.get("invoices") or []),
                    "payments": json_list(v.get("payments") or []),
                    "valid_from": ts(v["lastUpdateDate"]),
                    "change_kind": {"REJECTED": "rejected", "CLOSED": "closed"}.get(v["status"], "observed"),
                    "recorded_day": night,
                })
            for i, row in enumerate(rows):
                row["valid_to"] = rows[i + 1]["valid_from"] if i + 1 < len(rows) else None
            result[overdue_id] = rows
        return result


def _order_kind(status: str) -> str:
    return {"STATUS_ANNULED": "cancelled", "STATUS_REJECTED": "rejected", "STATUS_CLOSED": "closed"}.get(
        status, "observed")


def snapshot_times(store) -> dict[date, datetime]:
    """{snapshot partition day: the snapshot's time} (the earliest `_extracted_at` of its current run)."""
    times = {}
    for partition in store.partitions("portfolio_snapshot"):
        if partition is None:
            continue
        table = store.read_table("portfolio_snapshot", partition, columns=["_extracted_at"])
        if table.num_rows:
            times[partition] = ts(min(table["_extracted_at"].to_pylist()))
    return times


# ---------------------------------------------------------------------------------------------------------
# What the warehouse holds
# ---------------------------------------------------------------------------------------------------------

DECISION_FIELDS = ("change_kind", "valid_from", "valid_to", "delivery_id", "external_id", "order_id",
                   "temporary_easy_number", "status", "decision_at", "effective_date", "expiry_date",
                   "amount_value", "amount_currency", "requested_amount_value", "requested_amount_currency",
                   "conditions", "source_stream")
ORDER_FIELDS = ("easy_number", "temporary_easy_number", "product_code", "order_at", "status", "status_at",
                "requested_amount_value", "requested_amount_currency", "delivery_id", "rejection_reasons",
                "valid_from", "valid_to", "change_kind")
OVERDUE_FIELDS = ("easy_number", "customer_reference", "debt_type", "status", "created_at", "updated_at",
                  "intervention_requested", "non_payment_reason", "total_amount_value", "total_amount_currency",
                  "outstanding_amount_value", "outstanding_amount_currency", "indemnified_amount_value",
                  "indemnified_amount_currency", "indemnified_on", "invoices", "payments", "valid_from",
                  "valid_to", "change_kind")
_TIMESTAMPS = {"valid_from", "valid_to", "decision_at", "order_at", "status_at", "created_at", "updated_at",
               "recorded_at", "resolved_at"}
_DATES = {"effective_date", "expiry_date", "indemnified_on"}
_MONEY = {"amount_value", "requested_amount_value", "total_amount_value", "outstanding_amount_value",
          "indemnified_amount_value"}
_JSON = {"conditions", "rejection_reasons", "invoices", "payments"}


def _normalize(row: dict) -> dict:
    out = {}
    for name, value in row.items():
        if name in _TIMESTAMPS:
            value = ts(value)
        elif name in _DATES:
            value = day(value)
        elif name in _MONEY:
            value = money(value)
        elif name in _JSON:
            value = json_list(value)
        out[name] = value
    return out


@dataclass
class Actual:
    decisions: dict[tuple[str, str], list[dict]]
    orders: dict[str, list[dict]]
    overdues: dict[str, list[dict]]
    links: dict[str, dict]


def actual_history(warehouse) -> Actual:
    """The history tables, normalized, grouped by key in version order."""
    decisions: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in warehouse.query("select * from history.decision_history order by easy_number, product_code, "
                               "version_no"):
        row = _normalize(row)
        row["row"] = "closing" if row["change_kind"] in ("deleted", "aged_out") else "version"
        decisions[(row["easy_number"], row["product_code"])].append(row)
    orders: dict[str, list[dict]] = defaultdict(list)
    for row in warehouse.query("select * from history.order_history order by order_id, version_no"):
        orders[row["order_id"]].append(_normalize(row))
    overdues: dict[str, list[dict]] = defaultdict(list)
    for row in warehouse.query("select * from history.overdue_history order by overdue_id, version_no"):
        overdues[row["overdue_id"]].append(_normalize(row))
    links = {row["temporary_easy_number"]: _normalize(row)
             for row in warehouse.query("select * from history.easy_number_map")}
    return Actual(dict(decisions), dict(orders), dict(overdues), links)


# ---------------------------------------------------------------------------------------------------------
# The comparison
# ---------------------------------------------------------------------------------------------------------

@dataclass
class Discrepancy:
    entity: str
    key: Any
    expected: Any
    got: Any
    note: str = ""

    def __str__(self) -> str:
        return f"{self.entity} {self.key}: expected {_show(self.expected)}, got {_show(self.got)}" + (
            f" ({self.note})" if self.note else "")


def _show(value) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return repr(value)


@dataclass
class Report:
    """The outcome of one comparison: discrepancies and what was compared."""

    discrepancies: list[Discrepancy]
    counts: dict[str, int]
    expected: Expected | None = None
    actual: Actual | None = None

    @property
    def ok(self) -> bool:
        return not self.discrepancies

    def describe(self, limit: int = 40) -> str:
        lines = [f"{len(self.discrepancies)} discrepancies; compared {self.counts}"]
        by_entity: dict[str, int] = defaultdict(int)
        for d in self.discrepancies:
            by_entity[d.entity] += 1
        lines.append("by entity: " + ", ".join(f"{k}={v}" for k, v in sorted(by_entity.items())))
        lines += [str(d) for d in self.discrepancies[:limit]]
        return "\n".join(lines)


def _compare_rows(entity: str, key, expected: list[dict], got: list[dict], fields: tuple[str, ...],
                  align: str | None, out: list[Discrepancy]) -> None:
    """Compare two version lists of one key, field by field; rows aligned by position or by `align`."""
    if len(expected) != len(got):
        exp_ids = [_row_id(r, align) for r in expected]
        got_ids = [_row_id(r, align) for r in got]
        out.append(Discrepancy(entity, key, exp_ids, got_ids, f"{len(expected)} versions expected, {len(got)} got"))
        return
    for number, (e, g) in enumerate(zip(expected, got, strict=True), start=1):
        diffs = {f: (e.get(f), g.get(f)) for f in fields if e.get(f) != g.get(f)}
        if diffs:
            out.append(Discrepancy(entity, (key, number), {f: d[0] for f, d in diffs.items()},
                                   {f: d[1] for f, d in diffs.items()}, f"version {number}"))


def _row_id(row: dict, align: str | None):
    if row.get("row") == "closing":
        return ("closing", row.get("change_kind"), row.get("valid_from"))
    if align:
        return row.get(align)
    return (row.get("status"), row.get("valid_from"))


def compare(expected: Expected, actual: Actual) -> Report:
    """Every discrepancy between the expected and the actual history (an empty list when exact)."""
    out: list[Discrepancy] = []
    decision_fields = DECISION_FIELDS
    for key in sorted(set(expected.decisions) | set(actual.decisions)):
        exp = expected.decisions.get(key, [])
        got = actual.decisions.get(key, [])
        _compare_rows("decision_history", key, exp, got, decision_fields, "delivery_id", out)
    for order_id in sorted(set(expected.orders) | set(actual.orders)):
        _compare_rows("order_history", order_id, expected.orders.get(order_id, []),
                      actual.orders.get(order_id, []), ORDER_FIELDS, None, out)
    for overdue_id in sorted(set(expected.overdues) | set(actual.overdues)):
        _compare_rows("overdue_history", overdue_id, expected.overdues.get(overdue_id, []),
                      actual.overdues.get(overdue_id, []), OVERDUE_FIELDS, None, out)
    for z in sorted(set(expected.links) | set(actual.links)):
        link, got = expected.links.get(z), actual.links.get(z)
        want = None if link is None else {"easy_number": link["easyNumber"], "order_id": link["orderId"],
                                          "candidate_count": 1}
        have = None if got is None else {k: got[k] for k in ("easy_number", "order_id", "candidate_count")}
        if want != have:
            out.append(Discrepancy("easy_number_map", z, want, have))
    out += _recorded_days(expected, actual)
    out += _keyed_by_definitive(expected, actual)
    counts = {
        "decision_keys": len(expected.decisions),
        "decision_versions": sum(1 for rows in expected.decisions.values() for r in rows if r["row"] == "version"),
        "closing_rows": sum(1 for rows in expected.decisions.values() for r in rows if r["row"] == "closing"),
        "aged_out": sum(1 for rows in expected.decisions.values() for r in rows
                        if r.get("change_kind") == "aged_out"),
        "orders": len(expected.orders),
        "order_versions": sum(len(rows) for rows in expected.orders.values()),
        "overdues": len(expected.overdues),
        "overdue_versions": sum(len(rows) for rows in expected.overdues.values()),
        "links": len(expected.links),
        "snapshots": len(expected.snapshot_times),
    }
    return Report(out, counts)


def _decision_kind(status: str | None) -> str:
    return {"WITHDRAWN": "withdrawn", "CANCELLED": "cancelled", "EXPIRED": "expired"}.get(status, "observed")


def _recorded_days(expected: Expected, actual: Actual) -> list[Discrepancy]:
    """recorded_at falls on the night the version was first seen (compared where the versions match)."""
    out = []
    tables = (("decision_history", expected.decisions, actual.decisions),
              ("order_history", expected.orders, actual.orders),
              ("overdue_history", expected.overdues, actual.overdues))
    for entity, exp_table, got_table in tables:
        for key, exp in exp_table.items():
            got = got_table.get(key, [])
            if len(got) != len(exp):
                continue
            for number, (e, g) in enumerate(zip(exp, got, strict=True), start=1):
                recorded = g.get("recorded_at")
                if recorded is None or recorded.date() != e["recorded_day"]:
                    out.append(Discrepancy(entity, (key, number), f"recorded on night {e['recorded_day']}",
                                           _show(recorded), "recorded_at"))
    return out


def _keyed_by_definitive(expected: Expected, actual: Actual) -> list[Discrepancy]:
    resolved = set(expected.links)
    out = []
    for key in actual.decisions:
        if key[0] in resolved:
            out.append(Discrepancy("decision_history", key, "keyed by the definitive number", key[0]))
    for table, rows_by_key in (("order_history", actual.orders), ("overdue_history", actual.overdues)):
        for key, rows in rows_by_key.items():
            for row in rows:
                if row.get("easy_number") in resolved:
                    out.append(Discrepancy(table, key, "a definitive easy number", row["easy_number"]))
    return out


# ---------------------------------------------------------------------------------------------------------
# Quarantine
# ---------------------------------------------------------------------------------------------------------

LANDED_KEY = {"deliveries": (("deliveries",), "delivery_id"), "orders": (("orders", "order_polls"), "order_id"),
              "notifications": (("notifications",), "notification_id"),
              "portfolio": (("portfolio", "portfolio_snapshot"), "easy_number"),
              "customer_references": (("customer_references",), "easy_number"),
              "overdues": ((), "overdue_id")}


def quarantine_discrepancies(store, truth: Truth) -> tuple[list[Discrepancy], dict[str, int]]:
    """Damaged records are in quarantine and missing from the landed rows; nothing else is quarantined
    except 404s of records the API no longer served. Returns (discrepancies, quarantined rows per stream).

    Overdue list items are the exception to "missing": a damaged list item that still names its case has
    the case's detail (another record, not damaged) fetched and landed.
    """
    from resources.streams import STREAMS

    out: list[Discrepancy] = []
    identify = _Identifier(truth)
    quarantined: dict[str, set[str]] = defaultdict(set)
    counts: dict[str, int] = {}
    for stream in STREAMS:
        rows = _read_quarantine(store, stream)
        counts[stream] = len(rows)
        for row in rows:
            key = identify(stream, row)
            if key is None:
                out.append(Discrepancy("quarantine", stream, "a damaged record or a 404 of a record not served",
                                       row["raw_json"][:300], (row["reason"] or "")[:300]))
            elif key != "404":
                quarantined[_served_stream(stream)].add(key)
    landed: dict[str, set[str]] = {}
    for entry in truth.malformed:
        stream, key = entry["stream"], entry["key"]
        if key not in quarantined[stream]:
            out.append(Discrepancy("quarantine", (stream, key), f"in quarantine ({entry['kind']})", "absent"))
        landed_streams, column = LANDED_KEY.get(stream, ((), ""))
        for name in landed_streams:
            if name not in landed:
                landed[name] = set(store.read_table(name, columns=[column])[column].to_pylist()) \
                    if store.manifests(name) else set()
            if key in landed[name]:
                out.append(Discrepancy("quarantine", (name, key), "missing from the landed rows", "landed"))
    return out, counts


def _served_stream(landing_stream: str) -> str:
    return {"portfolio_snapshot": "portfolio", "order_polls": "orders"}.get(landing_stream, landing_stream)


def _read_quarantine(store, stream: str) -> list[dict]:
    if not store.current_quarantine_files(stream):
        return []
    return store.read_quarantine(stream).to_pylist()


class _Identifier:
    """Names the served record a quarantine row holds: its truth key, "404" for a by-id fetch of a record
    the API no longer served on that night, or None."""

    def __init__(self, truth: Truth):
        self.damaged = {(m["stream"], m["key"]) for m in truth.malformed}
        self.delivery = {d["deliveryId"]: d for d in truth.deliveries}
        self.delivery_by_external = {d["externalId"]: d["deliveryId"] for d in truth.deliveries}
        self.notification_by_external = {n["externalId"]: n["notificationId"] for n in truth.notifications}
        self.order_numbers: dict[str, set[str]] = defaultdict(set)
        self.order_versions: dict[str, list[dict]] = defaultdict(list)
        for v in truth.order_versions:
            self.order_numbers[v["orderId"]].update(n for n in (v["easyNumber"], v["temporaryEasyNumber"]) if n)
            self.order_versions[v["orderId"]].append(v)
        self.reference_owner: dict[str, set[str]] = defaultdict(set)
        for c in truth.customer_references:
            if c["customerReference"]:
                self.reference_owner[c["customerReference"]].add(c["easyNumber"])
        self.overdue_by_creation = {(v["easyNumber"], v["creationDate"]): v["overdueId"]
                                    for v in truth.overdue_versions}

    def __call__(self, stream: str, row: dict) -> str | None:
        try:
            raw = json.loads(row["raw_json"])
        except (TypeError, ValueError):
            return None
        if not isinstance(raw, dict):
            return None
        if set(raw) == {"easyNumber", "id", "entity"}:
            return "404" if self._not_served(raw, ts(row["extracted_at"]).date()) else None
        served = _served_stream(stream)
        for key in self._candidates(served, raw, row):
            if (served, key) in self.damaged:
                return key
        return None

    def _not_served(self, raw: dict, night: date) -> bool:
        """Whether the API rightly answered 404 on `night` (the landing clock's day) for this by-id fetch:
        a delivery decided, or an order last changed and decided, before that night's retention start."""
        horizon = _vis(retention_start(night))
        if raw["entity"] == "delivery":
            key = self.delivery_by_external.get(raw["id"], raw["id"])
            return key in self.delivery and self.delivery[key]["decisionDate"] < horizon
        if raw["entity"] == "order":
            versions = [v for v in self.order_versions.get(raw["id"], []) if v["statusDate"] < _vis(night)]
            decided = [d["decisionDate"] for d in self.delivery.values() if d["orderId"] == raw["id"]]
            return bool(versions) and versions[-1]["statusDate"] < horizon and all(t < horizon for t in decided)
        return False

    def _candidates(self, stream: str, raw: dict, row: dict) -> list[str]:
        if stream == "deliveries":
            request_id = (row.get("request") or "").split("?")[0].rstrip("/").rsplit("/", 1)[-1]
            return [k for k in (raw.get("deliveryId"), self.delivery_by_external.get(raw.get("externalId")),
                                self.delivery_by_external.get(request_id), request_id) if k]
        if stream == "orders":
            request_id = (row.get("request") or "").split("?")[0].rstrip("/").rsplit("/", 1)[-1]
            return [k for k in (raw.get("orderId"), request_id) if k]
        if stream == "notifications":
            return [k for k in (raw.get("notificationId"), self.notification_by_external.get(raw.get("externalId")))
                    if k]
        if stream == "portfolio":
            keys = [raw["easyNumber"]] if raw.get("easyNumber") else []
            for product in raw.get("products") or []:
                if isinstance(product, dict):
                    keys += sorted(self.order_numbers.get(product.get("orderId"), ()))
                    if product.get("temporaryEasyNumber"):
                        keys.append(product["temporaryEasyNumber"])
            return keys
        if stream == "overdues":
            return [k for k in (raw.get("overdueId"),
                                self.overdue_by_creation.get((raw.get("easyNumber"), raw.get("creationDate")))) if k]
        if stream == "customer_references":
            return ([raw["easyNumber"]] if raw.get("easyNumber") else []) + sorted(
                self.reference_owner.get(raw.get("customerReference"), ()))
        return []


# ---------------------------------------------------------------------------------------------------------
# One call for tests and the soak
# ---------------------------------------------------------------------------------------------------------

def compare_with_truth(driver: NightlyDriver, truth: Truth | None = None, warehouse_url: str | None = None
                       ) -> Report:
    """Compare a warehouse of the driver (default: its primary) and its landing zone with the truth
    (default: the sandbox's truth now)."""
    truth = truth or Truth.load(driver.sb)
    store = driver.store()
    expected = Oracle(truth, driver.nights, snapshot_times(store)).expected()
    actual = actual_history(driver.warehouse(warehouse_url))
    report = compare(expected, actual)
    report.expected, report.actual = expected, actual
    quarantine, counts = quarantine_discrepancies(store, truth)
    report.discrepancies += quarantine
    report.counts["malformed_served"] = len(truth.malformed)
    report.counts["quarantined_rows"] = sum(counts.values())
    return report


# ---------------------------------------------------------------------------------------------------------
# `python -m tests.exactness cofasync --now ISO -- <cofasync arguments>`
# ---------------------------------------------------------------------------------------------------------

def _cofasync(argv: list[str]) -> int:
    """Run `cofasync` with the landing zone's clock starting at `--now` (see the module doc), or with the
    wall clock when `--now` is not given."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m tests.exactness cofasync")
    parser.add_argument("--now", help="the landing clock's start, ISO 8601 with offset (default: the wall clock)")
    parser.add_argument("rest", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    rest = args.rest[1:] if args.rest[:1] == ["--"] else args.rest
    if args.now:
        start = datetime.fromisoformat(args.now).astimezone(UTC)
        ticks = time.monotonic()

        import resources.landing as landing

        if not callable(getattr(landing, "_utcnow", None)):
            raise SystemExit("resources.landing._utcnow is gone: the exactness harness needs the landing clock")
        landing._utcnow = lambda: start + timedelta(seconds=time.monotonic() - ticks)
    from pipelines.cli import main

    return main(rest)


if __name__ == "__main__":
    if sys.argv[1:2] != ["cofasync"]:
        raise SystemExit("usage: python -m tests.exactness cofasync [--now ISO] -- <cofasync arguments>")
    sys.exit(_cofasync(sys.argv[2:]))

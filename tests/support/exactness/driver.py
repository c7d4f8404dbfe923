"""Driving the pipeline night by night against a sandbox, re-run until the night's sync completes,
recording what the oracle needs (the nights, the days each landed, the truth's portfolio lines at that
moment).

An attempt runs `cofasync sync` on the pipeline's clock of the night (``COFASYNC_NOW``): 01:00:00Z of
the sandbox's day, or later when an earlier attempt of the same night may have stamped past that. An
attempt to be killed runs as a `cofasync` subprocess (a SIGKILL needs a process of its own); every other
runs in this process, through the same function the command runs (``pipelines.sync.run_sync``) with the
settings and the API resource built here, on the Dagster home of the driver.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from tests.support.exactness.in_process import in_process

REPO_ROOT = Path(__file__).resolve().parents[3]
NIGHT_START = timedelta(hours=1)  # the landing clock of a night starts at 01:00:00Z of the sandbox's day


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
    at_kill: dict | None = None  # phase "checkpoint": the sandbox's counters and the held days, at the kill
    seconds: float = 0.0
    stdout: str = ""
    stderr: str = ""

    @property
    def ok(self) -> bool:
        """Whether the attempt exited 0 on its own (not killed)."""
        return self.returncode == 0 and not self.killed

    def tail(self, lines: int = 15) -> str:
        """The command, its outcome and the last lines of its stdout and stderr (for failure messages)."""
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
    (`extract`, `snapshot`, `re-poll` or `models`); for `building`, after the DuckDB warehouse's
    building copy (`<file>.building`) appeared; for `checkpoint`, once a checkpoint of the by-id stream
    `stream` has committed a day holding rows, and `delay` seconds more."""

    phase: str
    delay: float
    stream: str = "deliveries"


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
        self._listed: dict[date, date] = {}  # {day: the last night a sync listed it}
        self.attempts: list[Attempt] = []
        self._clock_floor: datetime | None = None
        self.landing_root = self.root / "landing"
        (self.root / "dagster").mkdir(parents=True, exist_ok=True)

    # -- environment ---------------------------------------------------------------------------------------
    def env(self, warehouse_url: str | None = None) -> dict[str, str]:
        """The environment of a `cofasync` attempt: the sandbox's address and credentials, every state
        folder under the driver's root, and the warehouse (default: the primary one)."""
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
        days = self.days_listed(today)
        night = Night(today, days, self.sb.truth("lines"))
        argv = ["sync"] + (["--snapshot"] if snapshot else [])
        self._until_done(night, argv, None, list(kills))
        # a follower warehouse is built by its own `cofasync sync` from the same landing zone: every day
        # has landed by then, so it re-polls pending orders (same night, same states) and builds
        for url in self.followers:
            self._until_done(night, ["sync"], url, [])
        self.nights.append(night)
        self._listed.update(dict.fromkeys(days, today))
        return night

    @property
    def settle_days(self) -> int:
        """The pipeline's settling window (`COFASYNC_SETTLE_DAYS` of the attempts, default 3)."""
        return int(self.extra_env.get("COFASYNC_SETTLE_DAYS", "3"))

    def days_listed(self, today: date) -> list[date]:
        """The days a sync on ``today`` lists, by the pipeline's rule: from the first available partition to
        yesterday, every day never listed, and every day listed fewer than :attr:`settle_days` days after
        itself on an earlier night (still settling: listed again)."""
        first = self._first_day(today)
        days = [first + timedelta(days=i) for i in range((today - first).days)]
        return [d for d in days if d not in self._listed
                or ((self._listed[d] - d).days < self.settle_days and self._listed[d] < today)]

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
        """Run one attempt of `cofasync <argv>` on the pipeline's clock of tonight: a `sync` in this
        process; to be killed as `kill` says, or any other command (`verify`, `backfill`...), as a
        subprocess."""
        now = self.night_clock()
        attempt = Attempt(argv=list(argv), started_at=now, warehouse_url=warehouse_url or self.warehouse_url)
        env = self.env(warehouse_url)
        if not self.wall_clock:
            env["COFASYNC_NOW"] = now.isoformat()
        started = time.monotonic()
        if kill is None and argv[:1] == ["sync"]:
            self._run_here(attempt, env)
        elif kill is None:
            done = subprocess.run([str(Path(sys.executable).with_name("cofasync")), *attempt.argv], env=env,
                                  cwd=self.root, capture_output=True, text=True, timeout=self.night_timeout)
            attempt.returncode, attempt.stdout, attempt.stderr = done.returncode, done.stdout, done.stderr
        else:
            self._run_killed(attempt, env, kill, warehouse_url)
        attempt.seconds = time.monotonic() - started
        self.hold_clock(now, attempt.seconds)
        self.attempts.append(attempt)
        return attempt

    def _run_here(self, attempt: Attempt, env: dict[str, str]) -> None:
        """One attempt in this process: `cofasync`'s own flow on settings and resources built from ``env``."""
        from pipelines.sync import run_sync

        out, err = io.StringIO(), io.StringIO()
        with in_process(env) as (settings, cofaserve, instance), \
                contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                attempt.returncode = run_sync(settings, instance, snapshot="--snapshot" in attempt.argv,
                                              cofaserve=cofaserve)
            except Exception as exc:  # reported as a failed attempt, with its traceback in stderr
                import traceback

                traceback.print_exc()
                attempt.returncode = 1
                err.write(f"{type(exc).__name__}: {exc}\n")
        attempt.stdout, attempt.stderr = out.getvalue(), err.getvalue()

    def night_clock(self, after: datetime | None = None) -> datetime:
        """The landing clock an attempt starting now gets: 01:00:00Z of the sandbox's day (``after``, when
        given, instead of 01:00), or later when an earlier attempt may have stamped past it."""
        now = after or datetime.combine(self.sb.today, datetime.min.time(), UTC) + NIGHT_START
        return max(now, self._clock_floor) if self._clock_floor is not None else now

    def hold_clock(self, started: datetime, seconds: float) -> None:
        """An attempt made outside :meth:`run` started at ``started`` and took ``seconds``: the next
        attempt's clock starts after everything it may have stamped."""
        self._clock_floor = max(self._clock_floor or started, started + timedelta(seconds=seconds + 60))

    def _run_killed(self, attempt: Attempt, env: dict[str, str], kill: Kill, warehouse_url: str | None) -> None:
        """One attempt as a `cofasync` subprocess, SIGKILLed as ``kill`` says."""
        cmd = [str(Path(sys.executable).with_name("cofasync")), *attempt.argv]
        proc = subprocess.Popen(cmd, env=env, cwd=self.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
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

        def watch_checkpoint():
            landing = self.store()
            while proc.poll() is None:
                if any(m.get("rows", 0) > 0 for m in _landed(landing, kill.stream)):
                    attempt.kill_phase = "checkpoint"
                    time.sleep(kill.delay)
                    kill_now()
                    proc.wait()
                    held = sorted(date.fromisoformat(m["partition"]) for m in landing.manifests(kill.stream))
                    attempt.at_kill = {"counters": self.sb.counters(), "held_days": held}
                    return
                time.sleep(0.01)

        reader = threading.Thread(target=read_out, daemon=True)
        err_reader = threading.Thread(target=lambda: err.extend(proc.stderr), daemon=True)
        watcher = threading.Thread(target=watch_building, daemon=True)
        reader.start()
        err_reader.start()
        if kill is not None and kill.phase == "building":
            watcher.start()
        if kill is not None and kill.phase == "checkpoint":
            watcher = threading.Thread(target=watch_checkpoint, daemon=True)
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
        if watcher.ident is not None:  # started: what it records at the kill is complete
            watcher.join()
        for timer in killer:
            timer.cancel()
        attempt.returncode = proc.returncode
        attempt.stdout, attempt.stderr = "".join(out), "".join(err)

    # -- what was built ------------------------------------------------------------------------------------
    def store(self, policy: str | None = None):
        """The landing zone the nights wrote for ``policy`` (default: the account's first policy)."""
        from resources.landing import LandingStore

        return LandingStore(str(self.landing_root), policy=policy or self.sb.policies[0])

    def warehouse(self, url: str | None = None):
        """A warehouse the nights built (default: the primary one)."""
        from resources.warehouse import Warehouse

        return Warehouse(url or self.warehouse_url)


def _landed(landing, stream: str) -> list[dict]:
    """The manifests of ``stream`` landed so far (read as any reader reads them: each file is replaced
    atomically); none while the first one is being filed."""
    try:
        return landing.manifests(stream)
    except FileNotFoundError:
        return []


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

"""The progress of a run's by-id fetches, per endpoint: calls done of planned, rate and ETA.

The extraction reports through the ``cofasync.progress`` logger, never to a terminal: each record's
``board`` attribute holds the figures (``{endpoint: {"done", "planned", "per_minute", "eta_seconds"}}``).
Whoever runs the extraction renders them: the Dagster asset forwards a line a minute to the run's log
(``assets/extraction_assets.py``); `cofasync` draws live bars on a terminal (``pipelines/live.py``).
"""

from __future__ import annotations

import logging
import threading
import time

from .backfill_plan import RangePlan, duration_text

PROGRESS = logging.getLogger("cofasync.progress")
TICK_SECONDS = 2.0


def board_line(board: dict) -> str:
    """The figures as one line: ``delivery 120/768 58/min ETA 11m12s; ...``."""
    parts = []
    for endpoint, f in board.items():
        eta = "" if f["eta_seconds"] is None else f" ETA {duration_text(f['eta_seconds'])}"
        parts.append(f"{endpoint} {f['done']:,}/{f['planned']:,} {f['per_minute']:,.0f}/min{eta}")
    return "by-id fetches: " + "; ".join(parts)


class FetchProgress:
    """While open (a context manager), report every ``tick`` seconds the calls each endpoint of ``plan``
    has made (from the client's telemetry) against its planned calls; report once more on exit. Calls
    are counted from the telemetry snapshot ``since`` (default: now), so calls started before the plan
    (early fetches while the lists paged) count as done."""

    def __init__(self, client, plan: RangePlan, tick: float = TICK_SECONDS, since: dict | None = None):
        self.client, self.plan, self.tick = client, plan, tick
        self._start = self._calls(since)
        self._began = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fetch-progress", daemon=True)

    def _calls(self, snapshot: dict | None = None) -> dict[str, int]:
        """Requests made per endpoint of the plan, in ``snapshot`` (default: a telemetry snapshot now)."""
        snapshot = self.client.telemetry.snapshot() if snapshot is None else snapshot
        return {e.endpoint: int(snapshot.get(f"requests.{e.endpoint}", 0)) for e in self.plan.endpoints}

    def board(self) -> dict:
        """The figures now, per endpoint of the plan."""
        elapsed = max(time.monotonic() - self._began, 1e-9)
        board, calls = {}, self._calls()
        for e in self.plan.endpoints:
            done = calls[e.endpoint] - self._start[e.endpoint]
            rate = 60.0 * done / elapsed
            left = max(e.calls - done, 0)
            eta = 0.0 if not left else (60.0 * left / rate if rate else None)
            board[e.endpoint] = {"done": done, "planned": e.calls, "per_minute": rate, "eta_seconds": eta}
        return board

    def report(self, final: bool = False) -> None:
        """Emit the figures now (``final``: the last report of the run)."""
        board = self.board()
        PROGRESS.info(board_line(board), extra={"board": board, "final": final})

    def _run(self) -> None:
        while not self._stop.wait(self.tick):
            self.report()

    def __enter__(self) -> FetchProgress:
        PROGRESS.info("\n".join(self.plan.lines()), extra={"plan": self.plan})
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.report(final=True)

"""The by-id fetch progress as `cofasync` shows it (pipelines/live.py): live bars on a terminal, the plan and
a line a minute elsewhere; both fed by the extraction's ``cofasync.progress`` reports."""

from __future__ import annotations

import io
import re
from datetime import date

import pipelines.live
from assets.backfill_plan import EndpointPlan, RangePlan
from assets.fetch_progress import PROGRESS, board_line
from pipelines.live import live_progress

PLAN = RangePlan(date(2026, 1, 1), date(2026, 1, 30),
                 (EndpointPlan("delivery", 120, 57.0), EndpointPlan("order", 60, 57.0)))
BOARD = {"delivery": {"done": 30, "planned": 120, "per_minute": 57.0, "eta_seconds": 94.7},
         "order": {"done": 60, "planned": 60, "per_minute": 56.0, "eta_seconds": 0.0}}


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def report(**extra):
    PROGRESS.info(board_line(BOARD) if "board" in extra else "\n".join(PLAN.lines()), extra=extra)


def test_a_terminal_gets_a_bar_per_endpoint_with_calls_rate_and_eta():
    out = Terminal()
    with live_progress(out):
        report(plan=PLAN)
        report(board=BOARD)
        report(board=BOARD, final=True)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.getvalue())  # without the terminal's colours
    assert "plan of 2026-01-01 to 2026-01-30 (30 days): 180 by-id calls" in text
    assert "delivery" in text and "30/120" in text and "57/min" in text
    assert "order" in text and "60/60" in text


def test_a_log_gets_the_plan_then_a_line_a_minute_then_the_last_one(monkeypatch):
    out = io.StringIO()
    with live_progress(out):
        report(plan=PLAN)
        for _ in range(5):
            report(board=BOARD)  # within the minute the plan was written: not written
        report(board=BOARD, final=True)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("plan of 2026-01-01 to 2026-01-30") and "delivery      120 calls at 57/min" in lines[1]
    boards = [line for line in lines if line.startswith("by-id fetches:")]
    assert boards == ["by-id fetches: delivery 30/120 57/min ETA 1m35s; order 60/60 56/min ETA 0m00s"]

    monkeypatch.setattr(pipelines.live, "PLAIN_EVERY_SECONDS", 0.0)  # a minute has always passed
    out = io.StringIO()
    with live_progress(out):
        for _ in range(5):
            report(board=BOARD)
    assert len(out.getvalue().splitlines()) == 5


def test_nothing_is_shown_once_the_command_is_done():
    out = io.StringIO()
    with live_progress(out):
        pass
    report(plan=PLAN)
    assert out.getvalue() == ""

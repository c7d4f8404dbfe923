"""The by-id fetch progress of the runs `cofasync` launches, in its terminal: live bars per endpoint (calls
done / planned, rate, ETA) drawn with ``rich`` on a terminal, else the plan and one plain line a minute.
The extraction reports through the ``cofasync.progress`` logger (:mod:`assets.fetch_progress`)."""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from collections.abc import Iterator

from assets.fetch_progress import PROGRESS

PLAIN_EVERY_SECONDS = 60.0


class _Plain(logging.Handler):
    """The plan, then one line a minute, then the last one, on a stream that is not a terminal."""

    def __init__(self, stream, every: float):
        super().__init__()
        self.stream, self.every, self.last = stream, every, float("-inf")

    def emit(self, record: logging.LogRecord) -> None:
        now = time.monotonic()
        if hasattr(record, "plan") or getattr(record, "final", False) or now - self.last >= self.every:
            self.last = now
            self.stream.write(record.getMessage() + "\n")
            self.stream.flush()


class _Bars(logging.Handler):
    """One live bar per endpoint of the current plan."""

    def __init__(self, stream):
        super().__init__()
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.progress = Progress(TextColumn("{task.description:<18}"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("{task.fields[rate]:>9}"), TextColumn("ETA"), TimeRemainingColumn(),
                                 console=Console(file=stream), transient=False)
        self.tasks: dict[str, int] = {}

    def emit(self, record: logging.LogRecord) -> None:
        plan = getattr(record, "plan", None)
        if plan is not None:
            self.progress.console.print("\n".join(plan.lines()), highlight=False, markup=False)
            self.tasks = {e.endpoint: self.progress.add_task(e.endpoint, total=e.calls, rate="")
                          for e in plan.endpoints}
            self.progress.start()
            return
        for endpoint, f in (getattr(record, "board", None) or {}).items():
            if endpoint in self.tasks:
                self.progress.update(self.tasks[endpoint], completed=f["done"], rate=f"{f['per_minute']:,.0f}/min")
        if getattr(record, "final", False):
            self.progress.stop()
            for task in self.tasks.values():
                self.progress.remove_task(task)
            self.tasks = {}


@contextlib.contextmanager
def live_progress(stream=None) -> Iterator[None]:
    """Show the by-id fetch progress of the runs launched meanwhile on ``stream`` (default stdout)."""
    stream = stream or sys.stdout
    handler = _Bars(stream) if stream.isatty() else _Plain(stream, PLAIN_EVERY_SECONDS)
    PROGRESS.addHandler(handler)
    previous = PROGRESS.level
    PROGRESS.setLevel(logging.INFO)
    try:
        yield
    finally:
        PROGRESS.removeHandler(handler)
        PROGRESS.setLevel(previous)
        if isinstance(handler, _Bars):
            handler.progress.stop()

"""The by-id fetch progress (``cofasync.progress``, see :mod:`assets.fetch_progress`) in a Dagster run: the
plan and a line a minute in the run's log, and the plan as the run's metadata."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator

from .fetch_progress import PROGRESS

EVERY_SECONDS = 60.0


class _ToRunLog(logging.Handler):
    def __init__(self, context, every: float):
        super().__init__()
        self.context, self.every = context, every
        self.last = float("-inf")
        self.plan = None

    def emit(self, record: logging.LogRecord) -> None:
        plan = getattr(record, "plan", None)
        if plan is not None:
            self.plan = plan
        now = time.monotonic()
        if plan is not None or getattr(record, "final", False) or now - self.last >= self.every:
            self.last = now
            self.context.log.info(record.getMessage())


@contextlib.contextmanager
def progress_to_run_log(context, every: float = EVERY_SECONDS) -> Iterator[_ToRunLog]:
    """Forward the progress reports made meanwhile to ``context.log``: the plan, then a line every
    ``every`` seconds, then the last one. The handler's ``plan`` is the run's plan (None without one)."""
    handler = _ToRunLog(context, every)
    PROGRESS.addHandler(handler)
    if PROGRESS.level == logging.NOTSET or PROGRESS.level > logging.INFO:
        PROGRESS.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        PROGRESS.removeHandler(handler)


def plan_metadata(plan) -> dict:
    """The plan as API figures of the run (``run_api_planned_calls`` per endpoint, ``run_api_planned_seconds``)."""
    if plan is None:
        return {}
    return {"planned_calls": {e.endpoint: e.calls for e in plan.endpoints},
            "planned_seconds": round(plan.seconds, 1)}

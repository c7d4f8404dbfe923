"""What `cofasync sync` runs, decided as the schedules and sensors decide it, in the order the daemon would
run it: the nightly extraction of every day due (the ``nightly_sync`` schedule's ranges), the snapshot
when one is due (the weekly schedule's job), the re-poll while some order is pending (the
``pending_orders_sensor``'s condition), the models after an extraction (``models_after_extract``), and the
landing zone's garbage collection (the daily schedule's job). The jobs are the Definitions' own."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from assets.orders import pending_orders
from assets.policy_runs import POLICIES_TAG
from assets.runtime import REPLACE_TAG
from pipelines.due import DAILY_STREAMS, DueRange, partition_range_tags
from pipelines.jobs import gc_job, models_job, nightly_job, order_polls_job, snapshot_job


@dataclass(frozen=True)
class PlannedRun:
    """One run of a plan: its job, what the terminal calls it, its tags (a partition range), and the
    condition it needs at launch time (evaluated on the landing store), with what to say when it is
    not met."""

    job: str
    label: str
    tags: dict | None = None
    needs: Callable | None = None
    skipped: str = ""
    assets: tuple[str, ...] | None = None
    """The job's assets this run materializes (None: all of them)."""


def range_label(first: date, last: date) -> str:
    """``first`` alone, or ``first to last``."""
    return first.isoformat() if first == last else f"{first.isoformat()} to {last.isoformat()}"


def snapshot_due(snapshot_days: list[date], today: date, every_days: int) -> bool:
    """True when no reconciliation snapshot has landed in the last ``every_days`` days."""
    return not snapshot_days or (today - max(snapshot_days)).days >= every_days


def whole_range(first: date, last: date, streams: tuple[str, ...] = DAILY_STREAMS) -> DueRange:
    """The daily ``streams`` (default: every one) of the days ``first`` to ``last``, as a backfill
    re-extracts them (replacing what they hold, settling or not); raise ValueError naming a stream that
    is not a daily one."""
    unknown = [s for s in streams if s not in DAILY_STREAMS]
    if unknown:
        raise ValueError(f"not a daily stream: {', '.join(unknown)} (the daily streams: {', '.join(DAILY_STREAMS)})")
    return DueRange(first, last, tuple(s for s in DAILY_STREAMS if s in streams), replace=True)


def extraction_run(due: DueRange) -> PlannedRun:
    """The nightly job's run of one due range: every daily stream, or only those the days lack; a
    backfill's (``due.replace``) replaces what the days hold, settling or not."""
    label = f"extract {range_label(due.first, due.last)}"
    if due.settling:
        label += f" ({due.settling} settling day{'s' if due.settling > 1 else ''} listed again for late records)"
    tags = {**partition_range_tags(due.first, due.last), **({REPLACE_TAG: "true"} if due.replace else {})}
    if due.policies:  # only some policies lack the days (a policy that appeared later, a killed run)
        tags[POLICIES_TAG] = ",".join(due.policies)
        label += f" (policy {', '.join(due.policies)})"
    if due.every_stream:
        return PlannedRun(nightly_job.name, label, tags)
    return PlannedRun(nightly_job.name, f"{label} ({', '.join(due.streams)}; the rest has landed)", tags,
                      assets=due.streams)


def sync_plan(due: list[DueRange], snapshot: bool) -> list[PlannedRun]:
    """The runs of one sync: each due range, the snapshot if asked, the re-poll, the models, the collection."""
    runs = [extraction_run(r) for r in due]
    if snapshot:
        runs.append(PlannedRun(snapshot_job.name, "reconciliation snapshot of the full portfolio"))
    runs.append(PlannedRun(order_polls_job.name, "re-poll pending orders", needs=lambda store: bool(pending_orders(store)),
                           skipped="no pending order to re-poll"))
    runs.append(PlannedRun(models_job.name, "reference lists and warehouse models"))
    runs.append(PlannedRun(gc_job.name, "landing garbage collection"))
    return runs

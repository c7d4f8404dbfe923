"""Schedules: the nightly extraction (02:00 UTC, previous GMT day, catching up missed nights) and the
weekly reconciliation snapshot, the landing zone's tidying, the hourly replay of missed pushes. Cron
expressions are evaluated in UTC whatever the server's zone."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg

from assets.policy_runs import POLICIES_TAG
from pipelines.due import due_work, partition_range_tags
from pipelines.jobs import gc_job, nightly_job, replay_job, snapshot_job
from resources.io_resources import CalendarResource, LandingResource

NIGHTLY_CRON = "0 2 * * *"
WEEKLY_CRON = "0 4 * * 0"
GC_CRON = "30 5 * * *"
REPLAY_CRON = "40 * * * *"
SCHEDULE_TIMEZONE = "UTC"


def nightly_run_requests(stores, scheduled_at: datetime, contract_start=None) -> list[dg.RunRequest]:
    """Return one run per contiguous range of days due at ``scheduled_at``: normally the previous GMT
    day and the days still settling before it (listed again); after missed nights, the whole missed
    range as one single-run backfill. ``stores``: each known policy's zone (or one store); a range only
    some policies lack is tagged with them (``cofasync/policies``)."""
    today = scheduled_at.astimezone(UTC).date()
    requests = []
    for due in due_work(stores, today, contract_start):
        first, last = due.first, due.last
        partial = not due.every_stream  # a run that was killed after some streams committed: the rest
        policies = {POLICIES_TAG: ",".join(due.policies)} if due.policies else {}
        requests.append(dg.RunRequest(
            run_key=f"nightly:{first.isoformat()}:{last.isoformat()}" + (f":{'+'.join(due.streams)}" if partial else "")
            + (f":{'+'.join(due.policies)}" if due.policies else ""),
            tags={**partition_range_tags(first, last), **policies},
            asset_selection=[dg.AssetKey(name) for name in due.streams] if partial else None,
        ))
    return requests


@dg.schedule(
    name="nightly_sync",
    cron_schedule=NIGHTLY_CRON,
    execution_timezone=SCHEDULE_TIMEZONE,
    job=nightly_job,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="02:00 UTC: extract the previous GMT day, list the days still settling again, and extract any "
                "earlier day that has not landed.",
)
def nightly_sync(context: dg.ScheduleEvaluationContext, landing: LandingResource, calendar: CalendarResource):
    """Request the extraction of every day due at the tick's time (the previous day, plus missed ones)."""
    requests = nightly_run_requests(landing.synced_stores(), context.scheduled_execution_time, calendar.start())
    if not requests:
        return dg.SkipReason("every day up to yesterday has landed")
    return requests


def _running(name: str, cron: str, job, description: str) -> dg.ScheduleDefinition:
    """A schedule of ``job`` on ``cron`` (UTC), running from the start."""
    return dg.ScheduleDefinition(name=name, cron_schedule=cron, execution_timezone=SCHEDULE_TIMEZONE, job=job,
                                 default_status=dg.DefaultScheduleStatus.RUNNING, description=description)


weekly_reconciliation = _running(
    "weekly_reconciliation", WEEKLY_CRON, snapshot_job,
    "Sunday 04:00 UTC: snapshot the whole portfolio to detect removals and records aging out.")

daily_landing_gc = _running(
    "daily_landing_gc", GC_CRON, gc_job,
    "05:30 UTC: remove landed files no reader needs any more (after the night's runs).")

hourly_push_replay = _running(
    "hourly_push_replay", REPLAY_CRON, replay_job,
    "Every hour at :40: replay the pushed messages the receiver missed (nothing to do without a push inbox).")

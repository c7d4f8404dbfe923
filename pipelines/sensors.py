"""Sensors: models after a successful extraction, re-polls of pending orders, the push inbox, and
run-failure alerts."""

from __future__ import annotations

import dagster as dg

from assets.orders import pending_orders
from pipelines.jobs import MAINTENANCE_JOBS, models_job, order_polls_job, push_job
from pipelines.runs import ALERTED_BY_TAG
from resources.io_resources import AlertsResource, LandingResource
from resources.streams import STREAMS

EXTRACTED = frozenset(dg.AssetKey(name) for name in STREAMS)

REPOLL_INTERVAL_SECONDS = 6 * 3600
PUSH_INTERVAL_SECONDS = 30


def landed_streams(instance: dg.DagsterInstance, run_id: str) -> set[dg.AssetKey]:
    """The extraction assets (landed streams) that one run materialized."""
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION).records
    return {r.event_log_entry.dagster_event.asset_key for r in records} & EXTRACTED


@dg.run_status_sensor(
    name="models_after_extract",
    run_status=dg.DagsterRunStatus.SUCCESS,
    request_job=models_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Rebuild the warehouse once any run (scheduled, from the UI or from cofasync) has landed a "
                "stream, other than the models' own refresh.",
)
def models_after_extract(context: dg.RunStatusSensorContext):
    """Request a models refresh keyed by the run that landed streams; skip runs that landed none."""
    run = context.dagster_run
    if run.job_name in (models_job.name, *MAINTENANCE_JOBS):
        return dg.SkipReason(f"{run.job_name} lands no new extraction")
    landed = landed_streams(context.instance, run.run_id)
    if not landed:
        return dg.SkipReason(f"run {run.run_id[:8]} landed no stream")
    return dg.RunRequest(run_key=f"models-after:{run.run_id}")


@dg.sensor(
    name="pending_orders_sensor",
    job=order_polls_job,
    minimum_interval_seconds=REPOLL_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Every 6 hours, re-poll orders still pending (temporary Z EASY numbers included).",
)
def pending_orders_sensor(context: dg.SensorEvaluationContext, landing: LandingResource):
    """Request a re-poll when some landed order is not final yet."""
    pending = [order for store in landing.synced_stores() for order in pending_orders(store)]
    if not pending:
        return dg.SkipReason("no order is pending")
    return dg.RunRequest(run_key=None, tags={"pending_orders": str(len(pending))})


@dg.sensor(
    name="push_inbox_sensor",
    job=push_job,
    minimum_interval_seconds=PUSH_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Every 30 seconds, land the messages `cofasync receive` kept in the push inbox (and fetch "
                "the deliveries they name); the models follow (models_after_extract).",
)
def push_inbox_sensor(context: dg.SensorEvaluationContext, landing: LandingResource):
    """Request a landing of the push inbox when messages wait in it (none while a landing runs)."""
    waiting = waiting_messages(landing.root) if landing.has_push_inbox() else 0
    if not waiting:
        return dg.SkipReason("no pushed message waits in the inbox")
    running = context.instance.get_run_records(dg.RunsFilter(
        job_name=push_job.name, statuses=[dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.STARTING,
                                          dg.DagsterRunStatus.STARTED]), limit=1)
    if running:
        return dg.SkipReason(f"{waiting} messages wait; a landing of the inbox is running")
    return dg.RunRequest(run_key=None, tags={"push_messages": str(waiting)})


def waiting_messages(landing_root: str) -> int:
    """How many accepted messages the push inbox of ``landing_root`` holds unlanded."""
    from resources.push.inbox import Inbox

    inbox = Inbox(landing_root)
    try:
        return inbox.waiting()
    finally:
        inbox.close()


@dg.run_failure_sensor(
    name="run_failure_alert",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Logs every failed run and posts it to COFASYNC_FAILURE_WEBHOOK_URL when set.",
)
def run_failure_alert(context: dg.RunFailureSensorContext, alerts: AlertsResource):
    """Report a failed run: its job, id and the failure message (which never carries secrets). A run whose
    launcher alerts it itself (``cofasync``) is left to it, so each failure is alerted once."""
    run = context.dagster_run
    message = context.failure_event.message if context.failure_event else "run failed"
    context.log.error(f"run {run.run_id} of {run.job_name} failed: {message}")
    if run.tags.get(ALERTED_BY_TAG):
        context.log.info(f"alerted by {run.tags[ALERTED_BY_TAG]}, which launched it")
        return
    status = alerts.alert_failed_run(run.job_name, run.run_id, message)
    if status is not None:
        context.log.info(f"failure alert posted to the webhook: HTTP {status}")

"""Sensors: models after a successful extraction, re-polls of pending orders, and run-failure alerts."""

from __future__ import annotations

import dagster as dg

from assets.orders import pending_orders
from pipelines.jobs import models_job, nightly_job, order_polls_job, snapshot_job
from resources.io_resources import AlertsResource, LandingResource

REPOLL_INTERVAL_SECONDS = 6 * 3600


@dg.run_status_sensor(
    name="models_after_extract",
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[nightly_job, snapshot_job],
    request_job=models_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Rebuild the warehouse once an extraction or a snapshot has landed.",
)
def models_after_extract(context: dg.RunStatusSensorContext):
    """Request a models refresh keyed by the extraction run that finished."""
    return dg.RunRequest(run_key=f"models-after:{context.dagster_run.run_id}")


@dg.sensor(
    name="pending_orders_sensor",
    job=order_polls_job,
    minimum_interval_seconds=REPOLL_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Every 6 hours, re-poll orders still pending (temporary Z EASY numbers included).",
)
def pending_orders_sensor(context: dg.SensorEvaluationContext, landing: LandingResource):
    """Request a re-poll when some landed order is not final yet."""
    pending = pending_orders(landing.store())
    if not pending:
        return dg.SkipReason("no order is pending")
    return dg.RunRequest(run_key=None, tags={"pending_orders": str(len(pending))})


@dg.run_failure_sensor(
    name="run_failure_alert",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Logs every failed run and posts it to COFASYNC_FAILURE_WEBHOOK_URL when set.",
)
def run_failure_alert(context: dg.RunFailureSensorContext, alerts: AlertsResource):
    """Report a failed run: its job, id and the failure message (which never carries secrets)."""
    run = context.dagster_run
    message = context.failure_event.message if context.failure_event else "run failed"
    payload = {"job": run.job_name, "run_id": run.run_id, "message": message}
    context.log.error(f"run {run.run_id} of {run.job_name} failed: {message}")
    status = alerts.post_failure(payload)
    if status is not None:
        context.log.info(f"failure alert posted to the webhook: HTTP {status}")

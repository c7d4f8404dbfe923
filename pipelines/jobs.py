"""The jobs: what each schedule, sensor or CLI command runs. Which extraction assets each selects
follows from the stream declarations (their partitioning, and the job an as-of stream names). The
landing zone's garbage collection is a job too, scheduled daily and run at the end of `cofasync sync`."""


import dagster as dg

from resources.cofaserve import CofaServeResource
from resources.io_resources import AlertsResource, LandingResource
from resources.streams import MODELS_JOB, PUSH_JOB, STREAMS, Partitioning, streams_by


def _extraction(partitioning: Partitioning, job: str | None = None) -> list[str]:
    """The asset keys of the streams with ``partitioning`` (of those naming ``job``, when given)."""
    return [s.name for s in streams_by(partitioning) if job is None or s.job == job]


def _as_of_job(name: str, description: str):
    """The asset job landing the as-of streams that name it."""
    selected = _extraction(Partitioning.AS_OF, name)
    if not selected:
        raise LookupError(f"no stream declares job {name!r}; declared: {sorted({s.job for s in STREAMS.values() if s.job})}")
    return dg.define_asset_job(name, selection=dg.AssetSelection.assets(*selected), description=description)


nightly_job = dg.define_asset_job(
    "nightly_extract",
    selection=dg.AssetSelection.assets(*_extraction(Partitioning.DAILY)),
    description="Extract the changes of one or more GMT days (a range runs as one single-run backfill).",
)

models_job = dg.define_asset_job(
    MODELS_JOB,
    selection=dg.AssetSelection.assets(*_extraction(Partitioning.CURRENT), *_extraction(Partitioning.AS_OF, MODELS_JOB))
    | dg.AssetSelection.groups("staging", "history", "marts"),
    description="Refresh the reference lists, then rebuild the warehouse models from the landing zone.",
)

snapshot_job = _as_of_job(
    "reconciliation_snapshot", "Land a snapshot of the full portfolio (detects removals and records aging out).")

order_polls_job = _as_of_job("repoll_pending_orders", "Re-poll orders still pending, temporary Z EASY numbers included.")

push_job = _as_of_job(PUSH_JOB, "Land the push inbox's new messages and fetch the deliveries they name.")


@dg.op(description="Remove landed files no manifest needs any more: runs superseded longer ago than the "
                   "landing store's retention, and leftovers of killed writers. Returns how many.")
def remove_unneeded_landing_files(context: dg.OpExecutionContext, landing: LandingResource) -> int:
    """Collect the garbage of every landed stream; a partition being written is skipped."""
    removed = {name: sum(len(store.garbage_collect(name)) for store in landing.stores()) for name in STREAMS}
    total = sum(removed.values())
    context.add_output_metadata({"files_removed": total,
                                 "by_stream": dg.MetadataValue.json({k: v for k, v in removed.items() if v})})
    context.log.info(f"removed {total} landed files no reader needs")
    return total


@dg.job(name="collect_landing_garbage", description="Remove landed files no reader needs any more "
        "(superseded runs past their retention, leftovers of killed writers).", tags={"kind": "maintenance"})
def gc_job():
    remove_unneeded_landing_files()


@dg.op(description="Ask Coface to replay the pushed messages the receiver missed (the pull notifications are "
                   "the reference), keeping the ledger of attempts and alerting before a message is lost.")
def ask_replays_of_missed_pushes(context: dg.OpExecutionContext, cofaserve: CofaServeResource, landing: LandingResource,
                         alerts: AlertsResource) -> int:
    """One replay pass over every synced policy; returns the replays asked."""
    from pipelines.push_replay import alert_payload, replay_missed

    if not landing.has_push_inbox():
        context.log.info("no push inbox in the landing zone: nothing was subscribed here")
        return 0
    report = replay_missed(cofaserve.get_client(), landing.synced_stores(), landing.root)
    context.log.info(report.summary())
    context.add_output_metadata({"missed": report.missed, "asked": report.asked, "lost": len(report.lost),
                                 "at_risk": len(report.at_risk), "push_only": len(report.push_only),
                                 "outcomes": dg.MetadataValue.json(dict(report.outcomes))})
    payload = alert_payload(report, context.run_id)
    if payload is not None:
        context.log.warning(payload["message"])
        alerts.post_failure(payload)
    return report.asked


@dg.job(name="replay_missed_pushes", description="Replay the pushed messages the receiver missed, within "
        "Coface's replay window (5 hours to 5 days, 7 attempts).", tags={"kind": "maintenance"})
def replay_job():
    ask_replays_of_missed_pushes()


MAINTENANCE_JOBS = (gc_job.name, replay_job.name)
"""Jobs that land nothing (they tidy the landing zone, or ask Coface to push again)."""

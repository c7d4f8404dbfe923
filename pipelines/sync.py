"""What `cofasync sync` and `backfill` do, as functions of the settings: due days, the plan of runs, the
runs launched on a Dagster instance, and the summary. No environment is read here."""

from __future__ import annotations

import gc
import sys
import time

from pipelines.due import DueRange, due_work
from pipelines.live import live_progress
from pipelines.plan import range_label, snapshot_due, sync_plan
from pipelines.progress import Progress, fail
from pipelines.report import SyncReport
from pipelines.runs import launch, recover_interrupted_runs
from resources.io_resources import AlertsResource, LandingResource, WarehouseResource


def run_sync(settings, instance, *, snapshot: bool = False, cofaserve=None, last_in_process: bool = False) -> int:
    """`cofasync sync` with ``settings``, on ``instance``: every day due up to yesterday, a snapshot when
    one is due (or ``snapshot``), the re-poll, the models and the collection; returns the exit code.
    In-process callers (the exactness harness) pass their own settings, instance and API resource;
    ``last_in_process`` as :func:`run_plan` takes it."""
    stores = LandingResource.from_settings(settings).synced_stores()
    today = settings.today()
    ranges = due_work(stores, today, settings.contract_start)
    snapshot = snapshot or any(snapshot_due([p for p in store.partitions("portfolio_snapshot") if p is not None],
                                            today, settings.snapshot_every_days) for store in stores)
    if ranges:
        print(f"due: {', '.join(range_label(r.first, r.last) for r in ranges)}")
    else:
        print("every day up to yesterday has landed")
    return run_plan(ranges, settings, instance, snapshot=snapshot, cofaserve=cofaserve, last_in_process=last_in_process)


def run_plan(ranges: list[DueRange], settings, instance, *, snapshot: bool, cofaserve=None,
             again: str = "cofasync sync", last_in_process: bool = False) -> int:
    """Launch the runs of :func:`pipelines.plan.sync_plan` for ``ranges`` on ``instance``, with the
    Definitions of ``settings`` (and ``cofaserve``, the API client's resource, when given); print the
    progress and a summary; return the exit code (0, or 1 after a failed run, which is alerted; its last
    line is the cause, the line before says to run ``again``). ``last_in_process``: the process ends
    after this plan (a `cofasync` command), so what is built before the runs is frozen out of the
    collector's full passes; a caller running plan after plan in one process (the exactness harness)
    leaves it off, or the cyclic garbage of each plan would never be freed."""
    from pipelines.definitions import build_definitions  # not at import: the module wires the env's defs
    from resources.warehouse import WarehouseUnreachable

    try:  # before any API call: an extraction whose models cannot be built is budget spent for nothing
        WarehouseResource.from_settings(settings).warehouse().check_reachable()
    except WarehouseUnreachable as exc:
        return fail(f"the warehouse (WAREHOUSE_URL) is not usable: {exc}. Nothing was extracted; fix the "
                    "warehouse or WAREHOUSE_URL (`cofasync doctor` checks it) and run again.")
    defs = build_definitions(settings, cofaserve)
    if last_in_process:
        # what is built so far (Dagster, the definitions, the imports) lives until the end: the
        # collector's full passes need not walk it again each time the run's own objects trigger one
        gc.freeze()
    alerts = AlertsResource(failure_webhook_url=settings.failure_webhook_url)
    for run_id in recover_interrupted_runs(instance):
        print(f"run {run_id[:8]} of an earlier cofasync never finished (killed?): marked failed, its API "
              "pool slot freed; what it had not committed is extracted again")
    stores = LandingResource.from_settings(settings).synced_stores()
    plan = sync_plan(ranges, snapshot)
    progress = Progress(len(plan))
    started = time.monotonic()
    report = SyncReport()
    removed = 0
    for run in plan:
        if run.needs is not None and not any(run.needs(store) for store in stores):
            progress.step(run.skipped)
            continue
        progress.step(run.label)
        with live_progress():
            outcome = launch(defs.resolve_job_def(run.job), instance, alerts, run.tags, run.assets)
        if outcome.result is not None:
            report.add(run.label, outcome.result)
        if not outcome.ok:
            progress.finish()
            print_summary(settings, stores, report, time.monotonic() - started)
            print(f"Nothing landed by the failed step was published. Fix the cause below and run `{again}` "
                  "again: it resumes with what is still due.", file=sys.stderr)
            return fail(f"{run.label} failed: {outcome.message}")
        if run.job == "collect_landing_garbage":
            removed = outcome.result.output_for_node("remove_unneeded_landing_files")
    progress.finish()
    print_summary(settings, stores, report, time.monotonic() - started)
    if removed:
        print(f"  landing files of superseded runs removed: {removed:,}")
    return 0


def quarantined(stores) -> int:
    """The records quarantined in every current partition of every stream of every policy's zone."""
    from resources.streams import STREAMS

    return sum(m.get("quarantined", 0) for store in stores for name in STREAMS for m in store.manifests(name))


def print_summary(settings, stores, report: SyncReport, seconds: float) -> None:
    """Print what one command did (``report``: per stream, the calls, the checks), the quarantine of the
    landing zone, where the warehouse is, and the time."""

    print("\nSummary")
    for line in report.lines():
        print(line)
    print(f"  quarantined records: {quarantined(stores):,} in the landing zone (per stream: `cofasync status`)")
    warehouse = WarehouseResource.from_settings(settings).warehouse()
    try:
        tables = len(warehouse.table_counts())
        print(f"  warehouse: {warehouse.safe_url} ({tables} tables; rows per table: `cofasync status`)")
    except Exception as exc:  # a failed run may leave no warehouse yet: say so, the summary still prints
        print(f"  warehouse: {warehouse.safe_url} not readable yet ({type(exc).__name__})")
    print(f"  time: {seconds:.1f}s")

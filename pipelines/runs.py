"""Launching the project's jobs from a terminal, as the daemon would launch them: in this process, recorded
in the Dagster home (visible in the UI), failures alerted as the run-failure sensor alerts them.

A run launched here carries the tags of this process (pid, host) so that a later ``cofasync`` can close it
when this process dies without finishing (killed, power cut), and the tag :data:`ALERTED_BY_TAG`, so the
run-failure sensor of a running daemon leaves its alert to this process (one alert per failed run).
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

from dagster import AssetKey, DagsterInstance, DagsterRunStatus, RunsFilter

PID_TAG, HOST_TAG = "cofasync/pid", "cofasync/host"
ALERTED_BY_TAG = "cofasync/alerted-by"
"""Set on runs whose failure the launching process alerts itself (the sensor skips them)."""


@dataclass(frozen=True)
class RunOutcome:
    """How one launched run ended: ``ok``, the API calls it reported, the failure message, its id, and the
    in-process result (``result.output_for_node(op)`` gives what a maintenance op returned)."""

    ok: bool
    api_calls: int
    message: str
    run_id: str
    result: object


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


UNFINISHED = (DagsterRunStatus.STARTED, DagsterRunStatus.STARTING, DagsterRunStatus.NOT_STARTED)


def recover_interrupted_runs(instance: DagsterInstance) -> list[str]:
    """Close the runs of earlier `cofasync` processes on this machine that died without finishing: mark them
    failed and free the API pool slots they held, which would otherwise block every later run forever.
    Returns their run ids. Runs of live processes, of other machines, or not started by `cofasync` (the UI,
    the daemon, whose own run monitoring frees its slots) are left alone."""
    unfinished = instance.get_runs(filters=RunsFilter(statuses=list(UNFINISHED)))
    recovered = []
    for run in unfinished:
        if not interrupted(run):
            continue
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        instance.report_run_failed(run, message=f"the cofasync process {run.tags[PID_TAG]} that ran it ended "
                                                "without finishing (killed?); marked failed by a later cofasync")
        recovered.append(run.run_id)
    return recovered


def interrupted(run) -> bool:
    """Whether ``run`` is unfinished although the `cofasync` process on this machine that ran it has ended
    (killed): it will never finish."""
    pid, run_host = run.tags.get(PID_TAG), run.tags.get(HOST_TAG)
    return (run.status in UNFINISHED and pid is not None and run_host == socket.gethostname()
            and not _process_alive(int(pid)))


def _api_requests(result) -> int:
    """Sum the API calls reported by the materializations of one run (each asset's run figure once: a
    range run emits one materialization per partition, each carrying the run's figures)."""
    per_asset: dict = {}
    for event in result.get_asset_materialization_events():
        value = event.materialization.metadata.get("run_api_requests")
        if value is not None:
            per_asset[event.materialization.asset_key] = int(value.value)
    return sum(per_asset.values())


def _failure_message(result) -> str:
    failures = [e for e in result.all_events if e.is_failure]
    message = failures[0].message if failures else "run failed"
    for event in failures:
        error = getattr(getattr(event, "event_specific_data", None), "error", None)
        if error is not None:
            return _cause(error) or message
    return message


def _cause(error) -> str:
    """The line of a step's error that names its cause: the exception our code raised (Dagster wraps it
    in ``DagsterExecutionStepExecutionError``), its class without the module path; a ``Failure`` is its
    description alone (ours already says what went wrong)."""
    while error.cls_name == "DagsterExecutionStepExecutionError" and error.cause is not None:
        error = error.cause
    lines = [line.strip() for line in (error.message or "").strip().splitlines() if line.strip()]
    if not lines:
        return ""
    qualified, _, first = lines[0].partition(": ")  # "module.Class: message", the message maybe multi-line
    text = " ".join([first, *(line for line in lines[1:] if not line.startswith("(Background on this error"))])
    if not first or " " in qualified:
        return " ".join(lines)
    name = qualified.rsplit(".", 1)[-1]
    return text if name == "Failure" else f"{name}: {text}"


def launch(job, instance: DagsterInstance, alerts, tags: dict | None = None,
           assets: tuple[str, ...] | None = None) -> RunOutcome:
    """Run ``job`` (a resolved job of the Definitions) in this process, of its ``assets`` only when
    given; alert its failure through ``alerts`` (an AlertsResource) as the run-failure sensor would."""
    quiet = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}  # the terminal shows our progress
    tags = {**(tags or {}), PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname(), ALERTED_BY_TAG: "cofasync"}
    selection = [AssetKey(name) for name in assets] if assets is not None else None
    result = job.execute_in_process(run_config=quiet, instance=instance, tags=tags, raise_on_error=False,
                                    asset_selection=selection)
    if result.success:
        return RunOutcome(True, _api_requests(result), "", result.run_id, result)
    message = _failure_message(result)
    alerts.alert_failed_run(job.name, result.run_id, message)
    return RunOutcome(False, 0, message, result.run_id, result)

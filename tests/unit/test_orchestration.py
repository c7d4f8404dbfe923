"""Sensors, failure classification for run retries, and the CLI's progress output."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import pytest

from assets.runtime import TRANSIENT_RETRY, api_failures_not_retried
from pipelines.definitions import build_definitions, build_resources
from pipelines.progress import Progress
from resources.cofaserve import InvalidCredentialsError, RetryExhaustedError
from resources.io_resources import AlertsResource
from resources.landing import LandingStore
from resources.settings import load_settings
from tests.support.policies import TEST_POLICY
from tests.support.webhook import webhook

D = date(2026, 3, 28)


def order_row(order_id: str, status: str) -> dict:
    return {"order_id": order_id, "easy_number": "12345678", "temporary_easy_number": None,
            "product_code": "ECL", "order_at": None, "status": status, "status_at": None,
            "requested_amount_value": None, "requested_amount_currency": None, "delivery_id": None,
            "rejection_reasons": None}


def land_orders(store: LandingStore, rows: list[dict]) -> None:
    with store.open_partition("orders", D, "run1") as writer:
        for row in rows:
            writer.write_record(json.dumps({"orderId": row["order_id"]}), "GET order", [row])


def evaluate_pending_sensor(tmp_path, monkeypatch):
    monkeypatch.setattr("assets.orders.REPOLL_AFTER", timedelta(0))  # as if a week had passed
    settings = load_settings({"LANDING_ROOT": str(tmp_path), "COFASERVE_POLICY_NUMBER": TEST_POLICY})
    sensor = build_definitions(settings).resolve_sensor_def("pending_orders_sensor")
    resources = {k: v for k, v in build_resources(settings).items() if k in sensor.required_resource_keys}
    with dg.build_sensor_context(instance=dg.DagsterInstance.ephemeral(), resources=resources) as context:
        return sensor.evaluate_tick(context)


def test_pending_orders_sensor_requests_a_repoll_while_an_order_is_pending(tmp_path, monkeypatch):
    land_orders(LandingStore(str(tmp_path), policy=TEST_POLICY), [order_row("O1", "STATUS_PENDING_UNDERWRITING"),
                                              order_row("O2", "STATUS_CLOSED")])
    result = evaluate_pending_sensor(tmp_path, monkeypatch)
    assert len(result.run_requests) == 1
    assert result.run_requests[0].tags["pending_orders"] == "1"


def test_pending_orders_sensor_skips_when_every_order_is_final(tmp_path, monkeypatch):
    land_orders(LandingStore(str(tmp_path), policy=TEST_POLICY), [order_row("O2", "STATUS_CLOSED"), order_row("O3", "STATUS_REJECTED")])
    result = evaluate_pending_sensor(tmp_path, monkeypatch)
    assert result.run_requests == [] and "no order is pending" in result.skip_message


def test_failure_alert_is_posted_to_the_webhook():
    with webhook() as (url, received):
        status = AlertsResource(failure_webhook_url=url).alert_failed_run("nightly_extract", "r1", "boom")
    assert status == 204
    assert received == [{"job": "nightly_extract", "run_id": "r1", "message": "boom"}]
    assert AlertsResource().alert_failed_run("x", "r2", "boom") is None  # no webhook set: nothing posted


def test_an_authentication_failure_is_never_retried_by_the_run_policy():
    with pytest.raises(dg.Failure) as failure:
        with api_failures_not_retried():
            raise InvalidCredentialsError("NotAuthorizedException: Incorrect username or password")
    assert failure.value.allow_retries is False
    assert "refused the credentials" in failure.value.description


def test_a_transient_failure_reaches_the_run_retry_policy():
    with pytest.raises(RetryExhaustedError):
        with api_failures_not_retried():
            raise RetryExhaustedError("503 after 8 attempts", last_error=ConnectionError("cut"), attempts=8,
                                      elapsed=300.0)
    assert TRANSIENT_RETRY.max_retries >= 1


def test_a_deterministic_failure_is_not_retried_either():
    with pytest.raises(dg.Failure) as failure:
        with api_failures_not_retried():
            raise ValueError("a record for 2026-03-28 arrived after that day was committed")
    assert failure.value.allow_retries is False


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_draws_a_bar_on_a_terminal_and_plain_lines_otherwise():
    terminal, plain = FakeTerminal(), io.StringIO()
    for stream in (terminal, plain):
        progress = Progress(2, stream)
        progress.step("extract 2026-03-28")
        progress.step("models")
        progress.finish()
    assert "\r[" in terminal.getvalue() and "1/2" in terminal.getvalue()
    lines = plain.getvalue().splitlines()
    assert lines[0].startswith("[1/2] extract 2026-03-28") and lines[1].startswith("[2/2] models")
    assert "\r" not in plain.getvalue()


def test_a_killed_cofasync_run_is_closed_and_frees_its_api_pool_slot(tmp_path):
    import os
    import socket
    import subprocess

    from dagster._core.storage.dagster_run import DagsterRun

    from pipelines.runs import HOST_TAG, PID_TAG, recover_interrupted_runs

    dead = subprocess.Popen(["true"])
    dead.wait()
    instance = dg.DagsterInstance.local_temp(str(tmp_path))
    host = socket.gethostname()
    killed, live, elsewhere = (
        instance.add_run(DagsterRun(job_name="nightly_extract", run_id=f"run-{name}", status=dg.DagsterRunStatus.STARTED,
                                    tags={PID_TAG: str(pid), HOST_TAG: where}))
        for name, pid, where in (("killed", dead.pid, host), ("live", os.getpid(), host),
                                 ("elsewhere", dead.pid, "another-host")))
    storage = instance.event_log_storage
    storage.set_concurrency_slots("cofaserve_api", 1)
    storage.claim_concurrency_slot("cofaserve_api", killed.run_id, "notifications")

    assert recover_interrupted_runs(instance) == [killed.run_id]
    assert instance.get_run_by_id(killed.run_id).status == dg.DagsterRunStatus.FAILURE
    assert instance.get_run_by_id(live.run_id).status == dg.DagsterRunStatus.STARTED
    assert instance.get_run_by_id(elsewhere.run_id).status == dg.DagsterRunStatus.STARTED
    assert storage.get_concurrency_info("cofaserve_api").claimed_slots == []


def test_a_pending_order_heard_of_recently_is_not_repolled(tmp_path):
    from datetime import UTC, datetime

    from assets.orders import REPOLL_AFTER, pending_orders

    store = LandingStore(str(tmp_path), policy=TEST_POLICY)
    land_orders(store, [order_row("O1", "STATUS_PENDING_UNDERWRITING")])
    assert pending_orders(store) == {}
    assert pending_orders(store, now=datetime.now(UTC) + REPOLL_AFTER) == {"O1": "12345678"}
    assert pending_orders(store, quiet_for=None) == {"O1": "12345678"}


def test_the_repoll_counts_gmt_days_on_the_pipelines_clock(tmp_path):
    from datetime import UTC, datetime

    from assets.orders import pending_orders

    landed_late = datetime(2026, 3, 10, 23, 50, tzinfo=UTC)
    land_orders(LandingStore(str(tmp_path), policy=TEST_POLICY, clock=lambda: landed_late),
                [order_row("O1", "STATUS_PENDING_UNDERWRITING")])

    def on(moment: datetime) -> dict:
        return pending_orders(LandingStore(str(tmp_path), policy=TEST_POLICY, clock=lambda: moment))

    assert on(datetime(2026, 3, 16, 23, 59, tzinfo=UTC)) == {}  # six GMT days later
    # Seven GMT days later, though 20 minutes short of seven times 24 hours: due.
    assert on(datetime(2026, 3, 17, 0, 10, tzinfo=UTC)) == {"O1": "12345678"}


def _run_of(instance, job_name: str, asset_key: str | None, tags: dict | None = None):
    """A real run on ``instance`` of a one-op job named ``job_name`` that materializes ``asset_key``."""

    @dg.op(name=f"op_{job_name.strip('_')}")
    def step(context):
        if asset_key:
            yield dg.AssetMaterialization(asset_key=asset_key)
        yield dg.Output(None)

    job = dg.GraphDefinition(name=job_name, node_defs=[step]).to_job()
    return instance.get_run_by_id(job.execute_in_process(instance=instance, tags=tags or {}).run_id)


def _models_sensor_says(instance, run):
    sensor = build_definitions(load_settings({})).resolve_sensor_def("models_after_extract")
    event = instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.RUN_SUCCESS).records[0]
    context = dg.build_run_status_sensor_context(sensor_name=sensor.name, dagster_instance=instance,
                                                 dagster_run=run, dagster_event=event.event_log_entry.dagster_event)
    return sensor(context)


def test_the_models_refresh_after_any_run_that_landed_a_stream_however_launched():
    with dg.DagsterInstance.ephemeral() as instance:
        from_the_ui = _run_of(instance, "__ASSET_JOB", "deliveries")
        request = _models_sensor_says(instance, from_the_ui)
        assert isinstance(request, dg.RunRequest) and request.run_key == f"models-after:{from_the_ui.run_id}"
        models_only = _run_of(instance, "__ASSET_JOB", None)
        assert isinstance(_models_sensor_says(instance, models_only), dg.SkipReason)
        own_refresh = _run_of(instance, "refresh_models", "countries")  # lands a reference list, then models
        assert isinstance(_models_sensor_says(instance, own_refresh), dg.SkipReason)


def test_the_failure_sensor_leaves_a_run_to_the_cofasync_that_alerts_it(monkeypatch):
    from pipelines.runs import ALERTED_BY_TAG

    posted = []
    monkeypatch.setattr(AlertsResource, "post_failure", lambda self, payload: posted.append(payload) or 204)
    sensor = build_definitions(load_settings({})).resolve_sensor_def("run_failure_alert")
    with dg.DagsterInstance.ephemeral() as instance:
        for tags in ({}, {ALERTED_BY_TAG: "cofasync"}):
            run = _run_of(instance, "nightly_extract", None, tags)
            context = dg.build_run_status_sensor_context(
                sensor_name=sensor.name, dagster_instance=instance, dagster_run=run,
                dagster_event=instance.get_records_for_run(run.run_id).records[-1].event_log_entry.dagster_event,
                resources={"alerts": AlertsResource(failure_webhook_url="http://127.0.0.1:9/x")},
            ).for_run_failure()
            sensor(context)
    assert [p["run_id"] for p in posted] == [posted[0]["run_id"]] and len(posted) == 1


def test_the_garbage_collection_job_removes_what_no_manifest_names(tmp_path):
    store = LandingStore(str(tmp_path), policy=TEST_POLICY)
    land_orders(store, [order_row("O1", "STATUS_CLOSED")])
    stray = Path(store.path) / "orders" / "partition=2026-03-28" / "run=killed" / "part-00000-dead.parquet"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"left by a killed writer")
    settings = load_settings({"LANDING_ROOT": str(tmp_path), "COFASERVE_POLICY_NUMBER": TEST_POLICY})
    result = build_definitions(settings).resolve_job_def("collect_landing_garbage").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), resources={"landing": build_resources(settings)["landing"]})
    assert result.success and result.output_for_node("remove_unneeded_landing_files") == 1
    assert not stray.exists() and store.read_table("orders").num_rows == 1

"""A reconciliation snapshot is timed at its as-of day's 00:00Z (what the listing shows before the API's
today). With this machine's today ahead of the API's, a snapshot dated today would claim to show days the
API has not reached (and decisions made in between would later look deleted): it is refused, nothing landed."""

from __future__ import annotations

from datetime import date, timedelta

import dagster as dg
import pytest

from bench.common import pipeline_env
from pipelines.definitions import build_definitions
from resources.landing import LandingStore
from resources.settings import load_settings
from sandbox.testing import run_sandbox

TODAY = date(2026, 11, 23)


@pytest.fixture(scope="module")
def sandbox():
    with run_sandbox(companies=60, today=TODAY) as handle:
        yield handle


def snapshot_run(sandbox, workdir, today: date, monkeypatch):
    env = {**pipeline_env(sandbox, workdir), "COFASYNC_TODAY": today.isoformat()}
    for name, value in env.items():  # secrets reach the resources as Dagster EnvVars, read at run time
        monkeypatch.setenv(name, value)
    job = build_definitions(load_settings(env)).resolve_job_def("reconciliation_snapshot")
    return job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)


def test_a_snapshot_dated_after_the_api_s_today_is_refused_and_lands_nothing(sandbox, tmp_path, monkeypatch):
    result = snapshot_run(sandbox, tmp_path, TODAY + timedelta(days=2), monkeypatch)
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    described = failure.step_failure_data.user_failure_data.description
    assert f"reads {TODAY}" in described and f"dated {TODAY + timedelta(days=2)}" in described, described
    assert LandingStore(str(tmp_path / "landing"), policy=sandbox.credentials["policy_number"]).partitions("portfolio_snapshot") == []


def test_a_snapshot_of_the_api_s_today_lands(sandbox, tmp_path, monkeypatch):
    result = snapshot_run(sandbox, tmp_path, TODAY, monkeypatch)
    assert result.success
    assert LandingStore(str(tmp_path / "landing"), policy=sandbox.credentials["policy_number"]).partitions("portfolio_snapshot") == [TODAY]

"""The Dagster jobs as a deployment runs them: `dagster job execute` on the code location `pipelines.definitions`,
under Dagster's multiprocess executor (each step in a process of its own), on the project's Dagster home
(its batched SQLite event log). Every daily stream's partitions of the range are materialized, the landing
zone holds every notification of the range, and the models built after it hold the portfolio.

(The same on Dagster's Postgres storage, into the Postgres warehouse: `test_postgres_instance.py`.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import dagster as dg
import duckdb

from bench.common import ROOT, pipeline_env
from pipelines.cli import ensure_dagster_home
from pipelines.due import DAILY_STREAMS, partition_range_tags
from resources.landing import LandingStore

DAGSTER = str(Path(sys.executable).with_name("dagster"))


def execute(env: dict, job: str, tags: dict | None = None) -> subprocess.CompletedProcess:
    command = [DAGSTER, "job", "execute", "-m", "pipelines.definitions", "-j", job]
    if tags:
        command += ["--tags", json.dumps(tags)]
    return subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_the_nightly_job_and_the_models_run_under_the_multiprocess_executor(sandbox, tmp_path):
    first, last = sandbox.today - timedelta(days=20), sandbox.today - timedelta(days=1)
    env = {**os.environ, **pipeline_env(sandbox, tmp_path), "COFASERVE_CONTRACT_START": first.isoformat(),
           "PYTHONPATH": str(ROOT)}
    home = tmp_path / "dagster"
    ensure_dagster_home(home)

    extract = execute(env, "nightly_extract", partition_range_tags(first, last))
    assert extract.returncode == 0, extract.stdout[-3000:] + extract.stderr[-3000:]
    logs = extract.stdout + extract.stderr
    assert "Multiprocess executor: parent process exiting" in logs and "RUN_SUCCESS" in logs

    days = [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]
    with dg.DagsterInstance.from_config(str(home)) as instance:
        for stream in DAILY_STREAMS:
            assert sorted(instance.get_materialized_partitions(dg.AssetKey(stream))) == days, stream
    store = LandingStore(str(tmp_path / "landing"), policy=sandbox.credentials["policy_number"])
    window = [n for n in sandbox.truth("notifications") if days[0] <= n["eventDate"][:10] <= days[-1]]
    assert store.read_table("notifications", sorted(store.partitions("notifications"))).num_rows == len(window) > 0

    models = execute(env, "refresh_models")
    assert models.returncode == 0, models.stdout[-3000:] + models.stderr[-3000:]
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from staging.stg_notifications").fetchone()[0] == len(window)
        assert con.execute("select count(*) from marts.current_portfolio").fetchone()[0] > 0

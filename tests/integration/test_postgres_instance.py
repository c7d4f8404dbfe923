"""The production profile of docs/operations.md, exercised: the nightly backfill and the models as a
deployment runs them (`dagster job execute` on the code location, Dagster's multiprocess executor) on a
Dagster instance whose run, event and schedule storage is Postgres (`dagster-postgres`, the documented
`dagster.yaml`), into the Postgres warehouse. Partitions, landing and models are checked."""

from __future__ import annotations

import os
from datetime import timedelta

import dagster as dg
import psycopg
import pytest

from bench.common import ROOT, pipeline_env
from pipelines.due import DAILY_STREAMS, partition_range_tags
from tests.integration.test_multiprocess_executor import execute
from tests.support.postgres import postgres_cluster  # noqa: F401 (the fixture)

pytest.importorskip("dagster_postgres", reason="dagster-postgres is not installed (pip install '.[postgres]')")



def test_the_backfill_and_the_models_run_on_postgres_storage_into_postgres(sandbox, postgres_cluster, tmp_path):  # noqa: F811
    warehouse_url = postgres_cluster.create_database()
    dagster_db = postgres_cluster.create_database().rsplit("/", 1)[1]
    home = tmp_path / "dagster"
    home.mkdir()
    (home / "dagster.yaml").write_text(postgres_cluster.dagster_home_yaml(dagster_db))
    first, last = sandbox.today - timedelta(days=20), sandbox.today - timedelta(days=1)
    env = {**os.environ, **pipeline_env(sandbox, tmp_path), "COFASERVE_CONTRACT_START": first.isoformat(),
           "PYTHONPATH": str(ROOT), "WAREHOUSE_URL": warehouse_url, "DAGSTER_HOME": str(home)}

    extract = execute(env, "nightly_extract", partition_range_tags(first, last))
    assert extract.returncode == 0, extract.stdout[-3000:] + extract.stderr[-3000:]
    assert "Multiprocess executor: parent process exiting" in extract.stdout + extract.stderr
    models = execute(env, "refresh_models")
    assert models.returncode == 0, models.stdout[-3000:] + models.stderr[-3000:]

    days = [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        for stream in DAILY_STREAMS:
            assert sorted(instance.get_materialized_partitions(dg.AssetKey(stream))) == days, stream
        runs = instance.get_runs()
        assert {r.job_name for r in runs} == {"nightly_extract", "refresh_models"}
        assert all(r.is_success for r in runs)
    window = [n for n in sandbox.truth("notifications") if days[0] <= n["eventDate"][:10] <= days[-1]]
    with psycopg.connect(warehouse_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        assert conn.execute("select count(*) from staging.stg_notifications").fetchone()[0] == len(window) > 0
        assert conn.execute("select count(*) from marts.current_portfolio").fetchone()[0] > 0

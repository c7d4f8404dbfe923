"""The batched local event log (pipelines/event_storage.py) records a range run's materializations and
planned checks as Dagster's own SQLite storage does: same partitions materialized, same latest events and
metadata, same check executions."""

import dagster as dg
import pytest
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

from pipelines.cli import ensure_dagster_home
from pipelines.event_storage import BatchedSqliteEventLogStorage

DAYS = dg.DailyPartitionsDefinition(start_date="2026-01-01", end_date="2026-03-01")


@dg.asset(partitions_def=DAYS, backfill_policy=dg.BackfillPolicy.single_run(),
          check_specs=[dg.AssetCheckSpec("has_rows", asset="daily")])
def daily(context: dg.AssetExecutionContext):
    for key in context.partition_keys:
        context.add_asset_metadata({"dagster/row_count": int(key[-2:])}, partition_key=key)
    return dg.MaterializeResult(metadata={"run_days": len(context.partition_keys)},
                                check_results=[dg.AssetCheckResult(check_name="has_rows", passed=True)])


@dg.asset
def other():
    return dg.MaterializeResult(metadata={"rows": 3})


JOB = dg.define_asset_job("both", selection=[daily, other])
DEFS = dg.Definitions(assets=[daily, other], jobs=[JOB])


def run_range(instance) -> dg.ExecuteInProcessResult:
    tags = {"dagster/asset_partition_range_start": "2026-01-01", "dagster/asset_partition_range_end": "2026-02-28"}
    return DEFS.resolve_job_def("both").execute_in_process(instance=instance, tags=tags,
                                                          asset_selection=[dg.AssetKey("daily")])


@pytest.fixture
def instances(tmp_path, monkeypatch):
    batched_home, plain_home = tmp_path / "batched", tmp_path / "plain"
    ensure_dagster_home(batched_home)  # the project's template: the batched storage
    plain_home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(batched_home))
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", "1000")
    with dg.DagsterInstance.from_config(str(batched_home)) as batched, \
            dg.DagsterInstance.from_config(str(plain_home)) as plain:
        yield batched, plain


def test_the_project_home_uses_the_batched_storage_in_the_default_place(instances, tmp_path):
    batched, plain = instances
    assert type(batched.event_log_storage) is BatchedSqliteEventLogStorage
    assert type(plain.event_log_storage) is SqliteEventLogStorage
    assert batched.event_log_storage._base_dir == str(tmp_path / "batched" / "history" / "runs")


def test_a_range_run_reads_back_as_with_dagster_s_own_storage(instances, monkeypatch):
    batched, plain = instances
    batches = []
    store = BatchedSqliteEventLogStorage._store_materializations
    monkeypatch.setattr(BatchedSqliteEventLogStorage, "_store_materializations",
                        lambda self, events: (batches.append(len(events)), store(self, events)))
    for instance in (batched, plain):
        assert run_range(instance).success
    key = dg.AssetKey("daily")
    expected_days = DAYS.get_partition_keys()[:59]
    for instance in (batched, plain):
        assert sorted(instance.get_materialized_partitions(key)) == expected_days
        latest = instance.get_latest_materialization_event(key).asset_materialization
        assert latest.partition == "2026-02-28" and latest.metadata["dagster/row_count"].value == 28
        records = instance.fetch_materializations(key, limit=100).records
        assert len(records) == 59
        entry = instance.get_asset_records([key])[0].asset_entry  # the asset's row: its last materialization
        assert entry.last_materialization_record.storage_id == max(r.storage_id for r in records)
        assert entry.last_run_id == records[0].run_id
        assert {r.partition_key: r.asset_materialization.metadata["dagster/row_count"].value
                for r in records} == {day: int(day[-2:]) for day in expected_days}
    assert batches and sum(batches) == 59 and max(batches) > 1  # stored together, not one by one
    run = batched.get_runs(limit=1)[0]
    kinds = [e.dagster_event_type for e in batched.all_logs(run.run_id) if e.is_dagster_event]
    assert kinds.count(dg.DagsterEventType.ASSET_MATERIALIZATION) == 59
    assert kinds[-1] == dg.DagsterEventType.RUN_SUCCESS


def test_planned_checks_are_recorded_as_with_dagster_s_own_storage(instances):
    check_key = dg.AssetCheckKey(dg.AssetKey("daily"), "has_rows")
    executions = []
    for instance in instances:
        assert run_range(instance).success
        records = instance.event_log_storage.get_asset_check_execution_history(check_key, limit=1000)
        executions.append(sorted(((r.partition, r.status.value, r.event.dagster_event_type.value) for r in records), key=repr))
    batched, plain = executions
    planned = [row[0] for row in batched if row[2] == "ASSET_CHECK_EVALUATION_PLANNED"]
    assert sorted(planned) == DAYS.get_partition_keys()[:59]  # one planned row per day of the run
    assert batched == plain

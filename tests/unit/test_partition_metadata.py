"""add_partitions_metadata attaches per-partition figures exactly as Dagster's add_asset_metadata does one
by one, and refuses a partition the run does not target."""

import dagster as dg
import pytest

from assets.partition_metadata import add_partitions_metadata

DAYS = dg.DailyPartitionsDefinition(start_date="2026-01-01", end_date="2026-03-01")
RANGE = {"dagster/asset_partition_range_start": "2026-01-01", "dagster/asset_partition_range_end": "2026-01-31"}


def figures(key: str) -> dict:
    return {"dagster/row_count": int(key[-2:]), "rows_quarantined": int(key[-2:]) % 3}


@dg.multi_asset(specs=[dg.AssetSpec("bulk"), dg.AssetSpec("one_by_one")], partitions_def=DAYS,
                backfill_policy=dg.BackfillPolicy.single_run())
def both(context: dg.AssetExecutionContext):
    bulk, one_by_one = dg.AssetKey("bulk"), dg.AssetKey("one_by_one")
    context.add_asset_metadata({"dagster/row_count": -1, "kept": "yes"}, asset_key=bulk, partition_key="2026-01-02")
    add_partitions_metadata(context, bulk, {key: figures(key) for key in context.partition_keys})
    for key in context.partition_keys:
        context.add_asset_metadata(figures(key), asset_key=one_by_one, partition_key=key)
    context.add_asset_metadata({"kept": "yes"}, asset_key=one_by_one, partition_key="2026-01-02")
    yield dg.MaterializeResult(asset_key=bulk)
    yield dg.MaterializeResult(asset_key=one_by_one)


@dg.asset(partitions_def=DAYS, backfill_policy=dg.BackfillPolicy.single_run())
def outside(context: dg.AssetExecutionContext):
    add_partitions_metadata(context, dg.AssetKey("outside"), {"2026-01-01": {"a": 1}, "2026-02-15": {"a": 2}})


def metadata_by_partition(instance, name: str) -> dict:
    records = instance.fetch_materializations(dg.AssetKey(name), limit=100).records
    return {r.partition_key: {k: v.value for k, v in r.asset_materialization.metadata.items()} for r in records}


def test_bulk_metadata_equals_dagster_s_one_by_one():
    with dg.instance_for_test() as instance:
        result = dg.materialize([both], instance=instance, tags=RANGE)
        assert result.success
        bulk, one_by_one = metadata_by_partition(instance, "bulk"), metadata_by_partition(instance, "one_by_one")
    assert len(bulk) == 31 and bulk == one_by_one
    assert bulk["2026-01-02"] == {"dagster/row_count": 2, "rows_quarantined": 2, "kept": "yes"}  # merged


def test_a_partition_outside_the_run_is_refused():
    with dg.instance_for_test() as instance:
        with pytest.raises(dg.DagsterInvariantViolationError, match="2026-02-15"):
            dg.materialize([outside], instance=instance, tags=RANGE)

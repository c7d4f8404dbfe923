"""The warehouse through Dagster: every table asset reports its own row count and column schema, and carries
one check per (check, table) of the catalog, with the check's severity."""

import dagster as dg
import sqlalchemy as sa

from assets.warehouse import check_result, warehouse_assets
from resources.io_resources import LandingResource, WarehouseResource
from resources.landing import LandingStore
from resources.warehouse.checks import CATALOG, CheckResult
from tests.support.policies import TEST_POLICY
from tests.support.scenario import NIGHTS


def materialize(tmp_path, after_build=None):
    store = LandingStore(str(tmp_path / "landing"), policy=TEST_POLICY)
    for night in NIGHTS:
        night(store)
    url = f"duckdb:///{tmp_path}/wh.duckdb"
    resources = {"landing": LandingResource(root=str(tmp_path / "landing"), policy_number=TEST_POLICY),
                 "warehouse": WarehouseResource(url=url)}
    return dg.materialize(warehouse_assets(), resources=resources, instance=dg.DagsterInstance.ephemeral(),
                          raise_on_error=False), url


def test_each_table_reports_its_row_count_and_column_schema(tmp_path):
    result, url = materialize(tmp_path)
    assert result.success
    by_table = {e.materialization.asset_key.path[-1]: e.materialization.metadata
                for e in result.get_asset_materialization_events()}
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        histories = conn.execute(sa.text("select count(*) from history.decision_history")).scalar()
        numbers = set(conn.execute(sa.text("select easy_number from history.decision_history")).scalars())
    assert by_table["decision_history"]["dagster/row_count"].value == histories > 0
    columns = [c.name for c in by_table["decision_history"]["dagster/column_schema"].value.columns]
    assert columns[:3] and "valid_from" in columns and "is_current" in columns
    assert all(m["dagster/column_schema"].value.columns for m in by_table.values())
    preview = by_table["decision_history"]["preview"].value  # the first rows, for a look from the UI
    assert 0 < len(preview.records) <= 5
    assert {r.data["easy_number"] for r in preview.records} <= numbers
    assert "preview" not in by_table["cover_daily"]  # views: one select away, not computed at each build


def test_each_check_lands_on_its_own_table_with_its_severity(tmp_path):
    result, _ = materialize(tmp_path)
    evaluations = {(e.asset_key.path[-1], e.check_name): e for e in result.get_asset_check_evaluations()}
    assert set(evaluations) == {(d.table, d.check) for d in CATALOG}
    for declared in CATALOG:
        evaluation = evaluations[(declared.table, declared.check)]
        assert evaluation.passed, (declared, evaluation.metadata)
        assert evaluation.severity == (dg.AssetCheckSeverity.WARN if declared.severity == "warn"
                                       else dg.AssetCheckSeverity.ERROR)
    specs = list(warehouse_assets()[0].check_specs)
    assert len(specs) == len(CATALOG) and all(spec.description for spec in specs)


def test_a_failing_warning_is_a_warning_of_its_own_table_only():
    failing = CheckResult(check="notifications_have_decisions", table="notification_events", passed=False,
                          failing=2, detail="every notification's delivery is in decision_history", severity="warn",
                          sample=[{"notification_id": "N1"}])
    result = check_result(failing, dg.AssetKey(["marts", "notification_events"]))
    assert (result.passed, result.severity) == (False, dg.AssetCheckSeverity.WARN)
    assert result.asset_key == dg.AssetKey(["marts", "notification_events"])
    assert result.metadata["failing_rows"].value == 2

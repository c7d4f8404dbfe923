"""Each warehouse check passes on a correct build and fails, with the offending rows, on a broken one."""

import pytest
import sqlalchemy as sa

from resources.warehouse.dialects import make_engine
from tests.support.landing_builder import ts
from tests.support.policies import TEST_POLICY
from tests.support.postgres import postgres_cluster  # noqa: F401  (session fixture)
from tests.support.scenario import scenario_warehouse

BREAKAGES = {
    # a second current version of 100 × CREDITLIMIT, overlapping the first
    "one_current_version[decision_history]": (
        "insert into history.decision_history (easy_number, product_code, policy_number, version_no, valid_from, "
        "is_current, change_kind, recorded_at, delivery_id) "
        "values ('100', 'CREDITLIMIT', :policy, 9, :at, true, 'observed', :at, 'DX')"
    ),
    "no_overlapping_validity[order_history]": (
        "update history.order_history set valid_to = :at where order_id = 'O7' and version_no = 1"
    ),
    "temporary_numbers_mapped[easy_number_map]": "delete from history.easy_number_map",
    "row_counts_reconcile[decision_history]": "delete from history.decision_history where delivery_id = 'D1'",
    "row_counts_reconcile[overdue_history]": "delete from history.overdue_history",
    "notifications_have_decisions[notification_events]": "delete from history.decision_history where delivery_id = 'D3'",
    # the policy in a currency no FX rate converts the EUR amounts into (no FX file)
    "fx_rates_cover_amounts[current_portfolio]": "update staging.stg_policies set currency = 'USD'",
    "unique_notifications[notification_events]": (
        "insert into staging.stg_notifications (source_partition, policy_number, source_run_id, extracted_at, "
        "notification_id) values ('2025-01-09', :policy, 'x', :at, 'ND1')"
    ),
}


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def built(request, tmp_path):
    """A warehouse built from the whole scenario, and its URL (for direct edits)."""
    url = (f"duckdb:///{tmp_path}/wh.duckdb" if request.param == "duckdb"
           else request.getfixturevalue("postgres_cluster").create_database())
    warehouse, _ = scenario_warehouse(url, tmp_path)
    return warehouse, url


def test_every_check_passes_on_a_correct_build(built):
    warehouse, _ = built
    results = warehouse.checks()
    assert len({r.name for r in results}) == len(results), "check names are unique"
    assert {r.name for r in results} >= set(BREAKAGES)
    assert [r.name for r in results if not r.passed] == []


@pytest.mark.parametrize("check", sorted(BREAKAGES))
def test_a_broken_invariant_is_reported_with_its_rows(built, check):
    warehouse, url = built
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(BREAKAGES[check]), {"at": ts("2025-01-03 00:00"), "policy": TEST_POLICY})
    engine.dispose()
    result = {r.name: r for r in warehouse.checks()}[check]  # related checks may fail too
    assert not result.passed and result.failing >= 1 and result.sample

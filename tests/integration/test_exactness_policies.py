"""Exactness on an account of two policies with shared buyers (see test_exactness.py for the rules): each
policy's history in the warehouse equals that policy's truth, night after night under faults and late
records, and a buyer both policies cover keeps a history under each."""

from __future__ import annotations

import shutil
from datetime import date, timedelta

import pytest

from sandbox.testing import run_sandbox_process
from tests.support.exactness import NightlyDriver, compare_with_truth
from tests.support.scratch import scratch_dir

pytestmark = [pytest.mark.slow, pytest.mark.timeout(3600)]

TODAY = date(2026, 11, 23)
NIGHTS = 4
CONTRACT_DAYS = 40
# mild faults, damaged records (each quarantined in its own policy's zone) and late records
FAULTS = {"preset": "mild", "revoke_rate": 0.003, "malformed_rate": 0.01, "late_rate": 0.05, "late_hours": 40}
OPENING = ["revoke", "503", "cut", "429", "500"]


@pytest.fixture(scope="module")
def two_policy_run():
    root = scratch_dir("exactness-policies-")
    try:
        with run_sandbox_process(seed=11, companies=150, today=TODAY, policies=2) as sb:
            driver = NightlyDriver(sb, root, f"duckdb:///{root}/warehouse.duckdb",
                                   contract_start=TODAY - timedelta(days=CONTRACT_DAYS))
            sb.set_faults({**FAULTS, "queue": OPENING})
            driver.sync()
            for night in range(1, NIGHTS + 1):
                driver.advance()
                sb.set_faults({**FAULTS, "queue": OPENING})
                driver.sync(snapshot=night in (2, NIGHTS))
            yield driver, sb.counters()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_each_policy_s_history_equals_its_truth(two_policy_run):
    driver, counters = two_policy_run
    assert len(driver.sb.policies) == 2 and counters["login"]["lockouts"] == 0
    report = compare_with_truth(driver)
    assert report.ok, report.describe()
    counts = report.counts
    assert counts["decision_versions"] > counts["decision_keys"] > 100, counts
    assert counts["order_versions"] > counts["orders"] > 10 and counts["snapshots"] >= 2, counts
    assert counts["malformed_served"] >= 1 and counts["quarantined_rows"] >= counts["malformed_served"], counts


def test_a_buyer_both_policies_cover_has_a_history_under_each(two_policy_run):
    driver, _ = two_policy_run
    shared = driver.warehouse().query(
        "select easy_number, product_code, count(distinct policy_number) as policies, "
        "count(distinct amount_value) as amounts from history.decision_history "
        "where change_kind = 'observed' group by easy_number, product_code having count(distinct policy_number) = 2")
    assert shared, "the two-policy world shares no buyer and product between its policies"
    assert any(row["amounts"] > 1 for row in shared), shared[:5]
    zones = {store.policy for store in (driver.store(p) for p in driver.sb.policies)
             if store.manifests("deliveries")}
    assert zones == set(driver.sb.policies)

"""Two policies on one account, synced as a user runs it: `cofasync sync` lands each policy in its own zone
within the account's one budget, and the warehouse keeps the policies apart in every table: a buyer covered
under both, decided differently under each, shows both decisions side by side."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from sandbox.testing import run_sandbox_process
from tests.fixtures.make_single_policy_zone import env_for

TODAY = date(2026, 11, 23)
START = TODAY - timedelta(days=30)
COFASYNC = str(Path(sys.executable).with_name("cofasync"))


def _env(handle, folder: Path, **extra) -> dict[str, str]:
    return env_for(handle, folder, TODAY, START, **extra)


def _run(env, *args) -> subprocess.CompletedProcess:
    return subprocess.run([COFASYNC, *args], env=env, capture_output=True, text=True, timeout=900)


def _rows(folder: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True) as conn:
        return conn.execute(sql).fetchall()


@pytest.fixture(scope="module")
def two_policies(tmp_path_factory):
    folder = tmp_path_factory.mktemp("two-policies")
    with run_sandbox_process(companies=150, today=TODAY, policies=2) as handle:
        result = _run(_env(handle, folder), "sync")
        status = _run(_env(handle, folder), "status")
        yield handle, folder, result, status


def test_each_policy_lands_in_its_own_zone_and_status_shows_both(two_policies):
    handle, folder, result, status = two_policies
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert len(handle.policies) == 2
    for policy in handle.policies:
        assert (folder / "landing" / f"policy={policy}" / "_manifests" / "deliveries").is_dir(), policy
        assert f"policy {policy}" in status.stdout
    assert "due (run" not in status.stdout, status.stdout


def test_a_buyer_decided_under_both_policies_shows_both_decisions_side_by_side(two_policies):
    handle, folder, result, _ = two_policies
    assert result.returncode == 0
    first, second = handle.policies
    both = _rows(folder, f"""
        select a.easy_number, a.product_code, a.amount_value, a.amount_currency, b.amount_value, b.amount_currency
        from marts.current_portfolio as a
        inner join marts.current_portfolio as b
            on b.easy_number = a.easy_number and b.product_code = a.product_code
        where a.policy_number = '{first}' and b.policy_number = '{second}'""")  # noqa: S608
    assert both, "the two-policy world shares no buyer in force under both policies"
    differing = [row for row in both if (row[2], row[3]) != (row[4], row[5])]
    assert differing, both[:5]
    easy_number, product = differing[0][:2]
    versions = _rows(folder, f"""
        select policy_number, amount_value, amount_currency from history.decision_history
        where easy_number = '{easy_number}' and product_code = '{product}' and is_current""")  # noqa: S608
    assert {v[0] for v in versions} == {first, second}
    # each policy's current decision is the one that policy's truth holds
    for policy, value, currency in versions:
        truth = [d for d in handle.truth("deliveries", policy)
                 if d["easyNumber"] == easy_number and d["productCode"] == product]
        assert truth, (policy, easy_number)
        amount = max(truth, key=lambda d: d["decisionDate"]).get("amount") or {}
        assert (amount.get("value"), amount.get("currency")) == (float(value), currency), (policy, amount)


def test_a_restricted_sync_lands_only_the_policies_named(two_policies, tmp_path):
    handle, _, _, _ = two_policies
    second = handle.policies[1]
    result = _run(_env(handle, tmp_path, COFASERVE_POLICIES=second), "sync")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    zones = sorted(p.name for p in (tmp_path / "landing").iterdir() if p.name.startswith("policy="))
    assert zones == [f"policy={second}"]
    assert _rows(tmp_path, "select distinct policy_number from history.decision_history") == [(second,)]

"""A landing zone written before policies were kept apart upgrades in place: `cofasync sync` moves it under
its policy's folder without extracting a landed day again, and builds the warehouse a fresh sync builds.

The zone is ``tests/fixtures/single_policy_zone.tar.gz``, made by the previous release's code with
``tests/fixtures/make_single_policy_zone.py`` (its docstring says how).
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
from pathlib import Path

import duckdb
import pytest

from sandbox.testing import run_sandbox_process
from tests.fixtures.make_single_policy_zone import COMPANIES, SEED, TODAY, env_for

FIXTURE = Path(__file__).parents[1] / "fixtures" / "single_policy_zone.tar.gz"
COFASYNC = str(Path(sys.executable).with_name("cofasync"))
LANDED_DAILY = ("/notifications", "/portfolio", "/deliveries", "/orders", "/overdues")
# what differs between two syncs of one world at different wall-clock times
EXTRACTION_TIMES = {"recorded_at", "extracted_at", "resolved_at", "source_run_id"}


def _sync(env) -> subprocess.CompletedProcess:
    return subprocess.run([COFASYNC, "sync"], env=env, capture_output=True, text=True, timeout=600)


def _history(folder: Path, table: str) -> list[tuple]:
    with duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True) as conn:
        columns = [c for (c,) in conn.execute(
            "select column_name from information_schema.columns where table_schema = 'history' "
            "and table_name = ? order by ordinal_position", [table]).fetchall() if c not in EXTRACTION_TIMES]
        if table == "company_history":  # a company's versions are timed by the extraction that saw them
            columns = [c for c in columns if c not in ("valid_from", "valid_to")]
        listed = ", ".join(f'"{c}"' for c in columns)
        return sorted(conn.execute(f"select {listed} from history.{table}").fetchall(), key=repr)  # noqa: S608


@pytest.fixture(scope="module")
def upgraded(tmp_path_factory):
    old, fresh = tmp_path_factory.mktemp("upgraded"), tmp_path_factory.mktemp("fresh")
    with tarfile.open(FIXTURE) as archive:
        archive.extractall(old, filter="data")
    with run_sandbox_process(seed=SEED, companies=COMPANIES, today=TODAY) as handle:
        handle.reset_counters()
        result = _sync(env_for(handle, old))
        calls = handle.counters()
        baseline = _sync(env_for(handle, fresh))
        yield handle, old, fresh, result, calls, baseline


def test_the_zone_moves_under_its_policy_and_no_landed_day_is_extracted_again(upgraded):
    handle, old, _, result, calls, _ = upgraded
    assert result.returncode == 0, result.stdout + result.stderr
    assert "every day up to yesterday has landed" in result.stdout
    policy_dir = old / "landing" / f"policy={handle.credentials['policy_number']}"
    assert (policy_dir / "notifications").is_dir() and (policy_dir / "_manifests" / "deliveries").is_dir()
    assert not (old / "landing" / "notifications").exists() and not (old / "landing" / "_manifests").exists()
    daily_calls = {route: n for route, n in calls["byEndpoint"].items() if route.endswith(LANDED_DAILY)}
    assert calls["requests"] > 0 and not any(daily_calls.values()), calls["byEndpoint"]


@pytest.mark.parametrize("table", ["decision_history", "order_history", "overdue_history", "company_history",
                                   "customer_reference_history", "easy_number_map"])
def test_the_upgraded_warehouse_is_the_one_a_fresh_sync_builds(upgraded, table):
    handle, old, fresh, result, _, baseline = upgraded
    assert result.returncode == 0 and baseline.returncode == 0, baseline.stdout + baseline.stderr
    rows = _history(old, table)
    assert rows == _history(fresh, table)
    if table not in ("easy_number_map", "overdue_history"):  # the small world may have no such row
        assert rows, f"the world lands no {table} row: the comparison would prove nothing"


def test_the_reference_list_landed_before_lists_were_kept_daily_is_still_read(upgraded):
    _, old, _, result, _, _ = upgraded
    assert result.returncode == 0, result.stdout + result.stderr
    with duckdb.connect(str(old / "warehouse.duckdb"), read_only=True) as conn:
        partitions = [p for (p,) in conn.execute(
            "select distinct source_partition from staging.stg_customer_references order by 1").fetchall()]
    assert partitions == [TODAY.isoformat(), "current"]  # the old list and the one this sync landed

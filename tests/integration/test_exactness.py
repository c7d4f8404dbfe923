"""Invariant 5, exactness, proved against the sandbox's ground truth on DuckDB and on Postgres.

One run (module fixture): a sandbox of 200 companies with faults on every night (5xx bursts, 429 storms,
cut connections, token revocations, malformed records, decisions and overdue versions the lists show
late); `cofasync sync` backfills the contract's window
(a contract started CONTRACT_DAYS ago, so the test stays short: the full two-year backfill is proved by
`make soak`), then the clock advances night by night for NIGHTS nights, each followed by the nightly sync, with
reconciliation snapshots in between and at the end. One landing zone feeds two warehouses: DuckDB, built
by the nightly sync itself, and Postgres, built by a second `cofasync sync` of the same night with
`WAREHOUSE_URL` pointing at a throwaway cluster (tests/support/postgres.py; skipped where PostgreSQL is
absent).

The history tables must then equal what the API exposed, exactly: the rules are in
`tests/support/exactness/oracle.py`'s module docstring (decisions, closing rows, orders as seen at the
nightly polls, overdue versions, the EASY number map, recording nights, quarantine). Nothing is tolerated.
"""

from __future__ import annotations

import copy
import shutil
from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from sandbox.testing import run_sandbox_process
from tests.support.exactness import NightlyDriver, Truth, compare, compare_with_truth
from tests.support.postgres import postgres_cluster  # noqa: F401  (session fixture, asked for only when selected)
from tests.support.scratch import scratch_dir

pytestmark = [pytest.mark.slow, pytest.mark.timeout(3600)]

TODAY = date(2026, 11, 23)
NIGHTS = 7
CONTRACT_DAYS = 60
SNAPSHOT_NIGHTS = {5, NIGHTS}
# late visibility too: a share of decisions and overdue versions shows in the dated lists up to 40 h late,
# which the settling window (3 nights) catches
FAULTS = {"preset": "mild", "revoke_rate": 0.003, "malformed_rate": 0.01, "late_rate": 0.05, "late_hours": 40}
# each night begins with one fault of every kind, so that every kind is met whatever the random draws
OPENING = ["revoke", "503", "cut", "429", "500"]


def _postgres_url(request) -> tuple[str | None, str]:
    """A fresh Postgres database when the Postgres test is selected and the binaries exist."""
    selected = any(item.get_closest_marker("postgres") and item.module is request.module
                   for item in request.session.items)
    if not selected:
        return None, "the Postgres test is not selected"
    try:
        cluster = request.getfixturevalue("postgres_cluster")
    except pytest.skip.Exception as exc:
        return None, str(exc)
    return cluster.create_database(), ""


@dataclass
class ExactRun:
    driver: NightlyDriver
    truth: Truth
    counters: dict
    postgres_url: str | None
    postgres_skip: str


@pytest.fixture(scope="module")
def exact_run(request):
    postgres_url, postgres_skip = _postgres_url(request)
    root = scratch_dir("exactness-")
    try:
        with run_sandbox_process(seed=42, companies=200, today=TODAY, faults="none") as sb:
            driver = NightlyDriver(sb, root, f"duckdb:///{root}/warehouse.duckdb",
                                   followers=[postgres_url] if postgres_url else [],
                                   contract_start=TODAY - timedelta(days=CONTRACT_DAYS))
            sb.set_faults({**FAULTS, "queue": OPENING})
            driver.sync()  # the first night: the backfill of the contract's window
            for night in range(1, NIGHTS + 1):
                driver.advance()
                sb.set_faults({**FAULTS, "queue": OPENING})
                driver.sync(snapshot=night in SNAPSHOT_NIGHTS)
            yield ExactRun(driver, Truth.load(sb), sb.counters(), postgres_url, postgres_skip)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_the_run_backfilled_the_window_and_met_every_fault(exact_run):
    driver, counters = exact_run.driver, exact_run.counters
    first = driver.nights[0]
    assert first.days[0] == TODAY - timedelta(days=CONTRACT_DAYS) and first.days[-1] == TODAY - timedelta(days=1)
    assert [n.today for n in driver.nights] == [TODAY + timedelta(days=i) for i in range(NIGHTS + 1)]
    faults = counters["faults"]
    for kind in ("error", "throttle", "cut", "revoke"):
        assert faults.get(kind, 0) >= NIGHTS, (kind, faults)
    assert counters["malformedServed"] > 0 and exact_run.truth.malformed
    assert counters["login"]["lockouts"] == 0 and counters["login"]["failures"] == 0


def test_duckdb_history_equals_the_truth(exact_run):
    report = compare_with_truth(exact_run.driver, exact_run.truth)
    assert report.ok, report.describe()
    _assert_not_vacuous(report.counts)


@pytest.mark.postgres
def test_postgres_history_equals_the_truth(exact_run):
    if exact_run.postgres_url is None:
        pytest.skip(f"PostgreSQL unavailable: {exact_run.postgres_skip}")
    report = compare_with_truth(exact_run.driver, exact_run.truth, exact_run.postgres_url)
    assert report.ok, report.describe()
    _assert_not_vacuous(report.counts)


def _assert_not_vacuous(counts: dict) -> None:
    """The world exercised what the rules are about: several versions per key, closings by age,
    decisions a snapshot's listing could not show yet (never closed as deleted), decisions the lists
    showed late (landed by the settling window), resolved temporary
    numbers, orders seen in several states, customer references, quarantined damage."""
    assert counts["decision_versions"] > counts["decision_keys"] > 100, counts
    assert counts["aged_out"] >= 1 and counts["snapshots"] >= 3, counts
    assert counts["not_shown_yet"] >= 1, counts
    assert counts["shown_late"] >= 1, counts
    assert counts["order_versions"] > counts["orders"] > 10, counts
    assert counts["overdue_versions"] >= counts["overdues"] > 10, counts
    assert counts["links"] >= 5, counts
    assert counts["reference_versions"] >= 10, counts  # (erasures are rare in a week: the soak meets some)
    assert counts["malformed_served"] >= 1 and counts["quarantined_rows"] >= counts["malformed_served"], counts


def test_the_comparison_catches_each_kind_of_error(exact_run):
    """The comparison is not blind: each plausible warehouse error, applied to what was built, is found."""
    report = compare_with_truth(exact_run.driver, exact_run.truth)
    expected, actual = report.expected, report.actual

    def found(mutate) -> list:
        tampered = copy.deepcopy(actual)
        key = mutate(tampered)
        return [d for d in compare(expected, tampered).discrepancies
                if d.key == key or (isinstance(d.key, tuple) and len(d.key) == 2 and d.key[0] == key)]

    keys = [k for k, rows in actual.decisions.items() if len(rows) >= 2 and rows[0]["row"] == "version"]
    aged = [k for k, rows in actual.decisions.items() if any(r["change_kind"] == "aged_out" for r in rows)]
    orders = [k for k, rows in actual.orders.items() if len(rows) >= 2]
    assert keys and aged and orders and actual.links and actual.overdues

    def drop_version(t):
        t.decisions[keys[0]].pop(0)
        return keys[0]

    def deleted_instead_of_aged_out(t):
        for row in t.decisions[aged[0]]:
            if row["change_kind"] == "aged_out":
                row["change_kind"] = "deleted"
        return aged[0]

    def shifted_validity(t):
        t.decisions[keys[1 % len(keys)]][0]["valid_to"] += timedelta(seconds=1)
        return keys[1 % len(keys)]

    def duplicated_order_state(t):
        t.orders[orders[0]].append(dict(t.orders[orders[0]][-1]))
        return orders[0]

    def unresolved_number(t):
        z = sorted(t.links)[0]
        del t.links[z]
        return z

    def recorded_a_night_late(t):
        overdue = sorted(t.overdues)[0]
        t.overdues[overdue][0]["recorded_at"] += timedelta(days=1)
        return overdue

    for mutate in (drop_version, deleted_instead_of_aged_out, shifted_validity, duplicated_order_state,
                   unresolved_number, recorded_a_night_late):
        assert found(mutate), mutate.__name__

"""Warehouse builds from a real landing zone, on DuckDB and Postgres.

Invariant 4: the warehouse is a function of the landing zone. Building night after night
(incrementally) gives exactly the tables a full rebuild of the final landing zone gives; staging reads
only the current run of each partition; the checks pass on what was built.
"""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from resources.landing import LandingStore
from resources.warehouse import Warehouse
from resources.warehouse.models import load_models
from resources.warehouse.sql import compose
from tests.support.landing_builder import land, ts
from tests.support.policies import TEST_POLICY
from tests.support.postgres import postgres_cluster  # noqa: F401  (session fixture)
from tests.support.scenario import COMPANY as COMPANY_ROW
from tests.support.scenario import NIGHTS, delivery_row, listing_row


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def warehouse_urls(request, tmp_path):
    """A factory of fresh, empty warehouse URLs on the parametrized engine."""
    if request.param == "duckdb":
        names = iter(range(100))
        return lambda: f"duckdb:///{tmp_path}/wh{next(names)}.duckdb"
    cluster = request.getfixturevalue("postgres_cluster")
    return cluster.create_database


def _sort_key(row):
    return tuple((value is None, str(value)) for value in row.values())


BUILD_COLUMNS = ("last_build_id", "last_build_at", "last_build_full_refresh", "last_build_seconds")
"""sync_status's columns describing the last build itself: which build and how long it took differ by design."""


def snapshot(warehouse: Warehouse) -> dict[str, list[dict]]:
    """Every model's rows (but the columns describing the build itself), in a canonical order."""
    def rows(model):
        found = warehouse.query(compose("select * from {name}", name=model.qualified))
        return sorted(({k: v for k, v in row.items() if k not in BUILD_COLUMNS} for row in found), key=_sort_key)
    return {m.name: rows(m) for m in load_models()}


def test_incremental_nights_equal_one_full_rebuild(tmp_path, warehouse_urls):
    store = LandingStore(str(tmp_path / "landing"), policy=TEST_POLICY)
    nightly = Warehouse(warehouse_urls())
    reports = []
    for night in NIGHTS:
        night(store)
        reports.append(nightly.build(store))
    assert reports[0].full_refresh and not any(r.full_refresh for r in reports[1:])
    assert reports[1].partitions_loaded == {"deliveries": 1, "portfolio": 1, "orders": 1, "notifications": 1,
                                            "overdues": 1}
    # night 2 recomputes decisions of the companies it touched (100, 700 and its temporary Z7), not 200's
    assert reports[1].scopes["decision_history"] == 3

    rebuilt = Warehouse(warehouse_urls())
    rebuilt.build(store, full_refresh=True)
    assert snapshot(nightly) == snapshot(rebuilt)

    again = nightly.build(store)  # nothing landed since: nothing loaded, nothing recomputed, same tables
    assert again.partitions_loaded == {} and set(again.scopes.values()) == {0}
    assert snapshot(nightly) == snapshot(rebuilt)
    nightly.build(store, full_refresh=True)
    assert snapshot(nightly) == snapshot(rebuilt)


def test_scenario_history_is_what_the_api_exposed(tmp_path, warehouse_urls):
    store = LandingStore(str(tmp_path / "landing"), policy=TEST_POLICY)
    warehouse = Warehouse(warehouse_urls())
    for night in NIGHTS:
        night(store)
        warehouse.build(store)
    decisions = warehouse.query(
        "select easy_number, product_code, version_no, change_kind, delivery_id, amount_value, valid_to "
        "from history.decision_history order by easy_number, product_code, version_no")
    assert [(r["easy_number"], r["product_code"], r["version_no"], r["change_kind"], r["delivery_id"])
            for r in decisions] == [
        ("100", "CREDITLIMIT", 1, "observed", "D1"),
        ("100", "CREDITLIMIT", 2, "observed", "D3"),
        ("200", "CREDITLIMIT", 1, "observed", "D2"),
        ("200", "CREDITLIMIT", 2, "deleted", None),
        ("700", "ECL", 1, "observed", "D7"),
    ]
    assert decisions[2]["amount_value"] == Decimal("2500")  # the re-run's value, not the superseded run's
    # closed from the instant the snapshot's listing shows (its day 00:00Z), not from its extraction (03:00)
    assert decisions[2]["valid_to"] == ts("2025-01-05 00:00")
    assert warehouse.query("select temporary_easy_number, easy_number from history.easy_number_map") == [
        {"temporary_easy_number": "Z7", "easy_number": "700"}]
    orders = warehouse.query("select order_id, easy_number, status, change_kind from history.order_history "
                             "order by order_id, version_no")
    assert orders == [
        {"order_id": "O7", "easy_number": "700", "status": "STATUS_PENDING_DEBTOR_VALIDATION", "change_kind": "observed"},
        {"order_id": "O7", "easy_number": "700", "status": "STATUS_CLOSED", "change_kind": "closed"},
        {"order_id": "O8", "easy_number": "200", "status": "STATUS_PENDING_UNDERWRITING", "change_kind": "observed"},
        {"order_id": "O8", "easy_number": "200", "status": "STATUS_ANNULED", "change_kind": "annulled"},
    ]
    names = warehouse.query("select company_name, customer_reference, valid_from from history.company_history "
                            "where easy_number = '100' order by version_no")
    assert [tuple(r.values()) for r in names] == [  # renamed, then given a reference (night 4's list)
        ("ACME", None, ts("2025-01-02 02:00")), ("ACME HOLDING", None, ts("2025-01-04 03:00")),
        ("ACME HOLDING", "C-100", ts("2025-01-04 08:00"))]
    portfolio = warehouse.query("select easy_number, product_code, amount_value from marts.current_portfolio "
                                "order by easy_number")
    assert portfolio == [{"easy_number": "100", "product_code": "CREDITLIMIT", "amount_value": Decimal("600")},
                         {"easy_number": "700", "product_code": "ECL", "amount_value": Decimal("700")}]
    failed = [c for c in warehouse.checks() if not c.passed]
    assert failed == []


def test_a_decision_the_snapshot_could_not_show_yet_is_not_closed_by_it(tmp_path, warehouse_urls):
    """The API lists what happened before its today 00:00Z. A snapshot of 2025-01-05 extracted at 03:00
    cannot show a first decision on 200 made at 01:00 that day; landed the next night, it is current, not
    deleted (before, the snapshot was timed at 03:00 and closed it)."""
    store = LandingStore(str(tmp_path / "landing"), policy=TEST_POLICY)
    warehouse = Warehouse(warehouse_urls())
    land(store, "deliveries", "2025-01-04", "n1", [
        delivery_row("D1", "100", "CREDITLIMIT", "2025-01-04 10:00", "DECIDED_FULL", Decimal(1000))],
        "2025-01-05 02:00")
    land(store, "portfolio_snapshot", "2025-01-05", "n2", [
        listing_row("100", "CREDITLIMIT", "D1", "2025-01-04 10:00", "DECIDED_FULL", Decimal(1000))],
        "2025-01-05 03:00")
    warehouse.build(store)
    land(store, "deliveries", "2025-01-05", "n3", [  # made after the snapshot's day began, before its extraction
        delivery_row("D2", "200", "CREDITLIMIT", "2025-01-05 01:00", "DECIDED_FULL", Decimal(500))],
        "2025-01-06 02:00")
    warehouse.build(store)
    rows = warehouse.query("select easy_number, version_no, change_kind, delivery_id, valid_to "
                           "from history.decision_history order by easy_number, version_no")
    assert [(r["easy_number"], r["version_no"], r["change_kind"], r["delivery_id"], r["valid_to"]) for r in rows] == [
        ("100", 1, "observed", "D1", None), ("200", 1, "observed", "D2", None)]


def test_a_deletion_starts_when_the_snapshot_s_listing_does_and_is_recorded_at_its_extraction(tmp_path,
                                                                                           warehouse_urls):
    store = LandingStore(str(tmp_path / "landing"), policy=TEST_POLICY)
    warehouse = Warehouse(warehouse_urls())
    land(store, "deliveries", "2025-01-04", "n1", [
        delivery_row("D1", "100", "CREDITLIMIT", "2025-01-04 10:00", "DECIDED_FULL", Decimal(1000))], "2025-01-05 02:00")
    land(store, "portfolio_snapshot", "2025-01-05", "n2", [
        listing_row("300", "ECL", "D9", "2025-01-03 10:00", "DECIDED_FULL", Decimal(10))], "2025-01-05 03:00")
    warehouse.build(store)
    closing = warehouse.query("select change_kind, valid_from, recorded_at from history.decision_history "
                              "where easy_number = '100' and version_no = 2")
    assert closing == [{"change_kind": "deleted", "valid_from": ts("2025-01-05 00:00"),
                        "recorded_at": ts("2025-01-05 03:00")}]


def test_staging_reads_only_the_current_run_of_each_partition(tmp_path, warehouse_urls):
    store = LandingStore(str(tmp_path / "landing"), policy=TEST_POLICY)
    row = {"notification_id": "N1", "external_id": "E1", "event_type": "DECISION", "event_at": ts("2025-01-01 10:00"),
           "easy_number": "100", "product_code": "CREDITLIMIT", "status": "DECIDED_FULL"}
    land(store, "notifications", date(2025, 1, 1), "first", [row, {**row, "notification_id": "N2"}], "2025-01-02 02:00")
    land(store, "notifications", date(2025, 1, 1), "second", [{**row, "notification_id": "N3"}], "2025-01-02 05:00")
    superseded = store.manifest("notifications", date(2025, 1, 1))["superseded"]
    assert superseded and all((Path(store.path) / f).exists() for f in superseded[0]["files"])
    warehouse = Warehouse(warehouse_urls())
    warehouse.build(store)
    assert warehouse.query("select notification_id, source_run_id from staging.stg_notifications") == [
        {"notification_id": "N3", "source_run_id": "second"}]
    land(store, "notifications", date(2025, 1, 1), "third", [row], "2025-01-03 02:00")
    report = warehouse.build(store)
    assert report.partitions_loaded == {"notifications": 1}
    assert warehouse.query("select notification_id, source_run_id from staging.stg_notifications") == [
        {"notification_id": "N1", "source_run_id": "third"}]


def test_every_table_has_the_same_columns_on_both_engines(tmp_path, postgres_cluster):  # noqa: F811
    store = LandingStore(str(tmp_path / "landing"), policy=TEST_POLICY)
    NIGHTS[0](store)
    columns = {}
    for url in (f"duckdb:///{tmp_path}/wh.duckdb", postgres_cluster.create_database()):
        warehouse = Warehouse(url)
        warehouse.build(store)
        columns[warehouse.dialect] = warehouse.query(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where table_schema in ('staging', 'history', 'marts') "
            "order by table_schema, table_name, ordinal_position")
    assert columns["duckdb"] == columns["postgresql"]


def test_a_first_build_larger_than_a_row_group_keeps_every_row(tmp_path):
    """DuckDB 2.0 reads back empty a table created by CTAS in the same transaction that then receives
    a large Arrow insert; the DuckDB build commits between steps, so every landed row arrives."""
    store = LandingStore(str(tmp_path / "landing"), policy=TEST_POLICY)
    rows = [{"delivery_id": f"D{i}", "external_id": f"E{i}", "order_id": f"O{i}", "easy_number": str(100_000 + i),
             "product_code": "CREDITLIMIT", "status": "DECIDED_FULL", "decision_at": ts("2025-01-01 10:00"),
             "amount_value": Decimal("1.00"), "amount_currency": "EUR"} for i in range(150_000)]
    land(store, "deliveries", date(2025, 1, 1), "big", rows, "2025-01-02 02:00")
    warehouse = Warehouse(f"duckdb:///{tmp_path}/wh.duckdb")
    warehouse.build(store)
    assert warehouse.query("select count(*) as n, count(distinct easy_number) as companies "
                           "from history.decision_history") == [{"n": 150_000, "companies": 150_000}]


def test_number_map_follows_evidence_arriving_in_any_order_and_leaving(tmp_path, warehouse_urls):
    """Night by night, incremental equals full: a definitive order first, its Z listing later (linked
    through order_id), then a re-run removing the definitive row (the link disappears)."""
    store = LandingStore(str(tmp_path / "landing"), policy=TEST_POLICY)
    order = {"order_id": "O9", "easy_number": "900", "product_code": "ECL", "order_at": ts("2025-01-01 09:00"),
             "status": "STATUS_PENDING_UNDERWRITING", "status_at": ts("2025-01-01 09:00")}
    other = {**order, "order_id": "O10", "easy_number": "901"}
    listed = {**COMPANY_ROW, "easy_number": "Z9", "product_code": "ECL", "order_id": "O9",
              "order_date": date(2025, 1, 1), "order_status": "STATUS_PENDING_DEBTOR_VALIDATION"}
    nights = [
        lambda: land(store, "orders", date(2025, 1, 1), "a", [order, other], "2025-01-02 02:00"),
        lambda: land(store, "portfolio", date(2025, 1, 2), "b", [listed], "2025-01-03 02:00"),
        lambda: land(store, "orders", date(2025, 1, 1), "c", [other], "2025-01-04 02:00"),
    ]
    maps = []
    _each_night_equals_a_full_rebuild(store, nights, warehouse_urls, lambda nightly: maps.append(
        nightly.query("select temporary_easy_number, easy_number from history.easy_number_map")))
    assert maps == [[], [{"temporary_easy_number": "Z9", "easy_number": "900"}], []]


def _each_night_equals_a_full_rebuild(store, nights, warehouse_urls, after_each=None) -> Warehouse:
    """Land each of ``nights`` and build incrementally; after each, the warehouse equals a full rebuild of the
    landing zone (``after_each`` sees it then). Returns the incrementally built warehouse."""
    nightly = Warehouse(warehouse_urls())
    for night in nights:
        night()
        nightly.build(store)
        rebuilt = Warehouse(warehouse_urls())
        rebuilt.build(store, full_refresh=True)
        assert snapshot(nightly) == snapshot(rebuilt)
        if after_each:
            after_each(nightly)
    return nightly


def _reference_list(store, day: str, run: str, *entries, quarantined=()) -> None:
    land(store, "customer_references", day, run, [
        {"easy_number": easy, "customer_reference": reference, "updated_at": ts(updated)}
        for easy, reference, updated in entries], f"{day} 02:00", quarantined=list(quarantined))


def test_daily_reference_lists_built_night_by_night_equal_a_full_rebuild(tmp_path, warehouse_urls):
    store = LandingStore(str(tmp_path / "landing"), policy=TEST_POLICY)
    a, b, c = ("100", "A-1", "2025-01-01 09:00"), ("200", "B-1", "2025-01-01 10:00"), ("300", "C-1", "2024-12-01 10:00")
    unreadable = '{"customerReference": "C-1", "updatedAt": "2024-12-01T10:00:00Z"}'  # no easyNumber
    nights = [
        lambda: _reference_list(store, "2025-01-02", "n1", a, b, c),
        lambda: _reference_list(store, "2025-01-03", "n2", ("100", "A-2", "2025-01-02 12:00"), b, c),
        lambda: _reference_list(store, "2025-01-04", "n3", ("100", "A-2", "2025-01-02 12:00"), c),  # 200 erased
        lambda: _reference_list(store, "2025-01-05", "n4", ("100", "A-2", "2025-01-02 12:00"),
                                quarantined=[unreadable]),  # 300 unreadable: closes nothing
        lambda: _reference_list(store, "2025-01-06", "n5", ("100", "A-2", "2025-01-02 12:00"),
                                ("200", "B-2", "2025-01-05 08:00")),  # 300 gone after all, 200 set again
        lambda: _reference_list(store, "2025-01-06", "n5-again", ("100", "A-3", "2025-01-06 01:00"),
                                ("200", "B-2", "2025-01-05 08:00")),  # the day's list landed again
    ]
    nightly = _each_night_equals_a_full_rebuild(store, nights, warehouse_urls)
    history = nightly.query("select easy_number, change_kind, customer_reference, valid_from "
                            "from history.customer_reference_history order by easy_number, version_no")
    assert [tuple(r.values()) for r in history] == [
        ("100", "observed", "A-1", ts("2025-01-01 09:00")), ("100", "observed", "A-2", ts("2025-01-02 12:00")),
        ("100", "observed", "A-3", ts("2025-01-06 01:00")),
        ("200", "observed", "B-1", ts("2025-01-01 10:00")), ("200", "erased", None, ts("2025-01-04 00:00")),
        ("200", "observed", "B-2", ts("2025-01-05 08:00")),
        ("300", "observed", "C-1", ts("2024-12-01 10:00")), ("300", "erased", None, ts("2025-01-06 00:00")),
    ]

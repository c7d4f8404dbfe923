"""The warehouse reads exactly the current runs the landing store's manifests name, in the contract's shape."""

import json
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from resources.landing import LandingStore
from resources.warehouse import Warehouse, WarehouseNotBuilt
from resources.warehouse.inputs import current_partitions, landed_schema, read_partitions
from tests.support.landing_builder import land, ts
from tests.support.policies import TEST_POLICY

NOTE = {"notification_id": "N1", "external_id": "E1", "event_type": "DECISION", "event_at": ts("2025-01-01 10:00"),
        "easy_number": "100", "product_code": "CREDITLIMIT", "status": "DECIDED_FULL"}


def test_only_current_runs_are_listed_and_reference_lists_are_current(tmp_path):
    store = LandingStore(str(tmp_path), policy=TEST_POLICY)
    land(store, "notifications", date(2025, 1, 1), "old", [NOTE], "2025-01-02 02:00")
    land(store, "notifications", date(2025, 1, 1), "new", [NOTE, {**NOTE, "notification_id": "N2"}], "2025-01-02 03:00")
    land(store, "countries", None, "r1", [{"country_code": "FRA", "name": "France"}], "2025-01-02 02:00")
    runs = current_partitions(store, "notifications")
    assert [(r.partition, r.run_id, r.rows) for r in runs] == [("2025-01-01", "new", 2)]
    assert [(r.partition, r.run_id) for r in current_partitions(store, "countries")] == [("current", "r1")]
    table = read_partitions(store, runs)
    assert table.schema == landed_schema("notifications")
    assert table.column("notification_id").to_pylist() == ["N1", "N2"]
    assert table.column("_run_id").to_pylist() == ["new", "new"]
    assert table.column("_row_in_partition").to_pylist() == sorted(table.column("_row_in_partition").to_pylist())


def test_a_file_landed_before_a_column_existed_reads_as_nulls(tmp_path):
    store = LandingStore(str(tmp_path), policy=TEST_POLICY)
    manifest = land(store, "notifications", date(2025, 1, 1), "r1", [{**NOTE, "policy_number": "P1"}],
                    "2025-01-02 02:00")
    path = Path(store.path) / manifest["files"][0]
    pq.write_table(pq.read_table(path).drop_columns(["policy_number"]), path)
    manifest_path = Path(store.manifest_path("notifications", "2025-01-01"))  # the month's file
    old = json.loads(manifest_path.read_text())
    del old["partitions"]["2025-01-01"]["file_digests"]  # landed before digests were recorded, as that column was
    manifest_path.write_text(json.dumps(old))
    table = read_partitions(store, current_partitions(store, "notifications"))
    assert table.column("policy_number").to_pylist() == [None]
    assert table.column("notification_id").to_pylist() == ["N1"]


def test_a_snapshot_s_quarantine_is_read_with_the_easy_number_each_raw_json_names(tmp_path):
    store = LandingStore(str(tmp_path), policy=TEST_POLICY)
    listed = {"easy_number": "900", "product_code": "CREDITLIMIT", "order_id": "O9"}
    land(store, "portfolio_snapshot", date(2025, 1, 1), "r1", [listed], "2025-01-02 02:00", quarantined=[
        '{"easyNumber": "100", "products": []}', '{"easyNumber": 200, "products": 3}', '{"companyName": "X"}',
        '{"easyNumber": ""}', '["easyNumber"]', "not json"])
    land(store, "portfolio_snapshot", date(2025, 1, 2), "r2", [listed], "2025-01-03 02:00")  # none quarantined
    runs = current_partitions(store, "portfolio_snapshot_quarantine")
    assert [(r.partition, r.run_id, r.rows, len(r.files)) for r in runs] == [
        ("2025-01-01", "r1", 6, 1), ("2025-01-02", "r2", 0, 0)]
    table = read_partitions(store, runs)
    assert table.schema == landed_schema("portfolio_snapshot_quarantine")
    # an easy number is a digit string by the payload model's rule: a JSON integer names no company
    assert table.column("easy_number").to_pylist() == ["100", None, None, None, None, None]
    assert set(table.column("_partition_key").to_pylist()) == {"2025-01-01"}
    assert set(table.column("_run_id").to_pylist()) == {"r1"}
    assert set(table.column("reason").to_pylist()) == {"broke its contract"}
    assert read_partitions(store, runs[1:]).num_rows == 0


def test_an_object_storage_root_is_read_through_its_filesystem():
    store = LandingStore("memory://warehouse-test/landing", policy=TEST_POLICY)
    land(store, "notifications", date(2025, 1, 1), "r1", [NOTE], "2025-01-02 02:00")
    table = read_partitions(store, current_partitions(store, "notifications"))
    assert table.column("notification_id").to_pylist() == ["N1"]
    assert table.column("_partition_key").to_pylist() == ["2025-01-01"]


def test_an_unbuilt_duckdb_warehouse_says_so(tmp_path):
    with pytest.raises(WarehouseNotBuilt):
        Warehouse(f"duckdb:///{tmp_path}/missing.duckdb").table_counts()


def test_only_duckdb_and_postgres_urls_are_accepted():
    with pytest.raises(ValueError, match="unsupported"):
        Warehouse("sqlite:///x.db")


def test_an_in_memory_duckdb_warehouse_builds_night_after_night(tmp_path):
    from tests.support.scenario import NIGHTS

    store = LandingStore(str(tmp_path), policy=TEST_POLICY)
    warehouse = Warehouse("duckdb:///:memory:")
    for night in NIGHTS:
        night(store)
        report = warehouse.build(store)
    assert not report.full_refresh and report.row_counts["decision_history"] == 5
    assert [c.name for c in warehouse.checks() if not c.passed] == []

"""marts.sync_status: per policy × stream, what has landed, how late it is and the last build (both engines)."""

from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from tests.support.policies import TEST_POLICY

OTHER = "POLICY-2"


def record(harness, rows, builds):
    with harness.engine.begin() as conn:
        conn.execute(sa.text(
            "insert into _wh_partitions (stream, policy_number, partition_key, run_id, file_count, row_count, "
            "quarantined, written_at, build_id) values (:stream, :policy, :key, :run, 1, :rows, :q, :written, 1)"),
            [{"stream": s, "policy": p, "key": k, "run": f"r-{k}", "rows": n, "q": q, "written": w}
             for s, p, k, n, q, w in rows])
        conn.execute(sa.text(
            "insert into _wh_builds (build_id, started_at, finished_at, full_refresh, partitions_loaded, "
            "rows_loaded, duration_s) values (:id, :at, :at, :full, 1, 1, :secs)"), builds)


def test_sync_status_reports_each_stream_of_each_policy_and_the_last_build(harness):
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    record(harness, [
        ("deliveries", TEST_POLICY, "2025-01-01", 10, 0, "2025-01-02T01:00:00+00:00"),
        ("deliveries", TEST_POLICY, yesterday.isoformat(), 5, 2, "2025-01-03T01:00:00+00:00"),
        ("deliveries", OTHER, "2025-01-01", 7, 0, "2025-01-02T01:00:05+00:00"),
        ("countries", TEST_POLICY, "current", 50, 0, "2025-01-03T01:00:09+00:00"),
        ("portfolio_snapshot_quarantine", TEST_POLICY, "2025-01-01", 1, 1, "2025-01-02T01:00:00+00:00"),
    ], [{"id": 1, "at": datetime(2025, 1, 2, 1, 5, tzinfo=UTC), "full": True, "secs": 40.0},
        {"id": 2, "at": datetime(2025, 1, 3, 1, 5, tzinfo=UTC), "full": False, "secs": 2.5}])
    columns = ["policy_number", "stream", "partitions", "first_landed_day", "last_landed_day", "rows_landed",
               "quarantined_records", "last_extracted_at", "days_behind", "last_build_id", "last_build_full_refresh"]
    rows = harness.rows("sync_status", "policy_number, stream", columns)
    assert rows == [
        {"policy_number": TEST_POLICY, "stream": "countries", "partitions": 1, "first_landed_day": None,
         "last_landed_day": None, "rows_landed": 50, "quarantined_records": 0,
         "last_extracted_at": datetime(2025, 1, 3, 1, 0, 9, tzinfo=UTC), "days_behind": None, "last_build_id": 2,
         "last_build_full_refresh": False},
        {"policy_number": TEST_POLICY, "stream": "deliveries", "partitions": 2, "first_landed_day": date(2025, 1, 1),
         "last_landed_day": yesterday, "rows_landed": 15, "quarantined_records": 2,
         "last_extracted_at": datetime(2025, 1, 3, 1, 0, tzinfo=UTC), "days_behind": 0, "last_build_id": 2,
         "last_build_full_refresh": False},
        {"policy_number": OTHER, "stream": "deliveries", "partitions": 1, "first_landed_day": date(2025, 1, 1),
         "last_landed_day": date(2025, 1, 1), "rows_landed": 7, "quarantined_records": 0,
         "last_extracted_at": datetime(2025, 1, 2, 1, 0, 5, tzinfo=UTC),
         "days_behind": (yesterday - date(2025, 1, 1)).days, "last_build_id": 2, "last_build_full_refresh": False},
    ]  # the quarantine input is not a stream of its own

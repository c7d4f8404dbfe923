"""The Parquet landing store (invariants 3 and 8) on a local root and on fsspec's memory filesystem."""

import json
import subprocess
import sys
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from resources.landing import QUARANTINE_SCHEMA, LandingError, LandingStore, PartitionLocked
from resources.streams import UnknownStream, get_stream

D1, D2 = date(2026, 3, 1), date(2026, 3, 2)
ROOT = Path(__file__).resolve().parents[2]


def notification(i: int, day: date = D1) -> dict:
    return {
        "notificationId": f"N{i}", "externalId": f"E{i}", "eventDate": f"{day.isoformat()}T12:00:00Z",
        "eventType": "DECISION", "easyNumber": "12345678", "productCode": "CREDITLIMIT", "orderId": f"O{i}",
        "status": "DECIDED_FULL", "policyNumber": "P-1",
    }


def land(store, n, run_id="run-a", day=D1, start=0, **kwargs):
    stream = get_stream("notifications")
    with store.open_partition("notifications", day, run_id, **kwargs) as writer:
        for i in range(start, start + n):
            item = notification(i, day)
            writer.write_record(json.dumps(item), f"GET /notifications?n={i}", stream.flatten(item))
    return writer


@pytest.fixture(params=["local", "memory"])
def store(request, tmp_path):
    if request.param == "local":
        yield LandingStore(str(tmp_path / "landing"), row_group_size=100, rows_per_file=250)
        return
    root = f"memory://landing-{uuid.uuid4().hex}"
    yield LandingStore(root, row_group_size=100, rows_per_file=250)
    fs, path = fsspec.core.url_to_fs(root)
    if fs.exists(path):
        fs.rm(path, recursive=True)


def all_files(store):
    return sorted(store.fs.find(store.path))


def test_round_trip_fills_the_common_columns(store):
    writer = land(store, 3, api_window={"dateFrom": D1, "dateTo": D2})
    assert (writer.rows, writer.quarantined, writer.files) == (3, 0, 1)
    table = store.read_table("notifications", D1)
    assert table.schema == get_stream("notifications").schema
    assert table.column("notification_id").to_pylist() == ["N0", "N1", "N2"]
    assert set(table.column("_partition").to_pylist()) == {D1}
    assert set(table.column("_run_id").to_pylist()) == {"run-a"}
    assert table.column("_request").to_pylist()[1] == "GET /notifications?n=1"
    assert json.loads(table.column("_raw_json").to_pylist()[2])["notificationId"] == "N2"
    extracted = table.column("_extracted_at").to_pylist()[0]
    assert extracted.tzinfo is not None and abs(datetime.now(UTC) - extracted) < timedelta(minutes=1)
    assert table.column("event_at").to_pylist()[0] == datetime(2026, 3, 1, 12, tzinfo=UTC)


def test_manifest_names_the_run_and_its_files(store):
    writer = land(store, 3, api_window={"dateFrom": D1, "dateTo": D2})
    manifest = store.manifest("notifications", D1)
    assert manifest == writer.manifest
    assert manifest["stream"] == "notifications" and manifest["partition"] == "2026-03-01"
    assert manifest["run_id"] == "run-a" and manifest["rows"] == 3 and manifest["quarantined"] == 0
    assert manifest["api_window"] == {"dateFrom": "2026-03-01", "dateTo": "2026-03-02"}
    assert manifest["quarantine_files"] == [] and manifest["superseded"] == []
    [relative] = manifest["files"]
    assert relative.startswith("notifications/partition=2026-03-01/run=run-a/part-00000-")
    assert relative.endswith(".parquet")
    datetime.fromisoformat(manifest["written_at"])
    assert store.fs.exists(f"{store.path}/_manifests/notifications/month=2026-03.json")  # the day's month file
    assert not store.fs.exists(f"{store.path}/_manifests/notifications/2026-03-01.json")


def test_rerun_replaces_the_partition_and_never_duplicates(store):
    land(store, 5, run_id="run-a")
    land(store, 3, run_id="run-b", start=10)
    table = store.read_table("notifications", D1)
    assert table.column("notification_id").to_pylist() == ["N10", "N11", "N12"]
    assert set(table.column("_run_id").to_pylist()) == {"run-b"}
    manifest = store.manifest("notifications", D1)
    assert [s["run_id"] for s in manifest["superseded"]] == ["run-a"]
    assert len(store.current_files("notifications")) == 1


def test_same_run_id_retried_does_not_overwrite_the_named_files(store):
    land(store, 5, run_id="run-a")
    before = store.manifest("notifications", D1)["files"]
    land(store, 2, run_id="run-a")  # e.g. a Dagster step retry keeps the run id
    after = store.manifest("notifications", D1)["files"]
    assert set(before).isdisjoint(after)
    assert store.read_table("notifications", D1).num_rows == 2


def test_rows_roll_into_row_groups_and_part_files(store):
    writer = land(store, 600)
    assert writer.files == 3
    manifest = store.manifest("notifications", D1)
    assert manifest["file_rows"] == [250, 250, 100]
    for path in store.current_files("notifications"):
        with fsspec.open(path, "rb") as fh:
            meta = pq.ParquetFile(fh).metadata
            assert max(meta.row_group(i).num_rows for i in range(meta.num_row_groups)) <= 100
    ids = store.read_table("notifications").column("notification_id").to_pylist()
    assert ids == [f"N{i}" for i in range(600)]


def test_exception_leaves_the_previous_run_and_no_file_behind(store):
    land(store, 4, run_id="run-a")
    before_files, before_table = all_files(store), store.read_table("notifications", D1)
    with pytest.raises(RuntimeError, match="boom"):
        with store.open_partition("notifications", D1, "run-b") as writer:
            writer.write((get_stream("notifications").flatten(notification(i))[0] for i in range(450)), raw_json="{}")
            writer.quarantine("{}", "bad", "GET /x")
            raise RuntimeError("boom")
    assert store.read_table("notifications", D1).equals(before_table)
    assert store.manifest("notifications", D1)["run_id"] == "run-a"
    assert [f for f in all_files(store) if not f.endswith(".lock")] == [f for f in before_files if not f.endswith(".lock")]


def test_failure_while_committing_keeps_the_previous_manifest(store, monkeypatch):
    land(store, 4, run_id="run-a")
    before = all_files(store)

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(store, "put_many_atomic", broken)
    with pytest.raises(OSError, match="disk full"):
        land(store, 300, run_id="run-b")
    assert store.manifest("notifications", D1)["run_id"] == "run-a"
    assert all_files(store) == before  # renamed files of run-b were removed as well
    assert store.read_table("notifications", D1).num_rows == 4


def test_an_empty_run_still_names_a_file_and_supersedes_the_rows(store):
    land(store, 4, run_id="run-a")
    with store.open_partition("notifications", D1, "run-b") as writer:
        pass
    assert writer.rows == 0 and writer.files == 1
    assert store.manifest("notifications", D1)["rows"] == 0
    [path] = store.current_files("notifications")
    with fsspec.open(path, "rb") as fh:
        assert pq.read_table(fh).schema == get_stream("notifications").schema
    table = store.read_table("notifications", D1)
    assert table.num_rows == 0 and table.schema == get_stream("notifications").schema


def test_quarantine_lands_the_raw_record_and_the_reason(store):
    with store.open_partition("notifications", D1, "run-a") as writer:
        writer.write_parsed(get_stream("notifications").parse(notification(1), "GET /notifications?page=1"))
        bad = {**notification(2), "eventDate": "2026-03-01"}
        assert writer.write_parsed(get_stream("notifications").parse(bad, "GET /notifications?page=1")) == 0
        writer.quarantine("not json", "malformed record", "GET /notifications?page=2")
    assert (writer.rows, writer.quarantined) == (1, 2)
    manifest = store.manifest("notifications", D1)
    assert manifest["quarantined"] == 2 and len(manifest["quarantine_files"]) == 1
    assert manifest["quarantine_files"][0].startswith("_quarantine/notifications/partition=2026-03-01/run=run-a/")
    assert len(store.current_quarantine_files("notifications")) == 1
    table = store.read_quarantine("notifications", D1)
    assert table.schema == QUARANTINE_SCHEMA
    first = table.to_pylist()[0]
    assert first["stream"] == "notifications" and first["partition"] == D1 and first["run_id"] == "run-a"
    assert "eventDate" in first["reason"] and json.loads(first["raw_json"])["notificationId"] == "N2"
    assert first["request"] == "GET /notifications?page=1"
    assert table.column("raw_json").to_pylist()[1] == "not json"


def test_non_daily_stream_lands_under_current(store):
    countries = get_stream("countries")
    with store.open_partition("countries", None, "run-a") as writer:
        for code, name in (("FRA", "France"), ("ECU", "Ecuador")):
            item = {"countryCode": code, "name": name}
            writer.write_record(json.dumps(item), "GET /countries", countries.flatten(item))
    assert store.partitions("countries") == [None]
    assert store.manifest("countries", None)["partition"] is None
    assert store.current_files("countries")[0].split("countries/partition=current/run=run-a/")[1]
    table = store.read_table("countries")
    assert table.column("_partition").to_pylist() == [None, None]
    with pytest.raises(LandingError, match="not daily"):
        store.read_table("countries", D1)


def test_readers_span_partitions_in_order(store):
    land(store, 2, day=D2)
    land(store, 3, day=D1)
    assert store.partitions("notifications") == [D1, D2]
    assert [m["partition"] for m in store.manifests("notifications")] == ["2026-03-01", "2026-03-02"]
    assert store.read_table("notifications").num_rows == 5
    assert store.read_table("notifications", date(2026, 3, 3)).num_rows == 0
    assert store.manifest("notifications", date(2026, 3, 3)) is None
    files = store.current_files("notifications")
    assert len(files) == 2 and "partition=2026-03-01" in files[0]
    for path in files:
        with fsspec.open(path, "rb") as fh:
            assert pq.read_table(fh).num_rows in (2, 3)


def test_nothing_landed_reads_as_an_empty_table(store):
    assert store.manifests("orders") == [] and store.current_files("orders") == []
    assert store.read_table("orders").schema == get_stream("orders").schema
    assert store.read_quarantine("orders").num_rows == 0


def test_local_current_files_are_absolute_paths(tmp_path):
    store = LandingStore(str(tmp_path / "l"))
    land(store, 1)
    [path] = store.current_files("notifications")
    assert Path(path).is_absolute() and Path(path).is_file()
    assert LandingStore(f"file://{tmp_path / 'l'}").current_files("notifications") == [path]


def test_memory_current_files_are_urls():
    store = LandingStore(f"memory://landing-{uuid.uuid4().hex}")
    land(store, 1)
    [url] = store.current_files("notifications")
    assert url.startswith("memory://")
    assert store.root.startswith("memory://") and url.startswith(store.root + "/")
    store.fs.rm(store.path, recursive=True)


@pytest.mark.parametrize(
    ("stream", "partition", "run_id", "message"),
    [
        ("notifications", None, "r", "daily-partitioned"),
        ("notifications", datetime(2026, 3, 1, tzinfo=UTC), "r", "daily-partitioned"),
        ("notifications", "2026-03-01", "r", "daily-partitioned"),
        ("countries", D1, "r", "not daily-partitioned"),
        ("notifications", D1, "../escape", "run_id"),
        ("notifications", D1, "", "run_id"),
    ],
)
def test_open_partition_validates_its_arguments(store, stream, partition, run_id, message):
    with pytest.raises(LandingError, match=message):
        store.open_partition(stream, partition, run_id)


def test_unknown_stream_is_refused(store):
    with pytest.raises(UnknownStream):
        store.open_partition("nope", D1, "r")


def test_unknown_columns_and_wrong_types_are_refused_without_echoing_values(store):
    with pytest.raises(LandingError, match="unknown columns"):
        with store.open_partition("notifications", D1, "r") as writer:
            writer.write([{"notification_id": "N1", "secret_column": "x"}])
    with pytest.raises(LandingError, match="unknown columns"):
        with store.open_partition("notifications", D1, "r") as writer:
            writer.write([{"_run_id": "other"}])
    with pytest.raises(LandingError, match=r"column 'event_at'.*\['str'\]") as err:
        with store.open_partition("notifications", D1, "r") as writer:
            writer.write([{"notification_id": "N1", "event_at": "s3cr3t-value"}], raw_json="{}")
    assert "s3cr3t-value" not in str(err.value)
    assert store.manifest("notifications", D1) is None


def test_every_row_keeps_its_raw_json(store):
    with pytest.raises(LandingError, match="raw JSON"):
        with store.open_partition("notifications", D1, "r") as writer:
            writer.write([{"notification_id": "N1"}])
    with store.open_partition("notifications", D1, "r") as writer:
        writer.write([{"notification_id": "N1", "_raw_json": '{"a":1}', "_request": "GET /a"},
                      {"notification_id": "N2"}], raw_json='{"b":2}', request="GET /b")
    table = store.read_table("notifications", D1)
    assert table.column("_raw_json").to_pylist() == ['{"a":1}', '{"b":2}']
    assert table.column("_request").to_pylist() == ["GET /a", "GET /b"]


def test_write_outside_the_block_is_refused(store):
    writer = store.open_partition("notifications", D1, "r")
    with pytest.raises(LandingError, match="inside"):
        writer.write([])


def test_two_writers_never_hold_one_partition(store):
    with store.open_partition("notifications", D1, "run-a"):
        with pytest.raises(PartitionLocked, match="notifications partition 2026-03-01"):
            with store.open_partition("notifications", D1, "run-b"):
                pass
        with store.open_partition("notifications", D2, "run-b"):  # another partition is free
            pass
    with store.open_partition("notifications", D1, "run-c"):  # released on exit
        pass


def test_lock_is_released_after_an_exception(store):
    with pytest.raises(ValueError):
        with store.open_partition("notifications", D1, "run-a"):
            raise ValueError
    with store.open_partition("notifications", D1, "run-b"):
        pass


HOLD_LOCK = """
import sys, time
from datetime import date
from resources.landing import LandingStore
with LandingStore(sys.argv[1]).open_partition("notifications", date(2026, 3, 1), "holder"):
    print("locked", flush=True)
    time.sleep(60)
"""


def test_lock_excludes_another_process(tmp_path):
    root = str(tmp_path / "landing")
    child = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, root], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert child.stdout.readline().strip() == "locked"
        with pytest.raises(PartitionLocked, match=f"pid {child.pid}"):
            with LandingStore(root).open_partition("notifications", D1, "run-b"):
                pass
        with LandingStore(root).open_partition("notifications", D2, "run-b"):
            pass
    finally:
        child.kill()
        child.wait()
    with LandingStore(root).open_partition("notifications", D1, "run-c"):  # a dead holder frees the lock
        pass


def test_garbage_collect_keeps_current_and_recent_runs(store):
    land(store, 3, run_id="run-a")
    land(store, 3, run_id="run-b")
    land(store, 3, run_id="run-c")
    current = set(store.current_files("notifications"))
    assert store.garbage_collect("notifications") == []  # superseded runs are recent
    later = datetime.now(UTC) + timedelta(days=8)
    removed = store.garbage_collect("notifications", now=later.replace(tzinfo=None))  # naive = UTC
    assert len(removed) == 2 and not set(removed) & current
    assert store.manifest("notifications", D1)["superseded"] == []
    data_files = [f for f in all_files(store) if f.endswith(".parquet")]
    assert len(data_files) == 1
    assert store.read_table("notifications", D1).num_rows == 3


def test_garbage_collect_with_zero_retention_drops_superseded_runs(store):
    land(store, 3, run_id="run-a")
    land(store, 3, run_id="run-b")
    removed = store.garbage_collect("notifications", retention=timedelta(0))
    assert len(removed) == 1 and "run=run-a" in removed[0]
    assert store.read_table("notifications").column("_run_id").unique().to_pylist() == ["run-b"]


def test_garbage_collect_removes_leftovers_of_a_killed_writer(tmp_path):
    store = LandingStore(str(tmp_path / "landing"))
    land(store, 3, run_id="run-a")
    orphan_dir = tmp_path / "landing/notifications/partition=2026-03-01/run=run-dead"
    orphan_dir.mkdir(parents=True)
    (orphan_dir / ".part-00000-dead.parquet.tmp").write_bytes(b"partial")
    never_committed = tmp_path / "landing/notifications/partition=2026-03-05/run=run-dead"
    never_committed.mkdir(parents=True)
    (never_committed / "part-00000-dead.parquet").write_bytes(b"renamed, no manifest")
    dead_manifest = tmp_path / "landing/_manifests/notifications/.2026-03-01.json.tmp-dead"
    dead_manifest.write_text("{")
    removed = store.garbage_collect("notifications")
    assert len(removed) == 3
    assert not orphan_dir.exists() and not never_committed.exists() and not dead_manifest.exists()
    assert store.read_table("notifications").num_rows == 3


def test_garbage_collect_skips_a_partition_being_written(store):
    land(store, 3, run_id="run-a")
    land(store, 3, run_id="run-b")
    with store.open_partition("notifications", D1, "run-c") as writer:
        writer.write_parsed(get_stream("notifications").parse(notification(1), "GET /x"))
        assert store.garbage_collect("notifications", retention=timedelta(0)) == []
    assert len(store.manifest("notifications", D1)["superseded"]) == 2


def test_schema_evolution_reads_old_files_with_nulls(store):
    land(store, 2)
    [relative] = store.manifest("notifications", D1)["files"]
    path = f"{store.path}/{relative}"
    with store.fs.open(path, "rb") as fh:
        old = pq.read_table(fh).drop_columns(["policy_number"])
    with store.fs.open(path, "wb") as fh:
        pq.write_table(old, fh)
    table = store.read_table("notifications")
    assert table.schema == get_stream("notifications").schema
    assert table.column("policy_number").to_pylist() == [None, None]


def test_repr_and_url_hide_credentials():
    store = LandingStore("memory://user:s3cret@bucket/landing")
    assert "s3cret" not in repr(store) and "s3cret" not in store.url


def test_row_group_and_file_size_must_be_positive(tmp_path):
    with pytest.raises(ValueError):
        LandingStore(str(tmp_path), row_group_size=0)


def test_parquet_files_carry_the_stream_schema(store):
    land(store, 2)
    [path] = store.current_files("notifications")
    with fsspec.open(path, "rb") as fh:
        schema = pq.read_schema(fh)
    assert schema.remove_metadata() == get_stream("notifications").schema
    assert schema.field("_extracted_at").type == pa.timestamp("us", tz="UTC")


def test_a_writer_is_used_once(store):
    writer = land(store, 1)
    with pytest.raises(LandingError, match="used once"):
        writer.__enter__()


def test_read_table_selects_columns(store):
    land(store, 3)
    table = store.read_table("notifications", D1, columns=["easy_number", "notification_id", "_extracted_at"])
    assert table.column_names == ["easy_number", "notification_id", "_extracted_at"]
    assert table.column("notification_id").to_pylist() == ["N0", "N1", "N2"]
    assert store.read_table("orders", columns=["order_id"]).schema.names == ["order_id"]
    with pytest.raises(LandingError, match="no columns"):
        store.read_table("notifications", columns=["nope"])


def test_manifest_files_resolve_against_the_public_root(store):
    land(store, 2)
    [relative] = store.manifest("notifications", D1)["files"]
    assert store.current_files("notifications") == [f"{store.root}/{relative}"]


def test_a_partition_writer_counts_rows_repeating_a_key_and_writes_values_as_flattened(store):
    spec = get_stream("notifications")
    with store.open_partition("notifications", D1, "dup") as writer:
        for i in (1, 1, 2):
            writer.write_values("{}", "GET /n", spec.flatten_values(notification(i)))
    assert writer.duplicate_keys == 1 and writer.rows == 3
    assert store.read_table("notifications", D1)["notification_id"].to_pylist() == ["N1", "N1", "N2"]
    with store.open_partition("notifications", D1, "bad") as writer, pytest.raises(LandingError, match="values for"):
        writer.write_values("{}", "GET /n", [("only one value",)])

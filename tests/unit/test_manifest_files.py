"""Month files of manifests (resources/landing/manifest_files.py): one file per month of days, read and
replaced whole; landing zones that filed one manifest per day read as before and move day by day."""

import logging
import subprocess
import sys
import threading
from datetime import date, timedelta
from pathlib import Path

import orjson
import pytest

from resources.landing import LandingStore, open_range
from resources.landing.manifest import dump_manifest
from resources.streams import get_stream
from tests.unit.test_landing import ROOT, land, notification

STREAM = get_stream("notifications")
FIRST = date(2025, 1, 1)


def land_range(store, days, run_id):
    with open_range(store, "notifications", days, run_id) as writer:
        for n, day in enumerate(days):
            writer.write_values(day, f'{{"n": {n}}}', "GET /n", STREAM.flatten_values(notification(n, day)))
    return writer


def manifest_dir(store) -> Path:
    return Path(store.path) / "_manifests" / "notifications"


def as_previous_main_filed_them(store) -> None:
    """Rewrite the month files as landing zones before month files held them: one file per day, same
    manifest, same encoding."""
    for month in manifest_dir(store).glob("month=*.json"):
        for key, manifest in orjson.loads(month.read_bytes())["partitions"].items():
            (month.parent / f"{key}.json").write_bytes(dump_manifest(manifest))
        month.unlink()


def test_a_two_year_range_files_one_manifest_file_per_month(tmp_path):
    store = LandingStore(str(tmp_path))
    days = [FIRST + timedelta(days=i) for i in range(730)]
    land_range(store, days, "backfill")
    files = sorted(p.name for p in manifest_dir(store).iterdir())
    assert files == [f"month={y}-{m:02d}.json" for y in (2025, 2026) for m in range(1, 13)]
    assert [m["partition"] for m in store.manifests("notifications")] == [d.isoformat() for d in days]
    assert store.read_table("notifications", days[40]).column("notification_id").to_pylist() == ["N40"]


def test_a_legacy_landing_reads_as_before_and_moves_day_by_day(tmp_path):
    store = LandingStore(str(tmp_path))
    days = [FIRST + timedelta(days=i) for i in range(40)]  # January and February
    land_range(store, days, "old")
    before = store.read_table("notifications")
    as_previous_main_filed_them(store)
    assert store.read_table("notifications").equals(before)
    assert [m["run_id"] for m in store.manifests("notifications")] == ["old"] * 40

    land(store, 2, run_id="night", day=days[3])  # one day re-landed: it moves into its month file
    names = {p.name for p in manifest_dir(store).iterdir()}
    assert "month=2025-01.json" in names and f"{days[3]}.json" not in names
    assert f"{days[4]}.json" in names  # the other days stay where they were until they are landed again
    runs = {m["partition"]: m["run_id"] for m in store.manifests("notifications")}
    assert runs[days[3].isoformat()] == "night" and runs[days[4].isoformat()] == "old" and len(runs) == 40
    superseded = store.manifest("notifications", days[3])["superseded"]
    assert [s["run_id"] for s in superseded] == ["old"]  # the legacy manifest was the one superseded


def test_garbage_collection_removes_a_legacy_file_its_month_file_replaced(tmp_path):
    store = LandingStore(str(tmp_path))
    land(store, 1, run_id="old", day=FIRST)
    as_previous_main_filed_them(store)
    legacy = (manifest_dir(store) / f"{FIRST}.json").read_bytes()
    land(store, 1, run_id="new", day=FIRST)
    (manifest_dir(store) / f"{FIRST}.json").write_bytes(legacy)  # a writer killed before removing it
    assert store.manifest("notifications", FIRST)["run_id"] == "new"  # the month file wins
    removed = store.garbage_collect("notifications")
    assert str(manifest_dir(store) / f"{FIRST}.json") in removed
    assert store.manifest("notifications", FIRST)["run_id"] == "new"


def test_a_killed_writer_s_temporary_month_file_is_collected(tmp_path):
    store = LandingStore(str(tmp_path))
    land(store, 1, day=FIRST)
    leftover = manifest_dir(store) / ".month=2025-01.json.tmp-dead"
    leftover.write_bytes(b'{"partitions": {')
    assert str(leftover) in store.garbage_collect("notifications")
    assert not leftover.exists() and store.manifest("notifications", FIRST)["rows"] == 1


def test_writers_of_different_days_of_one_month_never_lose_each_other_s_day(tmp_path):
    store = LandingStore(str(tmp_path))
    days = [FIRST + timedelta(days=i) for i in range(20)]
    errors = []

    def write(day):
        try:
            land(LandingStore(str(tmp_path)), 1, run_id=f"w{day.day}", day=day)
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(day,)) for day in days]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert {m["partition"]: m["run_id"] for m in store.manifests("notifications")} == {
        day.isoformat(): f"w{day.day}" for day in days}


WRITE_DAYS = r"""
import sys
from datetime import date, timedelta
from tests.unit.test_landing import land
from resources.landing import LandingStore
root, offset = sys.argv[1], int(sys.argv[2])
for i in range(offset, 28, 2):
    land(LandingStore(root), 1, run_id=f"p{i}", day=date(2025, 1, 1) + timedelta(days=i))
"""


def test_two_processes_filing_days_of_one_month_keep_every_day(tmp_path):
    procs = [subprocess.Popen([sys.executable, "-c", WRITE_DAYS, str(tmp_path), str(offset)], cwd=ROOT,
                              env={"PYTHONPATH": str(ROOT)}, stderr=subprocess.PIPE, text=True) for offset in (0, 1)]
    for proc in procs:
        assert proc.wait(timeout=120) == 0, proc.stderr.read()
    runs = {m["partition"]: m["run_id"] for m in LandingStore(str(tmp_path)).manifests("notifications")}
    assert runs == {(FIRST + timedelta(days=i)).isoformat(): f"p{i}" for i in range(28)}


def test_a_damaged_month_file_is_replaced_by_the_next_run_saying_what_it_lost(tmp_path, caplog):
    store = LandingStore(str(tmp_path))
    land_range(store, [FIRST, FIRST + timedelta(days=1)], "r1")
    (manifest_dir(store) / "month=2025-01.json").write_bytes(b"")
    with caplog.at_level(logging.WARNING):
        land(store, 1, run_id="repair", day=FIRST)
    assert "no longer landed" in caplog.text and "month=2025-01.json" in caplog.text
    assert [m["run_id"] for m in store.manifests("notifications")] == ["repair"]


def test_a_garbled_entry_of_a_month_file_names_the_file_and_the_day(tmp_path):
    store = LandingStore(str(tmp_path))
    land(store, 1, day=FIRST)
    path = manifest_dir(store) / "month=2025-01.json"
    content = orjson.loads(path.read_bytes())
    content["partitions"][FIRST.isoformat()] = {"rows": 1}
    path.write_bytes(orjson.dumps(content))
    with pytest.raises(Exception, match=rf"month=2025-01.json \({FIRST}\) is not a manifest"):
        store.manifests("notifications")

"""Writer locks (resources/landing/locks.py): a range commit takes all its days at once, never a day that
another writer holds, in this process or another; with day locks in one file or one file per day."""

import subprocess
import sys
from datetime import date, timedelta

import pytest

from resources.landing import LandingStore, PartitionLocked, locks, open_range
from resources.streams import get_stream
from tests.unit.test_landing import HOLD_LOCK, ROOT, land, notification

D1 = date(2026, 3, 1)
DAYS = [D1 + timedelta(days=i) for i in range(5)]
STREAM = get_stream("notifications")


@pytest.fixture(params=["day-lock-file", "file-per-day"])
def store(request, tmp_path, monkeypatch):
    if request.param == "file-per-day":
        monkeypatch.setattr(locks, "DAY_LOCKS", False)
        monkeypatch.setattr(locks, "FILE_LOCK_BATCH", 2)  # several batches of days
    elif not locks.DAY_LOCKS:
        pytest.skip("no open file description locks on this system")
    return LandingStore(str(tmp_path / "landing"))


def land_days(store, run_id, days=DAYS):
    with open_range(store, "notifications", days, run_id) as writer:
        for n, day in enumerate(days):
            writer.write_values(day, f'{{"n": {n}}}', "GET /n", STREAM.flatten_values(notification(n, day)))
    return writer


def lock_files(store):
    return sorted(p.rsplit("/", 1)[-1] for p in store.fs.find(store.join("_locks")))


def test_a_range_commit_names_every_day_and_holds_no_lock_after(store):
    land_days(store, "r1")
    assert [store.manifest("notifications", day)["run_id"] for day in DAYS] == ["r1"] * 5
    with store.open_partition("notifications", DAYS[2], "night"):  # every day is free again
        pass
    days_locked = ["days.lock"] if locks.DAY_LOCKS else [f"{day}.lock" for day in DAYS]
    # and the month file's lock, held only while the month's manifests were replaced
    assert lock_files(store) == sorted([*days_locked, "month=2026-03.lock", "range=2026-03-01--2026-03-05.lock"])


def test_a_range_commit_never_takes_a_day_another_writer_holds(store):
    land_days(store, "before")
    with store.open_partition("notifications", DAYS[3], "holder"):
        with pytest.raises(PartitionLocked, match="notifications partition 2026-03-04"):
            land_days(store, "blocked", [DAYS[1], DAYS[2], DAYS[3], DAYS[4]])
    runs = [store.manifest("notifications", day)["run_id"] for day in DAYS]
    if locks.DAY_LOCKS:  # all days at once: none named
        assert runs == ["before", "before", "before", "holder", "before"]
    else:  # batches of two: the first batch was named before the held day was reached
        assert runs == ["before", "blocked", "blocked", "holder", "before"]
    assert locks.DAY_LOCKS == (not any("run=blocked" in p for p in store.fs.find(store.path)))  # discarded
    land_days(store, "after")  # nothing stays held
    assert {store.manifest("notifications", day)["run_id"] for day in DAYS} == {"after"}


def test_the_held_day_is_named_even_in_the_middle_of_a_run_of_days(store):
    with store.open_partition("notifications", DAYS[2], "holder"):
        with pytest.raises(PartitionLocked, match="partition 2026-03-03 is being written"):
            land_days(store, "blocked")


def test_a_day_held_by_another_process_names_its_pid(tmp_path):  # both processes lock as this system does
    store = LandingStore(str(tmp_path / "landing"))
    child = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, store.path], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert child.stdout.readline().strip() == "locked"  # holds 2026-03-01
        with pytest.raises(PartitionLocked, match=f"partition 2026-03-01 .*pid {child.pid}"):
            land_days(store, "blocked")
        land(store, 1, run_id="free", day=DAYS[1])
    finally:
        child.kill()
        child.wait()
    land_days(store, "after")  # a dead holder frees its day
    assert store.manifest("notifications", D1)["run_id"] == "after"


def test_locks_wait_up_to_the_timeout(tmp_path):
    store = LandingStore(str(tmp_path / "landing"), lock_timeout=0.2)
    with store.open_partition("notifications", D1, "holder"):
        with pytest.raises(PartitionLocked):
            land_days(store, "blocked")
    assert store.manifest("notifications", DAYS[1]) is None

"""Range runs (resources/landing/range_writer.py): many days in shared part files, each day its own manifest."""

from datetime import date, timedelta

import pytest

from resources.landing import LandingError, LandingStore, open_range
from resources.streams import get_stream
from tests.unit import test_landing
from tests.unit.test_landing import land, notification

D1, D2, D3 = date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3)
STREAM = get_stream("notifications")
store = test_landing.store  # the landing tests' fixture: a local root and an fsspec memory root


def land_range(store, days, per_day, run_id="range-a", start=0):
    """Land ``per_day[i]`` notifications on ``days[i]``, the days interleaved as a portfolio would send them."""
    with open_range(store, "notifications", days, run_id) as writer:
        pending = [[(day, start + 1000 * i + n) for n in range(count)]
                   for i, (day, count) in enumerate(zip(days, per_day, strict=True))]
        while any(pending):
            for queue in pending:
                if queue:
                    day, n = queue.pop(0)
                    item = notification(n, day)
                    writer.write_values(day, f'{{"n": {n}}}', f"GET /n/{n}", STREAM.flatten_values(item))
    return writer


def ids(table):
    return table.column("notification_id").to_pylist()


def test_each_day_reads_only_its_own_rows_in_landed_order(store):
    writer = land_range(store, [D1, D2, D3], [3, 0, 2])
    assert ids(store.read_table("notifications", D1)) == ["N0", "N1", "N2"]
    assert ids(store.read_table("notifications", D3)) == ["N2000", "N2001"]
    assert store.read_table("notifications", D2).num_rows == 0  # landed, and empty
    assert set(store.read_table("notifications", D3)["_partition"].to_pylist()) == {D3}
    manifests = {day: store.manifest("notifications", day) for day in (D1, D2, D3)}
    assert [m["rows"] for m in manifests.values()] == [3, 0, 2]
    assert manifests[D1]["files"] == manifests[D3]["files"]  # one shared file
    assert manifests[D2]["files"] == manifests[D1]["files"] and manifests[D2]["file_rows"] == [0]
    assert "/range=2026-03-01--2026-03-03/run=range-a/" in manifests[D1]["files"][0]
    assert writer.manifests == manifests and writer.duplicate_keys == 0


def test_all_days_read_in_partition_order_and_a_shared_file_is_listed_once(store):
    land_range(store, [D1, D2, D3], [2, 2, 2])
    assert ids(store.read_table("notifications")) == ["N0", "N1", "N1000", "N1001", "N2000", "N2001"]
    assert ids(store.read_table("notifications", [D3, D1])) == ["N0", "N1", "N2000", "N2001"]
    assert len(store.current_files("notifications")) == 1


def test_a_later_run_of_one_day_supersedes_exactly_that_day(store):
    land_range(store, [D1, D2, D3], [2, 2, 2])
    land(store, 1, run_id="night", day=D2, start=500)
    assert ids(store.read_table("notifications", D2)) == ["N500"]
    assert ids(store.read_table("notifications", D1)) == ["N0", "N1"]
    assert ids(store.read_table("notifications")) == ["N0", "N1", "N500", "N2000", "N2001"]
    assert len(store.current_files("notifications")) == 2


def test_rows_roll_into_several_shared_files_and_each_day_names_only_those_holding_it(store):
    land_range(store, [D1, D2], [200, 200])  # 400 rows, 250 per file, interleaved by day
    files = {day: store.manifest("notifications", day)["files"] for day in (D1, D2)}
    assert len(set(files[D1]) | set(files[D2])) == 2
    assert sum(store.manifest("notifications", D1)["file_rows"]) == 200
    assert ids(store.read_table("notifications", D2)) == [f"N{1000 + n}" for n in range(200)]


def test_an_exception_publishes_no_day_and_leaves_no_file(store):
    land(store, 2, run_id="before", day=D1)
    def files():  # lock files stay, by design: only data, quarantine and manifests count
        return sorted(p for p in store.fs.find(store.path) if "/_locks/" not in p)

    before = files()
    with pytest.raises(RuntimeError), open_range(store, "notifications", [D1, D2], "broken") as writer:
        writer.write_values(D1, "{}", "GET /", STREAM.flatten_values(notification(7, D1)))
        raise RuntimeError("cut")
    assert files() == before
    assert ids(store.read_table("notifications", D1)) == ["N0", "N1"]
    assert store.manifest("notifications", D2) is None


def test_quarantine_goes_to_the_day_given_and_is_read_per_day(store):
    with open_range(store, "notifications", [D1, D2], "q") as writer:
        writer.quarantine(D2, '{"bad": 1}', "eventDate: not a date", "GET /n")
        writer.write_values(D1, "{}", "GET /", STREAM.flatten_values(notification(1, D1)))
    assert store.read_quarantine("notifications", D1).num_rows == 0
    assert store.read_quarantine("notifications", D2)["reason"].to_pylist() == ["eventDate: not a date"]
    assert store.manifest("notifications", D2)["quarantined"] == 1
    assert store.manifest("notifications", D1)["quarantine_files"] == []


def test_duplicate_keys_within_a_day_are_counted_not_across_days(store):
    with open_range(store, "notifications", [D1, D2], "dup") as writer:
        for day in (D1, D1, D2):
            writer.write_values(day, "{}", "GET /", STREAM.flatten_values(notification(1, day)))
    assert writer.duplicate_keys == 1


def test_garbage_collection_keeps_a_shared_file_while_any_day_names_it(store):
    land_range(store, [D1, D2], [1, 1], run_id="range-a")
    shared = store.manifest("notifications", D1)["files"][0]
    land(store, 1, run_id="night-1", day=D1, start=50)
    store.garbage_collect("notifications", retention=timedelta(0))
    assert store.fs.exists(store.join(shared))  # still D2's current file
    land(store, 1, run_id="night-2", day=D2, start=60)
    removed = store.garbage_collect("notifications", retention=timedelta(0))
    assert not store.fs.exists(store.join(shared)) and any(r.endswith(shared) for r in removed)
    assert ids(store.read_table("notifications")) == ["N50", "N60"]


def test_garbage_collection_removes_a_killed_range_writer_s_leftovers_but_not_a_live_one(tmp_path):
    store = LandingStore(str(tmp_path / "landing"))
    land_range(store, [D1, D2], [1, 1])
    leftover = tmp_path / "landing" / "notifications" / "range=2026-03-01--2026-03-02" / "run=killed" / "part-00000-x.parquet"
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"PAR1")
    with open_range(store, "notifications", [D1, D2], "live") as writer:
        writer.write_values(D1, "{}", "GET /", STREAM.flatten_values(notification(9, D1)))
        assert store.garbage_collect("notifications", retention=timedelta(0)) == []  # the range is being written
    removed = store.garbage_collect("notifications", retention=timedelta(0))
    assert str(leftover) in removed and not leftover.exists()
    assert ids(store.read_table("notifications", D1)) == ["N9"]


@pytest.mark.parametrize(("stream", "days", "message"), [
    ("countries", [D1], "not daily-partitioned"),
    ("notifications", [], "at least one day"),
    ("notifications", ["2026-03-01"], "must be a date"),
])
def test_open_range_refuses_what_cannot_be_a_range(store, stream, days, message):
    with pytest.raises(LandingError, match=message):
        open_range(store, stream, days, "r")


def test_a_day_outside_the_range_and_a_row_of_the_wrong_width_are_refused(store):
    with open_range(store, "notifications", [D1], "r") as writer:
        with pytest.raises(LandingError, match="not a day of this range"):
            writer.write_values(D2, "{}", "GET /", STREAM.flatten_values(notification(1, D2)))
        with pytest.raises(LandingError, match="typed columns"):
            writer.write_values(D1, "{}", "GET /", [("too", "short")])
        writer.write_values(D1, "{}", "GET /", STREAM.flatten_values(notification(1, D1)))
    assert ids(store.read_table("notifications", D1)) == ["N1"]

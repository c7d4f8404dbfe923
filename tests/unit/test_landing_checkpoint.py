"""Checkpoints of a range run (RangeWriter.checkpoint, land_dated_records): the days a long by-id run has
finished are committed early, each atomically, and stay committed whatever happens to the rest of the run."""

from datetime import date, timedelta

import pytest

from resources.landing import LandingError, LandingStore, land_dated_records, open_range
from resources.streams import get_stream
from tests.unit import test_landing
from tests.unit.test_landing import notification

D1, D2, D3 = date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3)
STREAM = get_stream("notifications")
store = test_landing.store  # a local root and an fsspec memory root


def write(writer, day, n):
    writer.write_values(day, f'{{"n": {n}}}', f"GET /n/{n}", STREAM.flatten_values(notification(n, day)))


def ids(table):
    return table.column("notification_id").to_pylist()


def test_a_checkpointed_day_survives_the_run_failing_and_the_others_keep_their_previous_run(store):
    with open_range(store, "notifications", [D3], "earlier") as writer:
        write(writer, D3, 900)
    with pytest.raises(RuntimeError, match="killed"), open_range(store, "notifications", [D1, D2, D3], "long") as writer:
        write(writer, D1, 1)
        write(writer, D2, 2)
        assert writer.checkpoint([D1, D2]) == [D1, D2]
        write(writer, D3, 3)  # after the checkpoint: lost with the run
        raise RuntimeError("killed")
    assert ids(store.read_table("notifications", D1)) == ["N1"]
    assert ids(store.read_table("notifications", D2)) == ["N2"]
    assert store.manifest("notifications", D1)["run_id"] == "long"
    assert store.manifest("notifications", D3)["run_id"] == "earlier"
    assert ids(store.read_table("notifications", D3)) == ["N900"]
    # the files the checkpoint named are kept by the failed run, and by garbage collection
    for path in store.manifest("notifications", D1)["files"]:
        assert store.fs.exists(store.join(path))
    store.garbage_collect("notifications", retention=timedelta(0))
    assert ids(store.read_table("notifications", D1)) == ["N1"]


def test_a_clean_exit_commits_the_days_no_checkpoint_took_and_a_checkpointed_day_takes_no_more_rows(store):
    with open_range(store, "notifications", [D1, D2, D3], "long") as writer:
        write(writer, D1, 1)
        assert writer.checkpoint([D1]) == [D1]
        assert writer.checkpoint([D1]) == []  # already committed
        with pytest.raises(LandingError, match="committed by a checkpoint"):
            write(writer, D1, 5)
        write(writer, D3, 3)
    assert ids(store.read_table("notifications", D1)) == ["N1"]
    assert store.read_table("notifications", D2).num_rows == 0  # landed, and empty
    assert ids(store.read_table("notifications", D3)) == ["N3"]
    assert {store.manifest("notifications", d)["run_id"] for d in (D1, D2, D3)} == {"long"}
    assert writer.committed == {D1, D2, D3}


def test_a_checkpoint_before_any_row_commits_empty_days(store):
    with open_range(store, "notifications", [D1, D2], "long") as writer:
        assert writer.checkpoint([D1]) == [D1]
        assert store.manifest("notifications", D1)["rows"] == 0
        write(writer, D2, 2)
    assert ids(store.read_table("notifications", D2)) == ["N2"]
    # read together: D1's file (written empty at the checkpoint) holds no row of either day
    assert ids(store.read_table("notifications", [D1, D2])) == ["N2"]


class Record:
    """A valid client record of one notification (what land_dated_records lands)."""

    def __init__(self, n, day):
        item = notification(n, day)
        parsed = STREAM.parse(item)
        self.model, self.raw, self.raw_json, self.error = parsed.model, parsed.raw, parsed.raw_json, None
        self.request, self.unknown_fields = f"GET /n/{n}", ()


def test_dated_records_are_checkpointed_as_each_day_completes_and_a_failure_keeps_them(tmp_path):
    store = LandingStore(str(tmp_path), checkpoint_seconds=0)  # a checkpoint at every new day

    def triples():
        yield D1, Record(1, D1), None
        yield D2, Record(2, D2), None
        yield D3, Record(3, D3), None
        raise ConnectionError("the API went away")

    with pytest.raises(ConnectionError):
        land_dated_records(store, "notifications", [D1, D2, D3], "by-id", triples())
    assert ids(store.read_table("notifications", D1)) == ["N1"]
    assert ids(store.read_table("notifications", D2)) == ["N2"]
    assert store.manifest("notifications", D3) is None  # not complete when the run failed

    summary = land_dated_records(store, "notifications", [D3], "again", iter([(D3, Record(3, D3), None)]))
    assert ids(store.read_table("notifications", D3)) == ["N3"] and summary.checkpoints == 0


def test_no_checkpoint_before_the_interval(tmp_path):
    store = LandingStore(str(tmp_path), checkpoint_seconds=3600)
    records = [(D1, Record(1, D1), None), (D2, Record(2, D2), None)]
    summary = land_dated_records(store, "notifications", [D1, D2], "by-id", iter(records))
    assert summary.checkpoints == 0 and summary.rows == 2


def test_every_new_day_checkpoints_the_previous_ones_when_the_interval_is_zero(tmp_path):
    store = LandingStore(str(tmp_path), checkpoint_seconds=0)
    records = [(D1, Record(1, D1), None), (D2, Record(2, D2), None), (D3, Record(3, D3), None)]
    summary = land_dated_records(store, "notifications", [D1, D2, D3], "by-id", iter(records))
    assert summary.checkpoints == 2 and summary.rows == 3  # before D2 and before D3; D3 at the end
    assert ids(store.read_table("notifications", [D1, D2, D3])) == ["N1", "N2", "N3"]


def test_a_run_that_knows_its_size_checkpoints_every_share_of_it_whatever_the_clock(tmp_path):
    from resources.landing.router import CHECKPOINT_SHARE

    store = LandingStore(str(tmp_path), checkpoint_seconds=3600)  # the clock alone would never checkpoint
    days = [D1 + timedelta(days=i) for i in range(40)]
    records = [(day, Record(i, day), None) for i, day in enumerate(days)]
    summary = land_dated_records(store, "notifications", days, "by-id", iter(records), expected=len(records) * 10)
    every = max(1, int(len(records) * 10 * CHECKPOINT_SHARE))
    assert summary.checkpoints == (len(records) - 1) // every and summary.checkpoints > 0
    assert ids(store.read_table("notifications", days)) == [f"N{i}" for i in range(40)]

"""What is due: days not fully landed, grouped into contiguous ranges."""

from datetime import date, timedelta

from pipelines.due import DAILY_STREAMS, DueRange, due_work, landed_days, missing_ranges, partition_range_tags
from pipelines.plan import sync_plan
from resources.landing import LandingStore

D = date(2026, 3, 1)


def day(n: int) -> date:
    return D + timedelta(days=n)


def test_missing_ranges_are_contiguous_and_oldest_first():
    done = {day(0), day(1), day(4), day(7)}
    assert missing_ranges(done, day(0), day(8)) == [(day(2), day(3)), (day(5), day(6)), (day(8), day(8))]


def test_nothing_is_due_when_everything_landed():
    assert missing_ranges({day(i) for i in range(5)}, day(0), day(4)) == []


def test_a_day_counts_as_landed_only_when_every_daily_stream_landed(tmp_path):
    store = LandingStore(str(tmp_path))
    for stream in DAILY_STREAMS:
        with store.open_partition(stream, day(0), "run1"):
            pass
    for stream in DAILY_STREAMS[:-1]:  # the last stream of day 1 never landed
        with store.open_partition(stream, day(1), "run1"):
            pass
    assert landed_days(store) == {day(0)}


def test_range_tags_make_one_single_run_backfill():
    assert partition_range_tags(day(0), day(9)) == {
        "dagster/asset_partition_range_start": "2026-03-01",
        "dagster/asset_partition_range_end": "2026-03-10",
    }


def test_due_work_names_the_streams_each_range_lacks_so_a_resumed_run_lands_only_those(tmp_path):
    """A run killed after its lists and the first checkpoints of its deliveries: days 0-1 have every
    stream but orders, day 2 lacks deliveries and orders, day 3 lacks everything."""
    store = LandingStore(str(tmp_path))
    lacking = {0: {"orders"}, 1: {"orders"}, 2: {"deliveries", "orders"}, 3: set(DAILY_STREAMS)}
    for n, missing in lacking.items():
        for stream in DAILY_STREAMS:
            if stream not in missing:
                with store.open_partition(stream, day(n), "killed"):
                    pass
    today = day(4)
    work = due_work(store, today, contract_start=day(0))
    assert work == [DueRange(day(0), day(1), ("orders",)), DueRange(day(2), day(2), ("deliveries", "orders")),
                    DueRange(day(3), day(3), DAILY_STREAMS)]
    runs = [r for r in sync_plan(work, snapshot=False) if r.job == "nightly_extract"]
    assert [r.assets for r in runs] == [("orders",), ("deliveries", "orders"), None]
    assert runs[0].tags == partition_range_tags(day(0), day(1))

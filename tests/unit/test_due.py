"""What is due: days not fully landed, grouped into contiguous ranges."""

from datetime import date, timedelta

from pipelines.due import DAILY_STREAMS, landed_days, missing_ranges, partition_range_tags
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

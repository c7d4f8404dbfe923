"""The landing store's clock: every time the store records comes from it, and the wall clock is the default."""

from datetime import UTC, date, datetime, timedelta

import pytest

from resources.io_resources import LandingResource
from resources.landing import LandingStore, open_range
from resources.settings import SettingsError, load_settings
from resources.streams import get_stream
from tests.unit.test_landing import notification

D1, D2 = date(2026, 3, 1), date(2026, 3, 2)
STREAM = get_stream("notifications")


class Clock:
    """A clock that stands still until moved."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock():
    return Clock(datetime(2026, 3, 2, 1, 0, tzinfo=UTC))


def land_one(store, run_id, day=D1):
    with store.open_partition("notifications", day, run_id) as writer:
        writer.write_record("{}", "GET /n", STREAM.flatten(notification(1, day)))
        writer.quarantine("not json", "malformed record", "GET /n")
    return writer


def test_a_partition_run_is_dated_by_the_store_clock(tmp_path, clock):
    store = LandingStore(str(tmp_path), clock=clock)
    land_one(store, "run-a")
    clock.now += timedelta(hours=1)
    land_one(store, "run-b")
    assert store.read_table("notifications", D1)["_extracted_at"].to_pylist() == [clock.now]
    assert store.read_quarantine("notifications", D1)["extracted_at"].to_pylist() == [clock.now]
    manifest = store.manifest("notifications", D1)
    assert manifest["written_at"] == clock.now.isoformat()
    assert [old["superseded_at"] for old in manifest["superseded"]] == [clock.now.isoformat()]


def test_a_range_run_is_dated_by_the_store_clock(tmp_path, clock):
    store = LandingStore(str(tmp_path), clock=clock)
    with open_range(store, "notifications", [D1, D2], "range-a") as writer:
        writer.write_values(D1, "{}", "GET /n", STREAM.flatten_values(notification(1, D1)))
        writer.quarantine(D2, "not json", "malformed record", "GET /n")
    assert store.read_table("notifications")["_extracted_at"].to_pylist() == [clock.now]
    assert store.read_quarantine("notifications")["extracted_at"].to_pylist() == [clock.now]
    assert {store.manifest("notifications", day)["written_at"] for day in (D1, D2)} == {clock.now.isoformat()}


def test_garbage_collection_reads_now_from_the_store_clock(tmp_path, clock):
    store = LandingStore(str(tmp_path), clock=clock)
    land_one(store, "run-a")
    land_one(store, "run-b")
    assert store.garbage_collect("notifications") == []  # superseded just now
    clock.now += timedelta(days=8)
    removed = store.garbage_collect("notifications")
    assert removed and all("run=run-a" in path for path in removed)
    assert store.manifest("notifications", D1)["superseded"] == []


def test_the_default_clock_is_the_wall_clock(tmp_path):
    store = LandingStore(str(tmp_path))
    before = datetime.now(UTC)
    land_one(store, "run-a")
    (stamped,) = store.read_table("notifications", D1)["_extracted_at"].to_pylist()
    assert before - timedelta(milliseconds=1) <= stamped <= datetime.now(UTC)


def test_a_pinned_clock_dates_what_the_pipeline_lands(tmp_path):
    settings = load_settings({"LANDING_ROOT": str(tmp_path), "COFASYNC_NOW": "2026-03-02T01:00:00Z"})
    store = LandingResource.from_settings(settings).store()
    land_one(store, "run-a")
    (stamped,) = store.read_table("notifications", D1)["_extracted_at"].to_pylist()
    start = datetime(2026, 3, 2, 1, tzinfo=UTC)
    assert start <= stamped < start + timedelta(minutes=5)  # it ticks from the pinned instant
    for bad in ("2026-03-02T01:00:00", "yesterday"):
        with pytest.raises(SettingsError, match="COFASYNC_NOW"):
            load_settings({"COFASYNC_NOW": bad})

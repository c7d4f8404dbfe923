"""The settling window (resources/landing/settling.py): a day listed again while it settles keeps what
earlier nights landed and adds only what is new; once final, a run replaces it; what is due settles."""

from datetime import date, timedelta

from pipelines.due import DAILY_STREAMS, DueRange, due_work, settling_days
from pipelines.plan import extraction_run, whole_range
from resources.landing import LandingStore, land_dated_records, land_records
from resources.landing.settling import Relisting, is_final, listed_on
from tests.unit.test_landing_router import D1, D2, by_event_day, notification


def store_listing_on(root, listed: date, settle_days: int = 3, replace: bool = False) -> LandingStore:
    return LandingStore(str(root), relisting=Relisting(listed, settle_days, replace))


def ids(store, day):
    return sorted(store.read_table("notifications", day)["notification_id"].to_pylist())


def test_a_day_is_final_once_listed_settle_days_after_itself():
    day = date(2026, 3, 1)
    assert not is_final({"listed_on": "2026-03-02"}, day, 3)
    assert not is_final({"listed_on": "2026-03-03"}, day, 3)
    assert is_final({"listed_on": "2026-03-04"}, day, 3)
    assert is_final({"listed_on": "2026-03-02"}, day, 0)  # no settling window: final at once
    # a manifest written before the field counts from the day it was written
    assert listed_on({"written_at": "2026-03-02T02:00:00+00:00"}) == date(2026, 3, 2)
    assert not is_final({"written_at": "2026-03-02T02:00:00+00:00", "listed_on": None}, day, 3)


def test_a_settling_day_listed_again_keeps_what_it_held_and_adds_only_the_new_records(tmp_path):
    first = store_listing_on(tmp_path, D1 + timedelta(days=1))
    land_records(first, "notifications", [D1], "run1", None, [notification(1, "2026-03-28T10:00:00Z")], by_event_day)
    again = store_listing_on(tmp_path, D1 + timedelta(days=2))
    # the API now shows a notification it showed late, and no longer the first one (it may have moved)
    summary = land_records(again, "notifications", [D1], "run2", None,
                           [notification(2, "2026-03-28T11:00:00Z"), notification(1, "2026-03-28T10:00:00Z")],
                           by_event_day)
    assert ids(again, D1) == ["N1", "N2"]
    assert summary.rows_by_day[D1] == 1 and summary.already_landed == 1  # N1 was not written twice
    assert summary.held_by_day[D1] == 2
    manifest = again.manifest("notifications", D1)
    assert manifest["run_id"] == "run2" and manifest["rows"] == 2 and manifest["listed_on"] == "2026-03-30"
    assert len(manifest["files"]) == 2 and set(manifest["file_digests"]) == set(manifest["files"])
    table = again.read_table("notifications", D1)
    assert sorted(zip(table["notification_id"].to_pylist(), table["_run_id"].to_pylist(), strict=True)) == [
        ("N1", "run1"), ("N2", "run2")]
    # garbage collection keeps the earlier run's file: the current manifest names it
    assert again.garbage_collect("notifications", retention=timedelta(0)) == []
    assert ids(again, D1) == ["N1", "N2"]


def test_a_record_quarantined_on_an_earlier_night_is_not_set_aside_again(tmp_path):
    bad = notification(9, "not-a-date")
    first = store_listing_on(tmp_path, D2)
    land_records(first, "notifications", [D1], "run1", None, [bad], by_event_day)
    again = store_listing_on(tmp_path, D2 + timedelta(days=1))
    summary = land_records(again, "notifications", [D1, D2], "run2", None, [bad], by_event_day)
    assert summary.quarantined == 0 and summary.already_landed == 1
    assert again.read_quarantine("notifications", [D1, D2])["raw_json"].to_pylist() == [bad.raw_json]


def test_a_final_day_or_a_replacing_run_replaces_what_the_day_held(tmp_path):
    first = store_listing_on(tmp_path, D1 + timedelta(days=3))  # listed 3 days after: final
    land_records(first, "notifications", [D1], "run1", None, [notification(1, "2026-03-28T10:00:00Z")], by_event_day)
    land_records(store_listing_on(tmp_path, D1 + timedelta(days=4)), "notifications", [D1], "run2", None,
                 [notification(2, "2026-03-28T11:00:00Z")], by_event_day)
    assert ids(first, D1) == ["N2"]
    # still settling, but a replacing run (a backfill: a repair) replaces too
    settling = store_listing_on(tmp_path / "b", D2)
    land_records(settling, "notifications", [D1], "run1", None, [notification(1, "2026-03-28T10:00:00Z")],
                 by_event_day)
    land_records(store_listing_on(tmp_path / "b", D2 + timedelta(days=1), replace=True), "notifications", [D1],
                 "run2", None, [notification(2, "2026-03-28T11:00:00Z")], by_event_day)
    assert ids(settling, D1) == ["N2"]


def test_a_by_id_run_over_a_settling_day_extends_it_even_after_a_checkpoint(tmp_path):
    first = store_listing_on(tmp_path, D2)
    land_records(first, "notifications", [D1], "run1", None, [notification(1, "2026-03-28T10:00:00Z")], by_event_day)
    again = store_listing_on(tmp_path, D2 + timedelta(days=1))
    again.checkpoint_seconds = 0.0  # commit each finished day at once
    triples = [(D1, notification(2, "2026-03-28T11:00:00Z"), None), (D2, notification(3, "2026-03-29T11:00:00Z"), None)]
    summary = land_dated_records(again, "notifications", [D1, D2], "run2", triples)
    assert summary.checkpoints >= 1
    assert ids(again, D1) == ["N1", "N2"] and ids(again, D2) == ["N3"]


def land_every_stream(store, day, run_id):
    for stream in DAILY_STREAMS:
        with store.open_partition(stream, day, run_id):
            pass


def test_due_work_lists_a_settling_day_again_once_a_night_until_it_is_final(tmp_path):
    day0 = date(2026, 3, 1)
    landed_on = day0 + timedelta(days=1)
    store = store_listing_on(tmp_path, landed_on)
    for stream in DAILY_STREAMS:
        land_dated_records(store, stream, [day0], "run1", [])
    assert settling_days(store) == [day0]
    assert due_work(store, landed_on, contract_start=day0) == []  # listed today already
    tomorrow = landed_on + timedelta(days=1)
    assert due_work(store, tomorrow, contract_start=day0) == [DueRange(day0, landed_on, DAILY_STREAMS, settling=1)]
    final = store_listing_on(tmp_path, day0 + timedelta(days=3))
    for stream in DAILY_STREAMS:
        land_dated_records(final, stream, [day0], "run2", [])
    assert settling_days(final) == []
    assert due_work(final, day0 + timedelta(days=4), contract_start=day0) == [
        DueRange(landed_on, day0 + timedelta(days=3), DAILY_STREAMS)]


def test_a_settling_range_says_so_and_a_backfill_replaces():
    run = extraction_run(DueRange(D1, D2, DAILY_STREAMS, settling=1))
    assert "1 settling day listed again" in run.label and "cofasync/replace" not in run.tags
    backfill = extraction_run(whole_range(D1, D2))
    assert backfill.tags["cofasync/replace"] == "true"


def test_a_settling_night_does_not_ask_again_for_a_delivery_it_set_aside(tmp_path):
    from assets.deliveries import changed_deliveries
    from assets.upstream import MissingRecord
    from resources.cofaserve import NotFoundError

    first = store_listing_on(tmp_path, D2)
    land_records(first, "notifications", [D1], "run1", None,
                 [notification(1, "2026-03-28T10:00:00Z"), notification(2, "2026-03-28T11:00:00Z")], by_event_day)
    gone = MissingRecord("delivery", "X2", "12345678", NotFoundError("404"))
    land_dated_records(first, "deliveries", [D1], "run1", [(D1, gone, None)])
    # a run that replaces (no settling window) asks for everything again
    assert set(changed_deliveries(LandingStore(str(tmp_path)), [D1])) == {"X1", "X2"}
    again = store_listing_on(tmp_path, D2 + timedelta(days=1))
    assert set(changed_deliveries(again, [D1])) == {"X1"}  # X2 was answered 404 on an earlier night
    repair = store_listing_on(tmp_path, D2 + timedelta(days=1), replace=True)
    assert set(changed_deliveries(repair, [D1])) == {"X1", "X2"}

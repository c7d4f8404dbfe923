"""Extraction against the sandbox over real HTTP: a day lands exactly its events, a nightly costs only
what changed, and malformed records are quarantined while every valid one lands."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, timedelta

import pytest

from assets.extractors import extract_asset
from assets.overdues import STATUSES
from resources.cofaserve import ClientSettings, CofaServeClient
from resources.landing import LandingStore
from resources.streams import daily_streams, get_stream, portfolio_event_day
from tests.support.policies import TEST_POLICY

PAGE_SIZE = 100
NIGHTLY = list(dict.fromkeys(get_stream(name).asset for name in daily_streams()))


def client_for(handle, tmp_path, page_size: int = PAGE_SIZE) -> CofaServeClient:
    creds = handle.credentials
    return CofaServeClient(ClientSettings.build(
        base_url=handle.base_url, auth_url=handle.auth_url, username=creds["username"],
        password=creds["password"], api_key=creds["api_key"], policy_number=creds["policy_number"],
        lockout_dir=str(tmp_path / "lockout"), page_size=page_size, max_retry_seconds=60,
    ))


def extract_days(client, store, days, run_id="run"):
    """Run every daily extraction of the nightly job, in the job's order."""
    for asset in NIGHTLY:
        extract_asset(client, store, asset, days, run_id)


def day_of(moment: str) -> date:
    return date.fromisoformat(moment[:10])


def day_with(truth_notifications, clock: str, first: date, last: date) -> date:
    """The latest day in [first, last] with a notification exactly at ``clock`` (HH:MM:SS) GMT."""
    days = [day_of(n["eventDate"]) for n in truth_notifications if n["eventDate"][11:19] == clock]
    days = [d for d in days if first <= d <= last]
    assert days, f"the sandbox world has no event at {clock}Z in [{first}, {last}]"
    return max(days)


@pytest.mark.parametrize("clock", ["00:00:00", "23:59:59"])
def test_a_day_lands_exactly_its_events_including_the_edges(sandbox, tmp_path, clock):
    today = sandbox.today
    notes = sandbox.truth("notifications")
    day = day_with(notes, clock, today - timedelta(days=600), today - timedelta(days=2))
    store = LandingStore(str(tmp_path / "landing"), policy=TEST_POLICY)
    with client_for(sandbox, tmp_path) as client:
        extract_days(client, store, [day])

    expected = {n["notificationId"] for n in notes if day_of(n["eventDate"]) == day}
    landed = store.read_table("notifications", day)
    assert sorted(landed["notification_id"].to_pylist()) == sorted(expected)
    assert clock in {t.strftime("%H:%M:%S") for t in landed["event_at"].to_pylist()}
    # nothing of the neighbouring days, in any stream
    assert store.partitions("notifications") == [day]
    assert all(t.date() == day for t in landed["event_at"].to_pylist())
    portfolio = store.read_table("portfolio", day)
    assert all(portfolio_event_day(row) == day for row in portfolio.to_pylist())

    # every decision of the day has its full detail, once
    expected_deliveries = {n["externalId"] for n in notes if day_of(n["eventDate"]) == day}
    deliveries = store.read_table("deliveries", day)
    assert sorted(deliveries["external_id"].to_pylist()) == sorted(expected_deliveries)
    assert all(t.date() == day for t in deliveries["decision_at"].to_pylist())

    # overdue cases whose last update is on that day, as the API shows them now
    latest = {}
    for version in sandbox.truth("overdue_versions"):
        if version["overdueId"] not in latest or version["version"] > latest[version["overdueId"]]["version"]:
            latest[version["overdueId"]] = version
    expected_overdues = {o for o, v in latest.items() if day_of(v["lastUpdateDate"]) == day}
    assert set(store.read_table("overdues", day)["overdue_id"].to_pylist()) == expected_overdues


def test_a_nightly_costs_only_list_pages_changed_entities_and_the_documents_of_known_cases(sandbox_factory, tmp_path):
    today = date(2026, 11, 20)
    with sandbox_factory(today=today) as sandbox:
        store = LandingStore(str(tmp_path / "landing"), policy=TEST_POLICY)
        horizon = today.replace(year=today.year - 2)
        backfill = [horizon + timedelta(days=i) for i in range((today - horizon).days)]
        with client_for(sandbox, tmp_path) as client:
            extract_days(client, store, backfill, "backfill")

        sandbox.advance(1)
        night = today  # the day that just completed
        sandbox.reset_counters()
        with client_for(sandbox, tmp_path) as client:
            extract_days(client, store, [night], "nightly")
        counters = sandbox.counters()

        notes = [n for n in sandbox.truth("notifications") if day_of(n["eventDate"]) == night]
        orders = {v["orderId"] for v in sandbox.truth("order_versions") if day_of(v["statusDate"]) == night}
        overdues = {v["overdueId"] for v in sandbox.truth("overdue_versions") if day_of(v["lastUpdateDate"]) == night}
        listed = store.manifest("portfolio", night)
        companies = len({row["easy_number"] for row in store.read_table("portfolio", night).to_pylist()})
        latest = {}
        for version in sandbox.truth("overdue_versions"):
            if version["overdueId"] not in latest or version["version"] > latest[version["overdueId"]]["version"]:
                latest[version["overdueId"]] = version
        per_status = defaultdict(int)
        for version in latest.values():
            if day_of(version["lastUpdateDate"]) == night:
                per_status[version["status"]] += 1
        overdue_pages = sum(max(1, math.ceil(per_status[s] / PAGE_SIZE)) for s in STATUSES)
        list_pages = (max(1, math.ceil(len(notes) / PAGE_SIZE)) + max(1, math.ceil(companies / PAGE_SIZE))
                      + overdue_pages)
        changed = len(notes) + len(orders) + len(overdues)
        # documents are added whenever the customer wants, without updating the case: each night asks
        # for the documents of every case it knows (the backfill's and tonight's)
        known = set(store.read_table("overdues", columns=["overdue_id"])["overdue_id"].to_pylist()) | overdues
        minimum = 1 + list_pages + changed + len(known)  # one login

    made = counters["requests"]  # logins included
    assert listed is not None
    assert changed > 0, "the sandbox made no change that night; the test would prove nothing"
    assert made <= math.floor(minimum * 1.05), (made, minimum, counters["byEndpoint"])
    # and nothing that changed was skipped
    fetched_orders = set(store.read_table("orders", night)["order_id"].to_pylist())
    assert orders <= fetched_orders


def test_malformed_records_are_quarantined_and_every_valid_record_lands(sandbox_factory, tmp_path):
    today = date(2026, 11, 23)
    with sandbox_factory(today=today, faults={"malformed_rate": 0.05}) as sandbox:
        days = [today - timedelta(days=i) for i in range(30, 0, -1)]
        store = LandingStore(str(tmp_path / "landing"), policy=TEST_POLICY)
        with client_for(sandbox, tmp_path) as client:
            extract_days(client, store, days, "faulty")
        damaged = sandbox.truth("malformed")
        notes = sandbox.truth("notifications")
        deliveries = sandbox.truth("deliveries")

    assert damaged, "no record was served damaged: raise malformed_rate"
    for stream in {entry["stream"] for entry in damaged}:
        rows = [row for day in days for row in store.read_quarantine(stream, day).to_pylist()]
        served = [entry for entry in damaged if entry["stream"] == stream]
        # every damaged record served is in quarantine, with its raw JSON and a reason
        assert len(rows) >= len(served), (stream, len(rows), len(served))
        assert all(row["reason"] and row["raw_json"] for row in rows)
    damaged_notes = {e["key"] for e in damaged if e["stream"] == "notifications"}
    in_days = [n for n in notes if days[0] <= day_of(n["eventDate"]) <= days[-1]]
    landed = {nid for day in days for nid in store.read_table("notifications", day)["notification_id"].to_pylist()}
    assert landed == {n["notificationId"] for n in in_days} - damaged_notes
    # a damaged notification still leads to its decision's detail; only damaged deliveries are missing
    damaged_deliveries = {e["key"] for e in damaged if e["stream"] == "deliveries"}
    delivery_of = {d["externalId"]: d["deliveryId"] for d in deliveries}
    got = {x for day in days for x in store.read_table("deliveries", day)["external_id"].to_pylist()}
    missing = {n["externalId"] for n in in_days} - got
    assert {delivery_of[x] for x in missing} <= damaged_deliveries


@pytest.mark.parametrize("days_back", [0, 800])
def test_a_day_outside_the_window_is_refused_before_any_call(sandbox, tmp_path, days_back):
    from resources.calendar import PartitionOutsideWindow, check_in_window

    key = (sandbox.today - timedelta(days=days_back)).isoformat()
    sandbox.reset_counters()
    with pytest.raises(PartitionOutsideWindow, match="available partitions are"):
        check_in_window(key, sandbox.today)
    assert sandbox.counters()["requests"] == 0


def test_every_endpoint_is_busy_at_once_within_its_own_budget(sandbox_factory, tmp_path):
    """With a per-endpoint limit, the by-id fetches of decisions, orders, overdue details and documents
    overlap in time (each paced by its own budget), after the lists: the sandbox's own first and last
    request per endpoint show it."""
    today = date(2026, 11, 20)
    with sandbox_factory(today=today, rate_limit="600/min") as sandbox:
        store = LandingStore(str(tmp_path / "landing"), policy=TEST_POLICY)
        days = [today - timedelta(days=n) for n in range(30, 0, -1)]
        with client_for(sandbox, tmp_path) as client:
            extract_days(client, store, days, "side-by-side")
        counters = sandbox.counters()
    spans = {endpoint.split(" ", 1)[-1]: span for endpoint, span in counters["spans"].items()}

    def span_of(ending: str) -> dict:
        (found,) = [span for endpoint, span in spans.items() if endpoint.endswith(ending)]
        return found

    by_id = [span_of(ending) for ending in ("/products/deliveries/{deliveryIdOrExternalId}",
                                            "/products/orders/{orderId}", "/overdues/{overdueId}", "/documents")]
    for first in by_id:
        for second in by_id:
            assert first["first"] < second["last"], (first, second)  # every pair overlaps in time
    assert counters["rateLimited"] <= counters["requests"] // 100  # within the budget, not by 429s


def test_one_stream_of_the_daily_asset_lands_alone_from_what_its_lists_landed(sandbox, tmp_path):
    days = [sandbox.today - timedelta(days=n) for n in range(10, 0, -1)]
    store = LandingStore(str(tmp_path / "landing"), policy=TEST_POLICY)
    with client_for(sandbox, tmp_path) as client:
        extract_days(client, store, days, "all")
        before = sorted(store.read_table("deliveries", days)["delivery_id"].to_pylist())
        sandbox.reset_counters()
        (summary,) = extract_asset(client, store, "daily_changes", days, "again", frozenset({"deliveries"}))
    assert summary.stream == "deliveries" and summary.rows == len(before) > 0
    assert sorted(store.read_table("deliveries", days)["delivery_id"].to_pylist()) == before
    assert set(store.read_table("deliveries", days)["_run_id"].to_pylist()) == {"again"}
    assert set(store.read_table("notifications", days)["_run_id"].to_pylist()) == {"all"}  # not re-listed
    assert not [e for e in sandbox.counters()["byEndpoint"] if "/notifications" in e]

"""Replaying missed pushes over real HTTP: the pull notifications are the reference, `PATCH /replay` is
asked for each missed one in its window, the ledger never goes past 7 attempts, and a message lost for
good still reaches history through the nightly pull."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit

from pipelines.push_replay import alert_payload, replay_missed
from resources.landing import LandingStore
from resources.landing.settling import Relisting
from resources.push import Inbox, PushSettings
from resources.push.ledger import PushLedger
from resources.warehouse import Warehouse
from tests.integration.test_extraction import client_for, extract_days
from tests.support.receiver import endpoint_of, serve_receiver

TOPIC = "credit_insurance_cover"
HOUR, DAY = 3600, 86400
WORLD = {"companies": 2000, "push_rate": 1000}


def _now(sb) -> datetime:
    return datetime.fromisoformat(sb.advance_push_clock(0)["now"].replace("Z", "+00:00"))


def _setup(sb, tmp_path, client):
    """Subscribe a receiver (recorded in the ledger), then stop it; returns (settings, root, port, store)."""
    settings = PushSettings("127.0.0.1", 0, "/cofaserve/push", (f"http://{urlsplit(sb.base_url).netloc}",))
    root = str(tmp_path / "landing")
    inbox = Inbox(root)
    with serve_receiver(settings, inbox) as port:
        answer = client.subscribe_push(TOPIC, endpoint_of(port, settings)).model
    ledger = PushLedger(root)
    ledger.add_subscription(answer.subscription_arn, TOPIC, f"http://127.0.0.1:{port}", _now(sb))
    ledger.close()
    return settings, root, port, inbox, LandingStore(root, policy=sb.credentials["policy_number"])


def _missed_day(sb, client, store):
    """A day passes with the receiver down; the pushes are stored; the nightly pull lands the day."""
    day = sb.today
    sb.advance_push_clock(DAY)
    sb.advance_push_clock(6 * HOUR)
    extract_days(client, store, [day], "nightly")
    return day


def test_missed_messages_are_replayed_once_the_receiver_is_back(sandbox_factory, tmp_path):
    with sandbox_factory(**WORLD) as sb, client_for(sb, tmp_path) as client:
        settings, root, port, inbox, store = _setup(sb, tmp_path, client)
        _missed_day(sb, client, store)
        stored = [m for m in sb.push_messages() if m["state"] == "stored"]
        assert stored and inbox.count() == 0
        with serve_receiver(settings, inbox, port=port):
            report = replay_missed(client, [store], root, now=_now(sb))
            assert report.missed == report.asked == len(stored)
            assert dict(report.outcomes) == {"accepted": len(stored)} and not report.lost
            sb.advance_push_clock(1)
        assert inbox.received() == {m["notificationId"] for m in stored}
        again = replay_missed(client, [store], root, now=_now(sb))
        assert again.missed == again.asked == 0
        ledger = PushLedger(root)
        assert set(ledger.attempts().values()) == {1}
        ledger.close()


def test_a_message_past_seven_replays_is_reported_lost_and_the_pull_still_has_its_decision(sandbox_factory, tmp_path):
    with sandbox_factory(**WORLD) as sb, client_for(sb, tmp_path) as client:
        settings, root, port, inbox, store = _setup(sb, tmp_path, client)
        day = _missed_day(sb, client, store)
        missed = {m["notificationId"] for m in sb.push_messages()}
        assert missed
        for attempt in range(7):  # the receiver stays down: every replayed process fails
            report = replay_missed(client, [store], root, now=_now(sb))
            assert report.asked == len(missed), attempt
            sb.advance_push_clock(2 * HOUR)
        assert set(report.at_risk) == missed and alert_payload(report, "run") is not None
        last = replay_missed(client, [store], root, now=_now(sb))
        assert last.asked == 0 and set(last.lost) == missed
        assert "lost" in alert_payload(last, "run")["message"]
        ledger = PushLedger(root)
        assert set(ledger.attempts().values()) == {7}, "never past 7"
        ledger.close()
        assert {m["state"] for m in sb.push_messages()} == {"lost"}
        warehouse = Warehouse(f"duckdb:///{tmp_path}/w.duckdb")
        warehouse.build(store)
        truth = {n["notificationId"]: n["externalId"] for n in sb.truth("notifications")}
        history = {r["external_id"] for r in warehouse.query("select external_id from history.decision_history")}
        assert {truth[n] for n in missed} <= history, "the nightly pull brought every decision push lost"
        assert day < sb.today


def test_a_notification_too_young_to_replay_waits(sandbox_factory, tmp_path):
    with sandbox_factory(**WORLD) as sb, client_for(sb, tmp_path) as client:
        settings, root, port, inbox, store = _setup(sb, tmp_path, client)
        day = sb.today
        sb.advance_push_clock(DAY)
        extract_days(client, store, [day], "nightly")
        young = replay_missed(client, [store], root, now=_now(sb) - timedelta(hours=20))
        assert young.missed and young.too_early == young.missed and young.asked == 0


def test_a_decision_the_pull_shows_late_is_reported_known_only_by_push_until_it_settles(sandbox_factory, tmp_path):
    with sandbox_factory(**WORLD, faults={"late_rate": 0.5, "late_hours": 40}) as sb, \
            client_for(sb, tmp_path) as client:
        settings, root, port, inbox, store = _setup(sb, tmp_path, client)
        day = sb.today
        with serve_receiver(settings, inbox, port=port):
            sb.advance_push_clock(DAY)
        extract_days(client, store, [day], "nightly")
        report = replay_missed(client, [store], root, now=_now(sb))
        pulled = set(store.read_table("notifications", day, columns=["notification_id"])["notification_id"].to_pylist())
        pushed = inbox.received()
        assert report.missed == 0 and report.push_only, "the API's list showed some decisions late"
        assert set(report.push_only) == pushed - pulled
        assert "known only by push" in report.summary()
        sb.advance_push_clock(2 * DAY)  # the late ones are listed now: the settling night brings them
        extract_days(client, LandingStore(root, policy=store.policy).with_relisting(
            Relisting(sb.today, 3)), [day], "settling")
        assert replay_missed(client, [store], root, now=_now(sb)).push_only == []


def test_a_replay_whose_answer_failed_is_not_asked_twice_counts_as_spent_and_is_asked_next_pass(sandbox_factory,
                                                                                               tmp_path):
    with sandbox_factory(**WORLD) as sb, client_for(sb, tmp_path) as client:
        settings, root, port, inbox, store = _setup(sb, tmp_path, client)
        _missed_day(sb, client, store)
        stored = {m["notificationId"] for m in sb.push_messages() if m["state"] == "stored"}
        assert stored
        with serve_receiver(settings, inbox, port=port):
            sb.set_faults({"queue": ["500"]})  # the first PATCH /replay answers 500: did Coface take it?
            first = replay_missed(client, [store], root, now=_now(sb))
            unknown = min(len(stored), 100)  # one batch of the pass
            assert first.outcomes["outcome_unknown"] == unknown
            assert first.outcomes["accepted"] == len(stored) - unknown
            assert sb.counters()["faults"].get("error", 0) == 1, "the PATCH was sent once, not retried"
            ledger = PushLedger(root)
            assert sorted(ledger.attempts().values()) == [1] * len(stored), "an unknown outcome counts as spent"
            ledger.close()
            sb.advance_push_clock(1)
            second = replay_missed(client, [store], root, now=_now(sb))
            assert second.asked == unknown and second.outcomes["accepted"] == unknown
            sb.advance_push_clock(1)
        assert inbox.received() == stored

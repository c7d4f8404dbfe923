"""Exactness with push on: the same hostile nights as `test_exactness`, with the receiver subscribed to
every topic for the whole run and each day's pushed messages landed (then the models built) before the
night's sync, as the push sensor and models_after_extract do in production.

History must then be exact by the oracle's rules with its rule "Push", and identical to what a pull-only
run holds (the oracle without that rule): the same versions, validity, values, closing rows, orders,
overdue cases and temporary numbers; push only ever records a decision earlier (one the lists showed
late was recorded the day it was pushed). The last PULL_ONLY_NIGHTS nights land no push, so that every
pushed decision was pulled by the end; the replay pass then reports none missed, and as known only by
push exactly the pushed notifications the lists had not shown yet.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest

from sandbox.testing import run_sandbox_process
from tests.support.exactness import NightlyDriver, Truth, compare_with_truth
from tests.support.exactness.push import PushOn
from tests.support.exactness.values import visible_before
from tests.support.scratch import scratch_dir

pytestmark = [pytest.mark.slow, pytest.mark.timeout(3600)]

TODAY = date(2026, 11, 23)
NIGHTS = 6
PULL_ONLY_NIGHTS = 2  # the lists show a late decision within 40 h: two nights bring every pushed one
CONTRACT_DAYS = 14
SNAPSHOT_NIGHTS = {3, NIGHTS}
FAULTS = {"preset": "mild", "revoke_rate": 0.003, "malformed_rate": 0.01, "late_rate": 0.3, "late_hours": 40}
OPENING = ["revoke", "503", "cut", "429", "500"]


@dataclass
class PushRun:
    driver: NightlyDriver
    push: PushOn
    truth: Truth
    messages: list[dict]
    replay_output: str
    in_history_before_sync: dict[date, set[str]] = field(default_factory=dict)


@pytest.fixture(scope="module")
def push_run():
    root = scratch_dir("exactness-push-")
    try:
        with run_sandbox_process(seed=42, companies=3000, today=TODAY, faults="none",
                                 extra_args=("--push-rate", "1000")) as sb:
            driver = NightlyDriver(sb, root, f"duckdb:///{root}/warehouse.duckdb",
                                   contract_start=TODAY - timedelta(days=CONTRACT_DAYS))
            push = PushOn(driver)
            seen_before_sync: dict[date, set[str]] = {}
            with push.receiving():
                sb.set_faults({**FAULTS, "queue": OPENING})
                driver.sync()
                for night in range(1, NIGHTS + 1):
                    driver.advance()  # the day's decisions are pushed as the sandbox's day starts
                    sb.set_faults({**FAULTS, "queue": OPENING})  # the push landing meets the faults first
                    if night <= NIGHTS - PULL_ONLY_NIGHTS:
                        push.land()
                        seen_before_sync[sb.today] = {r["delivery_id"] for r in driver.warehouse().query(
                            "select delivery_id from history.decision_history where delivery_id is not null")}
                    driver.sync(snapshot=night in SNAPSHOT_NIGHTS)
                messages = push.delivered()
                replay = driver.run(["replay"])
                assert replay.ok, replay.tail()
            yield PushRun(driver, push, Truth.load(sb), messages, replay.stdout, seen_before_sync)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _late_shown(truth: Truth, night: date) -> set[str]:
    """The deliveries the dated lists had not shown yet on ``night`` (the sandbox's late visibility)."""
    return {d["deliveryId"] for d in truth.deliveries if d.get("listedFrom", "") >= visible_before(night)}


def test_every_published_message_was_delivered_and_the_pushed_days_landed(push_run):
    assert push_run.messages and all(m["state"] == "delivered" for m in push_run.messages)
    landings = push_run.push.landings
    assert [x["day"] for x in landings] == [TODAY + timedelta(days=n) for n in range(1, NIGHTS - PULL_ONLY_NIGHTS + 1)]
    assert all(x["messages"] > 0 for x in landings), landings
    landed = set(push_run.push.landed_on)
    waiting = {m["notificationId"] for m in push_run.messages} - landed
    assert landed and waiting, "the pull-only nights left the last days' messages in the inbox"


def test_pushed_decisions_were_in_history_before_the_nights_sync(push_run):
    truth, pushed = push_run.truth, push_run.push.pushed(push_run.truth)
    damaged = set(truth.damaged("deliveries"))
    for day, in_history in push_run.in_history_before_sync.items():
        of_day = {d for d, landed in pushed.items() if landed == day and d not in damaged}
        assert of_day and of_day <= in_history, (day, sorted(of_day - in_history)[:5])


def test_history_with_push_on_equals_the_truth(push_run):
    pushed = push_run.push.pushed(push_run.truth)
    report = compare_with_truth(push_run.driver, push_run.truth, pushed=pushed)
    assert report.ok, report.describe()
    counts = report.counts
    assert counts["decision_versions"] > counts["decision_keys"] > 100, counts
    assert counts["snapshots"] >= len(SNAPSHOT_NIGHTS) and counts["shown_late"] >= 1, counts
    assert counts["malformed_served"] >= 1 and counts["quarantined_rows"] >= counts["malformed_served"], counts
    in_history = {r["delivery_id"] for rows in report.actual.decisions.values() for r in rows}
    assert len(set(pushed) & in_history) >= 5 * len(push_run.push.landings), (len(pushed), "pushed decisions")


def test_history_with_push_on_is_the_pull_only_history_recorded_no_later(push_run):
    """Against the pull-only oracle, the only differences are the recording day of decisions the lists
    showed late: push recorded each on the day it was pushed, before the pull could list it."""
    truth, driver = push_run.truth, push_run.driver
    pushed = push_run.push.pushed(truth)
    report = compare_with_truth(driver, truth)
    other = [d for d in report.discrepancies if (d.entity, d.note) != ("decision_history", "recorded_at")]
    assert not other, "\n".join(map(str, other[:20]))
    earlier = {}
    for found in report.discrepancies:
        key, number = found.key
        version = report.actual.decisions[key][number - 1]
        earlier[version["delivery_id"]] = (found.expected, version["recorded_at"].date())
    late_when_pushed = {d for d, day in pushed.items() if d in _late_shown(truth, day)}
    assert earlier and set(earlier) <= late_when_pushed, sorted(set(earlier) - late_when_pushed)[:5]
    for delivery_id, (expected, recorded) in earlier.items():
        assert recorded == pushed[delivery_id], (delivery_id, expected, recorded)
        night = date.fromisoformat(expected.removeprefix("recorded on night "))
        assert recorded < night, (delivery_id, expected, recorded)


def test_the_replay_pass_misses_nothing_and_names_what_only_push_knows(push_run):
    out = push_run.replay_output
    missed = re.search(r"(\d+) pushed messages missed", out)
    only_push = re.search(r"(\d+) known only by push", out)
    assert missed and only_push, out
    assert int(missed.group(1)) == 0, out
    last = push_run.driver.nights[-1].today
    by_external = {d["externalId"]: d for d in push_run.truth.deliveries}
    notified = {n["notificationId"]: by_external[n["externalId"]] for n in push_run.truth.notifications}
    damaged = set(push_run.truth.damaged("notifications"))  # the pull quarantined its record
    expected = {nid for nid in (m["notificationId"] for m in push_run.messages)
                if notified[nid]["deliveryId"] in _late_shown(push_run.truth, last) or nid in damaged}
    assert int(only_push.group(1)) == len(expected), (out, sorted(expected))

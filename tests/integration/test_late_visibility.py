"""Late data: a decision or an overdue version the API's dated lists show only hours after its event
time lands on a later night, because each night lists the days still settling again (issue #10 item 2).

The sandbox's `late` fault shows a share of records in the notifications, portfolio and overdue lists
only up to `late_hours` after their event (truth `listedFrom`); by id they are served at once. Without the
settling window (`COFASYNC_SETTLE_DAYS=0`) a record shown after the night that listed its day never
arrives; with it (the default, 3 nights) every one lands, in the partition of its own day, and the
by-id calls of a settling day are only those of the records it did not hold yet.
"""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta

import pytest

from sandbox.testing import run_sandbox_process
from tests.support.exactness import NightlyDriver, Truth, compare_with_truth
from tests.support.exactness.values import day
from tests.support.scratch import scratch_dir

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

TODAY = date(2026, 11, 23)
LATE = {"late_rate": 0.5, "late_hours": 40}
CONTRACT_DAYS, NIGHTS = 8, 4


def nights(settle_days: int):
    """A small world with the late fault: a backfill of the contract's days, then NIGHTS nightly syncs;
    returns the driver's store, the truth, and the counters of the last night."""
    root = scratch_dir("late-visibility-")
    try:
        with run_sandbox_process(seed=7, companies=1000, today=TODAY, faults=json.dumps(LATE)) as sb:
            driver = NightlyDriver(sb, root, f"duckdb:///{root}/warehouse.duckdb",
                                   contract_start=TODAY - timedelta(days=CONTRACT_DAYS),
                                   extra_env={"COFASYNC_SETTLE_DAYS": str(settle_days)})
            driver.sync()
            for _ in range(NIGHTS - 1):
                driver.advance()
                driver.sync()
            driver.advance()
            sb.reset_counters()
            driver.sync()
            truth, counters = Truth.load(sb), sb.counters()
            report = compare_with_truth(driver, truth)
            landed = set(driver.store().read_table("deliveries", columns=["delivery_id"])["delivery_id"].to_pylist())
            notified = set(driver.store().read_table("notifications", columns=["external_id"])["external_id"]
                           .to_pylist())
            return driver, truth, counters, report, landed, notified
    finally:
        shutil.rmtree(root, ignore_errors=True)


def shown_after_their_night(truth: Truth, last_day: date) -> list[dict]:
    """Decisions of the synced days that the lists showed only after the night that first listed their day."""
    first = TODAY - timedelta(days=CONTRACT_DAYS)
    return [d for d in truth.deliveries if d.get("listedFrom") and first <= day(d["decisionDate"]) <= last_day
            and day(d["listedFrom"]) > day(d["decisionDate"])]


@pytest.fixture(scope="module")
def settled():
    return nights(settle_days=3)


def test_every_decision_shown_late_lands_with_its_notification(settled):
    driver, truth, _counters, report, landed, notified = settled
    last_settled = driver.nights[-1].today - timedelta(days=3)  # older days are final: everything shown
    late = shown_after_their_night(truth, last_settled)
    assert len(late) >= 4, len(late)
    assert {d["deliveryId"] for d in late} <= landed
    assert {d["externalId"] for d in late} <= notified
    assert report.ok, report.describe()  # the exactness oracle models the lag: exact under it


def test_a_settling_night_fetches_by_id_only_what_it_did_not_hold(settled):
    driver, truth, counters, _report, _landed, _notified = settled
    tonight = driver.nights[-1]
    assert len(tonight.days) == 3  # yesterday and the two days still settling
    yesterday = tonight.today - timedelta(days=1)

    def shown_on(d, night):
        return not d.get("listedFrom") or day(d["listedFrom"]) < night

    # the decisions of tonight's days shown tonight and not last night (yesterday was never listed)
    new_tonight = [d for d in truth.deliveries if day(d["decisionDate"]) in tonight.days and shown_on(d, tonight.today)
                   and (day(d["decisionDate"]) == yesterday or not shown_on(d, yesterday))]
    calls = counters["byEndpoint"].get(
        "GET /tci/product/v1/companies/{easyNumber}/products/deliveries/{deliveryIdOrExternalId}", 0)
    # the decisions first shown since the last night, and those the portfolio rows name; never a delivery
    # an earlier night of a settling day fetched
    assert len(new_tonight) <= calls <= len(new_tonight) + 5, (calls, len(new_tonight))


def test_without_the_settling_window_a_decision_shown_late_never_arrives():
    driver, truth, _counters, report, landed, _notified = nights(settle_days=0)
    late = shown_after_their_night(truth, driver.nights[-1].today - timedelta(days=1))
    lost = [d for d in late if d["deliveryId"] not in landed]
    assert lost, "every late decision landed although no day was listed twice"
    assert report.ok, report.describe()  # the oracle agrees: they were never exposed to the pipeline

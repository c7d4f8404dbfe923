"""A backfill killed after a checkpoint keeps what the checkpoint committed, and the rerun fetches only the
rest (issue 13, checkpoints).

`cofasync sync` backfills a contract window against a rate-limited sandbox with a checkpoint every
second; once a checkpoint of the deliveries has committed days, the process is SIGKILLed. Then:
- the days the checkpoint committed read back whole (every decision their lists name is landed);
- the rerun pages the notifications no more and fetches exactly the deliveries of the days no checkpoint held (none
  of those a checkpoint holds is fetched twice);
- the warehouse built after the rerun equals the sandbox's truth (the exactness oracle).
"""

from __future__ import annotations

import shutil
from datetime import date, timedelta

import pytest

from assets.deliveries import changed_deliveries
from sandbox.testing import run_sandbox_process
from tests.support.exactness import Kill, NightlyDriver, Truth, compare_with_truth
from tests.support.scratch import scratch_dir

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

TODAY = date(2026, 11, 23)
CONTRACT_DAYS = 40


@pytest.fixture(scope="module")
def killed_backfill():
    root = scratch_dir("checkpoint-")
    try:
        with run_sandbox_process(seed=7, companies=200, today=TODAY, faults="none", rate_limit="900/min") as sb:
            driver = NightlyDriver(sb, root, f"duckdb:///{root}/warehouse.duckdb",
                                   contract_start=TODAY - timedelta(days=CONTRACT_DAYS),
                                   extra_env={"COFASYNC_CHECKPOINT_SECONDS": "1"})
            night = driver.sync(kills=[Kill("checkpoint", 0.5, stream="deliveries")])
            yield driver, night, Truth.load(sb), sb.counters()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _killed(night):
    killed = [a for a in night.attempts if a.killed]
    assert len(killed) == 1 and killed[0].kill_phase == "checkpoint", [a.tail() for a in night.attempts]
    assert killed[0].returncode == -9 and killed[0].at_kill is not None
    return killed[0]


def test_the_checkpoint_held_some_days_and_not_all(killed_backfill):
    driver, night, _, _ = killed_backfill
    held = _killed(night).at_kill["held_days"]
    assert held, "the kill came before any checkpoint"
    assert len(held) < len(night.days), "the deliveries had finished before the kill: nothing was resumed"
    assert held == night.days[:len(held)], "a checkpoint commits the days before the one being fetched"


def test_the_rerun_fetched_only_the_deliveries_no_checkpoint_held(killed_backfill):
    driver, night, _, final = killed_backfill
    at_kill = _killed(night).at_kill
    store = driver.store()
    held = set(at_kill["held_days"])
    wanted = changed_deliveries(store, night.days)
    held_ids = [key for key, (_, day) in wanted.items() if day in held]
    rest = [key for key, (_, day) in wanted.items() if day not in held]
    assert held_ids and rest

    def calls(counters, path_end):
        return sum(n for endpoint, n in counters["byEndpoint"].items() if endpoint.endswith(path_end))

    def rerun(path_end):
        return calls(final, path_end) - calls(at_kill["counters"], path_end)

    assert rerun("/deliveries/{deliveryIdOrExternalId}") == len(rest), (len(rest), len(held_ids), final["byEndpoint"])
    # the lists had all landed before the by-id fetches began: not paged again (the portfolio endpoint
    # does serve the rerun, for the first reconciliation snapshot, which the killed attempt never reached)
    assert rerun("/notifications") == 0, final["byEndpoint"]
    # every decision the held days' lists name was landed by the killed run's checkpoint
    landed = store.read_table("deliveries", sorted(held), columns=["_partition"]).num_rows
    assert landed >= len(held_ids)


def test_the_warehouse_after_the_rerun_equals_the_truth(killed_backfill):
    driver, _, truth, _ = killed_backfill
    report = compare_with_truth(driver, truth)
    assert report.ok, report.describe()

"""The soak, short (issue 7): hostile faults and late visibility every night, two syncs killed with SIGKILL
mid-way (one while extracting, one while building the warehouse) and resumed the same night, one landed
file damaged then named by `cofasync verify` and repaired by re-extraction, then the history tables equal
the sandbox's ground truth (tests/support/exactness/), every damaged record is in quarantine, and no login was
locked out. The long version is `make soak` (bench/soak.py, 30 nights after a two-year backfill); this
one keeps every ingredient with fewer nights and a contract start 14 days back, so the backfill is short.
"""

from __future__ import annotations

import shutil

import pytest

from bench.soak import soak
from tests.support.scratch import scratch_dir

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

NIGHTS = 4  # two of them killed and resumed: every ingredient, in less of the suite's time


@pytest.fixture(scope="module")
def figures():
    root = scratch_dir("soak-")
    try:
        # a night takes well under a minute; the watchdog only turns a hung sync into a failure
        yield soak(root, nights=NIGHTS, companies=200, kills=2, faults="hostile", contract_days=14, rng_seed=3,
                   night_timeout=300)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_two_syncs_were_killed_mid_way_and_resumed(figures):
    phases = [k["phase"] for k in figures["kills"]]
    assert sorted(phases) == ["building", "extract"], figures["kills"]
    for attempt in figures["killed_attempts"]:
        assert attempt.returncode == -9  # SIGKILL, not a clean exit
    # every night (the backfill and NIGHTS more) ended with a completed sync: the killed ones were re-run
    assert figures["attempts"] >= NIGHTS + 1 + len(figures["kills"])


def test_every_hostile_fault_was_served(figures):
    for kind in ("error", "throttle", "cut", "revoke"):
        assert figures["faults"].get(kind, 0) >= NIGHTS, figures["faults"]
    assert figures["malformed_served"] > 0
    assert figures["http_status"].get("401", 0) >= NIGHTS and figures["http_status"].get("429", 0) >= NIGHTS


def test_a_damaged_file_was_named_by_verify_and_repaired_by_re_extraction(figures):
    damaged = figures["damaged"]
    assert damaged["named"] and damaged["repair"].startswith("backfill --from"), damaged["said"]
    assert damaged["repaired"], damaged["said"]


def test_no_login_was_locked_out(figures):
    assert figures["logins"]["lockouts"] == 0, figures["logins"]
    assert figures["logins"]["failures"] == 0, figures["logins"]


def test_history_equals_the_truth_after_the_soak(figures):
    report = figures["report"]
    assert report.ok, report.describe()
    counts = report.counts
    assert counts["decision_versions"] > 0 and counts["order_versions"] > counts["orders"] > 0, counts
    assert counts["malformed_served"] >= 1 and counts["quarantined_rows"] >= counts["malformed_served"], counts

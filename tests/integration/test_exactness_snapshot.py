"""Invariant 5 for reconciliation snapshots: a company whose snapshot record is quarantined (damaged) was
still listed by the API, so the history must not close its products as deleted. Its own run, apart from
tests/integration/test_exactness.py's module fixture, so that the two can run on different workers."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta

import pytest

from sandbox.testing import run_sandbox_process
from tests.integration.test_exactness import TODAY
from tests.support.exactness import NightlyDriver, Truth, compare_with_truth
from tests.support.scratch import scratch_dir

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]


def test_a_quarantined_snapshot_record_is_not_a_deletion():
    """The API listed the company; only its record was damaged. Fault seed 24 damages four companies'
    portfolio records (every kind), one of them with a decision inside the 90-day window backfilled here:
    the history must hold that decision open, with no closing row."""
    root = scratch_dir("exactness-")
    faults = json.dumps({"malformed_rate": 0.01, "seed": 24})
    try:
        with run_sandbox_process(seed=42, companies=200, today=TODAY, faults=faults) as sb:
            driver = NightlyDriver(sb, root, f"duckdb:///{root}/warehouse.duckdb",
                                   contract_start=TODAY - timedelta(days=90))
            driver.sync()
            driver.advance()
            driver.sync(snapshot=True)
            truth = Truth.load(sb)
        damaged = {m["key"] for m in truth.malformed if m["stream"] == "portfolio"}
        assert damaged, "the world served no damaged portfolio record: the test would prove nothing"
        report = compare_with_truth(driver, truth)
        assert report.ok, report.describe()
    finally:
        shutil.rmtree(root, ignore_errors=True)

"""Two `cofasync sync` on one Dagster home: the second waits for the first and then finds nothing due, so
the API budget is spent once; a run whose process was killed shows as interrupted, not as started."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from datetime import timedelta

from sandbox.testing import run_sandbox_process
from tests.e2e.test_cli import COFASYNC, TODAY, cofasync, env_for

DELIVERY = "GET /tci/product/v1/companies/{easyNumber}/products/deliveries/{deliveryIdOrExternalId}"


def test_a_second_sync_waits_for_the_first_and_finds_nothing_due(tmp_path):
    with run_sandbox_process(companies=60, today=TODAY, rate_limit="1200/min") as handle:
        env = env_for(handle, tmp_path, COFASERVE_CONTRACT_START=(TODAY - timedelta(days=20)).isoformat())
        first = subprocess.Popen([COFASYNC, "sync"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while handle.counters()["requests"] == 0 and time.monotonic() < deadline:
            time.sleep(0.1)  # the first has started calling the API
        second = cofasync(env, "sync")
        out, err = first.communicate(timeout=600)
        assert first.returncode == 0, err
        assert second.returncode == 0, second.stderr
        assert f"waiting for cofasync sync (pid {first.pid})" in second.stdout
        assert "every day up to yesterday has landed" in second.stdout
        deliveries = handle.counters()["byEndpoint"].get(DELIVERY, 0)
        assert deliveries > 0 and f"delivery {deliveries:,}" in out  # every delivery call was the first's


def test_a_killed_run_shows_as_interrupted_until_the_next_sync_closes_it(tmp_path):
    with run_sandbox_process(companies=60, today=TODAY, rate_limit="120/min") as handle:
        env = env_for(handle, tmp_path, COFASERVE_CONTRACT_START=(TODAY - timedelta(days=20)).isoformat())
        proc = subprocess.Popen([COFASYNC, "sync"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        deadline = time.monotonic() + 120
        while handle.counters()["byEndpoint"].get(DELIVERY, 0) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        shown = cofasync(env, "status")
        assert shown.returncode == 0, shown.stderr
        assert "INTERRUPTED  (its process ended without finishing" in shown.stdout
        assert "STARTED" not in shown.stdout
        resumed = cofasync(env, "sync")
        assert resumed.returncode == 0, resumed.stderr
        assert "marked failed" in resumed.stdout
        assert "INTERRUPTED" not in cofasync(env, "status").stdout

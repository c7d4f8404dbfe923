"""Two real processes of one API user against the sandbox's per-endpoint limit: one budget folder keeps
them within it together; a folder each (every process pacing itself at the full limit) does not.

Each process (tests/support/budget_worker.py, run with ``sys.executable``) lists the policies N times,
one request each, on the same endpoint and credentials. The sandbox counts requests per (endpoint, user)
in fixed windows and answers 429 over the limit, so its ``rateLimited`` counter is the number of
requests that would have put a window over the limit.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LIMIT, WINDOW = 120, 10  # 120 requests per 10 s window: the wire contract's shape, six times faster
CALLS = 80  # per process: 2 x 80 = 160 > LIMIT, yet each process alone stays within it
POLICIES = "GET /tci/policy/v1/policies"


def run_pair(sb, tmp_path: Path, budget_dirs: tuple[Path, Path]) -> tuple[list[dict], float]:
    """Start both workers, release them together, return their figures and the seconds they took."""
    creds = sb.credentials
    procs, signals = [], []
    go = tmp_path / "go"
    for n, budget_dir in enumerate(budget_dirs):
        options = {
            "budget_dir": str(budget_dir), "lockout_dir": str(tmp_path / "guard"),
            "rate_limit_window_seconds": WINDOW, "max_attempts": 50, "max_retry_seconds": 600,
            "backoff_base_seconds": 0.05, "backoff_cap_seconds": 1.0, "timeout_seconds": 30,
        }
        env = {
            **os.environ, "PYTHONPATH": str(ROOT),
            "COFASERVE_BASE_URL": sb.base_url, "COFASERVE_AUTH_URL": sb.auth_url,
            "COFASERVE_USERNAME": creds["username"], "COFASERVE_PASSWORD": creds["password"],
            "COFASERVE_API_KEY": creds["api_key"], "COFASERVE_POLICY_NUMBER": creds["policy_number"],
            "COFASERVE_CLIENT_OPTIONS": json.dumps(options),
        }
        ready = tmp_path / f"ready-{n}"
        signals.append(ready)
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "tests.support.budget_worker", str(CALLS), str(ready), str(go)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        ))
    try:
        deadline = time.monotonic() + 120
        while not all(s.exists() for s in signals):
            assert all(p.poll() is None for p in procs), [p.communicate() for p in procs if p.poll() is not None]
            assert time.monotonic() < deadline, "the workers did not log in"
            time.sleep(0.01)
        sb.reset_counters()  # count from the start signal: the logins are not the test's requests
        go.touch()
        started = time.monotonic()
        outputs = [p.communicate(timeout=300) for p in procs]
        elapsed = time.monotonic() - started
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    for p, (_, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err
    go.unlink()
    for s in signals:
        s.unlink()
    return [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs], elapsed


@pytest.mark.slow
def test_two_processes_of_one_user_share_one_budget_and_meet_no_429(sandbox_factory, tmp_path):
    with sandbox_factory(rate_limit=f"{LIMIT}/{WINDOW}s") as sb:
        shared = tmp_path / "budget"
        figures, elapsed = run_pair(sb, tmp_path, (shared, shared))
        counters = sb.counters()
    assert [f["shared_folder"] for f in figures] == [str(shared)] * 2  # neither fell back to memory
    assert [f["calls_ok"] for f in figures] == [CALLS, CALLS]
    assert sum(f["http_429"] for f in figures) == 0
    assert counters["rateLimited"] == 0 and counters["byEndpoint"][POLICIES] == 2 * CALLS
    assert sum(f["requests"] for f in figures) == 2 * CALLS
    # one schedule for both: no faster than the limit allows together (load only makes it slower)
    assert elapsed >= (2 * CALLS - 2) * WINDOW / LIMIT


@pytest.mark.slow
def test_with_a_budget_folder_each_the_same_load_meets_the_limit(sandbox_factory, tmp_path):
    """The old behaviour (each process paces alone at the full limit), so that the test above can fail."""
    with sandbox_factory(rate_limit=f"{LIMIT}/{WINDOW}s") as sb:
        figures, _ = run_pair(sb, tmp_path, (tmp_path / "budget-a", tmp_path / "budget-b"))
        counters = sb.counters()
    assert [f["calls_ok"] for f in figures] == [CALLS, CALLS]  # the retries got every call through
    refused = sum(f["http_429"] for f in figures)
    assert refused >= 1 and counters["rateLimited"] == refused
    assert counters["byEndpoint"][POLICIES] == 2 * CALLS + refused

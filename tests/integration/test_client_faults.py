"""Each fault kind of the sandbox, over real HTTP: the client still returns exactly the ground truth, once each."""

import logging

import pytest

from tests.integration.test_client_harness import (
    assert_exact,
    client_for,
    expected,
    full_window,
    malformed_keys,
    read_everything,
    start_sandbox,
)

FAULTS = {
    # 500/503 bursts
    "server-errors": ({"error_rate": 0.1, "error_burst": 3}, "error"),
    # 429 storms with Retry-After (each one honoured: keep them rare so the test stays short)
    "throttle-storms": ({"throttle_rate": 0.01, "throttle_burst": 3, "retry_after": 1}, "throttle"),
    # headers and half the body, then the connection is closed
    "cut-connections": ({"cut_rate": 0.1}, "cut"),
    # every token revoked mid-run
    "token-revocations": ({"revoke_rate": 0.03}, "revoke"),
    # slow answers past the client's read timeout
    "timeouts": ({"latency_rate": 0.05, "latency_ms": 600}, "latency"),
    # schema-violating records
    "malformed-records": ({"malformed_rate": 0.05}, None),
    # everything at once
    "hostile": ("hostile", None),
}


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.slow) if n == "hostile" else n for n in FAULTS]
)
def test_reads_exactly_the_truth_under_faults(tmp_path, name):
    spec, counter = FAULTS[name]
    overrides = {"timeout_seconds": 0.3} if name == "timeouts" else {}
    with start_sandbox(faults=spec) as sb, client_for(sb, tmp_path / "guard", **overrides) as client:
        window = full_window(sb)
        read = read_everything(client, window)
        sb.set_faults("none")
        report = assert_exact(read, expected(sb, window), malformed_keys(sb))
        counters = sb.counters()
        snapshot = client.telemetry.snapshot()
    if counter is not None:
        assert counters["faults"].get(counter, 0) > 0, f"the sandbox injected no {counter} fault"
    if name in ("server-errors", "throttle-storms", "cut-connections", "timeouts", "hostile"):
        assert snapshot["retries"] > 0
    if name == "throttle-storms":
        assert snapshot["http_429"] == counters["faults"]["throttle"]
    if name == "token-revocations":
        revocations = counters["faults"]["revoke"]
        assert snapshot["replays"] >= revocations  # every request in flight at a revocation replays
        # threads holding the same stale token share one renewal: at most one login per revocation
        assert counters["login"]["attempts"] == snapshot["logins"] == counters["login"]["successes"] <= revocations + 1
    invalid = sum(r["invalid"] for r in report.values())
    if name in ("malformed-records", "hostile"):
        assert invalid > 0 and invalid == snapshot["records_invalid"]
    else:
        assert invalid == 0


def test_a_faulty_run_logs_no_secret(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)  # every logger: the client's, httpx's, httpcore's
    faults = {"preset": "hostile", "throttle_rate": 0.005, "revoke_rate": 0.01, "malformed_rate": 0.02}
    with start_sandbox(faults=faults) as sb, client_for(sb, tmp_path / "guard") as client:
        read_everything(client, full_window(sb))
        password, api_key = sb.credentials["password"], sb.credentials["api_key"]
        snapshot = client.telemetry.snapshot()
    text = caplog.text + str(snapshot) + repr(client) + repr(client.settings)
    assert snapshot["retries"] > 0 and "retrying" in text
    assert password not in text and api_key not in text
    assert "eyJ" not in text  # no JWT (idToken, accessToken) anywhere

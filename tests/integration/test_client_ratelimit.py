"""The rate budget against the sandbox's rate limiter: close to the limit, (almost) never over it."""

import time

import pytest

from tests.integration.test_client_harness import client_for, full_window, start_sandbox

LIMIT_PER_MINUTE = 600  # 10 requests per second per endpoint


@pytest.mark.slow
def test_a_long_listing_stays_within_the_limit_without_429(tmp_path):
    """The budget never outruns the server's limit (how close it gets is measured by
    bench/client_rate_budget.py: speed is not asserted in tests)."""
    with start_sandbox(rate_limit=f"{LIMIT_PER_MINUTE}/min") as sb, client_for(sb, tmp_path / "guard", page_size=5) as client:
        window = full_window(sb)
        stream = client.iter_notifications(window)
        first = next(stream)
        start = time.monotonic()
        rest = sum(1 for _ in stream)
        elapsed = time.monotonic() - start
        snapshot = client.telemetry.snapshot()
    pages = snapshot["requests.notifications"]
    assert 1 + rest == stream.reported_total and first.ok
    assert pages >= 60
    # no faster than the limit allows (a slow machine only makes this easier), and no 429 to show for it
    assert elapsed >= (pages - 2) / (LIMIT_PER_MINUTE / 60) * 0.95
    assert snapshot["http_429"] <= 0.01 * pages


@pytest.mark.slow
def test_a_threaded_fan_out_shares_one_budget(tmp_path):
    with start_sandbox(rate_limit=f"{LIMIT_PER_MINUTE}/min") as sb, client_for(sb, tmp_path / "guard") as client:
        notifications = list(client.iter_notifications(full_window(sb)))[:150]
        keys = [(n.raw["easyNumber"], n.raw["externalId"]) for n in notifications]
        start = time.monotonic()
        results = list(client.fetch_many(client.get_delivery, keys, max_workers=8))
        elapsed = time.monotonic() - start
        snapshot = client.telemetry.snapshot()
    assert all(not isinstance(r, Exception) and r.ok for _, r in results)
    assert snapshot["http_429"] <= 1
    # eight threads, one budget: no faster than the limit allows
    assert elapsed >= (len(keys) - 1) / (LIMIT_PER_MINUTE / 60) * 0.95

"""Rate budget: even pacing per endpoint, shared by threads, adapting to the server's headers."""

import threading
import time

import pytest

from resources.cofaserve.budget import RateBudget
from tests.unit.test_client_fakes import FakeApi, FakeClock, json_response, make_client


def fake_budget(per_minute=60.0, **kw):
    clock = FakeClock()
    return RateBudget(per_minute, clock=clock.monotonic, sleep=clock.sleep, **kw), clock


def send_times(budget, clock, key, n):
    times = []
    for _ in range(n):
        budget.acquire(key)
        times.append(clock.now)
    return times


def test_requests_are_spread_evenly_at_the_safe_fraction_of_the_limit():
    budget, clock = fake_budget(60.0, safety=0.95)
    times = send_times(budget, clock, "GET a", 20)
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert gaps == pytest.approx([60 / 57] * 19)
    assert budget.rate_per_minute("GET a") == pytest.approx(57)


def test_endpoints_have_separate_budgets():
    budget, clock = fake_budget(60.0, safety=1.0)
    budget.acquire("GET a")
    start = clock.now
    budget.acquire("GET b")  # another endpoint: no wait
    assert clock.now == start
    budget.acquire("GET a")
    assert clock.now == pytest.approx(start + 1.0)


def test_overrides_and_ceiling():
    budget, _ = fake_budget(60.0, overrides={"GET slow": 6.0}, safety=1.0, ceiling_per_minute=30.0)
    assert budget.rate_per_minute("GET slow") == pytest.approx(6)
    assert budget.rate_per_minute("GET other") == pytest.approx(30)
    budget.observe("GET other", 200, {"X-RateLimit-Limit": "1200", "X-RateLimit-Remaining": "1100"}, None)
    assert budget.rate_per_minute("GET other") == pytest.approx(30)  # the ceiling holds


def test_the_server_limit_replaces_the_assumed_one():
    budget, _ = fake_budget(60.0, safety=0.95)
    budget.observe("GET a", 200, {"X-RateLimit-Limit": "1200", "X-RateLimit-Remaining": "1199"}, None)
    assert budget.rate_per_minute("GET a") == pytest.approx(1140)
    budget.observe("GET a", 200, {"x-ratelimit-limit": "30", "x-ratelimit-remaining": "29"}, None)
    assert budget.rate_per_minute("GET a") == pytest.approx(27)  # 95 % would leave under 3 per window


@pytest.mark.parametrize(("limit", "aimed"), [(60, 57), (600, 591), (3000, 2955), (4, 2)])
def test_the_default_aim_is_98_5_percent_and_at_least_3_requests_per_window_under_the_limit(limit, aimed):
    budget, _ = fake_budget(60.0)
    budget.observe("GET a", 200, {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(limit - 1)}, None)
    assert budget.rate_per_minute("GET a") == pytest.approx(aimed)  # never under half the limit (4 -> 2)
    exact, _ = fake_budget(60.0, safety=1.0)
    exact.observe("GET a", 200, {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(limit - 1)}, None)
    assert exact.rate_per_minute("GET a") == pytest.approx(limit)  # a safety of 1: no margin at all


@pytest.mark.parametrize("limit", [60, 120, 600, 3000, 6000, 100_000])
def test_a_window_paced_at_the_default_aim_never_ends_low_enough_to_cut_the_rate(limit):
    # a fixed window opened by the first request holds one window's worth of the aimed rate: what it has
    # left at its end is the client's own margin, which must not read as someone else spending the quota
    budget, _ = fake_budget(60.0)
    budget.observe("GET a", 200, {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(limit - 1)}, None)
    aimed = budget.rate_per_minute("GET a")
    left = int(limit - aimed) - 1  # a request of the next slot counted early by the server's clock
    budget.observe("GET a", 200, {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(left)}, None)
    assert budget.rate_per_minute("GET a") == pytest.approx(aimed)


def test_adaptation_can_be_switched_off():
    budget, _ = fake_budget(60.0, safety=1.0, adapt=False)
    budget.observe("GET a", 200, {"X-RateLimit-Limit": "1200"}, None)
    assert budget.rate_per_minute("GET a") == pytest.approx(60)


def test_low_remaining_slows_down_and_recovers():
    budget, _ = fake_budget(60.0, safety=1.0)
    budget.observe("GET a", 200, {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "1"}, None)
    slowed = budget.rate_per_minute("GET a")
    assert slowed < 100
    for _ in range(50):
        budget.observe("GET a", 200, {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "50"}, None)
    assert budget.rate_per_minute("GET a") == pytest.approx(100)


def test_429_blocks_the_endpoint_until_retry_after_and_cuts_the_rate():
    budget, clock = fake_budget(6000.0, safety=1.0)
    budget.acquire("GET a")
    before = budget.rate_per_minute("GET a")
    budget.observe("GET a", 429, {}, retry_after=5.0)
    t0 = clock.now
    budget.acquire("GET a")
    assert clock.now >= t0 + 5.0
    assert budget.rate_per_minute("GET a") < before


def test_threads_share_one_budget_in_real_time():
    # the slot each acquire reserved is the clock value it read plus the delay it slept: recorded exactly,
    # whatever the scheduler does between a thread's wake-up and its next line
    seen = threading.local()
    slots = []
    lock = threading.Lock()

    def clock():
        seen.now = time.monotonic()
        return seen.now

    def sleep(delay):
        seen.slot = seen.now + delay
        time.sleep(delay)

    budget = RateBudget(1200.0, safety=1.0, clock=clock, sleep=sleep)  # 20 per second
    times = []

    def worker():
        for _ in range(5):
            seen.slot = None
            budget.acquire("GET a")
            with lock:
                times.append(time.monotonic())
                slots.append(seen.slot)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    assert len(times) == 20
    assert elapsed >= 19 / 20 - 0.02  # 20 slots, 50 ms apart, whatever the thread count
    assert slots.count(None) <= 1  # only the very first call finds its slot free
    reserved = sorted(s for s in slots if s is not None)
    assert min(b - a for a, b in zip(reserved, reserved[1:], strict=False)) >= 0.05 - 1e-9


def test_client_paces_from_headers_and_counts_429(tmp_path):
    api = FakeApi()
    calls = {"n": 0}

    def handler(request):
        calls["n"] += 1
        headers = {"X-RateLimit-Limit": "120", "X-RateLimit-Remaining": "100"}
        if calls["n"] == 3:
            return json_response(429, {"messages": [{"code": "too_many_request", "message": "slow"}]},
                                 {"Retry-After": "2", **headers})
        return json_response(200, {"easyNumber": "12345678", "products": []}, headers)

    api.route("/tci/product/v1/companies/12345678/catalog", handler)
    clock = FakeClock()
    with make_client(tmp_path, api, clock, rate_per_minute=60) as client:
        for _ in range(5):
            assert client.get_catalog("12345678").ok
        route = "GET product/v1/companies/{easyNumber}/catalog"
        assert client.rate_budget.rate_per_minute(route) < 120
        snapshot = client.telemetry.snapshot()
    assert snapshot["http_429"] == 1 and snapshot["retries"] == 1
    assert snapshot["requests.catalog"] == 6


def test_learning_a_higher_limit_re_spaces_the_reserved_slot():
    budget, clock = fake_budget(60.0, safety=1.0)
    budget.acquire("GET a")  # next slot reserved 1 s later under the assumed 60/min
    budget.observe("GET a", 200, {"X-RateLimit-Limit": "6000"}, None)
    start = clock.now
    budget.acquire("GET a")
    assert clock.now - start == pytest.approx(0.01)


def test_slots_reserved_at_the_assumed_rate_are_taken_again_once_the_limit_is_learned():
    """Four workers start at the assumed 60/min (slots 0, 1, 2, 3 s); the first answer says 6000/min: the
    sleepers do not wait out their old slots but take new ones within a recheck step."""
    budget, clock = fake_budget(60.0, safety=1.0)
    start = clock.now
    budget.acquire("GET a")  # the first worker sends at 0
    reserved = [budget._store.transact("GET a", lambda s, now: s.reserve(now, budget.pacing, "GET a")[0]) - start
                for _ in range(2)]
    assert reserved == pytest.approx([1.0, 2.0])  # others already hold the next slots at the assumed rate
    sleeps = []

    def sleep(seconds):
        if not sleeps:  # the first answer arrives while this worker sleeps towards its slot at 3 s
            budget.observe("GET a", 200, {"X-RateLimit-Limit": "6000"}, None)
        sleeps.append(seconds)
        clock.sleep(seconds)

    budget._sleep = sleep
    budget.acquire("GET a")
    assert clock.now - start < 0.3  # one recheck step (0.25 s) and the new slot, not 3 s
    assert sleeps[0] == pytest.approx(0.25)

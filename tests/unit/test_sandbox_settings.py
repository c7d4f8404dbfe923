"""Parsing of the sandbox's rate-limit and fault settings, and the date parameters."""

import pytest

from sandbox.errors import ApiError
from sandbox.faults import FaultInjector, FaultSpec, parse_faults
from sandbox.params import parse_date
from sandbox.ratelimit import RateLimiter, RateSpec, parse_rate


@pytest.mark.parametrize(("text", "spec"), [
    ("600/min", RateSpec(600, 60)), ("10/s", RateSpec(10, 1)), ("5000/hour", RateSpec(5000, 3600)),
    ("100/5min", RateSpec(100, 300)), ("off", None), (None, None)])
def test_rate_specs(text, spec):
    assert parse_rate(text) == spec


@pytest.mark.parametrize("text", ["600", "x/min", "0/min", "10/week"])
def test_bad_rate_specs(text):
    with pytest.raises(ValueError):
        parse_rate(text)


def test_fixed_window_counts_and_reopens():
    now = [0.0]
    limiter = RateLimiter(RateSpec(2, 60), clock=lambda: now[0])
    assert [limiter.hit(("r", "u")).remaining for _ in range(2)] == [1, 0]
    refused = limiter.hit(("r", "u"))
    assert not refused.allowed and refused.retry_after == 60
    assert limiter.hit(("other", "u")).allowed  # per endpoint
    now[0] = 59.5
    assert limiter.hit(("r", "u")).retry_after == 1
    now[0] = 60.0
    assert limiter.hit(("r", "u")).allowed


def test_fault_presets_and_json():
    assert parse_faults("none") == FaultSpec()
    assert parse_faults("hostile").cut_rate > 0
    spec = parse_faults('{"preset": "mild", "cut_rate": 0.5, "queue": ["503", "cut"]}')
    assert spec.cut_rate == 0.5 and spec.error_rate == parse_faults("mild").error_rate
    assert spec.queue == ["503", "cut"]
    for bad in ('{"nope": 1}', "savage", '{"queue": ["418"]}'):
        with pytest.raises(ValueError):
            parse_faults(bad)


def test_fault_draws_and_malformations_are_deterministic():
    spec = parse_faults({"error_rate": 0.2, "error_burst": 2, "cut_rate": 0.1, "malformed_rate": 0.1})
    runs = []
    for _ in range(2):
        injector = FaultInjector(spec, world_seed=7)
        runs.append([(f.kind, f.status) if (f := injector.next_fault()) else None for _ in range(300)])
    assert runs[0] == runs[1] and any(runs[0])
    a, b = FaultInjector(spec, 7), FaultInjector(spec, 7)
    kinds = ("missing_id", "bad_date")
    picks = [a.malformation("deliveries", str(k), kinds) for k in range(2000)]
    assert picks == [b.malformation("deliveries", str(k), kinds) for k in range(2000)]
    assert 100 < sum(p is not None for p in picks) < 300


@pytest.mark.parametrize("value", ["2026-02-30", "2026-1-01", "20260101", "2026-01-01T00:00:00Z", ""])
def test_bad_dates_are_400(value):
    with pytest.raises(ApiError) as err:
        parse_date("dateFrom", value)
    assert err.value.status == 400 and err.value.code == "missing_or_invalid_param"
    assert "dateFrom" in err.value.message

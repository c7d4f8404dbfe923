"""Retries: backoff bounds, what is retried, what is not, and the two bounds (attempts, total time)."""

import random
import socket
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from resources.cofaserve import (
    ApiError,
    ApiUnreachableError,
    AuthError,
    BadRequestError,
    ForbiddenError,
    NotFoundError,
    RetryExhaustedError,
    ServerError,
    UnexpectedShapeError,
)
from resources.cofaserve.errors import MalformedResponseError
from resources.cofaserve.retry import RetryPolicy, parse_retry_after
from tests.unit.test_client_fakes import FakeApi, FakeClock, envelope, json_response, make_client

CATALOG = "/tci/product/v1/companies/12345678/catalog"
CATALOG_BODY = {"easyNumber": "12345678", "products": [
    {"productCode": "CREDITLIMIT", "actionCodes": ["CREA"], "lastOrderId": None, "lastDeliveryId": None}]}


@pytest.mark.parametrize("retry_number", range(1, 12))
def test_full_jitter_backoff_stays_within_its_bound(retry_number):
    policy = RetryPolicy(base_seconds=0.5, cap_seconds=30)
    rng = random.Random(retry_number)
    ceiling = min(30, 0.5 * 2 ** (retry_number - 1))
    samples = [policy.backoff(retry_number, rng) for _ in range(2000)]
    assert all(0 <= s <= ceiling for s in samples)
    # full jitter: spread over the whole range, not clustered at the ceiling
    assert min(samples) < 0.05 * ceiling and max(samples) > 0.95 * ceiling


def test_retry_after_is_a_floor_of_the_delay():
    policy = RetryPolicy(base_seconds=0.5, cap_seconds=30)
    rng = random.Random(1)
    assert all(policy.delay(1, rng, retry_after=7) >= 7 for _ in range(100))
    assert all(policy.delay(1, rng, retry_after=None) <= 0.5 for _ in range(100))


def test_retry_bounds_are_attempts_and_total_time():
    policy = RetryPolicy(max_attempts=3, max_seconds=10)
    assert policy.may_retry(2, elapsed=1, next_delay=1)
    assert not policy.may_retry(3, elapsed=1, next_delay=1)  # third attempt was the last
    assert not policy.may_retry(1, elapsed=9.5, next_delay=1)  # would end after 10 s


def test_parse_retry_after():
    now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    assert parse_retry_after("12") == 12
    assert parse_retry_after("0.5") == 0.5
    assert parse_retry_after("-3") == 0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    http_date = (now + timedelta(seconds=30)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert parse_retry_after(http_date, now=now) == pytest.approx(30)


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429])
def test_transient_statuses_are_retried_then_succeed(tmp_path, status):
    api = FakeApi()
    api.json_route(CATALOG, CATALOG_BODY)
    api.fail_next(CATALOG, envelope(status, "internal_server_error", "boom"), envelope(status, "x", "boom"))
    clock = FakeClock()
    with make_client(tmp_path, api, clock) as client:
        record = client.get_catalog("12345678")
        snapshot = client.telemetry.snapshot()
    assert record.ok and record.model.products[0].product_code == "CREDITLIMIT"
    assert len(api.business_requests()) == 3
    assert snapshot["retries"] == 2
    assert snapshot["http_429"] == (2 if status == 429 else 0)


def test_429_waits_at_least_retry_after_and_counts_it(tmp_path):
    api = FakeApi()
    api.json_route(CATALOG, CATALOG_BODY)
    api.fail_next(CATALOG, json_response(429, {"messages": [{"code": "too_many_request", "message": "slow"}]},
                                         {"Retry-After": "7"}))
    clock = FakeClock()
    with make_client(tmp_path, api, clock) as client:
        assert client.get_catalog("12345678").ok
        assert client.telemetry.snapshot()["http_429"] == 1
    assert max(clock.sleeps) >= 7


@pytest.mark.parametrize(
    "fault",
    [
        httpx.RemoteProtocolError("peer closed connection without sending complete message body"),
        httpx.ReadError("connection reset by peer"),
        httpx.ReadTimeout("timed out"),
        httpx.ConnectError("connection refused"),
        httpx.ConnectTimeout("connect timed out"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_cut_connections_and_timeouts_are_retried(tmp_path, fault):
    api = FakeApi()
    api.json_route(CATALOG, CATALOG_BODY)
    api.fail_next(CATALOG, fault)
    with make_client(tmp_path, api) as client:
        assert client.get_catalog("12345678").ok
        assert client.telemetry.snapshot()["transport_errors"] == 1


@pytest.mark.parametrize(
    "bad",
    [
        httpx.Response(200, content=b'{"easyNumber": "1234'),  # truncated body
        httpx.Response(200, content=b"<html>gateway</html>"),
        json_response(200, ["not", "an", "object"]),
    ],
    ids=["truncated", "html", "wrong-envelope"],
)
def test_malformed_bodies_are_retried(tmp_path, bad):
    api = FakeApi()
    api.json_route(CATALOG, CATALOG_BODY)
    api.fail_next(CATALOG, bad)
    with make_client(tmp_path, api) as client:
        assert client.get_catalog("12345678").ok
    assert len(api.business_requests()) == 2


def test_attempts_are_bounded_and_the_last_error_is_typed(tmp_path):
    api = FakeApi()
    api.route(CATALOG, lambda r: envelope(503, "service_unavailable", "down", fishtag="fish-503"))
    with make_client(tmp_path, api, max_attempts=4) as client:
        with pytest.raises(RetryExhaustedError) as info:
            client.get_catalog("12345678")
    assert len(api.business_requests()) == 4
    assert info.value.attempts == 4
    last = info.value.last_error
    assert isinstance(last, ServerError) and last.status == 503 and last.fishtag == "fish-503"
    assert "fish-503" in str(info.value)


def test_total_time_is_bounded(tmp_path):
    api = FakeApi()
    api.route(CATALOG, lambda r: envelope(503, "service_unavailable", "down"))
    clock = FakeClock()
    with make_client(tmp_path, api, clock, max_attempts=1000, max_retry_seconds=20, backoff_base_seconds=4,
                     backoff_cap_seconds=8) as client:
        with pytest.raises(RetryExhaustedError) as info:
            client.get_catalog("12345678")
    assert info.value.elapsed <= 20
    assert sum(clock.sleeps) <= 20
    assert info.value.attempts < 1000


def test_malformed_body_exhaustion_reports_the_malformation(tmp_path):
    api = FakeApi()
    api.route(CATALOG, lambda r: httpx.Response(200, content=b"not json"))
    with make_client(tmp_path, api, max_attempts=2) as client:
        with pytest.raises(RetryExhaustedError) as info:
            client.get_catalog("12345678")
    assert isinstance(info.value.last_error, MalformedResponseError)


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (400, "missing_or_invalid_param", BadRequestError),
        (404, "not_found", NotFoundError),
        (403, "forbiden", ForbiddenError),
        (409, "conflict", ApiError),
        (501, "not_implemented", ApiError),
    ],
)
def test_other_errors_are_not_retried_and_carry_the_envelope(tmp_path, status, code, cls):
    api = FakeApi()
    api.fail_next(CATALOG, envelope(status, code, "the reason", fishtag="fish-xyz"))
    with make_client(tmp_path, api) as client:
        with pytest.raises(cls) as info:
            client.get_catalog("12345678")
    error = info.value
    assert (error.status, error.code, error.api_message, error.fishtag) == (status, code, "the reason", "fish-xyz")
    assert error.endpoint == "catalog" and "/companies/12345678/catalog" in error.request
    assert len(api.business_requests()) == 1
    assert isinstance(error, AuthError) == (status == 403)


def test_error_without_envelope_still_raises_typed(tmp_path):
    api = FakeApi()
    api.fail_next(CATALOG, httpx.Response(404, content=b"Not Found"))
    with make_client(tmp_path, api) as client:
        with pytest.raises(NotFoundError) as info:
            client.get_catalog("12345678")
    assert info.value.code is None and info.value.api_message == "Not Found"


def test_every_request_has_a_timeout(tmp_path):
    api = FakeApi()
    api.json_route(CATALOG, CATALOG_BODY)
    with make_client(tmp_path, api, timeout_seconds=12, connect_timeout_seconds=3) as client:
        client.get_catalog("12345678")
    for request in api.requests:
        timeout = request.extensions["timeout"]
        assert timeout["read"] == 12 and timeout["connect"] == 3 and timeout["write"] == 12


def refused() -> httpx.ConnectError:
    error = httpx.ConnectError("[Errno 111] Connection refused")
    error.__cause__ = ConnectionRefusedError(111, "Connection refused")
    return error


def unknown_host() -> httpx.ConnectError:
    error = httpx.ConnectError("[Errno -2] Name or service not known")
    error.__cause__ = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return error


@pytest.mark.parametrize(("fault", "reason"), [(refused, "connection refused"), (unknown_host, "unknown host")])
def test_a_host_that_refuses_or_does_not_exist_fails_after_three_quick_attempts(tmp_path, fault, reason):
    api = FakeApi()
    api.json_route(CATALOG, CATALOG_BODY)
    api.fail_next(CATALOG, *(fault() for _ in range(10)))
    clock = FakeClock()
    start = clock.now
    with make_client(tmp_path, api, clock) as client:
        with pytest.raises(ApiUnreachableError) as err:
            client.get_catalog("12345678")
        assert client.telemetry.snapshot()["transport_errors"] == 3
    assert f"cannot reach https://api.test ({reason}, 3 attempts" in str(err.value)
    assert "COFASERVE_BASE_URL" in str(err.value)
    assert clock.now - start < 5  # seconds, not the minutes a transient fault is given


def test_one_refused_connection_among_answers_is_still_retried(tmp_path):
    api = FakeApi()
    api.json_route(CATALOG, CATALOG_BODY)
    api.fail_next(CATALOG, refused(), refused())  # two in a row, then the server is back
    with make_client(tmp_path, api) as client:
        assert client.get_catalog("12345678").ok


def test_the_same_wrong_shape_twice_is_a_setting_and_is_not_retried_further(tmp_path):
    api = FakeApi()
    api.json_route(CATALOG, CATALOG_BODY)
    api.fail_next(CATALOG, *(json_response(200, ["not", "an", "object"]) for _ in range(8)))
    clock = FakeClock()
    with make_client(tmp_path, api, clock) as client:
        with pytest.raises(UnexpectedShapeError) as err:
            client.get_catalog("12345678")
    assert len(api.business_requests()) == 2  # one retry, not eight attempts over minutes
    assert "the same on 2 attempts" in str(err.value) and "COFASERVE_CLIENT_OPTIONS" in str(err.value)


def test_refusals_with_an_answer_between_them_are_not_in_a_row(tmp_path):
    api = FakeApi()
    api.json_route(CATALOG, CATALOG_BODY)
    api.fail_next(CATALOG, refused(), refused(), envelope(503, "unavailable", "restarting"), refused())
    with make_client(tmp_path, api) as client:
        assert client.get_catalog("12345678").ok  # a backend restart, not a wrong host

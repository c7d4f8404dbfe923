"""Telemetry: thread-safe counts and latency percentiles as plain numbers."""

import threading

from resources.cofaserve import Telemetry
from tests.unit.test_client_fakes import FakeApi, make_client


def test_snapshot_is_flat_plain_numbers_with_percentiles():
    telemetry = Telemetry()
    for i in range(1, 101):
        telemetry.request("portfolio", 200, 10, i / 1000)
    telemetry.request("delivery", 429, 5, 0.5)
    telemetry.request("delivery", None, 0, 1.0)
    telemetry.add("retries", 2)
    snapshot = telemetry.snapshot()
    assert all(isinstance(v, int | float) and not isinstance(v, bool) for v in snapshot.values())
    assert snapshot["requests"] == 102 and snapshot["requests.portfolio"] == 100 and snapshot["requests.delivery"] == 2
    assert snapshot["http_429"] == 1 and snapshot["transport_errors"] == 1 and snapshot["retries"] == 2
    assert snapshot["bytes"] == 1005
    assert snapshot["latency_p50_ms"] == 51.0
    assert snapshot["latency_p95_ms"] == 97.0  # nearest rank: 97th of 102 samples
    assert snapshot["latency_p99_ms"] == 500.0
    assert Telemetry().snapshot()["latency_p99_ms"] == 0.0


def test_counts_are_exact_under_threads():
    telemetry = Telemetry(reservoir_size=100)

    def work():
        for _ in range(1000):
            telemetry.request("x", 200, 1, 0.001)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    snapshot = telemetry.snapshot()
    assert snapshot["requests"] == 8000 and snapshot["bytes"] == 8000
    assert snapshot["latency_p50_ms"] == 1.0


def test_client_telemetry_counts_a_run(tmp_path):
    api = FakeApi()
    api.list_route("/tci/country/v1/countries", "countries", [{"countryCode": "FRA", "name": "France"}] * 3)
    with make_client(tmp_path, api, page_size=2) as client:
        list(client.iter_countries())
        snapshot = client.telemetry.snapshot()
    assert snapshot["requests"] == 3 and snapshot["requests.login"] == 1 and snapshot["requests.countries"] == 2
    assert snapshot["pages"] == 2 and snapshot["records"] == 3 and snapshot["logins"] == 1
    assert snapshot["bytes"] > 0

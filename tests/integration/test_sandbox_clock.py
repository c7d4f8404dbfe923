"""The virtual clock and determinism over HTTP, and the sandbox run as a child process (CLI)."""

from datetime import timedelta

import httpx

from sandbox.testing import run_sandbox_process

ENTITIES = ("companies", "order_versions", "deliveries", "notifications", "overdue_versions", "overdue_documents",
            "customer_references", "easy_number_links", "lines")


def _truth(sb) -> dict[str, list[dict]]:
    return {e: sb.truth(e) for e in ENTITIES}


def test_day_d_is_the_same_in_one_step_or_many(sandbox_factory):
    with sandbox_factory() as stepped, sandbox_factory() as jumped:
        start = stepped.today
        for _ in range(4):
            stepped.advance(days=1)
        assert jumped.advance(days=4) == stepped.today == start + timedelta(days=4)
        assert _truth(stepped) == _truth(jumped)
        assert stepped.clock() == jumped.clock()


def test_the_clock_only_moves_forward(sandbox):
    today = sandbox.today
    resp = httpx.post(sandbox.base_url + "/_sandbox/clock", json={"today": str(today - timedelta(days=1))})
    assert resp.status_code == 400 and "backwards" in resp.json()["error"]
    assert sandbox.advance_to(today) == today  # standing still is allowed
    clock = sandbox.clock()
    assert clock["visibleBefore"] == f"{today}T00:00:00Z"
    assert sandbox.truth("deliveries")[-1]["decisionDate"] < clock["visibleBefore"]


def test_counters_and_reset(sandbox):
    with sandbox.client() as client:
        client.get("/tci/policy/v1/policies")
        client.get("/tci/product/v1/companies/nope/catalog")
    counters = sandbox.counters()
    assert counters["byEndpoint"]["GET /tci/policy/v1/policies"] == 1
    assert counters["byStatus"]["404"] == 1 and counters["login"]["successes"] == 1 and counters["bytes"] > 0
    assert sandbox.reset_counters()["requests"] == 0


def test_cli_serves_and_prints_credentials():
    with run_sandbox_process(seed=5, companies=100, today=None, rate_limit="100/min") as sb:
        assert set(sb.credentials) == {"username", "password", "api_key", "policy_number"}
        assert sb.base_url.startswith("http://127.0.0.1:")
        with sb.client() as client:
            resp = client.get("/tci/policy/v1/policies")
        assert resp.status_code == 200 and resp.headers["X-RateLimit-Limit"] == "100"
        assert resp.json()["policies"][0]["policyNumber"] == sb.credentials["policy_number"]
        served = httpx.get(sb.base_url + "/_sandbox/credentials").json()
        assert served["base_url"] == sb.base_url and served["username"] == sb.credentials["username"]
        assert httpx.get(sb.base_url + "/openapi.json").json()["openapi"].startswith("3.1")


def test_answers_are_dated_on_the_business_day_and_the_client_reads_it(sandbox, tmp_path):
    from email.utils import parsedate_to_datetime

    from bench.common import client_settings
    from resources.cofaserve import CofaServeClient

    for path in ("/openapi.json", "/_sandbox/clock"):
        response = httpx.get(sandbox.base_url + path)
        dates = response.headers.get_list("date")
        assert len(dates) == 1 and parsedate_to_datetime(dates[0]).date() == sandbox.today
    with CofaServeClient(client_settings(sandbox, tmp_path / "lock")) as client:
        assert client.server_today() == sandbox.today  # read from the login's answer
        sandbox.advance(days=2)
        list(client.iter_policies())
        assert client.server_today() == sandbox.today
    with CofaServeClient(client_settings(sandbox, tmp_path / "lock")) as second:  # the token is shared: no login
        assert second.server_today() == sandbox.today

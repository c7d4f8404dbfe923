"""Each fault kind over real HTTP; a retried request always gets the correct data."""

import time
from datetime import timedelta

import httpx
import pytest

NOTIFICATIONS = "/tci/notification/v1/notifications"
PORTFOLIO = "/tci/product/v1/companies/products"
PARAMS = {"pageSize": 100, "dateFrom": "2026-06-01"}


@pytest.mark.parametrize(("queued", "status", "code"), [("500", 500, "internal_server_error"),
                                                        ("503", 503, "service_unavailable"),
                                                        ("429", 429, "too_many_request")])
def test_error_faults_then_a_retry_gets_the_data(sandbox, queued, status, code):
    with sandbox.client() as client:
        clean = client.get(NOTIFICATIONS, params=PARAMS).content
        sandbox.set_faults({"queue": [queued, queued]})
        for _ in range(2):
            resp = client.get(NOTIFICATIONS, params=PARAMS)
            assert resp.status_code == status and resp.json()["messages"][0]["code"] == code
            if status == 429:
                assert resp.headers["Retry-After"] == "1"
        assert client.get(NOTIFICATIONS, params=PARAMS).content == clean
    assert sandbox.counters()["faults"] == {"throttle" if status == 429 else "error": 2}


def test_a_cut_connection_then_a_retry_gets_the_data(sandbox):
    with sandbox.client() as client:
        clean = client.get(PORTFOLIO, params={"pageSize": 100}).content
        sandbox.set_faults({"queue": ["cut"]})
        with pytest.raises(httpx.RemoteProtocolError):
            client.get(PORTFOLIO, params={"pageSize": 100})
        assert client.get(PORTFOLIO, params={"pageSize": 100}).content == clean


def test_latency(sandbox):
    with sandbox.client() as client:
        sandbox.set_faults({"queue": ["latency"], "latency_ms": 400})
        started = time.monotonic()
        resp = client.get(NOTIFICATIONS, params=PARAMS)
        assert resp.status_code == 200 and time.monotonic() - started >= 0.4


def test_token_revocation_mid_run(sandbox):
    with sandbox.client() as client:
        clean = client.get(NOTIFICATIONS, params=PARAMS).content
        sandbox.set_faults({"queue": ["revoke"]})
        first = client.get(NOTIFICATIONS, params=PARAMS)
        assert first.status_code == 401 and first.json()["messages"][0]["code"] == "invalid_token"
        assert client.get(NOTIFICATIONS, params=PARAMS).status_code == 401  # the old token stays invalid
        fresh = sandbox.login().json()["idToken"]
        assert client.get(NOTIFICATIONS, params=PARAMS, headers={"Authorization": fresh}).content == clean
        sandbox.set_faults("none", revoke_tokens_now=True)
        assert client.get(NOTIFICATIONS, params=PARAMS, headers={"Authorization": fresh}).status_code == 401


def _malformed_items(body: dict, key: str, id_field: str) -> list[dict]:
    bad = []
    for item in body[key]:
        if id_field not in item:
            bad.append(item)
        elif any(isinstance(v, str) and "-13-32" in v for v in _leaves(item)):
            bad.append(item)
        elif any("currency" in v and isinstance(v.get("value"), str) for v in _nodes(item)):
            bad.append(item)
    return bad


def _nodes(doc):
    if isinstance(doc, dict):
        yield doc
        for v in doc.values():
            yield from _nodes(v)
    elif isinstance(doc, list):
        for v in doc:
            yield from _nodes(v)


def _leaves(doc):
    for node in _nodes(doc):
        yield from (v for v in node.values() if not isinstance(v, dict | list))


def test_malformed_records_are_deterministic_and_registered(sandbox_factory):
    pages = []
    for _ in range(2):
        with sandbox_factory(faults={"malformed_rate": 0.05}) as sb, sb.client() as client:
            first = client.get(NOTIFICATIONS, params=PARAMS).json()
            again = client.get(NOTIFICATIONS, params=PARAMS).json()
            assert first == again  # the same item is malformed each time it is served
            portfolio = client.get(PORTFOLIO, params={"pageSize": 100}).json()
            register = sb.truth("malformed")
            counters = sb.counters()
            pages.append(first)
        bad = _malformed_items(first, "notifications", "notificationId")
        bad_portfolio = _malformed_items(portfolio, "companies", "easyNumber")
        assert bad and bad_portfolio
        assert len(first["notifications"]) == 100  # the malformed items stay inside an otherwise valid page
        keys = {(m["stream"], m["key"]) for m in register}
        for item in bad:
            if "notificationId" in item:
                assert ("notifications", item["notificationId"]) in keys
        assert {m["stream"] for m in register} == {"notifications", "portfolio"}
        assert len(register) == len(bad) + len(bad_portfolio)
        assert sum(m["timesServed"] for m in register) == counters["malformedServed"]
        assert {m["kind"] for m in register} <= {"missing_id", "bad_date", "amount_string"}
    assert pages[0] == pages[1]  # same seed, same damage


def test_random_faults_are_deterministic_for_a_seed(sandbox_factory):
    runs = []
    for _ in range(2):
        with sandbox_factory(faults="hostile") as sb, sb.client() as client:
            statuses = []
            for page in range(1, 80):
                try:
                    statuses.append(client.get(NOTIFICATIONS, params={"page": page}).status_code)
                except httpx.RemoteProtocolError:
                    statuses.append("cut")
                if statuses[-1] == 401:
                    client.headers["Authorization"] = sb.login().json()["idToken"]
            runs.append(statuses)
    assert runs[0] == runs[1]
    assert {500, 429, 200} <= set(runs[0]) or {503, 429, 200} <= set(runs[0])


def test_faults_over_the_admin_endpoint(sandbox):
    assert sandbox.set_faults("mild")["error_rate"] > 0
    assert sandbox.set_faults({"preset": "hostile", "latency_rate": 0})["latency_rate"] == 0
    resp = httpx.post(sandbox.base_url + "/_sandbox/faults", json={"unknown": 1})
    assert resp.status_code == 400
    assert sandbox.set_faults("none")["error_rate"] == 0


def test_rate_limit_headers_and_429(sandbox_factory):
    with sandbox_factory(rate_limit="5/min") as sb, sb.client() as client:
        remaining = []
        for _ in range(5):
            resp = client.get(NOTIFICATIONS)
            assert resp.headers["X-RateLimit-Limit"] == "5"
            remaining.append(int(resp.headers["X-RateLimit-Remaining"]))
        assert remaining == [4, 3, 2, 1, 0]
        refused = client.get(NOTIFICATIONS)
        assert refused.status_code == 429
        assert refused.json()["messages"][0]["code"] == "too_many_request"
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert refused.headers["X-RateLimit-Remaining"] == "0"
        other = client.get(PORTFOLIO)  # per endpoint
        assert other.status_code == 200 and other.headers["X-RateLimit-Remaining"] == "4"
        counters = sb.counters()
        assert counters["rateLimited"] == 1
        assert counters["byEndpointStatus"][f"GET {NOTIFICATIONS} 429"] == 1
        sb.set_rate_limit("off")
        assert client.get(NOTIFICATIONS).status_code == 200


def test_late_visibility_delays_the_dated_lists_only_and_the_truth_says_until_when(sandbox_factory):
    with sandbox_factory(companies=1000, faults={"late_rate": 0.5, "late_hours": 40}) as sb, \
            sb.client() as client:
        first = sb.today - timedelta(days=3)
        window = {"pageSize": 100, "dateFrom": first.isoformat(), "dateTo": sb.today.isoformat()}
        late = [d for d in sb.truth("deliveries") if d["decisionDate"][:10] >= first.isoformat()
                and d.get("listedFrom", "") >= f"{sb.today.isoformat()}T00:00:00Z"]
        assert late, "the world made no decision of the last days that shows late"
        listed = {n["externalId"] for n in client.get(NOTIFICATIONS, params=window).json()["notifications"]}
        assert not listed & {d["externalId"] for d in late}  # not shown in the dated list yet
        delivery = late[0]
        by_id = client.get(f"/tci/product/v1/companies/{delivery['easyNumber']}/products/deliveries/"
                           f"{delivery['deliveryId']}")
        assert by_id.status_code == 200  # by id, at once
        sb.advance(2)  # 40 h at most: every one of them shows now, on its own day
        answer = client.get(NOTIFICATIONS, params=window).json()
        listed = {n["externalId"] for n in answer.get("notifications", ())}
        assert {d["externalId"] for d in late} <= listed, answer
        assert all(d["listedFrom"] > d["decisionDate"] for d in late)

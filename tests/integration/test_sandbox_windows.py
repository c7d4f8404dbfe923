"""Date windows, retention and paging over real HTTP, checked against the ground truth."""

from datetime import date, timedelta

import pytest

NOTIFICATIONS = "/tci/notification/v1/notifications"
PORTFOLIO = "/tci/product/v1/companies/products"


def _all_pages(client, path: str, key: str, page_size: int, **params) -> list[dict]:
    items, page = [], 1
    while True:
        body = client.get(path, params={**params, "page": page, "pageSize": page_size}).json()
        assert body["page"] == page and body["pageSize"] == page_size
        items += body[key]
        if page * page_size >= body["count"]:
            assert len(items) == body["count"]
            return items
        page += 1


def _window_ids(client, day: date) -> set[str]:
    items = _all_pages(client, NOTIFICATIONS, "notifications", 100, dateFrom=day.isoformat(),
                       dateTo=(day + timedelta(days=1)).isoformat())
    return {n["notificationId"] for n in items}


def test_events_at_the_edges_of_a_day_belong_to_that_day(sandbox):
    truth = sandbox.truth("notifications")
    horizon = date.fromisoformat(sandbox.clock()["firstAvailableDate"])
    last_second = [n for n in truth if n["eventDate"].endswith("T23:59:59Z") and n["eventDate"][:10] > str(horizon)]
    midnight = [n for n in truth if n["eventDate"].endswith("T00:00:00Z") and n["eventDate"][:10] > str(horizon)]
    assert last_second and midnight
    with sandbox.client() as client:
        for n in last_second[:3]:
            day = date.fromisoformat(n["eventDate"][:10])
            assert n["notificationId"] in _window_ids(client, day)
            assert n["notificationId"] not in _window_ids(client, day + timedelta(days=1))
        for n in midnight[:3]:
            day = date.fromisoformat(n["eventDate"][:10])
            assert n["notificationId"] in _window_ids(client, day)
            assert n["notificationId"] not in _window_ids(client, day - timedelta(days=1))
        # the portfolio's window applies to each product's event date the same way
        line = next(ln for ln in sandbox.truth("lines") if ln["listed"] and (ln["decisionDate"] or "").endswith(
            "T23:59:59Z") and ln["decisionDate"] > str(horizon))
        day = date.fromisoformat(line["decisionDate"][:10])
        for start, present in ((day, True), (day + timedelta(days=1), False)):
            body = client.get(PORTFOLIO, params={"easyNumber": line["easyNumber"], "dateFrom": start.isoformat(),
                                                 "dateTo": (start + timedelta(days=1)).isoformat()}).json()
            codes = {p["productCode"] for c in body["companies"] for p in c["products"]}
            assert (line["productCode"] in codes) is present


@pytest.mark.parametrize("params", [{"dateFrom": "2026-02-30"}, {"dateTo": "tomorrow"}, {"dateFrom": "2026-1-1"},
                                    {"dateFrom": "2026-11-10", "dateTo": "2026-11-10"}, {"pageSize": "101"},
                                    {"page": "0"}, {"pageSize": "x"}])
def test_invalid_parameters_are_400(sandbox, params):
    with sandbox.client() as client:
        resp = client.get(NOTIFICATIONS, params=params)
    assert resp.status_code == 400
    message = resp.json()["messages"][0]
    assert message["code"] == "missing_or_invalid_param"
    assert any(name in message["message"] for name in params)


def test_retention_two_years(sandbox):
    clock = sandbox.clock()
    horizon = date.fromisoformat(clock["firstAvailableDate"])
    assert horizon == date(2024, 11, 23)
    deliveries = sandbox.truth("deliveries")
    old = [d for d in deliveries if d["decisionDate"] < f"{horizon}T00:00:00Z"]
    assert old, "the timeline reaches back past the API window"
    lines = sandbox.truth("lines")
    with sandbox.client() as client:
        resp = client.get(NOTIFICATIONS, params={"dateFrom": str(horizon - timedelta(days=1))})
        assert resp.status_code == 400 and str(horizon) in resp.json()["messages"][0]["message"]
        assert client.get(NOTIFICATIONS, params={"dateFrom": str(horizon)}).status_code == 200
        served = _all_pages(client, NOTIFICATIONS, "notifications", 100)
        assert min(n["eventDate"] for n in served) >= f"{horizon}T00:00:00Z"
        current_active = {ln["deliveryId"] for ln in lines if ln["active"]}
        archived = next(d for d in old if d["deliveryId"] not in current_active)
        path = f"/tci/product/v1/companies/{archived['easyNumber']}/products/deliveries/{archived['deliveryId']}"
        assert client.get(path).status_code == 404
        kept = next(ln for ln in lines if ln["active"] and ln["decisionDate"]
                    and ln["decisionDate"] < f"{horizon}T00:00:00Z")
        path = f"/tci/product/v1/companies/{kept['easyNumber']}/products/deliveries/{kept['deliveryId']}"
        assert client.get(path).status_code == 200
        portfolio = _all_pages(client, PORTFOLIO, "companies", 100)
    listed = {(c["easyNumber"], p["productCode"]) for c in portfolio for p in c["products"]}
    assert (kept["easyNumber"], kept["productCode"]) in listed
    expected = {(ln["easyNumber"], ln["productCode"]) for ln in lines if ln["listed"]}
    assert listed == expected
    gone = [ln for ln in lines if not ln["listed"]]
    assert gone and all(not ln["active"] for ln in gone)


def test_paging_is_complete_and_stable(sandbox):
    clock = sandbox.clock()
    truth = sorted((n for n in sandbox.truth("notifications") if n["eventDate"] >= clock["firstAvailableDate"]),
                   key=lambda n: (n["eventDate"], n["notificationId"]))
    with sandbox.client() as client:
        for size in (37, 100):
            items = _all_pages(client, NOTIFICATIONS, "notifications", size)
            assert items == truth
        beyond = client.get(NOTIFICATIONS, params={"page": 10_000, "pageSize": 100}).json()
        assert beyond["notifications"] == [] and beyond["count"] == len(truth)
        companies = _all_pages(client, PORTFOLIO, "companies", 7)
        assert len({c["easyNumber"] for c in companies}) == len(companies)
        assert [c["easyNumber"] for c in companies] == sorted(c["easyNumber"] for c in companies)
        past = client.get(PORTFOLIO, params={"page": 10_000, "pageSize": 100}).json()
        assert past["companies"] == [] and past["count"] == len(companies)
        refs = _all_pages(client, "/tci/company/v1/companies/customerreferences", "customerReferences", 13)
    latest = {}
    for ref in sandbox.truth("customer_references"):
        latest[ref["easyNumber"]] = ref
    assert {r["easyNumber"]: r["customerReference"] for r in refs} == {
        k: v["customerReference"] for k, v in latest.items() if v["customerReference"]}


def test_a_new_day_appears_after_the_clock_moves(sandbox):
    today = sandbox.today
    with sandbox.client() as client:
        before = client.get(NOTIFICATIONS, params={"dateFrom": str(today)}).json()
        assert before["count"] == 0  # the API shows events strictly before today 00:00:00Z
        sandbox.advance(days=1)
        after = client.get(NOTIFICATIONS, params={"dateFrom": str(today)}).json()
    assert after["count"] > 0
    assert all(n["eventDate"].startswith(str(today)) for n in after["notifications"])

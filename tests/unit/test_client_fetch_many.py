"""fetch_many: bounded concurrent fan-out of by-id calls, per-key errors, auth errors abort."""

import threading
import time

import pytest

from resources.cofaserve import InvalidCredentialsError, NotFoundError, Record
from tests.unit.test_client_fakes import FakeApi, envelope, json_response, make_client

ORDER = "/tci/product/v1/companies/{e}/products/orders/{o}"


def order_body(e, o):
    return {"orderId": o, "easyNumber": e, "temporaryEasyNumber": None, "productCode": "ECL",
            "orderDate": "2026-03-01T08:00:00Z", "status": "STATUS_CLOSED", "statusDate": "2026-03-03T00:00:00Z",
            "requestedAmount": None, "deliveryId": None, "rejectionReasons": []}


class Tracker:
    def __init__(self, delay=0.0):
        self.active = 0
        self.peak = 0
        self.lock = threading.Lock()
        self.delay = delay

    def __call__(self, e, o):
        with self.lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
        try:
            time.sleep(self.delay)
            if o == "missing":
                return envelope(404, "not_found", "no such order")
            return json_response(200, order_body(e, o))
        finally:
            with self.lock:
                self.active -= 1


def orders_api(tracker):
    api = FakeApi()
    original = api.handler

    def handler(request):
        parts = request.url.path.split("/")
        if "orders" in parts and request.headers.get("authorization", "") in api.valid:
            return tracker(parts[5], parts[-1])
        return original(request)

    api.handler = handler
    return api


def test_every_key_gets_its_result_and_errors_stay_per_key(tmp_path):
    tracker = Tracker(delay=0.01)
    api = orders_api(tracker)
    keys = [("12345678", f"O-{i}") for i in range(20)] + [("12345678", "missing")]
    with make_client(tmp_path, api) as client:
        results = dict(client.fetch_many(client.get_order, keys, max_workers=4))
    assert set(results) == set(keys)
    assert isinstance(results[("12345678", "missing")], NotFoundError)
    ok = [k for k, v in results.items() if isinstance(v, Record)]
    assert len(ok) == 20 and all(results[k].model.order_id == k[1] for k in ok)
    assert tracker.peak <= 4


def test_input_order_when_asked(tmp_path):
    tracker = Tracker()
    api = orders_api(tracker)
    keys = [("12345678", f"O-{i}") for i in range(15)]
    with make_client(tmp_path, api) as client:
        got = [key for key, _ in client.fetch_many(client.get_order, keys, max_workers=3, ordered=True)]
    assert got == keys


def test_single_value_keys_are_passed_alone(tmp_path):
    api = FakeApi()
    api.route("/tci/product/v1/companies/12345678/catalog",
              lambda r: json_response(200, {"easyNumber": "12345678", "products": []}))
    with make_client(tmp_path, api) as client:
        results = list(client.fetch_many(client.get_catalog, ["12345678", "99999999"], max_workers=2))
    by_key = dict(results)
    assert by_key["12345678"].ok and isinstance(by_key["99999999"], NotFoundError)


def test_auth_errors_abort_everything(tmp_path):
    api = FakeApi(password="another")
    with make_client(tmp_path, api) as client:
        with pytest.raises(InvalidCredentialsError):
            list(client.fetch_many(client.get_order, [("12345678", f"O-{i}") for i in range(50)], max_workers=4))
    assert api.logins == 1


def test_keys_are_consumed_lazily_and_stopping_early_cancels_the_rest(tmp_path):
    tracker = Tracker(delay=0.01)
    api = orders_api(tracker)
    pulled = []

    def keys():
        for i in range(1000):
            pulled.append(i)
            yield ("12345678", f"O-{i}")

    with make_client(tmp_path, api) as client:
        results = client.fetch_many(client.get_order, keys(), max_workers=2)
        first = [next(results) for _ in range(3)]
        results.close()
    assert len(first) == 3
    assert len(pulled) <= 3 + 2 * 2 + 1
    assert len([r for r in api.business_requests() if "orders" in r.url.path]) < 20

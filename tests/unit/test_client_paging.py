"""Paging strategies (page/pageSize and range + Content-Range) and the consistency checks."""

import time

import httpx
import pytest

from resources.cofaserve import PagingError, RetryExhaustedError, UnexpectedShapeError
from resources.cofaserve.paging import Page, PageNumberPaging, iterate_pages
from tests.unit.test_client_fakes import FakeApi, json_response, make_client

COUNTRIES = "/tci/country/v1/countries"


def countries(n):
    return [{"countryCode": f"{chr(65 + i // 676)}{chr(65 + i // 26 % 26)}{chr(65 + i % 26)}", "name": f"C{i}"}
            for i in range(n)]


def pages_asked(api):
    return [(int(r.url.params["page"]), int(r.url.params["pageSize"])) for r in api.business_requests()]


@pytest.mark.parametrize(("n", "expected_pages"), [(0, 1), (1, 1), (19, 1), (20, 1), (21, 2), (40, 2), (45, 3)])
def test_page_strategy_stops_on_the_last_page_by_count(tmp_path, n, expected_pages):
    api = FakeApi()
    items = countries(n)
    api.list_route(COUNTRIES, "countries", items)
    with make_client(tmp_path, api, page_size=20) as client:
        stream = client.iter_countries()
        assert stream.reported_total is None  # nothing fetched yet
        got = [r.raw for r in stream]
        assert stream.reported_total == n and stream.pages_read == expected_pages
        assert client.telemetry.snapshot()["pages"] == expected_pages
    assert got == items
    assert pages_asked(api) == [(p, 20) for p in range(1, expected_pages + 1)]


def test_listing_is_lazy_one_page_at_a_time(tmp_path):
    api = FakeApi()
    api.list_route(COUNTRIES, "countries", countries(100))
    with make_client(tmp_path, api, page_size=10, prefetch_pages=0) as client:
        stream = client.iter_countries()
        first = next(stream)
        assert first.raw["name"] == "C0" and stream.reported_total == 100
        assert len(api.business_requests()) == 1
        for _ in range(10):
            next(stream)
        assert len(api.business_requests()) == 2
        stream.close()
    assert len(api.business_requests()) == 2


def test_prefetch_reads_ahead_at_most_the_pages_it_is_allowed_and_stops_on_close(tmp_path):
    api = FakeApi()
    api.list_route(COUNTRIES, "countries", countries(100))
    with make_client(tmp_path, api, page_size=10, prefetch_pages=2) as client:
        stream = client.iter_countries()
        assert api.business_requests() == []  # nothing before the first item is asked for
        first = next(stream)
        assert first.raw["name"] == "C0"
        deadline = time.monotonic() + 5
        while len(api.business_requests()) < 4 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.05)
        # the page in hand, two pages waiting, one more fetched and blocked until a slot frees
        assert len(api.business_requests()) == 4
        stream.close()
        asked = len(api.business_requests())
        time.sleep(0.1)
        assert len(api.business_requests()) == asked <= 4
    assert pages_asked(api)[:asked] == [(p, 10) for p in range(1, asked + 1)]


def test_prefetched_listing_yields_every_item_in_order_and_raises_a_page_error_where_it_occurs(tmp_path):
    api = FakeApi()
    items = countries(45)

    def handler(request):
        page = int(request.url.params["page"])
        if page == 3:
            return json_response(200, {"countries": "not a list", "count": 45})
        return json_response(200, {"countries": items[(page - 1) * 20:page * 20], "count": 45})

    api.route(COUNTRIES, handler)
    with make_client(tmp_path, api, page_size=20, prefetch_pages=1, max_attempts=1) as client:
        got = []
        with pytest.raises(RetryExhaustedError):
            for record in client.iter_countries():
                got.append(record.raw)
    assert got == items[:40]  # the two good pages arrived whole, in order, before the error


def test_page_size_and_parameter_names_are_settings(tmp_path):
    api = FakeApi()

    def handler(request):
        p, size = int(request.url.params["p"]), int(request.url.params["n"])
        items = countries(7)[p * size:(p + 1) * size]
        return json_response(200, {"countries": items, "total": 7})

    api.route(COUNTRIES, handler)
    with make_client(tmp_path, api, page_size=3, page_param="p", page_size_param="n", first_page=0,
                     count_field="total") as client:
        assert len(list(client.iter_countries())) == 7
    assert [r.url.params["p"] for r in api.business_requests()] == ["0", "1", "2"]


def test_items_key_can_be_overridden(tmp_path):
    api = FakeApi()
    api.list_route(COUNTRIES, "items", countries(3))
    with make_client(tmp_path, api, items_keys={"countries": "items"}) as client:
        assert len(list(client.iter_countries())) == 3


def test_a_repeated_page_fails_loudly(tmp_path):
    api = FakeApi()
    items = countries(60)

    def stuck(request):  # ignores the page parameter
        return json_response(200, {"countries": items[:20], "count": 60})

    api.route(COUNTRIES, stuck)
    with make_client(tmp_path, api, page_size=20) as client, pytest.raises(PagingError, match="page 2 repeats page 1"):
        list(client.iter_countries())


@pytest.mark.parametrize(("second", "repeats"), [
    ([{"name": "C0", "countryCode": "AAA"}], True),  # the same values, keys in another order
    ([{"countryCode": "AAA", "name": "C0", "n": 1.0}], False),  # 1.0 is not 1 in JSON, though equal in Python
    ([{"countryCode": "AAA", "name": "C0", "n": True}], False),
])
def test_a_page_repeats_the_previous_one_as_canonical_json_compares_them(second, repeats):
    first = [{"countryCode": "AAA", "name": "C0", **({"n": 1} if "n" in second[0] else {})}]
    served = iter([first, second])

    def fetch(index, params):
        return Page(items=next(served), total=2, offset=index, size=1)

    pages = iterate_pages(fetch, PageNumberPaging(1), "countries")
    if repeats:
        with pytest.raises(PagingError, match="page 2 repeats page 1"):
            list(pages)
    else:
        assert [p.items for p in pages] == [first, second]


def test_a_moving_count_fails_loudly(tmp_path):
    api = FakeApi()
    items = countries(60)

    def growing(request):
        page = int(request.url.params["page"])
        return json_response(200, {"countries": items[(page - 1) * 20: page * 20], "count": 60 + page})

    api.route(COUNTRIES, growing)
    with make_client(tmp_path, api, page_size=20) as client, pytest.raises(PagingError, match="count changed from 61 to 62"):
        list(client.iter_countries())


def test_a_short_page_before_the_end_fails_loudly(tmp_path):
    api = FakeApi()
    api.route(COUNTRIES, lambda r: json_response(200, {"countries": countries(15), "count": 50}))
    with make_client(tmp_path, api, page_size=20) as client, pytest.raises(PagingError, match="fewer than the page size"):
        list(client.iter_countries())


def test_an_empty_page_before_the_count_fails_loudly(tmp_path):
    api = FakeApi()
    items = countries(20)

    def handler(request):
        page = int(request.url.params["page"])
        return json_response(200, {"countries": items if page == 1 else [], "count": 30})

    api.route(COUNTRIES, handler)
    with make_client(tmp_path, api, page_size=20) as client, pytest.raises(PagingError, match="empty after 20 of 30"):
        list(client.iter_countries())


def test_more_items_than_the_count_fails_loudly(tmp_path):
    api = FakeApi()
    api.route(COUNTRIES, lambda r: json_response(200, {"countries": countries(5), "count": 3}))
    with make_client(tmp_path, api, page_size=20) as client, pytest.raises(PagingError, match="more than the count"):
        list(client.iter_countries())


def test_a_page_number_mismatch_fails_loudly(tmp_path):
    api = FakeApi()
    api.route(COUNTRIES, lambda r: json_response(200, {"countries": countries(20), "count": 40, "page": 1}))
    with make_client(tmp_path, api, page_size=20) as client, pytest.raises(PagingError, match="asked for page 2"):
        list(client.iter_countries())


def test_a_wrong_envelope_is_retried_not_taken_as_empty(tmp_path):
    api = FakeApi()
    api.list_route(COUNTRIES, "countries", countries(5))
    api.fail_next(COUNTRIES, json_response(200, {"count": 5}), json_response(200, {"countries": [], "count": "5"}))
    with make_client(tmp_path, api) as client:
        assert len(list(client.iter_countries())) == 5
    assert len(api.business_requests()) == 3


# -------------------------------------------------------------------------------------------- range


def range_handler(items, unit="items ", max_served=None, body_key=None):
    def handler(request):
        first, last = (int(x) for x in request.url.params["range"].split("-"))
        if not items:
            return httpx.Response(416, headers={"Content-Range": f"{unit}*/0"})
        if max_served:
            last = min(last, first + max_served - 1)
        last = min(last, len(items) - 1)
        chunk = items[first:last + 1]
        body = {body_key: chunk} if body_key else chunk
        return json_response(206, body, {"Content-Range": f"{unit}{first}-{last}/{len(items)}"})

    return handler


@pytest.mark.parametrize("unit", ["", "items "])
def test_range_strategy_reads_content_range(tmp_path, unit):
    api = FakeApi()
    items = countries(45)
    api.route(COUNTRIES, range_handler(items, unit))
    with make_client(tmp_path, api, paging="range", page_size=20) as client:
        stream = client.iter_countries()
        got = [r.raw for r in stream]
        assert stream.reported_total == 45
    assert got == items
    assert [r.url.params["range"] for r in api.business_requests()] == ["0-19", "20-39", "40-59"]


def test_range_strategy_follows_a_server_that_serves_less_than_asked(tmp_path):
    api = FakeApi()
    items = countries(25)
    api.route(COUNTRIES, range_handler(items, max_served=10, body_key="countries"))
    with make_client(tmp_path, api, paging="range", page_size=20) as client:
        assert [r.raw for r in client.iter_countries()] == items
    assert [r.url.params["range"] for r in api.business_requests()] == ["0-19", "10-29", "20-39"]


def test_range_strategy_empty_list(tmp_path):
    api = FakeApi()
    api.route(COUNTRIES, range_handler([]))
    with make_client(tmp_path, api, paging="range") as client:
        stream = client.iter_countries()
        assert list(stream) == [] and stream.reported_total == 0


def test_range_strategy_header_that_contradicts_the_body_fails_loudly(tmp_path):
    api = FakeApi()
    api.route(COUNTRIES, lambda r: json_response(206, countries(5), {"Content-Range": "0-19/45"}))
    with make_client(tmp_path, api, paging="range", page_size=20) as client, pytest.raises(PagingError, match="does not match"):
        list(client.iter_countries())


def test_range_strategy_repeated_range_fails_loudly(tmp_path):
    api = FakeApi()
    items = countries(40)
    api.route(COUNTRIES, lambda r: json_response(206, items[:20], {"Content-Range": "0-19/40"}))
    with make_client(tmp_path, api, paging="range", page_size=20) as client, pytest.raises(PagingError):
        list(client.iter_countries())


def test_range_strategy_against_a_page_server_fails_fast_naming_the_setting(tmp_path):
    api = FakeApi()
    api.route(COUNTRIES, lambda r: json_response(200, countries(3)))  # no Content-Range: another convention
    with make_client(tmp_path, api, paging="range") as client, \
            pytest.raises(UnexpectedShapeError, match="Content-Range.*the same on 2 attempts.*paging"):
        list(client.iter_countries())
    assert len(api.business_requests()) == 2

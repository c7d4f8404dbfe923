"""The push channel's writes (a subscription's POST, a replay's PATCH) are sent again only after a failure
that certainly changed nothing: a second subscription would push every message twice, a second replay
spends one of the seven. Reads keep their retries."""

import httpx
import pytest

from resources.cofaserve import WriteOutcomeUnknownError
from tests.unit.test_client_fakes import FakeApi, envelope, json_response, make_client

SUBSCRIBE = "/tci/push/v1/topics/scoring/subscriptions"
REPLAY = "/tci/replay/v1/replay"
ENDPOINT = {"scheme": "https", "host": "push.example.com", "port": "", "path": "/cofaserve/push", "query": ""}
SUBSCRIBED = {"subscriptionArn": "arn:aws:sns:eu-west-1:0:cofaserve-scoring:1", "topicName": "scoring",
              "status": "confirmed"}


def _api() -> FakeApi:
    api = FakeApi()
    api.json_route(SUBSCRIBE, SUBSCRIBED)
    api.json_route(REPLAY, {"replays": [{"notificationId": "N1", "outcome": "accepted"}]})
    return api


def _sent(api: FakeApi, path: str) -> int:
    return sum(1 for r in api.business_requests() if r.url.path == path)


@pytest.mark.parametrize("failure", [
    envelope(500, "internal_server_error", "boom"),
    envelope(503, "service_unavailable", "busy"),
    httpx.ReadTimeout("no answer in time"),
    httpx.RemoteProtocolError("peer closed the connection"),
    json_response(201, ["not", "the", "answer"]),
], ids=["500", "503", "read-timeout", "cut", "unreadable"])
def test_a_subscription_that_may_have_taken_effect_is_not_sent_again(tmp_path, failure):
    api = _api()
    api.fail_next(SUBSCRIBE, failure)
    with make_client(tmp_path, api) as client, pytest.raises(WriteOutcomeUnknownError) as info:
        client.subscribe_push("scoring", ENDPOINT)
    assert _sent(api, SUBSCRIBE) == 1
    message = str(info.value)
    assert "POST" in message and "not sent again" in message and "took effect" in message
    assert info.value.last_error is not None


def test_a_replay_that_may_have_taken_effect_is_not_asked_twice(tmp_path):
    api = _api()
    api.fail_next(REPLAY, envelope(502, "bad_gateway", "upstream"))
    with make_client(tmp_path, api) as client, pytest.raises(WriteOutcomeUnknownError, match="PATCH"):
        client.replay_push(["N1"])
    assert _sent(api, REPLAY) == 1


@pytest.mark.parametrize("failure", [
    json_response(429, {"messages": [{"code": "too_many_request", "message": "slow"}]}, headers={"Retry-After": "1"}),
    httpx.ConnectError("connection reset before it opened"),
    httpx.ConnectTimeout("no connection in time"),
], ids=["429", "connect-error", "connect-timeout"])
def test_a_write_that_certainly_changed_nothing_is_retried(tmp_path, failure):
    api = _api()
    api.fail_next(SUBSCRIBE, failure)
    with make_client(tmp_path, api) as client:
        answer = client.subscribe_push("scoring", ENDPOINT).model
    assert answer.status == "confirmed" and _sent(api, SUBSCRIBE) == 2


def test_a_read_is_still_retried_after_a_5xx(tmp_path):
    api = _api()
    catalog = "/tci/product/v1/companies/12345678/catalog"
    api.json_route(catalog, {"easyNumber": "12345678", "products": []})
    api.fail_next(catalog, envelope(500, "internal_server_error", "boom"))
    with make_client(tmp_path, api) as client:
        assert client.get_catalog("12345678").model.easy_number == "12345678"
    assert _sent(api, catalog) == 2

"""The sandbox's push channel over real HTTP on loopback: subscriptions, signed messages, the retry
process and replay on the push clock, the OAuth variant and the send rate."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from tests.support.push_endpoint import push_endpoint

TOPIC = "credit_insurance_cover"
WORLD = {"companies": 2000}
FAST = {**WORLD, "push_rate": 1000}  # the retry timeline without the 10-a-second pace
HOUR, DAY = 3600, 86400


def _verify(envelope: dict) -> None:
    """Check the signature as a subscriber would: SNS's string to sign, the certificate it names."""
    fields = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
    text = "".join(f"{k}\n{envelope[k]}\n" for k in fields if k in envelope).encode()
    cert = x509.load_pem_x509_certificate(httpx.get(envelope["SigningCertURL"]).content)
    cert.public_key().verify(base64.b64decode(envelope["Signature"]), text, padding.PKCS1v15(), hashes.SHA256())


def _bodies(recorder) -> list[dict]:
    return [json.loads(r["body"]) for r in recorder.received]


def test_each_decision_of_a_topic_is_pushed_once_signed_and_naming_its_policy(sandbox_factory):
    with sandbox_factory(**WORLD, policies=2) as sb, push_endpoint() as hook:
        sub = sb.push_subscribe(TOPIC, hook.endpoint(query="mtu=007"))
        assert sub["status"] == "CONFIRMED" and sub["endpoint"].endswith("/hook?mtu=007")
        before = {n["notificationId"] for n in sb.truth("notifications")}
        sb.advance_push_clock(4 * DAY)
        messages = sb.push_messages()
        bodies = _bodies(hook)
        assert messages and len(bodies) == len(messages), "every message published reached the endpoint"
        assert {m["state"] for m in messages} == {"delivered"}
        assert all(r["query"] == {"mtu": "007"} for r in hook.received)
        for envelope in bodies[:5]:
            _verify(envelope)
        notes = [json.loads(e["Message"]) for e in bodies]
        assert len({n["notificationId"] for n in notes}) == len(notes), "pushed once each"
        assert not {n["notificationId"] for n in notes} & before, "only decisions after the subscription"
        assert {n["policyNumber"] for n in notes} == set(sb.policies)
        assert {n["productCode"] for n in notes} <= {"ECL", "CREDITLIMIT", "ARATINGLIMIT", "ILU"}
        new = [n for n in sb.truth("notifications") if n["notificationId"] not in before]
        covers = [n for n in new if n["productCode"] in ("ECL", "CREDITLIMIT", "ARATINGLIMIT", "ILU")]
        assert len(covers) == len(notes), "every cover decision since the subscription was pushed"


def test_a_tampered_message_fails_the_signature_check(sandbox_factory):
    with sandbox_factory(**WORLD) as sb, push_endpoint() as hook:
        sb.push_subscribe(TOPIC, hook.endpoint())
        sb.advance_push_clock(3 * DAY)
        envelope = _bodies(hook)[0]
        _verify(envelope)
        forged = {**envelope, "Message": envelope["Message"].replace("\"status\":\"", "\"status\":\"X")}
        assert forged["Message"] != envelope["Message"]
        with pytest.raises(InvalidSignature):
            _verify(forged)


def test_a_failing_endpoint_goes_through_both_retry_steps_then_replay_delivers(sandbox_factory):
    with sandbox_factory(**FAST) as sb, push_endpoint() as hook:
        sb.push_subscribe(TOPIC, hook.endpoint())
        hook.status = 503
        sb.advance_push_clock(DAY)
        first = sb.push_messages()
        assert first and all(m["state"] == "pending" and m["attempts"] >= 6 for m in first)
        ids = [m["messageId"] for m in first]
        early = _replay(sb, ids[:1])
        assert early == {ids[0]: "retry_in_progress"}
        for _ in range(6):  # five hours in steps: both retry steps fail
            sb.advance_push_clock(HOUR)
        stored = {m["messageId"]: m for m in sb.push_messages()}
        assert all(stored[i]["state"] == "stored" for i in ids)
        hook.status = 200
        assert set(_replay(sb, ids).values()) == {"accepted"}
        sb.advance_push_clock(1)
        after = {m["messageId"]: m for m in sb.push_messages()}
        assert all(after[i]["state"] == "delivered" and after[i]["replays"] == 1 for i in ids)
        delivered = [json.loads(r["body"])["MessageId"] for r in hook.received if r["body"] and hook.status == 200]
        assert set(ids) <= set(delivered)


def _replay(sb, ids: list[str]) -> dict[str, str]:
    with sb.client() as client:
        resp = client.patch("/tci/replay/v1/replay", json={"messageIds": ids})
    assert resp.status_code == 200, resp.text
    return {r["messageId"]: r["outcome"] for r in resp.json()["replays"]}


def test_seven_failed_replays_lose_a_message_and_five_days_close_the_window(sandbox_factory):
    with sandbox_factory(**FAST) as sb, push_endpoint() as hook:
        sb.push_subscribe(TOPIC, hook.endpoint())
        hook.status = 500
        sb.advance_push_clock(DAY)
        ids = [m["messageId"] for m in sb.push_messages()]
        assert len(ids) >= 2
        sb.advance_push_clock(6 * HOUR)
        target, other = ids[0], ids[1:]
        for attempt in range(7):
            assert _replay(sb, [target]) == {target: "accepted"}, attempt
            sb.advance_push_clock(2 * HOUR)  # the replayed process fails again
        states = {m["messageId"]: m for m in sb.push_messages()}
        assert states[target]["state"] == "lost" and states[target]["replays"] == 7
        assert _replay(sb, [target]) == {target: "lost"}
        sb.advance_push_clock(5 * DAY)
        assert all(m["state"] == "lost" for m in sb.push_messages() if m["messageId"] in other)
        assert _replay(sb, ["no-such-id"]) == {"no-such-id": "unknown"}


def test_the_oauth_variant_fetches_a_token_before_each_send(sandbox_factory):
    with sandbox_factory(**WORLD) as sb, push_endpoint() as hook:
        oauth = {"authEndpoint": hook.endpoint("/token"), "clientId": "cofaserve", "clientSecret": "s3cret"}
        sb.push_subscribe(TOPIC, hook.endpoint(), oauth=oauth)
        sb.advance_push_clock(3 * DAY)
        assert hook.received and len(hook.token_requests) == len(hook.received)
        assert {r["headers"]["authorization"] for r in hook.received} == {
            f"Bearer tok-{n}" for n in range(1, len(hook.received) + 1)}
        assert hook.token_requests[0]["grant_type"] == "client_credentials"


def test_a_token_endpoint_that_refuses_makes_every_send_fail(sandbox_factory):
    with sandbox_factory(**FAST) as sb, push_endpoint() as hook:
        oauth = {"authEndpoint": hook.endpoint("/token"), "clientId": "cofaserve", "clientSecret": "wrong"}
        sb.push_subscribe(TOPIC, hook.endpoint(), oauth=oauth)
        sb.advance_push_clock(3 * DAY)
        messages = sb.push_messages()
        assert messages and not hook.received
        assert all(m["state"] == "pending" and "token" in m["lastError"] for m in messages)


def test_at_most_ten_messages_a_second_per_subscription(sandbox_factory):
    with sandbox_factory(**WORLD) as sb, push_endpoint() as hook:
        sb.push_subscribe(TOPIC, hook.endpoint())
        sb.advance_push_clock(5 * DAY)
        times = sorted(r["at"] for r in hook.received)
        assert len(times) > 10
        assert all(times[i + 10] - times[i] >= 0.9 for i in range(len(times) - 10)), "11 sends within a second"


def test_subscription_requests_are_checked(sandbox_factory):
    with sandbox_factory(**WORLD) as sb, sb.client() as client:
        good = {"scheme": "https", "host": "example.com", "port": "", "path": "/p", "query": ""}
        unknown = client.post("/tci/push/v1/topics/weather/subscriptions", json={"endpoint": good})
        assert unknown.status_code == 404 and "credit_insurance_cover" in unknown.text
        bad = client.post(f"/tci/push/v1/topics/{TOPIC}/subscriptions", json={"endpoint": {**good, "scheme": "ftp"}})
        assert bad.status_code == 400 and "endpoint.scheme" in bad.text
        no_oauth = client.post(f"/tci/push/v1/topics/{TOPIC}/subscriptions/with-token-auth", json={"endpoint": good})
        assert no_oauth.status_code == 400 and "oauth" in no_oauth.text
        anonymous = httpx.post(sb.base_url + f"/tci/push/v1/topics/{TOPIC}/subscriptions", json={"endpoint": good})
        assert anonymous.status_code == 403


def test_the_unsubscribe_url_stops_the_flow(sandbox_factory):
    with sandbox_factory(**WORLD) as sb, push_endpoint() as hook:
        sb.push_subscribe(TOPIC, hook.endpoint())
        sb.advance_push_clock(3 * DAY)
        received = len(hook.received)
        assert received
        assert httpx.get(_bodies(hook)[0]["UnsubscribeURL"]).status_code == 200
        sb.advance_push_clock(3 * DAY)
        assert len(hook.received) == received

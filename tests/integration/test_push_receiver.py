"""The push channel in both directions over real HTTP on loopback: the sandbox sends, `cofasync
receive` checks and keeps. Forged, altered or unexpected messages are refused and nothing of them lands;
a duplicate lands once; a receiver down for hours loses nothing (the retries, then a replay)."""

from __future__ import annotations

import base64
import json
from urllib.parse import urlsplit

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from resources.push import Inbox, PushSettings, load_push_settings
from resources.push.verify import signed_text
from resources.settings import SettingsError
from tests.support.receiver import endpoint_of, serve_receiver

TOPIC = "credit_insurance_cover"
HOUR, DAY = 3600, 86400
WORLD = {"companies": 2000, "push_rate": 1000}


def _settings(sb, **kw) -> PushSettings:
    origin = urlsplit(sb.base_url).netloc
    return PushSettings("127.0.0.1", 0, "/cofaserve/push", ("*.amazonaws.com", f"http://{origin}"),
                        query=("mtu", "007"), **kw)


def _inbox_ids(inbox: Inbox) -> set[str]:
    return {message_id for _, message_id, _ in inbox.unlanded()}


def _delivered(sb) -> set[str]:
    return {m["messageId"] for m in sb.push_messages() if m["state"] == "delivered"}


def test_every_message_sent_is_kept_once_in_the_inbox(sandbox_factory, tmp_path):
    with sandbox_factory(**WORLD) as sb:
        settings = _settings(sb)
        inbox = Inbox(str(tmp_path / "landing"))
        with serve_receiver(settings, inbox) as port:
            sb.push_subscribe(TOPIC, endpoint_of(port, settings))
            sb.advance_push_clock(4 * DAY)
            messages = sb.push_messages()
            assert messages and {m["state"] for m in messages} == {"delivered"}
            assert _inbox_ids(inbox) == {m["messageId"] for m in messages}
            seq, message_id, raw = inbox.unlanded()[0]
            again = httpx.post(f"http://127.0.0.1:{port}{settings.path}?mtu=007", content=raw)
            assert again.status_code == 200 and again.json()["duplicate"] is True
            assert inbox.count() == len(messages)


def _forgeries(envelope: dict, sandbox_origin: str) -> dict[str, dict]:
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    resigned = {**envelope, "Message": envelope["Message"].replace('"status":"', '"status":"X'),
                "MessageId": "forged-1"}
    resigned["Signature"] = base64.b64encode(
        other_key.sign(signed_text(resigned), padding.PKCS1v15(), hashes.SHA256())).decode()
    return {
        "re-signed with another key": resigned,
        "altered after signing": {**envelope, "MessageId": "forged-2",
                                  "Message": envelope["Message"].replace('"status":"', '"status":"X')},
        "certificate from a host not allowed": {**envelope, "MessageId": "forged-3",
                                                "SigningCertURL": "http://evil.example.com/cert.pem"},
        "SignatureVersion 1": {**envelope, "MessageId": "forged-4", "SignatureVersion": "1"},
        "no signature": {k: v for k, v in envelope.items() if k != "Signature"} | {"MessageId": "forged-5"},
        "https certificate on the sandbox's host under another port": {
            **envelope, "MessageId": "forged-6",
            "SigningCertURL": envelope["SigningCertURL"].replace(sandbox_origin, "127.0.0.1:1")},
    }


def test_forged_or_altered_messages_are_refused_and_nothing_lands(sandbox_factory, tmp_path):
    with sandbox_factory(**WORLD) as sb:
        settings = _settings(sb)
        inbox = Inbox(str(tmp_path / "landing"))
        with serve_receiver(settings, inbox) as port:
            sb.push_subscribe(TOPIC, endpoint_of(port, settings))
            sb.advance_push_clock(2 * DAY)
            kept = inbox.count()
            assert kept
            envelope = json.loads(inbox.unlanded()[0][2])
            url = f"http://127.0.0.1:{port}{settings.path}"
            for name, forged in _forgeries(envelope, urlsplit(sb.base_url).netloc).items():
                answer = httpx.post(url + "?mtu=007", content=json.dumps(forged))
                assert answer.status_code == 403, name
                assert answer.json()["refused"], name
            assert httpx.post(url, content=json.dumps(envelope)).status_code == 403, "no query parameter"
            assert httpx.post(url + "?mtu=008", content=json.dumps(envelope)).status_code == 403
            assert httpx.post(url + "?mtu=007", content=b"not json").status_code == 403
            assert inbox.count() == kept
            assert not any(i.startswith("forged") for i in _inbox_ids(inbox))
            health = httpx.get(url + "/health").json()
            assert health["refused"] == 9 and health["accepted"] == kept


def test_a_receiver_down_for_two_hours_loses_nothing(sandbox_factory, tmp_path):
    with sandbox_factory(**WORLD) as sb:
        settings = _settings(sb)
        inbox = Inbox(str(tmp_path / "landing"))
        with serve_receiver(settings, inbox) as port:
            sb.push_subscribe(TOPIC, endpoint_of(port, settings))
        sb.advance_push_clock(DAY)  # the receiver is down: every send is refused a connection
        missed = sb.push_messages()
        assert missed and all(m["state"] == "pending" and m["attempts"] >= 6 for m in missed)
        for _ in range(4):
            sb.advance_push_clock(HOUR // 2)
        with serve_receiver(settings, inbox, port=port):
            sb.advance_push_clock(3 * HOUR)  # the second retry step finds it up
            assert _delivered(sb) == {m["messageId"] for m in missed}
        assert _inbox_ids(inbox) == {m["messageId"] for m in missed}


def test_a_message_stored_after_both_retry_steps_lands_when_replayed(sandbox_factory, tmp_path):
    with sandbox_factory(**WORLD) as sb:
        settings = _settings(sb)
        inbox = Inbox(str(tmp_path / "landing"))
        with serve_receiver(settings, inbox) as port:
            sb.push_subscribe(TOPIC, endpoint_of(port, settings))
        sb.advance_push_clock(DAY)
        for _ in range(6):
            sb.advance_push_clock(HOUR)
        stored = [m["messageId"] for m in sb.push_messages()]
        assert stored and {m["state"] for m in sb.push_messages()} == {"stored"}
        assert inbox.count() == 0
        missed = [m["notificationId"] for m in sb.push_messages()]  # what the nightly pull shows
        with serve_receiver(settings, inbox, port=port), sb.client() as client:
            answer = client.patch("/tci/replay/v1/replay", json={"notificationIds": missed})
            assert {r["outcome"] for r in answer.json()["replays"]} == {"accepted"}
            sb.advance_push_clock(1)
        assert _inbox_ids(inbox) == set(stored) == _delivered(sb)


def test_the_oauth_variant_needs_a_token_the_receiver_issued(sandbox_factory, tmp_path):
    with sandbox_factory(**WORLD) as sb:
        settings = _settings(sb, oauth_client=("cofaserve", "s3cret"))
        inbox = Inbox(str(tmp_path / "landing"))
        with serve_receiver(settings, inbox) as port:
            token_endpoint = endpoint_of(port, settings, path=settings.path + "/token")
            oauth = {"authEndpoint": token_endpoint, "clientId": "cofaserve", "clientSecret": "s3cret"}
            sb.push_subscribe(TOPIC, endpoint_of(port, settings), oauth=oauth)
            sb.advance_push_clock(2 * DAY)
            assert inbox.count() and _inbox_ids(inbox) == _delivered(sb)
            raw = inbox.unlanded()[0][2]
            url = f"http://127.0.0.1:{port}{settings.path}?mtu=007"
            assert httpx.post(url, content=raw).status_code == 403
            assert httpx.post(url, content=raw, headers={"Authorization": "Bearer made-up"}).status_code == 403
            refused = httpx.post(url.replace(settings.path, settings.path + "/token").split("?")[0],
                                 data={"grant_type": "client_credentials", "client_id": "cofaserve",
                                       "client_secret": "wrong"})
            assert refused.status_code == 401


def test_receiver_settings_are_checked_by_name():
    with pytest.raises(SettingsError) as error:
        load_push_settings({"COFASYNC_PUSH_LISTEN": "8787", "COFASYNC_PUSH_QUERY": "novalue",
                            "COFASYNC_PUSH_OAUTH_CLIENT_ID": "only-the-id"})
    assert "COFASYNC_PUSH_LISTEN" in str(error.value) and "COFASYNC_PUSH_QUERY" in str(error.value)
    with pytest.raises(SettingsError, match="go together"):
        load_push_settings({"COFASYNC_PUSH_OAUTH_CLIENT_ID": "only-the-id"})
    defaults = load_push_settings({})
    assert (defaults.host, defaults.port, defaults.cert_hosts) == ("127.0.0.1", 8787, ("*.amazonaws.com",))

"""Login, lockout guard and token lifetime against the sandbox's identity provider, over real HTTP."""

import httpx
import pytest

from resources.cofaserve import (
    AccountLockedError,
    InvalidCredentialsError,
    LoginCoolingDownError,
)
from tests.integration.test_client_harness import client_for, full_window, start_sandbox


def login_counters(sb):
    return sb.counters()["login"]


def test_wrong_password_one_attempt_then_later_runs_make_none(tmp_path):
    guard = tmp_path / "guard"
    with start_sandbox() as sb:
        with client_for(sb, guard, password="not-the-password") as client:
            with pytest.raises(InvalidCredentialsError) as info:
                list(client.iter_countries())
            with pytest.raises(InvalidCredentialsError):  # the same run does not try again
                client.get_catalog("12345678")
        assert "Incorrect username or password" in str(info.value)
        assert "will not be tried again before" in str(info.value)
        assert login_counters(sb)["attempts"] == 1

        for _ in range(3):  # later runs, same guard folder: no attempt at all
            with client_for(sb, guard, password="not-the-password") as later:
                with pytest.raises(LoginCoolingDownError) as refused:
                    list(later.iter_countries())
            assert refused.value.retry_at == info.value.retry_at
        assert login_counters(sb)["attempts"] == 1
        assert [e for e in sb.counters()["byEndpoint"] if "/tci/" in e] == []  # no business call either

        with client_for(sb, guard) as fixed:  # corrected credentials are tried at once
            assert len(list(fixed.iter_countries())) > 0
        assert login_counters(sb)["attempts"] == 2 and login_counters(sb)["successes"] == 1


def test_a_locked_account_is_reported_as_locked_and_not_hammered(tmp_path):
    with start_sandbox() as sb:
        creds = sb.credentials
        # someone else (another tool) burns the five allowed failures and starts a lockout
        with httpx.Client(base_url=sb.auth_url) as raw:
            for _ in range(6):
                raw.post("/authentication/v1/token", headers={"x-api-key": creds["api_key"]},
                         json={"grantType": "password", "username": creds["username"], "password": "wrong"})
        before = login_counters(sb)["attempts"]
        with client_for(sb, tmp_path / "guard") as client, pytest.raises(AccountLockedError) as info:
            list(client.iter_countries())  # even the right password fails during a lockout
        assert not isinstance(info.value, InvalidCredentialsError)
        assert "Password attempts exceeded" in str(info.value) and "locked" in str(info.value)
        with client_for(sb, tmp_path / "guard") as again, pytest.raises(LoginCoolingDownError):
            list(again.iter_countries())
        assert login_counters(sb)["attempts"] == before + 1


def test_token_revoked_mid_listing_is_refreshed_once_and_the_listing_completes(tmp_path):
    with start_sandbox() as sb, client_for(sb, tmp_path / "guard", page_size=20) as client:
        stream = client.iter_notifications(full_window(sb))
        first = [next(stream) for _ in range(30)]  # two pages read
        sb.set_faults("none", revoke_tokens_now=True)
        rest = list(stream)
        snapshot = client.telemetry.snapshot()
        counters = sb.counters()
    ids = [r.raw["notificationId"] for r in first + rest]
    assert len(ids) == len(set(ids)) == stream.reported_total
    assert snapshot["replays"] == 1 and snapshot["token_refreshes"] == 1
    # the refresh token was revoked too: the client fell back to one fresh login
    assert counters["login"]["attempts"] == 2 and counters["login"]["successes"] == 2


def test_token_expired_on_the_server_is_refreshed_with_the_refresh_token(tmp_path):
    with start_sandbox() as sb, client_for(sb, tmp_path / "guard") as client:
        assert len(list(client.iter_countries())) > 0
        sb.advance_auth_clock(3600 + 1)  # the server's clock runs past the idToken's expiry
        assert len(list(client.iter_policies())) == 1
        snapshot = client.telemetry.snapshot()
        counters = sb.counters()
    assert snapshot["replays"] == 1 and snapshot["token_refreshes"] == 1
    assert counters["login"]["attempts"] == 1 and counters["login"]["refreshes"] == 1


def test_short_lived_tokens_are_refreshed_before_they_expire(tmp_path):
    with start_sandbox(token_ttl=60) as sb, client_for(sb, tmp_path / "guard", token_refresh_margin_seconds=90) as client:
        for _ in range(3):
            assert len(list(client.iter_policies())) == 1
        snapshot = client.telemetry.snapshot()
        counters = sb.counters()
    # the token always lives less than the margin: refreshed before each use, never refused
    assert snapshot["replays"] == 0 and snapshot["http_4xx"] == 0
    assert counters["login"]["attempts"] == 1 and counters["login"]["refreshes"] == 2

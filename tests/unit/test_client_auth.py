"""Login, tokens and the lockout guard."""

import json
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from resources.cofaserve import (
    AccountLockedError,
    AuthError,
    ForbiddenError,
    InvalidCredentialsError,
    LockoutGuardUnusableError,
    LoginCoolingDownError,
    LoginRejectedError,
    TokenRejectedError,
)
from resources.cofaserve.fingerprint import folder_salt
from resources.cofaserve.lockout import LockoutGuard
from tests.unit.test_client_fakes import (
    API_KEY,
    PASSWORD,
    POLICY,
    USERNAME,
    FakeApi,
    FakeClock,
    envelope,
    json_response,
    login_error,
    make_client,
)

CATALOG = "/tci/product/v1/companies/12345678/catalog"
CATALOG_BODY = {"easyNumber": "12345678", "products": []}


def catalog_api(**kw) -> FakeApi:
    api = FakeApi(**kw)
    api.json_route(CATALOG, CATALOG_BODY)
    return api


# --------------------------------------------------------------------------------------------- login


def test_login_sends_the_password_grant_with_the_api_key(tmp_path):
    api = catalog_api()
    with make_client(tmp_path, api) as client:
        client.get_catalog("12345678")
    login = api.requests[0]
    assert str(login.url) == "https://auth.test/authentication/v1/token" and login.method == "POST"
    assert login.headers["x-api-key"] == API_KEY
    assert json.loads(login.content) == {
        "grantType": "password", "username": USERNAME, "password": PASSWORD, "refreshToken": "",
    }


def test_business_calls_send_the_id_token_api_key_and_policy(tmp_path):
    api = catalog_api()
    with make_client(tmp_path, api) as client:
        for _ in range(3):
            client.get_catalog("12345678")
    assert api.logins == 1  # the token is reused
    for request in api.business_requests():
        assert request.headers["authorization"] == "idtoken-1-ABCDEFGH"  # the idToken, raw
        assert request.headers["x-api-key"] == API_KEY
        assert request.headers["x-cof-policy-number"] == POLICY


def test_authorization_scheme_and_header_names_are_settings(tmp_path):
    api = catalog_api()
    with make_client(tmp_path, api, authorization_scheme="Bearer", policy_header="X-Contract",
                     contract_id_param="contract_id") as client:
        client.get_catalog("12345678")
    request = api.business_requests()[0]
    assert request.headers["authorization"] == "Bearer idtoken-1-ABCDEFGH"
    assert request.headers["x-contract"] == POLICY
    assert request.url.params["contract_id"] == POLICY


def test_transient_login_failures_are_retried(tmp_path):
    api = catalog_api()
    api.login_script.extend([envelope(503, "service_unavailable", "down"), json_response(429, {}, {"Retry-After": "1"})])
    with make_client(tmp_path, api) as client:
        assert client.get_catalog("12345678").ok
    assert api.logins == 3


def test_refused_api_key_on_login_is_an_auth_error_and_not_a_lockout(tmp_path):
    api = catalog_api()
    api.login_script.append(json_response(403, {"message": "Forbidden"}))
    with make_client(tmp_path, api) as client:
        with pytest.raises(ForbiddenError):
            client.get_catalog("12345678")
    assert api.logins == 1
    assert not list((tmp_path / "guard").glob("*.json"))  # a key problem is not a password attempt


# ------------------------------------------------------------------------------------ token lifetime


def test_token_is_refreshed_proactively_before_it_expires(tmp_path):
    api = catalog_api(expires_in=600)
    clock = FakeClock()
    with make_client(tmp_path, api, clock, token_refresh_margin_seconds=60) as client:
        client.get_catalog("12345678")
        clock.advance(530)  # 70 s left: not yet inside the margin
        client.get_catalog("12345678")
        assert api.refreshes == 0
        clock.advance(20)  # 50 s left: refresh before use
        client.get_catalog("12345678")
    assert (api.logins, api.refreshes) == (1, 1)
    refresh = [r for r in api.requests if r.url.host == "auth.test"][1]
    assert json.loads(refresh.content) == {"grantType": "refresh_token", "refreshToken": "refresh-1-IJKLMNOP"}
    assert api.business_requests()[-1].headers["authorization"] == "idtoken-2-ABCDEFGH"


def test_refused_refresh_falls_back_to_a_fresh_login(tmp_path):
    api = catalog_api(expires_in=600)
    api.refresh_script.append(login_error("Refresh Token has expired"))
    clock = FakeClock()
    with make_client(tmp_path, api, clock) as client:
        client.get_catalog("12345678")
        clock.advance(3600)
        assert client.get_catalog("12345678").ok
    assert (api.logins, api.refreshes) == (2, 1)


def test_401_gets_exactly_one_refresh_and_one_replay(tmp_path):
    api = catalog_api()
    with make_client(tmp_path, api) as client:
        client.get_catalog("12345678")
        api.revoke_all()  # the server forgets the token (revoked, or its clock ran ahead)
        assert client.get_catalog("12345678").ok
        snapshot = client.telemetry.snapshot()
    assert (api.logins, api.refreshes) == (1, 1)
    assert len(api.business_requests()) == 3  # first call, the refused one, its replay
    assert snapshot["replays"] == 1 and snapshot["retries"] == 0


def test_401_after_the_replay_is_a_token_error_without_more_attempts(tmp_path):
    api = catalog_api()
    api.route(CATALOG, lambda r: envelope(401, "invalid_token", "no"))
    api.fail_next(CATALOG, envelope(401, "invalid_token", "no"), envelope(401, "invalid_token", "no"))
    with make_client(tmp_path, api) as client:
        with pytest.raises(TokenRejectedError) as info:
            client.get_catalog("12345678")
    assert isinstance(info.value, AuthError) and info.value.code == "invalid_token"
    assert len(api.business_requests()) == 2  # one call, one replay
    assert (api.logins, api.refreshes) == (1, 1)


def test_threads_hitting_the_same_stale_token_share_one_refresh(tmp_path):
    api = catalog_api()
    with make_client(tmp_path, api) as client:
        client.get_catalog("12345678")
        api.revoke_all()
        barrier = threading.Barrier(6)

        def call():
            barrier.wait()
            return client.get_catalog("12345678").ok

        results = []
        threads = [threading.Thread(target=lambda: results.append(call())) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert results == [True] * 6
    assert api.refreshes == 1 and api.logins == 1


# ------------------------------------------------------------------------------------ lockout guard


def test_wrong_password_one_attempt_clear_error_and_no_retry_in_the_run(tmp_path):
    api = catalog_api(password="the-right-one")
    with make_client(tmp_path, api) as client:
        with pytest.raises(InvalidCredentialsError) as info:
            client.get_catalog("12345678")
        message = str(info.value)
        assert "Incorrect username or password" in message and "not be tried again before 2026-11-24T10:15:00Z" in message
        assert info.value.retry_at.isoformat() == "2026-11-24T10:15:00+00:00"
        with pytest.raises(InvalidCredentialsError, match="not retried in this run"):
            client.get_catalog("12345678")
    assert api.logins == 1
    assert isinstance(info.value, LoginRejectedError) and isinstance(info.value, AuthError)


def test_a_later_run_within_the_cool_down_makes_no_attempt(tmp_path):
    api = catalog_api(password="the-right-one")
    clock = FakeClock()
    with make_client(tmp_path, api, clock) as client, pytest.raises(InvalidCredentialsError):
        client.get_catalog("12345678")
    clock.advance(14 * 60)
    with make_client(tmp_path, api, clock) as later, pytest.raises(LoginCoolingDownError) as info:
        later.get_catalog("12345678")
    assert api.logins == 1
    assert info.value.retry_at.isoformat() == "2026-11-24T10:15:00+00:00"
    assert "not attempted" in str(info.value) and "2026-11-24T10:15:00Z" in str(info.value)
    assert "Incorrect username or password" in info.value.previous_failure


def test_after_the_cool_down_one_new_attempt_is_allowed(tmp_path):
    api = catalog_api(password="the-right-one")
    clock = FakeClock()
    with make_client(tmp_path, api, clock) as client, pytest.raises(InvalidCredentialsError):
        client.get_catalog("12345678")
    clock.advance(15 * 60 + 1)
    with make_client(tmp_path, api, clock) as later, pytest.raises(InvalidCredentialsError):
        later.get_catalog("12345678")
    assert api.logins == 2


def test_changed_credentials_are_tried_at_once_and_success_clears_the_record(tmp_path):
    api = catalog_api(password="the-right-one")
    clock = FakeClock()
    with make_client(tmp_path, api, clock) as client, pytest.raises(InvalidCredentialsError):
        client.get_catalog("12345678")
    assert len(list((tmp_path / "guard").glob("*.json"))) == 1
    with make_client(tmp_path, api, clock, password="the-right-one") as fixed:
        assert fixed.get_catalog("12345678").ok
    assert api.logins == 2
    assert len(list((tmp_path / "guard").glob("*.json"))) == 1  # the wrong password's record stays


def test_cool_down_is_a_setting(tmp_path):
    api = catalog_api(password="the-right-one")
    clock = FakeClock()
    with make_client(tmp_path, api, clock, lockout_cooldown_seconds=60) as c, pytest.raises(InvalidCredentialsError) as info:
        c.get_catalog("12345678")
    assert info.value.retry_at.isoformat() == "2026-11-24T10:01:00+00:00"
    clock.advance(61)
    with make_client(tmp_path, api, clock, lockout_cooldown_seconds=60) as c, pytest.raises(InvalidCredentialsError):
        c.get_catalog("12345678")
    assert api.logins == 2


def test_password_attempts_exceeded_is_a_lockout_not_a_bad_password(tmp_path):
    api = catalog_api()
    api.login_script.append(login_error("Password attempts exceeded"))
    with make_client(tmp_path, api) as client:
        with pytest.raises(AccountLockedError) as info:
            client.get_catalog("12345678")
    assert not isinstance(info.value, InvalidCredentialsError)
    assert "temporarily locked" in str(info.value) and "Password attempts exceeded" in str(info.value)
    with make_client(tmp_path, api) as later, pytest.raises(LoginCoolingDownError, match="Password attempts exceeded"):
        later.get_catalog("12345678")
    assert api.logins == 1


def test_unknown_login_refusal_is_still_guarded(tmp_path):
    api = catalog_api()
    api.login_script.append(json_response(400, {"__type": "UserNotFoundException", "message": "User does not exist."}))
    with make_client(tmp_path, api) as client, pytest.raises(LoginRejectedError) as info:
        client.get_catalog("12345678")
    assert type(info.value) is LoginRejectedError
    with make_client(tmp_path, api) as later, pytest.raises(LoginCoolingDownError):
        later.get_catalog("12345678")
    assert api.logins == 1


def test_guard_records_hold_no_secret_and_depend_on_every_credential(tmp_path):
    guard = LockoutGuard(tmp_path / "g")
    base = guard.fingerprint("https://auth.test", USERNAME, PASSWORD)
    assert PASSWORD not in base
    assert base != guard.fingerprint("https://auth.test", USERNAME, PASSWORD + "x")
    assert base != guard.fingerprint("https://auth.test", "other", PASSWORD)
    assert base != guard.fingerprint("https://auth.other", USERNAME, PASSWORD)
    assert base != LockoutGuard(tmp_path / "other").fingerprint("https://auth.test", USERNAME, PASSWORD)  # salted
    guard.record_failure(base, "invalid_credentials", "NotAuthorizedException: Incorrect username or password")
    for path in (tmp_path / "g").iterdir():
        text = path.read_text()
        assert PASSWORD not in text and USERNAME not in text and API_KEY not in text


def test_runs_starting_together_agree_on_the_folder_salt(tmp_path):
    """The salt file appears whole: a run starting beside the one creating it never reads it half-written."""
    for attempt in range(5):
        folder = tmp_path / f"fresh-{attempt}"
        barrier = threading.Barrier(8)

        def load(_, folder=folder, barrier=barrier):
            barrier.wait()
            return folder_salt(folder)

        with ThreadPoolExecutor(8) as pool:
            salts = list(pool.map(load, range(8)))
        assert len(set(salts)) == 1 and sorted(p.name for p in folder.iterdir()) == ["salt"]


def test_an_unusable_guard_folder_refuses_to_log_in(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    api = catalog_api()
    with pytest.raises(LockoutGuardUnusableError) as err:
        make_client(tmp_path, api, lockout_dir=blocker / "guard")
    message = str(err.value)
    assert str(blocker / "guard") in message and "COFASERVE_LOCKOUT_DIR" in message
    assert "lockout_guard_required" in message
    assert api.logins == 0 and api.requests == []


def test_a_read_only_guard_folder_refuses_too(tmp_path, monkeypatch):
    folder = tmp_path / "guard"
    folder_salt(folder)  # the salt is there, but records could not be written
    real = tempfile.TemporaryFile

    def refuse(*args, dir=None, **kwargs):
        if dir is not None and Path(dir) == folder:
            raise PermissionError(13, "Permission denied")
        return real(*args, dir=dir, **kwargs)

    monkeypatch.setattr(tempfile, "TemporaryFile", refuse)
    with pytest.raises(LockoutGuardUnusableError, match="Permission denied"):
        LockoutGuard(folder)


def test_unwritable_guard_folder_still_guards_the_process_when_the_user_opts_out(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    guard = LockoutGuard(blocker / "guard", required=False)
    fp = guard.fingerprint("a", "b", "c")
    guard.record_failure(fp, "invalid_credentials", "bad")
    with pytest.raises(LoginCoolingDownError):
        guard.check(fp)


def test_a_new_401_after_the_token_was_accepted_gets_its_own_refresh(tmp_path):
    api = catalog_api()
    with make_client(tmp_path, api) as client:
        client.get_catalog("12345678")
        api.revoke_all()
        # 401 -> refresh + replay -> 503 (token accepted) -> retry gets 401 again (revoked again)
        seen = {"n": 0}

        def before(request):
            if request.url.path == CATALOG:
                seen["n"] += 1
                if seen["n"] == 2:
                    return envelope(503, "service_unavailable", "down")
                if seen["n"] == 3:
                    api.revoke_all()
            return None

        api.before = before
        assert client.get_catalog("12345678").ok
    assert api.refreshes == 2 and api.logins == 1


def test_a_refused_replay_after_tokens_worked_is_another_revocation(tmp_path):
    """Tokens worked earlier in the run: a 401 on the replay is a second revocation, not a refusal."""
    api = catalog_api()
    with make_client(tmp_path, api) as client:
        client.get_catalog("12345678")
        api.revoke_all()
        seen = {"n": 0}

        def before(request):
            seen["n"] += 1
            if seen["n"] == 2:  # the replay is revoked again
                api.revoke_all()
            return None

        api.before = before
        assert client.get_catalog("12345678").ok
    assert api.refreshes == 2 and len(api.business_requests()) == 4


def test_token_episodes_per_request_are_bounded(tmp_path):
    api = catalog_api()
    with make_client(tmp_path, api) as client:
        client.get_catalog("12345678")

        def before(request):  # every token is revoked before it reaches the API
            api.revoke_all()
            return None

        api.before = before
        with pytest.raises(TokenRejectedError):
            client.get_catalog("12345678")
    assert api.refreshes == 3

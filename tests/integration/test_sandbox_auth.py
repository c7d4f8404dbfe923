"""Login, tokens and the lockout timeline over real HTTP, with the sandbox's injectable auth clock."""

import httpx

EXCEEDED = "NotAuthorizedException: Password attempts exceeded"
INCORRECT = "NotAuthorizedException: Incorrect username or password"
POLICIES = "/tci/policy/v1/policies"


def _message(resp: httpx.Response) -> str:
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert body["__type"] == "NotAuthorizedException"
    return body["message"]


def test_login_answers_tokens_for_both_grant_spellings(sandbox):
    resp = sandbox.login()
    assert resp.status_code == 200
    tokens = resp.json()
    assert set(tokens) == {"idToken", "accessToken", "refreshToken", "expiresIn", "tokenType"}
    assert tokens["expiresIn"] == 3600 and tokens["tokenType"] == "Bearer"
    creds = sandbox.credentials
    url = sandbox.auth_url + "/authentication/v1/token"
    snake = httpx.post(url, headers={"x-api-key": creds["api_key"]},
                       json={"grant_type": "password", "username": creds["username"], "password": creds["password"]})
    assert snake.status_code == 200
    refreshed = httpx.post(url, headers={"x-api-key": creds["api_key"]},
                           json={"grantType": "refresh_token", "refreshToken": tokens["refreshToken"]})
    assert refreshed.status_code == 200 and refreshed.json()["idToken"] != tokens["idToken"]
    bad = httpx.post(url, headers={"x-api-key": creds["api_key"]},
                     json={"grantType": "refresh_token", "refreshToken": "nope"})
    assert "Invalid Refresh Token" in _message(bad)


def test_lockout_timeline_step_by_step(sandbox):
    wrong = "not-the-password"
    for _ in range(4):
        assert _message(sandbox.login(password=wrong)) == INCORRECT
    assert _message(sandbox.login(password=wrong)) == INCORRECT  # the fifth failure locks the account (1 s)
    assert _message(sandbox.login()) == EXCEEDED  # the right password an instant later is refused (ignored)
    sandbox.advance_auth_clock(1)
    for duration in [2, 4, 8, 16, 32, 64, 128, 256, 512, 900]:
        assert _message(sandbox.login(password=wrong)) == EXCEEDED  # this failure starts the lockout
        # during the lockout even the right password fails, and the attempt is ignored
        sandbox.advance_auth_clock(duration - 0.5)
        assert _message(sandbox.login()) == EXCEEDED
        sandbox.advance_auth_clock(0.5)  # the lockout has just ended
    # the cap (900 s) is reached, and 900 s without a counted attempt reset the counter
    assert _message(sandbox.login(password=wrong)) == INCORRECT
    counters = sandbox.counters()["login"]
    assert counters["lockouts"] == 11 and counters["ignored"] == 11 and counters["successes"] == 0
    assert counters["attempts"] == 5 + 1 + 10 + 10 + 1


def test_success_after_a_lockout_resets(sandbox):
    for _ in range(6):
        sandbox.login(password="wrong")
    assert _message(sandbox.login()) == EXCEEDED  # inside the 1 s lockout
    sandbox.advance_auth_clock(1)
    assert sandbox.login().status_code == 200
    for _ in range(5):
        assert _message(sandbox.login(password="wrong")) == INCORRECT
    assert _message(sandbox.login(password="wrong")) == EXCEEDED
    sandbox.advance_auth_clock(1)
    assert _message(sandbox.login(password="wrong")) == EXCEEDED  # 2 s now: the counter had restarted at 1 s
    sandbox.advance_auth_clock(1)
    assert _message(sandbox.login()) == EXCEEDED  # still inside the 2 s lockout


def test_quiet_fifteen_minutes_reset(sandbox):
    for _ in range(7):
        sandbox.login(password="wrong")
        sandbox.advance_auth_clock(2)
    sandbox.advance_auth_clock(900)
    for _ in range(5):
        assert _message(sandbox.login(password="wrong")) == INCORRECT


def _code(resp: httpx.Response) -> str:
    body = resp.json()
    assert set(body) == {"httpCode", "url", "errorDate", "fishtag", "messages"}
    assert body["httpCode"] == resp.status_code
    return body["messages"][0]["code"]


def test_business_auth_errors(sandbox):
    base = sandbox.base_url
    tokens = sandbox.login().json()
    good = sandbox.headers(tokens["idToken"])
    assert httpx.get(base + POLICIES, headers=good).status_code == 200
    assert httpx.get(base + POLICIES, headers={**good, "Authorization": "Bearer " + tokens["idToken"]}).status_code == 200
    no_key = {k: v for k, v in good.items() if k != "x-api-key"}
    for headers in (no_key, {**good, "x-api-key": "unknown"}):
        resp = httpx.get(base + POLICIES, headers=headers)
        assert resp.status_code == 403 and _code(resp) == "forbiden"
    login = httpx.post(base + "/authentication/v1/token", json={"grantType": "password"})
    assert login.status_code == 403
    for headers in ({k: v for k, v in good.items() if k != "Authorization"},
                    {**good, "Authorization": tokens["accessToken"]},
                    {**good, "Authorization": "eyJunknown"}):
        resp = httpx.get(base + POLICIES, headers=headers)
        assert resp.status_code == 401 and _code(resp) == "invalid_token"
    resp = httpx.get(base + POLICIES, headers={**good, "X-COF-Policy-Number": "999"})
    assert resp.status_code == 403 and _code(resp) == "forbiden"
    no_policy = {k: v for k, v in good.items() if k != "X-COF-Policy-Number"}
    assert _code(httpx.get(base + POLICIES, headers=no_policy)) == "missing_param"
    by_param = httpx.get(base + POLICIES, headers=no_policy, params={"contract_id": sandbox.credentials["policy_number"]})
    assert by_param.status_code == 200
    sandbox.advance_auth_clock(3600)
    resp = httpx.get(base + POLICIES, headers=good)
    assert resp.status_code == 401 and _code(resp) == "invalid_token"
    assert "expired" in resp.json()["messages"][0]["message"]

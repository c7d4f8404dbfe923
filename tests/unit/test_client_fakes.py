"""Shared helpers of the client's unit tests: a scripted CofaServe over ``httpx.MockTransport``.

:class:`FakeApi` answers the login (password and refresh grants) and any business path the test
registers; tests script faults by queueing responses per path. Time is fake (:class:`FakeClock`): the
client's ``sleep`` advances the clock, so backoff and pacing cost nothing and are observable.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict, deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from resources.cofaserve import ClientSettings, CofaServeClient

PASSWORD = "S3cret-Passw0rd!xyz"
API_KEY = "APIKEY-0123456789abcdef"
USERNAME = "api.user@example.com"
POLICY = "POL-77001"
BASE = "https://api.test"
AUTH = "https://auth.test"


class FakeClock:
    """Monotonic and wall clocks that only move when ``sleep`` (or ``advance``) is called."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.wall = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        return self.now

    def wall_clock(self) -> datetime:
        return self.wall + timedelta(seconds=self.now - 1000.0)

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(body).encode(), headers={"Content-Type": "application/json", **(headers or {})})


def envelope(status: int, code: str, message: str, fishtag: str = "fish-123") -> httpx.Response:
    return json_response(
        status,
        {"httpCode": status, "url": "/x", "errorDate": "2026-11-24T02:00:00.000Z", "fishtag": fishtag,
         "messages": [{"code": code, "message": message}]},
    )


def login_error(message: str) -> httpx.Response:
    return json_response(400, {"__type": "NotAuthorizedException", "message": f"NotAuthorizedException: {message}"})


class FakeApi:
    """A scripted CofaServe: login + registered business paths, with per-path queues of canned answers."""

    def __init__(self, password: str = PASSWORD, expires_in: int = 3600):
        self.password = password
        self.expires_in = expires_in
        self.lock = threading.Lock()
        self.requests: list[httpx.Request] = []
        self.logins = 0
        self.refreshes = 0
        self.issued = 0
        self.valid: set[str] = set()
        self.refresh_valid: set[str] = set()
        self.login_script: deque[httpx.Response] = deque()
        self.refresh_script: deque[httpx.Response] = deque()
        self.routes: dict[str, Callable[[httpx.Request], httpx.Response]] = {}
        self.script: dict[str, deque[Any]] = defaultdict(deque)
        self.before: Callable[[httpx.Request], httpx.Response | None] | None = None
        """Called first for every business request; a returned response is served as is."""

    # ----------------------------------------------------------------------------------------- setup

    def route(self, path: str, handler: Callable[[httpx.Request], httpx.Response]) -> None:
        self.routes[path] = handler

    def json_route(self, path: str, body: Any) -> None:
        self.routes[path] = lambda request: json_response(200, body)

    def list_route(self, path: str, key: str, items: list[Any]) -> None:
        """Serve ``items`` with page/pageSize paging, like the sandbox."""

        def handler(request: httpx.Request) -> httpx.Response:
            page = int(request.url.params.get("page", "1"))
            size = int(request.url.params.get("pageSize", "20"))
            chunk = items[(page - 1) * size: page * size]
            return json_response(200, {key: chunk, "count": len(items), "page": page, "pageSize": size})

        self.routes[path] = handler

    def fail_next(self, path: str, *answers: Any) -> None:
        """Answer the next requests to ``path`` with these (``httpx.Response`` or an exception to raise)."""
        self.script[path].extend(answers)

    def revoke_all(self) -> None:
        with self.lock:
            self.valid.clear()

    # ------------------------------------------------------------------------------------------ serve

    def business_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.host == "api.test"]

    def handler(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.requests.append(request)
        if request.url.host == "auth.test":
            return self._auth(request)
        path = request.url.path
        if self.before is not None and (early := self.before(request)) is not None:
            return early
        with self.lock:
            queued = self.script[path].popleft() if self.script[path] else None
        if queued is not None:
            if isinstance(queued, BaseException):
                raise queued
            return queued
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if token not in self.valid:
            return envelope(401, "invalid_token", "The token is invalid or expired")
        if request.headers.get("x-api-key") != API_KEY:
            return envelope(403, "forbiden", "Forbidden")
        handler = self.routes.get(path)
        if handler is None:
            return envelope(404, "not_found", f"no route {path}")
        return handler(request)

    def _issue(self) -> httpx.Response:
        with self.lock:
            self.issued += 1
            n = self.issued
            id_token, refresh = f"idtoken-{n}-ABCDEFGH", f"refresh-{n}-IJKLMNOP"
            self.valid.add(id_token)
            self.refresh_valid.add(refresh)
        return json_response(200, {"idToken": id_token, "accessToken": f"access-{n}-QRSTUVWX",
                                   "refreshToken": refresh, "expiresIn": self.expires_in, "tokenType": "Bearer"})

    def _auth(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if request.headers.get("x-api-key") != API_KEY:
            return json_response(403, {"message": "Forbidden"})
        if body.get("grantType") == "refresh_token":
            with self.lock:
                self.refreshes += 1
            if self.refresh_script:
                return self.refresh_script.popleft()
            if body.get("refreshToken") not in self.refresh_valid:
                return login_error("Invalid Refresh Token")
            return self._issue()
        with self.lock:
            self.logins += 1
        if self.login_script:
            return self.login_script.popleft()
        if body.get("username") != USERNAME or body.get("password") != self.password:
            return login_error("Incorrect username or password")
        return self._issue()


def make_settings(tmp_path: Path, **overrides: Any) -> ClientSettings:
    values: dict[str, Any] = dict(
        base_url=BASE, auth_url=AUTH, username=USERNAME, password=PASSWORD, api_key=API_KEY,
        policy_number=POLICY, lockout_dir=tmp_path / "guard", rate_per_minute=600_000, max_attempts=5,
        max_retry_seconds=120, backoff_base_seconds=0.5, backoff_cap_seconds=8,
    )
    values.update(overrides)
    return ClientSettings(**values)


def make_client(tmp_path: Path, api: FakeApi, clock: FakeClock | None = None, **overrides: Any) -> CofaServeClient:
    clock = clock or FakeClock()
    return CofaServeClient(
        make_settings(tmp_path, **overrides),
        transport=httpx.MockTransport(api.handler),
        clock=clock.monotonic,
        wall_clock=clock.wall_clock,
        sleep=clock.sleep,
    )


def test_fake_api_serves_login_and_lists(tmp_path):
    api = FakeApi()
    api.list_route("/tci/country/v1/countries", "countries", [{"countryCode": "FRA", "name": "France"}])
    with make_client(tmp_path, api) as client:
        records = list(client.iter_countries())
    assert [r.model.name for r in records] == ["France"]
    assert api.logins == 1

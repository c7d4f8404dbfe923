"""Harness for tests, benchmarks and end-to-end runs: start a sandbox on a free loopback port.

    with run_sandbox(seed=42, companies=200, today=date(2026, 11, 23)) as sb:
        httpx.get(sb.base_url + "/tci/country/v1/countries", headers=...)
        sb.advance(days=1); sb.truth("deliveries")

`run_sandbox` serves in a background thread of this process (uvicorn); `run_sandbox_process` runs
`python -m sandbox serve --port 0` as a child process. Both yield a `SandboxHandle`, which only talks
HTTP to the sandbox's `/_sandbox/*` endpoints, so it works the same for either.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import httpx
import uvicorn

from sandbox.app import create_app
from sandbox.state import Sandbox, SandboxSettings

STARTUP_TIMEOUT = 120.0


class SandboxHandle:
    """A running sandbox, driven over HTTP."""

    def __init__(self, base_url: str, credentials: dict[str, str], sandbox: Sandbox | None = None):
        self.base_url = base_url
        self.auth_url = base_url
        self.business_url = base_url + "/tci"
        self.credentials = credentials
        self.sandbox = sandbox  # the in-process instance (None for a child process)
        self.pid: int | None = None  # the child process id (run_sandbox_process only)
        self.policies: list[str] = [credentials["policy_number"]]
        """Every policy number the account holds, the first one that of ``credentials``."""
        self._http = httpx.Client(base_url=base_url, timeout=120.0)

    def _post(self, path: str, body) -> dict:
        resp = self._http.post(path, json=body)
        if resp.status_code != 200:
            raise RuntimeError(f"{path}: {resp.status_code} {resp.text}")
        return resp.json()

    def _get(self, path: str, **params) -> httpx.Response:
        resp = self._http.get(path, params=params)
        if resp.status_code != 200:
            raise RuntimeError(f"{path}: {resp.status_code} {resp.text}")
        return resp

    @property
    def today(self) -> date:
        """The sandbox's current business day."""
        return date.fromisoformat(self._get("/_sandbox/clock").json()["today"])

    def clock(self) -> dict:
        """today, epoch, firstAvailableDate, visibleBefore."""
        return self._get("/_sandbox/clock").json()

    def advance(self, days: int = 1) -> date:
        """Move the business clock `days` forward (generating those days); returns the new today."""
        return date.fromisoformat(self._post("/_sandbox/clock", {"days": days})["today"])

    def advance_to(self, today: date) -> date:
        """Move the business clock forward to `today`."""
        return date.fromisoformat(self._post("/_sandbox/clock", {"today": today.isoformat()})["today"])

    def set_faults(self, spec: str | dict = "none", revoke_tokens_now: bool = False) -> dict:
        """Install a fault spec (preset name or dict, see sandbox/faults.py); returns the spec in force."""
        body: str | dict = dict(spec) if isinstance(spec, dict) else spec
        if revoke_tokens_now:
            body = {**({"preset": body} if isinstance(body, str) else body), "revokeTokensNow": True}
        return self._post("/_sandbox/faults", body)

    def set_rate_limit(self, spec: str) -> dict:
        """Change the rate limit (`600/min`, `off`, ...); every window restarts."""
        return self._post("/_sandbox/rate-limit", {"rateLimit": spec})

    def counters(self) -> dict:
        """Requests per endpoint and status, logins, lockouts, 429s, faults, bytes."""
        return self._get("/_sandbox/counters").json()

    def reset_counters(self) -> dict:
        return self._post("/_sandbox/counters/reset", {})

    def truth(self, entity: str, policy: str | None = None) -> list[dict]:
        """Every version of `entity` generated up to today (see sandbox/truth.py for the entities), of every
        policy or of ``policy`` only; tagged with their `policyNumber` when the account holds several."""
        params = {"entity": entity} if policy is None else {"entity": entity, "policy": policy}
        text = self._get("/_sandbox/truth", **params).text
        return [json.loads(line) for line in text.splitlines() if line]

    def advance_auth_clock(self, seconds: float) -> dict:
        """Shift the clock of login, lockout and token expiry forward by `seconds`."""
        return self._post("/_sandbox/auth-clock", {"advanceSeconds": seconds})

    def login(self, username: str | None = None, password: str | None = None) -> httpx.Response:
        """One password login (counts for the lockout); the raw response."""
        return self._http.post("/authentication/v1/token", headers={"x-api-key": self.credentials["api_key"]},
                               json={"grantType": "password",
                                     "username": self.credentials["username"] if username is None else username,
                                     "password": self.credentials["password"] if password is None else password})

    def headers(self, id_token: str | None = None, policy: str | None = None) -> dict[str, str]:
        """Business-call headers (api key, policy number: ``policy`` or the first, and, if given, the idToken)."""
        h = {"x-api-key": self.credentials["api_key"],
             "X-COF-Policy-Number": policy or self.credentials["policy_number"]}
        if id_token is not None:
            h["Authorization"] = id_token
        return h

    def client(self, policy: str | None = None) -> httpx.Client:
        """An httpx client on base_url, logged in, calling for ``policy`` (default: the first): business
        paths like `/tci/policy/v1/policies`."""
        resp = self.login()
        if resp.status_code != 200:
            raise RuntimeError(f"login failed: {resp.status_code} {resp.text}")
        return httpx.Client(base_url=self.base_url, headers=self.headers(resp.json()["idToken"], policy),
                            timeout=60.0)

    def push_subscribe(self, topic: str, endpoint: dict, oauth: dict | None = None) -> dict:
        """Subscribe ``endpoint`` (the API's endpoint object) to a push topic; the OAuth variant with ``oauth``."""
        path = f"/tci/push/v1/topics/{topic}/subscriptions" + ("/with-token-auth" if oauth else "")
        body = {"endpoint": endpoint, **({"oauth": oauth} if oauth else {})}
        with self.client() as client:
            resp = client.post(path, json=body)
        if resp.status_code != 201:
            raise RuntimeError(f"{path}: {resp.status_code} {resp.text}")
        return resp.json()

    def advance_push_clock(self, seconds: float) -> dict:
        """Move the push clock forward (days it reaches start); returns once the due messages were sent."""
        return self._post("/_sandbox/push/clock", {"advanceSeconds": seconds})

    def push_messages(self) -> list[dict]:
        """Every message the push channel published, with its fate (delivered, pending, stored, lost)."""
        return self._get("/_sandbox/push/messages").json()["messages"]

    def close(self) -> None:
        self._http.close()


@contextmanager
def run_sandbox(seed: int = 42, companies: int = 1000, today: date | None = None, rate_limit: str = "off",
                faults: str | dict = "none", *, host: str = "127.0.0.1", port: int = 0,
                log_level: str = "warning", **kw) -> Iterator[SandboxHandle]:
    """Serve a sandbox in a background thread on `host:port` (0 = a free port) until the block ends.

    Extra keywords go to SandboxSettings (epoch, username, password, api_key, token_ttl, policies). Worlds
    are cached per process by (seed, companies, epoch, policy, today), so repeated starts are fast.
    """
    settings = SandboxSettings(seed=seed, companies=companies, rate_limit=rate_limit, faults=faults, **kw)
    if today is not None:
        settings.today = today
    sandbox = Sandbox(settings)
    config = uvicorn.Config(create_app(sandbox), host=host, port=port, log_level=log_level, access_log=False,
                            lifespan="off", date_header=False)  # the app dates responses on its business clock
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="sandbox-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the sandbox server did not start")
        time.sleep(0.01)
    bound = server.servers[0].sockets[0].getsockname()[1]
    handle = SandboxHandle(f"http://{host}:{bound}", sandbox.credentials.as_dict(), sandbox)
    handle.policies = list(sandbox.views_by_policy)
    try:
        yield handle
    finally:
        handle.close()
        server.should_exit = True
        thread.join(timeout=10)
        sandbox.close()


@contextmanager
def run_sandbox_process(seed: int = 42, companies: int = 1000, today: date | None = None,
                        rate_limit: str = "off", faults: str = "none", *, host: str = "127.0.0.1",
                        policies: int = 1, extra_args: tuple[str, ...] = ()) -> Iterator[SandboxHandle]:
    """Run `python -m sandbox serve --port 0 ...` as a child process; stopped when the block ends."""
    cmd = [sys.executable, "-m", "sandbox", "serve", "--host", host, "--port", "0", "--seed", str(seed),
           "--companies", str(companies), "--rate-limit", rate_limit, "--faults", faults,
           "--policies", str(policies), *extra_args]
    if today is not None:
        cmd += ["--today", today.isoformat()]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    try:
        info: dict[str, str] = {}
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while "base_url" not in info:
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError(f"the sandbox process exited early ({proc.poll()})")
            name, _, value = line.partition(": ")
            info[name.strip()] = value.strip()
            if time.monotonic() > deadline:
                raise RuntimeError("the sandbox process did not print its base_url in time")
        threading.Thread(target=proc.stdout.read, daemon=True).start()  # drain the rest
        creds = {k: info[k] for k in ("username", "password", "api_key", "policy_number")}
        handle = SandboxHandle(info["base_url"], creds)
        handle.policies = info["policies"].split(",")
        handle.pid = proc.pid
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            try:
                handle._get("/_sandbox/health")
                break
            except (httpx.HTTPError, RuntimeError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        try:
            yield handle
        finally:
            handle.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

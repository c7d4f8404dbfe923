"""What stands in front of every business endpoint, and the login endpoint.

Business request pipeline, in order: `x-api-key` (403 `forbiden`), idToken in `Authorization`
(401 `invalid_token`), policy number from `X-COF-Policy-Number` or `?contract_id=` (400 `missing_param`
when absent, 403 `forbiden` on mismatch), rate limit per (route template, user) (429
`too_many_request` + `Retry-After`), then at most one injected fault, then the handler.
Every answer carries `X-RateLimit-Limit` and `X-RateLimit-Remaining`.
"""

from __future__ import annotations

import asyncio
import logging

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from sandbox.api import Handler
from sandbox.errors import ApiError, envelope, login_error
from sandbox.state import Sandbox

JSON = "application/json"
LOGIN_PATH = "/authentication/v1/token"


class ConnectionCut(Exception):
    """Raised by CutResponse after half the body: the server closes the connection (fault injection)."""


class _DropCutLogs(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], ConnectionCut))


for _name in ("uvicorn.error", "uvicorn"):
    logging.getLogger(_name).addFilter(_DropCutLogs())


class CutResponse:
    """Sends the status, headers (with the full Content-Length) and half the body, then aborts."""

    def __init__(self, body: bytes, headers: dict[str, str]):
        self.body = body
        self.headers = headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = [(b"content-type", JSON.encode()), (b"content-length", str(len(self.body)).encode())]
        raw += [(k.lower().encode(), v.encode()) for k, v in self.headers.items()]
        await send({"type": "http.response.start", "status": 200, "headers": raw})
        await send({"type": "http.response.body", "body": self.body[: len(self.body) // 2], "more_body": True})
        raise ConnectionCut("sandbox fault: connection cut mid-body")


def error_response(request: Request, status: int, message: str, code: str | None = None,
                   headers: dict[str, str] | None = None) -> Response:
    """The sibling envelope for `status`, `code` (default for the status) and `message`."""
    err = ApiError(status, message, code)
    return Response(envelope(status, request.url.path, err.code, message), status, headers=headers,
                    media_type=JSON)


def _token(request: Request) -> str | None:
    raw = request.headers.get("authorization")
    if raw is None:
        return None
    raw = raw.strip()
    if raw[:7].lower() == "bearer ":
        raw = raw[7:].strip()
    return raw or None


def account_user(sandbox: Sandbox, request: Request) -> str | Response:
    """The user a business call is made by (its x-api-key and idToken checked), or the 403 / 401 answer."""
    route = request.scope["route"].path
    anonymous = sandbox.limiter.peek((route, "anonymous")).headers()
    if request.headers.get("x-api-key") != sandbox.credentials.api_key:
        return error_response(request, 403, "missing or unknown x-api-key", headers=anonymous)
    token = _token(request)
    user = sandbox.tokens.check(token, "id") if token else None
    if user is not None:
        return user
    if token is None:
        message = "the Authorization header with an idToken is required"
    elif sandbox.tokens.check(token, "access"):
        message = "an accessToken was sent: business calls need the idToken"
    else:
        message = "the token is unknown, expired or revoked"
    return error_response(request, 401, message, headers=anonymous)


async def injected_fault(sandbox: Sandbox, request: Request, headers: dict[str, str]):
    """The next fault of the spec in force, counted, for a business call: (fault or None, the answer it
    makes before any handler runs, or None). A latency fault has waited; a cut is the caller's to apply
    to the handler's answer (the call was processed, its answer is lost)."""
    fault = sandbox.faults.next_fault()
    if fault is None:
        return None, None
    sandbox.counters.faults[fault.kind] += 1
    if fault.kind == "throttle":
        headers = {**headers, "Retry-After": str(fault.retry_after)}
        return fault, error_response(request, 429, "too many requests (sandbox fault)", headers=headers)
    if fault.kind == "error":
        return fault, error_response(request, fault.status, "transient server error (sandbox fault)", headers=headers)
    if fault.kind == "revoke":
        sandbox.tokens.revoke_all()
        return fault, error_response(request, 401, "the token was revoked", headers=headers)
    if fault.kind == "latency":
        await asyncio.sleep(fault.delay)
    return fault, None


def business(sandbox: Sandbox, handler: Handler):
    """Wrap `handler` into a Starlette endpoint running the gateway pipeline."""

    async def endpoint(request: Request) -> Response:
        route = request.scope["route"].path
        limiter = sandbox.limiter
        user = account_user(sandbox, request)
        if isinstance(user, Response):
            return user
        policy = request.headers.get("x-cof-policy-number") or request.query_params.get("contract_id")
        if not policy:
            return error_response(request, 400, "the policy number is required (X-COF-Policy-Number header or "
                                  "contract_id parameter)", "missing_param",
                                  headers=limiter.peek((route, user)).headers())
        views = sandbox.views_by_policy.get(policy)
        if views is None:  # a policy the account does not hold
            return error_response(request, 403, f"the policy {policy} is not accessible with these credentials",
                                  headers=limiter.peek((route, user)).headers())
        decision = limiter.hit((route, user))  # one budget per user and endpoint, whatever the policy
        headers = decision.headers()
        if not decision.allowed:
            sandbox.counters.rate_limited += 1
            return error_response(request, 429, f"rate limit of {limiter.spec} exceeded for this endpoint",
                                  headers=headers)
        fault, answer = await injected_fault(sandbox, request, headers)
        if answer is not None:
            return answer
        try:
            with views.world.lock:
                body = handler(request, views)
        except ApiError as exc:
            return error_response(request, exc.status, exc.message, exc.code, headers={**headers, **exc.headers})
        if fault is not None and fault.kind == "cut":
            return CutResponse(body, headers)
        return Response(body, 200, headers=headers, media_type=JSON)

    return endpoint


def _login_answer(body: bytes, status: int = 400) -> Response:
    return Response(body, status, media_type=JSON)


async def login(request: Request) -> Response:
    """`POST /authentication/v1/token`: password and refresh grants, lockout rules, per-key rate limit."""
    sandbox: Sandbox = request.app.state.sandbox
    api_key = request.headers.get("x-api-key")
    if api_key != sandbox.credentials.api_key:
        return error_response(request, 403, "missing or unknown x-api-key")
    decision = sandbox.limiter.hit((LOGIN_PATH, api_key))
    headers = decision.headers()
    if not decision.allowed:
        sandbox.counters.rate_limited += 1
        return error_response(request, 429, f"rate limit of {sandbox.limiter.spec} exceeded for this endpoint",
                              headers=headers)
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        body = None
    if not isinstance(body, dict):
        resp = _login_answer(login_error("InvalidParameterException", "the body must be a JSON object"))
        resp.headers.update(headers)
        return resp
    grant = body.get("grantType") or body.get("grant_type")
    if grant == "password":
        resp = _password_grant(sandbox, body)
    elif grant in ("refresh_token", "refreshToken", "REFRESH_TOKEN"):
        resp = _refresh_grant(sandbox, body)
    else:
        resp = _login_answer(login_error("InvalidParameterException",
                                         "grantType must be 'password' or 'refresh_token'"))
    resp.headers.update(headers)
    return resp


def _password_grant(sandbox: Sandbox, body: dict) -> Response:
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not isinstance(password, str) or not username:
        return _login_answer(login_error("InvalidParameterException", "username and password are required"))
    creds = sandbox.credentials
    counters = sandbox.counters.login
    counters["attempts"] += 1
    ok = username == creds.username and password == creds.password
    outcome = sandbox.lockout.attempt(username, ok, sandbox.auth_clock.now())
    if outcome.ok:
        counters["successes"] += 1
        return _login_answer(orjson.dumps(sandbox.tokens.issue(username)), 200)
    if outcome.kind == "ignored":
        counters["ignored"] += 1
    else:
        counters["failures"] += 1
        if outcome.kind == "lockout_started":
            counters["lockouts"] += 1
    return _login_answer(login_error("NotAuthorizedException", outcome.message))


def _refresh_grant(sandbox: Sandbox, body: dict) -> Response:
    refresh = body.get("refreshToken") or body.get("refresh_token")
    user = sandbox.tokens.check(refresh, "refresh") if isinstance(refresh, str) and refresh else None
    if user is None:
        return _login_answer(login_error("NotAuthorizedException", "Invalid Refresh Token"))
    sandbox.counters.login["refreshes"] += 1
    return _login_answer(orjson.dumps(sandbox.tokens.issue(user, refresh)), 200)

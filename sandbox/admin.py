"""Sandbox control and ground truth, under `/_sandbox/` only (never under `/tci`), without authentication.

- `GET /_sandbox/health`
- `GET /_sandbox/clock`; `POST /_sandbox/clock` `{"today": "YYYY-MM-DD"}` or `{"days": n}` (forward only)
- `GET /_sandbox/faults`; `POST /_sandbox/faults` a fault spec (preset name or object, see faults.py),
  optionally `{"revokeTokensNow": true}`
- `GET /_sandbox/counters`; `POST /_sandbox/counters/reset`
- `GET /_sandbox/truth?entity=...` (JSON lines)
- `GET /_sandbox/credentials`
- `GET|POST /_sandbox/auth-clock` `{"advanceSeconds": n}`
- `GET|POST /_sandbox/rate-limit` `{"rateLimit": "600/min" | "off"}`
"""

from __future__ import annotations

from datetime import date, timedelta

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from sandbox.faults import parse_faults
from sandbox.ratelimit import parse_rate
from sandbox.state import Sandbox
from sandbox.store import fmt_ts
from sandbox.truth import ENTITIES, export

JSON = "application/json"


def _json(doc, status: int = 200) -> Response:
    return Response(orjson.dumps(doc), status, media_type=JSON)


def _bad(message: str) -> Response:
    return _json({"error": message}, 400)


async def _body(request: Request):
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None


def _sb(request: Request) -> Sandbox:
    return request.app.state.sandbox


def clock_doc(sb: Sandbox) -> dict:
    """The business clock: today, epoch, first date the API serves, visibility bound."""
    w = sb.world
    return {"today": w.today.isoformat(), "epoch": w.epoch.isoformat(), "firstAvailableDate": w.horizon.isoformat(),
            "visibleBefore": fmt_ts(w.visible_before), "seed": w.seed, "companies": w.size}


async def health(request: Request) -> Response:
    return _json({"ok": True})


async def get_clock(request: Request) -> Response:
    return _json(clock_doc(_sb(request)))


async def post_clock(request: Request) -> Response:
    sb = _sb(request)
    body = await _body(request)
    if not isinstance(body, dict) or not (("today" in body) ^ ("days" in body)):
        return _bad('send {"today": "YYYY-MM-DD"} or {"days": n}')
    try:
        if "days" in body:
            days = body["days"]
            if not isinstance(days, int) or isinstance(days, bool) or days < 0:
                return _bad("days must be a non-negative integer")
            target = sb.world.today + timedelta(days=days)
        else:
            target = date.fromisoformat(str(body["today"]))
        sb.advance_to(target)
    except ValueError as exc:
        return _bad(str(exc))
    return _json(clock_doc(sb))


async def get_faults(request: Request) -> Response:
    sb = _sb(request)
    return _json({**sb.faults.spec.to_dict(), "queue": list(sb.faults.queue), "seed": sb.faults.seed})


async def post_faults(request: Request) -> Response:
    sb = _sb(request)
    body = await _body(request)
    if isinstance(body, dict):
        revoke = bool(body.pop("revokeTokensNow", False))
    elif isinstance(body, str):
        revoke = False
    else:
        return _bad("send a fault preset name or a fault spec object")
    if body != {}:
        try:
            sb.set_faults(parse_faults(body))
        except (ValueError, TypeError) as exc:
            return _bad(str(exc))
    if revoke:
        sb.tokens.revoke_all()
    return await get_faults(request)


async def get_counters(request: Request) -> Response:
    return _json(_sb(request).counters.snapshot())


async def reset_counters(request: Request) -> Response:
    sb = _sb(request)
    sb.counters.reset()
    return _json(sb.counters.snapshot())


async def truth(request: Request) -> Response:
    sb = _sb(request)
    entity = request.query_params.get("entity", "")
    if entity not in ENTITIES:
        return _bad(f"entity must be one of {', '.join(ENTITIES)}")
    policy = request.query_params.get("policy")
    worlds = [w for w in sb.worlds if policy in (None, w.policy.policy_number)]
    if not worlds:
        return _bad(f"the account holds no policy {policy}; it holds {', '.join(w.policy.policy_number for w in sb.worlds)}")
    late = sb.faults.late_seconds if sb.faults.spec.late_rate else None
    malformed = [m for m in sb.malformed.entries() if policy in (None, m["policyNumber"])]
    chunks = list(export(worlds, entity, malformed, tag_policy=len(sb.worlds) > 1, late=late))
    return StreamingResponse(iter(chunks), media_type="application/x-ndjson")


async def credentials(request: Request) -> Response:
    sb = _sb(request)
    base = str(request.base_url).rstrip("/")
    return _json({**sb.credentials.as_dict(), "base_url": base, "business_url": base + "/tci", "auth_url": base})


async def auth_clock(request: Request) -> Response:
    sb = _sb(request)
    if request.method == "POST":
        body = await _body(request)
        seconds = body.get("advanceSeconds") if isinstance(body, dict) else None
        if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds < 0:
            return _bad('send {"advanceSeconds": n} with n >= 0')
        sb.auth_clock.advance(float(seconds))
    now = sb.auth_clock.now()
    return _json({"offsetSeconds": sb.auth_clock.offset, "now": fmt_ts(int(now)),
                  "lockedUntil": {sb.credentials.username: sb.lockout.locked_until(sb.credentials.username)}})


async def rate_limit(request: Request) -> Response:
    sb = _sb(request)
    if request.method == "POST":
        body = await _body(request)
        try:
            spec = parse_rate(body.get("rateLimit") if isinstance(body, dict) else None)
        except ValueError as exc:
            return _bad(str(exc))
        sb.limiter.configure(spec)
    spec = sb.limiter.spec
    return _json({"rateLimit": f"{spec.limit}/{int(spec.period)}s" if spec else "off"})


ROUTES = [
    Route("/_sandbox/health", health, methods=["GET"]),
    Route("/_sandbox/clock", get_clock, methods=["GET"]),
    Route("/_sandbox/clock", post_clock, methods=["POST"]),
    Route("/_sandbox/faults", get_faults, methods=["GET"]),
    Route("/_sandbox/faults", post_faults, methods=["POST"]),
    Route("/_sandbox/counters", get_counters, methods=["GET"]),
    Route("/_sandbox/counters/reset", reset_counters, methods=["POST"]),
    Route("/_sandbox/truth", truth, methods=["GET"]),
    Route("/_sandbox/credentials", credentials, methods=["GET"]),
    Route("/_sandbox/auth-clock", auth_clock, methods=["GET", "POST"]),
    Route("/_sandbox/rate-limit", rate_limit, methods=["GET", "POST"]),
]

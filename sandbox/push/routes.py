"""HTTP routes of the push channel.

Business (x-api-key and idToken, like every business call; no policy: a subscription covers them all):
- `POST /tci/push/v1/topics/{topicName}/subscriptions` `{"endpoint": {...}}` [DOC path, SANDBOX root]
- `POST /tci/push/v1/topics/{topicName}/subscriptions/with-token-auth` `{"endpoint": {...}, "oauth": {...}}`
- `PATCH /tci/replay/v1/replay` `{"notificationIds": [...]}` or `{"messageIds": [...]}` [DOC path, SANDBOX body]

Sandbox (no authentication, under `/_sandbox/push`):
- `GET signing-cert.pem` (every message's SigningCertURL), `GET unsubscribe?SubscriptionArn=` (its UnsubscribeURL)
- `GET|POST clock` `{"advanceSeconds": n}`: move the push clock; answers once due messages are sent
- `GET messages`: every message published and its fate (delivered, pending, stored, lost)
"""

from __future__ import annotations

import asyncio

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.errors import ApiError
from sandbox.gateway import CutResponse, account_user, error_response, injected_fault
from sandbox.push.channel import CERT_PATH, UNSUBSCRIBE_PATH, sns_timestamp
from sandbox.push.subscriptions import parse_endpoint, parse_oauth

PUSH = "/tci/push/v1"
REPLAY = "/tci/replay/v1"
JSON = "application/json"
SETTLE_SECONDS = 60.0
"""How long `POST /_sandbox/push/clock` waits for the due messages to be sent before answering."""


def _json(doc, status: int = 200) -> Response:
    return Response(orjson.dumps(doc), status, media_type=JSON)


async def _body(request: Request) -> dict:
    try:
        body = orjson.loads(await request.body() or b"{}")
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, f"the body is not JSON: {exc}", "invalid_body") from exc
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object", "invalid_body")
    return body


def _account(handler):
    """A business route of the push channel: the caller authenticated and within the rate budget, and the
    fault spec's faults injected as on every business route."""

    async def endpoint(request: Request) -> Response:
        sandbox = request.app.state.sandbox
        user = account_user(sandbox, request)
        if isinstance(user, Response):
            return user
        decision = sandbox.limiter.hit((request.scope["route"].path, user))
        if not decision.allowed:
            sandbox.counters.rate_limited += 1
            return error_response(request, 429, f"rate limit of {sandbox.limiter.spec} exceeded for this endpoint",
                                  headers=decision.headers())
        fault, answer = await injected_fault(sandbox, request, decision.headers())
        if answer is not None:
            return answer
        try:
            response = await handler(request, sandbox)
        except ApiError as exc:
            return error_response(request, exc.status, exc.message, exc.code, headers=exc.headers)
        if fault is not None and fault.kind == "cut":  # done, but the caller never reads the answer
            return CutResponse(bytes(response.body), {})
        return response

    return endpoint


def _subscription_doc(subscription) -> dict:
    return {"subscriptionArn": subscription.arn, "subscriptionId": subscription.subscription_id,
            "topicName": subscription.topic, "endpoint": subscription.endpoint.url(),
            "withTokenAuth": subscription.oauth is not None, "status": "CONFIRMED"}


async def subscribe(request: Request, sandbox) -> Response:
    body = await _body(request)
    endpoint = parse_endpoint(body.get("endpoint"))
    oauth = parse_oauth(body.get("oauth")) if request.url.path.endswith("/with-token-auth") else None
    subscription = sandbox.push.subscribe(request.path_params["topicName"], endpoint, oauth,
                                          str(request.base_url))
    return _json(_subscription_doc(subscription), 201)


async def replay(request: Request, sandbox) -> Response:
    body = await _body(request)
    by = "notificationId" if "notificationIds" in body else "messageId"
    ids = body.get(f"{by}s", [body["messageId"]] if "messageId" in body else None)
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and i for i in ids):
        raise ApiError(400, 'send {"notificationIds": [...]} (the pull notifications whose messages you missed) '
                       'or {"messageIds": [...]}', "invalid_body")
    outcomes = sandbox.push.replay(ids, by)
    return _json({"replays": [{by: i, "outcome": o} for i, o in outcomes.items()]})


async def signing_cert(request: Request) -> Response:
    return Response(request.app.state.sandbox.push.signer.certificate_pem, media_type="application/x-pem-file")


async def unsubscribe(request: Request) -> Response:
    arn = request.query_params.get("SubscriptionArn", "")
    cancelled = request.app.state.sandbox.push.subscriptions.cancel(arn.rsplit(":", 1)[-1])
    return _json({"unsubscribed": cancelled, "subscriptionArn": arn}, 200 if cancelled else 404)


async def push_clock(request: Request) -> Response:
    sandbox = request.app.state.sandbox
    if request.method == "POST":
        try:
            body = await _body(request)
        except ApiError as exc:
            return _json({"error": exc.message}, 400)
        seconds = body.get("advanceSeconds")
        if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds < 0:
            return _json({"error": 'send {"advanceSeconds": n} with n >= 0'}, 400)
        # in a thread: the receiver being sent to may call this server back (its signing certificate)
        await asyncio.to_thread(sandbox.advance_push_clock, float(seconds))
        await asyncio.to_thread(sandbox.push.sender.idle, SETTLE_SECONDS)
    return _json({"now": sns_timestamp(sandbox.push.now()), "today": sandbox.world.today.isoformat()})


async def messages(request: Request) -> Response:
    return _json({"messages": request.app.state.sandbox.push.messages()})


ROUTES = [
    Route(f"{PUSH}/topics/{{topicName}}/subscriptions", _account(subscribe), methods=["POST"]),
    Route(f"{PUSH}/topics/{{topicName}}/subscriptions/with-token-auth", _account(subscribe), methods=["POST"]),
    Route(f"{REPLAY}/replay", _account(replay), methods=["PATCH"]),
    Route(CERT_PATH, signing_cert, methods=["GET"]),
    Route(UNSUBSCRIBE_PATH, unsubscribe, methods=["GET"]),
    Route("/_sandbox/push/clock", push_clock, methods=["GET", "POST"]),
    Route("/_sandbox/push/messages", messages, methods=["GET"]),
]

"""The ASGI application: business routes behind the gateway, login, admin routes, OpenAPI, counters."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox import admin, api
from sandbox.errors import envelope
from sandbox.gateway import LOGIN_PATH, business, login
from sandbox.openapi import build_document
from sandbox.push import routes as push_routes
from sandbox.state import Sandbox

JSON = "application/json"


class CountingMiddleware:
    """Counts every non-admin response by endpoint (method + route template) and status, and bytes sent."""

    def __init__(self, app: ASGIApp, sandbox: Sandbox):
        self.app = app
        self.sandbox = sandbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_sandbox") or scope["path"] == "/openapi.json":
            await self.app(scope, receive, send)
            return
        seen = {"status": 0, "bytes": 0}

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
            elif message["type"] == "http.response.body":
                seen["bytes"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        finally:
            route = scope.get("route")
            endpoint = f"{scope['method']} {route.path if route is not None else 'unmatched'}"
            self.sandbox.counters.record_response(endpoint, seen["status"] or 500, seen["bytes"])


class VirtualDateMiddleware:
    """Dates every response as the API would on the sandbox's business day: the ``Date`` header reads that
    day at the real time of day (GMT), so a client can tell a day the API has not finished yet."""

    def __init__(self, app: ASGIApp, sandbox: Sandbox):
        self.app = app
        self.sandbox = sandbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def dated_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                now = datetime.now(UTC)
                virtual = datetime.combine(self.sandbox.world.today, now.timetz())
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"date"]
                headers.append((b"date", format_datetime(virtual, usegmt=True).encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, dated_send)


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    message = {404: "no such endpoint", 405: "method not allowed"}.get(status, "internal server error")
    code = {404: "not_found", 405: "method_not_allowed"}.get(status, "internal_server_error")
    return Response(envelope(status, request.url.path, code, message), status, media_type=JSON)


def create_app(sandbox: Sandbox) -> Starlette:
    """The Starlette app serving `sandbox` (business API, login, `/_sandbox/*`, `/openapi.json`)."""
    document = orjson.dumps(build_document())

    async def openapi(request: Request) -> Response:
        return Response(document, media_type=JSON)

    routes = [Route(path, business(sandbox, handler), methods=["GET"]) for path, handler in api.ROUTES]
    routes += [Route(LOGIN_PATH, login, methods=["POST"]), Route("/openapi.json", openapi, methods=["GET"])]
    routes += admin.ROUTES + push_routes.ROUTES
    app = Starlette(routes=routes, exception_handlers={HTTPException: _http_error, Exception: _http_error})
    app.state.sandbox = sandbox
    app.add_middleware(CountingMiddleware, sandbox=sandbox)
    app.add_middleware(VirtualDateMiddleware, sandbox=sandbox)
    return app

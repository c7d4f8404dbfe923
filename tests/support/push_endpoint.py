"""A subscriber's endpoint for tests of the sandbox's push channel: a real HTTP server on loopback that
records every request, answers with the status it is set to, and serves an OAuth token endpoint."""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support.serving import serve_in_thread


@dataclass
class Recorder:
    status: int = 200
    received: list[dict] = field(default_factory=list)
    token_requests: list[dict] = field(default_factory=list)
    port: int = 0

    def endpoint(self, path: str = "/hook", query: str = "") -> dict:
        """The API's endpoint object naming this server."""
        return {"scheme": "http", "host": "127.0.0.1", "port": str(self.port), "path": path, "query": query}


@contextmanager
def push_endpoint():
    """Serve a :class:`Recorder` until the block ends."""
    recorder = Recorder()

    async def hook(request: Request) -> Response:
        recorder.received.append({"body": await request.body(), "headers": dict(request.headers),
                                  "query": dict(request.query_params), "at": time.monotonic()})
        return Response("", recorder.status)

    async def token(request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode()))
        recorder.token_requests.append(form)
        if form.get("client_secret") != "s3cret":
            return JSONResponse({"error": "invalid_client"}, 401)
        return JSONResponse({"access_token": f"tok-{len(recorder.token_requests)}", "token_type": "Bearer"})

    app = Starlette(routes=[Route("/hook", hook, methods=["POST"]), Route("/token", token, methods=["POST"])])
    with serve_in_thread(app) as port:
        recorder.port = port
        yield recorder

"""`cofasync receive`: the HTTP endpoint Coface pushes notifications to (ASGI, served by uvicorn).

Every message is checked before anything of it is kept: the endpoint's query parameter and the OAuth
variant's token when they are configured, then the SNS signature (`resources.push.verify`). A message
failing a check is answered 403 and nothing of it is kept. An accepted one is appended durably to the
inbox before the 200 (a duplicate MessageId is answered 200 and kept once), so the sender never drops
what the inbox does not hold. Production runs it behind a reverse proxy terminating TLS
(docs/operations.md).
"""

from __future__ import annotations

import hmac
import logging
import secrets
import threading
import time
from collections import Counter
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from resources.push import Inbox, MessageVerifier, PushSettings, Refused

log = logging.getLogger("cofasync.receive")
TOKEN_SECONDS = 3600


class Tokens:
    """Bearer tokens the receiver issued to the sender (the OAuth variant), each valid an hour."""

    def __init__(self):
        self._expiry: dict[str, float] = {}
        self._lock = threading.Lock()

    def issue(self) -> str:
        """A new token."""
        token = secrets.token_urlsafe(32)
        now = time.monotonic()
        with self._lock:
            self._expiry = {t: at for t, at in self._expiry.items() if at > now}
            self._expiry[token] = now + TOKEN_SECONDS
        return token

    def valid(self, token: str) -> bool:
        """Whether ``token`` was issued here and has not expired."""
        with self._lock:
            return self._expiry.get(token, 0.0) > time.monotonic()


def create_receiver(settings: PushSettings, inbox: Inbox, verifier: MessageVerifier | None = None) -> Starlette:
    """The receiver app: ``POST settings.path`` for messages, ``POST <path>/token`` for the OAuth variant,
    ``GET <path>/health`` for the counts of what was accepted and refused."""
    verifier = verifier or MessageVerifier(settings.cert_hosts)
    tokens = Tokens()
    counts: Counter[str] = Counter()

    def refuse(reason: str) -> JSONResponse:
        counts["refused"] += 1
        log.warning("push message refused: %s", reason)
        return JSONResponse({"accepted": False, "refused": reason}, 403)

    async def receive(request: Request) -> JSONResponse:
        body = await request.body()
        if settings.query is not None:
            name, wanted = settings.query
            if not hmac.compare_digest(request.query_params.get(name, "").encode(), wanted.encode()):
                return refuse(f"the query parameter {name} is missing or wrong")
        if settings.oauth_client is not None:
            scheme, _, token = request.headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not tokens.valid(token.strip()):
                return refuse("no valid token issued by this receiver (OAuth variant)")
        try:
            envelope = await run_in_threadpool(verifier.verify, body)
        except Refused as exc:
            return refuse(str(exc))
        if envelope["Type"] != "Notification":
            counts[envelope["Type"]] += 1
            log.info("push %s for %s received (subscriptions are confirmed by Coface)", envelope["Type"],
                     envelope["TopicArn"])
            return JSONResponse({"accepted": True, "type": envelope["Type"]})
        new = await run_in_threadpool(inbox.append, envelope, body)
        counts["accepted" if new else "duplicates"] += 1
        return JSONResponse({"accepted": True, "duplicate": not new})

    async def token(request: Request) -> JSONResponse:
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        client_id, secret = settings.oauth_client or ("", "")
        good = (form.get("grant_type") == "client_credentials"
                and hmac.compare_digest(form.get("client_id", "").encode(), client_id.encode())
                and hmac.compare_digest(form.get("client_secret", "").encode(), secret.encode()))
        if not good:
            counts["token_refused"] += 1
            return JSONResponse({"error": "invalid_client"}, 401)
        return JSONResponse({"access_token": tokens.issue(), "token_type": "Bearer", "expires_in": TOKEN_SECONDS})

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True, "inbox": str(inbox.path), **counts})

    routes = [Route(settings.path, receive, methods=["POST"]),
              Route(f"{settings.path.rstrip('/')}/health", health, methods=["GET"])]
    if settings.oauth_client is not None:
        routes.append(Route(f"{settings.path.rstrip('/')}/token", token, methods=["POST"]))
    return Starlette(routes=routes)


def serve(settings: PushSettings, landing_root: str) -> None:
    """Run the receiver until interrupted, appending to the inbox of ``landing_root``."""
    import uvicorn

    inbox = Inbox(landing_root)
    try:
        uvicorn.run(create_receiver(settings, inbox), host=settings.host, port=settings.port, log_level="info",
                    access_log=False)
    finally:
        inbox.close()

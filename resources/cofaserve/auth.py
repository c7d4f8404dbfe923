"""Login and tokens: password grant, proactive refresh, refresh on rejection, all behind the lockout guard.

- The first business call logs in (``grantType=password``) and keeps the ``idToken`` (sent on business
  calls), the ``refreshToken`` and the expiry.
- A token that expires within ``token_refresh_margin_seconds`` is refreshed before use
  (``grantType=refresh_token``); if the refresh is refused, the client logs in again.
- A business call answered 401 asks :meth:`TokenManager.refresh_after_rejection` once; threads that
  hit the same stale token share one refresh. The manager remembers whether the server ever accepted
  one of its tokens, so a call can tell a revocation (tokens worked before) from a systematic refusal.
- A refused login (HTTP 400/401 from the identity provider) is never retried by this manager, and is
  recorded by the :class:`~.lockout.LockoutGuard` so later runs do not retry it during the cool-down.
  ``Password attempts exceeded`` is an :class:`AccountLockedError`; ``Incorrect username or password`` an
  :class:`InvalidCredentialsError`.

Tokens are held as :class:`pydantic.SecretStr` and registered with the redactor as soon as received.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC
from typing import Any

import httpx
from pydantic import SecretStr

from .errors import (
    AccountLockedError,
    ForbiddenError,
    InvalidCredentialsError,
    LoginRejectedError,
    MalformedResponseError,
)
from .lockout import LockoutGuard
from .redaction import Redactor
from .settings import ClientSettings
from .transport import Transport, decode_json, error_envelope, raise_for_status

log = logging.getLogger(__name__)

LOGIN_ENDPOINT = "login"
_LOCKED_MARKER = "password attempts exceeded"
_BAD_PASSWORD_MARKER = "incorrect username or password"


class _RefreshRefused(Exception):  # noqa: N818 - internal control flow
    """The identity provider refused the refresh token: fall back to a password login."""


class _Tokens:
    __slots__ = ("id_token", "refresh_token", "expires_at")

    def __init__(self, id_token: SecretStr, refresh_token: SecretStr | None, expires_at: float):
        self.id_token = id_token
        self.refresh_token = refresh_token
        self.expires_at = expires_at


def _classify_rejection(message: str | None) -> tuple[type[LoginRejectedError], str]:
    text = (message or "").lower()
    if _LOCKED_MARKER in text:
        return AccountLockedError, "account_locked"
    if _BAD_PASSWORD_MARKER in text:
        return InvalidCredentialsError, "invalid_credentials"
    return LoginRejectedError, "rejected"


class _TokenRequest:
    """The POST to the identity provider (password or refresh grant), as a transport operation."""

    endpoint = LOGIN_ENDPOINT
    budget_key = "POST authentication"
    changes_state = False  # a login changes nothing a retry could double (the lockout counts refusals only)

    def __init__(self, http: httpx.Client, settings: ClientSettings, body: dict[str, str], grant: str,
                 redactor: Redactor, clock: Callable[[], float]):
        self._http = http
        self._settings = settings
        self._body = body
        self._grant = grant
        self._redactor = redactor
        self._clock = clock
        self._sent_at = 0.0

    def build(self) -> httpx.Request:
        self._sent_at = self._clock()
        headers = {
            self._settings.api_key_header: self._settings.api_key.get_secret_value(),
            "Content-Type": "application/json",
        }
        return self._http.build_request("POST", self._settings.login_url, json=self._body, headers=headers)

    def handle(self, response: httpx.Response) -> _Tokens:
        status = response.status_code
        if status in (400, 401):
            _code, message, _fishtag = error_envelope(response)
            message = self._redactor.scrub(message)
            if self._grant == self._settings.refresh_grant:
                raise _RefreshRefused(message)
            cls, _kind = _classify_rejection(message)
            raise cls(f"CofaServe refused the login: {message or f'HTTP {status}'}", server_message=message)
        raise_for_status(response, LOGIN_ENDPOINT, self._redactor)
        body = decode_json(response)
        if not isinstance(body, dict) or not isinstance(body.get("idToken"), str) or not body["idToken"]:
            raise MalformedResponseError(f"login answer HTTP {status} has no idToken")
        try:
            expires_in = float(body.get("expiresIn", 3600))
        except (TypeError, ValueError):
            expires_in = 3600.0
        id_token = body["idToken"]
        refresh = body.get("refreshToken") if isinstance(body.get("refreshToken"), str) else None
        for secret in (id_token, refresh, body.get("accessToken")):
            if isinstance(secret, str):
                self._redactor.add(secret)
        return _Tokens(SecretStr(id_token), SecretStr(refresh) if refresh else None, self._sent_at + expires_in)


_SHARED_TOKENS: dict[str, _Tokens] = {}
"""Tokens by credential fingerprint, shared by the clients of one process (a `cofasync sync` runs several
Dagster jobs, each with its own client): a valid token is reused instead of logging in again. Held in
memory only, never written anywhere."""
_SHARED_LOCK = threading.Lock()


class TokenManager:
    """Holds the current tokens of one client; logs in and refreshes as needed. Thread-safe.

    Promises: at most one login or refresh runs at a time; a login refused by the server is never
    attempted again by this manager (the same error is raised at once), and not by any manager sharing
    the guard folder until the cool-down has passed.
    """

    def __init__(
        self,
        settings: ClientSettings,
        transport: Transport,
        guard: LockoutGuard,
        redactor: Redactor,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._settings = settings
        self._transport = transport
        self._guard = guard
        self._redactor = redactor
        self._clock = clock
        self._lock = threading.RLock()
        self._tokens: _Tokens | None = None
        self._proven = False
        self._rejected: LoginRejectedError | None = None
        self._forbidden: ForbiddenError | None = None  # the API key refused at login: not asked again
        self._fingerprint = guard.fingerprint(
            settings.login_url, settings.username, settings.password.get_secret_value()
        )

    def __repr__(self) -> str:
        state = "no token" if self._tokens is None else "token held"
        return f"TokenManager({self._settings.login_url!r}, {state})"

    # -------------------------------------------------------------------------------------------- public

    def token(self) -> str:
        """The idToken to send now: logs in on first use, refreshes when it expires within the margin."""
        with self._lock:
            tokens = self._tokens
            if tokens is not None and self._clock() < tokens.expires_at - self._settings.token_refresh_margin_seconds:
                return tokens.id_token.get_secret_value()
            if tokens is not None:
                log.info("token expires soon: refreshing it proactively")
            self._renew()
            assert self._tokens is not None
            return self._tokens.id_token.get_secret_value()

    def refresh_after_rejection(self, stale: str) -> None:
        """A business call was refused 401 with ``stale``: renew the token unless another thread already did."""
        with self._lock:
            if self._tokens is not None and self._tokens.id_token.get_secret_value() != stale:
                return
            self._renew()

    def mark_accepted(self, token: str) -> None:
        """The server accepted ``token`` on a business call: this client's tokens are proven to work."""
        self._proven = True

    def tokens_proven(self) -> bool:
        """Whether any token of this client was ever accepted by the server.

        Once proven, a refused token means a revocation or an expiry, not a systematic refusal.
        """
        return self._proven

    # ------------------------------------------------------------------------------------------- private

    def _share(self) -> None:
        if self._clock is time.monotonic and self._tokens is not None:
            with _SHARED_LOCK:
                _SHARED_TOKENS[self._fingerprint] = self._tokens

    def _adopt_shared(self) -> bool:
        """Take a still-valid token another client of this process obtained with the same credentials."""
        if self._clock is not time.monotonic:
            return False
        with _SHARED_LOCK:
            shared = _SHARED_TOKENS.get(self._fingerprint)
        if shared is None or shared is self._tokens:
            return False
        if self._clock() >= shared.expires_at - self._settings.token_refresh_margin_seconds:
            return False
        self._tokens = shared
        return True

    def _renew(self) -> None:
        if self._tokens is None and self._adopt_shared():
            return
        tokens = self._tokens
        if tokens is not None and tokens.refresh_token is not None:
            self._transport.telemetry.add("token_refreshes")
            body = {
                self._settings.grant_type_field: self._settings.refresh_grant,
                "refreshToken": tokens.refresh_token.get_secret_value(),
            }
            try:
                new = self._request(body, self._settings.refresh_grant)
            except _RefreshRefused:
                log.info("refresh token refused: logging in again")
            else:
                if new.refresh_token is None:
                    new.refresh_token = tokens.refresh_token
                self._tokens = new
                self._share()
                return
        self._tokens = None
        self._login()

    def _login(self) -> None:
        if self._rejected is not None:
            raise type(self._rejected)(
                f"{self._rejected} (the login is not retried in this run)",
                server_message=self._rejected.server_message,
                retry_at=self._rejected.retry_at,
            )
        if self._forbidden is not None:
            f = self._forbidden
            raise ForbiddenError(f.status, code=f.code, message=f.api_message, fishtag=f.fishtag,
                                 endpoint=f.endpoint, request=f.request)
        self._guard.check(self._fingerprint)
        body = {
            self._settings.grant_type_field: self._settings.password_grant,
            "username": self._settings.username,
            "password": self._settings.password.get_secret_value(),
            "refreshToken": "",
        }
        self._transport.telemetry.add("logins")
        try:
            self._tokens = self._request(body, self._settings.password_grant)
        except ForbiddenError as exc:
            self._forbidden = exc  # the other threads of this run learn it without a request
            raise
        except LoginRejectedError as exc:
            _cls, kind = _classify_rejection(exc.server_message)
            retry_at = self._guard.record_failure(self._fingerprint, kind, exc.server_message or "login refused")
            when = retry_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            if isinstance(exc, AccountLockedError):
                advice = (
                    "the account is temporarily locked after too many failed logins; attempts during a "
                    "lockout are ignored, even with the right password"
                )
            elif isinstance(exc, InvalidCredentialsError):
                advice = "check COFASERVE_USERNAME and COFASERVE_PASSWORD"
            else:
                advice = "the identity provider refused the password grant"
            error = type(exc)(
                f"CofaServe login refused for user {self._settings.username!r}: "
                f"{exc.server_message or 'no reason given'} ({advice}). Not retried; to protect the account "
                f"these credentials will not be tried again before {when} (lockout guard).",
                server_message=exc.server_message,
                retry_at=retry_at,
            )
            self._rejected = error
            log.error("%s", error)
            raise error from None
        self._guard.clear(self._fingerprint)
        self._share()
        log.info("logged in to CofaServe")

    def _request(self, body: dict[str, Any], grant: str) -> _Tokens:
        op = _TokenRequest(self._transport.http, self._settings, body, grant, self._redactor, self._clock)
        return self._transport.execute(op)

"""One HTTP exchange, retried: the rate budget, timeouts, retries, status mapping and telemetry.

:class:`Transport` runs an *operation* (something that builds a request and interprets its response)
until it succeeds, fails definitively, or the retry policy gives up:

- before each attempt the endpoint's :class:`~.budget.RateBudget` slot is awaited;
- transient failures (see :mod:`.retry`) are retried with full-jitter backoff, honouring ``Retry-After``;
- a definitive error status raises a typed :class:`~.errors.ApiError` carrying the envelope's code,
  message and fishtag;
- :class:`ApiCall` (a business GET) answers a 401 with exactly one token refresh and one replay; a
  401 on the replay is a :class:`~.errors.TokenRejectedError`, unless the client's tokens have been
  accepted before (then it is another revocation, and a new episode starts; at most 3 per request).

Every request has the client's timeout (set on the ``httpx.Client``). Log lines name the method, path,
status and timing; headers are logged only through :func:`~.redaction.redact_headers`.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol, TypeVar

import httpx
import orjson

from .budget import RateBudget
from .errors import (
    ApiError,
    ApiUnreachableError,
    BadRequestError,
    ForbiddenError,
    MalformedResponseError,
    NotFoundError,
    RetryExhaustedError,
    ServerError,
    TokenRejectedError,
    UnexpectedShapeError,
    WriteOutcomeUnknownError,
)
from .redaction import Redactor, redact_headers
from .retry import (
    RETRY_STATUSES,
    RETRYABLE_EXCEPTIONS,
    RetryPolicy,
    parse_retry_after,
    unprocessed,
    unreachable_reason,
)
from .telemetry import Telemetry

log = logging.getLogger(__name__)

T = TypeVar("T")


class Replay(Exception):  # noqa: N818 - control flow, not an error
    """Raised by an operation to send its request again at once (after a token refresh)."""


class Operation(Protocol[T]):
    """What :meth:`Transport.execute` runs: ``build`` a fresh request per attempt, ``handle`` its response."""

    endpoint: str
    budget_key: str
    changes_state: bool  # a write at Coface: retried only after a failure that certainly changed nothing

    def build(self) -> httpx.Request: ...

    def handle(self, response: httpx.Response) -> T: ...


def describe(request: httpx.Request) -> str:
    """``METHOD /path?query`` of a request: what errors and records quote. Never includes headers."""
    return f"{request.method} {request.url.raw_path.decode('ascii', 'replace')}"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def decode_json(response: httpx.Response) -> Any:
    """The response body as JSON; a body that is not JSON (NaN and Infinity are not) raises
    :class:`MalformedResponseError` (retried)."""
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        pass  # orjson refuses integers beyond 64 bits, which JSON allows: the standard parser decides
    try:
        return json.loads(response.content, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedResponseError(
            f"{describe(response.request)}: HTTP {response.status_code} body is not JSON "
            f"({len(response.content)} bytes: {exc.__class__.__name__})"
        ) from None


def error_envelope(response: httpx.Response) -> tuple[str | None, str | None, str | None]:
    """``(code, message, fishtag)`` from the sibling error envelope, or from a login error body.

    Tolerant: a body that is not the envelope gives ``(None, <start of the text>, None)``.
    """
    try:
        body = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        text = response.content[:200].decode("utf-8", "replace").strip()
        return None, text or None, None
    if not isinstance(body, dict):
        return None, None, None
    code = message = None
    messages = body.get("messages")
    if isinstance(messages, list) and messages and isinstance(messages[0], dict):
        code = messages[0].get("code")
        message = "; ".join(str(m.get("message")) for m in messages if isinstance(m, dict) and m.get("message"))
    code = code or body.get("code") or body.get("__type")
    message = message or body.get("message")
    fishtag = body.get("fishtag")
    return (
        str(code) if code is not None else None,
        str(message) if message is not None else None,
        str(fishtag) if fishtag is not None else None,
    )


class TransientResponse(Exception):  # noqa: N818 - control flow
    """Raised by an operation for a retryable status; carries the typed error and ``Retry-After``."""

    def __init__(self, error: ServerError, retry_after: float | None):
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


def raise_for_status(response: httpx.Response, endpoint: str, redactor: Redactor | None = None) -> None:
    """Map a non-2xx response to the client's errors.

    429/500/502/503/504 raise :class:`TransientResponse` (retried); 400, 403, 404 and other statuses
    raise their typed :class:`ApiError`. 2xx returns.
    """
    status = response.status_code
    if 200 <= status < 300:
        return
    code, message, fishtag = error_envelope(response)
    if redactor is not None:
        message = redactor.scrub(message)
    kwargs = dict(code=code, message=message, fishtag=fishtag, endpoint=endpoint, request=describe(response.request))
    if status in RETRY_STATUSES:
        raise TransientResponse(
            ServerError(status, **kwargs), parse_retry_after(response.headers.get("retry-after"))
        )
    cls = {400: BadRequestError, 401: TokenRejectedError, 403: ForbiddenError, 404: NotFoundError}.get(status, ApiError)
    raise cls(status, **kwargs)


class Transport:
    """Runs operations over one shared ``httpx.Client`` with pacing, retries and telemetry. Thread-safe."""

    def __init__(
        self,
        http: httpx.Client,
        budget: RateBudget,
        policy: RetryPolicy,
        telemetry: Telemetry,
        *,
        redactor: Redactor | None = None,
        sensitive_headers: tuple[str, ...] = (),
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ):
        self.http = http
        self.budget = budget
        self.policy = policy
        self.telemetry = telemetry
        self.redactor = redactor or Redactor()
        self._sensitive = sensitive_headers
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        self.server_time: datetime | None = None
        """The ``Date`` of the latest answer (the API's clock), None until one carried a readable one."""

    def _note_server_time(self, value: str | None) -> None:
        moment = _parse_http_date(value)
        if moment is not None:
            self.server_time = moment

    def execute(self, op: Operation[T]) -> T:
        """Run ``op`` until it returns; retry transient failures within the policy's bounds.

        Raises the operation's definitive errors as they are, and :class:`RetryExhaustedError` (with the
        last cause) when the attempts or the total time run out.
        """
        started = self._clock()
        attempts = unreachable = 0
        last_shape: str | None = None
        while True:
            self.budget.acquire(op.budget_key)
            request = op.build()
            attempts += 1
            sent = self._clock()
            retry_after: float | None = None
            try:
                response = self.http.send(request)
            except RETRYABLE_EXCEPTIONS as exc:
                self.telemetry.request(op.endpoint, None, 0, self._clock() - sent)
                failure: BaseException = exc
                log.info("%s failed without answer: %s (attempt %d)", describe(request), exc.__class__.__name__, attempts)
                reason = unreachable_reason(exc)
                unreachable = unreachable + 1 if reason else 0
                if unreachable >= self.policy.unreachable_attempts:
                    raise ApiUnreachableError(
                        f"cannot reach {request.url.scheme}://{request.url.netloc.decode('ascii', 'replace')} ({reason}, "
                        f"{unreachable} attempts in {self._clock() - started:.1f} s): check COFASERVE_BASE_URL and "
                        "COFASERVE_AUTH_URL, and that this machine reaches the API") from exc
            else:
                unreachable = 0  # an answer: whatever follows is not a refused connection in a row
                latency = self._clock() - sent
                status = response.status_code
                self.telemetry.request(op.endpoint, status, len(response.content), latency)
                self._note_server_time(response.headers.get("date"))
                if status == 429:
                    retry_after = parse_retry_after(response.headers.get("retry-after"))
                self.budget.observe(op.budget_key, status, response.headers, retry_after)
                if log.isEnabledFor(logging.DEBUG):
                    log.debug(
                        "%s -> %d in %.1f ms (attempt %d) request headers %s", describe(request), status,
                        latency * 1000, attempts, redact_headers(request.headers, self._sensitive),
                    )
                try:
                    return op.handle(response)
                except Replay:
                    attempts -= 1  # a replay after a token refresh is not a retry
                    self.telemetry.add("replays")
                    continue
                except TransientResponse as exc:
                    failure, retry_after, last_shape = exc.error, exc.retry_after, None
                except UnexpectedShapeError as exc:
                    if str(exc) == last_shape:  # the same wrong shape twice: a setting, not a fault
                        raise UnexpectedShapeError(
                            f"{exc} (the same on {attempts} attempts: the API answers in another shape than the "
                            "client settings describe; check COFASERVE_BASE_URL and the paging, items_keys and "
                            "root_contexts of COFASERVE_CLIENT_OPTIONS)") from exc
                    failure, last_shape = exc, str(exc)
                except MalformedResponseError as exc:
                    failure, last_shape = exc, None
                log.info("%s answered %s (attempt %d)", describe(request), failure, attempts)
            elapsed = self._clock() - started
            if op.changes_state and not unprocessed(failure):
                raise WriteOutcomeUnknownError(
                    f"{op.endpoint}: {describe(request)} failed ({failure.__class__.__name__}: {failure}) after it "
                    "may have reached Coface; it is not sent again, since a second one would act twice. Check "
                    "whether it took effect (a subscription pushes messages; a replay shows in the next replay "
                    "pass) before asking again.", last_error=failure) from failure
            delay = self.policy.delay(attempts, self._rng, retry_after)
            if not self.policy.may_retry(attempts, elapsed, delay):
                raise RetryExhaustedError(
                    f"{op.endpoint}: gave up on {describe(request)} after {attempts} attempt(s) in {elapsed:.1f} s; "
                    f"last failure: {failure}",
                    last_error=failure,
                    attempts=attempts,
                    elapsed=elapsed,
                ) from failure
            self.telemetry.add("retries")
            log.warning(
                "%s: retrying %s in %.2f s (attempt %d failed: %s)", op.endpoint, describe(request), delay,
                attempts, failure.__class__.__name__,
            )
            self._sleep(delay)


def _parse_http_date(value: str | None) -> datetime | None:
    try:
        moment = parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError):
        return None
    return moment.astimezone(UTC) if moment is not None and moment.tzinfo is not None else None


class TokenSource(Protocol):
    """What :class:`ApiCall` needs from the token manager."""

    def token(self) -> str: ...

    def refresh_after_rejection(self, stale: str) -> None: ...

    def mark_accepted(self, token: str) -> None: ...

    def tokens_proven(self) -> bool: ...


_MAX_TOKEN_EPISODES = 3
"""At most this many refresh + replay episodes per request (more than one only once tokens are proven)."""


class ApiCall:
    """A business call (a GET, or a push channel's POST / PATCH with a JSON body): authenticated headers,
    one refresh + one replay on 401, typed errors, JSON parse.

    ``parse`` receives the decoded JSON body and the response; it may raise
    :class:`MalformedResponseError` for a wrong envelope (the call is then retried). A status in
    ``ok_statuses`` (e.g. 416 for range paging) is handed to ``parse`` with body None instead of raising.
    """

    def __init__(
        self,
        *,
        endpoint: str,
        budget_key: str,
        url: str,
        params: Mapping[str, str],
        headers: Mapping[str, str],
        tokens: TokenSource,
        authorization_header: str,
        authorization_scheme: str,
        parse: Callable[[Any, httpx.Response], T],
        http: httpx.Client,
        redactor: Redactor,
        ok_statuses: frozenset[int] = frozenset(),
        method: str = "GET",
        json: Any = None,
    ):
        self.endpoint = endpoint
        self._method, self._json = method, json
        self.changes_state = method != "GET"
        self.budget_key = budget_key
        self._url = url
        self._params = dict(params)
        self._headers = dict(headers)
        self._tokens = tokens
        self._auth_header = authorization_header
        self._auth_scheme = authorization_scheme
        self._parse = parse
        self._http = http
        self._redactor = redactor
        self._ok_statuses = ok_statuses
        self._sent_token: str | None = None
        self._replayed = False
        self._episodes = 0

    def build(self) -> httpx.Request:
        token = self._tokens.token()
        self._sent_token = token
        headers = dict(self._headers)
        headers[self._auth_header] = f"{self._auth_scheme} {token}" if self._auth_scheme else token
        return self._http.build_request(self._method, self._url, params=self._params, headers=headers, json=self._json)

    def handle(self, response: httpx.Response) -> T:
        status = response.status_code
        if status == 401 and self._sent_token is not None:
            # One refresh and one replay per 401. A 401 on the replay aborts, unless this client's tokens
            # have worked before: then it is another revocation or expiry, and a new episode starts.
            fresh_episode = not self._replayed or self._tokens.tokens_proven()
            if fresh_episode and self._episodes < _MAX_TOKEN_EPISODES:
                self._replayed = True
                self._episodes += 1
                log.info("%s: 401 from %s, refreshing the token and replaying once", self.endpoint, describe(response.request))
                self._tokens.refresh_after_rejection(self._sent_token)
                raise Replay()
        elif status != 403 and self._sent_token is not None:
            # the token passed the gateway: a later 401 (after a transient error) is a new episode
            self._tokens.mark_accepted(self._sent_token)
            self._replayed = False
        if response.status_code in self._ok_statuses:
            return self._parse(None, response)
        raise_for_status(response, self.endpoint, self._redactor)
        return self._parse(decode_json(response), response)

"""Typed errors of the CofaServe client.

Every error the client raises derives from :class:`CofaServeError`. Orchestration decides on the family:

- :class:`AuthError` and its subclasses: the credentials, the API key or the token were refused. Never
  retry these automatically: retrying a refused password is how accounts get locked.
- :class:`ApiError`: the API answered a definitive 4xx (bad parameter, not found, ...). Retrying the same
  call gives the same answer.
- :class:`RetryExhaustedError`: a transient failure (429, 5xx, timeout, cut connection, malformed body)
  persisted past the retry budget. A later run may succeed.
- :class:`PagingError`: the server's pages contradict each other (a page repeats, the count moves).
- :class:`SettingsError` and :class:`DateWindowError`: the caller's input is wrong; nothing was sent.

No error text ever contains a password, a token or an API key: messages are built from the endpoint,
the status, the error envelope's code, message and fishtag, never from request headers or bodies.
"""

from __future__ import annotations

from datetime import datetime


class CofaServeError(Exception):
    """Base class of every error raised by the CofaServe client."""


class SettingsError(CofaServeError, ValueError):
    """A client setting is missing or malformed; the message names the setting, never its value."""


class DateWindowError(CofaServeError, ValueError):
    """A date window is empty, inverted, or not made of calendar dates."""


# --------------------------------------------------------------------------------------------- API errors


class ApiError(CofaServeError):
    """The API answered with a definitive error (a 4xx other than 401/429, or a 5xx it was not worth retrying).

    Carries the HTTP status and the sibling error envelope's ``code``, ``message`` and ``fishtag``
    (Coface's correlation id, to quote to their support), plus the endpoint name and the request path.
    """

    def __init__(
        self,
        status: int,
        *,
        code: str | None = None,
        message: str | None = None,
        fishtag: str | None = None,
        endpoint: str | None = None,
        request: str | None = None,
    ):
        self.status = status
        self.code = code
        self.api_message = message
        self.fishtag = fishtag
        self.endpoint = endpoint
        self.request = request
        super().__init__(self._describe())

    def _describe(self) -> str:
        parts = [f"HTTP {self.status}"]
        if self.code:
            parts.append(f"code={self.code}")
        if self.api_message:
            parts.append(f"message={self.api_message!r}")
        if self.fishtag:
            parts.append(f"fishtag={self.fishtag}")
        where = f" on {self.endpoint}" if self.endpoint else ""
        req = f" ({self.request})" if self.request else ""
        return f"CofaServe refused the request{where}{req}: " + ", ".join(parts)


class BadRequestError(ApiError):
    """HTTP 400: a missing or invalid parameter (``missing_param`` / ``missing_or_invalid_param``)."""


class NotFoundError(ApiError):
    """HTTP 404: the entity does not exist (or is not visible to this contract)."""


class ServerError(ApiError):
    """A retryable answer (429 or 5xx). Raised only inside :class:`RetryExhaustedError`."""


# -------------------------------------------------------------------------------------------- auth errors


class AuthError(CofaServeError):
    """Authentication or authorisation failed. Do not retry automatically."""


class LoginRejectedError(AuthError):
    """The identity provider refused the password grant. The failure is recorded by the lockout guard.

    ``retry_at`` is the first moment (UTC) the guard will allow another attempt with the same credentials.
    """

    def __init__(self, message: str, *, server_message: str | None = None, retry_at: datetime | None = None):
        self.server_message = server_message
        self.retry_at = retry_at
        super().__init__(message)


class InvalidCredentialsError(LoginRejectedError):
    """The username or password is wrong (``Incorrect username or password``)."""


class AccountLockedError(LoginRejectedError):
    """The account is in a temporary lockout (``Password attempts exceeded``): even a correct password fails."""


class LoginCoolingDownError(AuthError):
    """The lockout guard refused to try these credentials: they failed recently and the cool-down runs.

    No request was sent. ``retry_at`` (UTC) is when an attempt will be allowed again; changing the
    credentials (e.g. a corrected password) lifts the refusal at once.
    """

    def __init__(self, message: str, *, retry_at: datetime, previous_failure: str):
        self.retry_at = retry_at
        self.previous_failure = previous_failure
        super().__init__(message)


class LockoutGuardUnusableError(AuthError):
    """The lockout guard's folder cannot be written, so a refused login could be retried run after run
    and lock the account: no login is attempted (unless ``lockout_guard_required`` is switched off)."""


class TokenRejectedError(AuthError, ApiError):
    """A business call was refused with 401 even after one token refresh and one replay."""


class ForbiddenError(AuthError, ApiError):
    """HTTP 403 (``forbiden``): the API key is missing, unknown, or not allowed on this service."""

    def _describe(self) -> str:
        return (super()._describe() + " (the API key was refused: check COFASERVE_API_KEY, the key of this "
                "user-application pair, and that it may call this service; not retried)")


# ------------------------------------------------------------------------------------ transient / protocol


class MalformedResponseError(CofaServeError):
    """A response body is not JSON or not the expected envelope. Retried; surfaces in RetryExhaustedError."""


class UnexpectedShapeError(MalformedResponseError):
    """The body is valid JSON but not shaped as the client settings describe (no items list, no count,
    no Content-Range...). Retried once; the same again is a wrong setting or URL, which retries do not
    heal, and is raised as is (never retried by a run)."""


class RetryExhaustedError(CofaServeError):
    """A transient failure persisted: the attempts or the total retry time ran out.

    ``last_error`` is the final cause (a :class:`ServerError`, a :class:`MalformedResponseError` or an
    ``httpx`` transport error); ``attempts`` and ``elapsed`` say how hard the client tried.
    """

    def __init__(self, message: str, *, last_error: BaseException, attempts: int, elapsed: float):
        self.last_error = last_error
        self.attempts = attempts
        self.elapsed = elapsed
        super().__init__(message)


class WriteOutcomeUnknownError(CofaServeError):
    """A call that changes something at Coface (a push subscription, a replay) failed in a way that may
    have taken effect (a 5xx, a timeout or a cut once sent, an unreadable answer). It is not sent again:
    a second subscription would push every message twice, a second replay spends one of the seven. The
    message says what to check; ``last_error`` is the failure."""

    def __init__(self, message: str, *, last_error: BaseException):
        self.last_error = last_error
        super().__init__(message)


class ApiUnreachableError(CofaServeError):
    """The API's host refused the connection or does not exist, attempt after attempt: a wrong URL or no
    network, which waiting does not heal. Raised after a few quick attempts, never retried by a run."""


class PagingError(CofaServeError):
    """The server's pages are inconsistent: a page repeats the previous one, or the count does not add up."""

"""CofaServe API client: login and tokens, lockout guard, rate budget, retries, paging, typed payloads.

Plain Python; :class:`CofaServeResource` is the thin Dagster wrapper (imported lazily, so the client
itself does not need Dagster). See docs/contracts.md section 2 for the public API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .client import CofaServeClient
from .dates import DateWindow
from .errors import (
    AccountLockedError,
    ApiError,
    ApiUnreachableError,
    AuthError,
    BadRequestError,
    CofaServeError,
    DateWindowError,
    ForbiddenError,
    InvalidCredentialsError,
    LockoutGuardUnusableError,
    LoginCoolingDownError,
    LoginRejectedError,
    MalformedResponseError,
    NotFoundError,
    PagingError,
    RetryExhaustedError,
    ServerError,
    SettingsError,
    TokenRejectedError,
    UnexpectedShapeError,
    WriteOutcomeUnknownError,
)
from .listing import RecordStream
from .records import Record
from .settings import ClientSettings
from .telemetry import Telemetry

if TYPE_CHECKING:
    from .resource import CofaServeResource

__all__ = [
    "AccountLockedError",
    "ApiError",
    "ApiUnreachableError",
    "AuthError",
    "BadRequestError",
    "ClientSettings",
    "CofaServeClient",
    "CofaServeError",
    "CofaServeResource",
    "DateWindow",
    "DateWindowError",
    "ForbiddenError",
    "InvalidCredentialsError",
    "LockoutGuardUnusableError",
    "LoginCoolingDownError",
    "LoginRejectedError",
    "MalformedResponseError",
    "NotFoundError",
    "PagingError",
    "Record",
    "RecordStream",
    "RetryExhaustedError",
    "ServerError",
    "SettingsError",
    "Telemetry",
    "TokenRejectedError",
    "UnexpectedShapeError",
    "WriteOutcomeUnknownError",
]


def __getattr__(name: str) -> Any:
    if name == "CofaServeResource":
        from .resource import CofaServeResource

        return CofaServeResource
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

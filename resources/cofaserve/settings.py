"""Client settings: where the API is, who we are, and every convention the wire contract leaves open.

Everything marked [SANDBOX] in the wire contract (root contexts, header names, paging scheme, page
size, parameter names, list keys) is a field here with the sandbox's value as default, so the client can
be pointed at the real API by configuration alone. Secrets are :class:`pydantic.SecretStr`: they never
show in ``repr``, ``str`` or a validation error.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from .errors import SettingsError

ENV_VARS: dict[str, str] = {
    "base_url": "COFASERVE_BASE_URL",
    "auth_url": "COFASERVE_AUTH_URL",
    "username": "COFASERVE_USERNAME",
    "password": "COFASERVE_PASSWORD",
    "api_key": "COFASERVE_API_KEY",
    "policy_number": "COFASERVE_POLICY_NUMBER",
}
"""Required settings and the environment variable each is read from."""

OPTIONAL_ENV_VARS: dict[str, str] = {
    "lockout_dir": "COFASERVE_LOCKOUT_DIR",
}
"""Optional settings read by :meth:`ClientSettings.from_env` when set."""

OPTIONS_ENV_VAR = "COFASERVE_CLIENT_OPTIONS"
"""Optional JSON object of any other (non-secret) field, e.g. ``{"paging": "range", "page_size": 20,
"root_contexts": {...}}``: how to point the client at the real API without a code change."""

SECRET_FIELDS = frozenset({"password", "api_key"})

DEFAULT_ROOT_CONTEXTS: dict[str, str] = {
    "company": "company/v1",
    "product": "product/v1",
    "notification": "notification/v1",
    "overdue": "overdue/v1",
    "policy": "policy/v1",
    "country": "country/v1",
    "replay": "replay/v1",
    "push": "push/v1",
}
"""Root context per service [SANDBOX], except ``replay/v1`` [DOC]."""

DEFAULT_PARAM_NAMES: dict[str, str] = {
    "easy_number": "easyNumber",
    "customer_reference": "customerReference",
    "order_id": "orderId",
    "delivery_id": "deliveryId",
    "product_code": "productCode",
    "country_code": "countryCode",
    "status": "status",
}
"""Python filter name -> query parameter name [SANDBOX]."""


def _check_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError("expected an absolute http(s) URL such as https://api.coface.com (no query)")
    return value.rstrip("/")


def parse_options(text: str | None, source: str) -> dict[str, Any]:
    """Field overrides from a JSON object (``COFASERVE_CLIENT_OPTIONS``); empty text gives ``{}``.

    Secrets and credentials are refused here (they have their own variables); unknown fields are
    reported by :meth:`ClientSettings.build`. Errors raise :class:`SettingsError` naming ``source``.
    """
    if text is None or not text.strip():
        return {}
    try:
        options = json.loads(text)
    except ValueError:
        raise SettingsError(f"{source} is not valid JSON (expected an object of client settings)") from None
    if not isinstance(options, dict):
        raise SettingsError(f"{source} must be a JSON object of client settings")
    refused = sorted(set(options) & (SECRET_FIELDS | set(ENV_VARS)))
    if refused:
        raise SettingsError(f"{source} may not set {refused}: use their own COFASERVE_* variables")
    return options


class ClientSettings(BaseModel):
    """Everything the client needs; immutable once built.

    ``base_url`` is the business host (``https://api.coface.com``); business calls go to
    ``base_url + business_prefix + "/" + root_context + path``. If ``base_url`` already ends with
    ``business_prefix`` (``/tci``) it is not added twice. ``auth_url`` is the login host; the login is
    ``auth_url + auth_path``, likewise not doubled.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    # --- who and where (required; read from the environment by from_env)
    base_url: str
    auth_url: str
    username: str = Field(min_length=1)
    password: SecretStr
    api_key: SecretStr
    policy_number: str = Field(min_length=1)

    # --- hosts and paths [SANDBOX unless noted]
    business_prefix: str = "/tci"
    auth_path: str = "/authentication/v1/token"
    root_contexts: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_ROOT_CONTEXTS))

    # --- headers [SEEN], the authorization scheme ("" sends the raw idToken, "Bearer" prefixes it)
    api_key_header: str = "x-api-key"
    policy_header: str = "X-COF-Policy-Number"
    authorization_header: str = "Authorization"
    authorization_scheme: str = ""
    contract_id_param: str | None = None
    """When set, the policy number is also sent as this query parameter (the sandbox accepts ``contract_id``)."""

    # --- login body [SEEN], refresh grant [SANDBOX]
    grant_type_field: str = "grantType"
    password_grant: str = "password"
    refresh_grant: str = "refresh_token"
    token_refresh_margin_seconds: float = Field(default=120.0, ge=0)
    """Refresh the token this long before it expires (proactive refresh)."""

    # --- lockout guard
    lockout_dir: Path | None = None
    """Folder of the lockout guard's records; default ``$XDG_STATE_HOME/cofaserve/lockout`` (else
    ``~/.local/state/cofaserve/lockout``): one per user of the machine, whatever the Dagster home."""
    lockout_guard_required: bool = True
    """Refuse to log in while the guard's folder cannot be written (False: log in anyway; a refused login is
    then remembered by this process only, and a scheduled run may try the same password again)."""
    lockout_cooldown_seconds: float = Field(default=900.0, gt=0)
    """How long credentials that were refused are not tried again (default 15 minutes)."""

    # --- paging [SANDBOX]
    paging: Literal["page", "range"] = "page"
    page_size: int = Field(default=100, ge=1, le=10_000)
    page_param: str = "page"
    page_size_param: str = "pageSize"
    first_page: int = 1
    count_field: str = "count"
    page_size_field: str = "pageSize"
    range_param: str = "range"
    content_range_header: str = "Content-Range"
    items_keys: dict[str, str] = Field(default_factory=dict)
    """Per-endpoint override of the key holding a list's items (e.g. ``{"notifications": "items"}``)."""

    # --- parameter names [SANDBOX]
    date_from_param: str = "dateFrom"
    date_to_param: str = "dateTo"
    param_names: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_PARAM_NAMES))

    # --- timeouts and retries
    connect_timeout_seconds: float = Field(default=10.0, gt=0)
    timeout_seconds: float = Field(default=60.0, gt=0)
    """Read/write timeout of every request (each socket operation)."""
    max_attempts: int = Field(default=8, ge=1)
    """Attempts per request, the first included, for transient failures."""
    max_retry_seconds: float = Field(default=300.0, gt=0)
    """No retry is started once this much time has passed since the first attempt."""
    backoff_base_seconds: float = Field(default=0.5, gt=0)
    backoff_cap_seconds: float = Field(default=30.0, gt=0)

    # --- rate budget [SIBLING: 60/min per endpoint per user]
    rate_per_minute: float = Field(default=60.0, gt=0)
    """Initial budget per endpoint until the server's ``X-RateLimit-Limit`` says otherwise."""
    rate_overrides: dict[str, float] = Field(default_factory=dict)
    """Per-endpoint initial budget (requests/min), keyed by endpoint name (``portfolio``, ``delivery``...)."""
    rate_limit_window_seconds: float = Field(default=60.0, gt=0)
    """The window ``X-RateLimit-Limit`` counts requests over."""
    rate_safety: float = Field(default=0.985, gt=0, le=1)
    """Fraction of the server's limit the client aims for, to absorb jitter (and at least 3 requests per
    window under it: ``slots.RESERVE_PER_WINDOW``)."""
    adapt_to_server_limit: bool = True
    max_rate_per_minute: float | None = Field(default=None, gt=0)
    """Hard ceiling per endpoint, whatever the server advertises (to leave room for other users)."""
    shared_budget: bool = True
    """Share the budget with every process of the same user through ``budget_dir`` (False: pace alone)."""
    budget_dir: Path | None = None
    """Folder of the shared budget's schedules; default ``cofaserve-budget`` beside the lockout folder."""

    # --- concurrency
    max_workers: int = Field(default=4, ge=1, le=64)
    """Default thread count of :meth:`CofaServeClient.fetch_many`."""
    prefetch_pages: int = Field(default=1, ge=0, le=8)
    """Pages a listing fetches ahead on a background thread while the caller handles the current one
    (0: strictly one page at a time)."""

    @field_validator("base_url", "auth_url")
    @classmethod
    def _urls(cls, value: str) -> str:
        return _check_url(value)

    @field_validator("business_prefix", "auth_path")
    @classmethod
    def _paths(cls, value: str) -> str:
        value = value.strip()
        if value and not value.startswith("/"):
            value = "/" + value
        return value.rstrip("/")

    @field_validator("password", "api_key")
    @classmethod
    def _not_blank(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("must not be empty")
        return value

    # ------------------------------------------------------------------------------------------ builders

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> ClientSettings:
        """Build settings from ``COFASERVE_*`` environment variables (``env`` defaults to ``os.environ``).

        Promises: a missing, empty or malformed variable raises :class:`SettingsError` naming the
        variable (never echoing its value). ``COFASERVE_LOCKOUT_DIR`` and ``COFASERVE_CLIENT_OPTIONS``
        (a JSON object of other fields) are optional; ``overrides`` set any field last.
        """
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        missing = []
        for field, var in ENV_VARS.items():
            raw = env.get(var, "").strip()
            if not raw:
                missing.append(var)
            values[field] = raw
        if missing:
            raise SettingsError(f"CofaServe setting(s) not set: {', '.join(missing)}")
        for field, var in OPTIONAL_ENV_VARS.items():
            raw = env.get(var, "").strip()
            if raw:
                values[field] = raw
        values.update(parse_options(env.get(OPTIONS_ENV_VAR), OPTIONS_ENV_VAR))
        values.update(overrides)
        return cls.build(_env_names=True, **values)

    @classmethod
    def build(cls, _env_names: bool = False, **values: Any) -> ClientSettings:
        """Validate ``values`` into settings; a bad value raises :class:`SettingsError` naming the field."""
        try:
            return cls(**values)
        except ValidationError as exc:
            problems = []
            for err in exc.errors(include_url=False, include_input=False):
                field = ".".join(str(p) for p in err["loc"]) or "settings"
                name = ENV_VARS.get(field, OPTIONAL_ENV_VARS.get(field)) if _env_names else None
                problems.append(f"{name or field}: {err['msg']}")
            raise SettingsError("malformed CofaServe setting(s): " + "; ".join(problems)) from None

    # ------------------------------------------------------------------------------------------- derived

    @property
    def business_root(self) -> str:
        """``https://host/tci``: the base every service's root context hangs from."""
        if self.business_prefix and self.base_url.endswith(self.business_prefix):
            return self.base_url
        return self.base_url + self.business_prefix

    @property
    def login_url(self) -> str:
        """The full login URL (``auth_url + auth_path``)."""
        if self.auth_path and self.auth_url.endswith(self.auth_path):
            return self.auth_url
        return self.auth_url + self.auth_path

    def root_context(self, service: str) -> str:
        """The root context of ``service`` (``product`` -> ``product/v1``); an unknown service is a SettingsError."""
        try:
            return self.root_contexts[service].strip("/")
        except KeyError:
            raise SettingsError(f"root_contexts has no entry for service {service!r}") from None

    def param(self, name: str) -> str:
        """The query parameter name for the Python filter ``name``."""
        return self.param_names.get(name, name)

    def resolved_lockout_dir(self) -> Path:
        """Where the lockout guard keeps its records (see ``lockout_dir``)."""
        if self.lockout_dir is not None:
            return Path(self.lockout_dir)
        state = os.environ.get("XDG_STATE_HOME", "").strip() or str(Path.home() / ".local" / "state")
        return Path(state) / "cofaserve" / "lockout"

    def resolved_budget_dir(self) -> Path:
        """Where the shared rate budget keeps its schedules (see ``budget_dir``)."""
        if self.budget_dir is not None:
            return Path(self.budget_dir)
        return self.resolved_lockout_dir().parent / "cofaserve-budget"

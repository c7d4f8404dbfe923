"""The thin Dagster wrapper: a ``ConfigurableResource`` that builds one :class:`CofaServeClient` per run.

Credentials come through ``EnvVar`` so Dagster shows the variable's name, never its value; password and
API key are also kept out of the resource's ``repr``. Use :meth:`CofaServeResource.from_env` in
``definitions.py``::

    resources={"cofaserve": CofaServeResource.from_env()}

and in an asset ``cofaserve.get_client()``; attach ``client.telemetry.snapshot()`` as metadata.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from dagster import ConfigurableResource, EnvVar, InitResourceContext
from pydantic import Field, PrivateAttr

from .client import CofaServeClient
from .settings import ENV_VARS, OPTIONAL_ENV_VARS, OPTIONS_ENV_VAR, ClientSettings, parse_options


class CofaServeResource(ConfigurableResource):
    """Dagster resource giving assets a :class:`CofaServeClient` (created on first use, closed after the run)."""

    base_url: str = Field(description="Business host, e.g. https://api.coface.com (COFASERVE_BASE_URL)")
    auth_url: str = Field(description="Login host, e.g. https://api.coface.com (COFASERVE_AUTH_URL)")
    username: str = Field(description="CofaServe user (COFASERVE_USERNAME)")
    password: str = Field(repr=False, description="CofaServe password (COFASERVE_PASSWORD); use EnvVar")
    api_key: str = Field(repr=False, description="API key of the user-application pair (COFASERVE_API_KEY); use EnvVar")
    policy_number: str = Field(description="Contract / policy number (COFASERVE_POLICY_NUMBER)")
    lockout_dir: str | None = Field(default=None, description="Lockout guard folder; default ~/.local/state/cofaserve/lockout")
    paging: str = Field(default="page", description="Paging strategy: 'page' (page/pageSize) or 'range' (range + Content-Range)")
    page_size: int = Field(default=100, description="Items per page")
    rate_per_minute: float = Field(default=60.0, description="Assumed per-endpoint limit until the server's X-RateLimit-Limit is seen")
    max_attempts: int = Field(default=8, description="Attempts per request for transient failures")
    max_retry_seconds: float = Field(default=300.0, description="Total time bound of one request's retries")
    timeout_seconds: float = Field(default=60.0, description="Read timeout of every request")
    max_workers: int = Field(default=4, description="Threads of fetch_many")
    options_json: str | None = Field(
        default=None,
        description="JSON object of any other client setting (root_contexts, header names, paging ...), "
        "as COFASERVE_CLIENT_OPTIONS; applied last",
    )

    _client: CofaServeClient | None = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @classmethod
    def from_env(cls, **overrides: Any) -> CofaServeResource:
        """A resource whose credentials are the ``COFASERVE_*`` environment variables (as ``EnvVar``).

        The optional ``COFASERVE_LOCKOUT_DIR`` and ``COFASERVE_CLIENT_OPTIONS`` are passed as ``EnvVar``
        too when they are set.
        """
        values: dict[str, Any] = {field: EnvVar(var) for field, var in ENV_VARS.items()}
        for field, var in (*OPTIONAL_ENV_VARS.items(), ("options_json", OPTIONS_ENV_VAR)):
            if os.environ.get(var, "").strip():
                values[field] = EnvVar(var)
        values.update(overrides)
        return cls(**values)

    def client_settings(self) -> ClientSettings:
        """The client settings this resource stands for; a bad value raises SettingsError naming the field."""
        values = dict(
            base_url=self.base_url,
            auth_url=self.auth_url,
            username=self.username,
            password=self.password,
            api_key=self.api_key,
            policy_number=self.policy_number,
            lockout_dir=self.lockout_dir,
            paging=self.paging,
            page_size=self.page_size,
            rate_per_minute=self.rate_per_minute,
            max_attempts=self.max_attempts,
            max_retry_seconds=self.max_retry_seconds,
            timeout_seconds=self.timeout_seconds,
            max_workers=self.max_workers,
        )
        values.update(parse_options(self.options_json, "options_json"))
        return ClientSettings.build(**values)

    def get_client(self) -> CofaServeClient:
        """The run's client (one per resource instance, shared by the run's threads)."""
        with self._lock:
            if self._client is None:
                self._client = CofaServeClient(self.client_settings())
            return self._client

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

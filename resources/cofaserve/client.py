"""The CofaServe client: one method per endpoint the pipeline reads, and a bounded fan-out for by-id calls.

It assembles the parts (settings, token manager and lockout guard, rate budget, retrying transport,
paging strategy, payload models, telemetry) and adds nothing but the endpoints' parameters. Plain
Python: no Dagster here (see :mod:`.resource`).

List methods return a :class:`RecordStream`: lazy, page by page (one page in memory), one
:class:`~.records.Record` per item, ``reported_total`` known after the first page. By-id methods return
one Record. Items that break their contract come back as Records with ``error`` set, never as
exceptions; HTTP-level failures raise the typed errors of :mod:`.errors`.
"""

from __future__ import annotations

import copy
import logging
import random
import time
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from dataclasses import replace
from datetime import date, datetime
from typing import Any

import httpx

from . import endpoints as ep
from .auth import TokenManager
from .budget import RateBudget, budget_for
from .endpoint_methods import EndpointMethods
from .errors import AuthError, UnexpectedShapeError
from .fanout import fan_out
from .listing import RecordStream
from .lockout import LockoutGuard, utc_now
from .paging import Page, iterate_pages, make_paging
from .records import Record, parse_record
from .redaction import Redactor
from .retry import RetryPolicy
from .settings import ClientSettings
from .telemetry import Telemetry
from .transport import ApiCall, Transport, describe

log = logging.getLogger(__name__)

USER_AGENT = "cofaserve-sync/0.1 (+httpx)"

class CofaServeClient(EndpointMethods):
    """A thread-safe client of one CofaServe contract.

    ``transport`` (an ``httpx`` transport, e.g. ``httpx.MockTransport``) and the clocks, ``sleep`` and
    ``rng`` are injectable for tests (``wall_clock`` also times the rate budget shared with other processes,
    ``clock`` the one kept in memory); production code passes only ``settings``. Use as a context manager
    or call :meth:`close`.
    """

    def __init__(
        self,
        settings: ClientSettings,
        *,
        transport: httpx.BaseTransport | None = None,
        telemetry: Telemetry | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = utc_now,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ):
        self.settings = settings
        self.telemetry = telemetry or Telemetry()
        self._redactor = Redactor([settings.password.get_secret_value(), settings.api_key.get_secret_value()])
        # first: an unusable guard folder refuses before anything is opened
        self._guard = LockoutGuard(settings.resolved_lockout_dir(), settings.lockout_cooldown_seconds, now=wall_clock,
                                   required=settings.lockout_guard_required)
        self._http = httpx.Client(
            timeout=httpx.Timeout(settings.timeout_seconds, connect=settings.connect_timeout_seconds),
            limits=httpx.Limits(max_connections=max(10, 2 * settings.max_workers)),
            transport=transport,
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        )
        self._budget = budget_for(settings, clock=clock, wall_clock=lambda: wall_clock().timestamp(), sleep=sleep)
        policy = RetryPolicy(
            max_attempts=settings.max_attempts,
            max_seconds=settings.max_retry_seconds,
            base_seconds=settings.backoff_base_seconds,
            cap_seconds=settings.backoff_cap_seconds,
        )
        self._transport = Transport(
            self._http, self._budget, policy, self.telemetry,
            redactor=self._redactor,
            sensitive_headers=(settings.api_key_header, settings.authorization_header),
            clock=clock, sleep=sleep, rng=rng,
        )
        self._tokens = TokenManager(settings, self._transport, self._guard, self._redactor, clock=clock)
        self._paging = make_paging(settings)

    def __repr__(self) -> str:
        return f"CofaServeClient({self.settings.business_root!r}, policy={self.settings.policy_number!r})"

    def for_policy(self, policy_number: str) -> CofaServeClient:
        """A client whose calls carry ``policy_number`` and that shares everything else with this one: the
        connection pool, the login, the rate budget of each endpoint (one for all the account's policies),
        retries and telemetry. Close only the original."""
        if policy_number == self.settings.policy_number:
            return self
        other = copy.copy(self)
        other.settings = self.settings.model_copy(update={"policy_number": policy_number})
        return other

    # ------------------------------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> CofaServeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def server_today(self) -> date | None:
        """The GMT day on the API's clock (the ``Date`` of this client's answers: when it has had none yet,
        its login's, or, with a token another client of the process obtained, one policies page's), or None
        when the answers carry no readable ``Date``. A day is complete on the API only once this is later
        than it."""
        if self._transport.server_time is None:
            self._tokens.token()
        if self._transport.server_time is None:
            next(iter(self.iter_policies()), None)
        moment = self._transport.server_time
        return None if moment is None else moment.date()

    @property
    def rate_budget(self) -> RateBudget:
        """The rate budget shared by all threads of this client (and other processes: ``shared_folder``)."""
        return self._budget

    # ------------------------------------------------------------------------------------------ plumbing

    def _headers(self) -> dict[str, str]:
        s = self.settings
        return {s.api_key_header: s.api_key.get_secret_value(), s.policy_header: s.policy_number}

    def _params(self, params: Mapping[str, str]) -> dict[str, str]:
        out = dict(params)
        if self.settings.contract_id_param:
            out[self.settings.contract_id_param] = self.settings.policy_number
        return out

    def _call(self, endpoint: ep.Endpoint, url: str, params: Mapping[str, str],
              parse: Callable[[Any, httpx.Response], Any], ok_statuses: frozenset[int] = frozenset(),
              body: Any = None) -> Any:
        call = ApiCall(
            endpoint=endpoint.name,
            budget_key=endpoint.route(self.settings),
            url=url,
            params=self._params(params),
            headers=self._headers(),
            tokens=self._tokens,
            authorization_header=self.settings.authorization_header,
            authorization_scheme=self.settings.authorization_scheme,
            parse=parse,
            http=self._http,
            redactor=self._redactor,
            ok_statuses=ok_statuses,
            method=endpoint.method,
            json=body,
        )
        return self._transport.execute(call)

    def _record(self, endpoint: ep.Endpoint, item: Any, request: str) -> Record:
        record = parse_record(endpoint.model, item, request)
        self.telemetry.add("records")
        if record.unknown_fields:
            self.telemetry.add("unknown_fields", len(record.unknown_fields))
        if record.error is not None:
            self.telemetry.add("records_invalid")
            log.info("%s: item breaks its contract (%s) from %s", endpoint.name, record.error, request)
        return record

    def _get_one(self, endpoint: ep.Endpoint, body: Any = None, **path_params: str) -> Record:
        def parse(answer: Any, response: httpx.Response) -> Record:
            if not isinstance(answer, dict):
                raise UnexpectedShapeError(
                    f"{describe(response.request)}: expected a JSON object, got {type(answer).__name__}"
                )
            return self._record(endpoint, answer, describe(response.request))

        return self._call(endpoint, endpoint.url(self.settings, **path_params), {}, parse, body=body)

    def _list(self, endpoint: ep.Endpoint, params: Mapping[str, str], **path_params: str) -> RecordStream:
        url = endpoint.url(self.settings, **path_params)
        items_key = endpoint.items(self.settings)
        strategy = self._paging

        def fetch(index: int, page_params: dict[str, str]) -> Page:
            def parse(body: Any, response: httpx.Response) -> Page:
                page = strategy.parse(body, response, items_key, index)
                return replace(page, request=describe(response.request))

            page = self._call(endpoint, url, {**params, **page_params}, parse, strategy.ok_statuses)
            self.telemetry.add("pages")
            return page

        pages = iterate_pages(fetch, strategy, endpoint.name)
        return RecordStream(endpoint.name, pages, lambda item, request: self._record(endpoint, item, request),
                            prefetch=self.settings.prefetch_pages)

    # ------------------------------------------------------------------------------------------ fan-out

    def fetch_many(
        self,
        fn: Callable[..., Any],
        keys: Iterable[Hashable],
        max_workers: int | None = None,
        *,
        ordered: bool = False,
    ) -> Iterator[tuple[Any, Any]]:
        """Call ``fn`` for every key on a bounded thread pool; yield ``(key, result or exception)``.

        A tuple key is spread as arguments (``fn(*key)``), any other key is passed alone. Results come in
        **completion order** by default, in input order with ``ordered=True``. All calls share the
        client's rate budget, so more workers only hide latency, never exceed the budget. At most
        ``2 x max_workers`` calls are in flight and ``keys`` is consumed lazily, so memory stays bounded.

        An error for one key (not found, retries exhausted, ...) is yielded as that key's result and the
        others go on; an :class:`AuthError` aborts everything and is raised. Stopping the iteration early
        cancels the calls not yet started.
        """
        return fan_out(fn, keys, max_workers or self.settings.max_workers, ordered=ordered, abort_on=(AuthError,))

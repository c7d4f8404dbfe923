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
from .dates import DateWindow
from .errors import AuthError, DateWindowError, PagingError, UnexpectedShapeError
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

class CofaServeClient:
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
              parse: Callable[[Any, httpx.Response], Any], ok_statuses: frozenset[int] = frozenset()) -> Any:
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

    def _get_one(self, endpoint: ep.Endpoint, **path_params: str) -> Record:
        def parse(body: Any, response: httpx.Response) -> Record:
            if not isinstance(body, dict):
                raise UnexpectedShapeError(
                    f"{describe(response.request)}: expected a JSON object, got {type(body).__name__}"
                )
            return self._record(endpoint, body, describe(response.request))

        return self._call(endpoint, endpoint.url(self.settings, **path_params), {}, parse)

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

    def _filters(self, method: str, allowed: tuple[str, ...], filters: Mapping[str, Any]) -> dict[str, str]:
        unknown = sorted(set(filters) - set(allowed))
        if unknown:
            raise TypeError(f"{method}() got unknown filter(s) {unknown}; allowed: {list(allowed)}")
        out = {}
        for name, value in filters.items():
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, str | int) or str(value).strip() == "":
                raise TypeError(f"{method}() filter {name} must be a non-empty string, got {value!r}")
            out[self.settings.param(name)] = str(value).strip()
        return out

    def _window(self, method: str, window: DateWindow | None, required: bool = False) -> dict[str, str]:
        if window is None and not required:
            return {}
        if not isinstance(window, DateWindow):
            raise DateWindowError(f"{method}() needs a DateWindow, got {type(window).__name__} {window!r}")
        return window.to_params(self.settings.date_from_param, self.settings.date_to_param)

    # ------------------------------------------------------------------------------------------ listings

    def list_records(self, endpoint: ep.Endpoint, window: DateWindow | None = None) -> RecordStream:
        """Every item of the list ``endpoint``, within the date ``window`` when given (a stream's listing,
        as its declaration names the endpoint); one Record per item."""
        return self._list(endpoint, self._window(endpoint.name, window))

    PORTFOLIO_FILTERS = ("easy_number", "customer_reference", "order_id", "delivery_id", "product_code", "country_code")

    def iter_portfolio(self, window: DateWindow | None = None, **filters: str) -> RecordStream:
        """Companies with an active or pending product (``GET /companies/products``), one Record per company.

        ``window`` filters each product's event date (decision date, or order date while pending);
        ``filters``: easy_number, customer_reference, order_id, delivery_id, product_code, country_code.
        """
        params = {**self._window("iter_portfolio", window), **self._filters("iter_portfolio", self.PORTFOLIO_FILTERS, filters)}
        return self._list(ep.PORTFOLIO, params)

    def iter_notifications(self, window: DateWindow) -> RecordStream:
        """Decision notifications whose event date lies in ``window`` (``GET /notifications``)."""
        return self._list(ep.NOTIFICATIONS, self._window("iter_notifications", window, required=True))

    OVERDUE_FILTERS = ("easy_number", "customer_reference")

    def iter_overdues(self, status: str, window: DateWindow | None = None, **filters: str) -> RecordStream:
        """Overdue cases with ``status`` (required by the API) (``GET /companies/overdues``).

        ``window`` filters the last update date; ``filters``: easy_number, customer_reference.
        """
        if not isinstance(status, str) or not status.strip():
            raise TypeError(f"iter_overdues() needs a status such as 'PENDING', got {status!r}")
        params = {
            self.settings.param("status"): status.strip(),
            **self._window("iter_overdues", window),
            **self._filters("iter_overdues", self.OVERDUE_FILTERS, filters),
        }
        return self._list(ep.OVERDUES, params)

    def iter_countries(self) -> RecordStream:
        """Countries (``GET /countries``)."""
        return self.list_records(ep.COUNTRIES)

    def iter_country_identifiers(self, country_code: str | None = None) -> RecordStream:
        """Legal identifier types, of one country or of all (``GET /countries/identifiers``)."""
        return self._list(
            ep.COUNTRY_IDENTIFIERS, self._filters("iter_country_identifiers", ("country_code",), {"country_code": country_code})
        )

    def iter_customer_references(self) -> RecordStream:
        """Customer references set on the contract's companies (``GET /companies/customerreferences``)."""
        return self.list_records(ep.CUSTOMER_REFERENCES)

    def iter_policies(self) -> RecordStream:
        """Insurance policies attached to the account (``GET /policies``)."""
        return self.list_records(ep.POLICIES)

    # ------------------------------------------------------------------------------------------- by id

    def get_delivery(self, easy_number: str, delivery_or_external_id: str) -> Record:
        """One decision by deliveryId or externalId; ``easy_number`` may be definitive or temporary."""
        return self._get_one(ep.DELIVERY, easyNumber=easy_number, deliveryIdOrExternalId=delivery_or_external_id)

    def get_order(self, easy_number: str, order_id: str) -> Record:
        """One order; ``easy_number`` may be definitive or temporary."""
        return self._get_one(ep.ORDER, easyNumber=easy_number, orderId=order_id)

    def get_overdue(self, easy_number: str, overdue_id: str) -> Record:
        """One overdue case in detail (invoices, payments, indemnification)."""
        return self._get_one(ep.OVERDUE, easyNumber=easy_number, overdueId=overdue_id)

    def get_overdue_documents(self, easy_number: str, overdue_id: str) -> list[Record]:
        """The documents (names, not contents) filed for one overdue case, one Record each (at most 500).

        The list is served whole (``{"documents": [...], "count": n}``, not paged); a ``count`` that
        differs from the number of items raises :class:`PagingError`.
        """
        endpoint = ep.OVERDUE_DOCUMENTS
        items_key = endpoint.items(self.settings)
        count_field = self.settings.count_field

        def parse(body: Any, response: httpx.Response) -> list[Record]:
            request = describe(response.request)
            if not isinstance(body, dict) or not isinstance(body.get(items_key), list):
                raise UnexpectedShapeError(f"{request}: expected an object holding the list {items_key!r}")
            items = body[items_key]
            count = body.get(count_field, len(items))
            if count != len(items):
                raise PagingError(f"{request}: count {count!r} but {len(items)} documents served")
            return [self._record(endpoint, item, request) for item in items]

        url = endpoint.url(self.settings, easyNumber=easy_number, overdueId=overdue_id)
        return self._call(endpoint, url, {}, parse)

    def get_catalog(self, easy_number: str) -> Record:
        """Products orderable for a company, with action codes and the last order and delivery ids."""
        return self._get_one(ep.CATALOG, easyNumber=easy_number)

    def get_catalog_overdue(self, easy_number: str) -> Record:
        """Overdue debt types and actions available for a company."""
        return self._get_one(ep.CATALOG_OVERDUE, easyNumber=easy_number)

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

"""The client's endpoint methods: one per endpoint the pipeline reads, with the parameters each takes.

A mixin of :class:`.client.CofaServeClient`, which provides the mechanics they use (`_list` pages a list,
`_get_one` fetches one item, `_call` runs one request, `_record` parses one item, `settings`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from . import endpoints as ep
from .dates import DateWindow
from .errors import DateWindowError, PagingError, UnexpectedShapeError
from .listing import RecordStream
from .records import Record
from .transport import describe


class EndpointMethods:
    """The endpoint methods of the client (listings, then by-id calls)."""

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

    # -- the push channel: calls that change the account (`cofasync subscribe`, the replay job) --------
    def subscribe_push(self, topic: str, endpoint: Mapping[str, str], oauth: Mapping[str, Any] | None = None) -> Record:
        """Subscribe ``endpoint`` (the API's endpoint object: scheme, host, port, path, query) to the push
        topic ``topic``; with ``oauth`` (authEndpoint, clientId, clientSecret) the OAuth variant."""
        target = ep.PUSH_SUBSCRIPTION_WITH_TOKEN if oauth else ep.PUSH_SUBSCRIPTION
        body = {"endpoint": dict(endpoint), **({"oauth": dict(oauth)} if oauth else {})}
        return self._get_one(target, body=body, topicName=topic)

    def replay_push(self, notification_ids: list[str]) -> Record:
        """Ask Coface to push again the stored messages of these pull notifications (`PATCH /replay`); the
        record's ``replays`` say, per notification, ``accepted`` or why not."""
        if not notification_ids:
            raise ValueError("replay_push needs at least one notification id")
        return self._get_one(ep.REPLAY, body={"notificationIds": list(notification_ids)})

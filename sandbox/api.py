"""The business endpoints: path templates (docs/contracts.md section 1) mapped to read-model calls.

Each handler takes the request and the `Views` and returns JSON bytes or raises `ApiError`; the
gateway (sandbox/gateway.py) does authentication, policy check, rate limit and faults around it.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request

from sandbox.params import Window, optional, parse_paging, parse_window, required
from sandbox.views import Views

Handler = Callable[[Request, Views], bytes]

# root contexts [SANDBOX]
COMPANY = "/tci/company/v1"
PRODUCT = "/tci/product/v1"
NOTIFICATION = "/tci/notification/v1"
OVERDUE = "/tci/overdue/v1"
POLICY = "/tci/policy/v1"
COUNTRY = "/tci/country/v1"


def _p(request: Request, name: str) -> str:
    return request.path_params[name]


def search_identifier(request: Request, views: Views) -> bytes:
    q = request.query_params
    return views.search_identifier(required(q, "countryCode"), required(q, "identifierType"),
                                   required(q, "identifierValue"), parse_paging(q))


def search_name(request: Request, views: Views) -> bytes:
    q = request.query_params
    return views.search_name(required(q, "countryCode"), required(q, "name"), optional(q, "city"),
                             optional(q, "postalCode"), parse_paging(q))


def customer_references(request: Request, views: Views) -> bytes:
    return views.customer_references(parse_paging(request.query_params))


PORTFOLIO_FILTERS = ("easyNumber", "customerReference", "orderId", "deliveryId", "productCode", "countryCode")


def portfolio(request: Request, views: Views) -> bytes:
    q = request.query_params
    filters = {name: optional(q, name) for name in PORTFOLIO_FILTERS}
    window = parse_window(q, views.world.horizon)
    if q.get("dateFrom") is None:
        window = Window(None, window.end)  # the listing rule, not the window, applies retention
    return views.portfolio(filters, window, parse_paging(q))


def delivery(request: Request, views: Views) -> bytes:
    return views.delivery(_p(request, "easyNumber"), _p(request, "deliveryIdOrExternalId"))


def order(request: Request, views: Views) -> bytes:
    return views.order(_p(request, "easyNumber"), _p(request, "orderId"))


def catalog(request: Request, views: Views) -> bytes:
    return views.catalog(_p(request, "easyNumber"))


def notifications(request: Request, views: Views) -> bytes:
    q = request.query_params
    return views.notifications(parse_window(q, views.world.horizon), parse_paging(q))


def overdues(request: Request, views: Views) -> bytes:
    q = request.query_params
    status = required(q, "status")
    return views.overdues(status, optional(q, "easyNumber"), optional(q, "customerReference"),
                          parse_window(q, views.world.horizon), parse_paging(q))


def overdue(request: Request, views: Views) -> bytes:
    return views.overdue(_p(request, "easyNumber"), _p(request, "overdueId"))


def overdue_documents(request: Request, views: Views) -> bytes:
    return views.overdue_documents(_p(request, "easyNumber"), _p(request, "overdueId"))


def catalog_overdue(request: Request, views: Views) -> bytes:
    return views.catalog_overdue(_p(request, "easyNumber"))


def policies(request: Request, views: Views) -> bytes:
    return views.policies(parse_paging(request.query_params))


def countries(request: Request, views: Views) -> bytes:
    return views.countries(parse_paging(request.query_params))


def country_identifiers(request: Request, views: Views) -> bytes:
    q = request.query_params
    return views.country_identifiers(optional(q, "countryCode"), parse_paging(q))


# (full path template, handler): every GET endpoint of the API
ROUTES: list[tuple[str, Handler]] = [
    (f"{COMPANY}/companies/identifier", search_identifier),
    (f"{COMPANY}/companies/name", search_name),
    (f"{COMPANY}/companies/customerreferences", customer_references),
    (f"{PRODUCT}/companies/products", portfolio),
    (f"{PRODUCT}/companies/{{easyNumber}}/products/deliveries/{{deliveryIdOrExternalId}}", delivery),
    (f"{PRODUCT}/companies/{{easyNumber}}/products/orders/{{orderId}}", order),
    (f"{PRODUCT}/companies/{{easyNumber}}/catalog", catalog),
    (f"{NOTIFICATION}/notifications", notifications),
    (f"{OVERDUE}/companies/overdues", overdues),
    (f"{OVERDUE}/companies/{{easyNumber}}/overdues/{{overdueId}}", overdue),
    (f"{OVERDUE}/companies/{{easyNumber}}/overdues/{{overdueId}}/documents", overdue_documents),
    (f"{OVERDUE}/companies/{{easyNumber}}/catalog-overdue", catalog_overdue),
    (f"{POLICY}/policies", policies),
    (f"{COUNTRY}/countries", countries),
    (f"{COUNTRY}/countries/identifiers", country_identifiers),
]

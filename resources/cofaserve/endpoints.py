"""The endpoints the pipeline reads: service, path template, payload model, and the key of a list's items.

Paths are [DOC]; services map to root contexts through the settings; items keys are [SANDBOX] and can
be overridden per endpoint with ``ClientSettings.items_keys``. An endpoint's *route* (method, root
context and path template, e.g. ``GET product/v1/companies/{easyNumber}/catalog``) is what the rate
budget is kept per.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from . import models, push_models
from .settings import ClientSettings


@dataclass(frozen=True)
class Endpoint:
    """One API endpoint (a GET unless ``method`` says otherwise)."""

    name: str
    service: str
    path: str
    model: type[models.ApiModel]
    items_key: str | None = None
    method: str = "GET"

    def route(self, settings: ClientSettings) -> str:
        """``<method> <root context><path template>``: the rate budget's key."""
        return f"{self.method} {settings.root_context(self.service)}{self.path}"

    def items(self, settings: ClientSettings) -> str:
        """The key of the items list in this endpoint's body (lists only)."""
        key = settings.items_keys.get(self.name, self.items_key)
        if key is None:
            raise ValueError(f"endpoint {self.name} is not a list")
        return key

    def url(self, settings: ClientSettings, **path_params: str) -> str:
        """The absolute URL, path parameters percent-encoded; an empty parameter raises ValueError."""
        encoded = {}
        for name, value in path_params.items():
            if value is None or (isinstance(value, str) and not value.strip()) or isinstance(value, bool):
                raise ValueError(f"{self.name}: path parameter {name} must be a non-empty value, got {value!r}")
            encoded[name] = quote(str(value).strip(), safe="")
        return f"{settings.business_root}/{settings.root_context(self.service)}{self.path.format(**encoded)}"


PORTFOLIO = Endpoint("portfolio", "product", "/companies/products", models.PortfolioCompany, "companies")
DELIVERY = Endpoint(
    "delivery", "product", "/companies/{easyNumber}/products/deliveries/{deliveryIdOrExternalId}", models.Delivery
)
ORDER = Endpoint("order", "product", "/companies/{easyNumber}/products/orders/{orderId}", models.Order)
CATALOG = Endpoint("catalog", "product", "/companies/{easyNumber}/catalog", models.Catalog)
NOTIFICATIONS = Endpoint("notifications", "notification", "/notifications", models.Notification, "notifications")
OVERDUES = Endpoint("overdues", "overdue", "/companies/overdues", models.OverdueSummary, "overdues")
OVERDUE = Endpoint("overdue", "overdue", "/companies/{easyNumber}/overdues/{overdueId}", models.OverdueDetail)
OVERDUE_DOCUMENTS = Endpoint(
    "overdue_documents", "overdue", "/companies/{easyNumber}/overdues/{overdueId}/documents",
    models.OverdueDocument, "documents",
)
CATALOG_OVERDUE = Endpoint("catalog_overdue", "overdue", "/companies/{easyNumber}/catalog-overdue", models.CatalogOverdue)
COUNTRIES = Endpoint("countries", "country", "/countries", models.Country, "countries")
COUNTRY_IDENTIFIERS = Endpoint(
    "country_identifiers", "country", "/countries/identifiers", models.CountryIdentifier, "identifiers"
)
CUSTOMER_REFERENCES = Endpoint(
    "customer_references", "company", "/companies/customerreferences", models.CustomerReference,
    "customerReferences",
)
POLICIES = Endpoint("policies", "policy", "/policies", models.Policy, "policies")

ALL: tuple[Endpoint, ...] = (
    PORTFOLIO, DELIVERY, ORDER, CATALOG, NOTIFICATIONS, OVERDUES, OVERDUE, OVERDUE_DOCUMENTS, CATALOG_OVERDUE,
    COUNTRIES, COUNTRY_IDENTIFIERS, CUSTOMER_REFERENCES, POLICIES,
)
"""Every endpoint the pipeline reads."""

# the push channel's calls ([DOC] paths; `push` is a [SANDBOX] root context): they change the account, so the
# transport retries them only after a failure that certainly changed nothing (retry.unprocessed)
PUSH_SUBSCRIPTION = Endpoint("push_subscription", "push", "/topics/{topicName}/subscriptions",
                             push_models.PushSubscription, method="POST")
PUSH_SUBSCRIPTION_WITH_TOKEN = Endpoint("push_subscription_with_token", "push",
                                        "/topics/{topicName}/subscriptions/with-token-auth",
                                        push_models.PushSubscription, method="POST")
REPLAY = Endpoint("replay", "replay", "/replay", push_models.ReplayAnswer, method="PATCH")

"""Payload models: one pydantic model per entity of the wire format (docs/contracts.md section 1).

Attributes are snake_case; the JSON keys (aliases) are the API's camelCase. Items are validated
*strictly* from their JSON text: a string where a number belongs, a number where a string belongs, a
timestamp without a zone, a date with a time, an unknown status or product code are contract breaches,
and the item is quarantined by the caller (see :mod:`.records`), never coerced. Keys the model does not
know are ignored here and reported by the record as ``unknown_fields``; keys documented as "``|null``"
may be null or absent.
"""

from __future__ import annotations

import datetime as _dt
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, GetPydanticSchema, StringConstraints
from pydantic.alias_generators import to_camel
from pydantic_core import core_schema

TIMESTAMP_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?Z$"
"""The one form a wire timestamp takes: ISO 8601 in UTC with a ``Z``, at most microseconds."""


def _utc_timestamp_schema(_type, _handler) -> core_schema.CoreSchema:
    form = core_schema.custom_error_schema(
        core_schema.str_schema(pattern=TIMESTAMP_PATTERN, strict=True),
        custom_error_type="utc_timestamp",
        custom_error_message="expected a UTC timestamp like 2026-03-01T23:59:59Z",
    )
    return core_schema.chain_schema([form, core_schema.datetime_schema(tz_constraint=0, strict=False)])


def _amount_schema(_type, _handler) -> core_schema.CoreSchema:
    number = core_schema.union_schema(
        [core_schema.int_schema(strict=True), core_schema.float_schema(strict=True, allow_inf_nan=False)],
        custom_error_type="money_number",
        custom_error_message="expected a JSON number",
    )
    exact = core_schema.decimal_schema(max_digits=18, decimal_places=2, allow_inf_nan=False, strict=False)
    return core_schema.chain_schema([number, exact])


UtcDateTime = Annotated[datetime, GetPydanticSchema(_utc_timestamp_schema)]
"""A wire timestamp (``2026-03-01T23:59:59Z``, the ``Z`` form only) as an aware UTC datetime. The form and
the calendar are both checked inside pydantic-core, without a Python call per timestamp."""

Amount = Annotated[Decimal, GetPydanticSchema(_amount_schema)]
"""A money value: a JSON number (never a string) with at most 2 decimals and 16 integer digits, as an exact
Decimal (``0.30000000000000004`` is refused, not rounded)."""

NonEmpty = Annotated[str, StringConstraints(pattern=r"\S")]
"""A string holding at least one character that is not white space (identifiers, names, codes)."""
EasyNumber = Annotated[str, StringConstraints(pattern=r"^(?:\d+|Z[0-9A-Za-z]+)$")]
"""A definitive EASY number (digits) or a temporary one (``Z`` + characters)."""
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
"""ISO 3166 alpha-3."""
CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]

ProductCode = Literal[
    "ECL", "CREDITLIMIT", "ARATINGLIMIT", "ILU", "TOPLINER", "OCL", "CCO", "ARATING", "ARATINGCHMON",
    "SCORECHECK", "SCOREMON", "ARATINGMON", "EDD",
]
DeliveryStatus = Literal[
    "CANCELLED", "DECIDED_FULL", "DECIDED_PARTIAL", "DECIDED_REFUSED", "EXPIRED", "REDUCED", "WITHDRAWN",
    "UNDER_WITHDRAWAL", "UNDER_CANCELLATION", "DELIVERED", "STATUS_FULLFILLED", "STATUS_REPLACED",
]
OrderStatus = Literal[
    "STATUS_CLOSED", "STATUS_STARTED", "STATUS_REJECTED", "STATUS_ANNULED",
    "STATUS_PENDING_COMPLEMENTARY_INFORMATION", "STATUS_PENDING_DEBTOR_VALIDATION", "STATUS_PENDING_ON_HOLD",
    "STATUS_PENDING_UNDERWRITING",
]
OverdueStatus = Literal["PENDING", "PENDING_DEBTOR_VALIDATION", "IN_PROGRESS", "INDEMNIFIED", "REJECTED", "CLOSED"]
DebtType = Literal["CI", "NGD"]


class ApiModel(BaseModel):
    """Base of every payload model: camelCase aliases, strict, immutable, unknown keys ignored."""

    model_config = ConfigDict(
        alias_generator=to_camel, strict=True, frozen=True, extra="ignore",
    )

    @classmethod
    def json_keys(cls) -> frozenset[str]:
        """The top-level JSON keys this model knows (its aliases)."""
        keys = cls.__dict__.get("_json_keys")
        if keys is None:
            keys = frozenset(field.alias or name for name, field in cls.model_fields.items())
            type.__setattr__(cls, "_json_keys", keys)
        return keys


class Money(ApiModel):
    """An amount: ``{"value": 150000, "currency": "EUR"}``; value a JSON number with at most 2 decimals."""

    value: Amount
    currency: CurrencyCode


class Address(ApiModel):
    """A company's postal address."""

    street_address: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country_code: CountryCode


class LegalIdentifier(ApiModel):
    """A legal identifier of a company (``{"type": "SIREN_FRA", "value": ...}``)."""

    type: NonEmpty
    value: NonEmpty


class Label(ApiModel):
    """A ``{"code", "label"}`` pair (delivery conditions, order rejection reasons)."""

    code: NonEmpty
    label: str


class Company(ApiModel):
    """A company as listed in the portfolio and in search results."""

    easy_number: EasyNumber
    company_name: NonEmpty
    address: Address
    country_code: CountryCode
    legal_identifiers: list[LegalIdentifier] = []
    is_head_office: bool
    head_office_easy_number: EasyNumber | None = None
    customer_reference: str | None = None


class PortfolioProduct(ApiModel):
    """One product ordered for a portfolio company, with the main detail of its last decision."""

    product_code: ProductCode
    order_id: NonEmpty
    order_date: UtcDateTime
    order_status: OrderStatus
    order_status_date: UtcDateTime | None = None
    delivery_id: NonEmpty | None = None
    external_id: NonEmpty | None = None
    status: DeliveryStatus | None = None
    decision_date: UtcDateTime | None = None
    effective_date: date | None = None
    expiry_date: date | None = None
    amount: Money | None = None
    temporary_easy_number: EasyNumber | None = None


class PortfolioCompany(Company):
    """An item of ``GET /companies/products``: a company and its matching products."""

    products: Annotated[list[PortfolioProduct], Field(min_length=1)]


class Delivery(ApiModel):
    """A decision: ``GET /companies/{easyNumber}/products/deliveries/{deliveryIdOrExternalId}``."""

    delivery_id: NonEmpty
    external_id: NonEmpty
    order_id: NonEmpty
    easy_number: EasyNumber
    temporary_easy_number: EasyNumber | None = None
    product_code: ProductCode
    status: DeliveryStatus
    decision_date: UtcDateTime
    effective_date: date
    expiry_date: date | None = None
    amount: Money | None = None
    requested_amount: Money | None = None
    conditions: list[Label] = []


class Order(ApiModel):
    """An order: ``GET /companies/{easyNumber}/products/orders/{orderId}``."""

    order_id: NonEmpty
    easy_number: EasyNumber
    temporary_easy_number: EasyNumber | None = None
    product_code: ProductCode
    order_date: UtcDateTime
    status: OrderStatus
    status_date: UtcDateTime
    requested_amount: Money | None = None
    delivery_id: NonEmpty | None = None
    rejection_reasons: list[Label] = []


class Notification(ApiModel):
    """An item of ``GET /notifications``: one per decision (first one and each change)."""

    notification_id: NonEmpty
    external_id: NonEmpty
    event_date: UtcDateTime
    event_type: NonEmpty
    easy_number: EasyNumber
    product_code: ProductCode
    order_id: NonEmpty
    status: DeliveryStatus
    policy_number: NonEmpty


class OverdueSummary(ApiModel):
    """An item of ``GET /companies/overdues``."""

    overdue_id: NonEmpty
    easy_number: EasyNumber
    customer_reference: str | None = None
    creation_date: UtcDateTime
    last_update_date: UtcDateTime
    status: OverdueStatus
    debt_type: DebtType
    intervention_requested: bool


class Invoice(ApiModel):
    """An unpaid invoice of an overdue case."""

    invoice_reference: NonEmpty
    issue_date: date
    due_date: date
    amount: Money


class Payment(ApiModel):
    """A payment, credit note or settlement received on an overdue case."""

    payment_date: date
    amount: Money
    kind: NonEmpty


class Indemnification(ApiModel):
    """What Coface paid on an indemnified overdue case, and when."""

    amount: Money
    date: _dt.date


class OverdueDetail(OverdueSummary):
    """``GET /companies/{easyNumber}/overdues/{overdueId}``: the list fields plus the case detail."""

    non_payment_reason: str | None = None
    total_amount: Money
    outstanding_amount: Money
    invoices: list[Invoice] = []
    payments: list[Payment] = []
    indemnification: Indemnification | None = None


class OverdueDocument(ApiModel):
    """An item of ``GET .../overdues/{overdueId}/documents`` (the file name, never its content)."""

    file_name: NonEmpty
    media_type: NonEmpty
    upload_date: UtcDateTime


class Country(ApiModel):
    """An item of ``GET /countries``."""

    country_code: CountryCode
    name: NonEmpty


class CountryIdentifier(ApiModel):
    """An item of ``GET /countries/identifiers``: a legal identifier type of a country."""

    country_code: CountryCode
    type: NonEmpty
    label: str


class CustomerReference(ApiModel):
    """An item of ``GET /companies/customerreferences``."""

    easy_number: EasyNumber
    customer_reference: str
    updated_at: UtcDateTime


class Policy(ApiModel):
    """An item of ``GET /policies``."""

    policy_number: NonEmpty
    customer_name: NonEmpty
    currency: CurrencyCode
    start_date: date
    end_date: date | None = None


class CatalogProduct(ApiModel):
    """A product of the catalog, with the actions possible on it."""

    product_code: ProductCode
    action_codes: list[NonEmpty]
    last_order_id: NonEmpty | None = None
    last_delivery_id: NonEmpty | None = None


class Catalog(ApiModel):
    """``GET /companies/{easyNumber}/catalog``: what can be ordered for a company."""

    easy_number: EasyNumber
    products: list[CatalogProduct]


class CatalogDebtType(ApiModel):
    """A debt type of the overdue catalog, with its actions and open case."""

    debt_type: DebtType
    action_codes: list[NonEmpty]
    overdue_id: NonEmpty | None = None


class CatalogOverdue(ApiModel):
    """``GET /companies/{easyNumber}/catalog-overdue``: overdue actions available for a company."""

    easy_number: EasyNumber
    debt_types: list[CatalogDebtType]


ENTITY_MODELS: dict[str, type[ApiModel]] = {
    "portfolio": PortfolioCompany,
    "delivery": Delivery,
    "order": Order,
    "notification": Notification,
    "overdue": OverdueSummary,
    "overdue_detail": OverdueDetail,
    "overdue_document": OverdueDocument,
    "country": Country,
    "country_identifier": CountryIdentifier,
    "customer_reference": CustomerReference,
    "policy": Policy,
    "catalog": Catalog,
    "catalog_overdue": CatalogOverdue,
}
"""Entity name -> model, for callers that pick a model by name."""

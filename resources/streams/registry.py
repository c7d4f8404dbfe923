"""The stream registry: the one declaration of every landed stream (see :class:`.stream.Stream`).

Adding a stream is one declaration here, one staging model ``sql/staging/stg_<stream>.sql`` and one
section in ``docs/warehouse.md``; the landing schema, the Dagster asset, its job, checks and due days,
and the warehouse's input follow from the declaration (a test holds every stream to that).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from resources.cofaserve import endpoints as ep

from .columns import Column
from .stream import Extraction, Partitioning, Stream

DAILY, AS_OF, CURRENT = Partitioning.DAILY, Partitioning.AS_OF, Partitioning.CURRENT
DAILY_ASSET = "daily_changes"
"""The one asset that lands every daily stream, each endpoint busy at once (``assets/daily_changes.py``)."""
REFERENCE_ASSET = "reference_lists"
"""The one asset that lands every reference list, the lists paged side by side (``assets/reference_lists.py``)."""
PUSH_ASSET = "notifications_push"
"""The asset that lands the push inbox and the deliveries its messages name (``assets/notifications_push.py``)."""
PUSH_JOB = "land_push_inbox"
"""The job the push inbox sensor runs (``pipelines/jobs.py``)."""
MODELS_JOB = "refresh_models"
"""The job that refreshes the reference lists, then the warehouse models (``pipelines/jobs.py``)."""
CUSTOM = Extraction.CUSTOM


def _c(name: str, path: str, kind: str = "str", sort_by: tuple[str, ...] = ()) -> Column:
    return Column(name, path, kind, sort_by)


def portfolio_event_day(row: Mapping) -> date | None:
    """The GMT day of a portfolio row's event, the instant the API's date window filters on: its latest
    decision or order status change, whichever is later (the order's day when neither is given)."""
    moments = [m for m in (row.get("decision_at"), row.get("order_status_at")) if m is not None]
    return max(moments).date() if moments else row.get("order_date")


def event_day(row: Mapping) -> date:
    """The GMT day of a notification's event."""
    return row["event_at"].date()


_COMPANY = (
    _c("easy_number", "easy_number", "id"),
    _c("company_name", "company_name"),
    _c("street_address", "address.street_address"),
    _c("postal_code", "address.postal_code"),
    _c("city", "address.city"),
    _c("country_code", "country_code"),
    _c("legal_identifiers", "legal_identifiers", "json", ("type", "value")),
    _c("is_head_office", "is_head_office", "bool"),
    _c("head_office_easy_number", "head_office_easy_number", "id"),
    _c("customer_reference", "customer_reference"),
)
_PRODUCT = (
    _c("product_code", "product_code"),
    _c("order_id", "order_id", "id"),
    _c("order_date", "order_date", "day"),
    _c("order_status", "order_status"),
    _c("order_status_at", "order_status_date", "ts"),
    _c("delivery_id", "delivery_id", "id"),
    _c("external_id", "external_id", "id"),
    _c("status", "status"),
    _c("decision_at", "decision_date", "ts"),
    _c("effective_date", "effective_date", "date"),
    _c("expiry_date", "expiry_date", "date"),
    _c("amount", "amount", "money"),
    _c("temporary_easy_number", "temporary_easy_number", "id"),
)
_ORDER = (
    _c("order_id", "order_id", "id"),
    _c("easy_number", "easy_number", "id"),
    _c("temporary_easy_number", "temporary_easy_number", "id"),
    _c("product_code", "product_code"),
    _c("order_at", "order_date", "ts"),
    _c("status", "status"),
    _c("status_at", "status_date", "ts"),
    _c("requested_amount", "requested_amount", "money"),
    _c("delivery_id", "delivery_id", "id"),
    _c("rejection_reasons", "rejection_reasons", "json", ("code", "label")),
)
_NOTIFICATION = (
    _c("notification_id", "notification_id", "id"),
    _c("external_id", "external_id", "id"),
    _c("event_type", "event_type"),
    _c("event_at", "event_date", "ts"),
    _c("easy_number", "easy_number", "id"),
    _c("product_code", "product_code"),
    _c("order_id", "order_id", "id"),
    _c("status", "status"),
    _c("policy_number", "policy_number", "id"),
)
_DELIVERY = (
    _c("delivery_id", "delivery_id", "id"),
    _c("external_id", "external_id", "id"),
    _c("order_id", "order_id", "id"),
    _c("easy_number", "easy_number", "id"),
    _c("temporary_easy_number", "temporary_easy_number", "id"),
    _c("product_code", "product_code"),
    _c("status", "status"),
    _c("decision_at", "decision_date", "ts"),
    _c("effective_date", "effective_date", "date"),
    _c("expiry_date", "expiry_date", "date"),
    _c("amount", "amount", "money"),
    _c("requested_amount", "requested_amount", "money"),
    _c("conditions", "conditions", "json", ("code", "label")),
)
_PORTFOLIO_KEY = ("easy_number", "product_code")
_ORDER_KEY = ("order_id", "status_at")


def _reference(name: str, endpoint: ep.Endpoint, columns: tuple[Column, ...], key: tuple[str, ...],
               what: str, *, kept_daily: bool = False) -> Stream:
    if kept_daily:  # the list's history is the data: each day's list is kept, under the run's GMT day
        return Stream(name, endpoint, columns, key, AS_OF, "GMT day of the refresh that listed it",
                      f"The list of {what} as each day's refresh found it (one row per item): every day's "
                      "list is kept, so what left the list is known.",
                      extracted_with=REFERENCE_ASSET, job=MODELS_JOB)
    return Stream(name, endpoint, columns, key, CURRENT, "current (the whole list, replaced by each run)",
                  f"The current list of {what} (one row per item), replaced by each refresh before the models.",
                  extracted_with=REFERENCE_ASSET)


_ALL: tuple[Stream, ...] = (
    Stream(
        "notifications", ep.NOTIFICATIONS,
        _NOTIFICATION,
        ("notification_id",), DAILY, "GMT day of event_at",
        "One row per CofaServe notification (a decision change), in the partition of its GMT event day.",
        day_of=event_day, extracted_with=DAILY_ASSET,
    ),
    Stream(
        "portfolio", ep.PORTFOLIO, _COMPANY, _PORTFOLIO_KEY, DAILY,
        "GMT day of each product's event (decision_at, or order_date while undecided)",
        "One row per company × product whose last decision (or pending order) fell on the partition's GMT "
        "day, as the portfolio listed it.",
        each="products", each_columns=_PRODUCT, day_of=portfolio_event_day, extracted_with=DAILY_ASSET,
    ),
    Stream(
        "portfolio_snapshot", ep.PORTFOLIO, _COMPANY, _PORTFOLIO_KEY, AS_OF,
        "GMT day the full (unfiltered) portfolio listing was taken",
        "The whole portfolio as listed on the snapshot's GMT day (one row per company × product); weekly and "
        "on demand. The only extract that may close a record for being absent.",
        each="products", each_columns=_PRODUCT, job="reconciliation_snapshot",
    ),
    Stream(
        "deliveries", ep.DELIVERY,
        _DELIVERY,
        ("delivery_id",), DAILY, "GMT day of the notification that led to the delivery (its decision_at)",
        "One row per decision (delivery) new or changed on the partition's GMT day, with its full detail; "
        "fetched only for the decisions that day's notifications and portfolio rows mention.",
        extraction=CUSTOM, depends_on=("notifications", "portfolio"), extracted_with=DAILY_ASSET,
    ),
    Stream(
        "orders", ep.ORDER, _ORDER, _ORDER_KEY, DAILY,
        "GMT day the order was seen changing (its notification or portfolio day)",
        "One row per order mentioned by the partition's GMT day (new, pending or decided), in its state at "
        "extraction time.",
        extraction=CUSTOM, depends_on=("notifications", "portfolio"), extracted_with=DAILY_ASSET,
    ),
    Stream(
        "order_polls", ep.ORDER, _ORDER, _ORDER_KEY, AS_OF, "GMT day of the re-poll of orders still pending",
        "One row per order still pending (temporary Z EASY numbers included) at each re-poll, under the GMT "
        "day of the poll; stops once an order reaches a final status.",
        extraction=CUSTOM, depends_on=("orders",), job="repoll_pending_orders",
    ),
    Stream(
        "overdues", ep.OVERDUE,
        (
            _c("overdue_id", "overdue_id", "id"),
            _c("easy_number", "easy_number", "id"),
            _c("customer_reference", "customer_reference"),
            _c("debt_type", "debt_type"),
            _c("status", "status"),
            _c("created_at", "creation_date", "ts"),
            _c("updated_at", "last_update_date", "ts"),
            _c("intervention_requested", "intervention_requested", "bool"),
            _c("non_payment_reason", "non_payment_reason"),
            _c("total_amount", "total_amount", "money"),
            _c("outstanding_amount", "outstanding_amount", "money"),
            _c("indemnified_amount", "indemnification.amount", "money"),
            _c("indemnified_on", "indemnification.date", "date"),
            _c("invoices", "invoices", "json", ("invoiceReference", "issueDate", "dueDate")),
            _c("payments", "payments", "json", ("paymentDate", "kind")),
        ),
        ("overdue_id", "updated_at"), DAILY, "GMT day of updated_at (lastUpdateDate)",
        "One row per overdue case version updated on the partition's GMT day: status, amounts, invoices, "
        "payments and indemnification.",
        extraction=CUSTOM, extracted_with=DAILY_ASSET,
    ),
    Stream(
        "overdue_documents", ep.OVERDUE_DOCUMENTS,
        (
            _c("overdue_id", "overdue_id", "context"),
            _c("easy_number", "easy_number", "context"),
            _c("file_name", "file_name"),
            _c("media_type", "media_type"),
            _c("uploaded_at", "upload_date", "ts"),
        ),
        ("overdue_id", "file_name", "uploaded_at"), DAILY,
        "the partition of the overdue the documents belong to; a document added later to a case landed "
        "before: the night's last day",
        "One row per document name of an overdue case updated on the partition's GMT day, and of each "
        "document the night found added to a case landed earlier.",
        extraction=CUSTOM, extracted_with=DAILY_ASSET, reports_total=False,
    ),
    Stream(
        PUSH_ASSET, ep.NOTIFICATIONS,
        _NOTIFICATION + (_c("message_id", "message_id", "context"), _c("topic_arn", "topic_arn", "context"),
                         _c("pushed_at", "pushed_at", "context"), _c("received_at", "received_at", "context")),
        ("message_id",), AS_OF, "GMT day the message was first landed from the push inbox",
        "One row per pushed notification the receiver accepted (its signature checked, once per MessageId), "
        "under the GMT day it was first landed from the inbox; the nightly pull stays the reconciling source.",
        extraction=CUSTOM, job=PUSH_JOB,
    ),
    Stream(
        "deliveries_push", ep.DELIVERY, _DELIVERY, ("delivery_id",), AS_OF,
        "GMT day the pushed notification naming the delivery was landed",
        "One row per decision (delivery) a pushed notification named, fetched as it landed, so that a pushed "
        "decision reaches history within minutes instead of the next night.",
        extraction=CUSTOM, depends_on=(PUSH_ASSET,), extracted_with=PUSH_ASSET, job=PUSH_JOB,
    ),
    _reference("countries", ep.COUNTRIES, (_c("country_code", "country_code"), _c("name", "name")),
               ("country_code",), "countries"),
    _reference("country_identifiers", ep.COUNTRY_IDENTIFIERS,
               (_c("country_code", "country_code"), _c("type", "type"), _c("label", "label")),
               ("country_code", "type"), "legal identifier types per country"),
    _reference("customer_references", ep.CUSTOMER_REFERENCES,
               (_c("easy_number", "easy_number", "id"), _c("customer_reference", "customer_reference"),
                _c("updated_at", "updated_at", "ts")),
               ("easy_number",), "customer references", kept_daily=True),
    _reference("policies", ep.POLICIES,
               (_c("policy_number", "policy_number", "id"), _c("customer_name", "customer_name"),
                _c("currency", "currency"), _c("start_date", "start_date", "date"),
                _c("end_date", "end_date", "date")),
               ("policy_number",), "policies"),
)

STREAMS: dict[str, Stream] = {s.name: s for s in _ALL}
"""Every landed stream by name, in declaration order."""


class UnknownStream(KeyError):
    """A stream name that is not in the registry."""

    def __str__(self) -> str:
        return f"unknown stream {self.args[0]!r}; known streams: {', '.join(sorted(STREAMS))}"


def get_stream(name: str) -> Stream:
    """Return the registered stream called ``name``; raise UnknownStream listing the known ones."""
    try:
        return STREAMS[name]
    except KeyError:
        raise UnknownStream(name) from None


def streams_by(partitioning: Partitioning) -> tuple[Stream, ...]:
    """The declared streams with ``partitioning``, in declaration order."""
    return tuple(s for s in STREAMS.values() if s.partitioning is partitioning)


def daily_streams() -> tuple[str, ...]:
    """The names of the streams the nightly extraction lands per GMT day: a day is done once all have."""
    return tuple(s.name for s in streams_by(DAILY))


def assets() -> dict[str, tuple[Stream, ...]]:
    """Every extraction asset by name, with the streams it lands (the first is the asset's own)."""
    found: dict[str, list[Stream]] = {}
    for stream in STREAMS.values():
        found.setdefault(stream.asset, []).append(stream)
    return {name: tuple(streams) for name, streams in found.items()}

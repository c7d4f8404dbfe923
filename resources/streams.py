"""The stream registry: what each landed stream's rows look like and how a wire item becomes rows.

Each :class:`Stream` declares its typed columns as :class:`Field` specs read from the wire item (shapes
in docs/contracts.md section 1), its key columns, and whether it is daily-partitioned. ``flatten`` is
pure: it turns one wire item (a dict) into typed row dicts whose keys are exactly the stream's typed
columns, or raises :class:`ContractViolation` so the caller quarantines the record (invariant 8).

Conversions (strict):
  * ``ts``: ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z`` only, to an aware UTC ``datetime``;
  * ``date``: ``YYYY-MM-DD`` only, to a ``date``;
  * ``day``: a ``date`` or a ``ts`` (each strictly), to the GMT day (``date``) it names;
  * ``money``: ``{"value": number with at most 2 decimals, "currency": "EUR"}`` to ``<col>_value``
    (float) and ``<col>_currency`` (str);
  * ``json``: a list of objects, stored as canonical JSON (sorted keys, compact) with the list sorted by
    the field's sort keys and then by each element's canonical JSON, so an upstream reordering never
    changes the value;
  * ``id``: a non-empty string (a JSON integer is accepted and written as its decimal string).
A field that is not ``required`` may be missing or null (null column); unknown wire fields are ignored
(they stay in ``_raw_json``).

Key columns: the identity of one version of the entity. Within one partition a key appears at most once
(the duplicate check); across partitions the same key carries the same information, so the warehouse can
dedupe on it (portfolio rows are the exception: one key, successive versions, ordered by
``decision_at``/``order_at``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pyarrow as pa

from resources.json_text import canonical_json


class ContractViolation(ValueError):
    """A wire item breaks its contract; ``reason`` (also ``str(exc)``) says where and how."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


COMMON_FIELDS: tuple[pa.Field, ...] = (
    pa.field("_partition", pa.date32()),
    pa.field("_run_id", pa.string(), nullable=False),
    pa.field("_extracted_at", pa.timestamp("us", tz="UTC"), nullable=False),
    pa.field("_request", pa.string()),
    pa.field("_raw_json", pa.string()),
)
"""Columns every landed row carries, filled by the landing writer."""

COMMON_COLUMNS = tuple(f.name for f in COMMON_FIELDS)

_TS_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z")
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CURRENCY_RE = re.compile(r"[A-Z]{3}")


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def parse_timestamp(value: Any, where: str = "value") -> datetime:
    """Return the aware UTC datetime of a wire timestamp ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z``.

    Anything else (no ``Z``, an offset, a bare date, an impossible time) raises ContractViolation.
    """
    if not isinstance(value, str) or not _TS_RE.fullmatch(value):
        raise ContractViolation(f"{where}: expected a UTC timestamp like 2026-03-01T23:59:59Z, got {_show(value)}")
    try:
        return datetime.fromisoformat(value)  # the regex allows only the Z form: UTC
    except ValueError:
        raise ContractViolation(f"{where}: {_show(value)} is not a real instant") from None


def parse_date(value: Any, where: str = "value") -> date:
    """Return the date of a wire date ``YYYY-MM-DD``; anything else raises ContractViolation."""
    if not isinstance(value, str) or not _DATE_RE.fullmatch(value):
        raise ContractViolation(f"{where}: expected a date like 2026-03-01, got {_show(value)}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ContractViolation(f"{where}: {_show(value)} is not a calendar day") from None


def parse_day(value: Any, where: str = "value") -> date:
    """Return the GMT day named by a wire date ``YYYY-MM-DD`` or a wire timestamp ``...Z``.

    For a date column whose wire field may carry either form; each form is parsed strictly.
    """
    if isinstance(value, str) and len(value) > 10:
        return parse_timestamp(value, where).date()
    try:
        return parse_date(value, where)
    except ContractViolation:
        raise ContractViolation(f"{where}: expected a date like 2026-03-01 or a UTC timestamp, got {_show(value)}") from None


def canonical_list(items: Any, sort_by: tuple[str, ...], where: str = "value") -> str:
    """Return a list of objects as canonical JSON, sorted by ``sort_by`` then by each element's JSON.

    Raises ContractViolation if ``items`` is not a list of objects.
    """
    if not isinstance(items, list) or not all(isinstance(e, dict) for e in items):
        raise ContractViolation(f"{where}: expected a list of objects, got {_show(items)}")

    def order(element: dict) -> tuple:
        return tuple(canonical_json(element.get(k)) for k in sort_by) + (canonical_json(element),)

    try:
        return canonical_json(sorted(items, key=order))
    except ValueError as exc:  # NaN/Infinity cannot be JSON
        raise ContractViolation(f"{where}: {exc}") from None


def _parse_str(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ContractViolation(f"{where}: expected a string, got {_show(value)}")
    return value


def _parse_id(value: Any, where: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str) or not value.strip():
        raise ContractViolation(f"{where}: expected a non-empty identifier, got {_show(value)}")
    return value


def _parse_bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ContractViolation(f"{where}: expected true or false, got {_show(value)}")
    return value


def parse_money(value: Any, where: str = "value") -> tuple[float, str]:
    """Return ``(value, currency)`` of a wire money object ``{"value": 150000, "currency": "EUR"}``.

    The value must be a finite JSON number with at most 2 decimals, the currency three capital letters;
    anything else raises ContractViolation.
    """
    if not isinstance(value, dict):
        raise ContractViolation(f"{where}: expected a money object {{value, currency}}, got {_show(value)}")
    amount, currency = value.get("value"), value.get("currency")
    if isinstance(amount, bool) or not isinstance(amount, int | float) or not math.isfinite(amount):
        raise ContractViolation(f"{where}.value: expected a number, got {_show(amount)}")
    if round(amount, 2) != amount:
        raise ContractViolation(f"{where}.value: {_show(amount)} has more than 2 decimals")
    if not isinstance(currency, str) or not _CURRENCY_RE.fullmatch(currency):
        raise ContractViolation(f"{where}.currency: expected an ISO 4217 code like EUR, got {_show(currency)}")
    return float(amount), currency


_ARROW_TYPES: dict[str, pa.DataType] = {
    "str": pa.string(),
    "id": pa.string(),
    "bool": pa.bool_(),
    "ts": pa.timestamp("us", tz="UTC"),
    "date": pa.date32(),
    "day": pa.date32(),
    "json": pa.string(),
}


@dataclass(frozen=True)
class Field:
    """One typed column (two for ``money``) read from a dotted path of the wire item."""

    column: str
    path: str
    kind: str  # str | id | bool | ts | date | day | money | json
    required: bool = False
    sort_by: tuple[str, ...] = ()  # json lists only

    def __post_init__(self) -> None:
        parts = tuple(self.path.split("."))
        object.__setattr__(self, "_parts", parts)
        object.__setattr__(self, "_key", parts[0] if len(parts) == 1 else None)
        object.__setattr__(self, "names", tuple(f.name for f in self.arrow_fields()))
        object.__setattr__(self, "_reader", None)  # compiled on first use by extract()

    def arrow_fields(self) -> list[pa.Field]:
        """Return the Arrow column(s) this field produces."""
        if self.kind == "money":
            return [pa.field(f"{self.column}_value", pa.float64()), pa.field(f"{self.column}_currency", pa.string())]
        return [pa.field(self.column, _ARROW_TYPES[self.kind])]

    def extract(self, item: Mapping[str, Any], row: dict[str, Any], where: str) -> None:
        """Read this field from ``item`` into ``row`` (one entry per column in ``names``); raise
        ContractViolation on a broken contract (``where`` prefixes the path in the reason)."""
        if not isinstance(item, dict):  # a stream's reader trusts its caller to have checked this
            raise ContractViolation(f"{where}{self.path}: expected an object above {self._parts[0]!r}, got {_show(item)}")
        reader = self._reader
        if reader is None:
            reader = _compile_reader((self,), self.column)
            object.__setattr__(self, "_reader", reader)
        row.update(zip(self.names, reader(item, where), strict=True))


_KIND_CHECKS = {
    # kind -> the statement applied to a present value ``v`` (a call only when a conversion or an error is due)
    "str": "if v.__class__ is not str: _parse_str(v, where + {path!r})",
    "id": "if v.__class__ is not str or not v.strip(): v = _parse_id(v, where + {path!r})",
    "bool": "if v is not True and v is not False: _parse_bool(v, where + {path!r})",
    "ts": "v = parse_timestamp(v, where + {path!r})",
    "date": "v = parse_date(v, where + {path!r})",
    "day": "v = parse_day(v, where + {path!r})",
    "money": "v, v_currency = parse_money(v, where + {path!r})",
    "json": "v = canonical_list(v, {sort_by!r}, where + {path!r})",
}


def _compile_reader(fields: tuple[Field, ...], name: str) -> Callable[[dict, str], tuple]:
    """A function ``(source object, where) -> tuple of the fields' column values``: each field's value at
    its path, checked and converted by its kind (``_KIND_CHECKS``), written out per field so that an item
    costs one call. ``where`` prefixes the paths in error reasons. The one reader of wire fields: a
    stream's items, a stream's list elements, and :meth:`Field.extract`."""
    body, outputs = [], []
    for index, spec in enumerate(fields):
        if spec._key is not None:
            body.append(f"    v = src.get({spec._key!r})")
        else:
            body.append(f"    v = _walk(src, {spec._parts!r}, where, {spec.path!r})")
        check = _KIND_CHECKS[spec.kind].format(path=spec.path, sort_by=spec.sort_by)
        if spec.required:
            body.append(f"    if v is None:\n        raise ContractViolation(where + {spec.path + ': required field is missing or null'!r})")
            body.append(f"    {check}")
        elif spec.kind == "money":
            body.append(f"    if v is None:\n        v_currency = None\n    else:\n        {check}")
        else:
            body.append(f"    if v is not None:\n        {check}")
        body.append(f"    c{index} = v" + (f"; c{index}_currency = v_currency" if spec.kind == "money" else ""))
        outputs += [f"c{index}"] + ([f"c{index}_currency"] if spec.kind == "money" else [])
    source = f"def read_{name}(src, where):\n" + "\n".join(body) + f"\n    return ({', '.join(outputs)}{',' if outputs else ''})\n"
    scope = {"ContractViolation": ContractViolation, "_parse_str": _parse_str, "_parse_id": _parse_id,
             "_parse_bool": _parse_bool, "parse_timestamp": parse_timestamp, "parse_date": parse_date,
             "parse_day": parse_day, "parse_money": parse_money, "canonical_list": canonical_list, "_walk": _walk}
    exec(compile(source, f"<stream {name} reader>", "exec"), scope)  # noqa: S102 (our own field specs, no input)
    return scope[f"read_{name}"]


def _walk(item: Any, parts: tuple[str, ...], where: str, path: str) -> Any:
    """The value at a dotted path, None when a level is missing; a level that is not an object raises."""
    value = item
    for part in parts:
        if value is None:
            break
        if not isinstance(value, dict):
            raise ContractViolation(f"{where}{path}: expected an object above {part!r}, got {_show(value)}")
        value = value.get(part)
    return value


@dataclass(frozen=True)
class Stream:
    """A landed stream: typed columns, key, partitioning and the flatten from wire item to rows.

    ``fields`` are read from the item itself. When ``each`` is set (e.g. ``"products"``), the item holds a
    list under that name and ``flatten`` yields one row per element: ``fields`` of the item plus
    ``each_fields`` of the element; ``each_nonempty`` makes an empty list a contract violation.
    """

    name: str
    fields: tuple[Field, ...]
    key: tuple[str, ...]
    daily: bool
    partition_meaning: str
    each: str | None = None
    each_fields: tuple[Field, ...] = ()
    each_nonempty: bool = False
    typed_schema: pa.Schema = field(init=False, repr=False, compare=False)
    columns: tuple[str, ...] = field(init=False, repr=False, compare=False)
    schema: pa.Schema = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        typed = pa.schema([f for spec in self.fields + self.each_fields for f in spec.arrow_fields()])
        if len(set(typed.names)) != len(typed.names):
            raise ValueError(f"stream {self.name}: duplicate column names")
        missing = [k for k in self.key if k not in typed.names]
        if missing:
            raise ValueError(f"stream {self.name}: key columns {missing} are not columns")
        object.__setattr__(self, "typed_schema", typed)
        object.__setattr__(self, "schema", pa.schema(list(typed) + list(COMMON_FIELDS)))
        object.__setattr__(self, "columns", tuple(typed.names))  # typed column names: what flatten rows hold
        object.__setattr__(self, "_read_item", _compile_reader(self.fields, self.name))
        object.__setattr__(self, "_read_element", _compile_reader(self.each_fields, f"{self.name}_each"))

    def flatten(self, item: Any) -> list[dict[str, Any]]:
        """Return the typed rows of one wire item; raise ContractViolation if it breaks its contract.

        Pure and deterministic: the same item always gives equal rows.
        """
        columns = self.columns
        return [dict(zip(columns, values, strict=True)) for values in self.flatten_values(item)]

    def flatten_values(self, item: Any) -> list[tuple]:
        """Return the rows of ``flatten`` as tuples of values in ``columns`` order (the fast path)."""
        if not isinstance(item, dict):
            raise ContractViolation(f"{self.name}: expected a JSON object, got {_show(item)}")
        base = self._read_item(item, "")
        if self.each is None:
            return [base]
        elements = item.get(self.each)
        if not isinstance(elements, list):
            raise ContractViolation(f"{self.each}: expected a list, got {_show(elements)}")
        if self.each_nonempty and not elements:
            raise ContractViolation(f"{self.each}: expected at least one element, got an empty list")
        rows = []
        read_element = self._read_element
        for index, element in enumerate(elements):
            if not isinstance(element, dict):
                raise ContractViolation(f"{self.each}[{index}]: expected an object, got {_show(element)}")
            rows.append(base + read_element(element, f"{self.each}[{index}]."))
        return rows


def _f(column: str, path: str, kind: str = "str", required: bool = False, sort_by: tuple[str, ...] = ()) -> Field:
    return Field(column, path, kind, required, sort_by)


_COMPANY = (
    _f("easy_number", "easyNumber", "id", True),
    _f("company_name", "companyName"),
    _f("street_address", "address.streetAddress"),
    _f("postal_code", "address.postalCode"),
    _f("city", "address.city"),
    _f("country_code", "countryCode"),
    _f("legal_identifiers", "legalIdentifiers", "json", sort_by=("type", "value")),
    _f("is_head_office", "isHeadOffice", "bool"),
    _f("head_office_easy_number", "headOfficeEasyNumber", "id"),
    _f("customer_reference", "customerReference"),
)
_PRODUCT = (
    _f("product_code", "productCode", required=True),
    _f("order_id", "orderId", "id", True),
    _f("order_date", "orderDate", "day", True),
    _f("order_status", "orderStatus"),
    _f("order_status_at", "orderStatusDate", "ts"),
    _f("delivery_id", "deliveryId", "id"),
    _f("external_id", "externalId", "id"),
    _f("status", "status"),
    _f("decision_at", "decisionDate", "ts"),
    _f("effective_date", "effectiveDate", "date"),
    _f("expiry_date", "expiryDate", "date"),
    _f("amount", "amount", "money"),
    _f("temporary_easy_number", "temporaryEasyNumber", "id"),
)


def _portfolio(name: str, partition_meaning: str) -> Stream:
    return Stream(
        name, _COMPANY, ("easy_number", "product_code"), True, partition_meaning,
        each="products", each_fields=_PRODUCT, each_nonempty=True,
    )


def _orders(name: str, partition_meaning: str) -> Stream:
    return Stream(
        name,
        (
            _f("order_id", "orderId", "id", True),
            _f("easy_number", "easyNumber", "id", True),
            _f("temporary_easy_number", "temporaryEasyNumber", "id"),
            _f("product_code", "productCode", required=True),
            _f("order_at", "orderDate", "ts", True),
            _f("status", "status", required=True),
            _f("status_at", "statusDate", "ts", True),
            _f("requested_amount", "requestedAmount", "money"),
            _f("delivery_id", "deliveryId", "id"),
            _f("rejection_reasons", "rejectionReasons", "json", sort_by=("code", "label")),
        ),
        ("order_id", "status_at"), True, partition_meaning,
    )


_ALL: tuple[Stream, ...] = (
    Stream(
        "notifications",
        (
            _f("notification_id", "notificationId", "id", True),
            _f("external_id", "externalId", "id", True),
            _f("event_type", "eventType", required=True),
            _f("event_at", "eventDate", "ts", True),
            _f("easy_number", "easyNumber", "id", True),
            _f("product_code", "productCode", required=True),
            _f("order_id", "orderId", "id"),
            _f("status", "status", required=True),
            _f("policy_number", "policyNumber", "id"),
        ),
        ("notification_id",), True, "GMT day of event_at",
    ),
    _portfolio("portfolio", "GMT day of each product's event (decision_at, or order_date while undecided)"),
    _portfolio("portfolio_snapshot", "GMT day the full (unfiltered) portfolio listing was taken"),
    Stream(
        "deliveries",
        (
            _f("delivery_id", "deliveryId", "id", True),
            _f("external_id", "externalId", "id", True),
            _f("order_id", "orderId", "id", True),
            _f("easy_number", "easyNumber", "id", True),
            _f("temporary_easy_number", "temporaryEasyNumber", "id"),
            _f("product_code", "productCode", required=True),
            _f("status", "status", required=True),
            _f("decision_at", "decisionDate", "ts", True),
            _f("effective_date", "effectiveDate", "date"),
            _f("expiry_date", "expiryDate", "date"),
            _f("amount", "amount", "money"),
            _f("requested_amount", "requestedAmount", "money"),
            _f("conditions", "conditions", "json", sort_by=("code", "label")),
        ),
        ("delivery_id",), True, "GMT day of the notification that led to the delivery (its decision_at)",
    ),
    _orders("orders", "GMT day the order was seen changing (its notification or portfolio day)"),
    _orders("order_polls", "GMT day of the re-poll of orders still pending"),
    Stream(
        "overdues",
        (
            _f("overdue_id", "overdueId", "id", True),
            _f("easy_number", "easyNumber", "id", True),
            _f("customer_reference", "customerReference"),
            _f("debt_type", "debtType", required=True),
            _f("status", "status", required=True),
            _f("created_at", "creationDate", "ts", True),
            _f("updated_at", "lastUpdateDate", "ts", True),
            _f("intervention_requested", "interventionRequested", "bool"),
            _f("non_payment_reason", "nonPaymentReason"),
            _f("total_amount", "totalAmount", "money"),
            _f("outstanding_amount", "outstandingAmount", "money"),
            _f("indemnified_amount", "indemnification.amount", "money"),
            _f("indemnified_on", "indemnification.date", "date"),
            _f("invoices", "invoices", "json", sort_by=("invoiceReference", "issueDate", "dueDate")),
            _f("payments", "payments", "json", sort_by=("paymentDate", "kind")),
        ),
        ("overdue_id", "updated_at"), True, "GMT day of updated_at (lastUpdateDate)",
    ),
    Stream(
        "overdue_documents",
        (_f("overdue_id", "overdueId", "id", True), _f("easy_number", "easyNumber", "id", True)),
        ("overdue_id", "file_name", "uploaded_at"), True, "the partition of the overdue the documents belong to",
        each="documents",
        each_fields=(
            _f("file_name", "fileName", required=True),
            _f("media_type", "mediaType"),
            _f("uploaded_at", "uploadDate", "ts", True),
        ),
    ),
    Stream(
        "countries",
        (_f("country_code", "countryCode", required=True), _f("name", "name")),
        ("country_code",), False, "current (the whole list, replaced by each run)",
    ),
    Stream(
        "country_identifiers",
        (_f("country_code", "countryCode", required=True), _f("type", "type", required=True), _f("label", "label")),
        ("country_code", "type"), False, "current (the whole list, replaced by each run)",
    ),
    Stream(
        "customer_references",
        (
            _f("easy_number", "easyNumber", "id", True),
            _f("customer_reference", "customerReference"),
            _f("updated_at", "updatedAt", "ts"),
        ),
        ("easy_number",), False, "current (the whole list, replaced by each run)",
    ),
    Stream(
        "policies",
        (
            _f("policy_number", "policyNumber", "id", True),
            _f("customer_name", "customerName"),
            _f("currency", "currency"),
            _f("start_date", "startDate", "date"),
            _f("end_date", "endDate", "date"),
        ),
        ("policy_number",), False, "current (the whole list, replaced by each run)",
    ),
)

STREAMS: dict[str, Stream] = {s.name: s for s in _ALL}
"""Every landed stream by name."""


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

"""The stream registry and the rows a validated record gives, against the wire shapes of docs/contracts.md
section 1; and the one rule set: every damaged-record case goes through the payload model, the only
validation a record gets."""

import copy
import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pyarrow as pa
import pytest

from resources.cofaserve import models as m
from resources.cofaserve.records import Record
from resources.streams import (
    COMMON_COLUMNS,
    MONEY_TYPE,
    STREAMS,
    ContractViolation,
    Partitioning,
    UnknownStream,
    daily_streams,
    get_stream,
)

PUSHED = {"message_id": "M1", "topic_arn": "arn:aws:sns:eu-west-1:1:cofaserve-credit_insurance_cover",
          "pushed_at": "2026-03-01T12:00:01.000Z", "received_at": "2026-03-01T12:00:01.250Z"}
CONTEXT = {"overdue_documents": {"overdue_id": "OV1", "easy_number": "12345678"}, "notifications_push": PUSHED}


EXPECTED_STREAMS = {
    "notifications", "portfolio", "portfolio_snapshot", "deliveries", "orders", "overdues",
    "overdue_documents", "countries", "country_identifiers", "customer_references", "policies", "order_polls",
    "notifications_push", "deliveries_push",
}


def company(**overrides):
    item = {
        "easyNumber": "12345678",
        "companyName": "ACME SA",
        "address": {"streetAddress": "1 rue X", "postalCode": "75001", "city": "Paris", "countryCode": "FRA"},
        "countryCode": "FRA",
        "legalIdentifiers": [{"type": "SIREN_FRA", "value": "552100554"}, {"type": "NIC_FRA", "value": "00013"}],
        "isHeadOffice": True,
        "headOfficeEasyNumber": None,
        "customerReference": "C-1",
        "products": [
            {
                "productCode": "CREDITLIMIT", "orderId": "O1", "orderDate": "2026-02-27T10:00:00Z",
                "orderStatus": "STATUS_CLOSED", "deliveryId": "D1", "externalId": "E1", "status": "DECIDED_FULL",
                "decisionDate": "2026-03-01T23:59:59Z", "effectiveDate": "2026-03-02", "expiryDate": None,
                "amount": {"value": 150000, "currency": "EUR"}, "temporaryEasyNumber": None,
            },
            {
                "productCode": "ARATING", "orderId": "O2", "orderDate": "2026-03-01T08:00:00.5Z",
                "orderStatus": "STATUS_PENDING_UNDERWRITING", "deliveryId": None, "externalId": None,
                "status": None, "decisionDate": None, "effectiveDate": None, "expiryDate": None,
                "amount": None, "temporaryEasyNumber": None,
            },
        ],
    }
    item.update(overrides)
    return item


SAMPLES = {
    "notifications": {
        "notificationId": "N1", "externalId": "E1", "eventDate": "2026-03-01T12:00:00Z", "eventType": "DECISION",
        "easyNumber": "12345678", "productCode": "CREDITLIMIT", "orderId": "O1", "status": "DECIDED_FULL",
        "policyNumber": "P-1",
    },
    "portfolio": company(),
    "portfolio_snapshot": company(),
    "deliveries": {
        "deliveryId": "D1", "externalId": "E1", "orderId": "O1", "easyNumber": "12345678",
        "temporaryEasyNumber": "Z0001", "productCode": "CREDITLIMIT", "status": "DECIDED_PARTIAL",
        "decisionDate": "2026-03-01T12:00:00Z", "effectiveDate": "2026-03-01", "expiryDate": "2027-03-01",
        "amount": {"value": 100000.5, "currency": "EUR"}, "requestedAmount": {"value": 150000, "currency": "EUR"},
        "conditions": [{"code": "B", "label": "second"}, {"code": "A", "label": "first"}],
    },
    "order_polls": {
        "orderId": "O1", "easyNumber": "Z0001", "temporaryEasyNumber": "Z0001", "productCode": "CREDITLIMIT",
        "orderDate": "2026-02-27T10:00:00Z", "status": "STATUS_PENDING_UNDERWRITING",
        "statusDate": "2026-02-27T10:00:00Z", "requestedAmount": {"value": 5000, "currency": "USD"},
        "deliveryId": None, "rejectionReasons": [],
    },
    "orders": {
        "orderId": "O1", "easyNumber": "12345678", "temporaryEasyNumber": None, "productCode": "CREDITLIMIT",
        "orderDate": "2026-02-27T10:00:00Z", "status": "STATUS_REJECTED", "statusDate": "2026-03-01T09:00:00Z",
        "requestedAmount": {"value": 5000, "currency": "USD"}, "deliveryId": None,
        "rejectionReasons": [{"code": "R2", "label": "x"}, {"code": "R1", "label": "y"}],
    },
    "overdues": {
        "overdueId": "OV1", "easyNumber": "12345678", "customerReference": None, "creationDate": "2026-01-10T08:00:00Z",
        "lastUpdateDate": "2026-03-01T08:00:00Z", "status": "INDEMNIFIED", "debtType": "CI",
        "interventionRequested": False, "nonPaymentReason": "INSOLVENCY",
        "totalAmount": {"value": 1200.25, "currency": "EUR"}, "outstandingAmount": {"value": 0, "currency": "EUR"},
        "invoices": [
            {"invoiceReference": "F2", "issueDate": "2025-11-01", "dueDate": "2025-12-01",
             "amount": {"value": 200.25, "currency": "EUR"}},
            {"invoiceReference": "F1", "issueDate": "2025-10-01", "dueDate": "2025-11-01",
             "amount": {"value": 1000, "currency": "EUR"}},
        ],
        "payments": [],
        "indemnification": {"amount": {"value": 1080.23, "currency": "EUR"}, "date": "2026-03-01"},
    },
    "overdue_documents": {"fileName": "invoice.pdf", "mediaType": "application/pdf",
                          "uploadDate": "2026-03-01T10:00:00Z"},
    "countries": {"countryCode": "FRA", "name": "France"},
    "country_identifiers": {"countryCode": "ECU", "type": "RUC_ECU", "label": "RUC"},
    "customer_references": {"easyNumber": "12345678", "customerReference": "C-1", "updatedAt": "2026-03-01T00:00:00Z"},
    "policies": {"policyNumber": "P-1", "customerName": "Client", "currency": "EUR", "startDate": "2024-01-01",
                 "endDate": None},
}
SAMPLES["notifications_push"] = SAMPLES["notifications"]  # a pushed message carries a pull notification
SAMPLES["deliveries_push"] = SAMPLES["deliveries"]


def rows(name, item=None):
    item = copy.deepcopy(SAMPLES[name]) if item is None else item
    return get_stream(name).flatten(item, CONTEXT.get(name))


def test_registry_lists_every_stream_of_the_contract():
    assert set(STREAMS) == EXPECTED_STREAMS
    assert set(SAMPLES) == EXPECTED_STREAMS


@pytest.mark.parametrize("name", sorted(EXPECTED_STREAMS))
def test_schema_has_typed_then_common_columns_and_keys(name):
    stream = get_stream(name)
    assert stream.schema.names[-len(COMMON_COLUMNS):] == list(COMMON_COLUMNS)
    assert stream.schema.names[: len(stream.columns)] == list(stream.columns)
    assert set(stream.key) <= set(stream.columns)
    assert stream.schema.field("_extracted_at").type == pa.timestamp("us", tz="UTC")
    assert stream.schema.field("_partition").type == pa.date32()
    assert stream.day and stream.description


@pytest.mark.parametrize("name", sorted(EXPECTED_STREAMS))
def test_rows_give_exactly_the_typed_columns_and_arrow_accepts_them(name):
    stream = get_stream(name)
    found = rows(name)
    assert found
    assert all(tuple(r) == stream.columns for r in found)
    table = pa.Table.from_pylist(found, schema=stream.typed_schema)
    assert table.num_rows == len(found)
    assert rows(name) == found  # pure


def test_partitioning():
    assert set(daily_streams()) == {"notifications", "portfolio", "deliveries", "orders", "overdues",
                                    "overdue_documents"}
    as_of = {"portfolio_snapshot", "order_polls", "customer_references", "notifications_push", "deliveries_push"}
    assert {n for n, s in STREAMS.items() if s.partitioning is Partitioning.AS_OF} == as_of
    assert {n for n, s in STREAMS.items() if s.daily} == set(daily_streams()) | as_of


def test_portfolio_is_one_row_per_company_and_product():
    found = rows("portfolio")
    assert [(r["easy_number"], r["product_code"]) for r in found] == [("12345678", "CREDITLIMIT"), ("12345678", "ARATING")]
    first, second = found
    assert first["company_name"] == second["company_name"] == "ACME SA"
    assert first["city"] == "Paris" and first["order_date"] == date(2026, 2, 27)
    assert first["decision_at"] == datetime(2026, 3, 1, 23, 59, 59, tzinfo=UTC)
    assert first["amount_value"] == Decimal("150000") and first["amount_currency"] == "EUR"
    assert second["status"] is None and second["amount_value"] is None and second["amount_currency"] is None


def test_nested_lists_are_canonical_whatever_the_upstream_order():
    item = company()
    swapped = company(legalIdentifiers=list(reversed(item["legalIdentifiers"])))
    assert rows("portfolio", item)[0]["legal_identifiers"] == rows("portfolio", swapped)[0]["legal_identifiers"]
    row = rows("deliveries")[0]
    assert json.loads(row["conditions"]) == [{"code": "A", "label": "first"}, {"code": "B", "label": "second"}]


def test_json_columns_keep_what_the_model_does_not_know():
    item = company(legalIdentifiers=[{"type": "SIREN_FRA", "value": "1", "issuedBy": "INSEE"}])
    assert json.loads(rows("portfolio", item)[0]["legal_identifiers"])[0]["issuedBy"] == "INSEE"


def test_overdue_rows_split_money_and_indemnification():
    row = rows("overdues")[0]
    assert row["total_amount_value"] == Decimal("1200.25") and row["outstanding_amount_value"] == Decimal("0")
    assert row["indemnified_amount_value"] == Decimal("1080.23") and row["indemnified_on"] == date(2026, 3, 1)
    assert [i["invoiceReference"] for i in json.loads(row["invoices"])] == ["F1", "F2"]
    without = {**SAMPLES["overdues"], "indemnification": None}
    row = rows("overdues", without)[0]
    assert row["indemnified_amount_value"] is None and row["indemnified_on"] is None


def test_a_document_row_carries_the_overdue_it_was_asked_for():
    row = rows("overdue_documents")[0]
    assert (row["overdue_id"], row["easy_number"], row["file_name"]) == ("OV1", "12345678", "invoice.pdf")
    with pytest.raises(ValueError, match="needs the context values"):
        get_stream("overdue_documents").flatten(SAMPLES["overdue_documents"])


def test_money_lands_as_an_exact_decimal():
    assert get_stream("deliveries").schema.field("amount_value").type == MONEY_TYPE
    for value, expected in ((150000, "150000"), (0.1, "0.1"), (123456789.99, "123456789.99"), (0.3, "0.3")):
        item = {**SAMPLES["deliveries"], "amount": {"value": value, "currency": "EUR"}}
        assert rows("deliveries", item)[0]["amount_value"] == Decimal(expected)
    table = pa.Table.from_pylist(rows("deliveries"), schema=get_stream("deliveries").typed_schema)
    assert table["amount_value"][0].as_py() == Decimal("100000.50")


def test_rows_are_read_from_the_validated_model_not_validated_again():
    record = get_stream("countries").parse({"countryCode": "FRA", "name": "France"}, "GET /countries")
    # a model built without validation (what a second validation would refuse) is read as it is
    unchecked = Record(m.Country.model_construct(country_code="nope", name=""), record.raw, record.raw_json,
                       None, record.request)
    assert get_stream("countries").rows(unchecked) == [("nope", "")]
    with pytest.raises(TypeError, match="reads Country records"):
        get_stream("countries").rows(get_stream("policies").parse(SAMPLES["policies"]))


def at(item, path, value):
    """A copy of ``item`` with the field at ``path`` set to ``value`` (deleted for KeyError)."""
    item = copy.deepcopy(item)
    target = item
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return item


DAMAGED = [
    # (stream, path, value, words of the reason)
    ("deliveries", ["amount", "value"], 0.30000000000000004, "at most 2 decimals"),  # float noise
    ("deliveries", ["amount", "value"], 1.234, "at most 2 decimals"),
    ("deliveries", ["amount", "value"], "100", "expected a JSON number"),
    ("deliveries", ["amount", "value"], True, "expected a JSON number"),
    ("deliveries", ["amount", "value"], None, "expected a JSON number"),
    ("deliveries", ["amount", "currency"], "eur", "amount.currency"),
    ("deliveries", ["amount"], {"value": 100}, "amount.currency"),
    ("deliveries", ["amount"], 100, "amount"),
    ("deliveries", ["effectiveDate"], KeyError, "effectiveDate"),  # required on a delivery
    ("deliveries", ["decisionDate"], KeyError, "decisionDate"),
    ("deliveries", ["conditions"], "none", "conditions"),
    ("notifications", ["eventDate"], "2026-03-01T23:59:59", "UTC timestamp"),
    ("notifications", ["eventDate"], "2026-03-01T23:59:59+00:00", "UTC timestamp"),
    ("notifications", ["eventDate"], "2026-03-01T23:59:59+02:00", "UTC timestamp"),
    ("notifications", ["eventDate"], "2026-03-01 23:59:59Z", "UTC timestamp"),
    ("notifications", ["eventDate"], "2026-03-01T23:59:59.1234567Z", "UTC timestamp"),
    ("notifications", ["eventDate"], "2026-03-01", "UTC timestamp"),
    ("notifications", ["eventDate"], "2026-02-30T00:00:00Z", "eventDate"),
    ("notifications", ["eventDate"], "2026-03-01T24:00:00Z", "eventDate"),
    ("notifications", ["eventDate"], 1772409599, "UTC timestamp"),
    ("notifications", ["eventDate"], None, "eventDate"),
    ("notifications", ["notificationId"], "", "notificationId"),
    ("notifications", ["notificationId"], "   ", "notificationId"),  # white space is no identifier
    ("notifications", ["notificationId"], True, "notificationId"),
    ("notifications", ["orderId"], 42, "orderId"),  # an integer id is not an id string
    ("notifications", ["orderId"], KeyError, "orderId"),
    ("notifications", ["status"], "DECIDED_MAYBE", "status"),
    ("deliveries", ["effectiveDate"], "2026-3-1", "effectiveDate"),
    ("deliveries", ["effectiveDate"], "2026-03-01T00:00:00Z", "effectiveDate"),
    ("deliveries", ["effectiveDate"], "2026-02-29", "effectiveDate"),
    ("deliveries", ["effectiveDate"], "20260301", "effectiveDate"),
    ("deliveries", ["effectiveDate"], 20260301, "effectiveDate"),
    ("portfolio", ["products"], [], "products"),
    ("portfolio", ["products"], KeyError, "products"),
    ("portfolio", ["products", 1, "orderDate"], "2026-03-01T10:00:00", "products.1.orderDate"),
    ("portfolio", ["products", 0, "orderDate"], "2026-02-27", "products.0.orderDate"),  # a timestamp, not a day
    ("portfolio", ["address"], "1 rue X", "address"),
    ("portfolio", ["isHeadOffice"], "yes", "isHeadOffice"),
    ("portfolio", ["easyNumber"], 12345678, "easyNumber"),
    ("portfolio", ["countryCode"], "FR", "countryCode"),
    ("overdues", ["totalAmount", "value"], "1200.25", "totalAmount.value"),
    ("overdues", ["indemnification", "date"], "2026-03-01T00:00:00Z", "indemnification.date"),
    ("customer_references", ["updatedAt"], "13-32", "updatedAt"),
]


@pytest.mark.parametrize(("stream", "path", "value", "reason"), DAMAGED,
                         ids=[f"{s}:{'.'.join(map(str, p))}={v!r}" for s, p, v, _ in DAMAGED])
def test_every_damaged_record_is_refused_by_the_one_rule_set(stream, path, value, reason):
    item = at(SAMPLES[stream], path, value)
    record = get_stream(stream).parse(item, "GET /x")
    assert record.model is None and reason in record.error
    assert json.loads(record.raw_json) == json.loads(json.dumps(item))  # kept whole for the quarantine
    with pytest.raises(ContractViolation, match=reason.replace(".", r"\.")):
        rows(stream, item)


def test_a_non_object_item_is_a_violation():
    for item in (None, [], "x", 3):
        with pytest.raises(ContractViolation, match="JSON object"):
            get_stream("notifications").flatten(item)


def test_optional_fields_may_be_missing_and_unknown_fields_are_kept_and_listed():
    item = {k: v for k, v in SAMPLES["deliveries"].items() if k not in ("expiryDate", "amount")}
    item["somethingNew"] = {"x": 1}
    record = get_stream("deliveries").parse(item)
    assert record.ok and record.unknown_fields == ("somethingNew",)
    row = rows("deliveries", item)[0]
    assert row["expiry_date"] is None and row["amount_value"] is None
    product = {k: v for k, v in company()["products"][1].items() if k != "effectiveDate"}
    assert rows("portfolio", company(products=[product]))[0]["effective_date"] is None  # optional on a product


def test_served_value_reads_what_a_damaged_record_still_names():
    stream = get_stream("portfolio_snapshot")
    assert stream.served_value(json.dumps(company(products=[])), "easy_number") == "12345678"
    for raw in (json.dumps({"easyNumber": 12345678}), json.dumps({"easyNumber": "ab"}), "{}", "not json", None):
        assert stream.served_value(raw, "easy_number") is None


def test_unknown_stream_lists_the_known_ones():
    with pytest.raises(UnknownStream, match="known streams: countries"):
        get_stream("nope")


def test_order_polls_share_the_orders_columns():
    assert get_stream("order_polls").schema == get_stream("orders").schema
    assert get_stream("order_polls").key == get_stream("orders").key

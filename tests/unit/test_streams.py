"""The stream registry and its flatten functions, against the wire shapes of docs/contracts.md §1."""

import copy
import json
from datetime import UTC, date, datetime

import pyarrow as pa
import pytest

from resources.streams import (
    COMMON_COLUMNS,
    STREAMS,
    ContractViolation,
    UnknownStream,
    canonical_list,
    get_stream,
    parse_date,
    parse_money,
    parse_timestamp,
)

EXPECTED_STREAMS = {
    "notifications", "portfolio", "portfolio_snapshot", "deliveries", "orders", "overdues",
    "overdue_documents", "countries", "country_identifiers", "customer_references", "policies", "order_polls",
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
    "overdue_documents": {
        "overdueId": "OV1", "easyNumber": "12345678",
        "documents": [
            {"fileName": "invoice.pdf", "mediaType": "application/pdf", "uploadDate": "2026-03-01T10:00:00Z"},
            {"fileName": "letter.pdf", "mediaType": "application/pdf", "uploadDate": "2026-03-01T11:00:00Z"},
        ],
        "count": 2,
    },
    "countries": {"countryCode": "FRA", "name": "France"},
    "country_identifiers": {"countryCode": "ECU", "type": "RUC_ECU", "label": "RUC"},
    "customer_references": {"easyNumber": "12345678", "customerReference": "C-1", "updatedAt": "2026-03-01T00:00:00Z"},
    "policies": {"policyNumber": "P-1", "customerName": "Client", "currency": "EUR", "startDate": "2024-01-01",
                 "endDate": None},
}


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
    assert isinstance(stream.partition_meaning, str) and stream.partition_meaning


@pytest.mark.parametrize("name", sorted(EXPECTED_STREAMS))
def test_flatten_gives_exactly_the_typed_columns_and_arrow_accepts_them(name):
    stream = get_stream(name)
    rows = stream.flatten(copy.deepcopy(SAMPLES[name]))
    assert rows
    assert all(tuple(r) == stream.columns for r in rows)
    table = pa.Table.from_pylist(rows, schema=stream.typed_schema)
    assert table.num_rows == len(rows)
    assert stream.flatten(copy.deepcopy(SAMPLES[name])) == rows  # pure


def test_daily_flags():
    daily = {n for n, s in STREAMS.items() if s.daily}
    assert daily == {"notifications", "portfolio", "portfolio_snapshot", "deliveries", "orders", "order_polls",
                     "overdues", "overdue_documents"}


def test_portfolio_is_one_row_per_company_and_product():
    rows = get_stream("portfolio").flatten(company())
    assert [(r["easy_number"], r["product_code"]) for r in rows] == [("12345678", "CREDITLIMIT"),
                                                                       ("12345678", "ARATING")]
    first, pending = rows
    assert first["company_name"] == pending["company_name"] == "ACME SA"
    assert first["street_address"] == "1 rue X" and first["city"] == "Paris"
    assert first["decision_at"] == datetime(2026, 3, 1, 23, 59, 59, tzinfo=UTC)
    assert first["effective_date"] == date(2026, 3, 2)
    assert (first["amount_value"], first["amount_currency"]) == (150000.0, "EUR")
    assert first["order_date"] == date(2026, 2, 27)  # the GMT day of the orderDate timestamp
    assert pending["order_date"] == date(2026, 3, 1)
    assert pending["decision_at"] is None and pending["amount_value"] is None and pending["amount_currency"] is None


def test_portfolio_without_products_is_a_violation():
    with pytest.raises(ContractViolation, match="products"):
        get_stream("portfolio").flatten(company(products=[]))
    with pytest.raises(ContractViolation, match="products"):
        get_stream("portfolio").flatten({k: v for k, v in company().items() if k != "products"})


def test_nested_lists_are_canonical_whatever_the_upstream_order():
    item = company()
    swapped = company(legalIdentifiers=list(reversed(item["legalIdentifiers"])))
    a = get_stream("portfolio").flatten(item)[0]["legal_identifiers"]
    b = get_stream("portfolio").flatten(swapped)[0]["legal_identifiers"]
    assert a == b == '[{"type":"NIC_FRA","value":"00013"},{"type":"SIREN_FRA","value":"552100554"}]'
    row = get_stream("deliveries").flatten(SAMPLES["deliveries"])[0]
    assert json.loads(row["conditions"]) == [{"code": "A", "label": "first"}, {"code": "B", "label": "second"}]
    # key order inside an element does not matter either
    assert canonical_list([{"b": 1, "a": 2}], ()) == canonical_list([{"a": 2, "b": 1}], ()) == '[{"a":2,"b":1}]'


def test_canonical_list_breaks_ties_on_the_whole_element():
    one = [{"code": "A", "label": "y"}, {"code": "A", "label": "x"}]
    assert canonical_list(one, ("code",)) == canonical_list(list(reversed(one)), ("code",))


def test_overdue_flatten_splits_money_and_indemnification():
    row = get_stream("overdues").flatten(SAMPLES["overdues"])[0]
    assert (row["total_amount_value"], row["total_amount_currency"]) == (1200.25, "EUR")
    assert (row["indemnified_amount_value"], row["indemnified_on"]) == (1080.23, date(2026, 3, 1))
    assert [i["invoiceReference"] for i in json.loads(row["invoices"])] == ["F1", "F2"]
    assert row["payments"] == "[]"
    listed = {k: SAMPLES["overdues"][k] for k in ("overdueId", "easyNumber", "customerReference", "creationDate",
                                                  "lastUpdateDate", "status", "debtType", "interventionRequested")}
    row = get_stream("overdues").flatten(listed)[0]  # a list item (no detail) is valid too
    assert row["indemnified_amount_value"] is None and row["invoices"] is None


def test_overdue_documents_are_one_row_per_document_with_the_overdue_id():
    rows = get_stream("overdue_documents").flatten(SAMPLES["overdue_documents"])
    assert [(r["overdue_id"], r["file_name"]) for r in rows] == [("OV1", "invoice.pdf"), ("OV1", "letter.pdf")]
    assert get_stream("overdue_documents").flatten({"overdueId": "OV1", "easyNumber": "1", "documents": []}) == []
    with pytest.raises(ContractViolation, match="overdueId"):
        get_stream("overdue_documents").flatten({"documents": []})


@pytest.mark.parametrize(
    "value", ["2026-03-01T23:59:59", "2026-03-01T23:59:59+00:00", "2026-03-01", "2026-02-30T00:00:00Z",
              "2026-03-01T24:00:00Z", "2026-03-01 23:59:59Z", 1772409599, None, "2026-03-01T23:59:59.1234567Z"],
)
def test_timestamps_are_parsed_strictly(value):
    with pytest.raises(ContractViolation):
        parse_timestamp(value, "eventDate")


def test_timestamp_parsing():
    assert parse_timestamp("2026-03-01T23:59:59Z") == datetime(2026, 3, 1, 23, 59, 59, tzinfo=UTC)
    assert parse_timestamp("2026-11-24T02:00:00.000Z") == datetime(2026, 11, 24, 2, tzinfo=UTC)
    assert parse_timestamp("2028-02-29T00:00:00Z").date() == date(2028, 2, 29)


@pytest.mark.parametrize("value", ["2026-3-1", "2026-03-01T00:00:00Z", "2026-02-29", "20260301", 20260301])
def test_dates_are_parsed_strictly(value):
    with pytest.raises(ContractViolation):
        parse_date(value, "effectiveDate")


@pytest.mark.parametrize(
    "value",
    [{"value": 1.234, "currency": "EUR"}, {"value": "100", "currency": "EUR"}, {"value": True, "currency": "EUR"},
     {"value": 100, "currency": "eur"}, {"value": 100}, {"currency": "EUR"}, 100, {"value": float("nan"),
                                                                                   "currency": "EUR"}],
)
def test_money_is_checked(value):
    with pytest.raises(ContractViolation):
        parse_money(value, "amount")


def test_money_accepts_integers_and_two_decimals():
    assert parse_money({"value": 150000, "currency": "EUR"}) == (150000.0, "EUR")
    assert parse_money({"value": 0.1, "currency": "USD"}) == (0.1, "USD")
    assert parse_money({"value": 123456789.99, "currency": "GBP"}) == (123456789.99, "GBP")


def test_violations_name_the_field():
    bad = copy.deepcopy(SAMPLES["deliveries"])
    del bad["decisionDate"]
    with pytest.raises(ContractViolation, match="decisionDate: required") as err:
        get_stream("deliveries").flatten(bad)
    assert err.value.reason == str(err.value)
    bad = company()
    bad["products"][1]["orderDate"] = "2026-03-01T10:00:00"
    with pytest.raises(ContractViolation, match=r"products\[1\]\.orderDate"):
        get_stream("portfolio").flatten(bad)
    with pytest.raises(ContractViolation, match="address.streetAddress: expected an object"):
        get_stream("portfolio").flatten(company(address="1 rue X"))
    with pytest.raises(ContractViolation, match="isHeadOffice"):
        get_stream("portfolio").flatten(company(isHeadOffice="yes"))
    with pytest.raises(ContractViolation, match="conditions"):
        get_stream("deliveries").flatten({**SAMPLES["deliveries"], "conditions": "none"})


def test_non_object_item_is_a_violation():
    for item in (None, [], "x", 3):
        with pytest.raises(ContractViolation, match="JSON object"):
            get_stream("notifications").flatten(item)


def test_optional_fields_may_be_missing_and_unknown_fields_are_ignored():
    item = {k: v for k, v in SAMPLES["notifications"].items() if k not in ("policyNumber", "orderId")}
    item["somethingNew"] = {"x": 1}
    row = get_stream("notifications").flatten(item)[0]
    assert row["policy_number"] is None and row["order_id"] is None


def test_integer_identifiers_are_written_as_strings_but_empty_ones_are_refused():
    row = get_stream("notifications").flatten({**SAMPLES["notifications"], "orderId": 42})[0]
    assert row["order_id"] == "42"
    with pytest.raises(ContractViolation, match="notificationId"):
        get_stream("notifications").flatten({**SAMPLES["notifications"], "notificationId": ""})
    with pytest.raises(ContractViolation, match="notificationId"):
        get_stream("notifications").flatten({**SAMPLES["notifications"], "notificationId": True})


def test_unknown_stream_lists_the_known_ones():
    with pytest.raises(UnknownStream, match="known streams: countries"):
        get_stream("nope")


def test_portfolio_order_date_takes_a_date_or_a_timestamp_strictly():
    stream = get_stream("portfolio")
    item = company()
    item["products"][0]["orderDate"] = "2026-02-27"
    assert stream.flatten(item)[0]["order_date"] == date(2026, 2, 27)
    item["products"][0]["orderDate"] = "2026-02-27T23:59:59Z"
    assert stream.flatten(item)[0]["order_date"] == date(2026, 2, 27)
    for bad in ("2026-02-30", "27/02/2026", "2026-02-27T23:59:59+01:00", 20260227):
        item["products"][0]["orderDate"] = bad
        with pytest.raises(ContractViolation, match="orderDate"):
            stream.flatten(item)


def test_order_polls_share_the_orders_columns():
    assert get_stream("order_polls").schema == get_stream("orders").schema
    assert get_stream("order_polls").key == get_stream("orders").key

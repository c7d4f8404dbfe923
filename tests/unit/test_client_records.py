"""Typed payloads: valid items parse, broken items become Records with an error, unknown keys are listed."""

import json
from datetime import UTC, date, datetime

import pytest

from resources.cofaserve import DateWindow, Record
from resources.cofaserve import models as m
from resources.cofaserve.records import parse_record
from tests.unit.test_client_fakes import FakeApi, make_client
from tests.unit.test_streams import at

MONEY = {"value": 150000, "currency": "EUR"}
COMPANY = {
    "easyNumber": "12345678", "companyName": "ACME SA",
    "address": {"streetAddress": "1 rue X", "postalCode": "75001", "city": "Paris", "countryCode": "FRA"},
    "countryCode": "FRA", "legalIdentifiers": [{"type": "SIREN_FRA", "value": "123456789"}],
    "isHeadOffice": True, "headOfficeEasyNumber": None, "customerReference": None,
}
PRODUCT = {
    "productCode": "CREDITLIMIT", "orderId": "O-1", "orderDate": "2026-03-01T08:00:00Z",
    "orderStatus": "STATUS_CLOSED", "orderStatusDate": "2026-03-02T09:30:00Z", "deliveryId": "D-1", "externalId": "E-1", "status": "DECIDED_FULL",
    "decisionDate": "2026-03-02T09:30:00Z", "effectiveDate": "2026-03-02", "expiryDate": None,
    "amount": MONEY, "temporaryEasyNumber": None,
}
SAMPLES = {
    m.PortfolioCompany: {**COMPANY, "products": [PRODUCT]},
    m.Delivery: {
        "deliveryId": "D-1", "externalId": "E-1", "orderId": "O-1", "easyNumber": "12345678",
        "temporaryEasyNumber": "Z0001", "productCode": "CREDITLIMIT", "status": "DECIDED_PARTIAL",
        "decisionDate": "2026-03-02T09:30:00Z", "effectiveDate": "2026-03-02", "expiryDate": "2027-03-02",
        "amount": {"value": 100000.5, "currency": "EUR"}, "requestedAmount": MONEY,
        "conditions": [{"code": "C1", "label": "Payment terms 60 days"}],
    },
    m.Order: {
        "orderId": "O-1", "easyNumber": "12345678", "temporaryEasyNumber": None, "productCode": "ECL",
        "orderDate": "2026-03-01T08:00:00Z", "status": "STATUS_REJECTED", "statusDate": "2026-03-03T00:00:00Z",
        "requestedAmount": MONEY, "deliveryId": None, "rejectionReasons": [{"code": "R1", "label": "Unknown buyer"}],
    },
    m.Notification: {
        "notificationId": "N-1", "externalId": "E-1", "eventDate": "2026-03-02T09:30:00Z", "eventType": "DECISION",
        "easyNumber": "12345678", "productCode": "CREDITLIMIT", "orderId": "O-1", "status": "DECIDED_FULL",
        "policyNumber": "POL-77001",
    },
    m.OverdueSummary: {
        "overdueId": "OV-1", "easyNumber": "12345678", "customerReference": "REF", "creationDate": "2026-01-01T00:00:00Z",
        "lastUpdateDate": "2026-02-01T10:00:00Z", "status": "PENDING", "debtType": "CI", "interventionRequested": False,
    },
    m.OverdueDetail: {
        "overdueId": "OV-1", "easyNumber": "12345678", "customerReference": None, "creationDate": "2026-01-01T00:00:00Z",
        "lastUpdateDate": "2026-02-01T10:00:00Z", "status": "INDEMNIFIED", "debtType": "NGD",
        "interventionRequested": True, "nonPaymentReason": "insolvency", "totalAmount": MONEY,
        "outstandingAmount": {"value": 0, "currency": "EUR"},
        "invoices": [{"invoiceReference": "INV-1", "issueDate": "2025-11-01", "dueDate": "2025-12-01", "amount": MONEY}],
        "payments": [{"paymentDate": "2026-01-15", "amount": {"value": 10.25, "currency": "EUR"}, "kind": "PAYMENT"}],
        "indemnification": {"amount": MONEY, "date": "2026-02-01"},
    },
    m.OverdueDocument: {"fileName": "invoice.pdf", "mediaType": "application/pdf", "uploadDate": "2026-01-02T03:04:05Z"},
    m.Country: {"countryCode": "FRA", "name": "France"},
    m.CountryIdentifier: {"countryCode": "ECU", "type": "RUC_ECU", "label": "RUC"},
    m.CustomerReference: {"easyNumber": "12345678", "customerReference": "ACME-1", "updatedAt": "2026-01-01T00:00:00Z"},
    m.Policy: {"policyNumber": "POL-77001", "customerName": "Buyer Co", "currency": "EUR", "startDate": "2020-01-01", "endDate": None},
    m.Catalog: {"easyNumber": "12345678", "products": [
        {"productCode": "CREDITLIMIT", "actionCodes": ["CREA", "UPDT"], "lastOrderId": "O-1", "lastDeliveryId": "D-1"}]},
    m.CatalogOverdue: {"easyNumber": "12345678", "debtTypes": [{"debtType": "CI", "actionCodes": ["CREA"], "overdueId": None}]},
}


@pytest.mark.parametrize("model", list(SAMPLES), ids=lambda c: c.__name__)
def test_every_entity_parses_its_contract_sample(model):
    record = parse_record(model, SAMPLES[model], "GET /x")
    assert record.ok, record.error
    assert isinstance(record.model, model)
    assert record.unknown_fields == ()
    assert json.loads(record.raw_json) == SAMPLES[model]


def test_parsed_values_are_typed():
    portfolio = parse_record(m.PortfolioCompany, SAMPLES[m.PortfolioCompany], "GET /x").model
    product = portfolio.products[0]
    assert product.decision_date == datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    assert product.effective_date == date(2026, 3, 2)
    assert product.amount == m.Money(value=150000.0, currency="EUR")
    assert portfolio.address.country_code == "FRA"
    detail = parse_record(m.OverdueDetail, SAMPLES[m.OverdueDetail], "GET /x").model
    assert detail.indemnification.date == date(2026, 2, 1)


def test_raw_json_is_canonical():
    record = parse_record(m.Country, {"name": "France", "countryCode": "FRA"}, "GET /x")
    assert record.raw_json == '{"countryCode":"FRA","name":"France"}'


def test_unknown_fields_are_kept_and_listed():
    item = {**SAMPLES[m.Notification], "newField": 1, "anotherOne": {"x": 1}}
    record = parse_record(m.Notification, item, "GET /x")
    assert record.ok
    assert record.unknown_fields == ("anotherOne", "newField")
    assert json.loads(record.raw_json)["newField"] == 1


def breach(model, path, value):
    return at(SAMPLES[model], path, value)


@pytest.mark.parametrize(
    ("model", "path", "value", "reason"),
    [
        (m.Delivery, ["amount", "value"], "150000", "amount.value"),  # number as string
        (m.Delivery, ["amount", "value"], 1.005, "2 decimals"),
        (m.Delivery, ["amount", "currency"], "euro", "amount.currency"),
        (m.Delivery, ["status"], "DECIDED_MAYBE", "status"),
        (m.Delivery, ["productCode"], "NOPE", "productCode"),
        (m.Delivery, ["decisionDate"], "2026-03-02T09:30:00", "decisionDate"),  # no zone
        (m.Delivery, ["decisionDate"], "2026-03-02T09:30:00+02:00", "UTC"),
        (m.Delivery, ["effectiveDate"], "2026-02-30", "effectiveDate"),
        (m.Delivery, ["deliveryId"], KeyError, "deliveryId"),
        (m.Delivery, ["deliveryId"], None, "deliveryId"),
        (m.Delivery, ["easyNumber"], 12345678, "easyNumber"),  # number instead of digit string
        (m.Delivery, ["easyNumber"], "ABC", "easyNumber"),
        (m.PortfolioCompany, ["products", 0, "orderDate"], "yesterday", "products.0.orderDate"),
        (m.PortfolioCompany, ["isHeadOffice"], "true", "isHeadOffice"),
        (m.PortfolioCompany, ["countryCode"], "FR", "countryCode"),
        (m.Notification, ["externalId"], "", "externalId"),
        (m.OverdueSummary, ["debtType"], "XX", "debtType"),
    ],
)
def test_a_broken_item_becomes_a_record_with_its_reason(model, path, value, reason):
    item = breach(model, path, value)
    record = parse_record(model, item, "GET /x")
    assert record.model is None and not record.ok
    assert reason in record.error
    assert record.raw == item and json.loads(record.raw_json) == item
    assert record.request == "GET /x"


def test_a_non_object_item_becomes_a_record_with_its_reason():
    record = parse_record(m.Country, ["FRA"], "GET /x")
    assert record.error == "expected a JSON object, got list" and record.raw == ["FRA"]


def test_a_listing_with_bad_items_yields_every_item_and_counts_them(tmp_path):
    api = FakeApi()
    good = SAMPLES[m.Notification]
    items = [good, {**good, "notificationId": "N-2", "eventDate": "not a date"}, {**good, "notificationId": "N-3", "extra": 1}]
    api.list_route("/tci/notification/v1/notifications", "notifications", items)
    with make_client(tmp_path, api) as client:
        records = list(client.iter_notifications(DateWindow.for_day(date(2026, 3, 2))))
        snapshot = client.telemetry.snapshot()
    assert [r.raw["notificationId"] for r in records] == ["N-1", "N-2", "N-3"]
    assert [r.ok for r in records] == [True, False, True]
    assert "eventDate" in records[1].error
    assert records[2].unknown_fields == ("extra",)
    assert (snapshot["records"], snapshot["records_invalid"], snapshot["unknown_fields"]) == (3, 1, 1)
    assert records[0].request.startswith("GET /tci/notification/v1/notifications?")
    assert "dateFrom=2026-03-02" in records[0].request and "page=1" in records[0].request


def test_a_broken_single_entity_is_a_record_not_an_exception(tmp_path):
    api = FakeApi()
    api.json_route("/tci/product/v1/companies/12345678/products/deliveries/D-1", {**SAMPLES[m.Delivery], "status": 3})
    with make_client(tmp_path, api) as client:
        record = client.get_delivery("12345678", "D-1")
    assert isinstance(record, Record) and record.error and "status" in record.error


def test_record_repr_is_short_and_names_the_problem():
    record = parse_record(m.Country, {"countryCode": "FR", "name": "France"}, "GET /countries")
    assert repr(record).startswith("Record(invalid, 'GET /countries', error=")


def test_overdue_documents_are_one_list_checked_against_its_count(tmp_path):
    from resources.cofaserve import PagingError

    path = "/tci/overdue/v1/companies/12345678/overdues/OV-1/documents"
    doc = SAMPLES[m.OverdueDocument]
    api = FakeApi()
    api.json_route(path, {"documents": [doc, {**doc, "fileName": "b.pdf", "uploadDate": "bad"}], "count": 2})
    with make_client(tmp_path, api) as client:
        records = client.get_overdue_documents("12345678", "OV-1")
        assert [r.ok for r in records] == [True, False]
        assert "page" not in api.business_requests()[0].url.params
        api.json_route(path, {"documents": [doc], "count": 3})
        with pytest.raises(PagingError, match="count 3 but 1 documents"):
            client.get_overdue_documents("12345678", "OV-1")

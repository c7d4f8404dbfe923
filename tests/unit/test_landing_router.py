"""The landing router (resources/landing/router.py): records routed to per-day partitions, quarantine, order and atomicity.

Records are the client's own (``parse_record``, the one validation), as an extraction receives them."""

from datetime import date

import pytest

from resources.cofaserve import models
from resources.cofaserve.records import parse_record
from resources.landing import LandingStore, RowView, land_dated_records, land_records

D1, D2, D3 = date(2026, 3, 28), date(2026, 3, 29), date(2026, 3, 30)


def notification(n: int, moment: str, **extra):
    raw = {"notificationId": f"N{n}", "externalId": f"X{n}", "eventDate": moment, "eventType": "DECISION",
           "easyNumber": "12345678", "productCode": "ECL", "orderId": f"O{n}", "status": "DECIDED_FULL",
           "policyNumber": "5012345", **extra}
    return parse_record(models.Notification, raw, "GET /notifications")


def by_event_day(row):
    return row["event_at"].date()


def test_records_land_on_their_gmt_day_including_the_edges(tmp_path):
    store = LandingStore(str(tmp_path))
    records = [notification(1, "2026-03-28T00:00:00Z"), notification(2, "2026-03-28T23:59:59Z"),
               notification(3, "2026-03-29T00:00:00Z")]
    summary = land_records(store, "notifications", [D1, D2, D3], "run1", None, records, by_event_day)
    assert summary.rows_by_day == {D1: 2, D2: 1, D3: 0}
    assert sorted(store.read_table("notifications", D1)["notification_id"].to_pylist()) == ["N1", "N2"]
    assert store.read_table("notifications", D2)["notification_id"].to_pylist() == ["N3"]
    # an empty day still gets a manifest: "landed, nothing happened" is not "never landed"
    assert store.manifest("notifications", D3)["rows"] == 0


def test_a_broken_record_is_quarantined_with_its_reason_and_the_rest_lands(tmp_path):
    store = LandingStore(str(tmp_path))
    bad = notification(9, "not-a-date")
    summary = land_records(store, "notifications", [D1], "run1", None,
                           [notification(1, "2026-03-28T10:00:00Z"), bad], by_event_day)
    assert summary.rows == 1 and summary.quarantined == 1
    quarantined = store.read_quarantine("notifications", D1)
    assert quarantined["raw_json"].to_pylist() == [bad.raw_json]
    assert "eventDate" in quarantined["reason"][0].as_py()


def test_rerunning_a_day_replaces_it(tmp_path):
    store = LandingStore(str(tmp_path))
    land_records(store, "notifications", [D1], "run1", None, [notification(1, "2026-03-28T10:00:00Z")],
                 by_event_day)
    land_records(store, "notifications", [D1], "run2", None,
                 [notification(1, "2026-03-28T10:00:00Z"), notification(2, "2026-03-28T11:00:00Z")], by_event_day)
    table = store.read_table("notifications", D1)
    assert sorted(table["notification_id"].to_pylist()) == ["N1", "N2"]
    assert set(table["_run_id"].to_pylist()) == {"run2"}


def test_a_failure_leaves_uncommitted_days_as_they_were(tmp_path):
    store = LandingStore(str(tmp_path))
    land_records(store, "notifications", [D2], "run1", None, [notification(1, "2026-03-29T10:00:00Z")],
                 by_event_day)

    def failing():
        yield notification(2, "2026-03-29T11:00:00Z")
        raise ConnectionError("cut")

    with pytest.raises(ConnectionError):
        land_records(store, "notifications", [D2], "run2", None, failing(), by_event_day)
    assert store.read_table("notifications", D2)["notification_id"].to_pylist() == ["N1"]


def test_records_out_of_day_order_still_land_on_their_days(tmp_path):
    store = LandingStore(str(tmp_path))
    records = [notification(1, "2026-03-29T10:00:00Z"), notification(2, "2026-03-30T10:00:00Z"),
               notification(3, "2026-03-29T11:00:00Z"), notification(4, "2026-03-28T00:00:00Z")]
    summary = land_records(store, "notifications", [D1, D2, D3], "run1", None, records, by_event_day)
    assert summary.rows_by_day == {D1: 1, D2: 2, D3: 1} and summary.records == 4
    assert sorted(store.read_table("notifications", D2)["notification_id"].to_pylist()) == ["N1", "N3"]


def test_a_company_with_products_decided_on_two_days_lands_one_row_on_each(tmp_path):
    store = LandingStore(str(tmp_path))
    company = {"easyNumber": "12345678", "companyName": "ACME", "countryCode": "FRA",
               "address": {"streetAddress": "1 rue", "postalCode": "75001", "city": "Paris", "countryCode": "FRA"},
               "legalIdentifiers": [], "isHeadOffice": True, "headOfficeEasyNumber": None, "customerReference": None,
               "products": [
                   {"productCode": "ECL", "orderId": "O1", "orderDate": "2026-03-01T09:00:00Z",
                    "orderStatus": "STATUS_CLOSED", "deliveryId": "D1", "externalId": "X1", "status": "DECIDED_FULL",
                    "decisionDate": "2026-03-30T08:00:00Z", "effectiveDate": "2026-03-30", "expiryDate": None,
                    "amount": {"value": 1000, "currency": "EUR"}, "temporaryEasyNumber": None},
                   {"productCode": "CCO", "orderId": "O2", "orderDate": "2026-03-01T09:00:00Z",
                    "orderStatus": "STATUS_CLOSED", "deliveryId": "D2", "externalId": "X2", "status": "DELIVERED",
                    "decisionDate": "2026-03-28T23:59:59Z", "effectiveDate": "2026-03-28", "expiryDate": None,
                    "amount": None, "temporaryEasyNumber": None}]}
    record = parse_record(models.PortfolioCompany, company, "GET /companies/products")
    summary = land_records(store, "portfolio", [D1, D2, D3], "run1", None, [record],
                           lambda row: row["decision_at"].date())
    assert summary.rows_by_day == {D1: 1, D2: 0, D3: 1} and summary.records == 1
    assert store.read_table("portfolio", D1)["product_code"].to_pylist() == ["CCO"]
    assert store.read_table("portfolio", D3)["product_code"].to_pylist() == ["ECL"]


def test_by_id_records_out_of_day_order_land_on_their_days(tmp_path):
    store = LandingStore(str(tmp_path))
    pairs = [(D2, notification(1, "2026-03-29T10:00:00Z"), None), (D3, notification(2, "2026-03-30T10:00:00Z"), None),
             (D2, notification(3, "2026-03-29T11:00:00Z"), None)]
    summary = land_dated_records(store, "notifications", [D2, D3], "run1", pairs)
    assert summary.rows_by_day == {D2: 2, D3: 1}
    assert store.read_table("notifications", D2)["notification_id"].to_pylist() == ["N1", "N3"]
    assert store.read_table("notifications", D3)["notification_id"].to_pylist() == ["N2"]


def test_a_failed_range_run_publishes_no_day(tmp_path):
    store = LandingStore(str(tmp_path))
    land_records(store, "notifications", [D1], "run1", None, [notification(1, "2026-03-28T10:00:00Z")], by_event_day)

    def failing():
        yield notification(2, "2026-03-28T11:00:00Z")
        yield notification(3, "2026-03-30T11:00:00Z")
        raise ConnectionError("cut")

    with pytest.raises(ConnectionError):
        land_records(store, "notifications", [D1, D2, D3], "run2", None, failing(), by_event_day)
    assert store.read_table("notifications", D1)["notification_id"].to_pylist() == ["N1"]
    assert store.manifest("notifications", D3) is None
    assert [p for p in store.fs.find(store.path) if "run2" in p] == []  # nothing of the failed run is left


def test_dated_records_go_to_the_day_given(tmp_path):
    store = LandingStore(str(tmp_path))
    pairs = [(D1, notification(1, "2026-03-29T10:00:00Z"), None), (D2, notification(2, "2026-03-29T10:00:00Z"), None)]
    summary = land_dated_records(store, "notifications", [D1, D2], "run1", pairs)
    assert summary.rows_by_day == {D1: 1, D2: 1}


def test_unknown_fields_are_kept_and_reported(tmp_path):
    store = LandingStore(str(tmp_path))
    record = notification(1, "2026-03-28T10:00:00Z", riskGrade="B")
    summary = land_records(store, "notifications", [D1], "run1", None, [record], by_event_day)
    assert summary.unknown_field_records == 1 and summary.unknown_fields == {"riskGrade"}
    assert '"riskGrade":"B"' in store.read_table("notifications", D1)["_raw_json"][0].as_py()


def test_a_key_landed_twice_in_a_partition_is_counted_as_a_duplicate(tmp_path):
    store = LandingStore(str(tmp_path))
    twice = [notification(1, "2026-03-28T10:00:00Z"), notification(1, "2026-03-28T10:00:00Z"),
             notification(2, "2026-03-29T10:00:00Z")]
    summary = land_records(store, "notifications", [D1, D2], "run1", None, twice, by_event_day)
    assert summary.duplicate_keys == 1 and summary.rows == 3


def test_a_row_view_reads_the_row_it_points_at_by_column_name():
    view = RowView(("easy_number", "decision_at"))
    view.row = ("123", date(2026, 1, 2))
    assert view["decision_at"] == date(2026, 1, 2) and view.get("easy_number") == "123"
    assert view.get("no_such_column") is None and view.get("no_such_column", 7) == 7
    view.row = ("456", None)
    assert view["easy_number"] == "456" and view.get("decision_at", 7) is None
    with pytest.raises(KeyError):
        view["no_such_column"]
    assert dict(view) == {"easy_number": "456", "decision_at": None} and len(view) == 2

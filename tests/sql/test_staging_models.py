"""Staging models: landed rows become typed, renamed rows, one per key per partition (both engines)."""

from decimal import Decimal

from tests.support.landing_builder import ts


def test_staging_dedupes_within_a_partition_and_keeps_other_partitions(harness):
    row = {"delivery_id": "D1", "external_id": "E1", "order_id": "O1", "easy_number": "100",
           "product_code": "CREDITLIMIT", "status": "DECIDED_FULL", "decision_at": ts("2025-01-01 10:00"),
           "amount_value": Decimal("1500.25"), "amount_currency": "EUR"}
    harness.land("deliveries", [
        {**row, "_partition_key": "2025-01-01", "_extracted_at": ts("2025-01-02 02:00"), "amount_value": Decimal("1.00")},
        {**row, "_partition_key": "2025-01-01", "_extracted_at": ts("2025-01-02 02:05")},
        {**row, "_partition_key": "2025-01-03", "_extracted_at": ts("2025-01-04 02:00")},
        {**row, "delivery_id": None},  # no key: not a delivery
    ])
    rows = harness.rows("stg_deliveries", "source_partition",
                        ["source_partition", "extracted_at", "delivery_id", "amount_value", "decision_at"])
    assert rows == [
        {"source_partition": "2025-01-01", "extracted_at": ts("2025-01-02 02:05"), "delivery_id": "D1",
         "amount_value": Decimal("1500.25"), "decision_at": ts("2025-01-01 10:00")},
        {"source_partition": "2025-01-03", "extracted_at": ts("2025-01-04 02:00"), "delivery_id": "D1",
         "amount_value": Decimal("1500.25"), "decision_at": ts("2025-01-01 10:00")},
    ]


def test_reference_columns_are_renamed(harness):
    harness.land("country_identifiers", [{"country_code": "FRA", "type": "SIREN_FRA", "label": "SIREN",
                                          "_partition_key": "current"}])
    assert harness.rows("stg_country_identifiers", "country_code",
                        ["source_partition", "country_code", "identifier_type", "identifier_label"]) == [
        {"source_partition": "current", "country_code": "FRA", "identifier_type": "SIREN_FRA",
         "identifier_label": "SIREN"}]


def test_a_snapshot_s_quarantine_keeps_each_named_company_once_and_the_unreadable_records(harness):
    def record(easy_number, partition, reason):
        return {"easy_number": easy_number, "reason": reason, "_partition_key": partition}

    harness.land("portfolio_snapshot_quarantine", [
        record("100", "2025-01-01", "first copy"),
        record("100", "2025-01-01", "products[0].orderDate: expected a timestamp"),
        record(None, "2025-01-01", "not JSON"),
        record(None, "2025-01-01", "easyNumber: required field is missing or null"),
        record("100", "2025-01-08", "products[0].amount.value: expected a number"),
    ])
    assert harness.rows("stg_portfolio_snapshot_quarantine", "source_partition, easy_number",
                        ["source_partition", "easy_number", "reason"]) == [
        {"source_partition": "2025-01-01", "easy_number": "100",
         "reason": "products[0].orderDate: expected a timestamp"},
        {"source_partition": "2025-01-01", "easy_number": None,
         "reason": "easyNumber: required field is missing or null"},
        {"source_partition": "2025-01-08", "easy_number": "100",
         "reason": "products[0].amount.value: expected a number"},
    ]

"""History models: given small staging tables, the SCD2 rows they must produce (DuckDB and Postgres)."""

from decimal import Decimal

from tests.support.landing_builder import ts

VERSION_COLUMNS = ["easy_number", "product_code", "version_no", "valid_from", "valid_to", "is_current",
                   "change_kind", "delivery_id"]


def delivery(delivery_id, easy_number, decision_at, status="DECIDED_FULL", amount=None, **extra):
    row = {"delivery_id": delivery_id, "external_id": f"E{delivery_id}", "order_id": f"O{delivery_id}",
           "easy_number": easy_number, "product_code": "CREDITLIMIT", "status": status,
           "decision_at": ts(decision_at), "amount_value": amount, "amount_currency": "EUR" if amount else None}
    return {**row, **extra}


def listing(easy_number, partition, extracted_at, delivery_id=None, decision_at=None, status=None, **extra):
    row = {"source_partition": partition, "extracted_at": ts(extracted_at), "easy_number": easy_number,
           "product_code": "CREDITLIMIT", "order_id": f"O{delivery_id or easy_number}", "delivery_id": delivery_id,
           "status": status, "decision_at": ts(decision_at) if decision_at else None}
    return {**row, **extra}


def test_decision_versions_chain_by_decision_date(harness):
    harness.stage("stg_deliveries", [
        delivery("D1", "100", "2025-01-02 10:00", amount=1000, extracted_at=ts("2025-01-03 02:00")),
        delivery("D2", "100", "2025-02-01 09:00", "REDUCED", 500, extracted_at=ts("2025-02-02 02:00")),
        delivery("D3", "100", "2025-03-01 08:00", "WITHDRAWN", extracted_at=ts("2025-03-02 02:00")),
    ])
    harness.refresh_history()
    rows = harness.rows("decision_history", "version_no", VERSION_COLUMNS + ["amount_value", "recorded_at"])
    assert rows == [
        {"easy_number": "100", "product_code": "CREDITLIMIT", "version_no": 1, "valid_from": ts("2025-01-02 10:00"),
         "valid_to": ts("2025-02-01 09:00"), "is_current": False, "change_kind": "observed", "delivery_id": "D1",
         "amount_value": Decimal("1000"), "recorded_at": ts("2025-01-03 02:00")},
        {"easy_number": "100", "product_code": "CREDITLIMIT", "version_no": 2, "valid_from": ts("2025-02-01 09:00"),
         "valid_to": ts("2025-03-01 08:00"), "is_current": False, "change_kind": "observed", "delivery_id": "D2",
         "amount_value": Decimal("500"), "recorded_at": ts("2025-02-02 02:00")},
        {"easy_number": "100", "product_code": "CREDITLIMIT", "version_no": 3, "valid_from": ts("2025-03-01 08:00"),
         "valid_to": None, "is_current": True, "change_kind": "withdrawn", "delivery_id": "D3",
         "amount_value": None, "recorded_at": ts("2025-03-02 02:00")},
    ]


def test_a_decision_seen_in_several_streams_is_one_version_recorded_when_first_seen(harness):
    harness.stage("stg_deliveries", [
        delivery("D1", "100", "2025-01-02 10:00", amount=1000, extracted_at=ts("2025-01-04 02:00"),
                 conditions='[{"code":"C1"}]'),
    ])
    harness.stage("stg_portfolio", [
        listing("100", "2025-01-02", "2025-01-03 02:00", "D1", "2025-01-02 10:00", "DECIDED_FULL",
                amount_value=1000, amount_currency="EUR"),
        listing("100", "2025-01-05", "2025-01-06 02:00", "D9", "2025-01-05 10:00", "DECIDED_FULL",
                product_code="ECL", amount_value=50, amount_currency="EUR"),
    ])
    harness.refresh_history()
    rows = harness.rows("decision_history", "product_code, version_no",
                        ["product_code", "delivery_id", "recorded_at", "source_stream", "conditions"])
    assert rows == [
        {"product_code": "CREDITLIMIT", "delivery_id": "D1", "recorded_at": ts("2025-01-03 02:00"),
         "source_stream": "deliveries", "conditions": '[{"code":"C1"}]'},
        {"product_code": "ECL", "delivery_id": "D9", "recorded_at": ts("2025-01-06 02:00"),
         "source_stream": "portfolio", "conditions": None},
    ]


def test_temporary_number_is_resolved_and_kept_in_a_column(harness):
    harness.stage("stg_orders", [{"order_id": "O7", "easy_number": "Z7", "product_code": "CREDITLIMIT",
                                  "order_at": ts("2025-01-01 09:00"), "status": "STATUS_PENDING_DEBTOR_VALIDATION",
                                  "status_at": ts("2025-01-01 09:00"), "extracted_at": ts("2025-01-02 02:00")}])
    harness.stage("stg_portfolio", [listing("Z7", "2025-01-01", "2025-01-02 02:00", order_id="O7",
                                            company_name="Requested Name", order_status="STATUS_PENDING")])
    harness.stage("stg_deliveries", [delivery("D7", "700", "2025-01-10 10:00", amount=70, order_id="O7",
                                              temporary_easy_number="Z7", extracted_at=ts("2025-01-11 02:00"))])
    harness.refresh_history()
    assert harness.rows("easy_number_map", "temporary_easy_number") == [
        {"temporary_easy_number": "Z7", "policy_number": "POLICY-1", "easy_number": "700", "order_id": "O7",
         "delivery_id": "D7", "resolved_through": "temporary_field", "resolved_at": ts("2025-01-11 02:00"),
         "candidate_count": 1}]
    assert harness.rows("decision_history", "version_no", ["easy_number", "temporary_easy_number", "delivery_id"]) == [
        {"easy_number": "700", "temporary_easy_number": "Z7", "delivery_id": "D7"}]
    assert harness.rows("order_history", "version_no", ["order_id", "easy_number", "temporary_easy_number"]) == [
        {"order_id": "O7", "easy_number": "700", "temporary_easy_number": "Z7"}]
    assert harness.rows("company_history", "version_no", ["easy_number", "company_name"]) == [
        {"easy_number": "700", "company_name": "Requested Name"}]


def test_easy_number_map_links_through_order_id_and_delivery_id(harness):
    harness.stage("stg_orders", [
        {"order_id": "O2", "easy_number": "Z2", "extracted_at": ts("2025-01-02 02:00")},
        {"order_id": "O5", "easy_number": "Z5", "extracted_at": ts("2025-01-02 02:00")},
    ])
    harness.stage("stg_portfolio", [
        listing("200", "2025-01-03", "2025-01-04 02:00", order_id="O2"),
        listing("Z3", "2025-01-03", "2025-01-04 02:00", "D3", order_id="OZ3"),
        listing("Z4", "2025-01-03", "2025-01-04 02:00", order_id="O4a", temporary_easy_number=None),
    ])
    harness.stage("stg_deliveries", [
        delivery("D3", "300", "2025-01-05 10:00", extracted_at=ts("2025-01-06 02:00")),
        delivery("D4a", "400", "2025-01-05 10:00", temporary_easy_number="Z4", extracted_at=ts("2025-01-06 02:00")),
        delivery("D4b", "401", "2025-01-07 10:00", temporary_easy_number="Z4", extracted_at=ts("2025-01-08 02:00")),
    ])
    harness.refresh_history()
    columns = ["temporary_easy_number", "easy_number", "resolved_through", "resolved_at", "candidate_count"]
    assert harness.rows("easy_number_map", "temporary_easy_number", columns) == [
        {"temporary_easy_number": "Z2", "easy_number": "200", "resolved_through": "order_id",
         "resolved_at": ts("2025-01-04 02:00"), "candidate_count": 1},
        {"temporary_easy_number": "Z3", "easy_number": "300", "resolved_through": "delivery_id",
         "resolved_at": ts("2025-01-06 02:00"), "candidate_count": 1},
        {"temporary_easy_number": "Z4", "easy_number": "400", "resolved_through": "temporary_field",
         "resolved_at": ts("2025-01-06 02:00"), "candidate_count": 2},
    ]  # Z5 has no definitive evidence: not mapped


def _snapshot(partition, taken_at, *listed):
    return [listing(easy_number, partition, taken_at, delivery_id, decision_at, status)
            for easy_number, delivery_id, decision_at, status in listed]


def test_only_a_reconciliation_snapshot_closes_a_record_deleted_or_aged_out(harness):
    harness.stage("stg_deliveries", [
        delivery("D20", "200", "2025-01-10 10:00"),                 # listed, then absent: deleted
        delivery("D30", "300", "2022-12-15 10:00", "WITHDRAWN"),    # inactive, over 2 years: aged out
        delivery("D31", "301", "2024-06-01 10:00", "WITHDRAWN"),    # inactive, within 2 years: deleted
        delivery("D32", "302", "2022-01-01 10:00"),                 # active, however old: deleted
        delivery("D40", "400", "2025-01-05 10:00"),                 # absent, then listed again: open
        delivery("D50", "500", "2025-01-05 10:00"),                 # deleted, then decided again
        delivery("D51", "500", "2025-02-15 10:00", "DECIDED_PARTIAL"),
        delivery("D60", "600", "2025-03-05 10:00"),                 # after the last snapshot: open
    ])
    s1 = ("D20", "2025-01-10 10:00", "DECIDED_FULL")
    harness.stage("stg_portfolio_snapshot",
                  _snapshot("2025-02-01", "2025-02-01 03:00", ("200", *s1), ("900", None, None, None))
                  + _snapshot("2025-03-01", "2025-03-01 03:00", ("400", "D40", "2025-01-05 10:00", "DECIDED_FULL"),
                              ("500", "D51", "2025-02-15 10:00", "DECIDED_PARTIAL"), ("900", None, None, None)))
    harness.stage("stg_portfolio", [  # an incremental extract that no longer lists 600 never retires it
        listing("600", "2025-03-05", "2025-03-06 02:00", "D60", "2025-03-05 10:00", "DECIDED_FULL"),
        listing("900", "2025-03-07", "2025-03-08 02:00"),
    ])
    harness.refresh_history()
    rows = harness.rows("decision_history", "easy_number, version_no", VERSION_COLUMNS)
    # a snapshot closes from its day's 00:00Z (what its listing shows), not from its extraction at 03:00
    feb, mar = ts("2025-02-01 00:00"), ts("2025-03-01 00:00")

    def row(easy, no, start, end, kind, delivery_id):
        return {"easy_number": easy, "product_code": "CREDITLIMIT", "version_no": no, "valid_from": start,
                "valid_to": end, "is_current": end is None, "change_kind": kind, "delivery_id": delivery_id}

    assert rows == [
        row("200", 1, ts("2025-01-10 10:00"), mar, "observed", "D20"),
        row("200", 2, mar, None, "deleted", None),
        row("300", 1, ts("2022-12-15 10:00"), feb, "withdrawn", "D30"),
        row("300", 2, feb, None, "aged_out", None),
        row("301", 1, ts("2024-06-01 10:00"), feb, "withdrawn", "D31"),
        row("301", 2, feb, None, "deleted", None),
        row("302", 1, ts("2022-01-01 10:00"), feb, "observed", "D32"),
        row("302", 2, feb, None, "deleted", None),
        row("400", 1, ts("2025-01-05 10:00"), None, "observed", "D40"),
        row("500", 1, ts("2025-01-05 10:00"), feb, "observed", "D50"),
        row("500", 2, feb, ts("2025-02-15 10:00"), "deleted", None),
        row("500", 3, ts("2025-02-15 10:00"), None, "observed", "D51"),
        row("600", 1, ts("2025-03-05 10:00"), None, "observed", "D60"),
    ]


def _quarantined(partition, taken_at, *easy_numbers):
    return [{"source_partition": partition, "extracted_at": ts(taken_at), "easy_number": easy_number,
             "reason": "products[0].orderDate: expected a timestamp" if easy_number else "easyNumber: missing"}
            for easy_number in easy_numbers]


def _versions(harness):
    return harness.rows("decision_history", "easy_number, product_code, version_no",
                        ["easy_number", "product_code", "valid_from", "change_kind"])


def test_a_company_whose_snapshot_record_is_quarantined_is_still_listed(harness):
    harness.stage("stg_deliveries", [
        delivery("D10", "100", "2025-01-10 10:00"),  # record quarantined in March: listed, stays open
        delivery("D11", "100", "2025-01-12 10:00", product_code="ECL"),
        delivery("D20", "200", "2025-01-10 10:00"),  # simply absent in March: deleted
        delivery("D70", "700", "2025-01-10 10:00"),  # listed as Z7 in February, quarantined as Z7 in March
    ])
    harness.stage("stg_orders", [{"order_id": "O7", "easy_number": "700", "temporary_easy_number": "Z7"}])
    harness.stage("stg_portfolio_snapshot",
                  _snapshot("2025-02-01", "2025-02-01 03:00", ("100", "D10", "2025-01-10 10:00", "DECIDED_FULL"),
                            ("200", "D20", "2025-01-10 10:00", "DECIDED_FULL"), ("Z7", None, None, None))
                  + [listing("100", "2025-02-01", "2025-02-01 03:00", "D11", "2025-01-12 10:00", "DECIDED_FULL",
                             product_code="ECL")]
                  + _snapshot("2025-03-01", "2025-03-01 03:00", ("900", None, None, None)))
    harness.stage("stg_portfolio_snapshot_quarantine", _quarantined("2025-03-01", "2025-03-01 03:00", "100", "Z7"))
    harness.refresh_history()
    assert _versions(harness) == [
        {"easy_number": "100", "product_code": "CREDITLIMIT", "valid_from": ts("2025-01-10 10:00"),
         "change_kind": "observed"},
        {"easy_number": "100", "product_code": "ECL", "valid_from": ts("2025-01-12 10:00"), "change_kind": "observed"},
        {"easy_number": "200", "product_code": "CREDITLIMIT", "valid_from": ts("2025-01-10 10:00"),
         "change_kind": "observed"},
        {"easy_number": "200", "product_code": "CREDITLIMIT", "valid_from": ts("2025-03-01 00:00"),
         "change_kind": "deleted"},
        {"easy_number": "700", "product_code": "CREDITLIMIT", "valid_from": ts("2025-01-10 10:00"),
         "change_kind": "observed"},
    ]


def test_a_snapshot_with_an_unreadable_quarantined_record_closes_nothing(harness):
    harness.stage("stg_deliveries", [
        delivery("D30", "300", "2025-01-10 10:00"),                 # absent from March and April
        delivery("D31", "301", "2023-02-15 10:00", "WITHDRAWN"),    # two years old from 15 February
    ])
    listed_900 = ("900", None, None, None)
    harness.stage("stg_portfolio_snapshot",
                  _snapshot("2025-02-01", "2025-02-01 03:00", ("300", "D30", "2025-01-10 10:00", "DECIDED_FULL"),
                            ("301", "D31", "2023-02-15 10:00", "WITHDRAWN"), listed_900)
                  + _snapshot("2025-03-01", "2025-03-01 03:00", listed_900)
                  + _snapshot("2025-04-01", "2025-04-01 03:00", listed_900))
    # March's snapshot quarantined a record whose easyNumber cannot be read: it may have been 300's or 301's
    harness.stage("stg_portfolio_snapshot_quarantine", _quarantined("2025-03-01", "2025-03-01 03:00", None))
    harness.refresh_history()
    kept = [(r["easy_number"], r["valid_from"], r["change_kind"]) for r in _versions(harness)]
    assert kept == [
        ("300", ts("2025-01-10 10:00"), "observed"),
        ("300", ts("2025-04-01 00:00"), "deleted"),       # by April's snapshot, not March's
        ("301", ts("2023-02-15 10:00"), "withdrawn"),
        ("301", ts("2025-04-01 00:00"), "aged_out"),      # nor aged out by March's
    ]


def test_order_history_versions_distinct_states_from_orders_and_polls(harness):
    pending = {"order_id": "O1", "easy_number": "100", "product_code": "CREDITLIMIT",
               "order_at": ts("2025-01-01 09:00"), "status": "STATUS_PENDING_UNDERWRITING",
               "status_at": ts("2025-01-01 12:00"), "requested_amount_value": 1000, "requested_amount_currency": "EUR"}
    harness.stage("stg_orders", [
        {**pending, "source_partition": "2025-01-01", "extracted_at": ts("2025-01-02 02:00")},
        {**pending, "source_partition": "2025-01-02", "extracted_at": ts("2025-01-03 02:00")},
    ])
    harness.stage("stg_order_polls", [
        {**pending, "status": "STATUS_ANNULED", "status_at": ts("2025-01-05 08:00"),
         "source_partition": "2025-01-06", "extracted_at": ts("2025-01-06 06:00")},
    ])
    harness.refresh_history()
    columns = ["order_id", "version_no", "valid_from", "valid_to", "is_current", "change_kind", "recorded_at", "status"]
    assert harness.rows("order_history", "version_no", columns) == [
        {"order_id": "O1", "version_no": 1, "valid_from": ts("2025-01-01 12:00"), "valid_to": ts("2025-01-05 08:00"),
         "is_current": False, "change_kind": "observed", "recorded_at": ts("2025-01-02 02:00"),
         "status": "STATUS_PENDING_UNDERWRITING"},
        {"order_id": "O1", "version_no": 2, "valid_from": ts("2025-01-05 08:00"), "valid_to": None,
         "is_current": True, "change_kind": "annulled", "recorded_at": ts("2025-01-06 06:00"),
         "status": "STATUS_ANNULED"},
    ]


def test_overdue_history_versions_status_and_amounts(harness):
    case = {"overdue_id": "OV1", "easy_number": "100", "debt_type": "CI", "status": "PENDING",
            "created_at": ts("2025-01-01 08:00"), "updated_at": ts("2025-01-01 08:00"),
            "outstanding_amount_value": 100, "outstanding_amount_currency": "EUR", "invoices": '[{"a":1}]'}
    harness.stage("stg_overdues", [
        {**case, "source_partition": "2025-01-01", "extracted_at": ts("2025-01-02 02:00")},
        {**case, "source_partition": "2025-01-02", "extracted_at": ts("2025-01-03 02:00")},
        {**case, "status": "IN_PROGRESS", "updated_at": ts("2025-01-10 08:00"), "outstanding_amount_value": 60,
         "source_partition": "2025-01-10", "extracted_at": ts("2025-01-11 02:00")},
        {**case, "status": "CLOSED", "updated_at": ts("2025-01-20 08:00"), "outstanding_amount_value": 0,
         "source_partition": "2025-01-20", "extracted_at": ts("2025-01-21 02:00")},
    ])
    harness.refresh_history()
    columns = ["version_no", "valid_from", "valid_to", "change_kind", "status", "outstanding_amount_value", "recorded_at"]
    assert harness.rows("overdue_history", "version_no", columns) == [
        {"version_no": 1, "valid_from": ts("2025-01-01 08:00"), "valid_to": ts("2025-01-10 08:00"),
         "change_kind": "observed", "status": "PENDING", "outstanding_amount_value": Decimal("100"),
         "recorded_at": ts("2025-01-02 02:00")},
        {"version_no": 2, "valid_from": ts("2025-01-10 08:00"), "valid_to": ts("2025-01-20 08:00"),
         "change_kind": "observed", "status": "IN_PROGRESS", "outstanding_amount_value": Decimal("60"),
         "recorded_at": ts("2025-01-11 02:00")},
        {"version_no": 3, "valid_from": ts("2025-01-20 08:00"), "valid_to": None,
         "change_kind": "closed", "status": "CLOSED", "outstanding_amount_value": Decimal("0"),
         "recorded_at": ts("2025-01-21 02:00")},
    ]


def test_company_history_changes_only_when_a_business_column_changes(harness):
    ids = '[{"type":"SIREN_FRA","value":"1"}]'

    def seen(partition, at, name, product="CREDITLIMIT", **extra):
        return listing("100", partition, at, product_code=product, company_name=name, country_code="FRA",
                       legal_identifiers=ids, **extra)

    harness.stage("stg_portfolio", [
        seen("2025-01-01", "2025-01-02 02:00", "ACME"),
        seen("2025-01-02", "2025-01-03 02:00", "ACME"),
        seen("2025-01-03", "2025-01-04 02:00", "ACME SA"),
        seen("2025-01-03", "2025-01-04 02:00", "ACME SA", product="ECL"),
    ])
    harness.stage("stg_portfolio_snapshot", [seen("2025-01-05", "2025-01-05 03:00", "ACME SA", customer_reference="C-1")])
    harness.refresh_history()
    columns = ["easy_number", "version_no", "valid_from", "valid_to", "is_current", "company_name", "customer_reference"]
    assert harness.rows("company_history", "version_no", columns) == [
        {"easy_number": "100", "version_no": 1, "valid_from": ts("2025-01-02 02:00"), "valid_to": ts("2025-01-04 02:00"),
         "is_current": False, "company_name": "ACME", "customer_reference": None},
        {"easy_number": "100", "version_no": 2, "valid_from": ts("2025-01-04 02:00"), "valid_to": ts("2025-01-05 03:00"),
         "is_current": False, "company_name": "ACME SA", "customer_reference": None},
        {"easy_number": "100", "version_no": 3, "valid_from": ts("2025-01-05 03:00"), "valid_to": None,
         "is_current": True, "company_name": "ACME SA", "customer_reference": "C-1"},
    ]


def test_company_identifiers_unnest_each_version_with_a_normalised_value(harness):
    def seen(easy_number, partition, at, ids, **extra):
        return listing(easy_number, partition, at, company_name="ACME", country_code="FRA", legal_identifiers=ids,
                       **extra)

    two = '[{"type":"SIREN_FRA","value":"552 100-554"},{"type":"VAT","value":"fr12552100554"}]'
    harness.stage("stg_portfolio", [
        seen("100", "2025-01-01", "2025-01-02 02:00", two),
        seen("100", "2025-01-02", "2025-01-03 02:00", '[{"type":"SIREN_FRA","value":"552100554"}]'),
        seen("200", "2025-01-02", "2025-01-03 02:00", "[]"),
        seen("Z7", "2025-01-02", "2025-01-03 02:00", '[{"type":"DUNS","value":"15-048-3782"}]', order_id="O7"),
    ])
    harness.stage("stg_deliveries", [delivery("D7", "700", "2025-01-10 10:00", amount=70, order_id="O7",
                                              temporary_easy_number="Z7", extracted_at=ts("2025-01-11 02:00"))])
    harness.refresh_history()
    columns = ["easy_number", "version_no", "identifier_type", "identifier_value", "normalized_value", "is_current",
               "valid_to"]
    assert harness.rows("company_identifiers", "easy_number, version_no, identifier_type", columns) == [
        {"easy_number": "100", "version_no": 1, "identifier_type": "SIREN_FRA", "identifier_value": "552 100-554",
         "normalized_value": "552100554", "is_current": False, "valid_to": ts("2025-01-03 02:00")},
        {"easy_number": "100", "version_no": 1, "identifier_type": "VAT", "identifier_value": "fr12552100554",
         "normalized_value": "FR12552100554", "is_current": False, "valid_to": ts("2025-01-03 02:00")},
        {"easy_number": "100", "version_no": 2, "identifier_type": "SIREN_FRA", "identifier_value": "552100554",
         "normalized_value": "552100554", "is_current": True, "valid_to": None},
        {"easy_number": "700", "version_no": 1, "identifier_type": "DUNS", "identifier_value": "15-048-3782",
         "normalized_value": "150483782", "is_current": True, "valid_to": None},
    ]

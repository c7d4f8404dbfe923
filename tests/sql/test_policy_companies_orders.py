"""Policies: the same buyer, order id or overdue case id under two policies stays two (DuckDB and Postgres).

One account holds several policies; a buyer covered under two of them has two customer references, two
sets of orders and overdue cases, and ids are only unique within a policy's requests. A temporary Z
number belongs to one policy's request: resolved under one, it says nothing of the other's.
"""

from decimal import Decimal

import sqlalchemy as sa

from resources.warehouse.history import note_changes, refresh_history
from resources.warehouse.schema import columns_of
from tests.support.landing_builder import ts

A, B = "POLICY-A", "POLICY-B"


def listed(policy, easy_number, extracted_at, **extra):
    return {"policy_number": policy, "source_partition": extracted_at[:10], "extracted_at": ts(extracted_at),
            "easy_number": easy_number, "product_code": "CREDITLIMIT", "country_code": "FRA", **extra}


def order(policy, order_id, easy_number, status, status_at, extracted_at, **extra):
    return {"policy_number": policy, "order_id": order_id, "easy_number": easy_number, "product_code": "CREDITLIMIT",
            "order_at": ts("2025-01-01 09:00"), "status": status, "status_at": ts(status_at),
            "source_partition": extracted_at[:10], "extracted_at": ts(extracted_at), **extra}


def overdue(policy, easy_number, status, updated_at, outstanding, **extra):
    return {"policy_number": policy, "overdue_id": "OV1", "easy_number": easy_number, "debt_type": "CI",
            "status": status, "created_at": ts("2025-01-01 08:00"), "updated_at": ts(updated_at),
            "outstanding_amount_value": outstanding, "outstanding_amount_currency": "EUR",
            "source_partition": updated_at[:10], "extracted_at": ts(updated_at), **extra}


def test_a_buyer_under_two_policies_has_one_current_company_version_per_policy(harness):
    harness.stage("stg_portfolio", [
        listed(A, "100", "2025-01-02 02:00", company_name="ACME", customer_reference="A-REF"),
        listed(B, "100", "2025-01-03 02:00", company_name="ACME SA", customer_reference="B-REF"),
        listed(A, "100", "2025-01-04 02:00", company_name="ACME", customer_reference="A-REF"),
    ])
    harness.stage("stg_portfolio_snapshot", [
        listed(B, "100", "2025-01-05 03:00", company_name="ACME SA", customer_reference="B-REF-2"),
    ])
    harness.refresh_history()
    columns = ["policy_number", "easy_number", "version_no", "valid_from", "valid_to", "is_current", "company_name",
               "customer_reference"]
    assert harness.rows("company_history", "policy_number, version_no", columns) == [
        {"policy_number": A, "easy_number": "100", "version_no": 1, "valid_from": ts("2025-01-02 02:00"),
         "valid_to": None, "is_current": True, "company_name": "ACME", "customer_reference": "A-REF"},
        {"policy_number": B, "easy_number": "100", "version_no": 1, "valid_from": ts("2025-01-03 02:00"),
         "valid_to": ts("2025-01-05 03:00"), "is_current": False, "company_name": "ACME SA",
         "customer_reference": "B-REF"},
        {"policy_number": B, "easy_number": "100", "version_no": 2, "valid_from": ts("2025-01-05 03:00"),
         "valid_to": None, "is_current": True, "company_name": "ACME SA", "customer_reference": "B-REF-2"},
    ]


def test_the_same_order_id_under_two_policies_is_two_orders(harness):
    harness.stage("stg_orders", [
        order(A, "O1", "100", "STATUS_PENDING_UNDERWRITING", "2025-01-01 12:00", "2025-01-02 02:00",
              requested_amount_value=1000),
        order(B, "O1", "200", "STATUS_PENDING_UNDERWRITING", "2025-01-03 12:00", "2025-01-04 02:00",
              product_code="ECL", requested_amount_value=50),
    ])
    harness.stage("stg_order_polls", [
        order(A, "O1", "100", "STATUS_ANNULED", "2025-01-05 08:00", "2025-01-06 06:00", requested_amount_value=1000),
    ])
    harness.refresh_history()
    columns = ["policy_number", "order_id", "version_no", "easy_number", "product_code", "valid_from", "valid_to",
               "change_kind", "requested_amount_value"]
    assert harness.rows("order_history", "policy_number, version_no", columns) == [
        {"policy_number": A, "order_id": "O1", "version_no": 1, "easy_number": "100", "product_code": "CREDITLIMIT",
         "valid_from": ts("2025-01-01 12:00"), "valid_to": ts("2025-01-05 08:00"), "change_kind": "observed",
         "requested_amount_value": Decimal("1000")},
        {"policy_number": A, "order_id": "O1", "version_no": 2, "easy_number": "100", "product_code": "CREDITLIMIT",
         "valid_from": ts("2025-01-05 08:00"), "valid_to": None, "change_kind": "annulled",
         "requested_amount_value": Decimal("1000")},
        {"policy_number": B, "order_id": "O1", "version_no": 1, "easy_number": "200", "product_code": "ECL",
         "valid_from": ts("2025-01-03 12:00"), "valid_to": None, "change_kind": "observed",
         "requested_amount_value": Decimal("50")},
    ]


def test_the_same_overdue_case_id_under_two_policies_stays_apart(harness):
    harness.stage("stg_overdues", [
        overdue(A, "100", "PENDING", "2025-01-02 08:00", 100, customer_reference="A-REF"),
        overdue(A, "100", "IN_PROGRESS", "2025-01-10 08:00", 60, customer_reference="A-REF"),
        overdue(B, "200", "CLOSED", "2025-01-05 08:00", 0, customer_reference="B-REF"),
    ])
    harness.stage("stg_portfolio", [
        listed(A, "100", "2025-01-02 02:00", company_name="ACME"),
        listed(B, "100", "2025-01-02 02:00", company_name="ACME (B)"),
        listed(B, "200", "2025-01-02 02:00", company_name="BETA", country_code="DEU"),
    ])
    harness.refresh_history()
    columns = ["policy_number", "overdue_id", "version_no", "easy_number", "status", "valid_to", "customer_reference"]
    assert harness.rows("overdue_history", "policy_number, version_no", columns) == [
        {"policy_number": A, "overdue_id": "OV1", "version_no": 1, "easy_number": "100", "status": "PENDING",
         "valid_to": ts("2025-01-10 08:00"), "customer_reference": "A-REF"},
        {"policy_number": A, "overdue_id": "OV1", "version_no": 2, "easy_number": "100", "status": "IN_PROGRESS",
         "valid_to": None, "customer_reference": "A-REF"},
        {"policy_number": B, "overdue_id": "OV1", "version_no": 1, "easy_number": "200", "status": "CLOSED",
         "valid_to": None, "customer_reference": "B-REF"},
    ]
    columns = ["policy_number", "overdue_id", "easy_number", "company_name", "country_code", "status", "is_open",
               "version_count", "first_recorded_at"]
    assert harness.rows("overdue_cases", "policy_number", columns) == [
        {"policy_number": A, "overdue_id": "OV1", "easy_number": "100", "company_name": "ACME", "country_code": "FRA",
         "status": "IN_PROGRESS", "is_open": True, "version_count": 2, "first_recorded_at": ts("2025-01-02 08:00")},
        {"policy_number": B, "overdue_id": "OV1", "easy_number": "200", "company_name": "BETA", "country_code": "DEU",
         "status": "CLOSED", "is_open": False, "version_count": 1, "first_recorded_at": ts("2025-01-05 08:00")},
    ]


def test_a_temporary_number_resolved_under_one_policy_maps_only_that_policys_records(harness):
    harness.stage("stg_orders", [
        order(A, "O7", "Z7", "STATUS_PENDING_DEBTOR_VALIDATION", "2025-01-01 09:00", "2025-01-02 02:00"),
        order(A, "O7", "700", "STATUS_FULFILLED", "2025-01-10 10:00", "2025-01-11 02:00", temporary_easy_number="Z7"),
        order(B, "O8", "Z7", "STATUS_PENDING_DEBTOR_VALIDATION", "2025-01-01 09:00", "2025-01-02 02:00"),
    ])
    harness.stage("stg_portfolio", [
        listed(A, "Z7", "2025-01-02 02:00", order_id="O7", company_name="Requested A"),
        listed(B, "Z7", "2025-01-02 02:00", order_id="O8", company_name="Requested B"),
    ])
    harness.stage("stg_overdues", [overdue(B, "Z7", "PENDING", "2025-01-03 08:00", 10)])
    harness.refresh_history()
    assert harness.rows("easy_number_map", "policy_number",
                        ["policy_number", "temporary_easy_number", "easy_number"]) == [
        {"policy_number": A, "temporary_easy_number": "Z7", "easy_number": "700"}]
    columns = ["policy_number", "order_id", "easy_number", "temporary_easy_number"]
    assert harness.rows("order_history", "policy_number, order_id, version_no", columns) == [
        {"policy_number": A, "order_id": "O7", "easy_number": "700", "temporary_easy_number": "Z7"},
        {"policy_number": A, "order_id": "O7", "easy_number": "700", "temporary_easy_number": "Z7"},
        {"policy_number": B, "order_id": "O8", "easy_number": "Z7", "temporary_easy_number": "Z7"},
    ]
    assert harness.rows("company_history", "policy_number", ["policy_number", "easy_number", "company_name"]) == [
        {"policy_number": A, "easy_number": "700", "company_name": "Requested A"},
        {"policy_number": B, "easy_number": "Z7", "company_name": "Requested B"},
    ]
    assert harness.rows("overdue_history", "policy_number", ["policy_number", "easy_number", "temporary_easy_number"]) \
        == [{"policy_number": B, "easy_number": "Z7", "temporary_easy_number": "Z7"}]


def test_a_notification_matches_only_its_own_policys_decision_and_number_map(harness):
    note = {"event_type": "DECISION", "product_code": "CREDITLIMIT", "status": "DECIDED_FULL",
            "event_at": ts("2025-01-02 10:00")}
    harness.stage("stg_notifications", [
        {**note, "policy_number": A, "notification_id": "N1", "external_id": "E1", "easy_number": "100",
         "listed_policy_number": A},
        {**note, "policy_number": B, "notification_id": "N1", "external_id": "E1", "easy_number": "100"},
        {**note, "policy_number": A, "notification_id": "N3", "external_id": "E3", "easy_number": "Z3"},
        {**note, "policy_number": B, "notification_id": "N4", "external_id": "E4", "easy_number": "Z3"},
    ])
    harness.put("decision_history", [
        {"policy_number": A, "easy_number": "100", "product_code": "CREDITLIMIT", "version_no": 1,
         "valid_from": ts("2025-01-02 10:00"), "is_current": True, "change_kind": "observed",
         "recorded_at": ts("2025-01-03 02:00"), "delivery_id": "D1", "external_id": "E1", "status": "DECIDED_FULL"},
    ])
    harness.put("easy_number_map", [
        {"policy_number": A, "temporary_easy_number": "Z3", "easy_number": "300", "candidate_count": 1}])
    columns = ["notification_id", "policy_number", "listed_policy_number", "easy_number", "temporary_easy_number",
               "delivery_id", "has_decision_version"]
    assert harness.rows("notification_events", "notification_id, policy_number", columns) == [
        {"notification_id": "N1", "policy_number": A, "listed_policy_number": A, "easy_number": "100",
         "temporary_easy_number": None, "delivery_id": "D1", "has_decision_version": True},
        {"notification_id": "N1", "policy_number": B, "listed_policy_number": None, "easy_number": "100",
         "temporary_easy_number": None, "delivery_id": None, "has_decision_version": False},
        {"notification_id": "N3", "policy_number": A, "listed_policy_number": None, "easy_number": "300",
         "temporary_easy_number": "Z3", "delivery_id": None, "has_decision_version": False},
        {"notification_id": "N4", "policy_number": B, "listed_policy_number": None, "easy_number": "Z3",
         "temporary_easy_number": "Z3", "delivery_id": None, "has_decision_version": False},
    ]


def _build_incrementally(harness, staged):
    """Stage `staged` ({table: rows}) and run an incremental build over what it changed, as a night does."""
    for table, rows in staged.items():
        harness.stage(table, rows)
    with harness.engine.begin() as conn:
        conn.execute(sa.text("truncate _wh_changes"))
        for table, rows in staged.items():
            for policy in sorted({row["policy_number"] for row in rows}):
                partitions = sorted({row["source_partition"] for row in rows if row["policy_number"] == policy})
                note_changes(conn, table, f"staging.{table}", columns_of(conn, f"staging.{table}"), partitions, policy)
        refresh_history(conn, set(staged), full_refresh=False)


def test_recomputing_a_company_leaves_alone_another_policys_company_sharing_its_temporary_number(harness):
    harness.stage("stg_orders", [
        order(A, "O7", "Z7", "STATUS_PENDING", "2025-01-01 10:00", "2025-01-01 10:00"),
        order(A, "O7", "700", "STATUS_FULFILLED", "2025-01-02 10:00", "2025-01-02 10:00", temporary_easy_number="Z7"),
        order(B, "O9", "Z7", "STATUS_PENDING", "2025-01-01 10:00", "2025-01-01 10:00"),
        order(B, "O9", "800", "STATUS_FULFILLED", "2025-01-02 10:00", "2025-01-02 10:00", temporary_easy_number="Z7"),
    ])
    harness.stage("stg_overdues", [overdue(B, "Z7", "PENDING", "2025-01-01 10:00", 10)])
    harness.stage("stg_portfolio", [listed(B, "Z7", "2025-01-01 10:00", order_id="O9", company_name="Requested B"),
                                    listed(B, "800", "2025-01-03 10:00", company_name="BETA")])
    harness.refresh_history()
    # the next night brings news of policy A's 700 only: Z7, its temporary number, is in scope with it, and
    # policy B's rows listed under Z7 are read, but 800 (policy B's Z7) is not recomputed
    _build_incrementally(harness, {
        "stg_orders": [order(A, "O2", "700", "STATUS_PENDING", "2025-01-04 10:00", "2025-01-04 10:00")],
        "stg_overdues": [{**overdue(A, "700", "PENDING", "2025-01-04 10:00", 5), "overdue_id": "OV2"}],
        "stg_portfolio": [listed(A, "700", "2025-01-04 10:00", company_name="ALPHA")],
    })
    tables = {"order_history": "order_id", "overdue_history": "overdue_id", "company_history": "easy_number"}

    def built():
        return {table: harness.rows(table, f"policy_number, {key}, version_no") for table, key in tables.items()}

    incremental = built()
    assert [(r["policy_number"], r["order_id"], r["easy_number"], r["version_no"], r["is_current"])
            for r in incremental["order_history"]] == [
        (A, "O2", "700", 1, True), (A, "O7", "700", 1, False), (A, "O7", "700", 2, True),
        (B, "O9", "800", 1, False), (B, "O9", "800", 2, True)]
    assert [(r["policy_number"], r["overdue_id"], r["easy_number"]) for r in incremental["overdue_history"]] == [
        (A, "OV2", "700"), (B, "OV1", "800")]
    assert [(r["policy_number"], r["easy_number"], r["version_no"], r["company_name"])
            for r in incremental["company_history"]] == [
        (A, "700", 1, "ALPHA"), (B, "800", 1, "Requested B"), (B, "800", 2, "BETA")]
    harness.refresh_history()
    assert built() == incremental

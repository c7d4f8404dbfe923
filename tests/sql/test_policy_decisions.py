"""Policies in decision_history and its marts (DuckDB and Postgres): the same buyer and product under two
policies are two histories, side by side in current_portfolio, each closed only by its own policy's
snapshot, totalled apart in exposure_daily, and a Z number resolved under one policy only."""

from decimal import Decimal

from tests.support.landing_builder import ts

A, B = "POLICY-A", "POLICY-B"


def delivery(policy, delivery_id, status, decided_at, amount, easy_number="100", **extra):
    return {"policy_number": policy, "delivery_id": delivery_id, "easy_number": easy_number,
            "product_code": "CREDITLIMIT", "status": status, "decision_at": ts(decided_at),
            "amount_value": Decimal(amount), "amount_currency": "EUR" if policy == A else "USD",
            "source_partition": decided_at[:10], "extracted_at": ts(decided_at[:10] + " 23:00"), **extra}


def snapshot(policy, day, easy_number="100", product="CREDITLIMIT", delivery_id=None):
    return {"policy_number": policy, "source_partition": day, "extracted_at": ts(day + " 03:00"),
            "easy_number": easy_number, "product_code": product, "delivery_id": delivery_id}


def test_one_buyer_decided_differently_under_two_policies_has_both_decisions_side_by_side(harness):
    harness.stage("stg_deliveries", [delivery(A, "D1", "DECIDED_FULL", "2025-01-02 10:00", "1000"),
                                     delivery(B, "D2", "DECIDED_PARTIAL", "2025-01-02 11:00", "400"),
                                     delivery(B, "D3", "REDUCED", "2025-01-03 09:00", "250")])
    harness.stage("stg_portfolio", [{"policy_number": p, "easy_number": "100", "company_name": f"ACME {p}",
                                     "country_code": "FRA", "source_partition": "2025-01-02",
                                     "product_code": "CREDITLIMIT"} for p in (A, B)])
    harness.refresh_history()
    history = harness.rows("decision_history", "policy_number, version_no",
                           ["policy_number", "version_no", "status", "amount_value", "is_current"])
    assert history == [
        {"policy_number": A, "version_no": 1, "status": "DECIDED_FULL", "amount_value": Decimal("1000"), "is_current": True},
        {"policy_number": B, "version_no": 1, "status": "DECIDED_PARTIAL", "amount_value": Decimal("400"), "is_current": False},
        {"policy_number": B, "version_no": 2, "status": "REDUCED", "amount_value": Decimal("250"), "is_current": True},
    ]
    portfolio = harness.rows("current_portfolio", "policy_number",
                             ["policy_number", "easy_number", "company_name", "amount_value", "amount_currency"])
    assert portfolio == [
        {"policy_number": A, "easy_number": "100", "company_name": f"ACME {A}", "amount_value": Decimal("1000"),
         "amount_currency": "EUR"},
        {"policy_number": B, "easy_number": "100", "company_name": f"ACME {B}", "amount_value": Decimal("250"),
         "amount_currency": "USD"},
    ]
    events = harness.rows("decision_events", "policy_number, version_no", ["policy_number", "event_kind"])
    assert events == [{"policy_number": A, "event_kind": "first_decision"},
                      {"policy_number": B, "event_kind": "first_decision"},
                      {"policy_number": B, "event_kind": "decrease"}]


def test_a_snapshot_of_one_policy_closes_only_that_policy_s_product(harness):
    harness.stage("stg_deliveries", [delivery(A, "D1", "DECIDED_FULL", "2025-01-02 10:00", "1000"),
                                     delivery(B, "D2", "DECIDED_FULL", "2025-01-02 11:00", "500")])
    # policy A's snapshot no longer lists the product; policy B's does, and lists another buyer
    harness.stage("stg_portfolio_snapshot", [snapshot(A, "2025-01-05", easy_number="900", delivery_id="D9"),
                                             snapshot(B, "2025-01-05", delivery_id="D2")])
    harness.stage("stg_deliveries", [delivery(A, "D9", "DECIDED_FULL", "2025-01-01 10:00", "10", easy_number="900")])
    harness.refresh_history()
    rows = harness.rows("decision_history", "policy_number, version_no",
                        ["policy_number", "easy_number", "change_kind", "is_current"])
    closing = [r for r in rows if r["easy_number"] == "100"]
    assert closing == [
        {"policy_number": A, "easy_number": "100", "change_kind": "observed", "is_current": False},
        {"policy_number": A, "easy_number": "100", "change_kind": "deleted", "is_current": True},
        {"policy_number": B, "easy_number": "100", "change_kind": "observed", "is_current": True},
    ]


def test_exposure_is_totalled_per_policy(harness):
    harness.stage("stg_deliveries", [delivery(A, "D1", "DECIDED_FULL", "2025-01-02 10:00", "1000"),
                                     delivery(B, "D2", "DECIDED_FULL", "2025-01-02 11:00", "500")])
    harness.refresh_history()
    rows = harness.rows("exposure_daily", "policy_number, exposure_date",
                        ["policy_number", "currency", "exposure_amount", "decisions_in_force"])
    assert {(r["policy_number"], r["currency"], r["exposure_amount"], r["decisions_in_force"]) for r in rows} == {
        (A, "EUR", Decimal("1000"), 1), (B, "USD", Decimal("500"), 1)}


def test_a_temporary_number_resolved_under_one_policy_stays_temporary_under_the_other(harness):
    harness.stage("stg_deliveries", [
        delivery(A, "D1", "DECIDED_FULL", "2025-01-02 10:00", "1000", easy_number="Z7", order_id="O1"),
        delivery(A, "D1", "DECIDED_FULL", "2025-01-02 10:00", "1000", easy_number="700",
                 temporary_easy_number="Z7", order_id="O1", source_partition="2025-01-03",
                 extracted_at=ts("2025-01-03 23:00")),
        delivery(B, "D2", "DECIDED_FULL", "2025-01-02 11:00", "500", easy_number="Z7", order_id="O2"),
    ])
    harness.refresh_history()
    rows = harness.rows("decision_history", "policy_number", ["policy_number", "easy_number", "temporary_easy_number"])
    assert rows == [{"policy_number": A, "easy_number": "700", "temporary_easy_number": "Z7"},
                    {"policy_number": B, "easy_number": "Z7", "temporary_easy_number": "Z7"}]
    mapped = harness.rows("easy_number_map", "policy_number", ["policy_number", "temporary_easy_number", "easy_number"])
    assert mapped == [{"policy_number": A, "temporary_easy_number": "Z7", "easy_number": "700"}]

"""The request pipeline: time in each status, time to the first decision and the outcome of each order,
and what still waits (both engines; a refused request, a rejected and an annulled one, a Z number)."""

from datetime import date
from decimal import Decimal

from tests.sql.test_mart_models import version
from tests.support.landing_builder import ts
from tests.support.policies import TEST_POLICY


def state(order_id, no, start, end, status, easy="100", **extra):
    return {"order_id": order_id, "policy_number": TEST_POLICY, "version_no": no, "valid_from": ts(start),
            "valid_to": ts(end) if end else None, "is_current": end is None, "change_kind": "observed",
            "recorded_at": ts(start), "easy_number": easy, "product_code": "CREDITLIMIT",
            "order_at": ts(extra.pop("order_at", "2025-01-01 08:00")), "status": status, "status_at": ts(start),
            "requested_amount_value": Decimal(1000), "requested_amount_currency": "EUR", **extra}


REASONS = ('[{"code":"UNKNOWN_COMPANY","label":"Unknown company"},'
           '{"code":"INSUFFICIENT_INFORMATION","label":"Insufficient information"}]')


def build(harness):
    harness.put("order_history", [
        state("O1", 1, "2025-01-01 08:00", "2025-01-01 20:00", "STATUS_STARTED"),
        state("O1", 2, "2025-01-01 20:00", "2025-01-03 08:00", "STATUS_PENDING_UNDERWRITING"),
        state("O1", 3, "2025-01-03 08:00", None, "STATUS_CLOSED", delivery_id="D1"),
        state("O2", 1, "2025-01-02 08:00", None, "STATUS_CLOSED", easy="200", order_at="2025-01-02 08:00"),
        state("O3", 1, "2025-01-02 09:00", "2025-01-04 09:00", "STATUS_PENDING_DEBTOR_VALIDATION", easy="300",
              temporary_easy_number="Z3", order_at="2025-01-02 09:00"),
        state("O3", 2, "2025-01-04 09:00", None, "STATUS_REJECTED", easy="300", temporary_easy_number="Z3",
              order_at="2025-01-02 09:00", rejection_reasons=REASONS),
        state("O4", 1, "2025-01-02 10:00", None, "STATUS_ANNULED", easy="400", order_at="2025-01-02 10:00"),
        state("O5", 1, "2025-01-04 12:00", None, "STATUS_PENDING_COMPLEMENTARY_INFORMATION", easy="500",
              order_at="2025-01-04 06:00"),
    ])
    harness.put("decision_history", [
        {**version("100", "CREDITLIMIT", 1, "2025-01-03 08:00", None, "DECIDED_PARTIAL", 600),
         "order_id": "O1", "decision_at": ts("2025-01-03 08:00")},
        {**version("200", "CREDITLIMIT", 1, "2025-01-02 14:00", None, "DECIDED_REFUSED"),
         "order_id": "O2", "decision_at": ts("2025-01-02 14:00")},
    ])


def test_request_pipeline_times_each_status_and_names_the_outcome(harness):
    build(harness)
    columns = ["order_id", "outcome", "hours_started", "hours_pending_underwriting", "hours_pending_total",
               "hours_to_first_decision", "granted_amount_value", "temporary_easy_number", "easy_number"]
    rows = {r["order_id"]: r for r in harness.rows("request_pipeline", "order_id", columns)}
    assert rows["O1"] == {"order_id": "O1", "outcome": "partial", "hours_started": 12.0,
                          "hours_pending_underwriting": 36.0, "hours_pending_total": 48.0,
                          "hours_to_first_decision": 48.0, "granted_amount_value": Decimal("600"),
                          "temporary_easy_number": None, "easy_number": "100"}
    assert rows["O2"]["outcome"] == "refused" and rows["O2"]["hours_to_first_decision"] == 6.0  # a first refusal
    assert rows["O3"]["outcome"] == "rejected" and rows["O3"]["hours_pending_total"] == 48.0
    assert (rows["O3"]["temporary_easy_number"], rows["O3"]["easy_number"]) == ("Z3", "300")  # resolved
    assert rows["O4"]["outcome"] == "annulled" and rows["O4"]["hours_to_first_decision"] is None
    # still pending: counted up to the end of the as-of day (the 4th, the last day history speaks of)
    assert rows["O5"]["outcome"] == "pending" and rows["O5"]["hours_pending_total"] == 12.0


def test_open_requests_lists_what_waits_and_since_when(harness):
    build(harness)
    assert harness.rows("open_requests", "order_id",
                        ["order_id", "status", "in_status_since", "waiting_hours", "hours_in_status"]) == [
        {"order_id": "O5", "status": "STATUS_PENDING_COMPLEMENTARY_INFORMATION",
         "in_status_since": ts("2025-01-04 12:00"), "waiting_hours": 18.0, "hours_in_status": 12.0},
    ]


def test_the_rejection_reasons_travel_with_the_request(harness):
    build(harness)
    rows = harness.rows("request_pipeline", "order_id", ["order_id", "rejection_reasons"])
    assert {r["order_id"]: r["rejection_reasons"] for r in rows}["O3"] == REASONS
    assert date(2025, 1, 4) == harness.rows("data_as_of", "as_of_day")[0]["as_of_day"]


def test_rejection_reasons_are_unnested_one_per_row_in_the_order_given(harness):
    build(harness)
    columns = ["order_id", "easy_number", "outcome", "reason_rank", "reason_code", "reason_label"]
    assert harness.rows("order_rejection_reasons", "order_id, reason_rank", columns) == [
        {"order_id": "O3", "easy_number": "300", "outcome": "rejected", "reason_rank": 1,
         "reason_code": "UNKNOWN_COMPANY", "reason_label": "Unknown company"},
        {"order_id": "O3", "easy_number": "300", "outcome": "rejected", "reason_rank": 2,
         "reason_code": "INSUFFICIENT_INFORMATION", "reason_label": "Insufficient information"},
    ]  # the orders without a reason listed have no row

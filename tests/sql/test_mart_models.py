"""Marts: given small history (and staging) tables, the rows dashboards must read (DuckDB and Postgres)."""

from datetime import date
from decimal import Decimal

from tests.support.landing_builder import ts
from tests.support.policies import TEST_POLICY as DEFAULT_POLICY


def version(easy, product, no, start, end, status, amount=None, kind="observed", **extra):
    return {"easy_number": easy, "product_code": product, "version_no": no, "valid_from": ts(start),
            "valid_to": ts(end) if end else None, "is_current": end is None, "change_kind": kind,
            "recorded_at": ts(start), "status": status, "amount_value": amount,
            "amount_currency": "EUR" if amount is not None else None,
            "delivery_id": f"D{easy}{product}{no}" if status else None, **extra}


def company(easy, no, start, end, name, country="FRA"):
    return {"easy_number": easy, "version_no": no, "valid_from": ts(start), "valid_to": ts(end) if end else None,
            "is_current": end is None, "change_kind": "observed", "recorded_at": ts(start),
            "company_name": name, "country_code": country}


def test_current_portfolio_lists_decisions_in_force_with_current_company(harness):
    harness.put("decision_history", [
        version("100", "CREDITLIMIT", 1, "2025-01-01", "2025-02-01", "DECIDED_FULL", 1000),
        version("100", "CREDITLIMIT", 2, "2025-02-01", None, "DECIDED_PARTIAL", 500),
        version("200", "CREDITLIMIT", 1, "2025-01-01", "2025-03-01", "DECIDED_FULL", 1000),
        version("200", "CREDITLIMIT", 2, "2025-03-01", None, None, kind="deleted"),
        version("300", "CREDITLIMIT", 1, "2025-01-01", None, "WITHDRAWN", kind="withdrawn"),
        version("400", "ECL", 1, "2025-01-01", None, "UNDER_CANCELLATION", 70),
    ])
    harness.put("company_history", [
        company("100", 1, "2025-01-01", "2025-01-15", "OLD NAME"),
        company("100", 2, "2025-01-15", None, "ACME"),
    ])
    columns = ["easy_number", "product_code", "company_name", "country_code", "status", "amount_value", "version_no"]
    assert harness.rows("current_portfolio", "easy_number", columns) == [
        {"easy_number": "100", "product_code": "CREDITLIMIT", "company_name": "ACME", "country_code": "FRA",
         "status": "DECIDED_PARTIAL", "amount_value": Decimal("500"), "version_no": 2},
        {"easy_number": "400", "product_code": "ECL", "company_name": None, "country_code": None,
         "status": "UNDER_CANCELLATION", "amount_value": Decimal("70"), "version_no": 1},
    ]


def test_decision_events_classify_each_change(harness):
    harness.put("decision_history", [
        version("100", "CREDITLIMIT", 1, "2025-01-01", "2025-01-02", "DECIDED_FULL", 1000),
        version("100", "CREDITLIMIT", 2, "2025-01-02", "2025-01-03", "DECIDED_FULL", 1500),
        version("100", "CREDITLIMIT", 3, "2025-01-03", "2025-01-04", "REDUCED", 1000),
        version("100", "CREDITLIMIT", 4, "2025-01-04", "2025-01-05", "UNDER_WITHDRAWAL", 1000),
        version("100", "CREDITLIMIT", 5, "2025-01-05", None, None, kind="deleted"),
        version("200", "ECL", 1, "2025-01-01", "2025-01-02", "DECIDED_REFUSED"),
        version("200", "ECL", 2, "2025-01-02", None, "DECIDED_REFUSED"),
    ])
    columns = ["easy_number", "version_no", "event_at", "event_kind", "previous_status", "amount_change"]
    assert harness.rows("decision_events", "easy_number, version_no", columns) == [
        {"easy_number": "100", "version_no": 1, "event_at": ts("2025-01-01"), "event_kind": "first_decision",
         "previous_status": None, "amount_change": None},
        {"easy_number": "100", "version_no": 2, "event_at": ts("2025-01-02"), "event_kind": "increase",
         "previous_status": "DECIDED_FULL", "amount_change": Decimal("500")},
        {"easy_number": "100", "version_no": 3, "event_at": ts("2025-01-03"), "event_kind": "decrease",
         "previous_status": "DECIDED_FULL", "amount_change": Decimal("-500")},
        {"easy_number": "100", "version_no": 4, "event_at": ts("2025-01-04"), "event_kind": "status_change",
         "previous_status": "REDUCED", "amount_change": Decimal("0")},
        {"easy_number": "100", "version_no": 5, "event_at": ts("2025-01-05"), "event_kind": "deleted",
         "previous_status": "UNDER_WITHDRAWAL", "amount_change": None},
        {"easy_number": "200", "version_no": 1, "event_at": ts("2025-01-01"), "event_kind": "refused",
         "previous_status": None, "amount_change": None},
        {"easy_number": "200", "version_no": 2, "event_at": ts("2025-01-02"), "event_kind": "refused",
         "previous_status": "DECIDED_REFUSED", "amount_change": None},
    ]


def test_decision_events_count_a_refused_first_request_as_a_refusal_and_flag_first_decisions(harness):
    harness.put("decision_history", [
        version("100", "CREDITLIMIT", 1, "2025-01-01", "2025-01-05", "DECIDED_REFUSED"),
        version("100", "CREDITLIMIT", 2, "2025-01-05", None, "DECIDED_FULL", 1000),
        version("200", "CREDITLIMIT", 1, "2025-01-01", None, "DECIDED_PARTIAL", 500),
        version("300", "CREDITLIMIT", 1, "2025-01-01", None, "WITHDRAWN", kind="withdrawn"),
    ])
    columns = ["easy_number", "version_no", "event_kind", "is_first_decision"]
    assert harness.rows("decision_events", "easy_number, version_no", columns) == [
        {"easy_number": "100", "version_no": 1, "event_kind": "refused", "is_first_decision": True},
        {"easy_number": "100", "version_no": 2, "event_kind": "status_change", "is_first_decision": False},
        {"easy_number": "200", "version_no": 1, "event_kind": "first_decision", "is_first_decision": True},
        {"easy_number": "300", "version_no": 1, "event_kind": "withdrawn", "is_first_decision": True},
    ]


def test_exposure_daily_counts_what_is_in_force_at_the_end_of_each_gmt_day(harness):
    harness.put("decision_history", [
        version("100", "CREDITLIMIT", 1, "2025-01-01 10:00", "2025-01-03 12:00", "DECIDED_FULL", 1000),
        version("100", "CREDITLIMIT", 2, "2025-01-03 12:00", "2025-01-04 09:00", "REDUCED", 400),
        {**version("100", "CREDITLIMIT", 3, "2025-01-04 09:00", None, "WITHDRAWN", kind="withdrawn"),
         "recorded_at": ts("2025-01-05 02:00")},
        version("100", "ECL", 1, "2025-01-02 00:00", None, "DECIDED_FULL", 200),
        version("200", "CREDITLIMIT", 1, "2025-01-02 08:00", "2025-01-02 18:00", "DECIDED_FULL", 999),
    ])
    harness.put("company_history", [company("100", 1, "2025-01-01", None, "ACME"),
                                     company("200", 1, "2025-01-01", None, "BETA", "DEU")])
    rows = harness.rows("exposure_daily", "country_code, product_code, exposure_date",
                        ["exposure_date", "policy_number", "country_code", "product_code", "currency",
                         "decisions_in_force", "exposure_amount"])
    cl = [(date(2025, 1, d), n, Decimal(a)) for d, n, a in ((1, 1, 1000), (2, 1, 1000), (3, 1, 400), (4, 0, 0), (5, 0, 0))]
    ecl = [(date(2025, 1, d), 1, Decimal(200)) for d in (2, 3, 4, 5)]
    deu = [(date(2025, 1, d), 0, Decimal(0)) for d in (2, 3, 4, 5)]  # in force for part of a day only
    expected = (
        [{"exposure_date": d, "policy_number": DEFAULT_POLICY, "country_code": "DEU", "product_code": "CREDITLIMIT", "currency": "EUR",
          "decisions_in_force": n, "exposure_amount": a} for d, n, a in deu]
        + [{"exposure_date": d, "policy_number": DEFAULT_POLICY, "country_code": "FRA", "product_code": "CREDITLIMIT", "currency": "EUR",
            "decisions_in_force": n, "exposure_amount": a} for d, n, a in cl]
        + [{"exposure_date": d, "policy_number": DEFAULT_POLICY, "country_code": "FRA", "product_code": "ECL", "currency": "EUR",
            "decisions_in_force": n, "exposure_amount": a} for d, n, a in ecl]
    )
    assert rows == expected


def test_overdue_cases_show_the_current_state_of_each_case(harness):
    base = {"overdue_id": "OV1", "easy_number": "100", "debt_type": "CI", "created_at": ts("2025-01-01")}
    harness.put("overdue_history", [
        {**base, "version_no": 1, "valid_from": ts("2025-01-01"), "valid_to": ts("2025-01-10"), "is_current": False,
         "change_kind": "observed", "recorded_at": ts("2025-01-02"), "status": "PENDING",
         "outstanding_amount_value": Decimal(100), "outstanding_amount_currency": "EUR"},
        {**base, "version_no": 2, "valid_from": ts("2025-01-10"), "valid_to": None, "is_current": True,
         "change_kind": "observed", "recorded_at": ts("2025-01-11"), "status": "IN_PROGRESS",
         "outstanding_amount_value": Decimal(60), "outstanding_amount_currency": "EUR"},
    ])
    harness.put("company_history", [company("100", 1, "2025-01-01", None, "ACME")])
    columns = ["overdue_id", "company_name", "status", "is_open", "outstanding_amount_value", "version_count",
               "first_recorded_at"]
    assert harness.rows("overdue_cases", "overdue_id", columns) == [
        {"overdue_id": "OV1", "company_name": "ACME", "status": "IN_PROGRESS", "is_open": True,
         "outstanding_amount_value": Decimal(60), "version_count": 2, "first_recorded_at": ts("2025-01-02")},
    ]


def test_notification_events_match_each_notification_to_its_decision(harness):
    note = {"event_type": "DECISION", "product_code": "CREDITLIMIT", "status": "DECIDED_FULL",
            "event_at": ts("2025-01-02 10:00")}
    harness.stage("stg_notifications", [
        {**note, "notification_id": "N1", "external_id": "E1", "easy_number": "100",
         "source_partition": "2025-01-02", "extracted_at": ts("2025-01-03 02:00")},
        {**note, "notification_id": "N2", "external_id": "E2", "easy_number": "Z3"},
    ])
    harness.put("decision_history", [version("100", "CREDITLIMIT", 1, "2025-01-02 10:00", None, "DECIDED_FULL", 10,
                                             external_id="E1")])
    harness.put("easy_number_map", [{"temporary_easy_number": "Z3", "easy_number": "300", "candidate_count": 1}])
    columns = ["notification_id", "easy_number", "temporary_easy_number", "delivery_id", "has_decision_version",
               "recorded_at"]
    assert harness.rows("notification_events", "notification_id", columns) == [
        {"notification_id": "N1", "easy_number": "100", "temporary_easy_number": None,
         "delivery_id": "D100CREDITLIMIT1", "has_decision_version": True, "recorded_at": ts("2025-01-03 02:00")},
        {"notification_id": "N2", "easy_number": "300", "temporary_easy_number": "Z3",
         "delivery_id": None, "has_decision_version": False, "recorded_at": ts("2025-01-02 02:00")},
    ]

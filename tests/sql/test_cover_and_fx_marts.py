"""Cover on a day, amounts in the policy's currency, what Coface lists: hand-built cases on both engines
(next-day effective date, a closing row, a missing FX rate, a weekend rate, a pending request)."""

from datetime import date
from decimal import Decimal

from tests.sql.test_mart_models import version
from tests.support.landing_builder import ts
from tests.support.policies import TEST_POLICY


def policy(harness, currency="EUR", number=TEST_POLICY):
    harness.stage("stg_policies", [{"policy_number": number, "customer_name": "ACME", "currency": currency,
                                    "source_partition": "current"}])


def rates(harness, *quotes):
    """(day, currency, units per euro) quotes as the ECB file gives them."""
    harness.land("fx_rates", [{"rate_date": date.fromisoformat(d), "currency": c, "units_per_euro": Decimal(r)}
                              for d, c, r in quotes])


def test_cover_daily_has_a_row_per_day_in_force_and_knows_when_it_takes_effect(harness):
    policy(harness)
    harness.put("decision_history", [
        {**version("100", "CREDITLIMIT", 1, "2025-01-01 15:00", "2025-01-03 09:00", "DECIDED_FULL", 1000),
         "effective_date": date(2025, 1, 2)},  # decided in the afternoon, effective the next day
        version("100", "CREDITLIMIT", 2, "2025-01-03 09:00", "2025-01-04 10:00", "REDUCED", 400),
        version("100", "CREDITLIMIT", 3, "2025-01-04 10:00", None, None, kind="deleted"),  # a closing row
        version("200", "CREDITLIMIT", 1, "2025-01-02 08:00", None, "DECIDED_REFUSED"),  # no cover
    ])
    columns = ["cover_date", "easy_number", "status", "amount_value", "is_effective", "version_no"]
    assert harness.rows("cover_daily", "cover_date, easy_number", columns) == [
        {"cover_date": date(2025, 1, 1), "easy_number": "100", "status": "DECIDED_FULL",
         "amount_value": Decimal("1000"), "is_effective": False, "version_no": 1},
        {"cover_date": date(2025, 1, 2), "easy_number": "100", "status": "DECIDED_FULL",
         "amount_value": Decimal("1000"), "is_effective": True, "version_no": 1},
        {"cover_date": date(2025, 1, 3), "easy_number": "100", "status": "REDUCED",
         "amount_value": Decimal("400"), "is_effective": True, "version_no": 2},
    ]  # nothing from the 4th: deleted; the spine ends at the as-of day (the closing row's)


def test_amounts_convert_into_the_policy_currency_with_the_last_quote_and_never_a_stale_one(harness):
    policy(harness, currency="EUR")
    rates(harness, ("2025-01-03", "USD", "1.25"), ("2025-01-06", "USD", "1.10"))  # a Friday, then Monday
    harness.put("decision_history", [
        {**version("100", "CREDITLIMIT", 1, "2025-01-03 10:00", None, "DECIDED_FULL", 1000),
         "amount_currency": "USD"},
        version("200", "CREDITLIMIT", 1, "2025-01-03 10:00", None, "DECIDED_FULL", 300),  # EUR already
        {**version("300", "CREDITLIMIT", 1, "2025-01-03 10:00", "2025-01-20 10:00", "DECIDED_FULL", 50),
         "amount_currency": "JPY"},  # no JPY rate at all
    ])
    rows = harness.rows("cover_daily", "cover_date, easy_number",
                        ["cover_date", "easy_number", "policy_currency", "amount_policy_currency"])
    by_day = {(r["cover_date"], r["easy_number"]): r["amount_policy_currency"] for r in rows}
    assert by_day[(date(2025, 1, 3), "100")] == Decimal("800.00")  # 1000 / 1.25
    assert by_day[(date(2025, 1, 5), "100")] == Decimal("800.00")  # Sunday: Friday's quote
    assert by_day[(date(2025, 1, 6), "100")] == Decimal("909.09")  # 1000 / 1.10
    assert by_day[(date(2025, 1, 12), "100")] == Decimal("909.09")  # six days after the last quote
    assert by_day[(date(2025, 1, 13), "100")] is None  # seven: too stale, NULL rather than a guess
    assert by_day[(date(2025, 1, 13), "200")] == Decimal("300.00")  # same currency needs no rate
    assert by_day[(date(2025, 1, 3), "300")] is None  # a missing rate is NULL, never zero
    assert {r["policy_currency"] for r in rows} == {"EUR"}


def test_exposure_daily_converts_each_currency_and_marks_days_before_the_first_landed_day(harness):
    policy(harness, currency="GBP")
    rates(harness, ("2025-01-02", "USD", "1.20"), ("2025-01-02", "GBP", "0.80"),
          ("2025-01-03", "USD", "1.20"), ("2025-01-03", "GBP", "0.80"))
    with harness.engine.begin() as conn:
        import sqlalchemy as sa
        conn.execute(sa.text("insert into _wh_partitions (stream, policy_number, partition_key) "
                             "values ('portfolio', :p, '2025-01-03')"), {"p": TEST_POLICY})
    harness.put("decision_history", [
        {**version("100", "CREDITLIMIT", 1, "2025-01-02 10:00", None, "DECIDED_FULL", 1200),
         "amount_currency": "USD"},
        version("200", "CREDITLIMIT", 1, "2025-01-02 10:00", "2025-01-03 12:00", "DECIDED_FULL", 100),
    ])
    rows = harness.rows("exposure_daily", "exposure_date, currency",
                        ["exposure_date", "currency", "exposure_amount", "exposure_amount_policy_currency",
                         "policy_currency", "is_partial"])
    assert rows == [
        {"exposure_date": date(2025, 1, 2), "currency": "EUR", "exposure_amount": Decimal("100.00"),
         "exposure_amount_policy_currency": Decimal("80.00"), "policy_currency": "GBP", "is_partial": True},
        {"exposure_date": date(2025, 1, 2), "currency": "USD", "exposure_amount": Decimal("1200.00"),
         "exposure_amount_policy_currency": Decimal("800.00"), "policy_currency": "GBP", "is_partial": True},
        {"exposure_date": date(2025, 1, 3), "currency": "EUR", "exposure_amount": Decimal("0.00"),
         "exposure_amount_policy_currency": Decimal("0.00"), "policy_currency": "GBP", "is_partial": False},
        {"exposure_date": date(2025, 1, 3), "currency": "USD", "exposure_amount": Decimal("1200.00"),
         "exposure_amount_policy_currency": Decimal("800.00"), "policy_currency": "GBP", "is_partial": False},
    ]


def test_current_portfolio_converts_at_the_as_of_day_and_says_whether_the_cover_is_effective(harness):
    policy(harness, currency="EUR")
    rates(harness, ("2025-01-03", "USD", "1.25"))
    harness.put("decision_history", [
        {**version("100", "CREDITLIMIT", 1, "2025-01-03 16:00", None, "DECIDED_FULL", 1000),
         "amount_currency": "USD", "effective_date": date(2025, 1, 4)},
    ])
    assert harness.rows("current_portfolio", "easy_number",
                        ["easy_number", "amount_policy_currency", "policy_currency", "is_effective"]) == [
        {"easy_number": "100", "amount_policy_currency": Decimal("800.00"), "policy_currency": "EUR",
         "is_effective": False},  # the as-of day is the 3rd: effective tomorrow
    ]


def test_active_products_lists_what_the_portfolio_follow_up_lists(harness):
    harness.put("decision_history", [
        version("100", "CREDITLIMIT", 1, "2025-01-01", None, "DECIDED_FULL", 1000),  # active
        version("200", "CREDITLIMIT", 1, "2024-06-01", None, "CANCELLED", kind="cancelled"),  # < 2 years
        version("300", "CREDITLIMIT", 1, "2022-06-01", None, "WITHDRAWN", kind="withdrawn"),  # older: gone
        version("400", "MONITORED_SCORE", 1, "2024-12-01", None, "DELIVERED"),  # an information product
        version("500", "CREDITLIMIT", 1, "2024-01-01", "2024-12-01", "DECIDED_FULL", 10),
        version("500", "CREDITLIMIT", 2, "2024-12-01", None, None, kind="deleted"),  # closed by a snapshot
        {**version("600", "CREDITLIMIT", 1, "2025-02-01", None, "DECIDED_FULL", 5), "recorded_at": ts("2025-02-01")},
    ])
    order = {"policy_number": TEST_POLICY, "product_code": "CREDITLIMIT", "is_current": True, "valid_to": None,
             "change_kind": "observed", "version_no": 1}
    harness.put("order_history", [
        {**order, "order_id": "O7", "easy_number": "700", "status": "STATUS_PENDING_UNDERWRITING",
         "order_at": ts("2025-01-20"), "valid_from": ts("2025-01-20")},  # pending, no decision yet
        {**order, "order_id": "O1", "easy_number": "100", "status": "STATUS_STARTED",
         "order_at": ts("2025-01-25"), "valid_from": ts("2025-01-25")},  # an increase asked for
        {**order, "order_id": "O8", "easy_number": "800", "status": "STATUS_REJECTED",
         "order_at": ts("2025-01-20"), "valid_from": ts("2025-01-21")},  # final: not listed
    ])
    columns = ["easy_number", "listed_as", "status", "pending_order_id", "pending_status"]
    assert harness.rows("active_products", "easy_number", columns) == [
        {"easy_number": "100", "listed_as": "decided", "status": "DECIDED_FULL", "pending_order_id": "O1",
         "pending_status": "STATUS_STARTED"},
        {"easy_number": "200", "listed_as": "decided", "status": "CANCELLED", "pending_order_id": None,
         "pending_status": None},
        {"easy_number": "400", "listed_as": "decided", "status": "DELIVERED", "pending_order_id": None,
         "pending_status": None},
        {"easy_number": "600", "listed_as": "decided", "status": "DECIDED_FULL", "pending_order_id": None,
         "pending_status": None},
        {"easy_number": "700", "listed_as": "pending", "status": None, "pending_order_id": "O7",
         "pending_status": "STATUS_PENDING_UNDERWRITING"},
    ]


def test_the_documented_decision_as_of_pattern_answers_for_any_instant(harness):
    from tests.support.docs import documented_sql

    harness.put("decision_history", [
        version("100", "CREDITLIMIT", 1, "2025-01-01 10:00", "2025-01-03 12:00", "DECIDED_FULL", 1000),
        version("100", "CREDITLIMIT", 2, "2025-01-03 12:00", "2025-01-05 00:00", "REDUCED", 400),
        version("100", "CREDITLIMIT", 3, "2025-01-05 00:00", None, None, kind="deleted"),
    ])
    query = documented_sql("decision_as_of")
    with harness.engine.connect() as conn:
        import sqlalchemy as sa

        def held(at):
            return [tuple(r) for r in conn.execute(sa.text(query), {"as_of": ts(at), "easy_number": "100"})]
        assert held("2025-01-03 11:59") == [("CREDITLIMIT", "DECIDED_FULL", Decimal("1000"), 1)]
        assert held("2025-01-03 12:00") == [("CREDITLIMIT", "REDUCED", Decimal("400"), 2)]
        assert held("2025-01-06 00:00") == []  # deleted: no cover
        assert held("2024-12-31 00:00") == []  # before the first decision


def test_the_code_tables_cover_every_code_the_sandbox_serves(harness):
    from sandbox.reference import DELIVERY_STATUSES, PRODUCT_CODES

    harness.put("decision_history", [version("100", "CREDITLIMIT", 1, "2025-01-01", None, "DECIDED_FULL", 10)])
    products = {r["product_code"]: r for r in harness.rows("products", "product_code", None)}
    assert set(PRODUCT_CODES) <= set(products)
    assert products["CREDITLIMIT"]["topic"] == "credit_insurance_cover" and products["CREDITLIMIT"]["gives_cover"]
    assert products["CREDITLIMIT"]["seen_in_history"] == 1 and not products["SCOREMON"]["gives_cover"]
    statuses = {r["status"] for r in harness.rows("delivery_statuses", "status", None)}
    assert set(DELIVERY_STATUSES) <= statuses
    orders = {r["status"]: r for r in harness.rows("order_statuses", "status", None)}
    assert orders["STATUS_ANNULED"]["outcome"] == "annulled" and orders["STATUS_PENDING_ON_HOLD"]["is_pending"]

"""A few nights of landed data exercising what makes history hard, landed with the real writer.

Night 1: first decisions, a pending order under a temporary number, notifications, reference lists.
Night 2: the temporary number is resolved, a decision is reduced, an overdue is declared.
Night 3: night 1's deliveries partition is re-run (its first run is superseded), a company is renamed,
         a reconciliation snapshot lists the portfolio.
Night 4: a second snapshot no longer lists one product (deleted) and quarantines a company's damaged
         record (still listed), an order is annulled on a re-poll, the overdue progresses, a customer
         reference is set.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from resources.landing import LandingStore
from tests.support.landing_builder import land, ts
from tests.support.policies import TEST_POLICY

COMPANY = {"company_name": "ACME", "country_code": "FRA", "city": "Paris", "is_head_office": True,
           "legal_identifiers": '[{"type":"SIREN_FRA","value":"123"}]'}


def delivery_row(delivery_id, easy, product, at, status, amount, **extra):
    """A landed delivery row (typed columns) decided at ``at`` (``YYYY-MM-DD HH:MM`` UTC)."""
    return {"delivery_id": delivery_id, "external_id": f"E{delivery_id}", "order_id": f"O{delivery_id}",
            "easy_number": easy, "product_code": product, "status": status, "decision_at": ts(at),
            "amount_value": amount, "amount_currency": "EUR", **extra}


def listing_row(easy, product, delivery_id=None, at=None, status=None, amount=None, company=None, **extra):
    """A landed portfolio (or snapshot) row of ``easy`` × ``product``, its last decision at ``at``."""
    return {**(company or COMPANY), "easy_number": easy, "product_code": product,
            "order_id": extra.pop("order_id", f"O{delivery_id}"), "order_date": ts("2025-01-01").date(),
            "delivery_id": delivery_id, "external_id": f"E{delivery_id}" if delivery_id else None,
            "status": status, "decision_at": ts(at) if at else None, "amount_value": amount,
            "amount_currency": "EUR" if amount else None, **extra}


def _notification(delivery_id, easy, product, at, status):
    return {"notification_id": f"N{delivery_id}", "external_id": f"E{delivery_id}", "event_type": "DECISION",
            "event_at": ts(at), "easy_number": easy, "product_code": product, "order_id": f"O{delivery_id}",
            "status": status}


def night_1(store: LandingStore) -> None:
    """Land night 1 (see the module doc)."""
    at = "2025-01-02 02:00"
    land(store, "deliveries", "2025-01-01", "n1", [
        delivery_row("D1", "100", "CREDITLIMIT", "2025-01-01 10:00", "DECIDED_FULL", Decimal(1000)),
        delivery_row("D2", "200", "CREDITLIMIT", "2025-01-01 11:00", "DECIDED_FULL", Decimal(2000)),
    ], at)
    land(store, "portfolio", "2025-01-01", "n1", [
        listing_row("100", "CREDITLIMIT", "D1", "2025-01-01 10:00", "DECIDED_FULL", Decimal(1000)),
        listing_row("200", "CREDITLIMIT", "D2", "2025-01-01 11:00", "DECIDED_FULL", Decimal(2000),
                 company={**COMPANY, "company_name": "BETA", "country_code": "DEU"}),
        listing_row("Z7", "ECL", order_id="O7", order_status="STATUS_PENDING_DEBTOR_VALIDATION",
                 temporary_easy_number="Z7", company={**COMPANY, "company_name": "Gamma (as requested)"}),
    ], at)
    land(store, "orders", "2025-01-01", "n1", [
        {"order_id": "O7", "easy_number": "Z7", "temporary_easy_number": "Z7", "product_code": "ECL",
         "order_at": ts("2025-01-01 09:00"), "status": "STATUS_PENDING_DEBTOR_VALIDATION",
         "status_at": ts("2025-01-01 09:00")},
    ], at)
    land(store, "notifications", "2025-01-01", "n1", [
        _notification("D1", "100", "CREDITLIMIT", "2025-01-01 10:00", "DECIDED_FULL"),
        _notification("D2", "200", "CREDITLIMIT", "2025-01-01 11:00", "DECIDED_FULL"),
    ], at)
    land(store, "countries", None, "n1", [{"country_code": "FRA", "name": "France"}], at)
    land(store, "policies", None, "n1", [{"policy_number": store.policy or TEST_POLICY, "customer_name": "ACME",
                                          "currency": "EUR"}], at)


def night_2(store: LandingStore) -> None:
    """Land night 2 (see the module doc)."""
    at = "2025-01-03 02:00"
    land(store, "deliveries", "2025-01-02", "n2", [
        delivery_row("D7", "700", "ECL", "2025-01-02 09:00", "DECIDED_FULL", Decimal(700), order_id="O7",
                  temporary_easy_number="Z7"),
        delivery_row("D3", "100", "CREDITLIMIT", "2025-01-02 15:00", "REDUCED", Decimal(600)),
    ], at)
    land(store, "portfolio", "2025-01-02", "n2", [
        listing_row("700", "ECL", "D7", "2025-01-02 09:00", "DECIDED_FULL", Decimal(700), order_id="O7",
                 temporary_easy_number="Z7", company={**COMPANY, "company_name": "GAMMA SA"}),
        listing_row("100", "CREDITLIMIT", "D3", "2025-01-02 15:00", "REDUCED", Decimal(600)),
    ], at)
    land(store, "orders", "2025-01-02", "n2", [
        {"order_id": "O7", "easy_number": "700", "temporary_easy_number": "Z7", "product_code": "ECL",
         "order_at": ts("2025-01-01 09:00"), "status": "STATUS_CLOSED", "status_at": ts("2025-01-02 09:00"),
         "delivery_id": "D7"},
        {"order_id": "O8", "easy_number": "200", "product_code": "ECL", "order_at": ts("2025-01-02 08:00"),
         "status": "STATUS_PENDING_UNDERWRITING", "status_at": ts("2025-01-02 08:00")},
    ], at)
    land(store, "notifications", "2025-01-02", "n2", [
        _notification("D7", "700", "ECL", "2025-01-02 09:00", "DECIDED_FULL"),
        _notification("D3", "100", "CREDITLIMIT", "2025-01-02 15:00", "REDUCED"),
    ], at)
    land(store, "overdues", "2025-01-02", "n2", [
        {"overdue_id": "OV1", "easy_number": "200", "debt_type": "CI", "status": "PENDING",
         "created_at": ts("2025-01-02 10:00"), "updated_at": ts("2025-01-02 10:00"),
         "outstanding_amount_value": Decimal("500.00"), "outstanding_amount_currency": "EUR"},
    ], at)


def night_3(store: LandingStore) -> None:
    """Land night 3 (see the module doc)."""
    at = "2025-01-04 02:00"
    # Re-run of night 1's deliveries: D2's amount was corrected; the first run is superseded.
    land(store, "deliveries", "2025-01-01", "n3-rerun", [
        delivery_row("D1", "100", "CREDITLIMIT", "2025-01-01 10:00", "DECIDED_FULL", Decimal(1000)),
        delivery_row("D2", "200", "CREDITLIMIT", "2025-01-01 11:00", "DECIDED_FULL", Decimal(2500)),
    ], at)
    land(store, "portfolio_snapshot", "2025-01-04", "n3", [
        listing_row("100", "CREDITLIMIT", "D3", "2025-01-02 15:00", "REDUCED", Decimal(600),
                 company={**COMPANY, "company_name": "ACME HOLDING"}),
        listing_row("200", "CREDITLIMIT", "D2", "2025-01-01 11:00", "DECIDED_FULL", Decimal(2500),
                 company={**COMPANY, "company_name": "BETA", "country_code": "DEU"}),
        listing_row("200", "ECL", order_id="O8", order_status="STATUS_PENDING_UNDERWRITING",
                 company={**COMPANY, "company_name": "BETA", "country_code": "DEU"}),
        listing_row("700", "ECL", "D7", "2025-01-02 09:00", "DECIDED_FULL", Decimal(700), order_id="O7",
                 company={**COMPANY, "company_name": "GAMMA SA"}),
    ], "2025-01-04 03:00")


def night_4(store: LandingStore) -> None:
    """Land night 4 (see the module doc)."""
    at = "2025-01-05 02:00"
    land(store, "portfolio_snapshot", "2025-01-05", "n4", [  # 200 × CREDITLIMIT is gone: deleted
        listing_row("200", "ECL", order_id="O8", order_status="STATUS_PENDING_UNDERWRITING",
                 company={**COMPANY, "company_name": "BETA", "country_code": "DEU"}),
        listing_row("700", "ECL", "D7", "2025-01-02 09:00", "DECIDED_FULL", Decimal(700), order_id="O7",
                 company={**COMPANY, "company_name": "GAMMA SA"}),
    ], "2025-01-05 03:00", quarantined=[  # 100's record is damaged: 100 × CREDITLIMIT is still listed
        '{"easyNumber": "100", "products": [{"productCode": "CREDITLIMIT", "orderDate": "2025-13-32"}]}'])
    land(store, "order_polls", "2025-01-05", "n4", [
        {"order_id": "O8", "easy_number": "200", "product_code": "ECL", "order_at": ts("2025-01-02 08:00"),
         "status": "STATUS_ANNULED", "status_at": ts("2025-01-04 17:00")},
    ], at)
    land(store, "overdues", "2025-01-04", "n4", [
        {"overdue_id": "OV1", "easy_number": "200", "debt_type": "CI", "status": "IN_PROGRESS",
         "created_at": ts("2025-01-02 10:00"), "updated_at": ts("2025-01-04 12:00"),
         "outstanding_amount_value": Decimal("300.00"), "outstanding_amount_currency": "EUR"},
    ], at)
    land(store, "customer_references", "2025-01-05", "n4", [
        {"easy_number": "100", "customer_reference": "C-100", "updated_at": ts("2025-01-04 08:00")}], at)


NIGHTS: tuple[Callable[[LandingStore], None], ...] = (night_1, night_2, night_3, night_4)


def scenario_warehouse(url: str, root) -> tuple:
    """A warehouse at ``url`` built from every night of the scenario landed under ``root``: (warehouse,
    its landing store)."""
    from resources.warehouse import Warehouse

    store = LandingStore(str(root / "landing"), policy=TEST_POLICY)
    for night in NIGHTS:
        night(store)
    warehouse = Warehouse(url)
    warehouse.build(store)
    return warehouse, store

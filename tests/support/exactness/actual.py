"""What the warehouse holds: the history tables read back, normalized as the oracle's rows are (see
`values`), grouped by key in version order; and the fields compared per table."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from tests.support.exactness.values import day, json_list, money, ts

DECISION_FIELDS = ("change_kind", "valid_from", "valid_to", "delivery_id", "external_id", "order_id",
                   "temporary_easy_number", "status", "decision_at", "effective_date", "expiry_date",
                   "amount_value", "amount_currency", "requested_amount_value", "requested_amount_currency",
                   "conditions", "source_stream")
ORDER_FIELDS = ("easy_number", "temporary_easy_number", "product_code", "order_at", "status", "status_at",
                "requested_amount_value", "requested_amount_currency", "delivery_id", "rejection_reasons",
                "valid_from", "valid_to", "change_kind")
OVERDUE_FIELDS = ("easy_number", "customer_reference", "debt_type", "status", "created_at", "updated_at",
                  "intervention_requested", "non_payment_reason", "total_amount_value", "total_amount_currency",
                  "outstanding_amount_value", "outstanding_amount_currency", "indemnified_amount_value",
                  "indemnified_amount_currency", "indemnified_on", "invoices", "payments", "valid_from",
                  "valid_to", "change_kind")
_TIMESTAMPS = {"valid_from", "valid_to", "decision_at", "order_at", "status_at", "created_at", "updated_at",
               "recorded_at", "resolved_at"}
_DATES = {"effective_date", "expiry_date", "indemnified_on"}
_MONEY = {"amount_value", "requested_amount_value", "total_amount_value", "outstanding_amount_value",
          "indemnified_amount_value"}
_JSON = {"conditions", "rejection_reasons", "invoices", "payments"}


def _normalize(row: dict) -> dict:
    """A warehouse row with every compared value in the oracle's form."""
    out = {}
    for name, value in row.items():
        if name in _TIMESTAMPS:
            value = ts(value)
        elif name in _DATES:
            value = day(value)
        elif name in _MONEY:
            value = money(value)
        elif name in _JSON:
            value = json_list(value)
        out[name] = value
    return out


@dataclass
class Actual:
    """The history tables as the warehouse holds them, keyed as `Expected` is."""

    decisions: dict[tuple[str, str], list[dict]]
    orders: dict[str, list[dict]]
    overdues: dict[str, list[dict]]
    links: dict[str, dict]


def actual_history(warehouse, policy: str | None = None) -> Actual:
    """The history tables (of ``policy`` only, when given), normalized, grouped by key in version order."""
    where, params = ("where policy_number = :policy ", {"policy": policy}) if policy else ("", {})

    def query(table: str, order: str) -> list[dict]:
        return warehouse.query(f"select * from history.{table} {where}order by {order}", params)  # noqa: S608

    decisions: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in query("decision_history", "easy_number, product_code, version_no"):
        row = _normalize(row)
        row["row"] = "closing" if row["change_kind"] in ("deleted", "aged_out") else "version"
        decisions[(row["easy_number"], row["product_code"])].append(row)
    orders: dict[str, list[dict]] = defaultdict(list)
    for row in query("order_history", "order_id, version_no"):
        orders[row["order_id"]].append(_normalize(row))
    overdues: dict[str, list[dict]] = defaultdict(list)
    for row in query("overdue_history", "overdue_id, version_no"):
        overdues[row["overdue_id"]].append(_normalize(row))
    links = {row["temporary_easy_number"]: _normalize(row)
             for row in query("easy_number_map", "temporary_easy_number")}
    return Actual(dict(decisions), dict(orders), dict(overdues), links)

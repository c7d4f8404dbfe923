"""The oracle's orders (`order_history`: each distinct state current on some night, from the first night
an order is mentioned until its state is final) and overdue cases (`overdue_history`: each distinct
version a night's listing saw). The rules are in `oracle`'s module doc ("Orders", "Overdue cases")."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import TYPE_CHECKING

from tests.support.exactness.values import amount, day, is_temporary, json_list, ts

if TYPE_CHECKING:
    from tests.support.exactness.oracle import Oracle

FINAL_ORDER_STATUSES = frozenset({"STATUS_CLOSED", "STATUS_REJECTED", "STATUS_ANNULED"})


REPOLL_NIGHTS = 7
"""A pending order the nights' listings stay silent about is re-polled once this many GMT days passed since
its last fetch, on the pipeline's clock (`assets.orders.REPOLL_AFTER`)."""


def _mentions(oracle: Oracle, night) -> dict[str, date]:
    """{orderId: the latest day of D(t) whose landed rows (shown at t) mention it} on one night."""
    latest: dict[str, date] = {}
    for dd in sorted(night.days):
        for d in oracle.deliveries_on.get(dd, []):
            if oracle.shown(d, night.today):
                latest[d["orderId"]] = dd
    for line in oracle.portfolio_rows(night):
        if oracle.names_order(line):
            dd = oracle.line_event_day(line, night.today)
            latest[line["orderId"]] = max(dd, latest.get(line["orderId"], dd))
    return latest


def orders_seen(oracle: Oracle) -> dict[str, list[tuple[date, dict]]]:
    """{orderId: [(night, state fetched)]} for every landed order (damaged orders never land).

    An order is fetched on a night whose landed rows mention it (in the partition of the latest day that
    does), unless it was already fetched for that day on an earlier night (a settling day listed again),
    or when it is still pending and was last fetched at least `REPOLL_NIGHTS` nights before; from its
    first fetch until a fetch finds it final. A state change the listings show late (a decision the API
    lists late) is therefore seen on the night that lists it."""
    mentions = [(night.today, _mentions(oracle, night)) for night in oracle.nights]
    seen: dict[str, list[tuple[date, dict]]] = {}
    fetched_for: dict[str, set[date]] = defaultdict(set)
    last_fetch: dict[str, date] = {}
    for today, mentioned in mentions:
        due = {order for order, dd in mentioned.items() if dd not in fetched_for[order]}
        due |= {order for order, last in last_fetch.items() if (today - last).days >= REPOLL_NIGHTS}
        for order_id in sorted(due):
            if order_id in oracle.damaged_order:
                continue
            states = seen.get(order_id, [])
            if states and states[-1][1]["status"] in FINAL_ORDER_STATUSES:
                continue
            if order_id in mentioned:
                fetched_for[order_id].add(mentioned[order_id])
            state = oracle.order_state(order_id, today)
            if state is None:  # mentioned before any version is visible: nothing to fetch yet
                continue
            seen.setdefault(order_id, states).append((today, state))
            last_fetch[order_id] = today
            if state["status"] in FINAL_ORDER_STATUSES:
                last_fetch.pop(order_id)
    return seen


def orders(seen_orders: dict[str, list[tuple[date, dict]]], resolve: dict[str, str]) -> dict[str, list[dict]]:
    """{orderId: its distinct states seen, in order of statusDate, with their validity}."""
    result = {}
    for order_id, seen in seen_orders.items():
        temps = [s["temporaryEasyNumber"] for _, s in seen if is_temporary(s["temporaryEasyNumber"])]
        temps += [s["easyNumber"] for _, s in seen if is_temporary(s["easyNumber"])]
        states: dict[tuple, dict] = {}
        for night, s in seen:
            value, currency = amount(s["requestedAmount"])
            row = {
                "easy_number": resolve.get(s["easyNumber"], s["easyNumber"]),
                "status": s["status"],
                "status_at": ts(s["statusDate"]),
                "requested_amount_value": value,
                "requested_amount_currency": currency,
                "delivery_id": s["deliveryId"],
                "rejection_reasons": json_list(s["rejectionReasons"]),
            }
            identity = tuple(row.values())
            if identity not in states:
                row.update({"temporary_easy_number": max(temps) if temps else None,
                            "product_code": s["productCode"], "order_at": ts(s["orderDate"]),
                            "valid_from": ts(s["statusDate"]), "change_kind": _order_kind(s["status"]),
                            "recorded_day": night})
                states[identity] = row
        result[order_id] = _chained(sorted(states.values(), key=lambda r: r["valid_from"]))
    return result


def _order_kind(status: str) -> str:
    return {"STATUS_ANNULED": "annulled", "STATUS_REJECTED": "rejected", "STATUS_CLOSED": "closed"}.get(
        status, "observed")


def overdues(oracle: Oracle, resolve: dict[str, str]) -> dict[str, list[dict]]:
    """{overdueId: the versions the nights' listings saw, in version order, with their validity}."""
    seen: dict[str, dict[int, tuple[date, dict]]] = defaultdict(dict)
    for night in oracle.nights:
        days = set(night.days)
        for overdue_id in oracle.versions_of_overdue:
            damage = oracle.damaged_overdue.get(overdue_id)
            if damage is not None and damage["kind"] == "missing_id":
                continue
            state = oracle.overdue_state(overdue_id, night.today)
            if state is not None and day(state["lastUpdateDate"]) in days and oracle.shown(state, night.today):
                seen[overdue_id].setdefault(state["version"], (night.today, state))
    return {overdue_id: _chained([_overdue_row(v, night, resolve) for _, (night, v) in sorted(versions.items())])
            for overdue_id, versions in seen.items()}


def _overdue_row(v: dict, night: date, resolve: dict[str, str]) -> dict:
    """The history row of an overdue version first seen on `night` (validity still open)."""
    indemnification = v.get("indemnification") or {}
    total, total_currency = amount(v.get("totalAmount"))
    outstanding, outstanding_currency = amount(v.get("outstandingAmount"))
    indemnified, indemnified_currency = amount(indemnification.get("amount"))
    return {
        "easy_number": resolve.get(v["easyNumber"], v["easyNumber"]),
        "customer_reference": v.get("customerReference"),
        "debt_type": v["debtType"],
        "status": v["status"],
        "created_at": ts(v["creationDate"]),
        "updated_at": ts(v["lastUpdateDate"]),
        "intervention_requested": v.get("interventionRequested"),
        "non_payment_reason": v.get("nonPaymentReason"),
        "total_amount_value": total,
        "total_amount_currency": total_currency,
        "outstanding_amount_value": outstanding,
        "outstanding_amount_currency": outstanding_currency,
        "indemnified_amount_value": indemnified,
        "indemnified_amount_currency": indemnified_currency,
        "indemnified_on": day(indemnification.get("date")),
        "invoices": json_list(v.get("invoices") or []),
        "payments": json_list(v.get("payments") or []),
        "valid_from": ts(v["lastUpdateDate"]),
        "change_kind": {"REJECTED": "rejected", "CLOSED": "closed"}.get(v["status"], "observed"),
        "recorded_day": night,
    }


def _chained(rows: list[dict]) -> list[dict]:
    """The rows, in order, each valid until the next one's valid_from (the last one still open)."""
    for i, row in enumerate(rows):
        row["valid_to"] = rows[i + 1]["valid_from"] if i + 1 < len(rows) else None
    return rows

"""The oracle's decisions (`decision_history`): which deliveries the API exposed and when, their versions
per (definitive easy number, product), and the closing rows the reconciliation snapshots imply. The
rules are in `oracle`'s module doc ("Decisions", "Closing rows")."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from tests.support.exactness.values import amount, day, json_list, retention_start, ts, visible_before

if TYPE_CHECKING:
    from tests.support.exactness.oracle import Oracle

Key = tuple[str, str]  # (definitive easy number, product code)


@dataclass
class DeliveriesSeen:
    """The first night each exposed delivery was seen, by the way it was seen."""

    detail: dict[str, date]  # {deliveryId: night its detail first landed}
    portfolio: dict[str, date]  # {deliveryId: first night a landed portfolio row showed it}
    snapshot: dict[str, date]  # {deliveryId: first snapshot night listing it}
    pushed: dict[str, date]  # {deliveryId: day a push landing fetched its detail}


def deliveries_seen(oracle: Oracle) -> DeliveriesSeen:
    """Night by night: the deliveries whose detail landed, and those a landed portfolio or snapshot row
    showed as a line's last decision."""
    seen = DeliveriesSeen({}, {}, {}, {d: p for d, p in oracle.pushed.items() if d not in oracle.damaged_delivery})
    for night in oracle.nights:
        active_current = {ln["deliveryId"] for ln in night.lines if ln["active"] and ln["deliveryId"]}
        horizon = visible_before(retention_start(night.today))
        fetched = {d["deliveryId"] for dd in night.days for d in oracle.deliveries_on.get(dd, [])
                   if oracle.shown(d, night.today)}
        for ln in oracle.portfolio_rows(night):
            if ln["deliveryId"] and oracle.landed(ln):
                fetched.add(ln["deliveryId"])
                seen.portfolio.setdefault(ln["deliveryId"], night.today)
        for delivery_id in fetched:
            served = oracle.delivery[delivery_id]["decisionDate"] >= horizon or delivery_id in active_current
            if served and delivery_id not in oracle.damaged_delivery:
                seen.detail.setdefault(delivery_id, night.today)
        if night.today in oracle.snapshot_days:
            for ln in night.lines:
                if ln["listed"] and ln["deliveryId"] and oracle.landed(ln):
                    seen.snapshot.setdefault(ln["deliveryId"], night.today)
    return seen


def decisions(oracle: Oracle, seen: DeliveriesSeen, resolve: dict[str, str], links: dict[str, dict]
              ) -> dict[Key, list[dict]]:
    """{key: the versions of the key in order, each followed by its closing row when it has one}."""
    by_key = _versions(oracle, seen, resolve, links)
    listed_by_snapshot = _snapshot_keys(oracle, resolve, listed_only=True)
    in_truth_by_snapshot = _snapshot_keys(oracle, resolve, listed_only=False)
    result = {}
    for key, versions in by_key.items():
        versions.sort(key=lambda v: (v["valid_from"], v["delivery_id"]))
        rows: list[dict] = []
        for i, version in enumerate(versions):
            next_at = versions[i + 1]["valid_from"] if i + 1 < len(versions) else None
            closing = _closing(oracle, key, version, next_at, listed_by_snapshot, in_truth_by_snapshot)
            version["valid_to"] = closing["valid_from"] if closing else next_at
            rows.append(version)
            if closing:
                closing["valid_to"] = next_at
                closing["temporary_easy_number"] = version["temporary_easy_number"]
                rows.append(closing)
        result[key] = rows
    return result


def _versions(oracle: Oracle, seen: DeliveriesSeen, resolve: dict[str, str], links: dict[str, dict]
              ) -> dict[Key, list[dict]]:
    """One version row per exposed delivery, grouped by key (not yet in order, validity open)."""
    temp_of_order = {link["orderId"]: z for z, link in links.items()}
    exposed = set(seen.detail) | set(seen.portfolio) | set(seen.snapshot) | set(seen.pushed)
    by_key: dict[Key, list[dict]] = defaultdict(list)
    for delivery_id in exposed:
        d = oracle.delivery[delivery_id]
        has_detail = delivery_id in seen.detail or delivery_id in seen.pushed
        value, currency = amount(d["amount"])
        req_value, req_currency = amount(d["requestedAmount"]) if has_detail else (None, None)
        first_seen = min(n for n in (seen.detail.get(delivery_id), seen.portfolio.get(delivery_id),
                                     seen.snapshot.get(delivery_id), seen.pushed.get(delivery_id)) if n is not None)
        key = (resolve.get(d["easyNumber"], d["easyNumber"]), d["productCode"])
        by_key[key].append({
            "row": "version",
            "delivery_id": delivery_id,
            "external_id": d["externalId"],
            "order_id": d["orderId"],
            "temporary_easy_number": d["temporaryEasyNumber"] or temp_of_order.get(d["orderId"]),
            "status": d["status"],
            "decision_at": ts(d["decisionDate"]),
            "effective_date": day(d["effectiveDate"]),
            "expiry_date": day(d["expiryDate"]),
            "amount_value": value,
            "amount_currency": currency,
            "requested_amount_value": req_value,
            "requested_amount_currency": req_currency,
            "conditions": json_list(d["conditions"]) if has_detail else None,
            "change_kind": _decision_kind(d["status"]),
            "source_stream": "deliveries" if delivery_id in seen.detail else
                             "deliveries_push" if delivery_id in seen.pushed else
                             "portfolio" if delivery_id in seen.portfolio else "portfolio_snapshot",
            "valid_from": ts(d["decisionDate"]),
            "recorded_day": first_seen,
        })
    return by_key


def _decision_kind(status: str | None) -> str:
    return {"WITHDRAWN": "withdrawn", "CANCELLED": "cancelled", "EXPIRED": "expired"}.get(status, "observed")


def _snapshot_keys(oracle: Oracle, resolve: dict[str, str], listed_only: bool) -> dict[date, set[Key]]:
    """The keys of each snapshot night's truth lines; with `listed_only`, the keys the snapshot listed, as
    the API listed them: a company whose record was served damaged was listed all the same (a
    quarantined record is not an absence)."""
    return {n.today: {(resolve.get(ln["easyNumber"], ln["easyNumber"]), ln["productCode"])
                      for ln in n.lines if ln["listed"] or not listed_only}
            for n in oracle.snapshot_nights}


def _closing(oracle: Oracle, key: Key, version: dict, next_at: datetime | None, listed: dict[date, set[Key]],
             in_truth: dict[date, set[Key]]) -> dict | None:
    """The closing row of a version: the first readable snapshot after the last one listing the key
    while the version was current (or after its decision), before the next version; None when none."""
    times = oracle.snapshot_times
    start = version["valid_from"]
    inside = [(times[s], s) for s in sorted(times) if times[s] >= start and (next_at is None or times[s] < next_at)]
    listing = [at for at, s in inside if key in listed[s]]
    after = max(listing) if listing else start
    closers = [(at, s) for at, s in inside if at > after and s not in oracle.unreadable_snapshots]
    if not closers:
        return None
    at, s = closers[0]
    return {"row": "closing", "change_kind": "aged_out" if key in in_truth[s] else "deleted",
            "valid_from": at, "source_stream": "portfolio_snapshot", "recorded_day": s}

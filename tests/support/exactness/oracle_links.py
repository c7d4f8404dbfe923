"""The oracle's temporary numbers (`easy_number_map`): the truth links (Z, definitive, order) some landed
record exposed. The rule is in `oracle`'s module doc ("Temporary numbers")."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from tests.support.exactness.values import is_temporary

if TYPE_CHECKING:
    from tests.support.exactness.oracle import Oracle
    from tests.support.exactness.oracle_decisions import DeliveriesSeen


def links_exposed(oracle: Oracle, seen_orders: dict[str, list[tuple[date, dict]]], seen: DeliveriesSeen
                  ) -> dict[str, dict]:
    """The truth links some landed record exposed: {Z: link}. A record exposes a link when it carries
    both numbers, or when the same order was seen under both."""
    evidence: set[str] = set()
    under_z: set[str] = set()
    under_definitive: set[str] = set()
    for states in seen_orders.values():
        for _, state in states:
            if is_temporary(state["temporaryEasyNumber"]) and not is_temporary(state["easyNumber"]):
                evidence.add(state["temporaryEasyNumber"])
            (under_z if is_temporary(state["easyNumber"]) else under_definitive).add(state["orderId"])
    for delivery_id in {**seen.detail, **seen.pushed}:  # a detail landed by pull or by push
        d = oracle.delivery[delivery_id]
        if is_temporary(d["temporaryEasyNumber"]) and not is_temporary(d["easyNumber"]):
            evidence.add(d["temporaryEasyNumber"])
        under_definitive.add(d["orderId"])
    for night in oracle.nights:
        rows = [ln for ln in oracle.portfolio_rows(night) if oracle.landed(ln)]
        if night.today in oracle.snapshot_days:
            rows += [ln for ln in night.lines if ln["listed"] and oracle.landed(ln)]
        for ln in rows:
            if is_temporary(ln["temporaryEasyNumber"]) and not is_temporary(ln["easyNumber"]):
                evidence.add(ln["temporaryEasyNumber"])
            (under_z if is_temporary(ln["easyNumber"]) else under_definitive).add(ln["orderId"])
    both = under_z & under_definitive
    links = {}
    for link in oracle.truth.easy_number_links:
        if link["temporaryEasyNumber"] in evidence or link["orderId"] in both:
            links[link["temporaryEasyNumber"]] = link
    return links

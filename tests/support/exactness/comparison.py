"""The comparison: the warehouse's history tables against the oracle's expected history, field by field
and version by version, plus the landing zone's quarantine; nothing is tolerated.

`compare_with_truth(driver)` is the one call for tests and the soak: it derives the expected history
from the sandbox's truth and the driver's nights, reads the warehouse and the landing zone, and returns
the `Report`.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from typing import TYPE_CHECKING

from tests.support.exactness.actual import (
    DECISION_FIELDS,
    ORDER_FIELDS,
    OVERDUE_FIELDS,
    Actual,
    actual_history,
)
from tests.support.exactness.oracle import Expected, Oracle, Truth, snapshot_times
from tests.support.exactness.quarantine import quarantine_discrepancies
from tests.support.exactness.references import reference_discrepancies
from tests.support.exactness.report import Discrepancy, Report, show
from tests.support.exactness.values import ts, visible_before

if TYPE_CHECKING:
    from tests.support.exactness.driver import NightlyDriver


def _compare_rows(entity: str, key, expected: list[dict], got: list[dict], fields: tuple[str, ...],
                  align: str | None, out: list[Discrepancy]) -> None:
    """Compare two version lists of one key, field by field; rows aligned by position or by `align`."""
    if len(expected) != len(got):
        exp_ids = [_row_id(r, align) for r in expected]
        got_ids = [_row_id(r, align) for r in got]
        out.append(Discrepancy(entity, key, exp_ids, got_ids, f"{len(expected)} versions expected, {len(got)} got"))
        return
    for number, (e, g) in enumerate(zip(expected, got, strict=True), start=1):
        diffs = {f: (e.get(f), g.get(f)) for f in fields if e.get(f) != g.get(f)}
        if diffs:
            out.append(Discrepancy(entity, (key, number), {f: d[0] for f, d in diffs.items()},
                                   {f: d[1] for f, d in diffs.items()}, f"version {number}"))


def _row_id(row: dict, align: str | None):
    """How a row is named when the version counts differ: closing rows by kind and time, others by
    `align` (or status and valid_from)."""
    if row.get("row") == "closing":
        return ("closing", row.get("change_kind"), row.get("valid_from"))
    if align:
        return row.get(align)
    return (row.get("status"), row.get("valid_from"))


def compare(expected: Expected, actual: Actual) -> Report:
    """Every discrepancy between the expected and the actual history (an empty list when exact)."""
    out: list[Discrepancy] = []
    for key in sorted(set(expected.decisions) | set(actual.decisions)):
        exp = expected.decisions.get(key, [])
        got = actual.decisions.get(key, [])
        _compare_rows("decision_history", key, exp, got, DECISION_FIELDS, "delivery_id", out)
    for order_id in sorted(set(expected.orders) | set(actual.orders)):
        _compare_rows("order_history", order_id, expected.orders.get(order_id, []),
                      actual.orders.get(order_id, []), ORDER_FIELDS, None, out)
    for overdue_id in sorted(set(expected.overdues) | set(actual.overdues)):
        _compare_rows("overdue_history", overdue_id, expected.overdues.get(overdue_id, []),
                      actual.overdues.get(overdue_id, []), OVERDUE_FIELDS, None, out)
    for z in sorted(set(expected.links) | set(actual.links)):
        link, got = expected.links.get(z), actual.links.get(z)
        want = None if link is None else {"easy_number": link["easyNumber"], "order_id": link["orderId"],
                                          "candidate_count": 1}
        have = None if got is None else {k: got[k] for k in ("easy_number", "order_id", "candidate_count")}
        if want != have:
            out.append(Discrepancy("easy_number_map", z, want, have))
    out += _recorded_days(expected, actual)
    out += _keyed_by_definitive(expected, actual)
    counts = {
        "decision_keys": len(expected.decisions),
        "decision_versions": sum(1 for rows in expected.decisions.values() for r in rows if r["row"] == "version"),
        "closing_rows": sum(1 for rows in expected.decisions.values() for r in rows if r["row"] == "closing"),
        "aged_out": sum(1 for rows in expected.decisions.values() for r in rows
                        if r.get("change_kind") == "aged_out"),
        "deleted": sum(1 for rows in expected.decisions.values() for r in rows
                       if r["row"] == "closing" and r.get("change_kind") == "deleted"),
        "not_shown_yet": not_shown_yet(expected),
        "orders": len(expected.orders),
        "order_versions": sum(len(rows) for rows in expected.orders.values()),
        "overdues": len(expected.overdues),
        "overdue_versions": sum(len(rows) for rows in expected.overdues.values()),
        "links": len(expected.links),
        "snapshots": len(expected.snapshot_times),
    }
    return Report(out, counts)


def not_shown_yet(expected: Expected) -> int:
    """The decisions a snapshot's listing could not show yet: made on its as-of day, at or after its time
    (00:00:00Z, the API's today), so absent from it without being deleted. The oracle closes none of
    them; a snapshot timed by its extraction instead would have closed each one as `deleted`."""
    day = timedelta(days=1)
    return sum(1 for rows in expected.decisions.values() for r in rows if r["row"] == "version"
               and any(at <= r["valid_from"] < at + day for at in expected.snapshot_times.values()))


def expected_documents(driver: NightlyDriver, truth: Truth, expected: Expected) -> set[tuple]:
    """(overdueId, fileName, uploadDate) of every document the API served on the last night: each of a
    case the nights listed (a document is added whenever the customer wants, without updating the case:
    every night asks for the documents of every case it knows), uploaded before that night."""
    last = visible_before(driver.nights[-1].today)
    return {(d["overdueId"], d["fileName"], ts(d["uploadDate"])) for d in truth.overdue_documents
            if d["overdueId"] in expected.overdues and d["uploadDate"] < last}


def document_discrepancies(driver: NightlyDriver, truth: Truth, expected: Expected,
                           warehouse_url: str | None = None, policy: str | None = None) -> list[Discrepancy]:
    """Documents of `stg_overdue_documents` (of ``policy``, when given) missing or extra against
    :func:`expected_documents`."""
    want = expected_documents(driver, truth, expected)
    rows = driver.warehouse(warehouse_url).query(
        "select distinct overdue_id, file_name, uploaded_at from staging.stg_overdue_documents "
        "where policy_number = coalesce(:policy, policy_number)", {"policy": policy})
    got = {(r["overdue_id"], r["file_name"], ts(r["uploaded_at"])) for r in rows}
    return [Discrepancy("overdue_documents", key, key in want, key in got) for key in sorted(want ^ got)]


def shown_late(expected: Expected, truth: Truth) -> int:
    """The decisions in history whose notification the lists showed only after the night that first
    listed their day (the sandbox's late fault): recorded on a later night, by the settling window."""
    late = {d["deliveryId"] for d in truth.deliveries
            if d.get("listedFrom") and d["listedFrom"][:10] > d["decisionDate"][:10]}
    return sum(1 for rows in expected.decisions.values() for r in rows
               if r["row"] == "version" and r.get("delivery_id") in late)


def _recorded_days(expected: Expected, actual: Actual) -> list[Discrepancy]:
    """recorded_at falls on the night the version was first seen (compared where the versions match)."""
    out = []
    tables = (("decision_history", expected.decisions, actual.decisions),
              ("order_history", expected.orders, actual.orders),
              ("overdue_history", expected.overdues, actual.overdues))
    for entity, exp_table, got_table in tables:
        for key, exp in exp_table.items():
            got = got_table.get(key, [])
            if len(got) != len(exp):
                continue
            for number, (e, g) in enumerate(zip(exp, got, strict=True), start=1):
                recorded = g.get("recorded_at")
                if recorded is None or recorded.date() != e["recorded_day"]:
                    out.append(Discrepancy(entity, (key, number), f"recorded on night {e['recorded_day']}",
                                           show(recorded), "recorded_at"))
    return out


def _keyed_by_definitive(expected: Expected, actual: Actual) -> list[Discrepancy]:
    """No history row is keyed by a temporary number the map resolves."""
    resolved = set(expected.links)
    out = []
    for key in actual.decisions:
        if key[0] in resolved:
            out.append(Discrepancy("decision_history", key, "keyed by the definitive number", key[0]))
    for table, rows_by_key in (("order_history", actual.orders), ("overdue_history", actual.overdues)):
        for key, rows in rows_by_key.items():
            for row in rows:
                if row.get("easy_number") in resolved:
                    out.append(Discrepancy(table, key, "a definitive easy number", row["easy_number"]))
    return out


def compare_with_truth(driver: NightlyDriver, truth: Truth | None = None, warehouse_url: str | None = None,
                       pushed: dict[str, date] | None = None) -> Report:
    """Compare a warehouse of the driver (default: its primary) and its landing zone with the truth
    (default: the sandbox's truth now); with push on, ``pushed`` is `PushOn.pushed` (the oracle's rule
    "Push"). An account of several policies is compared policy by policy (each
    policy's truth with its rows and its zone; ``truth`` is then ignored); the reports add up, each
    discrepancy's key led by its policy."""
    policies = driver.sb.policies
    if len(policies) == 1:
        return _compare_policy(driver, truth or Truth.load(driver.sb), warehouse_url, None, pushed)
    reports = [_compare_policy(driver, Truth.load(driver.sb, policy), warehouse_url, policy, pushed)
               for policy in policies]
    total = reports[0]
    for policy, report in zip(policies, reports, strict=True):
        for found in report.discrepancies:
            found.key = (policy, found.key)
    for report in reports[1:]:
        total.discrepancies += report.discrepancies
        for name, value in report.counts.items():
            total.counts[name] = total.counts.get(name, 0) + value
    return total


def _compare_policy(driver: NightlyDriver, truth: Truth, warehouse_url: str | None, policy: str | None,
                    pushed: dict[str, date] | None) -> Report:
    store = driver.store(policy)
    nights = driver.nights if policy is None else [  # each night's portfolio lines of this policy
        dataclasses.replace(n, lines=[ln for ln in n.lines if ln.get("policyNumber") == policy]) for n in driver.nights]
    mine = {d["deliveryId"] for d in truth.deliveries}
    expected = Oracle(truth, nights, snapshot_times(store),
                      {d: p for d, p in (pushed or {}).items() if d in mine}).expected()
    actual = actual_history(driver.warehouse(warehouse_url), policy)
    report = compare(expected, actual)
    report.expected, report.actual = expected, actual
    report.discrepancies += document_discrepancies(driver, truth, expected, warehouse_url, policy)
    report.counts["documents"] = len(expected_documents(driver, truth, expected))
    resolve = {z: link["easyNumber"] for z, link in expected.links.items()}
    references, counted = reference_discrepancies(driver.warehouse(warehouse_url), truth, nights, resolve, policy)
    report.discrepancies += references
    report.counts.update(counted)
    quarantine, counts = quarantine_discrepancies(store, truth)
    report.discrepancies += quarantine
    report.counts["shown_late"] = shown_late(expected, truth)
    report.counts["malformed_served"] = len(truth.malformed)
    report.counts["quarantined_rows"] = sum(counts.values())
    return report

"""Customer references in the exactness check: the rows `history.customer_reference_history` must hold,
derived from the sandbox's truth (every reference the customer set, erasures included) and the nights
that listed them, by the documented rule (docs/warehouse.md, `customer_reference_history`):

- Each night's list shows, per company, the latest version set before the night's day (an erased one is
  not shown). A company whose record the sandbox serves damaged is quarantined: named when its easyNumber
  is still readable, else the record is unreadable and that night's list closes nothing. A night whose
  list holds no record at all lands no list.
- A version is a (reference, updatedAt) first listed on some night (recorded that night); it holds from its
  updatedAt. A company shown since the last list that could close, and not shown by a list that can, is
  erased from 00:00:00Z of that list's day; an erasure counts only after a version and not twice in a row.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime

from tests.support.exactness.report import Discrepancy
from tests.support.exactness.values import ts, visible_before

FIELDS = ("change_kind", "valid_from", "valid_to", "customer_reference", "updated_at")


def expected_references(truth, nights, resolve: dict[str, str]) -> dict[str, list[dict]]:
    """{easy number: the rows of its history, in version order} (FIELDS plus `recorded_day`); ``resolve``
    maps a temporary number to its definitive one."""
    damaged = truth.damaged("customer_references")
    versions: dict[str, list[dict]] = defaultdict(list)
    for v in sorted(truth.customer_references, key=lambda v: v["version"]):
        versions[v["easyNumber"]].append(v)
    events: dict[str, list[dict]] = defaultdict(list)
    seen: set[tuple] = set()
    since_close: set[str] = set()
    for night in sorted(nights, key=lambda n: n.today):
        shown, unreadable, listed_any = _list_of(versions, damaged, night.today, resolve, events, seen)
        if not listed_any:
            continue
        if unreadable:
            since_close |= shown
            continue
        at = datetime.combine(night.today, datetime.min.time(), UTC)
        for easy in sorted(since_close - shown):
            events[easy].append({"change_kind": "erased", "valid_from": at, "customer_reference": None,
                                 "updated_at": None, "recorded_day": night.today})
        since_close = shown
    return {easy: rows for easy, found in events.items() if (rows := _versions(found))}


def _list_of(versions, damaged, today: date, resolve, events, seen) -> tuple[set[str], bool, bool]:
    """What the list of ``today`` shows: (companies shown, whether a record is unreadable, whether it has
    any record); each version it lists first is appended to ``events``."""
    shown: set[str] = set()
    unreadable = listed_any = False
    for easy, group in versions.items():
        state = None
        for v in group:
            if v["updatedAt"] < visible_before(today):
                state = v
        if state is None or not state["customerReference"]:
            continue
        listed_any = True
        company = resolve.get(easy, easy)
        damage = damaged.get(easy)
        if damage is not None:
            if damage["kind"] == "missing_id":
                unreadable = True
            else:
                shown.add(company)
            continue
        shown.add(company)
        key = (company, state["customerReference"], state["updatedAt"])
        if key not in seen:
            seen.add(key)
            events[company].append({"change_kind": "observed", "valid_from": ts(state["updatedAt"]),
                                    "customer_reference": state["customerReference"],
                                    "updated_at": ts(state["updatedAt"]), "recorded_day": today})
    return shown, unreadable, listed_any


def _versions(found: list[dict]) -> list[dict]:
    """The events kept as versions, each with its valid_to."""
    kept, previous, observed = [], None, False
    for event in found:
        if event["change_kind"] == "observed" or (observed and previous == "observed"):
            kept.append(dict(event))
        observed |= event["change_kind"] == "observed"
        previous = event["change_kind"]
    for row, following in zip(kept, kept[1:] + [None], strict=True):
        row["valid_to"] = following["valid_from"] if following else None
    return kept


def reference_discrepancies(warehouse, truth, nights, resolve: dict[str, str],
                            policy: str | None = None) -> tuple[list[Discrepancy], dict[str, int]]:
    """Rows of `history.customer_reference_history` (of ``policy``, when given) that differ from
    :func:`expected_references`, and how many rows were expected (versions, erasures among them)."""
    want = expected_references(truth, nights, resolve)
    got: dict[str, list[dict]] = defaultdict(list)
    for row in warehouse.query(
            "select easy_number, change_kind, valid_from, valid_to, customer_reference, updated_at, recorded_at "
            "from history.customer_reference_history where policy_number = coalesce(:policy, policy_number) "
            "order by easy_number, version_no", {"policy": policy}):
        got[row["easy_number"]].append({**{f: ts(row[f]) if f in ("valid_from", "valid_to", "updated_at")
                                           else row[f] for f in FIELDS},
                                        "recorded_day": ts(row["recorded_at"]).date()})
    out = []
    for easy in sorted(set(want) | set(got)):
        expected, actual = want.get(easy, []), got.get(easy, [])
        if expected != actual:
            out.append(Discrepancy("customer_reference_history", easy, expected, actual))
    rows = [r for found in want.values() for r in found]
    return out, {"reference_versions": len(rows),
                 "reference_erasures": sum(r["change_kind"] == "erased" for r in rows)}

"""Helpers of the client's integration tests: a client pointed at a live sandbox, a full read of the
contract, and the comparison of what the client returned with the sandbox's ground truth.

Exactness means, per stream: every item of the truth comes back exactly once; a valid Record equals the
truth's document field for field; a Record with ``error`` is one the sandbox served damaged on purpose
(its key is in the sandbox's malformed register), never a silently dropped or duplicated item.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from resources.cofaserve import ClientSettings, CofaServeClient, DateWindow, Record
from sandbox.testing import SandboxHandle, run_sandbox

TODAY = date(2026, 11, 23)
COMPANIES = 200
OVERDUE_STATUSES = ("PENDING", "PENDING_DEBTOR_VALIDATION", "IN_PROGRESS", "INDEMNIFIED", "REJECTED", "CLOSED")


def start_sandbox(**kw: Any):
    """A sandbox on loopback (context manager), small enough for a test."""
    kw.setdefault("seed", 42)
    kw.setdefault("companies", COMPANIES)
    kw.setdefault("today", TODAY)
    return run_sandbox(**kw)


def client_for(sb: SandboxHandle, guard: Path, **overrides: Any) -> CofaServeClient:
    """A client of the sandbox with quick retries (the sandbox's faults are short). Many attempts: a fault
    burst starts on any request, so with several workers fetching, one key can meet bursts back to back
    (12 failures in a row were seen under 10 % server errors in bursts of 3)."""
    creds = sb.credentials
    values: dict[str, Any] = dict(
        base_url=sb.base_url, auth_url=sb.auth_url, username=creds["username"], password=creds["password"],
        api_key=creds["api_key"], policy_number=creds["policy_number"], lockout_dir=guard, page_size=50,
        backoff_base_seconds=0.05, backoff_cap_seconds=1.0, max_attempts=40, max_retry_seconds=120,
        timeout_seconds=10,
    )
    values.update(overrides)
    return CofaServeClient(ClientSettings(**values))


def full_window(sb: SandboxHandle) -> DateWindow:
    """Every day the API still serves: [first available day, today)."""
    clock = sb.clock()
    return DateWindow(date.fromisoformat(clock["firstAvailableDate"]), date.fromisoformat(clock["today"]))


@dataclass
class Read:
    """What one full read of the contract returned, per stream."""

    streams: dict[str, list[Record]] = field(default_factory=dict)
    errors: list[tuple[Any, BaseException]] = field(default_factory=list)


def read_everything(client: CofaServeClient, window: DateWindow, workers: int = 4) -> Read:
    """Notifications in ``window``, the delivery and order of each, the portfolio, overdues, references."""
    read = Read()
    notifications = list(client.iter_notifications(window))
    read.streams["notifications"] = notifications
    delivery_keys = list(dict.fromkeys((n.raw["easyNumber"], n.raw["externalId"]) for n in notifications))
    order_keys = list(dict.fromkeys((n.raw["easyNumber"], n.raw["orderId"]) for n in notifications))
    for stream, fn, keys in (("deliveries", client.get_delivery, delivery_keys), ("orders", client.get_order, order_keys)):
        records = []
        for key, result in client.fetch_many(fn, keys, max_workers=workers):
            if isinstance(result, BaseException):
                read.errors.append((key, result))
            else:
                records.append(result)
        read.streams[stream] = records
    read.streams["portfolio"] = list(client.iter_portfolio())
    read.streams["overdues"] = [r for status in OVERDUE_STATUSES for r in client.iter_overdues(status)]
    read.streams["customer_references"] = list(client.iter_customer_references())
    return read


def _latest(docs: list[dict], key: str) -> dict[str, dict]:
    latest: dict[str, dict] = {}
    for doc in docs:
        previous = latest.get(doc[key])
        if previous is None or doc.get("version", 0) >= previous.get("version", 0):
            latest[doc[key]] = doc
    return {k: {f: v for f, v in d.items() if f != "version"} for k, d in latest.items()}


def expected(sb: SandboxHandle, window: DateWindow) -> dict[str, tuple[str, dict[str, Any]]]:
    """Per stream: (key field, {key: the document the API must serve}) from the sandbox's truth."""
    lo, hi = f"{window.start.isoformat()}T00:00:00Z", f"{window.end.isoformat()}T00:00:00Z"
    notifications = {n["notificationId"]: n for n in sb.truth("notifications") if lo <= n["eventDate"] < hi}
    external_ids = {n["externalId"] for n in notifications.values()}
    order_ids = {n["orderId"] for n in notifications.values()}
    deliveries = {d["deliveryId"]: d for d in sb.truth("deliveries") if d["externalId"] in external_ids}
    orders = {k: v for k, v in _latest(sb.truth("order_versions"), "orderId").items() if k in order_ids}
    companies = {c["easyNumber"]: c for c in sb.truth("companies")}
    refs = {k: v for k, v in _latest(sb.truth("customer_references"), "easyNumber").items() if v["customerReference"]}
    portfolio: dict[str, dict] = {}
    for line in sb.truth("lines"):
        if not line["listed"]:
            continue
        easy = line["easyNumber"]
        company = portfolio.get(easy)
        if company is None:
            company = {k: v for k, v in companies[easy].items() if k != "isTemporary"}
            company["customerReference"] = refs.get(easy, {}).get("customerReference")
            company["products"] = []
            portfolio[easy] = company
        company["products"].append({k: v for k, v in line.items() if k not in ("easyNumber", "active", "listed")})
    for company in portfolio.values():
        company["products"].sort(key=lambda p: p["productCode"])
    overdues = {k: {f: v[f] for f in ("overdueId", "easyNumber", "customerReference", "creationDate",
                                       "lastUpdateDate", "status", "debtType", "interventionRequested")}
                for k, v in _latest(sb.truth("overdue_versions"), "overdueId").items()
                if v["lastUpdateDate"] >= lo}  # cases untouched for two years have left the API
    return {
        "notifications": ("notificationId", notifications),
        "deliveries": ("deliveryId", deliveries),
        "orders": ("orderId", orders),
        "portfolio": ("easyNumber", portfolio),
        "overdues": ("overdueId", overdues),
        "customer_references": ("easyNumber", {k: {f: v[f] for f in ("easyNumber", "customerReference", "updatedAt")}
                                               for k, v in refs.items()}),
    }


def malformed_keys(sb: SandboxHandle) -> dict[str, set[str]]:
    """Keys the sandbox served damaged, per stream (its fault register)."""
    out: dict[str, set[str]] = {}
    for entry in sb.truth("malformed"):
        out.setdefault(entry["stream"], set()).add(entry["key"])
    return out


def _project(served: Any, truth: Any) -> Any:
    """``served`` restricted to the keys ``truth`` has (recursively): the truth export may lag behind a
    field the API added (e.g. ``orderStatusDate``); every key the truth does have must still match."""
    if isinstance(served, dict) and isinstance(truth, dict):
        return {k: _project(served[k], truth[k]) if k in served else served.get(k) for k in truth}
    if isinstance(served, list) and isinstance(truth, list) and len(served) == len(truth):
        return [_project(a, b) for a, b in zip(served, truth, strict=True)]
    return served


def assert_exact(read: Read, truth: dict[str, tuple[str, dict[str, Any]]], damaged: dict[str, set[str]]) -> dict:
    """Assert the read is the truth, item for item, once each; return per-stream counts for reporting."""
    assert read.errors == [], f"per-key failures: {read.errors[:3]}"
    report = {}
    for stream, (key, docs) in truth.items():
        records = read.streams[stream]
        bad_keys = damaged.get(stream, set())
        valid = [r for r in records if r.ok]
        invalid = [r for r in records if not r.ok]
        counts = Counter(r.raw[key] for r in valid)
        duplicates = [k for k, n in counts.items() if n > 1]
        assert duplicates == [], f"{stream}: served twice: {duplicates[:5]}"
        assert len(records) == len(docs), f"{stream}: {len(records)} records for {len(docs)} truth items"
        for record in valid:
            assert record.raw[key] in docs, f"{stream}: {record.raw[key]} is not in the truth"
            truth_doc = docs[record.raw[key]]
            assert _project(record.raw, truth_doc) == truth_doc, f"{stream}: {record.raw[key]} differs from the truth"
            assert record.unknown_fields == (), f"{stream}: fields the model does not know: {record.unknown_fields}"
            assert record.raw[key] not in bad_keys
        missing = set(docs) - set(counts)
        assert missing <= bad_keys, f"{stream}: missing without being damaged: {sorted(missing - bad_keys)[:5]}"
        assert len(missing) == len(invalid), f"{stream}: {len(invalid)} invalid records for {len(missing)} damaged items"
        for record in invalid:
            if isinstance(record.raw, dict) and key in record.raw:
                assert record.raw[key] in missing
        report[stream] = {"items": len(records), "invalid": len(invalid)}
    return report


def test_a_clean_sandbox_reads_exactly(tmp_path):
    with start_sandbox() as sb, client_for(sb, tmp_path / "guard") as client:
        window = full_window(sb)
        read = read_everything(client, window)
        report = assert_exact(read, expected(sb, window), malformed_keys(sb))
        snapshot = client.telemetry.snapshot()
    assert all(r["invalid"] == 0 for r in report.values())
    assert report["notifications"]["items"] > 100 and report["portfolio"]["items"] > 50
    assert snapshot["retries"] == 0 and snapshot["logins"] == 1

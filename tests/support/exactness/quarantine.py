"""The quarantine half of the exactness check: every record the sandbox served damaged is in its
stream's quarantine and missing from the landed rows, and nothing else is quarantined except by-id
fetches the API rightly answered 404 (rule "Quarantine" in `oracle`'s module doc)."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date

from tests.support.exactness.oracle import Truth
from tests.support.exactness.report import Discrepancy
from tests.support.exactness.values import retention_start, ts, visible_before

LANDED_KEY = {"deliveries": (("deliveries", "deliveries_push"), "delivery_id"), "orders": (("orders", "order_polls"), "order_id"),
              "notifications": (("notifications",), "notification_id"),
              "portfolio": (("portfolio", "portfolio_snapshot"), "easy_number"),
              "customer_references": (("customer_references",), "easy_number"),
              "overdues": ((), "overdue_id")}


def quarantine_discrepancies(store, truth: Truth) -> tuple[list[Discrepancy], dict[str, int]]:
    """Damaged records are in quarantine and missing from the landed rows; nothing else is quarantined
    except 404s of records the API no longer served. Returns (discrepancies, quarantined rows per stream).

    Overdue list items are the exception to "missing": a damaged list item that still names its case has
    the case's detail (another record, not damaged) fetched and landed.
    """
    from resources.streams import STREAMS

    out: list[Discrepancy] = []
    identify = _Identifier(truth)
    quarantined: dict[str, set[str]] = defaultdict(set)
    counts: dict[str, int] = {}
    for stream in STREAMS:
        rows = _read_quarantine(store, stream)
        counts[stream] = len(rows)
        for row in rows:
            key = identify(stream, row)
            if key is None:
                out.append(Discrepancy("quarantine", stream, "a damaged record or a 404 of a record not served",
                                       row["raw_json"][:300], (row["reason"] or "")[:300]))
            elif key != "404":
                quarantined[_served_stream(stream)].add(key)
    landed: dict[str, set[str]] = {}
    for entry in truth.malformed:
        stream, key = entry["stream"], entry["key"]
        if key not in quarantined[stream]:
            out.append(Discrepancy("quarantine", (stream, key), f"in quarantine ({entry['kind']})", "absent"))
        landed_streams, column = LANDED_KEY.get(stream, ((), ""))
        for name in landed_streams:
            if name not in landed:
                landed[name] = set(store.read_table(name, columns=[column])[column].to_pylist()) \
                    if store.manifests(name) else set()
            if key in landed[name]:
                out.append(Discrepancy("quarantine", (name, key), "missing from the landed rows", "landed"))
    return out, counts


def _served_stream(landing_stream: str) -> str:
    """The API stream whose records a landing stream holds."""
    return {"portfolio_snapshot": "portfolio", "order_polls": "orders",
            "deliveries_push": "deliveries"}.get(landing_stream, landing_stream)


def _read_quarantine(store, stream: str) -> list[dict]:
    """The current quarantine rows of a stream (none when it has no quarantine file)."""
    if not store.current_quarantine_files(stream):
        return []
    return store.read_quarantine(stream).to_pylist()


class _Identifier:
    """Names the served record a quarantine row holds: its truth key, "404" for a by-id fetch of a record
    the API no longer served on that night, or None."""

    def __init__(self, truth: Truth):
        self.damaged = {(m["stream"], m["key"]) for m in truth.malformed}
        self.delivery = {d["deliveryId"]: d for d in truth.deliveries}
        self.delivery_by_external = {d["externalId"]: d["deliveryId"] for d in truth.deliveries}
        self.notification_by_external = {n["externalId"]: n["notificationId"] for n in truth.notifications}
        self.order_numbers: dict[str, set[str]] = defaultdict(set)
        self.order_versions: dict[str, list[dict]] = defaultdict(list)
        for v in truth.order_versions:
            self.order_numbers[v["orderId"]].update(n for n in (v["easyNumber"], v["temporaryEasyNumber"]) if n)
            self.order_versions[v["orderId"]].append(v)
        self.reference_owner: dict[str, set[str]] = defaultdict(set)
        for c in truth.customer_references:
            if c["customerReference"]:
                self.reference_owner[c["customerReference"]].add(c["easyNumber"])
        self.overdue_by_creation = {(v["easyNumber"], v["creationDate"]): v["overdueId"]
                                    for v in truth.overdue_versions}

    def __call__(self, stream: str, row: dict) -> str | None:
        try:
            raw = json.loads(row["raw_json"])
        except (TypeError, ValueError):
            return None
        if not isinstance(raw, dict):
            return None
        if set(raw) == {"easyNumber", "id", "entity"}:
            return "404" if self._not_served(raw, ts(row["extracted_at"]).date()) else None
        served = _served_stream(stream)
        for key in self._candidates(served, raw, row):
            if (served, key) in self.damaged:
                return key
        return None

    def _not_served(self, raw: dict, night: date) -> bool:
        """Whether the API rightly answered 404 on `night` (the landing clock's day) for this by-id fetch:
        a delivery decided, or an order last changed and decided, before that night's retention start."""
        horizon = visible_before(retention_start(night))
        if raw["entity"] == "delivery":
            key = self.delivery_by_external.get(raw["id"], raw["id"])
            return key in self.delivery and self.delivery[key]["decisionDate"] < horizon
        if raw["entity"] == "order":
            versions = [v for v in self.order_versions.get(raw["id"], []) if v["statusDate"] < visible_before(night)]
            decided = [d["decisionDate"] for d in self.delivery.values() if d["orderId"] == raw["id"]]
            return bool(versions) and versions[-1]["statusDate"] < horizon and all(t < horizon for t in decided)
        return False

    def _candidates(self, stream: str, raw: dict, row: dict) -> list[str]:
        """The truth keys a quarantined record of `stream` may be, from its raw JSON and its request."""
        if stream == "deliveries":
            request_id = (row.get("request") or "").split("?")[0].rstrip("/").rsplit("/", 1)[-1]
            return [k for k in (raw.get("deliveryId"), self.delivery_by_external.get(raw.get("externalId")),
                                self.delivery_by_external.get(request_id), request_id) if k]
        if stream == "orders":
            request_id = (row.get("request") or "").split("?")[0].rstrip("/").rsplit("/", 1)[-1]
            return [k for k in (raw.get("orderId"), request_id) if k]
        if stream == "notifications":
            return [k for k in (raw.get("notificationId"), self.notification_by_external.get(raw.get("externalId")))
                    if k]
        if stream == "portfolio":
            keys = [raw["easyNumber"]] if raw.get("easyNumber") else []
            for product in raw.get("products") or []:
                if isinstance(product, dict):
                    keys += sorted(self.order_numbers.get(product.get("orderId"), ()))
                    if product.get("temporaryEasyNumber"):
                        keys.append(product["temporaryEasyNumber"])
            return keys
        if stream == "overdues":
            return [k for k in (raw.get("overdueId"),
                                self.overdue_by_creation.get((raw.get("easyNumber"), raw.get("creationDate")))) if k]
        if stream == "customer_references":
            return ([raw["easyNumber"]] if raw.get("easyNumber") else []) + sorted(
                self.reference_owner.get(raw.get("customerReference"), ()))
        return []

"""Schema-violating records (fault injection) and the register of those actually served.

Which record is malformed, and how, is decided by `FaultInjector.malformation` (a hash of seed, stream
and key); this module applies the damage and remembers every (stream, key) served damaged so that
`/_sandbox/truth?entity=malformed` can list them.
"""

from __future__ import annotations

import time

import orjson

# stream -> (id field, date field, amount field or None)
STREAMS: dict[str, tuple[str, str, str | None]] = {
    "portfolio": ("easyNumber", "products.0.orderDate", "products.*.amount"),
    "notifications": ("notificationId", "eventDate", None),
    "overdues": ("overdueId", "lastUpdateDate", None),
    "customer_references": ("easyNumber", "updatedAt", None),
    "deliveries": ("deliveryId", "decisionDate", "amount"),
    "orders": ("orderId", "orderDate", "requestedAmount"),
}


def kinds_for(stream: str) -> tuple[str, ...]:
    """The malformation kinds that make sense for a stream."""
    return ("missing_id", "bad_date", "amount_string") if STREAMS[stream][2] else ("missing_id", "bad_date")


def _bad_date(value: str) -> str:
    return value[:5] + "13-32" + value[10:] if isinstance(value, str) and len(value) >= 10 else "13-32"


def damage(stream: str, doc: dict, kind: str) -> str:
    """Damage `doc` in place by `kind`; returns the path of the damaged field."""
    id_field, date_field, amount_field = STREAMS[stream]
    if kind == "amount_string" and amount_field:
        if amount_field == "products.*.amount":
            for i, product in enumerate(doc.get("products", [])):
                if product.get("amount"):
                    product["amount"]["value"] = str(product["amount"]["value"])
                    return f"products.{i}.amount.value"
        elif doc.get(amount_field):
            doc[amount_field]["value"] = str(doc[amount_field]["value"])
            return f"{amount_field}.value"
        kind = "bad_date"
    if kind == "bad_date":
        if date_field == "products.0.orderDate":
            if doc.get("products"):
                doc["products"][0]["orderDate"] = _bad_date(doc["products"][0]["orderDate"])
                return date_field
        else:
            doc[date_field] = _bad_date(doc.get(date_field))
            return date_field
    doc.pop(id_field, None)
    return id_field


class MalformedRegister:
    """Every record served damaged: stream, key, kind, field, first served (UTC), times served, and the
    policy whose list served it."""

    def __init__(self):
        self._served: dict[tuple[str, str, str], dict] = {}

    def serve(self, stream: str, key: str, kind: str, item: bytes, policy: str = "") -> bytes:
        """The damaged JSON of `item` (JSON bytes of one record of ``policy``), recorded as served."""
        doc = orjson.loads(item)
        field = damage(stream, doc, kind)
        entry = self._served.get((policy, stream, key))
        if entry is None:
            entry = self._served[(policy, stream, key)] = {
                "stream": stream, "key": key, "kind": kind, "field": field, "policyNumber": policy,
                "firstServedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "timesServed": 0}
        entry["timesServed"] += 1
        return orjson.dumps(doc)

    def entries(self) -> list[dict]:
        return [dict(v) for v in self._served.values()]

    def clear(self) -> None:
        self._served.clear()

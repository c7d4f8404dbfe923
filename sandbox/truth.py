"""Ground-truth export: every version of every entity generated up to today, as JSON lines.

Unlike the API, the truth ignores retention: it holds what aged out of the two-year window too.
Records use the API's field names (plus `version` where an entity has versions), so a test can compare
what the pipeline stored with what the sandbox generated. An account of several policies exports each
policy's records in turn, every record tagged with the `policyNumber` of its policy (a one-policy
account's records are the API's documents as they are: its policy is the credentials' one).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import orjson

from sandbox.store import day_start, fmt_ts, parse_ts
from sandbox.views import (
    DELIVERY_COLUMNS,
    NOTIFICATION_COLUMNS,
    ORDER_COLUMNS,
    delivery_doc,
    money,
    notification_doc,
    order_doc,
)
from sandbox.world import World

ENTITIES = ("companies", "orders", "order_versions", "deliveries", "notifications", "overdue_versions",
            "overdue_documents", "customer_references", "easy_number_links", "lines", "malformed")


def _companies(world: World) -> Iterator[dict]:
    for head, is_temp in world.conn.execute("SELECT head, is_temp FROM companies ORDER BY idx"):
        doc = orjson.loads(head + b"}")
        doc["isTemporary"] = bool(is_temp)
        yield doc


def _order_versions(world: World, latest_only: bool) -> Iterator[dict]:
    where = (" WHERE (order_id, version) IN (SELECT order_id, MAX(version) FROM order_versions GROUP BY order_id)"
             if latest_only else "")
    sql = f"SELECT {ORDER_COLUMNS}, version FROM order_versions{where} ORDER BY order_id, version"  # noqa: S608
    for row in world.conn.execute(sql):
        doc = order_doc(row[:-1])
        doc["version"] = row[-1]
        yield doc


def _deliveries(world: World) -> Iterator[dict]:
    for row in world.conn.execute(f"SELECT {DELIVERY_COLUMNS} FROM deliveries ORDER BY seq"):  # noqa: S608
        yield delivery_doc(row)


def _notifications(world: World) -> Iterator[dict]:
    policy = world.policy.policy_number
    for row in world.conn.execute(f"SELECT {NOTIFICATION_COLUMNS} FROM deliveries ORDER BY seq"):  # noqa: S608
        yield notification_doc(row, policy)


def _overdue_versions(world: World) -> Iterator[dict]:
    for version, doc in world.conn.execute(
            "SELECT version, doc FROM overdue_versions ORDER BY overdue_id, version"):
        d = orjson.loads(doc)
        d["version"] = version
        yield d


def _overdue_documents(world: World) -> Iterator[dict]:
    for overdue_id, easy, name, media, at in world.conn.execute(
            "SELECT overdue_id, easy, file_name, media_type, uploaded_at FROM overdue_documents"
            " ORDER BY overdue_id, uploaded_at, file_name"):
        yield {"overdueId": overdue_id, "easyNumber": easy, "fileName": name, "mediaType": media,
               "uploadDate": fmt_ts(at)}


def _customer_references(world: World) -> Iterator[dict]:
    for seq, easy, ref, at in world.conn.execute(
            "SELECT seq, easy, ref, updated_at FROM custref_versions ORDER BY seq"):
        yield {"easyNumber": easy, "customerReference": ref or None, "updatedAt": fmt_ts(at), "version": seq}


def _links(world: World) -> Iterator[dict]:
    for temp, easy, order_id, delivery_id, at in world.conn.execute(
            "SELECT temp_easy, easy, order_id, delivery_id, identified_at FROM easy_links ORDER BY identified_at"):
        yield {"temporaryEasyNumber": temp, "easyNumber": easy, "orderId": order_id, "deliveryId": delivery_id,
               "identifiedAt": fmt_ts(at)}


def _lines(world: World) -> Iterator[dict]:
    horizon = day_start(world.horizon)
    for (easy, product, temp, order_id, order_at, order_status, delivery_id, external_id, status, decision_at,
         effective, expiry, amount, currency, event_at, active) in world.conn.execute(
            "SELECT easy, product, temp_easy, order_id, order_at, order_status, delivery_id, external_id, status,"
            " decision_at, effective_date, expiry_date, amount_value, amount_currency, event_at, active"
            " FROM lines ORDER BY easy, product"):
        yield {"easyNumber": easy, "productCode": product, "orderId": order_id, "orderDate": fmt_ts(order_at),
               "orderStatus": order_status, "deliveryId": delivery_id, "externalId": external_id,
               "status": status, "decisionDate": fmt_ts(decision_at), "effectiveDate": effective,
               "expiryDate": expiry, "amount": money(amount, currency), "temporaryEasyNumber": temp,
               "active": bool(active), "listed": bool(active) or event_at >= horizon}


_EXPORTERS: dict[str, Callable[[World], Iterator[dict]]] = {
    "companies": _companies,
    "orders": lambda w: _order_versions(w, True),
    "order_versions": lambda w: _order_versions(w, False),
    "deliveries": _deliveries,
    "notifications": _notifications,
    "overdue_versions": _overdue_versions,
    "overdue_documents": _overdue_documents,
    "customer_references": _customer_references,
    "easy_number_links": _links,
    "lines": _lines,
}


def _late_key(entity: str, doc: dict) -> tuple[str, str] | None:
    """(late-visibility key, event time) of a record the dated lists may show late (``faults.late_seconds``)."""
    if entity == "deliveries":
        return doc["deliveryId"], doc["decisionDate"]
    if entity == "overdue_versions":
        return f"{doc['overdueId']}:{parse_ts(doc['lastUpdateDate'])}", doc["lastUpdateDate"]
    return None


def export(worlds: World | list[World], entity: str, malformed: list[dict] | None = None,
           tag_policy: bool = False, late: Callable[[str], int] | None = None) -> Iterator[bytes]:
    """JSON lines (each ending with a newline) of `entity` in every world (one per policy), each record
    with its `policyNumber` when ``tag_policy``; a ValueError names the known entities. ``late`` (a
    late-visibility fault's ``late_seconds``): a decision or overdue version the dated lists show late
    carries `listedFrom`, the instant from which they show it.

    Each world's export is serialized under its lock before the first chunk is yielded, so a clock
    advance can never interleave with it.
    """
    if entity == "malformed":
        rows = sorted(malformed or [], key=lambda m: (m["stream"], m["key"]))
        yield b"".join(orjson.dumps(m) + b"\n" for m in rows)
        return
    exporter = _EXPORTERS.get(entity)
    if exporter is None:
        raise ValueError(f"entity must be one of {', '.join(ENTITIES)}")
    chunks: list[bytes] = []
    for world in [worlds] if isinstance(worlds, World) else worlds:
        policy = world.policy.policy_number
        with world.lock:
            chunk: list[bytes] = []
            for doc in exporter(world):
                if tag_policy:
                    doc["policyNumber"] = policy
                shown = _late_key(entity, doc) if late is not None else None
                delay = late(shown[0]) if shown is not None else 0
                if delay:
                    doc["listedFrom"] = fmt_ts(parse_ts(shown[1]) + delay)
                chunk.append(orjson.dumps(doc) + b"\n")
                if len(chunk) >= 5000:
                    chunks.append(b"".join(chunk))
                    chunk = []
            chunks.append(b"".join(chunk))
    yield from chunks

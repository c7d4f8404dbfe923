"""Read models of the API: each method answers one business endpoint with JSON bytes.

Shapes follow docs/contracts.md section 1. Lists are `{"<items>": [...], "count", "page", "pageSize"}`
in a stable order; the ordered key lists behind paged answers are cached per world version, so that
paging with the clock standing still never loses or repeats an item and stays cheap. Retention
(today - 2 years) is applied here: see sandbox/README.md.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

import orjson

from sandbox.errors import ApiError
from sandbox.params import Paging, Window, envelope
from sandbox.reference import (
    OVERDUE_STATUSES,
    PRODUCT_CODES,
)
from sandbox.reference_views import COUNTRY_CODE, ReferenceViews
from sandbox.store import day_start, fmt_ts
from sandbox.world import World

# (stream, key, item JSON) -> item JSON, possibly damaged (fault injection)
ItemHook = Callable[[str, str, bytes], bytes]


def money(value: float | None, currency: str | None) -> dict | None:
    """`{"value", "currency"}` (integral values as JSON integers) or None."""
    if value is None:
        return None
    return {"value": int(value) if float(value).is_integer() else value, "currency": currency}


DELIVERY_COLUMNS = ("delivery_id, external_id, order_id, easy, temp_easy, product, status, decision_at,"
                    " effective_date, expiry_date, amount_value, amount_currency, req_value, req_currency, conditions")
ORDER_COLUMNS = ("order_id, easy, temp_easy, product, order_at, status, status_at, req_value, req_currency,"
                 " delivery_id, rejection")
NOTIFICATION_COLUMNS = "notification_id, external_id, decision_at, easy, product, order_id, status"


def delivery_doc(row: tuple) -> dict:
    """A delivery as served, from a row of DELIVERY_COLUMNS."""
    (delivery_id, external_id, order_id, easy, temp, product, status, decision_at, effective, expiry,
     amount, currency, req, req_currency, conditions) = row
    return {"deliveryId": delivery_id, "externalId": external_id, "orderId": order_id, "easyNumber": easy,
            "temporaryEasyNumber": temp, "productCode": product, "status": status,
            "decisionDate": fmt_ts(decision_at), "effectiveDate": effective, "expiryDate": expiry,
            "amount": money(amount, currency), "requestedAmount": money(req, req_currency),
            "conditions": orjson.loads(conditions)}


def order_doc(row: tuple) -> dict:
    """An order version as served, from a row of ORDER_COLUMNS."""
    (order_id, easy, temp, product, order_at, status, status_at, req, req_currency, delivery_id, rejection) = row
    return {"orderId": order_id, "easyNumber": easy, "temporaryEasyNumber": temp, "productCode": product,
            "orderDate": fmt_ts(order_at), "status": status, "statusDate": fmt_ts(status_at),
            "requestedAmount": money(req, req_currency), "deliveryId": delivery_id,
            "rejectionReasons": orjson.loads(rejection)}


def notification_doc(row: tuple, policy_number: str) -> dict:
    """A notification as served, from a row of NOTIFICATION_COLUMNS."""
    nid, ext, at, easy, product, order_id, status = row
    return {"notificationId": nid, "externalId": ext, "eventDate": fmt_ts(at), "eventType": "DECISION",
            "easyNumber": easy, "productCode": product, "orderId": order_id, "status": status,
            "policyNumber": policy_number}


def _no_hook(stream: str, key: str, item: bytes) -> bytes:
    return item


class Views(ReferenceViews):
    """The business read endpoints over one world (the catalogs, reference lists and company search in
    :class:`ReferenceViews`)."""

    def __init__(self, world: World, hook: ItemHook | None = None, policies: list | None = None,
                 cache_entries: int = 64, late=None):
        self.world = world
        self.hook = hook or _no_hook
        self.late = late
        """The late-visibility draws (``FaultInjector``: ``late_seconds``, ``late_config``), or None."""
        # `hidden_late(key, at)` in the dated lists' SQL: the record of `key` and event time `at` does not
        # show yet (it shows `late_seconds(key)` after `at`, which is not before the API's today)
        world.conn.create_function("hidden_late", 2, self._hidden_late)
        self.policies_held = policies or [world.policy]  # what `GET /policies` lists: every policy of the account
        self._cache: OrderedDict[tuple, object] = OrderedDict()
        self._cache_entries = cache_entries

    # ------------------------------------------------------------------ helpers
    @property
    def conn(self):
        return self.world.conn

    @property
    def horizon_ts(self) -> int:
        return day_start(self.world.horizon)

    def _hidden_late(self, key: str | None, at: int | None) -> int:
        if self.late is None or key is None or at is None:
            return 0
        delay = self.late.late_seconds(key)
        return int(bool(delay) and at + delay >= self.world.visible_before)

    def _cached(self, key: tuple, compute: Callable[[], object]):
        late = self.late.late_config if self.late is not None else None
        key = (self.world.version, self.world.today, late) + key
        hit = self._cache.get(key)
        if hit is None:
            hit = self._cache[key] = compute()
            while len(self._cache) > self._cache_entries:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        return hit

    def _company_items(self, easies: list[str], products: dict[str, list[bytes]] | None) -> list[bytes]:
        if not easies:
            return []
        marks = ",".join("?" * len(easies))
        heads = dict(self.conn.execute(f"SELECT easy, head FROM companies WHERE easy IN ({marks})", easies))  # noqa: S608
        refs = dict(self.conn.execute(f"SELECT easy, ref FROM custref_current WHERE easy IN ({marks})", easies))  # noqa: S608
        out = []
        for easy in easies:
            parts = [heads[easy], b',"customerReference":', orjson.dumps(refs.get(easy))]
            if products is not None:
                parts += [b',"products":[', b",".join(products.get(easy, ())), b"]"]
            parts.append(b"}")
            out.append(b"".join(parts))
        return out

    # ------------------------------------------------------------------ portfolio
    def portfolio(self, filters: dict[str, str | None], window: Window, paging: Paging) -> bytes:
        """`GET /companies/products`: companies with their listed products matching every filter."""
        product = filters.get("productCode")
        if product is not None and product not in PRODUCT_CODES:
            raise ApiError(400, f"productCode must be one of {', '.join(PRODUCT_CODES)} (got {product!r})")
        country = filters.get("countryCode")
        if country is not None and not COUNTRY_CODE.match(country):
            raise ApiError(400, f"countryCode must be an ISO 3166 alpha-3 code (got {country!r})")
        where = ["(l.active = 1 OR l.event_at >= ?)"]
        args: list = [self.horizon_ts]
        join = ""
        if filters.get("easyNumber"):
            where.append("(l.easy = ? OR l.temp_easy = ?)")
            args += [filters["easyNumber"], filters["easyNumber"]]
        if filters.get("customerReference"):
            join = " JOIN custref_current c ON c.easy = l.easy"
            where.append("c.ref = ?")
            args.append(filters["customerReference"])
        for name, column in (("orderId", "l.order_id"), ("deliveryId", "l.delivery_id"),
                             ("productCode", "l.product"), ("countryCode", "l.country")):
            if filters.get(name):
                where.append(f"{column} = ?")
                args.append(filters[name])
        if window.start is not None:
            where.append("l.event_at >= ?")
            args.append(window.start)
        if window.end is not None:
            where.append("l.event_at < ?")
            args.append(window.end)
        if window.start is not None or window.end is not None:  # a dated list: a late decision lags
            where.append("NOT (l.event_at = l.decision_at AND hidden_late(l.delivery_id, l.decision_at))")
        cond = " AND ".join(where)
        easies: list[str] = self._cached(("portfolio", cond, tuple(args)), lambda: [
            r[0] for r in self.conn.execute(
                f"SELECT DISTINCT l.easy FROM lines l{join} WHERE {cond} ORDER BY l.easy", args)])  # noqa: S608
        page = easies[paging.offset:paging.offset + paging.size]
        products: dict[str, list[bytes]] = {}
        if page:
            marks = ",".join("?" * len(page))
            sql = f"SELECT l.easy, l.item FROM lines l{join} WHERE {cond} AND l.easy IN ({marks})"  # noqa: S608
            for easy, item in self.conn.execute(sql + " ORDER BY l.easy, l.product", args + page):
                products.setdefault(easy, []).append(item)
        hook = self.hook
        items = [hook("portfolio", easy, item) for easy, item in zip(page, self._company_items(page, products),
                                                                      strict=True)]
        return envelope("companies", items, len(easies), paging)

    # ------------------------------------------------------------------ deliveries and orders
    def delivery(self, easy: str, ident: str) -> bytes:
        """`GET /companies/{e}/products/deliveries/{deliveryId or externalId}` ({e} definitive or temporary)."""
        row = self.conn.execute(
            f"SELECT {DELIVERY_COLUMNS} FROM deliveries"  # noqa: S608
            " WHERE (delivery_id = ? OR external_id = ?) AND (easy = ? OR temp_easy = ?)",
            (ident, ident, easy, easy)).fetchone()
        if row is None or not self._delivery_retained(row[0], row[7]):
            raise ApiError(404, f"no delivery {ident} for the company {easy}")
        return self.hook("deliveries", row[0], orjson.dumps(delivery_doc(row)))

    def _delivery_retained(self, delivery_id: str, decision_at: int) -> bool:
        """Archived decisions are served for 2 years; the current decision of a listed product always."""
        if decision_at >= self.horizon_ts:
            return True
        return self.conn.execute("SELECT 1 FROM lines WHERE delivery_id = ? AND active = 1",
                                 (delivery_id,)).fetchone() is not None

    def order(self, easy: str, order_id: str) -> bytes:
        """`GET /companies/{e}/products/orders/{orderId}`: the order's current version."""
        row = self.conn.execute(
            f"SELECT {ORDER_COLUMNS} FROM order_versions WHERE order_id = ?"  # noqa: S608
            " ORDER BY version DESC LIMIT 1", (order_id,)).fetchone()
        if row is None or easy not in (row[1], row[2]) or not self._order_retained(row[0], row[6]):
            raise ApiError(404, f"no order {order_id} for the company {easy}")
        return self.hook("orders", row[0], orjson.dumps(order_doc(row)))

    def _order_retained(self, order_id: str, status_at: int) -> bool:
        """An order is served while it changed, or got a decision, in the last 2 years, or is still live."""
        horizon = self.horizon_ts
        if status_at >= horizon:
            return True
        last = self.conn.execute("SELECT MAX(decision_at) FROM deliveries WHERE order_id = ?", (order_id,)).fetchone()
        if last[0] is not None and last[0] >= horizon:
            return True
        return self.conn.execute("SELECT 1 FROM lines WHERE order_id = ? AND active = 1",
                                 (order_id,)).fetchone() is not None

    # ------------------------------------------------------------------ notifications
    def notifications(self, window: Window, paging: Paging) -> bytes:
        """`GET /notifications`: one per decision, by (eventDate, notificationId), within retention."""
        lo = max(window.start if window.start is not None else 0, self.horizon_ts)
        hi = window.end if window.end is not None else self.world.visible_before
        # the ordered keys of a window are computed once; a page then costs its own rows, not its offset
        seqs: list[int] = self._cached(("notifications", lo, hi), lambda: [r[0] for r in self.conn.execute(
            "SELECT seq FROM deliveries WHERE decision_at >= ? AND decision_at < ?"
            " AND NOT hidden_late(delivery_id, decision_at) ORDER BY decision_at, notification_id", (lo, hi))])
        count = len(seqs)
        page = seqs[paging.offset:paging.offset + paging.size]
        marks = ",".join("?" * len(page))
        by_seq = {r[0]: r[1:] for r in self.conn.execute(
            f"SELECT seq, {NOTIFICATION_COLUMNS} FROM deliveries WHERE seq IN ({marks})", page)}  # noqa: S608
        rows = [by_seq[seq] for seq in page]
        policy = self.world.policy.policy_number
        hook = self.hook
        items = [hook("notifications", row[0], orjson.dumps(notification_doc(row, policy))) for row in rows]
        return envelope("notifications", items, count, paging)

    # ------------------------------------------------------------------ overdues
    def overdues(self, status: str, easy: str | None, customer_ref: str | None, window: Window,
                 paging: Paging) -> bytes:
        """`GET /companies/overdues?status=`: cases by (lastUpdateDate, overdueId)."""
        if status not in OVERDUE_STATUSES:
            raise ApiError(400, f"status must be one of {', '.join(OVERDUE_STATUSES)} (got {status!r})")
        where, args = ["status = ?"], [status]
        for column, value in (("easy", easy), ("customer_ref", customer_ref)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        if window.start is not None:
            where.append("updated_at >= ?")
            args.append(window.start)
        if window.end is not None:
            where.append("updated_at < ?")
            args.append(window.end)
        if window.start is not None or window.end is not None:  # a dated list: a late version lags
            where.append("NOT hidden_late(overdue_id || ':' || updated_at, updated_at)")
        cond = " AND ".join(where)
        ids: list[str] = self._cached(("overdues", cond, tuple(args)), lambda: [r[0] for r in self.conn.execute(
            f"SELECT overdue_id FROM overdue_current WHERE {cond} ORDER BY updated_at, overdue_id", args)])  # noqa: S608
        page = ids[paging.offset:paging.offset + paging.size]
        docs = {}
        if page:
            marks = ",".join("?" * len(page))
            docs = dict(self.conn.execute(
                f"SELECT overdue_id, doc FROM overdue_current WHERE overdue_id IN ({marks})", page))  # noqa: S608
        items = []
        for overdue_id in page:
            d = orjson.loads(docs[overdue_id])
            item = orjson.dumps({k: d[k] for k in (
                "overdueId", "easyNumber", "customerReference", "creationDate", "lastUpdateDate", "status",
                "debtType", "interventionRequested")})
            items.append(self.hook("overdues", overdue_id, item))
        return envelope("overdues", items, len(ids), paging)

    def overdue(self, easy: str, overdue_id: str) -> bytes:
        """`GET /companies/{e}/overdues/{overdueId}`: the case's current version in full."""
        row = self.conn.execute("SELECT doc FROM overdue_current WHERE overdue_id = ? AND easy = ?",
                                (overdue_id, easy)).fetchone()
        if row is None:
            raise ApiError(404, f"no overdue {overdue_id} for the company {easy}")
        return row[0]

    def overdue_documents(self, easy: str, overdue_id: str) -> bytes:
        """`GET /companies/{e}/overdues/{overdueId}/documents`: names of the files sent, oldest first."""
        self.overdue(easy, overdue_id)
        rows = self.conn.execute(
            "SELECT file_name, media_type, uploaded_at FROM overdue_documents WHERE overdue_id = ?"
            " ORDER BY uploaded_at, file_name", (overdue_id,)).fetchall()
        docs = [{"fileName": f, "mediaType": m, "uploadDate": fmt_ts(at)} for f, m, at in rows]
        return orjson.dumps({"documents": docs, "count": len(docs)})

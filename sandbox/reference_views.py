"""The read models of the API's catalogs, reference lists and company search (a part of
:class:`sandbox.views.Views`, which provides ``conn``, ``hook``, ``policies_held``, ``_cached`` and
``_company_items``)."""

from __future__ import annotations

import re

import orjson

from sandbox.companies import normalize_identifier
from sandbox.errors import ApiError
from sandbox.params import Paging, envelope
from sandbox.reference import (
    ACTIVE_DELIVERY_STATUSES,
    COUNTRIES,
    DEBT_TYPES,
    MONITORED_PRODUCTS,
    PENDING_ORDER_STATUSES,
    PRODUCT_CODES,
)
from sandbox.store import fmt_ts

COUNTRY_CODE = re.compile(r"^[A-Z]{3}$")
_FINAL_OVERDUE = ("INDEMNIFIED", "REJECTED", "CLOSED")


class ReferenceViews:
    """`GET /companies/{e}/catalog`, `/catalog-overdue`, `/countries`, `/countries/identifiers`,
    `/companies/customerreferences`, `/policies`, `/companies/identifier` and `/companies/name`."""

    # ------------------------------------------------------------------ catalogs
    def _company(self, easy: str) -> tuple:
        row = self.conn.execute("SELECT idx, head FROM companies WHERE easy = ? AND is_temp = 0", (easy,)).fetchone()
        if row is None:
            raise ApiError(404, f"no company with the EASY number {easy}")
        return row

    def catalog(self, easy: str) -> bytes:
        """`GET /companies/{e}/catalog`: orderable products, action codes, last orderId / deliveryId."""
        _idx, head = self._company(easy)
        is_head = b'"isHeadOffice":true' in head
        lines = {r[0]: r[1:] for r in self.conn.execute(
            "SELECT product, order_id, delivery_id, status, order_status FROM lines WHERE easy = ?", (easy,))}
        products = []
        for code in PRODUCT_CODES:
            order_id, delivery_id, status, order_status = lines.get(code, (None, None, None, None))
            if not is_head:
                actions: list[str] = []
            elif order_id is None:
                actions = ["CREA"]
            elif status is None and order_status in PENDING_ORDER_STATUSES:
                actions = []
            elif status in ACTIVE_DELIVERY_STATUSES:
                actions = ["UPDT", "CHANGE", "DELE"]
            elif status == "DELIVERED" and code in MONITORED_PRODUCTS:
                actions = ["STOP"]
            else:
                actions = ["CREA"]
            products.append({"productCode": code, "actionCodes": actions, "lastOrderId": order_id,
                             "lastDeliveryId": delivery_id})
        return orjson.dumps({"easyNumber": easy, "products": products})

    def catalog_overdue(self, easy: str) -> bytes:
        """`GET /companies/{e}/catalog-overdue`: per debt type, the open case (if any) and the actions."""
        self._company(easy)
        cases = self.conn.execute(
            "SELECT overdue_id, status, doc FROM overdue_current WHERE easy = ? ORDER BY updated_at", (easy,)).fetchall()
        debt_types = []
        for debt_type in DEBT_TYPES:
            open_case, rejected = None, None
            for overdue_id, status, doc in cases:
                if orjson.loads(doc)["debtType"] != debt_type:
                    continue
                if status not in _FINAL_OVERDUE:
                    open_case = overdue_id
                elif status == "REJECTED":
                    rejected = overdue_id
            if open_case is not None:
                debt_types.append({"debtType": debt_type, "actionCodes": ["UPDT"], "overdueId": open_case})
            elif rejected is not None and debt_type == "CI":
                debt_types.append({"debtType": debt_type, "actionCodes": ["CREA", "MOVE"], "overdueId": rejected})
            else:
                debt_types.append({"debtType": debt_type, "actionCodes": ["CREA"], "overdueId": None})
        return orjson.dumps({"easyNumber": easy, "debtTypes": debt_types})

    # ------------------------------------------------------------------ reference lists
    def countries(self, paging: Paging) -> bytes:
        """`GET /countries`: the countries of the world, by code."""
        rows = sorted((c[0], c[1]) for c in COUNTRIES)
        page = rows[paging.offset:paging.offset + paging.size]
        items = [orjson.dumps({"countryCode": code, "name": name}) for code, name in page]
        return envelope("countries", items, len(rows), paging)

    def country_identifiers(self, country: str | None, paging: Paging) -> bytes:
        """`GET /countries/identifiers`: legal identifier types, optionally of one country."""
        if country is not None and not COUNTRY_CODE.match(country):
            raise ApiError(400, f"countryCode must be an ISO 3166 alpha-3 code (got {country!r})")
        rows = sorted((c[0], t, label) for c in COUNTRIES for t, label, _digits in c[2]
                      if country is None or c[0] == country)
        page = rows[paging.offset:paging.offset + paging.size]
        items = [orjson.dumps({"countryCode": c, "type": t, "label": label}) for c, t, label in page]
        return envelope("identifiers", items, len(rows), paging)

    def customer_references(self, paging: Paging) -> bytes:
        """`GET /companies/customerreferences`: current references, by (updatedAt, easyNumber)."""
        rows = self._cached(("custref",), lambda: self.conn.execute(
            "SELECT easy, ref, updated_at FROM custref_current ORDER BY updated_at, easy").fetchall())
        page = rows[paging.offset:paging.offset + paging.size]
        hook = self.hook
        items = [hook("customer_references", easy, orjson.dumps(
            {"easyNumber": easy, "customerReference": ref, "updatedAt": fmt_ts(at)})) for easy, ref, at in page]
        return envelope("customerReferences", items, len(rows), paging)

    def policies(self, paging: Paging) -> bytes:
        """`GET /policies`: every policy attached to the account, in policy order."""
        rows = [orjson.dumps({"policyNumber": p.policy_number, "customerName": p.customer_name,
                              "currency": p.currency, "startDate": p.start_date, "endDate": None})
                for p in self.policies_held]
        return envelope("policies", rows[paging.offset:paging.offset + paging.size], len(rows), paging)

    # ------------------------------------------------------------------ company search
    def search_identifier(self, country: str, id_type: str, value: str, paging: Paging) -> bytes:
        """`GET /companies/identifier`: companies holding that identifier (blanks, dots, dashes ignored)."""
        easies = [r[0] for r in self.conn.execute(
            "SELECT c.easy FROM identifiers i JOIN companies c ON c.idx = i.idx"
            " WHERE i.type = ? AND i.value = ? AND i.country = ? ORDER BY c.easy",
            (id_type, normalize_identifier(value), country))]
        page = easies[paging.offset:paging.offset + paging.size]
        return envelope("companies", self._company_items(page, None), len(easies), paging)

    def search_name(self, country: str, name: str, city: str | None, postal: str | None, paging: Paging) -> bytes:
        """`GET /companies/name`: companies of the country whose name contains `name` (case-insensitive)."""
        where, args = ["country = ?", "is_temp = 0", "instr(name_lc, ?) > 0"], [country, name.lower().strip()]
        if city is not None:
            where.append("city_lc = ?")
            args.append(city.lower().strip())
        if postal is not None:
            where.append("postal = ?")
            args.append(postal.strip())
        cond = " AND ".join(where)
        easies: list[str] = self._cached(("name", cond, tuple(args)), lambda: [r[0] for r in self.conn.execute(
            f"SELECT easy FROM companies WHERE {cond} ORDER BY easy", args)])  # noqa: S608
        page = easies[paging.offset:paging.offset + paging.size]
        return envelope("companies", self._company_items(page, None), len(easies), paging)

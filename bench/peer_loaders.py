"""The loaders of the peer comparison (``bench/peer_comparison.py``), each run in its own child process
(``--loader NAME``) against the sandbox named by the ``COFASERVE_*`` variables. A loader reads the two
lists over ``[date_from, date_to)``, 100 items a page, lands them under ``workdir`` and returns its
figures: rows and items per list, and ``seconds`` from the login to the data being durable.

Imports stay inside the loaders: a child imports what its own loader needs, and nothing else counts
against its memory and CPU.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

PAGE_SIZE = 100
PORTFOLIO = "/tci/product/v1/companies/products"
NOTIFICATIONS = "/tci/notification/v1/notifications"
LISTS = (("portfolio", PORTFOLIO, "companies"), ("notifications", NOTIFICATIONS, "notifications"))
"""(name, path, the envelope's key of the items) of each list read."""
LOADERS = {
    "bare": "bare loop (httpx → pyarrow → Parquet)",
    "dlt": "dlt rest_api → DuckDB",
    "ours": "ours (the portfolio and notifications extraction assets)",
    "ours-one-partition": "ours, one partition per list (diagnostic)",
    "floor": "server floor: requests only (diagnostic)",
}


def _env_credentials() -> dict[str, str]:
    import os

    return {k: os.environ[f"COFASERVE_{k.upper()}"] for k in
            ("base_url", "auth_url", "username", "password", "api_key", "policy_number")}


def _login(creds: dict[str, str]) -> str:
    import httpx

    resp = httpx.post(creds["auth_url"] + "/authentication/v1/token", headers={"x-api-key": creds["api_key"]},
                      json={"grantType": "password", "username": creds["username"], "password": creds["password"]},
                      timeout=60)
    resp.raise_for_status()
    return resp.json()["idToken"]


def _http_client(creds: dict[str, str]):
    """An httpx client on the API, logged in, with the headers every request carries."""
    import httpx

    headers = {"x-api-key": creds["api_key"], "X-COF-Policy-Number": creds["policy_number"],
               "Authorization": _login(creds)}
    return httpx.Client(base_url=creds["base_url"], headers=headers, timeout=60)


def pages(http, path: str, key: str, date_from: str, date_to: str) -> Iterator[list[dict]]:
    """The items of each page of a list, page after page, as the loaders request them (one at a time),
    until an empty page or the envelope's count is reached."""
    import orjson

    page = 1
    while True:
        resp = http.get(path, params={"dateFrom": date_from, "dateTo": date_to, "page": page, "pageSize": PAGE_SIZE})
        resp.raise_for_status()
        body = orjson.loads(resp.content)
        yield body[key]
        if not body[key] or page * PAGE_SIZE >= body["count"]:
            return
        page += 1


def load_bare(workdir: Path, date_from: str, date_to: str) -> dict:
    """httpx pages → pyarrow → one Parquet file per list; no validation, nothing kept but the fields."""
    import orjson
    import pyarrow as pa
    import pyarrow.parquet as pq

    string = pa.string()
    portfolio_schema = pa.schema(
        [(n, string) for n in ("easy_number", "company_name", "street_address", "postal_code", "city",
                               "country_code", "legal_identifiers", "head_office_easy_number",
                               "customer_reference")]
        + [("is_head_office", pa.bool_())]
        + [(n, string) for n in ("product_code", "order_id", "order_date", "order_status", "delivery_id",
                                 "external_id", "status", "decision_date", "effective_date", "expiry_date",
                                 "temporary_easy_number")]
        + [("amount_value", pa.float64()), ("amount_currency", string)])
    notification_fields = ("notificationId", "externalId", "eventDate", "eventType", "easyNumber", "productCode",
                           "orderId", "status", "policyNumber")
    notification_schema = pa.schema([(f, string) for f in notification_fields])

    def portfolio_rows(companies: list[dict]) -> list[dict]:
        rows = []
        for c in companies:
            address = c.get("address") or {}
            head = {"easy_number": c["easyNumber"], "company_name": c.get("companyName"),
                    "street_address": address.get("streetAddress"), "postal_code": address.get("postalCode"),
                    "city": address.get("city"), "country_code": c.get("countryCode"),
                    "legal_identifiers": orjson.dumps(c.get("legalIdentifiers") or []).decode(),
                    "head_office_easy_number": c.get("headOfficeEasyNumber"),
                    "customer_reference": c.get("customerReference"), "is_head_office": c.get("isHeadOffice")}
            for p in c.get("products") or ():
                amount = p.get("amount") or {}
                rows.append({**head, "product_code": p.get("productCode"), "order_id": p.get("orderId"),
                             "order_date": p.get("orderDate"), "order_status": p.get("orderStatus"),
                             "delivery_id": p.get("deliveryId"), "external_id": p.get("externalId"),
                             "status": p.get("status"), "decision_date": p.get("decisionDate"),
                             "effective_date": p.get("effectiveDate"), "expiry_date": p.get("expiryDate"),
                             "temporary_easy_number": p.get("temporaryEasyNumber"),
                             "amount_value": amount.get("value"), "amount_currency": amount.get("currency")})
        return rows

    def notification_rows(items: list[dict]) -> list[dict]:
        return [{f: None if item.get(f) is None else str(item[f]) for f in notification_fields} for item in items]

    shapes = {"portfolio": (portfolio_schema, portfolio_rows), "notifications": (notification_schema, notification_rows)}
    started = time.perf_counter()
    figures: dict = {}
    with _http_client(_env_credentials()) as http:
        for name, path, key in LISTS:
            schema, flatten = shapes[name]
            t0 = time.perf_counter()
            rows = items = 0
            with pq.ParquetWriter(workdir / f"{name}.parquet", schema, compression="zstd") as writer:
                for batch in pages(http, path, key, date_from, date_to):
                    if batch:
                        flat = flatten(batch)
                        writer.write_table(pa.Table.from_pylist(flat, schema=schema))
                        rows += len(flat)
                        items += len(batch)
            figures[name] = {"rows": rows, "items": items, "seconds": round(time.perf_counter() - t0, 2)}
    figures["seconds"] = time.perf_counter() - started
    return figures


def load_floor(workdir: Path, date_from: str, date_to: str) -> dict:
    """Every page requested as the other loaders request it, the bodies only counted: the server's time."""
    started = time.perf_counter()
    figures: dict = {}
    with _http_client(_env_credentials()) as http:
        for name, path, key in LISTS:
            t0 = time.perf_counter()
            items = sum(len(batch) for batch in pages(http, path, key, date_from, date_to))
            # rows are not built here: the same row counts as the other loaders, for the per-row columns
            figures[name] = {"rows": 0, "items": items, "seconds": round(time.perf_counter() - t0, 2)}
    figures["seconds"] = time.perf_counter() - started
    return figures


def load_dlt(workdir: Path, date_from: str, date_to: str) -> dict:
    """dlt's rest_api source into a DuckDB file, with its default settings."""
    import os

    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    os.environ.setdefault("DLT_DATA_DIR", str(workdir / "dlt-data"))
    import dlt
    from dlt.sources.rest_api import rest_api_source

    creds = _env_credentials()
    started = time.perf_counter()
    paginator = {"type": "page_number", "base_page": 1, "page_param": "page", "total_path": None}
    window = {"dateFrom": date_from, "dateTo": date_to, "pageSize": PAGE_SIZE}
    source = rest_api_source({
        "client": {
            "base_url": creds["base_url"] + "/tci/",
            "auth": {"type": "bearer", "token": _login(creds)},
            "headers": {"x-api-key": creds["api_key"], "X-COF-Policy-Number": creds["policy_number"]},
            "paginator": paginator,
        },
        "resource_defaults": {"write_disposition": "replace"},
        "resources": [
            {"name": "portfolio", "endpoint": {"path": "product/v1/companies/products", "params": window,
                                               "data_selector": "companies"}},
            {"name": "notifications", "endpoint": {"path": "notification/v1/notifications", "params": window,
                                                   "data_selector": "notifications"}},
        ],
    })
    pipeline = dlt.pipeline(pipeline_name="peer_dlt", destination=dlt.destinations.duckdb(str(workdir / "dlt.duckdb")),
                            dataset_name="cofaserve", pipelines_dir=str(workdir / "dlt-pipelines"))
    pipeline.run(source)
    seconds = time.perf_counter() - started
    with pipeline.sql_client() as client:
        def count(table: str) -> int:
            return client.execute_sql(f"select count(*) from {table}")[0][0]  # noqa: S608 (our own table names)

        figures = {
            "portfolio": {"rows": count("portfolio__products"), "items": count("portfolio")},
            "notifications": {"rows": count("notifications"), "items": count("notifications")},
        }
    figures["seconds"] = seconds
    return figures


def _ours_setup(workdir: Path):
    """Our client on the sandbox, and a landing store under ``workdir``."""
    from resources.cofaserve import ClientSettings, CofaServeClient
    from resources.landing import LandingStore

    creds = _env_credentials()
    settings = ClientSettings.build(**creds, lockout_dir=workdir / "lockout")
    return CofaServeClient(settings), LandingStore(str(workdir / "landing"))


def load_ours(workdir: Path, date_from: str, date_to: str) -> dict:
    """The production extraction functions over every day of the window."""
    from assets.extractors import extract_asset
    from resources.streams import DAILY_ASSET

    first, end = date.fromisoformat(date_from), date.fromisoformat(date_to)
    days = [first + timedelta(days=i) for i in range((end - first).days)]
    started = time.perf_counter()
    client, store = _ours_setup(workdir)
    figures: dict = {}
    with client:  # the daily asset subset to the two lists, paged side by side as a nightly run pages them
        for summary in extract_asset(client, store, DAILY_ASSET, days, "bench-ours", frozenset(name for name, _, _ in LISTS)):
            figures[summary.stream] = {"rows": summary.rows, "items": summary.records,
                                       "quarantined": summary.quarantined}
    figures["seconds"] = time.perf_counter() - started
    return figures


def load_ours_one_partition(workdir: Path, date_from: str, date_to: str) -> dict:
    """Our client's listing landed by one LandingStore writer per list (all rows in one partition)."""
    from resources.cofaserve import DateWindow

    window = DateWindow(date.fromisoformat(date_from), date.fromisoformat(date_to))
    started = time.perf_counter()
    client, store = _ours_setup(workdir)
    figures: dict = {}
    with client:
        for name, listing in (("portfolio", lambda: client.iter_portfolio(window=window)),
                              ("notifications", lambda: client.iter_notifications(window))):
            t0 = time.perf_counter()
            rows = items = 0
            with store.open_partition(name, window.end - timedelta(days=1), "bench-one",
                                      api_window=window.to_params()) as writer:
                for record in listing():
                    items += 1
                    rows += writer.write_parsed(record)
            figures[name] = {"rows": rows, "items": items, "seconds": round(time.perf_counter() - t0, 2)}
    figures["seconds"] = time.perf_counter() - started
    return figures


CHILDREN = {"bare": load_bare, "dlt": load_dlt, "ours": load_ours, "ours-one-partition": load_ours_one_partition,
            "floor": load_floor}

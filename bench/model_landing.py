"""The synthetic landing zone `bench.model_builds` builds from, written directly in the landing store's
layout (docs/contracts.md §3) for speed, under one policy's folder: `LandingStore` reads it like any other.

Two years of daily partitions of deliveries, notifications, portfolio rows and orders (temporary numbers
that get resolved), reconciliation snapshots, the policy list, and daily customer reference lists.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from resources.landing import LandingStore
from resources.streams import get_stream

FIRST_DAY = date(2023, 1, 1)
DAYS = 730
STATUSES = np.array(["DECIDED_FULL", "DECIDED_PARTIAL", "REDUCED", "DECIDED_FULL", "WITHDRAWN"])
PRODUCTS = np.array(["CREDITLIMIT", "ECL", "TOPLINER"])
COUNTRIES = np.array(["FRA", "DEU", "ITA", "ESP", "BEL", "NLD", "GBR", "USA"])
MICROS_PER_DAY = 86_400_000_000
NIGHT = FIRST_DAY + timedelta(days=DAYS)
POLICY = "BENCH-1"
REFERENCE_LISTS = 90

def _ts(micros: np.ndarray) -> pa.Array:
    return pa.array(micros, pa.int64()).cast(pa.timestamp("us", tz="UTC"))


def write_run(root: Path, stream: str, partition: date | None, table: pa.Table, run_id: str,
              extracted_at: datetime) -> None:
    """Write one run of one partition as the landing store lays it out: a Parquet file and a manifest."""
    schema = get_stream(stream).schema
    n = table.num_rows
    extras = {
        "_partition": pa.array([partition] * n, pa.date32()),
        "_run_id": pa.array([run_id] * n, pa.string()),
        "_extracted_at": pa.array([extracted_at] * n, pa.timestamp("us", tz="UTC")),
        "_request": pa.array([f"GET /{stream}"] * n, pa.string()),
        "_raw_json": pa.array(['{"synthetic":true}'] * n, pa.string()),
    }
    columns = [table.column(f.name).cast(f.type) if f.name in table.column_names
               else extras.get(f.name, pa.nulls(n, f.type)) for f in schema]
    key = "current" if partition is None else partition.isoformat()
    attempt = secrets.token_hex(4)
    relative = f"{stream}/partition={key}/run={run_id}/part-00000-{attempt}.parquet"
    (root / relative).parent.mkdir(parents=True, exist_ok=True)
    # as the landing writer writes a file: page checksums, and its size and digest in the manifest
    pq.write_table(pa.Table.from_arrays(columns, schema=schema), root / relative, compression="zstd",
                   write_page_checksum=True)
    content = (root / relative).read_bytes()
    manifest = {"version": 1, "stream": stream, "partition": None if partition is None else key, "run_id": run_id,
                "attempt": attempt, "files": [relative], "file_rows": [n], "rows": n, "quarantined": 0,
                "quarantine_files": [], "written_at": extracted_at.isoformat(), "api_window": None, "superseded": [],
                "file_digests": {relative: {"size": len(content), "sha256": hashlib.sha256(content).hexdigest()}}}
    (root / "_manifests" / stream).mkdir(parents=True, exist_ok=True)
    (root / "_manifests" / stream / f"{key}.json").write_text(json.dumps(manifest))


def _by_day(root: Path, stream: str, table: pa.Table, days: np.ndarray, run_id: str) -> None:
    order = np.argsort(days, kind="stable")
    table, days = table.take(pa.array(order)), days[order]
    bounds = np.flatnonzero(np.diff(days)) + 1
    for start, end in zip(np.r_[0, bounds], np.r_[bounds, len(days)], strict=True):
        day = FIRST_DAY + timedelta(days=int(days[start]))
        at = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1, hours=2)
        write_run(root, stream, day, table.slice(start, end - start), run_id, at)


def synthesize(root: Path, decisions: int, seed: int = 7, day_offset: int = 0, run_id: str = "bench") -> int:
    """Land `decisions` decision versions (with notifications, portfolio rows and orders) spread over
    the days [day_offset, day_offset + span). Returns the number of deliveries written."""
    rng = np.random.default_rng(seed + day_offset)
    span = DAYS if day_offset == 0 else 1
    keys = max(1, decisions // 7)
    companies = max(1, int(keys / 1.5))
    key_company = rng.integers(0, companies, keys) if day_offset else np.arange(keys) % companies
    key_product = PRODUCTS[(np.arange(keys) // companies) % len(PRODUCTS)]
    key_of = rng.integers(0, keys, decisions)
    micros = (day_offset * MICROS_PER_DAY) + rng.integers(0, span * MICROS_PER_DAY, decisions)
    first = FIRST_DAY.toordinal() - date(1970, 1, 1).toordinal()
    micros = micros + first * MICROS_PER_DAY
    days = (micros // MICROS_PER_DAY - first).astype(np.int64)
    tag = f"{seed}-{day_offset}"
    ids = np.char.add(f"D{tag}-", np.arange(decisions).astype(str))
    easy = np.char.add("1", np.char.zfill(key_company[key_of].astype(str), 9))
    temporary = np.where(key_of % 20 == 0, np.char.add("Z", easy), None)
    status = STATUSES[rng.integers(0, len(STATUSES), decisions)]
    amount = (rng.integers(1, 500, decisions) * 1000).astype(np.float64)
    product = key_product[key_of]
    orders = np.char.add(f"O{tag}-", key_of.astype(str))
    at = _ts(micros)
    deliveries = pa.table({
        "delivery_id": ids, "external_id": np.char.add("E", ids), "order_id": orders, "easy_number": easy,
        "temporary_easy_number": pa.array(temporary, pa.string()), "product_code": product, "status": status,
        "decision_at": at, "amount_value": amount, "amount_currency": np.full(decisions, "EUR"),
    })
    _by_day(root, "deliveries", deliveries, days, run_id)
    _by_day(root, "notifications", pa.table({
        "notification_id": np.char.add("N", ids), "external_id": np.char.add("E", ids), "event_type": np.full(
            decisions, "DECISION"), "event_at": at, "easy_number": easy, "product_code": product,
        "order_id": orders, "status": status}), days, run_id)
    country = COUNTRIES[key_company[key_of] % len(COUNTRIES)]
    _by_day(root, "portfolio", pa.table({
        "easy_number": easy, "company_name": np.char.add("Company ", easy), "country_code": country,
        "legal_identifiers": np.full(decisions, "[]"), "product_code": product, "order_id": orders,
        "order_date": pa.array(days + first, pa.int32()).cast(pa.date32()), "delivery_id": ids,
        "external_id": np.char.add("E", ids), "status": status, "decision_at": at, "amount_value": amount,
        "amount_currency": np.full(decisions, "EUR")}), days, run_id)
    pending = np.flatnonzero(key_of % 20 == 0)  # orders placed under a temporary number
    _by_day(root, "orders", pa.table({
        "order_id": orders[pending], "easy_number": temporary[pending].astype(str),
        "temporary_easy_number": temporary[pending].astype(str), "product_code": product[pending],
        "order_at": _ts(micros[pending] - 3_600_000_000), "status": np.full(len(pending), "STATUS_PENDING_DEBTOR_VALIDATION"),
        "status_at": _ts(micros[pending] - 3_600_000_000)}), days[pending], run_id)
    return decisions


def policies(root: Path) -> None:
    """Land the policy list: the one policy, in euros."""
    write_run(root, "policies", None, pa.table({
        "policy_number": [POLICY], "customer_name": ["Bench SA"], "currency": ["EUR"],
        "start_date": pa.array([FIRST_DAY], pa.date32())}), "bench",
        datetime(NIGHT.year, NIGHT.month, NIGHT.day, 2, tzinfo=UTC))


def reference_lists(decisions: int, days: list[date], seed: int = 5) -> dict[date, pa.Table]:
    """The customer reference list of each of ``days``: 30 % of the companies hold a reference; each day
    about 0.5 % of them get a new one and 0.05 % have theirs erased (set again later)."""
    rng = np.random.default_rng(seed)
    companies = max(1, int(max(1, decisions // 7) / 1.5))
    holders = np.flatnonzero(rng.random(companies) < 0.3)
    easy = np.char.add("1", np.char.zfill(holders.astype(str), 9))
    reference = np.char.add("CR-", holders.astype(str))
    first = datetime(days[0].year, days[0].month, days[0].day, tzinfo=UTC) - timedelta(days=400)
    updated = np.full(len(holders), int(first.timestamp() * 1_000_000))
    listed = np.ones(len(holders), bool)
    lists = {}
    for number, day in enumerate(days):
        start = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1_000_000)
        changed = rng.random(len(holders)) < 0.005
        reference = np.where(changed, np.char.add(reference, f"-{number}"), reference)
        updated = np.where(changed | ~listed, start - MICROS_PER_DAY // 2, updated)
        listed = (listed | changed) & ~(rng.random(len(holders)) < 0.0005)
        lists[day] = pa.table({"easy_number": easy[listed], "customer_reference": reference[listed],
                               "updated_at": _ts(updated[listed])})
    return lists


def land_list(root: Path, day: date, table: pa.Table) -> None:
    """Land one day's customer reference list, extracted at 02:00 that day."""
    write_run(root, "customer_references", day, table, "bench", datetime(day.year, day.month, day.day, 2, tzinfo=UTC))


def snapshots(root: Path, store: LandingStore, count: int = 2) -> None:
    """Land `count` reconciliation snapshots listing the current portfolio (the last decision per key)."""
    decided = store.read_table("portfolio", columns=["easy_number", "company_name", "country_code",
                                                     "legal_identifiers", "product_code", "order_id", "delivery_id",
                                                     "status", "decision_at", "amount_value", "amount_currency"])
    for i in range(count):
        day = FIRST_DAY + timedelta(days=DAYS - 1 - 30 * (count - 1 - i))
        cut = datetime(day.year, day.month, day.day, 3, tzinfo=UTC)
        table = decided.filter(pc.less(decided["decision_at"], pa.scalar(cut, pa.timestamp("us", tz="UTC"))))
        latest = table.group_by(["easy_number", "product_code"]).aggregate([("decision_at", "max")])
        table = table.join(latest.rename_columns(["easy_number", "product_code", "decision_at"]),
                           ["easy_number", "product_code", "decision_at"], join_type="inner")
        write_run(root, "portfolio_snapshot", day, table, "bench", cut)

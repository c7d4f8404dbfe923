"""Warehouse build times: full rebuild and nightly incremental build, on DuckDB and on Postgres.

Synthesizes a landing zone of two years of daily partitions holding N decision versions (default one
million deliveries, with their notifications and portfolio rows, the orders, temporary numbers that
get resolved and two reconciliation snapshots), the policy list (EUR) and the daily customer reference
lists of the last 90 days (a reference on 30 % of the companies, a few set or erased each day), then
per engine:

1. full rebuild from the landing zone;
2. one nightly batch (one more day: ~N/730 decisions, and that day's reference list) built incrementally;
3. the same nightly batch built again (nothing changed: the cost of a no-op night);
4. the dashboard query: one day of `marts.cover_daily` summed by country in the policy's currency
   (median of 5, the first run apart).

With ``--baseline REF`` (``make bench``: the main the marts issue was measured on) the same benchmark of
that commit runs first, in a worktree, on a landing zone it synthesizes alike, and the ratios of this
code's full and nightly builds to that one's are printed: both measured in one run, side by side.

    .venv/bin/python -m bench.model_builds                         # 1M versions, DuckDB + throwaway Postgres
    .venv/bin/python -m bench.model_builds --decisions 100000 --engines duckdb
    .venv/bin/python -m bench.model_builds --postgres-url postgresql+psycopg://user@host/db

The landing files are written directly in the landing store's layout (docs/contracts.md §3) for speed;
`LandingStore` reads them like any other run.
"""

from __future__ import annotations

import argparse
import json
import secrets
import shutil
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from resources.landing import LandingStore
from resources.landing.policies import policy_dir
from resources.streams import get_stream
from resources.warehouse import Warehouse

FIRST_DAY = date(2023, 1, 1)
DAYS = 730
STATUSES = np.array(["DECIDED_FULL", "DECIDED_PARTIAL", "REDUCED", "DECIDED_FULL", "WITHDRAWN"])
PRODUCTS = np.array(["CREDITLIMIT", "ECL", "TOPLINER"])
COUNTRIES = np.array(["FRA", "DEU", "ITA", "ESP", "BEL", "NLD", "GBR", "USA"])
MICROS_PER_DAY = 86_400_000_000
NIGHT = FIRST_DAY + timedelta(days=DAYS)
POLICY = "BENCH-1"
REFERENCE_LISTS = 90
DASHBOARD_QUERY = """
select companies.country_code, cover.policy_currency, count(*) as covers,
    sum(cover.amount_policy_currency) as covered_policy_currency
from marts.cover_daily as cover
left join history.company_history as companies
    on companies.easy_number = cover.easy_number
    and companies.policy_number = cover.policy_number
    and companies.is_current
where cover.cover_date = :cover_date
group by companies.country_code, cover.policy_currency
order by companies.country_code
"""


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
    pq.write_table(pa.Table.from_arrays(columns, schema=schema), root / relative, compression="zstd")
    manifest = {"version": 1, "stream": stream, "partition": None if partition is None else key, "run_id": run_id,
                "attempt": attempt, "files": [relative], "file_rows": [n], "rows": n, "quarantined": 0,
                "quarantine_files": [], "written_at": extracted_at.isoformat(), "api_window": None, "superseded": []}
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


def dashboard_seconds(warehouse: Warehouse, day: date, runs: int = 5) -> tuple[float, float, int]:
    """(first run's seconds, median of the next ``runs``, result rows) of the dashboard query for ``day``."""
    times, rows = [], 0
    for _ in range(runs + 1):
        started = time.perf_counter()
        rows = len(warehouse.query(DASHBOARD_QUERY, {"cover_date": day}))
        times.append(time.perf_counter() - started)
    return times[0], float(np.median(times[1:])), rows


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


def _postgres(args: argparse.Namespace):
    if args.postgres_url:
        return None, args.postgres_url
    from tests.support.postgres import PostgresCluster

    cluster = PostgresCluster().start()
    cluster.wait_ready()
    return cluster, cluster.create_database("bench")


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--decisions", type=int, default=1_000_000)
    parser.add_argument("--engines", default="duckdb,postgres")
    parser.add_argument("--postgres-url", default=None)
    parser.add_argument("--workdir", default=None, help="where the landing zone and DuckDB file go (default: temp)")
    args = parser.parse_args(argv)

    work = Path(args.workdir or tempfile.mkdtemp(prefix="bench-models-"))
    root = Path(policy_dir(str(work / "landing"), POLICY))
    started = time.perf_counter()
    synthesize(root, args.decisions)
    store = LandingStore(str(work / "landing"), policy=POLICY)
    snapshots(root, store)
    policies(root)
    lists = reference_lists(args.decisions, [NIGHT - timedelta(days=n) for n in range(REFERENCE_LISTS, -1, -1)])
    for day, table in lists.items():
        if day < NIGHT:
            land_list(root, day, table)
    print(f"landing: {args.decisions:,} decision versions over {DAYS} days + 2 snapshots + {REFERENCE_LISTS} "
          f"daily reference lists of {lists[NIGHT].num_rows:,} companies "
          f"(synthesized in {time.perf_counter() - started:.1f} s) at {root}")
    rows = []
    cluster = None
    try:
        for engine in args.engines.split(","):
            if engine == "duckdb":
                url = f"duckdb:///{work}/warehouse.duckdb"
            else:
                cluster, url = _postgres(args)
            warehouse = Warehouse(url)
            full = warehouse.build(store, full_refresh=True)
            print(f"{engine} full rebuild steps (s): {full.step_seconds}", flush=True)
            synthesize(root, max(1, args.decisions // DAYS), seed=11, day_offset=DAYS, run_id="night")
            land_list(root, NIGHT, lists[NIGHT])
            night = warehouse.build(store)
            noop = warehouse.build(store)
            counts = warehouse.table_counts()
            query = dashboard_seconds(warehouse, NIGHT - timedelta(days=1))
            rows.append((engine, full, night, noop, counts, query))
            for stream in ("deliveries", "notifications", "portfolio", "orders", "customer_references"):
                (root / "_manifests" / stream / f"{NIGHT.isoformat()}.json").unlink(missing_ok=True)
    finally:
        if cluster is not None:
            cluster.stop()
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
    print("\nseconds until readers see the new state (build + publish); counting every table and view")
    print("afterwards for the report is shown apart ('counts')\n")
    print(f"{'engine':<10} {'versions':>10} {'full rebuild':>13} {'nightly':>9} {'no-op':>7} {'counts':>7}"
          "  nightly steps (s)")
    for engine, full, night, noop, counts, _ in rows:
        steps = ", ".join(f"{k} {v}" for k, v in night.step_seconds.items())
        print(f"{engine:<10} {counts['decision_history']:>10,} {full.duration_seconds:>11.1f} s "
              f"{night.duration_seconds:>7.2f} s {noop.duration_seconds:>5.2f} s {night.count_seconds:>5.2f} s"
              f"  {steps}")
    print(f"\ndashboard query: one day of marts.cover_daily summed by country in the policy's currency "
          f"({NIGHT - timedelta(days=1)})")
    for engine, _, _, _, counts, (first, median, found) in rows:
        print(f"{engine:<10} first run {first:.3f} s, then median {median:.3f} s ({found} countries; "
              f"cover_daily has {counts.get('cover_daily', 0):,} rows over all days)")
    if len(rows) == 2:
        print(f"\npostgres / duckdb: full {rows[1][1].duration_seconds / rows[0][1].duration_seconds:.1f}x, "
              f"nightly {rows[1][2].duration_seconds / rows[0][2].duration_seconds:.1f}x")


if __name__ == "__main__":
    main()

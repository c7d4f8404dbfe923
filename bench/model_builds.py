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

The landing zone is `bench.model_landing`'s.
"""

from __future__ import annotations

import argparse
import re
import shutil
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from bench.model_landing import (
    DAYS,
    NIGHT,
    POLICY,
    REFERENCE_LISTS,
    land_list,
    policies,
    reference_lists,
    snapshots,
    synthesize,
)
from resources.landing import LandingStore
from resources.landing.policies import policy_dir
from resources.warehouse import Warehouse

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


def dashboard_seconds(warehouse: Warehouse, day: date, runs: int = 5) -> tuple[float, float, int]:
    """(first run's seconds, median of the next ``runs``, result rows) of the dashboard query for ``day``."""
    times, rows = [], 0
    for _ in range(runs + 1):
        started = time.perf_counter()
        rows = len(warehouse.query(DASHBOARD_QUERY, {"cover_date": day}))
        times.append(time.perf_counter() - started)
    return times[0], float(np.median(times[1:])), rows


_ROW = re.compile(r"^(duckdb|postgres)\s+[\d,]+\s+([\d.]+) s\s+([\d.]+) s", re.M)
BUILD_TARGET = 1.5
"""This code's full and nightly builds may take at most this many times the baseline's (the marts issue)."""


def baseline_figures(stdout: str) -> dict[str, tuple[float, float]]:
    """{engine: (full rebuild s, nightly s)} from the output of this benchmark (any version of it)."""
    found = {m.group(1): (float(m.group(2)), float(m.group(3))) for m in _ROW.finditer(stdout)}
    if not found:
        raise RuntimeError(f"no build figures in the baseline's output:\n{stdout[-2000:]}")
    return found


def print_side_by_side(ref: str, baseline: dict, current: dict) -> None:
    """This code's builds ÷ the baseline's, per engine, against BUILD_TARGET."""
    print(f"\nside by side with {ref} (its benchmark, run first in this run; same decisions, same machine)")
    print(f"{'engine':<10} {'full: this / baseline':>32} {'nightly: this / baseline':>32}  within {BUILD_TARGET}x")
    for engine, (full, night) in current.items():
        if engine not in baseline:
            continue
        base_full, base_night = baseline[engine]
        ratios = (full / base_full, night / base_night)
        print(f"{engine:<10} {full:>9.1f} s / {base_full:>6.1f} s = {ratios[0]:>4.2f}x "
              f"{night:>9.2f} s / {base_night:>6.2f} s = {ratios[1]:>4.2f}x  "
              f"{'yes' if max(ratios) <= BUILD_TARGET else 'NO'}")


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
    parser.add_argument("--baseline", default=None, metavar="REF",
                        help="first run this benchmark as commit REF has it, and print this code's ÷ its builds")
    args = parser.parse_args(argv)
    baseline = None
    if args.baseline:
        from bench.baseline import run_at

        print(f"baseline: the benchmark as {args.baseline} has it, first (same decisions, same engines)", flush=True)
        baseline = baseline_figures(run_at(args.baseline, "bench.model_builds",
                                           ["--decisions", str(args.decisions), "--engines", args.engines]))

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
    print("\nseconds until readers see the new state (build + publish); counting every table (views are not")
    print("counted) afterwards for the report is shown apart ('counts')\n")
    print(f"{'engine':<10} {'versions':>10} {'full rebuild':>13} {'nightly':>9} {'no-op':>7} {'counts':>7}"
          "  nightly steps (s)")
    for engine, full, night, noop, counts, _ in rows:
        steps = ", ".join(f"{k} {v}" for k, v in night.step_seconds.items())
        print(f"{engine:<10} {counts['decision_history']:>10,} {full.duration_seconds:>11.1f} s "
              f"{night.duration_seconds:>7.2f} s {noop.duration_seconds:>5.2f} s {night.count_seconds:>5.2f} s"
              f"  {steps}")
    print(f"\ndashboard query: one day of marts.cover_daily summed by country in the policy's currency "
          f"({NIGHT - timedelta(days=1)})")
    for engine, *_, (first, median, found) in rows:
        print(f"{engine:<10} first run {first:.3f} s, then median {median:.3f} s ({found} countries)")
    if baseline:
        print_side_by_side(args.baseline, baseline, {engine: (full.duration_seconds, night.duration_seconds)
                                                     for engine, full, night, *_ in rows})
    if len(rows) == 2:
        print(f"\npostgres / duckdb: full {rows[1][1].duration_seconds / rows[0][1].duration_seconds:.1f}x, "
              f"nightly {rows[1][2].duration_seconds / rows[0][2].duration_seconds:.1f}x")


if __name__ == "__main__":
    main()

"""Dagster bookkeeping of a two-year backfill: the project's SQLite instance beside a Postgres instance.

The sandbox runs in its own process (rate limit off, no faults, so the API part is short and the rest is
Dagster's bookkeeping: planned events, 730 × 6 partition materializations, checks). The nightly
extraction of the two-year window runs as a deployment runs it, `dagster job execute` on the code
location (Dagster's multiprocess executor), once on a fresh project Dagster home (its batched SQLite event
log) and once on a fresh home whose run, event and schedule storage is a throwaway Postgres cluster (the
`dagster.yaml` of docs/operations.md). Bookkeeping = the run's wall time minus its API part (first to last
request the sandbox answered). Printed side by side, with the ratio.

    .venv/bin/python bench/instance_bookkeeping.py [--companies 300] [--results bench/RESULTS.md]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.api_efficiency import TODAY
from bench.common import (
    ROOT,
    api_seconds,
    command_line,
    machine_line,
    pipeline_env,
    ratio,
    report_result,
    run_child,
    table,
    update_section,
)


def backfill(sb, workdir: Path, home_yaml: str | None) -> dict:
    """The two-year `nightly_extract` run on a fresh home (the project's, or ``home_yaml``); its figures."""
    from pipelines.cli import ensure_dagster_home
    from pipelines.due import partition_range_tags

    home = workdir / "dagster"
    if home_yaml is None:
        ensure_dagster_home(home)
    else:
        home.mkdir(parents=True)
        (home / "dagster.yaml").write_text(home_yaml)
    first = date.fromisoformat(sb.clock()["firstAvailableDate"])
    tags = partition_range_tags(first, sb.today - timedelta(days=1))
    env = {**os.environ, **pipeline_env(sb, workdir), "PYTHONPATH": str(ROOT), "DAGSTER_HOME": str(home)}
    sb.reset_counters()
    child = run_child([str(Path(sys.executable).with_name("dagster")), "job", "execute", "-m", "pipelines.definitions",
                       "-j", "nightly_extract", "--tags", json.dumps(tags)], env=env, timeout=3600)
    api = api_seconds(sb.counters())
    return {"ok": child.ok, "wall_s": round(child.seconds, 1), "api_s": round(api, 1),
            "bookkeeping_s": round(child.seconds - api, 1), "peak_rss_mb": child.peak_rss_mb,
            **({} if child.ok else {"tail": child.tail()})}


def main(argv: list[str] | None = None) -> int:
    """Run the backfill on both instances, print and report them side by side."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--companies", type=int, default=300)
    parser.add_argument("--results", type=Path)
    args = parser.parse_args(argv)
    from sandbox.testing import run_sandbox_process
    from tests.support.postgres import PostgresCluster, PostgresUnavailable

    try:
        cluster = PostgresCluster().start()
    except PostgresUnavailable as exc:
        print(f"PostgreSQL unavailable ({exc}): nothing measured")
        return 1
    try:
        cluster.wait_ready()
        db = cluster.create_database().rsplit("/", 1)[1]
        with tempfile.TemporaryDirectory(prefix="bench-instance-") as tmp, run_sandbox_process(
                companies=args.companies, today=TODAY, rate_limit="off") as sb:
            sqlite = backfill(sb, Path(tmp) / "sqlite", None)
            postgres = backfill(sb, Path(tmp) / "postgres", cluster.dagster_home_yaml(db))
    finally:
        cluster.stop()
    for name, run in (("SQLite", sqlite), ("Postgres", postgres)):
        if not run["ok"]:
            print(f"{name} run failed:\n{run['tail']}")
    rows = [[name, run["wall_s"], run["api_s"], run["bookkeeping_s"], run["peak_rss_mb"]]
            for name, run in (("project home (batched SQLite event log)", sqlite), ("Postgres storage", postgres))]
    factor = ratio(postgres["bookkeeping_s"], sqlite["bookkeeping_s"])
    body = "\n\n".join([
        f"World: {args.companies:,} companies (seed 42, today {TODAY}), sandbox in its own process, rate limit off; "
        "the two-year `nightly_extract` as `dagster job execute` (multiprocess executor) on a fresh Dagster home. "
        "Bookkeeping = wall − API part (first to last request).",
        table(["instance", "wall s", "API part s", "bookkeeping s", "peak RSS MB"], rows),
        f"**bookkeeping Postgres ÷ SQLite = {factor:.2f}**",
        f"Command: `{command_line(argv)}`  \nMachine: {machine_line()}",
    ])
    print(body)
    if args.results:
        update_section("instance_bookkeeping", "Dagster bookkeeping of a backfill: SQLite and Postgres instances",
                       body, args.results)
    report_result({"sqlite": sqlite, "postgres": postgres, "ratio": factor, "markdown": body})
    return 0 if sqlite["ok"] and postgres["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())

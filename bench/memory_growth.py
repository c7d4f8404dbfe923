"""Memory growth: does our extraction's peak memory stay flat as the portfolio grows?

For each world size (default 10,000 and 100,000 companies) the sandbox runs as its own process (not
counted), then one child process runs the production extraction of the two-year window:
the ``portfolio`` and ``notifications`` extractions over its 730 days (the same child as the ``ours``
loader of ``bench/peer_comparison.py``). The child's peak RSS (``os.wait4``) is reported per world, and
the ratio largest ÷ smallest world, which should stay near 1 (memory bounded by a page and a day, not
by the portfolio), beside the ratio of rows landed.

Night after night under faults is ``bench/soak.py`` (``make soak``).

    .venv/bin/python bench/memory_growth.py [--worlds 10000,100000] [--results bench/RESULTS.md]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (
    command_line,
    machine_line,
    ratio,
    report_result,
    run_child,
    sandbox_env,
    table,
    update_section,
)

TODAY = date(2026, 11, 23)
PEER = Path(__file__).resolve().with_name("peer_comparison.py")


def measure_world(companies: int, seed: int, today: date) -> dict:
    """Start a sandbox of ``companies`` and measure one extraction child against it."""
    from sandbox.testing import run_sandbox_process

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp, run_sandbox_process(
        seed=seed, companies=companies, today=today, rate_limit="off"
    ) as sb:
        ready = time.monotonic() - started
        clock = sb.clock()
        child = run_child([sys.executable, str(PEER), "--loader", "ours", "--workdir", tmp,
                           "--date-from", clock["firstAvailableDate"], "--date-to", clock["today"]],
                          env=sandbox_env(sb), timeout=3600)
    figures = child.result() if child.ok else None
    if figures is None:
        print(f"{companies:,} companies: extraction FAILED (exit {child.returncode})\n{child.tail()}", flush=True)
        return {"companies": companies, "ok": False, "peak_rss_mb": child.peak_rss_mb}
    rows = figures["portfolio"]["rows"] + figures["notifications"]["rows"]
    result = {"companies": companies, "ok": True, "peak_rss_mb": child.peak_rss_mb, "rows": rows,
              "portfolio_rows": figures["portfolio"]["rows"], "notification_rows": figures["notifications"]["rows"],
              "seconds": round(figures["seconds"], 1), "rows_per_s": rows / figures["seconds"],
              "sandbox_ready_s": round(ready, 1)}
    print(f"{companies:,} companies: {rows:,} rows (portfolio {result['portfolio_rows']:,}, notifications "
          f"{result['notification_rows']:,}) in {result['seconds']} s = {result['rows_per_s']:,.0f} rows/s; "
          f"peak RSS {child.peak_rss_mb:,.0f} MB (sandbox ready in {ready:.0f} s)", flush=True)
    return result


def growth(args) -> int:
    worlds = [int(w) for w in args.worlds.split(",")]
    results = [measure_world(n, args.seed, args.today) for n in worlds]
    small, large = results[0], results[-1]
    mem = ratio(large["peak_rss_mb"], small["peak_rss_mb"]) if small["ok"] and large["ok"] else float("nan")
    rows_ratio = ratio(large.get("rows", 0), small.get("rows", 0))
    speed = ratio(large.get("rows_per_s", 0), small.get("rows_per_s", 0))
    label = f"{large['companies'] // 1000}k ÷ {small['companies'] // 1000}k"
    print(f"peak RSS {label} = {mem:.2f} (rows {label} = {rows_ratio:.1f}; rows/s {label} = {speed:.2f})", flush=True)
    body = "\n".join([
        "The production extraction of the two-year window (the `portfolio` and `notifications` extractions, "
        "730 daily partitions each) in one child process per world; the sandbox in its own process (not "
        "counted); rate limit off, no faults.",
        "",
        table(["world (companies)", "portfolio rows", "notification rows", "seconds", "rows/s", "peak RSS MB"],
              [[r["companies"], r.get("portfolio_rows", "FAILED"), r.get("notification_rows", ""),
                r.get("seconds", ""), round(r["rows_per_s"]) if r["ok"] else "", r["peak_rss_mb"]]
               for r in results]),
        "",
        f"**peak RSS {label} = {mem:.2f}** (target: flat, i.e. close to 1) for {rows_ratio:.1f}× the rows; "
        f"rows/s {label} = {speed:.2f}.",
        "",
        f"Command: `{command_line()}`  \nMachine: {machine_line()}",
    ])
    if args.results:
        update_section("memory_growth", "Memory growth of the extraction with the world's size", body, args.results)
    report_result({"results": results, "ratio": mem, "markdown": body})
    return 0 if all(r["ok"] for r in results) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worlds", default="10000,100000", help="comma-separated world sizes, smallest first")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--today", type=date.fromisoformat, default=TODAY)
    parser.add_argument("--results", type=Path, help="also write this benchmark's section of a RESULTS.md")
    args = parser.parse_args(argv)
    return growth(args)


if __name__ == "__main__":
    sys.exit(main())

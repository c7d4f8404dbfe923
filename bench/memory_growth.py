"""Memory growth: does our extraction's peak memory stay flat as the portfolio grows?

For each world size (default 10,000 and 100,000 companies) the sandbox runs as its own process (not
counted), then one child process runs the production extraction of the two-year window:
``extract_portfolio`` and ``extract_notifications`` over its 730 days (the same child as the ``ours``
loader of ``bench/peer_comparison.py``). The child's peak RSS (``os.wait4``) is reported per world, and
the ratio largest ÷ smallest world, which should stay near 1 (memory bounded by a page and a day, not
by the portfolio), beside the ratio of rows landed.

``--soak`` instead runs the whole pipeline night after night: a two-year ``cofasync sync`` and then
``--nights`` nightly syncs (the sandbox's clock one day further each time, ``--faults`` injected), each
``cofasync sync`` its own process; it reports per night the calls, seconds and peak RSS, and the ratio
of the last nights to the first ones (flat = no growth with the nights already landed).

    .venv/bin/python bench/memory_growth.py [--worlds 10000,100000] [--results bench/RESULTS.md]
    .venv/bin/python bench/memory_growth.py --soak [--companies 1000] [--nights 30] [--faults mild]
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
    pipeline_env,
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
        "The production extraction of the two-year window (`extract_portfolio` + `extract_notifications`, "
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


def soak(args) -> int:
    """A two-year sync then ``args.nights`` nightly syncs, each `cofasync sync` in its own process."""
    from sandbox.testing import run_sandbox_process

    nights = []
    with tempfile.TemporaryDirectory(prefix="bench-soak-") as tmp, run_sandbox_process(
        seed=args.seed, companies=args.companies, today=args.today, rate_limit="off", faults=args.faults
    ) as sb:
        cofasync = str(Path(sys.executable).with_name("cofasync"))
        for night in range(args.nights + 1):
            if night:
                sb.advance(1)
            sb.reset_counters()
            child = run_child([cofasync, "sync"], env=pipeline_env(sb, Path(tmp)), timeout=3600)
            counters = sb.counters()
            entry = {"night": night, "today": sb.today.isoformat(), "exit": child.returncode,
                     "seconds": round(child.seconds, 1), "peak_rss_mb": child.peak_rss_mb,
                     "calls": counters["requests"], "faults": sum(counters.get("faults", {}).values())}
            nights.append(entry)
            print(f"{'backfill' if not night else f'night {night}'} ({entry['today']}): exit {child.returncode}, "
                  f"{entry['calls']} calls ({entry['faults']} faults), {entry['seconds']} s, "
                  f"peak RSS {entry['peak_rss_mb']:,.0f} MB", flush=True)
            if not child.ok:
                print(child.tail(), flush=True)
    later = [n for n in nights[1:] if n["exit"] == 0]
    k = max(1, len(later) // 4)
    first, last = later[:k], later[-k:]

    def mean(items, key):
        return sum(i[key] for i in items) / len(items) if items else float("nan")

    mem = ratio(mean(last, "peak_rss_mb"), mean(first, "peak_rss_mb"))
    secs = ratio(mean(last, "seconds"), mean(first, "seconds"))
    print(f"last {k} nights ÷ first {k} nights: peak RSS {mem:.2f}, seconds {secs:.2f}", flush=True)
    body = "\n".join([
        f"World: {args.companies:,} companies, faults `{args.faults}`; one two-year `cofasync sync`, then "
        f"{args.nights} nightly syncs, each its own process.",
        "",
        table(["run", "today", "exit", "calls", "faults", "seconds", "peak RSS MB"],
              [["backfill" if n["night"] == 0 else n["night"], n["today"], n["exit"], n["calls"], n["faults"],
                n["seconds"], n["peak_rss_mb"]] for n in nights]),
        "",
        f"**last {k} nights ÷ first {k} nights: peak RSS {mem:.2f}, seconds {secs:.2f}** (flat = 1).",
        "",
        f"Command: `{command_line()}`  \nMachine: {machine_line()}",
    ])
    if args.results:
        update_section("soak", "Soak: nightly syncs one after another", body, args.results)
    report_result({"nights": nights, "ratio_rss": mem, "ratio_seconds": secs, "markdown": body})
    return 0 if all(n["exit"] == 0 for n in nights) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worlds", default="10000,100000", help="comma-separated world sizes, smallest first")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--today", type=date.fromisoformat, default=TODAY)
    parser.add_argument("--soak", action="store_true", help="run nightly syncs one after another instead")
    parser.add_argument("--companies", type=int, default=1000, help="--soak: the world's size")
    parser.add_argument("--nights", type=int, default=30, help="--soak: nightly syncs after the backfill")
    parser.add_argument("--faults", default="mild", help="--soak: the sandbox's fault preset")
    parser.add_argument("--results", type=Path, help="also write this benchmark's section of a RESULTS.md")
    args = parser.parse_args(argv)
    return soak(args) if args.soak else growth(args)


if __name__ == "__main__":
    sys.exit(main())

"""Our pipeline against dlt and against a bare loop, on the same sandbox endpoints, in one run.

The sandbox runs as its own process (rate limit off, no faults). Each loader then reads the same two
lists over the same two-year window (``dateFrom`` = the first available date, ``dateTo`` = today), 100
items a page, and runs in its own child process so that its peak RSS and its CPU time are its own
(``bench/peer_loaders.py``):

- ``dlt``: dlt's ``rest_api`` source into DuckDB (login to ``/authentication/v1/token``, the idToken as a
  bearer token, ``x-api-key`` and ``X-COF-Policy-Number`` headers, page-number paginator);
- ``bare``: httpx → pyarrow → one Parquet file per list, no validation (the floor of any loader here);
- ``ours``: the production path, the ``portfolio`` and ``notifications`` extractions over the 730 days
  (our client: auth, budget, retries, paging with one page fetched ahead, pydantic validation; landing:
  strict typed rows, raw JSON kept on every row, one range writer per list whose shared part files and
  730 per-day manifests are committed atomically and durably);
- ``ours, one partition`` (diagnostic, not the production layout): our client's listing written by one
  ``LandingStore`` partition writer per list, to separate the cost of the per-day layout;
- ``server floor`` (diagnostic): the same requests with httpx and nothing done with the bodies, the time
  the sandbox itself needs (every loader waits for it; a loader that fetches ahead can hide it).

Each loader runs ``--repeat`` times (default 3), the loaders interleaved so that each meets the shared
machine's load alike; a loader's figures are those of its median run by CPU seconds, and the CPU seconds
of all its runs are reported beside them.

Rows are counted alike for all loaders: one row per company × product for the portfolio (dlt's child
table ``portfolio__products``), one per notification; the sandbox's ground truth gives the expected count.
Per loader: seconds and rows/s (from the login to the data being durable), CPU seconds per 100k rows
(user + sys of the whole child process, imports included) and peak RSS; the ratios and their targets
are in ``bench/peer_report.py``.

    .venv/bin/python -m bench.peer_comparison [--companies 10000] [--loaders floor,bare,dlt,ours] \\
        [--repeat 3] [--results bench/RESULTS.md]
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
    file_creation_probe,
    machine_line,
    profile_all_threads,
    report_result,
    run_child,
    sandbox_env,
    update_section,
)
from bench.peer_loaders import CHILDREN, LISTS, LOADERS, pages
from bench.peer_report import add_rates, markdown, profile_table, ratios

TODAY = date(2026, 11, 23)


def _event(line: dict) -> str:
    # the event date the portfolio's window filters on (orderStatusDate: final orders without a decision)
    return line.get("decisionDate") or line.get("orderStatusDate") or line["orderDate"]


def expected_rows(sb, first: date, today: date) -> dict[str, int]:
    """Rows each loader should land, from the sandbox's ground truth."""
    lo, hi = first.isoformat(), today.isoformat()
    notifications = sum(1 for n in sb.truth("notifications") if lo <= n["eventDate"][:10] < hi)
    portfolio = sum(1 for line in sb.truth("lines")
                    if line["listed"] and lo <= _event(line)[:10] < hi)
    return {"portfolio": portfolio, "notifications": notifications}


def warm_up(sb, date_from: str, date_to: str) -> None:
    """Read every page once (not measured), so no loader pays for the sandbox's first reads."""
    with sb.client() as http:
        for _, path, key in LISTS:
            for _ in pages(http, path, key, date_from, date_to):
                pass


def median_run(tries: list[dict]) -> dict:
    """The run that stands for a loader: a failed one if any failed, else its median run by CPU seconds,
    with the CPU seconds of every run (``cpu_s_runs``)."""
    failed = [run for run in tries if "figures" not in run]
    if failed:
        return failed[0]
    ordered = sorted(tries, key=lambda run: run["cpu_s"])
    return {**ordered[(len(ordered) - 1) // 2], "cpu_s_runs": [run["cpu_s"] for run in tries]}


def run_loader(sb, name: str, workdir: Path, args, *extra: str):
    """Run one loader in its own child process (``--loader``) against the sandbox; the measured child."""
    workdir.mkdir()
    return run_child([sys.executable, str(Path(__file__).resolve()), "--loader", name, "--workdir", str(workdir),
                      "--date-from", args.date_from, "--date-to", args.date_to, *extra],
                     env=sandbox_env(sb), timeout=1800)


def child_main(args) -> int:
    """In the child: run one loader (under cProfile, every thread, with ``--profile-to``) and report its figures."""
    if args.profile_to:
        figures = profile_all_threads(CHILDREN[args.loader], args.workdir, args.date_from, args.date_to,
                                      out=args.profile_to)
    else:
        figures = CHILDREN[args.loader](args.workdir, args.date_from, args.date_to)
    report_result(figures)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run every loader asked for against one sandbox, print and report the figures (exit 1 when a
    loader failed); with ``--loader``, be that loader's child."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--companies", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--today", type=date.fromisoformat, default=TODAY)
    parser.add_argument("--loaders", default=",".join(LOADERS), help="comma-separated subset of " + ", ".join(LOADERS))
    parser.add_argument("--results", type=Path, help="also write this benchmark's section of a RESULTS.md")
    parser.add_argument("--loader", choices=CHILDREN, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--date-from", help=argparse.SUPPRESS)
    parser.add_argument("--date-to", help=argparse.SUPPRESS)
    parser.add_argument("--profile-to", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--no-profile", action="store_true", help="skip the profiled extra run of ours")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each loader, interleaved; the figures are each loader's median run by CPU")
    args = parser.parse_args(argv)
    if args.loader:
        return child_main(args)

    from sandbox.testing import run_sandbox_process

    cmd = command_line()
    started = time.monotonic()
    names = args.loaders.split(",")
    with tempfile.TemporaryDirectory(prefix="bench-peer-") as tmp, run_sandbox_process(
        seed=args.seed, companies=args.companies, today=args.today, rate_limit="off"
    ) as sb:
        clock = sb.clock()
        first, today = date.fromisoformat(clock["firstAvailableDate"]), date.fromisoformat(clock["today"])
        args.date_from, args.date_to = first.isoformat(), today.isoformat()
        world = f"{args.companies:,} companies (seed {args.seed}, today {today})"
        print(f"sandbox: {world}, ready in {time.monotonic() - started:.1f} s", flush=True)
        probe = file_creation_probe(Path(tmp))
        print(f"work folder {tmp}: {probe:.3f} CPU s per 1,000 new files", flush=True)
        expected = expected_rows(sb, first, today)
        warm_up(sb, args.date_from, args.date_to)
        tries: dict[str, list[dict]] = {}
        for attempt in range(1, args.repeat + 1):  # interleaved: every loader meets the machine's load alike
            for name in names:
                sb.reset_counters()
                child = run_loader(sb, name, Path(tmp) / f"{name}-{attempt}", args)
                run = {"peak_rss_mb": child.peak_rss_mb, "cpu_s": child.cpu_seconds, "wall": round(child.seconds, 1),
                       "requests": sb.counters()["requests"]}
                tries.setdefault(name, []).append(run)
                figures = child.result() if child.ok else None
                if figures is None:
                    print(f"{LOADERS[name]}: FAILED (exit {child.returncode})\n{child.tail()}", flush=True)
                    continue
                figures["total_rows"] = figures["portfolio"]["rows"] + figures["notifications"]["rows"]
                run["figures"] = figures
                print(f"{LOADERS[name]} (run {attempt} of {args.repeat}): portfolio {figures['portfolio']['rows']:,} "
                      f"rows, notifications {figures['notifications']['rows']:,} rows in {figures['seconds']:.1f} s; "
                      f"CPU {child.cpu_seconds:.1f} s; peak RSS {child.peak_rss_mb:,.0f} MB; {run['requests']} "
                      f"requests; process wall {child.seconds:.1f} s", flush=True)
                for stream in ("portfolio", "notifications"):
                    if attempt == 1 and name != "floor" and figures[stream]["rows"] != expected[stream]:
                        print(f"  NOTE: {stream} rows {figures[stream]['rows']:,} != expected {expected[stream]:,}",
                              flush=True)
        runs = {name: median_run(found) for name, found in tries.items()}
        requests = {name: run["requests"] for name, run in runs.items()}
        profile = None
        if not args.no_profile and "ours" in names:
            child = run_loader(sb, "ours", Path(tmp) / "ours-profiled", args, "--profile-to", str(Path(tmp) / "ours.prof"))
            if child.ok:
                profile = profile_table(Path(tmp) / "ours.prof")
                print("profile of ours (separate run under cProfile):\n" + profile, flush=True)

    add_rates(runs)
    for name, run in runs.items():
        if "figures" in run:
            print(f"{LOADERS[name]:<50} {run['figures']['rows_per_s']:>10,.0f} rows/s "
                  f"{run['figures']['cpu_per_100k_rows']:>8.2f} CPU s per 100k rows", flush=True)
    measured = ratios(runs)
    for r in measured:
        print(f"{r.label:<42} {r.value:8.3f}   target {r.target} {r.verdict}", flush=True)
    body = markdown(args, world, expected, runs, measured, requests, profile) + \
        f"\n\nCommand: `{cmd}`  \nMachine: {machine_line()}; the work folder created " \
        f"1,000 new files in {probe:.3f} CPU s\n"
    if args.results:
        update_section("peer_comparison", "Peer comparison: ours vs dlt vs a bare loop", body, args.results)
    report_result({"ratios": {r.label: r.value for r in measured}, "runs": runs, "expected": expected,
                   "targets": {r.label: r.target for r in measured if r.verdict}, "markdown": body})
    failed = [name for name in names if "figures" not in runs.get(name, {})]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

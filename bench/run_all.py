"""`make bench`: run every benchmark in bench/, each as its own process, and write bench/RESULTS.md.

A benchmark that fails (or misses a target it checks itself) is reported in RESULTS.md and in the
exit code; it never stops the others. Benchmarks that print a ``RESULT {json}`` line with a
``markdown`` field contribute that section; the others contribute their printed output.

    .venv/bin/python -m bench.run_all [--only api_efficiency,peer_comparison] [--results bench/RESULTS.md]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import RESULTS, ROOT, machine, run_child, section, table, update_section

BENCH = ROOT / "bench"
NOT_BENCHMARKS = {"__init__", "common", "peer_loaders", "peer_report", "run_all", "soak"}
"""Not run by `make bench`: helpers, and the soak (`make soak`, an hour-scale run of its own)."""
TIMEOUT = 20 * 60
MODEL_BUILDS_BASELINE = "41a7a06"
"""The main the marts issue measured builds on (41.3 s / 2.04 s on DuckDB): new models may cost 1.5x that."""


@dataclass(frozen=True)
class Bench:
    name: str
    title: str
    args: tuple[str, ...] = ()
    timeout: float = TIMEOUT


# in this order; any other bench/*.py found is run after them, without arguments
KNOWN = [
    Bench("api_efficiency", "API efficiency: calls made ÷ minimum needed"),
    Bench("client_rate_budget", "Budget use: achieved request rate ÷ the rate limit, and 429s"),
    Bench("budget_backfill", "Backfill at the rate budget: wall ÷ floor, kill re-spend"),
    Bench("instance_bookkeeping", "Dagster bookkeeping of a backfill: SQLite and Postgres instances"),
    Bench("peer_comparison", "Peer comparison: ours vs dlt vs a bare loop"),
    Bench("memory_growth", "Memory growth of the extraction with the world's size"),
    Bench("model_builds", "Warehouse model builds (DuckDB and Postgres)", ("--baseline", MODEL_BUILDS_BASELINE),
          timeout=40 * 60),  # the baseline's run, then this code's
    Bench("landing_memory", "Landing writer: memory and throughput"),
    Bench("push_latency", "Push to mart: latency at 10 messages a second for 10 minutes, receiver memory"),
    Bench("sandbox_throughput", "Sandbox throughput"),
]


def benchmarks(only: set[str] | None) -> list[Bench]:
    """The benchmarks present in bench/, known ones first."""
    present = {p.stem for p in BENCH.glob("*.py")} - NOT_BENCHMARKS
    found = [b for b in KNOWN if b.name in present]
    found += [Bench(name, name.replace("_", " ").capitalize()) for name in sorted(present - {b.name for b in KNOWN})]
    return [b for b in found if only is None or b.name in only]


def headline(name: str, result: dict | None, stdout: str) -> list[list]:
    """The summary rows one benchmark contributes: [figure, value, target]."""
    rows: list[list] = []
    if name == "api_efficiency" and result:
        for key, label in (("backfill", "two-year backfill"), ("nightly", "nightly run")):
            f = result["figures"].get(key)
            if f:
                rows.append([f"API calls ÷ minimum, {label}", f"{f['ratio']:.2f} ({f['calls']:,} ÷ {f['minimum']:,})",
                             "close to 1"])
    elif name == "budget_backfill" and result:
        for world, figures in zip(result["worlds"], result["ratios"], strict=True):
            for label, value in figures.items():
                target = {"wall ÷ floor": "<= 1.15", "calls ÷ minimum": "<= 1.05", "kill re-spend": "<= 1.03",
                          "429 share": "<= 0.01", "peak RSS MB": "<= 400"}.get(label, "(information)")
                rows.append([f"{label}, backfill of {world['world']}", f"{value:.3f}", target])
    elif name == "client_rate_budget":
        match = re.search(r"achieved rate / R = ([\d.]+)\s+429 share = ([\d.]+)", stdout)
        if match:
            rows.append(["achieved request rate ÷ rate limit", match.group(1), ">= 0.90"])
            rows.append(["share of requests answered 429", match.group(2), "<= 0.01"])
    elif name == "peer_comparison" and result:
        for label, target in result.get("targets", {}).items():  # the ratios with a target
            value = result["ratios"].get(label)
            if value is not None:
                rows.append([label, f"{value:.3f}" if value == value else "n/a", target])
    elif name == "memory_growth" and result:
        rows.append(["extraction peak RSS, largest ÷ smallest world", f"{result['ratio']:.2f}", "flat (≈ 1)"])
    elif name == "model_builds":
        match = re.search(r"postgres / duckdb: full ([\d.]+)x, nightly ([\d.]+)x", stdout)
        if match:
            rows.append(["model build time Postgres ÷ DuckDB, full / nightly", f"{match.group(1)} / {match.group(2)}",
                         "(information)"])
        for engine, full, night in re.findall(
                r"^(duckdb|postgres)\s+.*?= ([\d.]+)x\s+.*?= ([\d.]+)x", stdout.split("side by side", 1)[-1], re.M):
            rows.append([f"model builds ÷ {MODEL_BUILDS_BASELINE}'s, {engine}, full / nightly", f"{full} / {night}",
                         "<= 1.5"])
    elif name == "landing_memory":
        match = re.search(r"peak RSS, full / tenth of the rows: ([\d.]+)x", stdout)
        if match:
            rows.append(["landing writer peak RSS, 10× rows ÷ 1× rows", match.group(1), "flat (≈ 1)"])
    return rows


def kept_sections(path: Path) -> str:
    """Sections of an existing RESULTS.md that `make bench` does not write, kept as they are: `make soak`'s
    "## Soak" and the hand-written "## Analysis" of the figures (dated; read it against the run it names)."""
    if not path.exists():
        return ""
    text = path.read_text()
    found = re.findall(r"^## (?:Soak|Analysis)\b.*?(?=^## |^<!-- bench:|\Z)", text, re.S | re.M)
    return "\n".join(m.rstrip() + "\n" for m in found)


def publish(path: Path, header: str, sections: list[tuple[Bench, str]], kept: str, *, partial: bool) -> None:
    """Write the benchmarks' sections to ``path``: the whole file (``header``, the sections, then the
    ``kept`` ones) after a full run; after a ``partial`` one (``--only``) into an existing file, only the
    sections of the benchmarks that ran are replaced, so the other benchmarks' figures stay."""
    if partial and path.exists():
        for bench, body in sections:
            update_section(bench.name, bench.title, body, path)
        return
    path.write_text(header + "\n" + "\n".join(section(b.name, b.title, body) for b, body in sections)
                    + ("\n" + kept if kept else ""))


def load() -> str:
    try:
        import os

        return "load average {:.2f} / {:.2f} / {:.2f}".format(*os.getloadavg())
    except OSError:
        return "load average unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated benchmark names (default: all in bench/)")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    only = set(args.only.split(",")) if args.only else None
    started = time.monotonic()
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    summary: list[list] = []
    status: list[list] = []
    sections: list[tuple[Bench, str]] = []
    failed: list[str] = []
    kept = kept_sections(args.results)
    for bench in benchmarks(only):
        command = [sys.executable, "-m", f"bench.{bench.name}", *bench.args]
        shown = " ".join([".venv/bin/python", "-m", f"bench.{bench.name}", *bench.args])
        before = load()
        print(f"\n=== {bench.name}: {shown} ({before})", flush=True)
        child = run_child(command, timeout=bench.timeout, echo=True)
        result = None
        try:
            result = child.result()
        except ValueError:
            pass
        outcome = "ok" if child.ok else ("timed out" if child.timed_out else f"exit {child.returncode}")
        if not child.ok:
            failed.append(bench.name)
            print(f"--- {bench.name}: {outcome}\n{child.tail()}", flush=True)
        status.append([bench.name, outcome, f"{child.seconds:.0f}", before, load()])
        summary += [[*row, bench.name] for row in headline(bench.name, result, child.stdout)]
        if result and result.get("markdown"):
            body = result["markdown"]
        else:
            printed = "\n".join(line for line in child.stdout.splitlines() if not line.startswith("RESULT "))
            body = f"Output of `{shown}`:\n\n```\n{printed.strip()[-6000:]}\n```"
        if not child.ok:
            body += f"\n\n**This benchmark {outcome}.** Last lines of its error output:\n\n```\n{child.tail(25)}\n```"
        sections.append((bench, f"{body}\n\nRun by `make bench` as `{shown}` ({child.seconds:.0f} s, {outcome})."))
    total = time.monotonic() - started
    m = machine()
    header = "\n".join([
        "# Benchmark results",
        "",
        f"Written by `make bench` (`.venv/bin/python -m bench.run_all`) on {when}; total {total / 60:.1f} min.",
        f"Machine: {m['cores']} cores, {m['memory_gb']} GB memory, {m['cpu']}, Python {m['python']}, {m['os']}.",
        "Every figure is a ratio of two measurements taken in the same run, on this machine; each benchmark "
        "ran in its own process, one after the other (the load averages below show what else the machine "
        "was doing: other work on a 2-core machine lowers throughput figures, not call counts).",
        "",
        "## Summary",
        "",
        table(["figure", "measured", "target", "benchmark"], summary) if summary else "(no figures)",
        "",
        table(["benchmark", "outcome", "seconds", "machine load before", "after"], status),
        "",
        "A benchmark's own exit code is non-zero when it failed or missed a target it checks itself "
        "(client_rate_budget, landing_memory).",
        "",
    ])
    publish(args.results, header, sections, kept, partial=only is not None)
    print(f"\nwrote {args.results} ({total / 60:.1f} min); "
          + (f"failed or missed targets: {', '.join(failed)}" if failed else "every benchmark ran"), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""The first real backfill against the rate budget: how close to the floor the rate limit sets, and what a
SIGKILL half-way costs.

The sandbox runs as its own process with a rate limit per endpoint (``--rate-limit``) and no faults;
``cofasync sync`` (a child process, as production runs it) backfills two years into a fresh folder.
Calls per endpoint come from the sandbox's counters, their first and last instants from its spans.

- **floor** = max over endpoints of (calls of that endpoint ÷ its rate): no client can fetch faster;
  ``wall ÷ floor`` for the whole `cofasync sync` (models included), and for the API part alone (first
  call to last call, from the sandbox's spans);
- **calls ÷ minimum**, the minimum from the sandbox's truth as ``bench/api_efficiency.py`` computes it;
- **kill re-spend**: a second fresh backfill is SIGKILLed once it has made half the clean run's calls,
  then run again to the end: (calls of both) ÷ (calls of the clean run); checkpoints every
  ``--checkpoint-seconds``;
- 429 answers ÷ requests, and the clean run's peak RSS.

    .venv/bin/python -m bench.budget_backfill [--worlds 300:600/min,2000:3000/min] [--results bench/RESULTS.md]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.api_efficiency import TODAY, minimum_calls, reference_counts
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

TARGETS = {"wall ÷ floor": 1.15, "calls ÷ minimum": 1.05, "kill re-spend": 1.03, "429 share": 0.01,
           "peak RSS MB": 400}


def _env(sb, workdir: Path, checkpoint_seconds: float) -> dict[str, str]:
    return {**pipeline_env(sb, workdir), "COFASYNC_CHECKPOINT_SECONDS": str(checkpoint_seconds)}


def _cofasync() -> str:
    return str(Path(sys.executable).with_name("cofasync"))


def clean_backfill(sb, workdir: Path, checkpoint_seconds: float) -> dict:
    """One fresh two-year ``cofasync sync``: its child figures and the sandbox's counters."""
    sb.reset_counters()
    child = run_child([_cofasync(), "sync"], env=_env(sb, workdir, checkpoint_seconds), timeout=7200)
    return {"child": child, "counters": sb.counters()}


def killed_backfill(sb, workdir: Path, checkpoint_seconds: float, kill_at: int) -> dict:
    """A fresh ``cofasync sync`` SIGKILLed once the sandbox has answered ``kill_at`` requests, then run
    again to the end; the calls of both."""
    sb.reset_counters()
    env = {**os.environ, "PYTHONPATH": str(ROOT), **_env(sb, workdir, checkpoint_seconds)}
    proc = subprocess.Popen([_cofasync(), "sync"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    killed_after = None
    while proc.poll() is None:
        made = sb.counters()["requests"]
        if made >= kill_at:
            os.killpg(proc.pid, signal.SIGKILL)
            killed_after = made
            break
        time.sleep(0.2)
    proc.wait()
    rerun = run_child([_cofasync(), "sync"], env=_env(sb, workdir, checkpoint_seconds), timeout=7200)
    return {"killed_after": killed_after, "rerun_ok": rerun.ok, "counters": sb.counters()}


def floor_seconds(counters: dict, per_minute: float) -> tuple[float, str]:
    """The floor the rate limit sets (the busiest endpoint's calls ÷ its rate) and that endpoint."""
    endpoint, calls = max(counters["byEndpoint"].items(), key=lambda kv: kv[1])
    return 60.0 * calls / per_minute, endpoint


def one_world(companies: int, rate: str, checkpoint_seconds: float, seed: int) -> dict:
    """Every figure of one world (``companies`` at ``rate``, e.g. ``600/min``)."""
    from datetime import date

    from sandbox.ratelimit import parse_rate
    from sandbox.testing import run_sandbox_process

    spec = parse_rate(rate)
    per_minute = 60.0 * spec.limit / spec.period
    with tempfile.TemporaryDirectory(prefix="bench-budget-backfill-") as tmp, run_sandbox_process(
            seed=seed, companies=companies, today=TODAY, rate_limit=rate) as sb:
        refs = reference_counts(sb)
        first = date.fromisoformat(sb.clock()["firstAvailableDate"])
        clean = clean_backfill(sb, Path(tmp) / "clean", checkpoint_seconds)
        counters, child = clean["counters"], clean["child"]
        snapshot = any(k.endswith("/companies/products") for k in counters["byEndpoint"])
        minimum = sum(minimum_calls(sb, first, sb.today, snapshot, refs).values())
        made = counters["requests"]
        floor, busiest = floor_seconds(counters, per_minute)
        killed = killed_backfill(sb, Path(tmp) / "killed", checkpoint_seconds, kill_at=made // 2)
    return {
        "world": f"{companies:,} companies at {rate}", "ok": child.ok and killed["rerun_ok"],
        "calls": made, "minimum": minimum, "floor_s": floor, "busiest": busiest,
        "wall_s": child.seconds, "api_s": api_seconds(counters), "peak_rss_mb": child.peak_rss_mb,
        "http_429": counters["byStatus"].get("429", 0), "by_endpoint": counters["byEndpoint"],
        "killed_after": killed["killed_after"], "killed_total": killed["counters"]["requests"],
    }


def ratios(w: dict) -> dict[str, float]:
    """The targets' figures of one world."""
    return {"wall ÷ floor": ratio(w["wall_s"], w["floor_s"]), "API part ÷ floor": ratio(w["api_s"], w["floor_s"]),
            "calls ÷ minimum": ratio(w["calls"], w["minimum"]), "kill re-spend": ratio(w["killed_total"], w["calls"]),
            "429 share": ratio(w["http_429"], w["calls"]), "peak RSS MB": w["peak_rss_mb"]}


def main(argv: list[str] | None = None) -> int:
    """Run every world asked for, print and report the figures against their targets."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worlds", default="300:600/min,2000:3000/min", help="companies:rate, comma-separated")
    parser.add_argument("--checkpoint-seconds", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--results", type=Path)
    args = parser.parse_args(argv)
    cmd = command_line()
    worlds, rows, failed = [], [], False
    for spec in args.worlds.split(","):
        companies, rate = spec.split(":")
        started = time.monotonic()
        w = one_world(int(companies), rate, args.checkpoint_seconds, args.seed)
        worlds.append(w)
        failed |= not w["ok"]
        figures = ratios(w)
        print(f"{w['world']}: {w['calls']:,} calls (minimum {w['minimum']:,}), floor {w['floor_s']:.1f} s "
              f"({w['busiest']}), sync {w['wall_s']:.1f} s, API part {w['api_s']:.1f} s; killed after "
              f"{w['killed_after']} calls, {w['killed_total']:,} calls in all; bench {time.monotonic() - started:.0f} s",
              flush=True)
        for name, value in figures.items():
            target = TARGETS.get(name)
            verdict = "" if target is None else ("met" if value <= target else "MISSED")
            print(f"  {name:<18}{value:10.3f}   target {'≤ ' + str(target) if target else '(information)'} {verdict}")
            rows.append([w["world"], name, f"{value:.3f}", f"≤ {target}" if target else "(information)", verdict])
    body = "\n\n".join([
        "Sandbox in its own process, rate limit per endpoint as given, no faults; `cofasync sync` (a child "
        f"process) backfills two years into a fresh folder, checkpoints every {args.checkpoint_seconds:g} s. "
        "Floor = the busiest endpoint's calls ÷ the rate; the API part runs from the first request to the "
        "last; kill re-spend = calls of a run SIGKILLed at half the clean run's calls plus its rerun ÷ the "
        "clean run's calls.",
        table(["world", "figure", "measured", "target", "verdict"], rows),
        "\n".join(f"- {w['world']}: calls per endpoint {w['by_endpoint']}" for w in worlds),
        f"Command: `{cmd}`  \nMachine: {machine_line()}",
    ])
    if args.results:
        update_section("budget_backfill", "Backfill at the rate budget: wall ÷ floor, kill re-spend", body, args.results)
    report_result({"worlds": worlds, "ratios": [ratios(w) for w in worlds], "markdown": body})
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

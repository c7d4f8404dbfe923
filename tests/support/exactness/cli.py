"""`python -m tests.support.exactness cofasync [--now ISO] -- <cofasync arguments>`: the `cofasync` the
nightly driver runs, one subprocess per attempt (the Dagster partitions are built at import from
`COFASYNC_TODAY`, so every night needs a fresh interpreter).

**Clocks.** The sandbox's business clock is virtual; the pipeline stamps what it lands with its own
clock (`_extracted_at`, from which `recorded_at` and a snapshot's time are derived). In production both
clocks are the wall clock and a nightly runs in the early hours of the API's day. This wrapper reproduces
that: with `--now`, the landing zone's clock (`resources.landing._utcnow`) starts at that instant (the
driver passes 01:00:00Z of the sandbox's day) and ticks in real time. Nothing else is changed.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime, timedelta

MODULE = __package__  # "tests.support.exactness": what `python -m` runs
PROG = f"python -m {MODULE} cofasync"


def cofasync_command(argv: list[str], now: datetime | None) -> list[str]:
    """The command line that runs `cofasync <argv>` with the landing clock starting at `now` (None: the
    wall clock), in this interpreter."""
    clock = [] if now is None else ["--now", now.isoformat()]
    return [sys.executable, "-m", MODULE, "cofasync", *clock, "--", *argv]


def run_cofasync(argv: list[str]) -> int:
    """Run `cofasync` with the landing zone's clock starting at `--now` (see the module doc), or with the
    wall clock when `--now` is not given; returns its exit code."""
    parser = argparse.ArgumentParser(prog=PROG)
    parser.add_argument("--now", help="the landing clock's start, ISO 8601 with offset (default: the wall clock)")
    parser.add_argument("rest", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    rest = args.rest[1:] if args.rest[:1] == ["--"] else args.rest
    if args.now:
        start = datetime.fromisoformat(args.now).astimezone(UTC)
        ticks = time.monotonic()

        import resources.landing as landing

        if not callable(getattr(landing, "_utcnow", None)):
            raise SystemExit("resources.landing._utcnow is gone: the exactness harness needs the landing clock")
        landing._utcnow = lambda: start + timedelta(seconds=time.monotonic() - ticks)
    from pipelines.cli import main

    return main(rest)


def main(argv: list[str]) -> int:
    """The module's entry: `cofasync [--now ISO] -- <cofasync arguments>` (nothing else)."""
    if argv[:1] != ["cofasync"]:
        raise SystemExit(f"usage: {PROG} [--now ISO] -- <cofasync arguments>")
    return run_cofasync(argv[1:])

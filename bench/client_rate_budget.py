"""Does the client's rate budget use the API's rate limit well? Achieved rate / R and the 429 share.

Runs the sandbox as a child process limited to R requests per minute per endpoint (fixed windows, as
the sandbox's limiter), then lists notifications with a small page size so that the listing takes
several limit windows, through the client with its default settings (it learns R from
``X-RateLimit-Limit``). Prints the achieved rate divided by R (target >= 0.90) and the share of
requests answered 429 (target <= 0.01); exits non-zero when a target is missed.

``--baseline`` also runs the same listing with pacing switched off (the client only reacts to 429 and
``Retry-After``), side by side.

    .venv/bin/python bench/client_rate_budget.py [--rate 1200/min] [--companies 2000] [--page-size 2]
                                                 [--max-pages 2500] [--baseline]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from resources.cofaserve import ClientSettings, CofaServeClient, DateWindow
from sandbox.ratelimit import parse_rate
from sandbox.testing import SandboxHandle, run_sandbox_process

TODAY = date(2026, 11, 23)


def run_listing(sb: SandboxHandle, page_size: int, max_pages: int, guard: Path, **overrides) -> dict:
    """List notifications (at most ``max_pages`` pages) and return the request figures."""
    creds = sb.credentials
    settings = ClientSettings(
        base_url=sb.base_url, auth_url=sb.auth_url, username=creds["username"], password=creds["password"],
        api_key=creds["api_key"], policy_number=creds["policy_number"], lockout_dir=guard, page_size=page_size,
        **overrides,
    )
    clock = sb.clock()
    window = DateWindow(date.fromisoformat(clock["firstAvailableDate"]), date.fromisoformat(clock["today"]))
    sb.reset_counters()
    with CofaServeClient(settings) as client:
        stream = client.iter_notifications(window)
        items = 0
        start = time.monotonic()
        for _ in stream:
            items += 1
            if stream.pages_read >= max_pages and items >= stream.pages_read * page_size:
                stream.close()
                break
        elapsed = time.monotonic() - start
        snapshot = client.telemetry.snapshot()
    requests = snapshot["requests.notifications"]
    return {
        "items": items,
        "requests": requests,
        "elapsed": elapsed,
        "per_second": requests / elapsed,
        "http_429": snapshot["http_429"],
        "server_429": sb.counters()["rateLimited"],
    }


def report(label: str, figures: dict, rate_per_second: float) -> tuple[float, float]:
    ratio = figures["per_second"] / rate_per_second
    share = figures["http_429"] / figures["requests"]
    print(f"{label}: {figures['requests']} requests ({figures['items']} items) in {figures['elapsed']:.1f} s "
          f"= {figures['per_second']:.2f}/s; 429 answers: {figures['http_429']} (server counted "
          f"{figures['server_429']})")
    print(f"  achieved rate / R = {ratio:.3f}    429 share = {share:.4f}")
    return ratio, share


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", default="1200/min", help="the sandbox's limit per endpoint (default 1200/min = 20/s)")
    parser.add_argument("--companies", type=int, default=2000)
    parser.add_argument("--page-size", type=int, default=2)
    parser.add_argument("--max-pages", type=int, default=2500, help="stop the listing after this many pages")
    parser.add_argument("--baseline", action="store_true", help="also run without pacing, for comparison")
    args = parser.parse_args(argv)

    spec = parse_rate(args.rate)
    if spec is None:
        parser.error("--rate must be a limit such as 1200/min")
    rate_per_second = spec.limit / spec.period
    print(f"sandbox limit R = {args.rate} per endpoint ({rate_per_second:g}/s), fixed {spec.period:g} s windows; "
          f"listing notifications, page size {args.page_size}, at most {args.max_pages} pages")
    with tempfile.TemporaryDirectory() as tmp, run_sandbox_process(
        companies=args.companies, today=TODAY, rate_limit=args.rate
    ) as sb:
        window_overrides = {"rate_limit_window_seconds": spec.period}
        paced = run_listing(sb, args.page_size, args.max_pages, Path(tmp) / "guard", **window_overrides)
        ratio, share = report("client with its rate budget", paced, rate_per_second)
        if args.baseline:
            sb.set_rate_limit(args.rate)  # fresh windows
            naive = run_listing(sb, args.page_size, args.max_pages, Path(tmp) / "guard",
                                adapt_to_server_limit=False, rate_per_minute=1e9, max_attempts=1000,
                                max_retry_seconds=3600, shared_budget=False)
            report("same client, pacing off (429 + Retry-After only)", naive, rate_per_second)
    ok = ratio >= 0.90 and share <= 0.01
    print(f"targets: rate/R >= 0.90, 429 share <= 0.01 -> {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

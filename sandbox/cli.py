"""Command line: `python -m sandbox serve [options]` prints the credentials and URLs, then serves."""

from __future__ import annotations

import argparse
import socket
import sys
import time
from datetime import date

import uvicorn

from sandbox.app import create_app
from sandbox.faults import parse_faults
from sandbox.ratelimit import parse_rate
from sandbox.state import Sandbox, SandboxSettings, utc_today
from sandbox.world import MAX_POLICIES


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description="CofaServe sandbox server")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="generate a world and serve it over HTTP")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8787, help="0 picks a free port (printed as base_url)")
    serve.add_argument("--seed", type=int, default=42)
    serve.add_argument("--companies", type=int, default=1000)
    serve.add_argument("--today", type=date.fromisoformat, default=None,
                       help="business day YYYY-MM-DD (default: the current UTC date)")
    serve.add_argument("--epoch", type=date.fromisoformat, default=None,
                       help="first simulated day (default: today - 3 years)")
    serve.add_argument("--rate-limit", default="off", help="e.g. 600/min, 10/s, off")
    serve.add_argument("--faults", default="none", help="none | mild | hostile | a JSON fault spec")
    serve.add_argument("--policies", type=int, default=1,
                       help="policies attached to the account, 1 to 4: each its own portfolio, orders, "
                            "notifications and overdues on the same companies, in its own currency")
    serve.add_argument("--push-rate", type=int, default=10,
                       help="push messages sent per second per subscription (Coface's is 10)")
    serve.add_argument("--log-level", default="warning")
    return parser


def serve(args: argparse.Namespace) -> int:
    """Generate the world, bind the port, print `name: value` lines, then serve until interrupted."""
    try:
        parse_rate(args.rate_limit)
        parse_faults(args.faults)
        if not 1 <= args.policies <= MAX_POLICIES:
            raise ValueError(f"--policies must be 1 to {MAX_POLICIES}, got {args.policies}")
        if args.push_rate < 1:
            raise ValueError(f"--push-rate must be 1 or more messages per second, got {args.push_rate}")
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    settings = SandboxSettings(seed=args.seed, companies=args.companies, today=args.today or utc_today(),
                               epoch=args.epoch, rate_limit=args.rate_limit, faults=args.faults,
                               policies=args.policies, push_rate=args.push_rate)
    started = time.monotonic()
    sandbox = Sandbox(settings)
    elapsed = time.monotonic() - started
    sock = socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    port = sock.getsockname()[1]
    base = f"http://{args.host}:{port}"
    lines = {**sandbox.credentials.as_dict(), "policies": ",".join(sandbox.views_by_policy),
             "today": sandbox.world.today.isoformat(),
             "generated_in_seconds": f"{elapsed:.1f}", "auth_url": base, "business_url": base + "/tci",
             "openapi_url": base + "/openapi.json", "base_url": base}
    for name, value in lines.items():
        print(f"{name}: {value}", flush=True)
    config = uvicorn.Config(create_app(sandbox), log_level=args.log_level, access_log=False, lifespan="off",
                            date_header=False)  # the app dates responses on its business clock
    uvicorn.Server(config).run(sockets=[sock])
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        return serve(args)
    return 2

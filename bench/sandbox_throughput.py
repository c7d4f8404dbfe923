"""How many requests per second the sandbox serves on this machine.

Runs the sandbox as a child process (so client and server do not share a GIL), then drives it with
concurrent httpx clients (asyncio, spread over `--processes` client processes, since one httpx process
saturates before the server does) for a fixed time per scenario:

- portfolio listing, pageSize 100 (pages/s and items/s);
- delivery by id (requests/s).

    .venv/bin/python bench/sandbox_throughput.py [--companies 10000] [--seconds 5] [--concurrency 8]
                                                 [--processes 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date

import httpx
import orjson

from sandbox.testing import run_sandbox_process


async def _drive(base: str, headers: dict, paths: list[str], seconds: float, concurrency: int) -> tuple[int, int, int]:
    """Request `paths` round-robin from `concurrency` clients for `seconds`; (requests, items, errors)."""
    stop = time.monotonic() + seconds
    counts = {"requests": 0, "items": 0, "errors": 0}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=30) as client:
        async def worker(offset: int) -> None:
            i = offset
            while time.monotonic() < stop:
                resp = await client.get(paths[i % len(paths)])
                i += concurrency
                counts["requests"] += 1
                if resp.status_code != 200:
                    counts["errors"] += 1
                    continue
                body = orjson.loads(resp.content)
                counts["items"] += len(body["companies"]) if "companies" in body else 1

        await asyncio.gather(*(worker(k) for k in range(concurrency)))
    return counts["requests"], counts["items"], counts["errors"]


def _cpu_seconds(pid: int | None) -> float:
    """User + system CPU seconds used so far by process `pid` (Linux /proc; 0 elsewhere)."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def _drive_process(args: tuple) -> tuple[int, int, int]:
    return asyncio.run(_drive(*args))


def measure(base: str, headers: dict, paths: list[str], seconds: float, concurrency: int,
            processes: int) -> tuple[int, int, int]:
    """Drive from `processes` processes at once, each with `concurrency` clients; summed counts."""
    chunks = [paths[k::processes] or paths for k in range(processes)]
    with ProcessPoolExecutor(processes) as pool:
        results = list(pool.map(_drive_process, [(base, headers, c, seconds, concurrency) for c in chunks]))
    return tuple(sum(r[i] for r in results) for i in range(3))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--companies", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=8, help="clients per process")
    parser.add_argument("--processes", type=int, default=2, help="client processes")
    parser.add_argument("--today", type=date.fromisoformat, default=date(2026, 11, 23))
    args = parser.parse_args()
    started = time.monotonic()
    with run_sandbox_process(seed=42, companies=args.companies, today=args.today) as sb:
        print(f"sandbox: {args.companies} companies, started in {time.monotonic() - started:.1f}s")
        creds = sb.credentials
        login = httpx.post(sb.auth_url + "/authentication/v1/token", headers={"x-api-key": creds["api_key"]},
                           json={"grantType": "password", "username": creds["username"],
                                 "password": creds["password"]}).json()
        headers = {"x-api-key": creds["api_key"], "Authorization": login["idToken"],
                   "X-COF-Policy-Number": creds["policy_number"]}
        first = httpx.get(sb.business_url + "/product/v1/companies/products", params={"pageSize": 100},
                          headers=headers).json()
        pages = max(1, (first["count"] + 99) // 100)
        portfolio = [f"/tci/product/v1/companies/products?pageSize=100&page={p}" for p in range(1, pages + 1)]
        deliveries = [f"/tci/product/v1/companies/{d['easyNumber']}/products/deliveries/{d['deliveryId']}"
                      for d in sb.truth("deliveries")[-5000:]]
        deliveries = deliveries or portfolio
        for name, paths in (("portfolio pageSize=100", portfolio), ("delivery by id", deliveries)):
            asyncio.run(_drive(sb.base_url, headers, paths[:20], 0.5, args.concurrency))  # warm-up
            cpu = _cpu_seconds(sb.pid)
            requests, items, errors = measure(sb.base_url, headers, paths, args.seconds, args.concurrency,
                                              args.processes)
            cpu_ms = (_cpu_seconds(sb.pid) - cpu) * 1000 / max(1, requests)
            rate = requests / args.seconds
            print(f"{name:24s} {rate:8.0f} requests/s  {items / args.seconds:9.0f} items/s  errors={errors}  "
                  f"server CPU {cpu_ms:.2f} ms/request (= {1000 / max(cpu_ms, 1e-9):.0f}/s per core)  "
                  f"({args.processes} x {args.concurrency} clients, {args.seconds:.0f}s)")


if __name__ == "__main__":
    main()

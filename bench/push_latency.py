"""Push to mart: how long a pushed decision takes to reach the warehouse, at the sender's 10 messages a
second, and the receiver's memory.

A sandbox (child process) pushes every cover decision to `cofasync receive` (child process) at the
functional page's 10 messages per second per subscription, its clock moving a day at a time for as long
as the run lasts. The push sensor's loop runs here on its own interval (30 s): land the inbox
(`notifications_push`, the deliveries fetched), build the warehouse. A message's latency is from its
acceptance by the receiver to the end of the build that published it (the time on the sender's side
before it, a loopback POST, is a few milliseconds). The receiver's peak RSS is its VmHWM.

    .venv/bin/python -m bench.push_latency [--minutes 10] [--companies 20000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from assets.extractors import extract_asset
from pipelines.sensors import PUSH_INTERVAL_SECONDS
from resources.cofaserve import ClientSettings, CofaServeClient
from resources.landing import LandingStore
from resources.push.inbox import INBOX_FILE
from resources.streams import PUSH_ASSET
from resources.warehouse import Warehouse
from sandbox.testing import run_sandbox_process

TOPIC = "credit_insurance_cover"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _start_receiver(root: Path, sandbox_url: str) -> tuple[subprocess.Popen, int]:
    port = _free_port()
    origin = sandbox_url.split("://", 1)[1]
    env = {**os.environ, "LANDING_ROOT": str(root), "COFASYNC_PUSH_CERT_HOSTS": f"http://{origin}"}
    proc = subprocess.Popen([sys.executable, "-m", "pipelines.cli", "receive", "--listen", f"127.0.0.1:{port}"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/cofaserve/push/health")
            return proc, port
        except httpx.ConnectError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the receiver did not start") from None
            time.sleep(0.1)


def _received(root: Path) -> dict[str, str]:
    """{MessageId: received_at} of the messages landed so far."""
    with sqlite3.connect(root / INBOX_FILE) as db:
        return dict(db.execute("select message_id, received_at from messages where landed_batch is not null"))


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--companies", type=int, default=20000)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-push-"))
    try:
        _run(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(args, work: Path) -> None:
    root = work / "landing"
    with run_sandbox_process(companies=args.companies) as sb:
        receiver, port = _start_receiver(root, sb.base_url)
        creds = sb.credentials
        client = CofaServeClient(ClientSettings.build(
            base_url=sb.base_url, auth_url=sb.auth_url, username=creds["username"], password=creds["password"],
            api_key=creds["api_key"], policy_number=creds["policy_number"], lockout_dir=str(work / "lockout")))
        try:
            client.subscribe_push(TOPIC, {"scheme": "http", "host": "127.0.0.1", "port": str(port),
                                          "path": "/cofaserve/push", "query": ""})
            store = LandingStore(str(root), policy=creds["policy_number"])
            warehouse = Warehouse(f"duckdb:///{work}/warehouse.duckdb")
            stop = threading.Event()

            def drive() -> None:  # a day at a time: each day's decisions are sent at 10 a second
                while not stop.is_set():
                    sb.advance_push_clock(86400)

            driver = threading.Thread(target=drive, daemon=True)
            started = time.monotonic()
            driver.start()
            latencies, builds, counted = [], [], set()
            while time.monotonic() - started < args.minutes * 60:
                time.sleep(max(0.0, PUSH_INTERVAL_SECONDS - (time.monotonic() - started) % PUSH_INTERVAL_SECONDS))
                tick = time.perf_counter()
                extract_asset(client, store, PUSH_ASSET, sb.today, f"push-{len(builds)}")
                warehouse.build(store)
                builds.append(time.perf_counter() - tick)
                visible = datetime.now(UTC)
                for message_id, received_at in _received(root).items():
                    if message_id not in counted:
                        counted.add(message_id)
                        latencies.append((visible - datetime.fromisoformat(received_at.replace("Z", "+00:00")))
                                         .total_seconds())
            stop.set()
            driver.join(timeout=120)
            health = httpx.get(f"http://127.0.0.1:{port}/cofaserve/push/health").json()
            peak = _peak_rss_mb(receiver.pid)
            elapsed = time.monotonic() - started
        finally:
            client.close()
            receiver.terminate()
            receiver.wait(timeout=30)
    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) >= 2 else [float("nan")] * 99
    print(f"{args.minutes:g} minutes, {args.companies:,} companies, one subscription ({TOPIC}), sender at most "
          f"10 messages/s; landing + build every {PUSH_INTERVAL_SECONDS} s (the push sensor's interval)\n")
    print(f"messages accepted by the receiver: {health.get('accepted', 0):,} "
          f"({health.get('accepted', 0) / elapsed:.1f}/s), refused {health.get('refused', 0)}, "
          f"duplicates {health.get('duplicates', 0)}")
    print(f"push to mart (accepted -> the build that published it): p50 {quantiles[49]:.1f} s, "
          f"p95 {quantiles[94]:.1f} s, max {max(latencies, default=float('nan')):.1f} s over {len(latencies):,} messages")
    print(f"landing + build per tick: median {statistics.median(builds) if builds else float('nan'):.2f} s "
          f"over {len(builds)} ticks")
    print(f"receiver peak RSS: {peak:.0f} MB")


if __name__ == "__main__":
    main()

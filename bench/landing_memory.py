"""Peak memory and throughput of the landing writer: is memory flat in the number of rows?

Each measurement runs in a fresh subprocess that flattens synthetic portfolio items (5 products per
company) and lands them through ``LandingStore.open_partition``; the child reports its peak RSS
(``resource.getrusage``) and rows/s. Side by side: a baseline that only generates and flattens (no
landing), and the writer at a tenth of the rows and at the full count. Flat memory means the full run's
peak is close to the tenth's; the target is well under 400 MB.

    .venv/bin/python bench/landing_memory.py               # 1,000,000 rows
    .venv/bin/python bench/landing_memory.py --rows 200000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRODUCTS = ("CREDITLIMIT", "ARATING", "ECL", "TOPLINER", "SCOREMON")
TARGET_MB = 400


def synthetic_company(i: int) -> dict:
    """Return one portfolio wire item (docs/contracts.md section 1) with one product per PRODUCTS code."""
    easy = f"{10_000_000 + i}"
    return {
        "easyNumber": easy,
        "companyName": f"Company {i} SARL",
        "address": {"streetAddress": f"{i % 200} avenue des Champs", "postalCode": f"{75000 + i % 20}",
                    "city": "Paris", "countryCode": "FRA"},
        "countryCode": "FRA",
        "legalIdentifiers": [{"type": "SIREN_FRA", "value": f"{500_000_000 + i}"}],
        "isHeadOffice": True,
        "headOfficeEasyNumber": None,
        "customerReference": f"CUST-{i:07d}",
        "products": [
            {
                "productCode": code, "orderId": f"O{i}-{k}", "orderDate": "2026-02-27T10:00:00Z",
                "orderStatus": "STATUS_CLOSED", "deliveryId": f"D{i}-{k}", "externalId": f"E{i}-{k}",
                "status": "DECIDED_FULL", "decisionDate": f"2026-03-01T{k:02d}:{i % 60:02d}:00Z",
                "effectiveDate": "2026-03-01", "expiryDate": None,
                "amount": {"value": 1000 * (i % 500 + 1), "currency": "EUR"}, "temporaryEasyNumber": None,
            }
            for k, code in enumerate(PRODUCTS)
        ],
    }


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MB (ru_maxrss is KB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def child(mode: str, rows: int, root: str) -> dict:
    """Generate ``rows`` portfolio rows and, in mode ``write``, land them; return the measurement."""
    from resources.landing import LandingStore
    from resources.streams import get_stream

    stream = get_stream("portfolio")
    companies = rows // len(PRODUCTS)
    started = time.perf_counter()
    landed = 0
    if mode == "write":
        store = LandingStore(root)
        with store.open_partition("portfolio", date(2026, 3, 1), "bench") as writer:
            for i in range(companies):
                item = synthetic_company(i)
                landed += writer.write_record(json.dumps(item), "GET /companies/products?page=1", stream.flatten(item))
        files = writer.files
    else:
        for i in range(companies):
            item = synthetic_company(i)
            json.dumps(item)
            landed += len(stream.flatten(item))
        files = 0
    seconds = time.perf_counter() - started
    return {"mode": mode, "rows": landed, "files": files, "seconds": round(seconds, 2),
            "rows_per_s": round(landed / seconds), "peak_rss_mb": round(peak_rss_mb(), 1)}


def measure(mode: str, rows: int, root: str) -> dict:
    """Run one measurement in a fresh Python process and return its report."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--rows", str(rows), "--root", root],
        check=True, capture_output=True, text=True, env=env, cwd=ROOT,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--root", help="landing root (default: a temporary folder, removed afterwards)")
    parser.add_argument("--child", choices=("write", "generate"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.rows, args.root)))
        return 0
    with tempfile.TemporaryDirectory(prefix="landing-bench-") as tmp:
        base = args.root or tmp
        runs = [
            ("flatten only (baseline)", measure("generate", args.rows, base)),
            (f"land {args.rows // 10:,} rows", measure("write", args.rows // 10, f"{base}/tenth")),
            (f"land {args.rows:,} rows", measure("write", args.rows, f"{base}/full")),
        ]
    print(f"{'run':<28}{'rows':>11}{'files':>7}{'seconds':>9}{'rows/s':>10}{'peak RSS MB':>13}")
    for label, r in runs:
        print(f"{label:<28}{r['rows']:>11,}{r['files']:>7}{r['seconds']:>9}{r['rows_per_s']:>10,}{r['peak_rss_mb']:>13}")
    tenth, full, base_run = runs[1][1], runs[2][1], runs[0][1]
    print(f"peak RSS, full / tenth of the rows: {full['peak_rss_mb'] / tenth['peak_rss_mb']:.2f}x "
          f"(1.00x = flat); writer overhead over flatten-only: {full['peak_rss_mb'] - base_run['peak_rss_mb']:+.1f} MB")
    ok = full["peak_rss_mb"] < TARGET_MB
    print(f"target: peak RSS under {TARGET_MB} MB for {args.rows:,} rows: {'met' if ok else 'MISSED'} "
          f"({full['peak_rss_mb']} MB)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

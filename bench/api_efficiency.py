"""API efficiency: calls the pipeline makes ÷ the fewest calls that could fetch the same data.

The sandbox runs as its own process (rate limit off, no faults). The pipeline runs as production runs
it: ``cofasync sync`` in a child process (the Dagster jobs in-process there: the two-year backfill as one
single-run backfill, the reconciliation snapshot, the re-poll of pending orders, the reference lists
and the models), with the sandbox's credentials in the ``COFASERVE_*`` variables, ``COFASYNC_TODAY`` set
to the sandbox's today, and the landing zone, warehouse and Dagster home in a temporary folder. Then the
sandbox's clock moves one day and ``cofasync sync`` runs again: the nightly run.

Calls are counted by the sandbox (``/_sandbox/counters``, per endpoint template). The minimum comes
from the sandbox's ground truth (``/_sandbox/truth``), for the window each run covered:

- list pages: ceil(items ÷ pageSize) per list query, at least one (an empty list still takes a call):
  notifications in the window; portfolio companies with a listed product whose event date (decision,
  else final order status, else order) is in the window; the six overdue status lists (each case once,
  in its latest version, if updated in the window); the full portfolio when the run took a
  reconciliation snapshot; the four reference lists (countries, identifier types, customer references,
  policies), whose sizes are read from the API's own ``count`` since they have no history;
- by id: one delivery per notification in the window; one order per order the window's data names (the
  order of each notification in the window and of each listed portfolio line whose event is in the
  window: the order history holds each of them, as the exactness oracle derives it, including an order
  whose last status change precedes the window and which a later decision names), but an order an
  earlier run landed in a final state (it never changes again: not asked again); the detail of each
  overdue case updated in the window, and the documents of each case landed so far (a customer adds
  documents whenever it wants, without updating the case: each night asks every case it knows);
- one login.

On an account of several policies (``--policies N``) the minimum is computed per policy, from each
policy's truth and each policy's reference lists, and summed (one login for all).

    .venv/bin/python bench/api_efficiency.py [--companies 1000] [--policies 1] [--results bench/RESULTS.md]
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assets.orders import FINAL_STATUSES
from bench.common import (
    command_line,
    machine_line,
    pipeline_env,
    report_result,
    run_child,
    table,
    update_section,
)

TODAY = date(2026, 11, 23)
PAGE_SIZE = 100
OVERDUE_STATUSES = ("PENDING", "PENDING_DEBTOR_VALIDATION", "IN_PROGRESS", "INDEMNIFIED", "REJECTED", "CLOSED")

LOGIN = "POST /authentication/v1/token"
NOTIFICATIONS = "GET /tci/notification/v1/notifications"
PORTFOLIO = "GET /tci/product/v1/companies/products"
DELIVERY = "GET /tci/product/v1/companies/{easyNumber}/products/deliveries/{deliveryIdOrExternalId}"
ORDER = "GET /tci/product/v1/companies/{easyNumber}/products/orders/{orderId}"
OVERDUES = "GET /tci/overdue/v1/companies/overdues"
OVERDUE = "GET /tci/overdue/v1/companies/{easyNumber}/overdues/{overdueId}"
DOCUMENTS = "GET /tci/overdue/v1/companies/{easyNumber}/overdues/{overdueId}/documents"
REFERENCE = {
    "GET /tci/country/v1/countries": "/tci/country/v1/countries",
    "GET /tci/country/v1/countries/identifiers": "/tci/country/v1/countries/identifiers",
    "GET /tci/company/v1/companies/customerreferences": "/tci/company/v1/companies/customerreferences",
    "GET /tci/policy/v1/policies": "/tci/policy/v1/policies",
}
LABELS = {
    LOGIN: "login", NOTIFICATIONS: "notifications list", PORTFOLIO: "portfolio list", DELIVERY: "delivery by id",
    ORDER: "order by id", OVERDUES: "overdue lists", OVERDUE: "overdue detail", DOCUMENTS: "overdue documents",
    **{k: v.rsplit("/", 1)[1] + " list" for k, v in REFERENCE.items()},
}


def pages(n: int) -> int:
    """List calls for ``n`` items: at least one, even for an empty list."""
    return max(1, math.ceil(n / PAGE_SIZE))


def _in(moment: str | None, lo: str, hi: str) -> bool:
    return moment is not None and lo <= moment[:10] < hi


def _event(line: dict) -> str:
    return line.get("decisionDate") or line.get("orderStatusDate") or line["orderDate"]


def minimum_calls(sb, first: date, end: date, snapshot: bool, reference_counts: dict[str, int],
                  landed_since: date | None = None, policy: str | None = None) -> dict[str, int]:
    """The fewest calls per endpoint that fetch every change in [first, end), from the sandbox's truth (of
    ``policy`` only, when given); ``landed_since``: the first day earlier runs landed (their cases are
    asked for their documents too)."""
    lo, hi = first.isoformat(), end.isoformat()
    notes = [n for n in sb.truth("notifications", policy) if _in(n["eventDate"], lo, hi)]
    lines = [line for line in sb.truth("lines", policy) if line["listed"]]
    companies_in_window = {line["easyNumber"] for line in lines if _in(_event(line), lo, hi)}
    portfolio_pages = pages(len(companies_in_window))
    if snapshot:
        portfolio_pages += pages(len({line["easyNumber"] for line in lines}))
    orders_named = {n["orderId"] for n in notes} | {line["orderId"] for line in lines if _in(_event(line), lo, hi)}
    if landed_since is not None and landed_since < first:  # an order landed final already costs no call
        orders_named -= _final_before(sb, landed_since.isoformat(), lo, policy)
    latest: dict[str, dict] = {}
    for version in sb.truth("overdue_versions", policy):
        key = version["overdueId"]
        if key not in latest or (version["lastUpdateDate"], version.get("version", 0)) >= (
                latest[key]["lastUpdateDate"], latest[key].get("version", 0)):
            latest[key] = version
    overdues = [v for v in latest.values() if _in(v["lastUpdateDate"], lo, hi)]
    known = [v for v in latest.values() if _in(v["lastUpdateDate"], (landed_since or first).isoformat(), hi)]
    per_status = Counter(v["status"] for v in overdues)
    return {
        LOGIN: 1,
        NOTIFICATIONS: pages(len(notes)),
        PORTFOLIO: portfolio_pages,
        DELIVERY: len({n["externalId"] for n in notes}),
        ORDER: len(orders_named),
        OVERDUES: sum(pages(per_status[s]) for s in OVERDUE_STATUSES),
        OVERDUE: len(overdues),
        DOCUMENTS: len(known),
        **{endpoint: pages(count) for endpoint, count in reference_counts.items()},
    }


def _final_before(sb, since: str, lo: str, policy: str | None = None) -> set[str]:
    """Orders (of ``policy``, when given) whose latest state before ``lo`` is final and changed on or after
    ``since`` (an earlier run landed it so: the pipeline never asks for it again)."""
    latest: dict[str, dict] = {}
    for version in sb.truth("order_versions", policy):
        if version["statusDate"][:10] < lo and (version["orderId"] not in latest
                                                 or version["version"] > latest[version["orderId"]]["version"]):
            latest[version["orderId"]] = version
    return {order for order, v in latest.items() if v["status"] in FINAL_STATUSES and since <= v["statusDate"][:10]}


def reference_counts(sb, policy: str | None = None) -> dict[str, int]:
    """Sizes of the reference lists (as ``policy`` lists them, when given), from the API's ``count`` (they
    have no history in the truth)."""
    with sb.client(policy) as http:
        return {endpoint: http.get(path, params={"pageSize": 1}).json()["count"] for endpoint, path in REFERENCE.items()}


def account_minimum(sb, first: date, end: date, snapshot: bool, landed_since: date) -> dict[str, int]:
    """The minimum of :func:`minimum_calls` over every policy of the account, summed (one login)."""
    policies = sb.policies if len(sb.policies) > 1 else [None]
    total: Counter = Counter()
    for policy in policies:
        total.update(minimum_calls(sb, first, end, snapshot, reference_counts(sb, policy), landed_since, policy))
    total[LOGIN] = 1
    return dict(total)


def run_sync(sb, workdir: Path) -> dict:
    """Run ``cofasync sync`` against the sandbox in a child process; the sandbox's counters of it."""
    from resources.landing import LandingStore

    store = LandingStore(str(workdir / "landing"), policy=sb.policies[0])
    snapshots_before = len(store.partitions("portfolio_snapshot"))
    sb.reset_counters()
    cofasync = Path(sys.executable).with_name("cofasync")
    child = run_child([str(cofasync), "sync"], env=pipeline_env(sb, workdir), timeout=3600)
    counters = sb.counters()
    if not child.ok:
        print(f"cofasync sync exited {child.returncode}:\n{child.tail()}", flush=True)
    return {"counters": counters, "returncode": child.returncode, "seconds": round(child.seconds, 1),
            "peak_rss_mb": child.peak_rss_mb,
            "snapshot": len(store.partitions("portfolio_snapshot")) > snapshots_before}


def compare(made: dict[str, int], minimum: dict[str, int]) -> tuple[list[list], int, int]:
    rows = []
    for endpoint in list(minimum) + sorted(set(made) - set(minimum)):
        m, n = made.get(endpoint, 0), minimum.get(endpoint, 0)
        rows.append([LABELS.get(endpoint, endpoint), m, n, f"{m / n:.2f}" if n else ("—" if not m else "∞")])
    return rows, sum(made.values()), sum(minimum.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--companies", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--policies", type=int, default=1, help="policies of the account (the sandbox's --policies)")
    parser.add_argument("--today", type=date.fromisoformat, default=TODAY)
    parser.add_argument("--results", type=Path, help="also write this benchmark's section of a RESULTS.md")
    args = parser.parse_args(argv)
    cmd = command_line()

    from sandbox.testing import run_sandbox_process

    started = time.monotonic()
    sections, figures, failed = [], {}, False
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp, run_sandbox_process(
        seed=args.seed, companies=args.companies, today=args.today, rate_limit="off", policies=args.policies
    ) as sb:
        workdir = Path(tmp)
        world = (f"{args.companies:,} companies per policy, {args.policies} "
                 f"polic{'ies' if args.policies > 1 else 'y'} (seed {args.seed}, today {sb.today})")
        print(f"sandbox: {world}, ready in {time.monotonic() - started:.1f} s", flush=True)
        runs = []
        first = date.fromisoformat(sb.clock()["firstAvailableDate"])
        runs.append(("two-year backfill (first `cofasync sync`)", first, sb.today, run_sync(sb, workdir)))
        sb.advance(1)
        runs.append(("nightly run the next day (second `cofasync sync`)", sb.today - timedelta(days=1), sb.today,
                     run_sync(sb, workdir)))
        for label, lo, hi, run in runs:
            minimum = account_minimum(sb, lo, hi, run["snapshot"], landed_since=first)
            made = dict(run["counters"]["byEndpoint"])
            rows, total_made, total_min = compare(made, minimum)
            value = total_made / total_min
            key = "backfill" if "backfill" in label else "nightly"
            figures[key] = {"calls": total_made, "minimum": total_min, "ratio": value, "seconds": run["seconds"],
                            "returncode": run["returncode"], "by_endpoint": made, "minimum_by_endpoint": minimum}
            failed |= run["returncode"] != 0
            print(f"\n{label}: window {lo} to {hi} (exclusive); {total_made:,} calls, minimum {total_min:,} "
                  f"-> calls ÷ minimum = {value:.2f}; sync {run['seconds']} s, exit {run['returncode']}, "
                  f"peak RSS {run['peak_rss_mb']:,.0f} MB, 429s {run['counters'].get('rateLimited', 0)}", flush=True)
            for row in rows:
                print(f"  {row[0]:<26}{row[1]:>8,}{row[2]:>9,}{row[3]:>8}", flush=True)
            status = "" if run["returncode"] == 0 else f" **`cofasync sync` exited {run['returncode']}.**"
            sections.append(
                f"**{label}**: API window {lo} to {hi} (exclusive); reconciliation snapshot: "
                f"{'yes' if run['snapshot'] else 'no'}; `cofasync sync` took {run['seconds']} s "
                f"(extraction, models and all), peak RSS {run['peak_rss_mb']:,.0f} MB.{status}\n\n"
                f"**calls ÷ minimum = {total_made:,} ÷ {total_min:,} = {value:.2f}**\n\n"
                + table(["endpoint", "calls made", "minimum", "ratio"], rows))
    body = "\n\n".join([
        f"World: {world}; sandbox in its own process, rate limit off, no faults; the pipeline run as "
        "`cofasync sync` (Dagster jobs in-process) in a child process. Calls counted by the sandbox; the "
        "minimum computed from its ground truth (see the docstring of `bench/api_efficiency.py` for each "
        "endpoint's rule: list pages = ceil(n/100), at least 1, per list query; by-id calls per changed "
        "entity; one login).",
        *sections,
        f"Command: `{cmd}`  \nMachine: {machine_line()}",
    ])
    if args.results:
        section = "api_efficiency" if args.policies == 1 else f"api_efficiency_{args.policies}_policies"
        title = "API efficiency: calls made ÷ minimum needed" + (
            "" if args.policies == 1 else f" ({args.policies} policies, minimum per policy)")
        update_section(section, title, body, args.results)
    report_result({"figures": figures, "markdown": body})
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

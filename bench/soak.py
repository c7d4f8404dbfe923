"""`make soak`: the pipeline against a hostile sandbox night after night, with syncs killed mid-way.

A sandbox process (hostile faults: 5xx bursts, 429 storms, cut connections, token revocations,
malformed records, decisions and overdue versions the dated lists show up to 40 h late; every night also
opens with one fault of each kind) serves a world of N companies.
`cofasync sync` backfills the window, then the clock advances one day at a time for NIGHTS nights, each
followed by the nightly sync (reconciliation snapshots weekly, mid-way and on the last night). On KILLS
chosen nights the sync is killed with SIGKILL while it extracts or while it builds the warehouse (its
DuckDB building copy exists), then run again the same night. On one night, after its sync, a landed
file is damaged (bytes flipped inside a data page): `cofasync verify` must name it, the repair it advises
must replace it by re-extraction, and `verify` must then find nothing. At the end the history tables must equal
the sandbox's ground truth (`tests/support/exactness/`), every damaged record must be in quarantine, and the
sandbox must have counted no login lockout.

    .venv/bin/python -m bench.soak                                  # 30 nights, 200 companies, 2 kills
    .venv/bin/python -m bench.soak --nights 60 --kills 4 --companies 500 --keep /tmp/soak

Prints its figures (nights, faults served by kind, kills, retries, final comparison) and, when
bench/RESULTS.md exists, writes them there under the heading "## Soak" (replacing that section only).
Exit code 0 when the final comparison is exact and nothing locked the account.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sandbox.testing import run_sandbox_process
from tests.support.exactness import Kill, NightlyDriver, Truth, compare_with_truth
from tests.support.scratch import scratch_dir

RESULTS = Path(__file__).with_name("RESULTS.md")
TODAY = date(2026, 11, 23)
OPENING = ["revoke", "503", "cut", "429", "500"]
LATE = {"late_rate": 0.05, "late_hours": 40}
"""Late visibility, on by default whatever the preset: the settling window (3 nights) must catch it."""
REPAIR = re.compile(r"repair: `cofasync (backfill [^`]+)`")
KILL_PHASES = ("extract", "building")
KILL_DELAYS = {"extract": (0.3, 2.5), "building": (0.0, 0.8)}


def dagster_figures(dagster_home: Path) -> dict:
    """From every run recorded in the Dagster home: the client's retries reported in the materializations
    (`run_api_retries`, counted once per asset and run), the steps Dagster's retry policy re-ran, and the
    steps that failed (those include the retried ones)."""
    from dagster import DagsterEventType, DagsterInstance
    from dagster._core.instance.ref import InstanceRef

    figures = {"client_retries": 0, "step_retries": 0, "step_failures": 0}
    with DagsterInstance.from_ref(InstanceRef.from_dir(str(dagster_home))) as instance:
        for run in instance.get_runs():
            per_asset: dict = {}
            for record in instance.all_logs(run.run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION):
                materialization = record.dagster_event.event_specific_data.materialization
                value = materialization.metadata.get("run_api_retries")
                if value is not None:
                    per_asset[materialization.asset_key] = int(value.value)
            figures["client_retries"] += sum(per_asset.values())
            figures["step_retries"] += len(instance.all_logs(run.run_id, of_type=DagsterEventType.STEP_UP_FOR_RETRY))
            figures["step_failures"] += len(instance.all_logs(run.run_id, of_type=DagsterEventType.STEP_FAILURE))
    return figures


def soak(root: Path, *, nights: int = 30, companies: int = 200, kills: int = 2, seed: int = 42,
         faults: str | dict = "hostile", contract_days: int | None = None, rng_seed: int = 7,
         night_timeout: float = 900.0, policies: int = 2, log=print) -> dict:
    """Run the soak in `root` on an account of ``policies`` policies (shared buyers, each its own
    portfolio); return its figures (see `format_figures`), `report` included (compared policy by policy)."""
    if nights < 3 or kills > nights - 1:
        raise ValueError("need at least 3 nights and fewer kills than nights")
    rng = random.Random(rng_seed)
    spec = {**LATE, **({"preset": faults} if isinstance(faults, str) else dict(faults))}
    damage_night = max(1, nights // 3)
    snapshot_nights = {nights // 2, nights}
    # kills on distinct nights after the first, alternating extraction and building
    planned = sorted(rng.sample(range(2, nights + 1), kills))
    plan = {night: KILL_PHASES[i % 2] for i, night in enumerate(planned)}
    started = time.monotonic()
    contract_start = TODAY - timedelta(days=contract_days) if contract_days else None
    with run_sandbox_process(seed=seed, companies=companies, today=TODAY, faults="none", policies=policies) as sb:
        driver = NightlyDriver(sb, root, f"duckdb:///{root}/warehouse.duckdb", contract_start=contract_start,
                               night_timeout=night_timeout)
        sb.set_faults({**spec, "queue": OPENING})
        first = driver.sync()
        log(f"night 0 {first.today}: backfilled {len(first.days)} days in {first.attempts[-1].seconds:.0f}s")
        pending: list[str] = []  # kills still to land, in order
        for number in range(1, nights + 1):
            driver.advance()
            sb.set_faults({**spec, "queue": OPENING})
            if number in plan:
                pending.append(plan[number])
            kill = [Kill(pending[0], rng.uniform(*KILL_DELAYS[pending[0]]))] if pending else []
            night = driver.sync(snapshot=number in snapshot_nights, kills=kill)
            if any(a.killed for a in night.attempts):
                pending.pop(0)  # else the sync finished before the kill: try again the next night
            log(f"night {number} {night.today}: " + ", ".join(
                f"{'killed in ' + a.kill_phase if a.killed else 'exit ' + str(a.returncode)} {a.seconds:.0f}s"
                for a in night.attempts))
            if number == damage_night:
                damaged = damage_and_repair(driver)
                log(f"night {number}: damaged {damaged['file']}: named by verify {damaged['named']}, "
                    f"repaired by `cofasync {damaged['repair']}`: {damaged['repaired']}")
        truth = Truth.load(sb)
        counters = sb.counters()
        report = compare_with_truth(driver, truth)  # a policy's truth is read from the running sandbox
    attempts = [a for a in driver.attempts if a.argv[:1] == ["sync"]]  # not the damage step's commands
    killed = [a for a in attempts if a.killed]
    nightly = [sum(a.seconds for a in n.attempts) for n in driver.nights[1:]]
    return {
        "nights": nights,
        "companies": companies,
        "policies": policies,
        "backfill_days": len(driver.nights[0].days),
        "backfill_seconds": round(sum(a.seconds for a in driver.nights[0].attempts), 1),
        "night_seconds_median": round(statistics.median(nightly), 1) if nightly else 0.0,
        "night_seconds_max": round(max(nightly), 1) if nightly else 0.0,
        "wall_seconds": round(time.monotonic() - started, 1),
        "faults": dict(sorted(counters["faults"].items())),
        "malformed_served": counters["malformedServed"],
        "requests": counters["requests"],
        "http_status": dict(sorted(counters["byStatus"].items())),
        "logins": counters["login"],
        "kills": [{"night": str(n.today), "phase": a.kill_phase, "after_seconds": round(a.seconds, 1)}
                  for n in driver.nights for a in n.attempts if a.killed],
        "failed_attempts": sum(1 for a in attempts if not a.ok and not a.killed),
        "attempts": len(attempts),
        **dagster_figures(root / "dagster"),
        "comparison": report.counts,
        "discrepancies": len(report.discrepancies),
        "exact": report.ok,
        "damaged": damaged,
        "report": report,
        "killed_attempts": killed,
    }


def damage_and_repair(driver) -> dict:
    """Flip bytes inside the notifications file yesterday's manifest names (the API still serves its days),
    then run `cofasync verify`, the repair it advises, and `verify` again: what each found."""
    from tests.support.damage import flip_a_data_page

    store = driver.store()
    relative = store.manifest("notifications", driver.sb.today - timedelta(days=1))["files"][-1]
    flip_a_data_page(Path(store.join(relative)))
    found = driver.run(["verify"])
    advice = REPAIR.search(found.stdout)
    repair = driver.run(advice.group(1).split()) if advice else None
    after = driver.run(["verify"])
    return {"file": relative, "named": found.returncode == 1 and relative in found.stdout,
            "repair": advice.group(1) if advice else None,
            "repaired": repair is not None and repair.ok and after.returncode == 0,
            "said": "\n".join(a.tail(6) for a in (found, repair, after) if a is not None)}


def format_figures(f: dict) -> str:
    """The figures as Markdown (the "## Soak" section of bench/RESULTS.md)."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    kills = "; ".join(f"{k['night']} while {k['phase']} ({k['after_seconds']}s in)" for k in f["kills"]) or "none"
    faults = ", ".join(f"{k} {v}" for k, v in f["faults"].items())
    comparison = ", ".join(f"{k} {v}" for k, v in f["comparison"].items())
    logins = f["logins"]
    needing = sum(f["faults"].get(kind, 0) for kind in ("error", "throttle", "cut"))
    lines = [
        "## Soak",
        "",
        f"`make soak` (bench/soak.py), {stamp}: {f['nights']} nights after a backfill of {f['backfill_days']} "
        f"days, {f['companies']} companies per policy, {f['policies']} policies, hostile faults and late visibility (every night opens with one "
        "fault of each kind).",
        "",
        "| figure | value |",
        "|---|---|",
        f"| nights | {f['nights']} (backfill {f['backfill_seconds']} s; a night: median "
        f"{f['night_seconds_median']} s, max {f['night_seconds_max']} s; whole soak {f['wall_seconds']} s) |",
        f"| API requests served | {f['requests']:,} (by status: "
        + ", ".join(f"{k} {v:,}" for k, v in f["http_status"].items())
        + "; a 400 is the refresh of a revoked token, answered before the password login) |",
        f"| faults served by kind | {faults}; malformed records {f['malformed_served']} |",
        f"| retries | fault answers that each need one (5xx, 429, cut): {needing:,}; reported by the client in "
        f"the steps' metadata: {f['client_retries']:,} (steps that completed and report API figures; the "
        f"reference lists and killed attempts report none); steps re-run by Dagster's retry policy: "
        f"{f['step_retries']}; steps failed: {f['step_failures']} |",
        f"| syncs killed with SIGKILL, then resumed | {len(f['kills'])}: {kills} |",
        f"| other failed sync attempts (re-run the same night) | {f['failed_attempts']} of {f['attempts']} |",
        f"| logins | {logins['attempts']} attempts, {logins['failures']} failures, "
        f"{logins['lockouts']} lockouts |",
        f"| a landed file damaged (bytes flipped in a data page) | {f['damaged']['file']}: named by "
        f"`cofasync verify` {'yes' if f['damaged']['named'] else 'NO'}; repaired by `cofasync "
        f"{f['damaged']['repair']}` then verified intact: {'yes' if f['damaged']['repaired'] else 'NO'} |",
        f"| final comparison with the truth | {'exact' if f['exact'] else str(f['discrepancies']) + ' discrepancies'}"
        f" ({comparison}) |",
        "",
    ]
    return "\n".join(lines)


def write_results(section: str, path: Path = RESULTS) -> bool:
    """Replace the "## Soak" section of bench/RESULTS.md (or append it); False when the file is absent."""
    if not path.exists():
        return False
    text = path.read_text()
    pattern = re.compile(r"^## Soak\n.*?(?=^## |^<!-- bench:|\Z)", re.S | re.M)  # never eats the next section's marker
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text.rstrip("\n") + "\n")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nights", type=int, default=30)
    parser.add_argument("--companies", type=int, default=200)
    parser.add_argument("--kills", type=int, default=2)
    parser.add_argument("--policies", type=int, default=2, help="policies of the account (shared buyers)")
    parser.add_argument("--seed", type=int, default=42, help="the sandbox world's seed")
    parser.add_argument("--rng-seed", type=int, default=7, help="seed of the kill nights and delays")
    parser.add_argument("--faults", default="hostile", help="sandbox fault preset or JSON spec")
    parser.add_argument("--contract-days", type=int, default=None,
                        help="backfill only this many days (COFASERVE_CONTRACT_START); default: the two-year window")
    parser.add_argument("--keep", type=Path, default=None, help="work in this folder and keep it")
    args = parser.parse_args(argv)
    faults = json.loads(args.faults) if args.faults.lstrip().startswith("{") else args.faults
    root = args.keep or scratch_dir("soak-")
    root.mkdir(parents=True, exist_ok=True)
    try:
        figures = soak(root, nights=args.nights, companies=args.companies, kills=args.kills, seed=args.seed,
                       faults=faults, contract_days=args.contract_days, rng_seed=args.rng_seed, policies=args.policies,
                       log=lambda line: print(line, flush=True))
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    section = format_figures(figures)
    print()
    print(section)
    if not figures["exact"]:
        print(figures["report"].describe(60))
    if write_results(section):
        print(f"(written to {RESULTS})")
    ok = (figures["exact"] and figures["logins"]["lockouts"] == 0 and len(figures["kills"]) >= min(2, args.kills)
          and figures["damaged"]["named"] and figures["damaged"]["repaired"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""`cofasync`: run the pipeline from a terminal or a cron, with runs recorded in the Dagster home.

    cofasync sync                         everything due up to yesterday, then the models; a summary
    cofasync backfill --from D --to D     re-extract a range of GMT days (single-run backfill), then models
    cofasync status                       freshness of each stream, last runs, counts, quarantine
    cofasync doctor                       settings and reachability, with at most one login attempt
    cofasync verify [--from D --to D]     every landed file against its digest; damage named with its repair
    cofasync receive [--listen H:P]       serve the endpoint Coface pushes notifications to
    cofasync subscribe --topic T --endpoint URL   subscribe it to a push topic; `cofasync replay`: missed pushes
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import warnings
from importlib.resources import files
from pathlib import Path

from pipelines.dagster_home import one_sync_at_a_time, open_instance
from pipelines.progress import fail
from pipelines.side_commands import add_side_commands

EXIT_OK, EXIT_FAILED, EXIT_SETTINGS = 0, 1, 2


def _load_everything(need_api: bool = True):
    """Validate every setting (the pipeline's, and the client's when the command calls the API) before
    any work; raise naming each."""
    from resources.cofaserve import ClientSettings
    from resources.cofaserve import SettingsError as ClientSettingsError
    from resources.settings import SettingsError, load_settings

    problems = []
    settings = client_settings = None
    try:
        settings = load_settings()
    except SettingsError as exc:
        problems.append(str(exc))
    try:
        client_settings = ClientSettings.from_env() if need_api else None
    except ClientSettingsError as exc:
        problems.append(str(exc))
    if problems:
        raise SystemExit(fail("; ".join(problems) + ". See .env.example for every setting.", EXIT_SETTINGS))
    os.environ.setdefault("DAGSTER_HOME", settings.dagster_home)
    ensure_dagster_home(_home())
    return settings, client_settings


HOME_FROM_ENV = "dagster_home:\n      env: DAGSTER_HOME\n"


def ensure_dagster_home(home: Path) -> None:
    """Create the Dagster home with the project's instance settings unless it already has its own; the
    event log's folder is written in as ``home``'s absolute path (the instance then opens without
    DAGSTER_HOME set, as the in-process harness opens it)."""
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        template = files("pipelines").joinpath("dagster_home.yaml").read_text(encoding="utf-8")
        if HOME_FROM_ENV not in template:
            raise RuntimeError("pipelines/dagster_home.yaml lost its event_log_storage dagster_home entry")
        draft = home / f".dagster.yaml.{os.getpid()}"  # a command starting beside this one never reads half of it
        draft.write_text(template.replace(HOME_FROM_ENV, f"dagster_home: {json.dumps(str(home.resolve()))}\n"))
        os.replace(draft, config)


def _home() -> Path:
    """The Dagster home the commands use (``_load_everything`` has set DAGSTER_HOME)."""
    return Path(os.environ["DAGSTER_HOME"])


def _instance():
    return open_instance(_home())


def cmd_sync(args) -> int:
    """Extract everything due up to yesterday, snapshot when one is due, then build the models."""
    from pipelines.sync import run_sync

    settings, _ = _load_everything()
    with one_sync_at_a_time(_home(), "sync"):
        return run_sync(settings, _instance(), snapshot=args.snapshot, last_in_process=True)


def cmd_backfill(args) -> int:
    """Re-extract the GMT days from --from to --to (both included), then build the models."""
    import dataclasses

    from pipelines.due import DAILY_STREAMS
    from pipelines.plan import whole_range
    from pipelines.sync import run_plan
    from resources.calendar import InvalidPartitionKey, PartitionOutsideWindow, check_in_window
    from resources.landing.policies import parse_policy_list

    settings, client_settings = _load_everything()
    today = settings.today()
    try:
        first = check_in_window(args.date_from, today, settings.contract_start)
        last = check_in_window(args.date_to, today, settings.contract_start)
    except (InvalidPartitionKey, PartitionOutsideWindow) as exc:
        return fail(str(exc), EXIT_SETTINGS)
    if last < first:
        return fail(f"--to {last} is before --from {first}", EXIT_SETTINGS)
    try:
        due = whole_range(first, last, tuple(args.streams.split(",")) if args.streams else DAILY_STREAMS)
    except ValueError as exc:
        return fail(f"--streams: {exc}", EXIT_SETTINGS)
    if args.policy:
        due = dataclasses.replace(due, policies=parse_policy_list(args.policy))
    if args.plan:
        return _print_plan(client_settings, first, last)
    again = (f"cofasync backfill --from {first} --to {last}" + (f" --streams {args.streams}" if args.streams else "")
             + (f" --policy {args.policy}" if args.policy else ""))
    with one_sync_at_a_time(_home(), "backfill"):
        return run_plan([due], settings, _instance(), snapshot=False, again=again, last_in_process=True)


def _print_plan(client_settings, first, last) -> int:
    """Page the lists of ``first`` to ``last`` (nothing is landed) and print the by-id calls per endpoint,
    each endpoint's budget and the estimated duration."""
    from datetime import timedelta

    from assets.backfill_plan import plan_without_landing
    from resources.cofaserve import CofaServeClient

    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    with CofaServeClient(client_settings) as client:
        plan = plan_without_landing(client, days)
        lists = client.telemetry.snapshot().get("requests", 0)
    print("\n".join(plan.lines()))
    print(f"  (the lists took {lists:,} calls to page, which the run makes again; nothing was landed)")
    return EXIT_OK


def cmd_status(args) -> int:
    """Print each stream's freshness, counts and quarantine, what is due, the warehouse's tables and the
    last runs (``--json``: the same as JSON)."""
    from pipelines.status import print_status, status
    from resources.io_resources import LandingResource

    settings, _ = _load_everything(need_api=False)
    landing = LandingResource.from_settings(settings)
    print_status(status(settings, landing.stores(), _instance(), landing.synced_stores()), as_json=args.json)
    return EXIT_OK


def cmd_verify(args) -> int:
    """Check the landing zone's files against their digests; name every damaged one and its repair."""
    from pipelines.verify import run_verify
    from resources.calendar import InvalidPartitionKey, parse_partition_key
    from resources.io_resources import LandingResource

    settings, _ = _load_everything(need_api=False)
    try:
        first, last = (parse_partition_key(d) if d else None for d in (args.date_from, args.date_to))
    except InvalidPartitionKey as exc:
        return fail(str(exc), EXIT_SETTINGS)
    stores = LandingResource.from_settings(settings).stores()
    return max(run_verify(store, settings.today(), settings.contract_start, first, last) for store in stores)


def cmd_doctor(args) -> int:
    """Check settings, the landing zone, the warehouse and the API (at most one login attempt)."""
    from resources.cofaserve import AuthError, CofaServeClient, CofaServeError, LockoutGuardUnusableError
    from resources.io_resources import LandingResource

    settings, client_settings = _load_everything()
    ok = True
    print("settings: ok")
    try:
        from resources.streams import STREAMS

        stores = LandingResource.from_settings(settings).stores()
        manifests = sum(len(store.manifests(name)) for store in stores for name in STREAMS)  # every one parsed
        print(f"landing zone: ok ({settings.landing_root}, {manifests:,} manifests; `cofasync verify` checks "
              "every file against its digest)")
    except Exception as exc:
        ok = False
        print(f"landing zone: FAILED ({exc})")
    try:
        from resources.io_resources import WarehouseResource
        from resources.warehouse import WarehouseNotBuilt

        warehouse = WarehouseResource.from_settings(settings).warehouse()
        warehouse.check_reachable()
        try:
            warehouse.table_counts()
            print(f"warehouse: ok ({warehouse.safe_url})")
        except WarehouseNotBuilt:
            print(f"warehouse: ok, not built yet ({warehouse.safe_url}; `cofasync sync` builds it)")
    except Exception as exc:
        ok = False
        print(f"warehouse: FAILED ({exc})")
    try:
        with CofaServeClient(client_settings) as client:
            policies = list(client.iter_policies())
        print(f"API: ok (logged in once; {len(policies)} polic{'y' if len(policies) == 1 else 'ies'} visible)")
    except LockoutGuardUnusableError as exc:
        ok = False
        print(f"API: {exc}")
    except AuthError as exc:
        ok = False
        print(f"API: credentials refused: {exc}")
    except CofaServeError as exc:
        ok = False
        print(f"API: FAILED ({exc})")
    return EXIT_OK if ok else EXIT_FAILED


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface of `cofasync`."""
    parser = argparse.ArgumentParser(prog="cofasync", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sync = sub.add_parser("sync", help="extract everything due up to yesterday, then build the models")
    sync.add_argument("--snapshot", action="store_true", help="take a reconciliation snapshot even if not due")
    sync.set_defaults(func=cmd_sync)
    backfill = sub.add_parser("backfill", help="re-extract a range of GMT days, then build the models")
    backfill.add_argument("--from", dest="date_from", required=True, help="first day, YYYY-MM-DD")
    backfill.add_argument("--to", dest="date_to", required=True, help="last day (included), YYYY-MM-DD")
    backfill.add_argument("--streams", help="only these daily streams, comma-separated (e.g. deliveries); "
                                             "by-id streams then read the lists as they landed")
    backfill.add_argument("--policy", help="only these policies, comma-separated (default: every policy synced)")
    backfill.add_argument("--plan", action="store_true",
                          help="page the lists, print the by-id calls per endpoint and the estimated time, then stop")
    backfill.set_defaults(func=cmd_backfill)
    status = sub.add_parser("status", help="freshness, counts, quarantine, what is due, last runs")
    status.add_argument("--json", action="store_true", help="print the status as JSON (for scripts)")
    status.set_defaults(func=cmd_status)
    sub.add_parser("doctor", help="check settings and reachability (one login at most)").set_defaults(
        func=cmd_doctor)
    verify = sub.add_parser("verify", help="check every landed file against its digest; name and repair damage")
    verify.add_argument("--from", dest="date_from", help="first day of the dated partitions to check")
    verify.add_argument("--to", dest="date_to", help="last day (included)")
    verify.set_defaults(func=cmd_verify)
    add_side_commands(sub)
    return parser


def load_env_file(folder: Path | None = None) -> Path | None:
    """Read the `.env` of ``folder`` (default: the working folder) into the environment, as `dagster dev`
    does; a variable already set in the environment keeps its value. Returns the file read, if any."""
    from dotenv import load_dotenv

    path = (folder or Path.cwd()) / ".env"
    if not path.is_file():
        return None
    load_dotenv(path, override=False)
    return path


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `cofasync` command (the process ends after it); returns the exit code."""
    load_env_file()
    # Dagster flags beta parameters (backfill policies, pools) on every import; a user cannot act on it
    warnings.filterwarnings("ignore", message=r".*is currently in (beta|preview)")
    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    finally:
        # the interpreter's last collection would walk every object Dagster built, a second or more
        # after a backfill; what is left is freed with the process (every file is closed by then)
        gc.freeze()


def _run(args: argparse.Namespace) -> int:
    try:
        return args.func(args)
    except SystemExit as exc:
        return int(exc.code or 0)
    except Exception as exc:
        from resources.landing import DamagedLanding

        if isinstance(exc, DamagedLanding):  # any command: the damaged path, and `cofasync verify` to see all
            return fail(str(exc))
        raise
    except KeyboardInterrupt:
        return fail("interrupted; what had landed stays, and the next sync resumes from there")


if __name__ == "__main__":
    sys.exit(main())

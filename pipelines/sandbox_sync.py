"""`make sync`: start the bundled CofaServe sandbox on a free loopback port, run `cofasync sync` against
it into the local warehouse, stop the sandbox, and show one example query.

`make ui` (``--ui``): the Dagster UI (`dagster dev`) with the project's workspace, against the bundled
sandbox started the same way, so that "Materialize" on a partition works out of the box; when
COFASERVE_BASE_URL is set (in the environment or the `.env` of the working folder) the UI talks to that
API instead and no sandbox is started.

The sandbox runs as a separate process, exactly like the real API would be reached: over HTTP, with
credentials handed over through the environment (never written to disk or printed here).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from sandbox.fx_rates import rates_path

EXAMPLE_QUERY = """\
select policy_number, policy_currency, country_code, count(*) as buyers,
    round(sum(amount_policy_currency)) as exposure_in_policy_currency
from marts.current_portfolio
group by all
order by exposure_in_policy_currency desc nulls last
limit 5"""


def start_sandbox(args: argparse.Namespace) -> tuple[subprocess.Popen, dict[str, str]]:
    """Start the sandbox and return the process and what it printed (`name: value` lines)."""
    command = [sys.executable, "-m", "sandbox", "serve", "--host", "127.0.0.1", "--port", "0",
               "--seed", str(args.seed), "--companies", str(args.companies), "--rate-limit", args.rate_limit]
    if args.today:
        command += ["--today", args.today]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    info: dict[str, str] = {}
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            raise SystemExit(f"the sandbox stopped before it was ready (exit code {process.poll()})")
        name, _, value = line.strip().partition(": ")
        if value:
            info[name] = value
        if {"base_url", "username", "password", "api_key", "policy_number"} <= info.keys():
            break
    else:
        process.terminate()
        raise SystemExit("the sandbox did not get ready within 5 minutes")
    _wait_until_serving(info["base_url"])
    return process, info


def _wait_until_serving(base_url: str) -> None:
    for _ in range(200):
        try:
            with urllib.request.urlopen(f"{base_url}/_sandbox/clock", timeout=2) as response:
                json.load(response)
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"the sandbox at {base_url} does not answer")


def sandbox_today(base_url: str) -> str:
    """The sandbox's virtual today."""
    with urllib.request.urlopen(f"{base_url}/_sandbox/clock", timeout=5) as response:
        return json.load(response)["today"]


def show_example_query(warehouse_url: str) -> None:
    """Print the example query and its result, read-only, as an analyst would run it."""
    import duckdb

    path = warehouse_url.removeprefix("duckdb:///")
    print("\nExample query (duckdb " + os.path.relpath(path) + "):")
    print(EXAMPLE_QUERY)
    with duckdb.connect(path, read_only=True) as con:
        result = con.sql(EXAMPLE_QUERY)
        print(result)


def main(argv: list[str] | None = None) -> int:
    """Run the whole local sync; returns the exit code of `cofasync sync`."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--companies", type=int, default=1000)
    parser.add_argument("--rate-limit", default="30000/min", help="per endpoint, as the sandbox takes it")
    parser.add_argument("--today", default=None, help="the sandbox's virtual today (default: the real date)")
    parser.add_argument("--ui", action="store_true", help="run the Dagster UI against the sandbox instead")
    parser.add_argument("--port", type=int, default=3000, help="the UI's port on 127.0.0.1 (with --ui)")
    args = parser.parse_args(argv)

    from pipelines.cli import load_env_file
    from resources.settings import load_settings

    load_env_file()
    if args.ui and os.environ.get("COFASERVE_BASE_URL", "").strip():
        print(f"COFASERVE_BASE_URL is set: the UI talks to {os.environ['COFASERVE_BASE_URL']}, no sandbox started")
        return run_ui(dict(os.environ), args.port)
    settings = load_settings()
    process, info = start_sandbox(args)
    try:
        env = sandbox_env(info)
        print(f"sandbox: {args.companies} companies, today {env['COFASYNC_TODAY']}, at {info['base_url']}")
        if args.ui:
            return run_ui(env, args.port)
        cofasync = Path(sys.executable).with_name("cofasync")
        code = subprocess.call([str(cofasync), "sync"], env=env)
    finally:
        process.terminate()
        process.wait(timeout=30)
    if code == 0 and settings.warehouse_url.startswith("duckdb:///"):
        show_example_query(settings.warehouse_url)
    return code


def sandbox_env(info: dict[str, str]) -> dict[str, str]:
    """The environment pointing the pipeline at a running sandbox (its credentials included)."""
    env = dict(os.environ)
    env.update({
        "COFASERVE_BASE_URL": info["base_url"],
        "COFASERVE_AUTH_URL": info["base_url"],
        "COFASERVE_USERNAME": info["username"],
        "COFASERVE_PASSWORD": info["password"],
        "COFASERVE_API_KEY": info["api_key"],
        "COFASERVE_POLICY_NUMBER": info["policy_number"],
        "COFASYNC_TODAY": sandbox_today(info["base_url"]),
    })
    env.setdefault("COFASYNC_FX_RATES", rates_path())  # the sandbox's own rates, unless the user names a file
    return env


def run_ui(env: dict[str, str], port: int) -> int:
    """Run `dagster dev` on 127.0.0.1:``port`` with the project's workspace until it is stopped (Ctrl-C)."""
    dagster = Path(sys.executable).with_name("dagster")
    command = [str(dagster), "dev", "-h", "127.0.0.1", "-p", str(port), "-m", "pipelines.definitions"]
    print(f"Dagster UI: http://127.0.0.1:{port} (Ctrl-C stops it)")
    try:
        return subprocess.call(command, env=env)
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())

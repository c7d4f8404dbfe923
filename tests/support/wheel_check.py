"""`make wheel-check`: the wheel alone is a working deployment, with no source file to lean on.

    python -m tests.support.wheel_check [--companies 50]

1. Build the wheel (`pip wheel . --no-deps`) from a copy of the checkout's files in a temporary
   folder: setuptools builds in the source folder's `build/`, whose leftovers from earlier builds
   would ship too, and nothing of this check is written into the checkout.
2. Create a fresh virtual environment in a temporary folder outside the checkout and install the
   wheel into it, not editable (its dependencies come from the package index, through pip's cache).
3. From an empty temporary working folder, with no setting of the project in the environment, so that
   the defaults (data/warehouse.duckdb, data/landing, .dagster under the working folder) are used:
   `import resources` (and `sql`, `pipelines`) must resolve into the venv's site-packages; the sandbox
   sync that `make sync` runs (`python -m pipelines.sandbox_sync`) runs on a small world over a pinned
   45-day window; `marts.current_portfolio` must have rows, every amount converted into its policy's
   currency with the shipped sandbox FX rates; the Dagster home must hold the bundled
   instance settings; and `dagster definitions validate -m pipelines.definitions` must load the code
   location, as a deployment's webserver and daemon do.

Any failure exits non-zero, naming the step and showing its output. The check lives in tests/, which
is not packaged: it is not part of what it checks. `tests/unit/test_wheel_contents.py` uses its build
step to check the wheel's file list in `make test`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TODAY = "2026-11-23"
CONTRACT_START = "2026-10-09"  # 45 days: every stream and every model, in seconds rather than minutes
PROJECT_SETTINGS = ("COFASERVE_", "COFASYNC_", "WAREHOUSE_URL", "LANDING_ROOT", "DAGSTER_HOME")
PYTHON_LOOKUP = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV")
SHOW_INSTALL = """\
import json, sysconfig
import pipelines, resources, sql
print(json.dumps({"site_packages": sysconfig.get_path("purelib"),
                  "modules": [pipelines.__file__, resources.__file__, sql.__file__]}))
"""
COUNT_ROWS = """\
import sys, duckdb
with duckdb.connect(sys.argv[1], read_only=True) as con:
    print(*con.execute("select count(*), count(*) filter (where amount_value is not null "
                       "and amount_policy_currency is null) from marts.current_portfolio").fetchone())
"""


class CheckFailed(Exception):
    """A step of the check failed; the message says which and why."""


def run(step: str, command: list[str], **options) -> subprocess.CompletedProcess:
    """Run one step's command and return what it did; raise CheckFailed with its output if it fails."""
    started = time.monotonic()
    result = subprocess.run(command, capture_output=True, text=True, **options)
    print(f"  {step}: {time.monotonic() - started:.1f}s", flush=True)
    if result.returncode != 0:
        raise CheckFailed(f"{step} failed (exit code {result.returncode}):\n"
                          f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return result


def source_files(root: Path = ROOT) -> list[str]:
    """The checkout's files as the next commit would hold them: tracked or not ignored, and present."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=root, capture_output=True, text=True, check=True).stdout.split("\0")
    return [name for name in listed if name and (root / name).is_file()]


def build_wheel(folder: Path, root: Path = ROOT) -> Path:
    """Build the project's wheel from a copy of `root`'s files made under `folder`; return its path."""
    source, dist = folder / "source", folder / "dist"
    for name in source_files(root):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, source / name)
    run("build the wheel", [sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--quiet", "-w", str(dist)],
        cwd=source)
    wheels = sorted(dist.glob("*.whl"))
    if len(wheels) != 1:
        raise CheckFailed(f"expected one wheel in {dist}, found {[w.name for w in wheels]}")
    return wheels[0]


def wheel_files(wheel: Path) -> set[str]:
    """The paths a wheel installs (and its metadata), as stored in the archive."""
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def clean_environment() -> dict[str, str]:
    """This process's environment without the project's settings and without what points Python at
    other code (a PYTHONPATH, the checkout's virtual environment)."""
    return {name: value for name, value in os.environ.items()
            if not name.startswith(PROJECT_SETTINGS) and name not in PYTHON_LOOKUP}


def install(wheel: Path, venv: Path) -> Path:
    """A fresh virtual environment at `venv` with `wheel` installed; return its Python."""
    run("create a virtual environment", [sys.executable, "-m", "venv", str(venv)])
    python = venv / "bin" / "python"
    run("install the wheel", [str(python), "-m", "pip", "install", "--quiet", str(wheel)], env=clean_environment())
    return python


def check_installed_code(python: Path, work: Path, env: dict[str, str]) -> None:
    """The project's packages import from the venv's site-packages, not from a checkout."""
    shown = json.loads(run("import from site-packages", [str(python), "-c", SHOW_INSTALL], cwd=work, env=env).stdout)
    site_packages = Path(shown["site_packages"]).resolve()
    for module in map(Path, shown["modules"]):
        if not module.resolve().is_relative_to(site_packages):
            raise CheckFailed(f"{module} was imported from outside {site_packages}")


def check_sync(python: Path, work: Path, env: dict[str, str], companies: int) -> None:
    """A sandbox sync from the installed wheel fills the default warehouse under `work`."""
    run("sandbox sync", [str(python), "-m", "pipelines.sandbox_sync", "--companies", str(companies),
                         "--today", TODAY], cwd=work, env={**env, "COFASERVE_CONTRACT_START": CONTRACT_START})
    warehouse = work / "data" / "warehouse.duckdb"
    if not warehouse.is_file():
        raise CheckFailed(f"the sync left no warehouse at {warehouse}")
    counted = run("count marts.current_portfolio", [str(python), "-c", COUNT_ROWS, str(warehouse)], env=env).stdout
    rows, unconverted = map(int, counted.split())
    if rows == 0:
        raise CheckFailed("marts.current_portfolio is empty after the sync")
    if unconverted:
        raise CheckFailed(f"{unconverted} amounts of marts.current_portfolio were not converted: the wheel's "
                          "sandbox FX rates (sandbox/ecb_reference_rates.csv) were not used")
    print(f"  marts.current_portfolio: {rows} rows, every amount converted into its policy's currency")
    if not (work / ".dagster" / "dagster.yaml").is_file():
        raise CheckFailed("the sync did not write the bundled Dagster instance settings into .dagster/")


def check_code_location(python: Path, work: Path, env: dict[str, str]) -> None:
    """Dagster loads the code location `pipelines.definitions:defs` from the installed wheel."""
    dagster = str(python.with_name("dagster"))
    result = run("validate the code location",
                 [dagster, "definitions", "validate", "-m", "pipelines.definitions", "-a", "defs"],
                 cwd=work, env={**env, "DAGSTER_HOME": str(work / ".dagster")})
    if "All code locations passed validation" not in result.stdout + result.stderr:
        raise CheckFailed(f"dagster did not validate the code location:\n{result.stdout}\n{result.stderr}")


def main(argv: list[str] | None = None) -> int:
    """Run every step in temporary folders outside the checkout; 0 when the wheel deploys, else 1."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--companies", type=int, default=50, help="size of the sandbox's world")
    args = parser.parse_args(argv)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="cofasync-wheel-check-") as temporary:
        folder = Path(temporary).resolve()
        if folder.is_relative_to(ROOT):
            print(f"wheel check FAILED: {folder} is inside the checkout; point TMPDIR elsewhere", file=sys.stderr)
            return 1
        work = folder / "work"
        work.mkdir()
        print(f"wheel check in {folder}", flush=True)
        try:
            python = install(build_wheel(folder / "build"), folder / "venv")
            env = clean_environment()
            check_installed_code(python, work, env)
            check_sync(python, work, env, args.companies)
            check_code_location(python, work, env)
        except CheckFailed as failure:
            print(f"wheel check FAILED: {failure}", file=sys.stderr)
            return 1
    print(f"wheel check passed in {time.monotonic() - started:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

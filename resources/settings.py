"""The pipeline's own settings (everything but the API client's), read from the environment.

Every setting has a name, a default where one is safe, and a validator; `load_settings()` reports every
missing or malformed setting by name at once, before any work starts. `.env.example` lists them all
(a test keeps the two in step).

The local defaults (warehouse file, landing zone, Dagster home) are folders under the current working
directory when the settings are read, not under the source tree: an installed package lives in
site-packages. `make sync` and `make ui` run from the repository root, so they keep using its data/ and
.dagster/.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from resources.calendar import InvalidPartitionKey, parse_partition_key, utc_today
from resources.landing.policies import POLICY_NUMBER, parse_policy_list

DUCKDB_STORAGE_VERSION = "v1.4.0"
"""The DuckDB storage format a warehouse file is written in by default: DuckDB 1.4 (the long-term support
release) and every later one read it, the DuckDB CLI from PyPI and BI drivers included."""


class SettingsError(ValueError):
    """One or more settings are missing or malformed; the message names each of them."""


@dataclass(frozen=True)
class PipelineSettings:
    """Where the pipeline lands and models data, and how it judges a run."""

    warehouse_url: str
    landing_root: str
    dagster_home: str
    quarantine_threshold: float
    snapshot_every_days: int
    failure_webhook_url: str | None
    checkpoint_seconds: float = 120.0
    settle_days: int = 3
    """A landed day is listed again on this many nights after its first, for records the API shows late."""
    policy_number: str | None = None
    """The account's policy the client names to list the others; a single-policy landing zone is that policy's."""
    policies: tuple[str, ...] = ()
    """The policies to sync (empty: every policy the account lists)."""
    duckdb_storage_version: str = DUCKDB_STORAGE_VERSION
    """The storage format of a DuckDB warehouse file (the oldest DuckDB release that must read it)."""
    fx_rates_path: str | None = None
    """An ECB reference-rates CSV the warehouse converts amounts with (None: none, converted amounts NULL)."""
    pinned_today: date | None = None
    contract_start: date | None = None
    pinned_now: datetime | None = None
    clock_origin: float = field(default_factory=time.time, compare=False)
    """The wall-clock second these settings were read: a pinned clock ticks from there."""

    def clock(self) -> Callable[[], datetime] | None:
        """The pipeline's clock when ``COFASYNC_NOW`` pins it (it starts at that instant when the settings
        are read and ticks in real time), else None: the wall clock."""
        return pinned_clock(self.pinned_now, self.clock_origin) if self.pinned_now else None

    def today(self) -> date:
        """Today's GMT day: the pinned one (``COFASYNC_TODAY``, a sandbox's virtual clock), else the wall
        clock's."""
        return self.pinned_today or utc_today()


def _warehouse_url(value: str) -> str:
    if not value.startswith(("duckdb:///", "postgresql://", "postgresql+psycopg://")):
        raise ValueError("must start with duckdb:/// or postgresql:// (e.g. duckdb:///data/warehouse.duckdb)")
    if value.startswith("duckdb:///"):
        path = value.removeprefix("duckdb:///").split("?", 1)[0]
        if path.strip() in ("", ":memory:") or path.startswith(":memory:"):
            raise ValueError("names no file: the warehouse would be built in memory and lost at exit "
                             "(e.g. duckdb:///data/warehouse.duckdb)")
        if Path(path).is_dir():
            raise ValueError("is a folder: name the database file in it (e.g. duckdb:///data/warehouse.duckdb)")
        _folder(str(Path(path).parent))
    return value


def _storage_version(value: str) -> str:
    import duckdb  # only to ask the installed DuckDB which versions it can write

    try:
        duckdb.connect(config={"storage_compatibility_version": value}).close()
    except duckdb.Error as exc:
        raise ValueError("is not a storage version this DuckDB can write: name the oldest DuckDB release "
                         "your readers run, e.g. v1.4.0 (read by DuckDB 1.4 and newer) or latest") from exc
    return value


def _nonempty(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


def _folder(value: str) -> str:
    """A folder path: it may not exist yet, but neither it nor a parent may be a file."""
    _nonempty(value)
    for path in (Path(value), *Path(value).parents):
        if path.exists():
            if not path.is_dir():
                raise ValueError(f"{'is' if path == Path(value) else 'lies under'} the file {path}, not a folder")
            break
    return value


def _file_or_empty(value: str) -> str | None:
    """A readable file's absolute path, or None for an empty value."""
    if not value.strip():
        return None
    path = Path(value).expanduser()
    if not path.is_file():
        raise ValueError("is not a file (an ECB reference-rates CSV such as eurofxref-hist.csv, or leave it "
                         "empty to convert nothing)")
    return str(path.resolve())


def _fraction(value: str) -> float:
    number = float(value)
    if not 0 <= number <= 1:
        raise ValueError("must be a fraction between 0 and 1 (e.g. 0.01 for 1%)")
    return number


def _seconds(value: str) -> float:
    number = float(value)
    if not number > 0 or number == float("inf"):
        raise ValueError("must be a number of seconds above 0 (e.g. 120)")
    return number


def _positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError("must be a whole number of at least 1")
    return number


def _settle_days(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = -1
    if not 0 <= number <= 30:
        raise ValueError("must be a whole number of days from 0 (no settling) to 30 (e.g. 3)")
    return number


def _policy_or_empty(value: str) -> str | None:
    value = value.strip()
    if value and not POLICY_NUMBER.match(value):
        raise ValueError("must be a policy number: letters, digits, '.', '_' or '-' (e.g. 5012345)")
    return value or None


def _policy_list(value: str) -> tuple[str, ...]:
    numbers = parse_policy_list(value)
    wrong = [p for p in numbers if not POLICY_NUMBER.match(p)]
    if wrong:
        raise ValueError(f"must be policy numbers separated by commas (e.g. 5012345,5012346), not {', '.join(wrong)}")
    return numbers


def _day_or_empty(value: str) -> date | None:
    if not value.strip():
        return None
    try:
        return parse_partition_key(value.strip())
    except InvalidPartitionKey:
        raise ValueError("must be a GMT day written YYYY-MM-DD, or empty") from None


def _instant_or_empty(value: str) -> datetime | None:
    if not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("must be an instant written 2026-11-23T01:00:00Z, or empty") from None
    if moment.tzinfo is None:
        raise ValueError("must name its zone, e.g. 2026-11-23T01:00:00Z")
    return moment.astimezone(UTC)


def _without_password(value: str) -> str:
    """``value`` with the password of a URL (``scheme://user:password@host``) hidden, for messages."""
    return re.sub(r"(://[^/:@]*:)[^@/]*@", r"\1***@", value)


def pinned_clock(start: datetime, origin: float) -> Callable[[], datetime]:
    """A clock reading ``start`` at the wall-clock second ``origin`` and ticking in real time from there
    (in every process that shares the settings)."""
    return lambda: start + timedelta(seconds=time.time() - origin)


def _url_or_empty(value: str) -> str | None:
    if not value:
        return None
    if not value.startswith(("http://", "https://")):
        raise ValueError("must be an http(s) URL or empty")
    return value


def _under_working_dir(*parts: str, prefix: str = "") -> Callable[[], str]:
    """A default computed when the settings are read: `parts` under the current working directory,
    absolute (Dagster wants an absolute DAGSTER_HOME), after `prefix`."""
    return lambda: prefix + str(Path.cwd().joinpath(*parts))


# name -> (default, parser); None default means required, a callable one is computed at each read
_SPEC: Spec = {
    "WAREHOUSE_URL": (_under_working_dir("data", "warehouse.duckdb", prefix="duckdb:///"), _warehouse_url),
    "LANDING_ROOT": (_under_working_dir("data", "landing"), _folder),
    "DAGSTER_HOME": (_under_working_dir(".dagster"), _folder),
    "COFASYNC_QUARANTINE_THRESHOLD": ("0.01", _fraction),
    "COFASYNC_SNAPSHOT_EVERY_DAYS": ("7", _positive_int),
    "COFASYNC_CHECKPOINT_SECONDS": ("120", _seconds),
    "COFASYNC_SETTLE_DAYS": ("3", _settle_days),
    "COFASYNC_FAILURE_WEBHOOK_URL": ("", _url_or_empty),
    "COFASERVE_POLICY_NUMBER": ("", _policy_or_empty),
    "COFASERVE_POLICIES": ("", _policy_list),
    "COFASYNC_DUCKDB_STORAGE_VERSION": (DUCKDB_STORAGE_VERSION, _storage_version),
    "COFASYNC_FX_RATES": ("", _file_or_empty),
    "COFASYNC_TODAY": ("", _day_or_empty),
    "COFASERVE_CONTRACT_START": ("", _day_or_empty),
    "COFASYNC_NOW": ("", _instant_or_empty),
}

SETTING_NAMES = tuple(_SPEC)


Spec = dict[str, tuple[str | Callable[[], str] | None, Callable[[str], object]]]


def read_settings(spec: Spec, environ: Mapping[str, str] | None = None) -> dict[str, object]:
    """Every setting of ``spec`` (name -> (default, parser)) read from ``environ`` (default: the process
    environment) and parsed; SettingsError naming every missing or malformed one and what is expected."""
    env = os.environ if environ is None else environ
    values: dict[str, object] = {}
    problems: list[str] = []
    for name, (default, parse) in spec.items():
        raw = env.get(name)
        if raw is None or raw == "":
            raw = default() if callable(default) else default
        if raw is None:
            problems.append(f"{name} is not set")
            continue
        try:
            values[name] = parse(raw)
        except ValueError as exc:
            problems.append(f"{name}={_without_password(raw)!r} is malformed: {exc}")
    if problems:
        raise SettingsError("Invalid settings: " + "; ".join(problems))
    return values


def load_settings(environ: Mapping[str, str] | None = None) -> PipelineSettings:
    """Return the settings read from `environ` (default: the process environment).

    Raises SettingsError naming every missing or malformed setting and what is expected of it.
    """
    values = read_settings(_SPEC, environ)
    return PipelineSettings(
        warehouse_url=values["WAREHOUSE_URL"],
        landing_root=values["LANDING_ROOT"],
        dagster_home=values["DAGSTER_HOME"],
        quarantine_threshold=values["COFASYNC_QUARANTINE_THRESHOLD"],
        snapshot_every_days=values["COFASYNC_SNAPSHOT_EVERY_DAYS"],
        failure_webhook_url=values["COFASYNC_FAILURE_WEBHOOK_URL"],
        checkpoint_seconds=values["COFASYNC_CHECKPOINT_SECONDS"],
        settle_days=values["COFASYNC_SETTLE_DAYS"],
        policy_number=values["COFASERVE_POLICY_NUMBER"],
        policies=values["COFASERVE_POLICIES"],
        duckdb_storage_version=values["COFASYNC_DUCKDB_STORAGE_VERSION"],
        fx_rates_path=values["COFASYNC_FX_RATES"],
        pinned_today=values["COFASYNC_TODAY"],
        contract_start=values["COFASERVE_CONTRACT_START"],
        pinned_now=values["COFASYNC_NOW"],
    )

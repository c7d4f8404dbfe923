"""`Warehouse`: one warehouse at a SQLAlchemy URL, built from the landing zone and read by query.

It wires the package's parts: `targets` says where a build writes and how it is published, `build`
runs it, `checks` verifies the published state, `models` lists what is counted.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from resources.settings import DUCKDB_STORAGE_VERSION

from .build import BuildOutcome, run_build
from .checks import CheckResult, run_all_checks
from .inputs import as_store
from .models import load_models
from .sql import compose
from .targets import DuckDBFileTarget, EngineTarget, target_for

if TYPE_CHECKING:
    import pandas as pd

_COLUMNS = (
    "select table_schema, table_name, column_name, data_type from information_schema.columns "
    "where table_schema in :layers order by table_schema, table_name, ordinal_position"
)
_COUNT = "select count(*) from {name}"  # a template: {name} is a checked identifier
_FIRST_ROWS = "select * from {name} limit :rows"


@dataclass(frozen=True)
class BuildReport:
    """What a build published: `duration_seconds` until readers could see it (build and publish),
    `row_counts` of every table (by model name; views are not counted: counting one runs it) counted on the
    published state afterwards (in `count_seconds`), and what it loaded (partitions per stream, rows)
    and recomputed (numbers in scope per history table, seconds per step)."""

    url: str
    build_id: int
    full_refresh: bool
    duration_seconds: float
    row_counts: dict[str, int]
    count_seconds: float = 0.0
    partitions_loaded: dict[str, int] = field(default_factory=dict)
    rows_loaded: int = 0
    scopes: dict[str, int] = field(default_factory=dict)
    step_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def tables(self) -> list[str]:
        """The published tables and views, qualified (`history.decision_history`), in build order."""
        return [m.qualified for m in load_models()]


def _safe_url(url: str) -> str:
    return sa.engine.make_url(url).render_as_string(hide_password=True)


class Warehouse:
    """A warehouse at a SQLAlchemy URL (`duckdb:///file`, `duckdb:///:memory:`, `postgresql+psycopg://...`)."""

    def __init__(self, url: str, *, storage_version: str = DUCKDB_STORAGE_VERSION,
                 fx_rates_path: str | None = None) -> None:
        """`storage_version`: the DuckDB storage format a DuckDB file is written in (see `targets`);
        `fx_rates_path`: the ECB reference-rates CSV the build loads into `staging.stg_fx_rates` (None:
        no rates, converted amounts are NULL)."""
        self.url = url
        self.fx_rates_path = fx_rates_path
        self._target: DuckDBFileTarget | EngineTarget = target_for(url, storage_version)

    @property
    def safe_url(self) -> str:
        """The URL with its password hidden, for messages."""
        return _safe_url(self.url)

    @property
    def dialect(self) -> str:
        """'duckdb' or 'postgresql'."""
        return self._target.dialect

    def check_reachable(self) -> None:
        """Raise ``WarehouseUnreachable`` (saying why) unless a build could write the warehouse: its folder
        (DuckDB) or its server (Postgres, within 10 s). Meant before work whose result the warehouse takes."""
        self._target.check_reachable()

    def build(self, landing: Any, full_refresh: bool = False) -> BuildReport:
        """Bring the warehouse in step with the landing zone and publish the result atomically.

        `landing` is a `resources.landing.LandingStore` (or a landing root path or URL). Incremental by
        default: only partitions whose current run changed are reloaded and only the companies they
        touch are recomputed; `full_refresh=True` rebuilds everything from the landing zone, with the
        same result. On failure nothing is published and the previous state stays in place.
        """
        started = time.perf_counter()
        fresh = full_refresh or not self._target.exists() or self._target.needs_fresh_build()
        with self._target.build_connection(fresh=fresh) as conn:
            outcome: BuildOutcome = run_build(
                conn, self.dialect, as_store(landing), full_refresh=full_refresh,
                commit_steps=self._target.commit_steps, fx_rates_path=self.fx_rates_path,
            )
        published = time.perf_counter()
        counts = self.table_counts()
        return BuildReport(
            url=_safe_url(self.url),
            build_id=outcome.build_id,
            full_refresh=outcome.full_refresh,
            duration_seconds=round(published - started, 3),
            row_counts=counts,
            count_seconds=round(time.perf_counter() - published, 3),
            partitions_loaded=outcome.partitions_loaded,
            rows_loaded=outcome.rows_loaded,
            scopes=outcome.scopes,
            step_seconds=outcome.step_seconds,
        )

    def checks(self) -> list[CheckResult]:
        """Run every data check on the published state and return one result per check and table
        (see `checks`: one current version per key, no overlapping validity, every resolved
        temporary number mapped, history reconciles with staging, notifications have decisions and
        appear once)."""
        with self._target.read_connection() as conn:
            return run_all_checks(conn)

    def query(self, sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run one read query on the published state; values go in `params` (`:name` placeholders)."""
        with self._target.read_connection() as conn:
            return [dict(row._mapping) for row in conn.execute(sa.text(sql), params or {})]

    def frame(self, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
        """Run one read query on the published state and return its rows as a pandas DataFrame (read-only:
        a DuckDB file is opened read-only, so a build may run meanwhile); values go in `params`."""
        import pandas as pd

        with self._target.read_connection() as conn:
            result = conn.execute(sa.text(sql), params or {})
            return pd.DataFrame(result.fetchall(), columns=list(result.keys()))

    def first_rows(self, model: str, rows: int = 5) -> list[dict[str, Any]]:
        """Up to `rows` rows of the published model named `model` (in no particular order): a preview."""
        qualified = {m.name: m.qualified for m in load_models()}[model]
        return self.query(compose(_FIRST_ROWS, name=qualified), {"rows": rows})

    def column_types(self) -> dict[str, list[tuple[str, str]]]:
        """Every published table's and view's columns with their database types, in order, by model name
        (a model not built yet is absent)."""
        layers = sorted({model.layer for model in load_models()})
        with self._target.read_connection() as conn:
            rows = conn.execute(sa.text(_COLUMNS).bindparams(sa.bindparam("layers", expanding=True)),
                                {"layers": layers})
            found: dict[str, list[tuple[str, str]]] = {}
            for _schema, table, column, data_type in rows:
                found.setdefault(table, []).append((column, data_type))
        return found

    def table_counts(self, views: bool = False) -> dict[str, int]:
        """Row count of every staging and history table, by model name; with ``views``, of every mart view
        too (each count runs the view: `cover_daily` over every day of a large portfolio takes long, so
        builds, `sync` and `status` count the tables only)."""
        with self._target.read_connection() as conn:
            return {
                model.name: int(conn.execute(sa.text(compose(_COUNT, name=model.qualified))).scalar())
                for model in load_models() if views or not model.is_view
            }

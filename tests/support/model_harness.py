"""Run the `sql/` models on small hand-written input tables, on DuckDB or Postgres.

`ModelHarness(url)` creates the warehouse schema, runs a staging model on landed rows (`land`), lets a
test insert rows straight into staging or history tables (`stage`, `put`), runs the history models (`refresh_history`) and reads any table or
view back (`rows`). Missing columns are NULL; staging rows get a default partition, run and
extraction time unless given.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from resources.warehouse.build import stage_batch
from resources.warehouse.dialects import dialect_of, make_engine
from resources.warehouse.history import refresh_history
from resources.warehouse.inputs import landed_schema
from resources.warehouse.models import models_by_name
from resources.warehouse.schema import columns_of, ensure_schema
from tests.support.policies import TEST_POLICY as DEFAULT_POLICY

"""The policy of every row a test does not give one."""
STAGING_DEFAULTS = {
    "source_partition": "2025-01-01",
    "policy_number": DEFAULT_POLICY,
    "source_run_id": "run-1",
    "extracted_at": datetime(2025, 1, 2, 2, 0, tzinfo=UTC),
}


class ModelHarness:
    """A fresh warehouse schema on `url` with helpers to feed models and read them back."""

    def __init__(self, url: str) -> None:
        self.dialect = dialect_of(url)
        self.engine = make_engine(url, memory=url.startswith("duckdb"))
        with self.engine.begin() as conn:
            ensure_schema(conn, self.dialect)
        self._tables: dict[str, sa.TableClause] = {}

    def _table(self, name: str) -> sa.TableClause:
        if name not in self._tables:
            model = models_by_name()[name]
            with self.engine.connect() as conn:
                columns = columns_of(conn, model.qualified)
            self._tables[name] = sa.table(model.name, *(sa.column(c) for c in columns), schema=model.layer)
        return self._tables[name]

    def put(self, name: str, rows: list[dict[str, Any]]) -> None:
        """Insert rows into a model table (history tables for mart tests); missing columns are NULL, but
        for the policy (`DEFAULT_POLICY` unless given)."""
        table = self._table(name)
        unknown = {key for row in rows for key in row} - set(table.c.keys())
        assert not unknown, f"{name} has no columns {unknown}"
        default = {"policy_number": DEFAULT_POLICY}
        full = [{column: row.get(column, default.get(column)) for column in table.c.keys()} for row in rows]
        with self.engine.begin() as conn:
            conn.execute(table.insert(), full)

    def stage(self, name: str, rows: list[dict[str, Any]]) -> None:
        """Insert rows into a staging table, with default lineage columns."""
        self.put(name, [{**STAGING_DEFAULTS, **row} for row in rows])

    def land(self, stream: str, rows: list[dict[str, Any]]) -> None:
        """Run a stream's staging model on landed rows (typed columns, lineage and loader columns)."""
        schema = landed_schema(stream)
        defaults = {"_partition_key": "2025-01-01", "_run_id": "run-1", "_extracted_at": STAGING_DEFAULTS["extracted_at"],
                    "_policy_number": DEFAULT_POLICY}
        full = [{**defaults, "_row_in_partition": i, **row} for i, row in enumerate(rows)]
        batch = pa.Table.from_pylist([{f.name: r.get(f.name) for f in schema} for r in full], schema=schema)
        with self.engine.begin() as conn:
            stage_batch(conn, models_by_name()[f"stg_{stream}"], batch)

    def refresh_history(self) -> None:
        """Recompute every history model from the staging tables (a full refresh)."""
        with self.engine.begin() as conn:
            refresh_history(conn, set(), full_refresh=True)

    def rows(self, name: str, order_by: str, columns: list[str] | None = None) -> list[dict[str, Any]]:
        """Rows of a model as dicts (only `columns` when given), ordered by `order_by` (test-chosen)."""
        model = models_by_name()[name]
        with self.engine.connect() as conn:
            result = conn.execute(sa.text(f"select * from {model.qualified} order by {order_by}"))  # noqa: S608
            rows = [dict(r._mapping) for r in result]
        return [{c: r[c] for c in columns} for r in rows] if columns else rows

    def close(self) -> None:
        """Release the engine's connections."""
        self.engine.dispose()

"""The little that differs between DuckDB and Postgres: engines, loading an Arrow batch, indexes.

The SQL models are shared; only these mechanics are per engine. Every identifier that reaches SQL here
comes from the input contract (`inputs.STREAM_COLUMNS`) or the model registry.
"""

from __future__ import annotations

import io
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool, StaticPool

from .inputs import STREAMS, landed_schema
from .sql import compose, ident

_PG_TYPES = {
    pa.string(): "text",
    pa.timestamp("us", tz="UTC"): "timestamp with time zone",
    pa.date32(): "date",
    pa.float64(): "double precision",
    pa.decimal128(18, 2): "numeric(18, 2)",
    pa.decimal128(18, 6): "numeric(18, 6)",
    pa.bool_(): "boolean",
    pa.int64(): "bigint",
}
COPY_CHUNK_BYTES = 8 << 20
_CREATE_LANDED = "create temporary table if not exists {name} ({{columns}})"
_COPY_LANDED = "copy {name} ({{columns}}) from stdin with (format csv)"
_CREATE_INDEX = "create index if not exists {index} on {table} ({column})"


def dialect_of(url: str) -> str:
    """'duckdb' or 'postgresql' for a SQLAlchemy URL; anything else is refused."""
    backend = sa.engine.make_url(url).get_backend_name()
    if backend not in ("duckdb", "postgresql"):
        raise ValueError(f"unsupported warehouse URL {url!r}: use duckdb:///path or postgresql+psycopg://...")
    return backend


def make_engine(url: str, *, read_only: bool = False, memory: bool = False,
                storage_version: str | None = None) -> Engine:
    """A SQLAlchemy engine whose sessions run in UTC (dates of timestamps are GMT days), and on Postgres
    without JIT compilation.

    DuckDB engines hold no pooled connection (NullPool), so the database file is not kept open between
    uses; an in-memory DuckDB keeps its one connection (StaticPool). `read_only` opens DuckDB files
    read-only (no write lock); `storage_version` is the format a new DuckDB file is created in (an
    existing file keeps its own).
    """
    if dialect_of(url) == "postgresql":
        # jit off: Postgres compiles plans whose cost estimate is large, which for the build's scoped
        # queries (milliseconds of work on a few companies) costs seconds of LLVM compilation.
        return sa.create_engine(url, connect_args={"options": "-c TimeZone=UTC -c jit=off", "connect_timeout": 10}, pool_pre_ping=True)
    connect_args: dict[str, Any] = {"read_only": True} if read_only else {}
    if storage_version is not None:
        connect_args["config"] = {"storage_compatibility_version": storage_version}
    engine = sa.create_engine(url, connect_args=connect_args, poolclass=StaticPool if memory else NullPool)

    @sa.event.listens_for(engine, "connect")
    def _utc(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("set TimeZone = 'UTC'")

    return engine


def _landed_name(stream: str) -> str:
    if stream not in STREAMS:
        raise ValueError(f"unknown stream {stream!r}")
    return f"landed_{stream}"


def place_batch(conn: Connection, stream: str, batch: pa.Table) -> None:
    """Make `batch` readable as the relation `landed_<stream>` on this connection.

    DuckDB: the Arrow table is registered as a view (no copy). Postgres: a temporary table of the
    contract's columns is (re)filled with COPY ... FROM STDIN (CSV written by Arrow).
    """
    name = _landed_name(stream)
    batch = batch.cast(landed_schema(stream))
    if conn.dialect.name == "duckdb":
        raw = conn.connection.driver_connection
        raw.complete()  # DuckDB 2 refuses other work while a statement's result is pending
        raw.unregister(name)
        raw.register(name, batch)
        return
    columns = ", ".join(f"{ident(field.name)} {_PG_TYPES[field.type]}" for field in batch.schema)
    conn.execute(sa.text(compose(_CREATE_LANDED, name=name).replace("{columns}", columns)))
    conn.execute(sa.text(compose("truncate {name}", name=name)))
    if batch.num_rows == 0:
        return
    buffer = io.BytesIO()
    pacsv.write_csv(batch, buffer, pacsv.WriteOptions(include_header=False, batch_size=65536))
    data = buffer.getbuffer()
    cursor = conn.connection.driver_connection.cursor()
    column_list = ", ".join(ident(column) for column in batch.schema.names)
    with cursor.copy(compose(_COPY_LANDED, name=name).replace("{columns}", column_list)) as copy:
        for start in range(0, len(data), COPY_CHUNK_BYTES):
            copy.write(data[start:start + COPY_CHUNK_BYTES])


INDEXED_COLUMNS = {
    "staging": ("easy_number", "temporary_easy_number", "order_id", "delivery_id", "source_partition"),
    "history": ("easy_number",),
}


def index_statements(dialect: str, model: Any, columns: list[str], read_by_history: bool) -> list[str]:
    """Indexes the incremental build needs on Postgres: company and id lookups of a small scope in
    the staging tables history models read, and their partition deletes and change notes (a night
    replaces a few partitions of a table holding two years: a scan of it cost 0.1 s each, a night
    about 1 s at 1M decisions), company-scoped deletes in history tables. None on DuckDB, whose scans are
    fast and whose indexes slow bulk inserts; on staging nobody looks up, the partition only."""
    if dialect != "postgresql" or model.is_view:
        return []
    indexed = INDEXED_COLUMNS.get(model.layer, ())
    if model.layer == "staging" and not read_by_history:
        indexed = ("source_partition",)
    wanted = [c for c in indexed if c in columns]
    return [
        compose(_CREATE_INDEX, index=f"ix_{model.name}_{column}", table=model.qualified, column=column)
        for column in wanted
    ]

"""The warehouse's objects: the build's bookkeeping tables, the layer schemas and every model.

`ensure_schema` creates what is missing and, when a model file changed (a fingerprint of `sql/`),
drops and recreates every model (the caller then rebuilds in full). On an unchanged warehouse it issues
no DDL on published objects, so a Postgres build never takes a lock that readers would wait on.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .dialects import index_statements, place_batch
from .inputs import landed_schema
from .models import LAYERS, Model, fingerprint, load_models, select_body
from .sql import compose

LOADER_VERSION = "5"
_META_DDL = (
    "create table if not exists _wh_meta (meta_key varchar, meta_value varchar)",
    "create table if not exists _wh_partitions (stream varchar, policy_number varchar, partition_key varchar, run_id varchar, "
    "file_count integer, row_count bigint, quarantined bigint, written_at varchar, build_id integer)",
    "create table if not exists _wh_builds (build_id integer, started_at timestamp with time zone, "
    "finished_at timestamp with time zone, full_refresh boolean, partitions_loaded integer, "
    "rows_loaded bigint, duration_s double precision)",
    "create table if not exists _wh_changes (source_table varchar, easy_number varchar, "
    "temporary_easy_number varchar, order_id varchar, delivery_id varchar)",
    "create table if not exists _wh_scope (easy_number varchar)",
)
# Emptied by every build with truncate (a deleted row would stay in Postgres until vacuumed, and these
# tables see every number of a full build); only builders touch them. Recreated when the models change.
SCRATCH_TABLES = ("_wh_changes", "_wh_scope")
# Recreated with the models too: a full refresh empties it anyway, and a new loader may shape it otherwise.
REBUILT_TABLES = (*SCRATCH_TABLES, "_wh_partitions")

# Statement templates: {body} is a model file's select, every other placeholder a checked identifier.
_CREATE_SCHEMA = "create schema if not exists {name}"
_CREATE_VIEW = "create view {name} as\n{body}"
_CREATE_TABLE = "create table {name} as select * from (\n{body}\n) as model_rows limit 0"
_DROP_VIEW = "drop view {name}"
_DROP_TABLE = "drop table {name}"
_ANALYZE = "analyze {name}"


def scalar(conn: Connection, sql: str, params: dict[str, Any] | None = None) -> Any:
    """The first column of the first row of `sql` run with bound `params` (None when no row)."""
    return conn.execute(sa.text(sql), params or {}).scalar()


def columns_of(conn: Connection, qualified: str) -> list[str]:
    """Column names of `schema.table` in order (empty when it does not exist)."""
    schema, table = qualified.split(".")
    rows = conn.execute(
        sa.text(
            "select column_name from information_schema.columns "
            "where table_schema = :s and table_name = :t order by ordinal_position"
        ),
        {"s": schema, "t": table},
    )
    return [r[0] for r in rows]


def get_meta(conn: Connection, key: str) -> str | None:
    """The value the build kept under `key` in `_wh_meta` (None when none)."""
    return scalar(conn, "select max(meta_value) from _wh_meta where meta_key = :k", {"k": key})


def set_meta(conn: Connection, key: str, value: str) -> None:
    """Keep `value` under `key` in `_wh_meta` (created when missing), replacing what was there."""
    conn.execute(sa.text(_META_DDL[0]))
    conn.execute(sa.text("delete from _wh_meta where meta_key = :k"), {"k": key})
    conn.execute(sa.text("insert into _wh_meta (meta_key, meta_value) values (:k, :v)"), {"k": key, "v": value})


def _drop_models(conn: Connection, qualified_names: Iterable[str]) -> None:
    """Drop model objects, dependants first (names are registry or `_wh_meta` entries, all checked)."""
    for name in reversed(list(qualified_names)):
        schema, table = name.split(".")
        kind = scalar(
            conn,
            "select max(table_type) from information_schema.tables where table_schema = :s and table_name = :t",
            {"s": schema, "t": table},
        )
        if kind is not None:
            conn.execute(sa.text(compose(_DROP_VIEW if kind == "VIEW" else _DROP_TABLE, name=name)))


def _create_model(conn: Connection, model: Model) -> None:
    body = select_body(model)
    template = _CREATE_VIEW if model.is_view else _CREATE_TABLE
    conn.execute(sa.text(compose(template, name=model.qualified, body=body)))


def create_indexes(conn: Connection, dialect: str) -> None:
    """Create the indexes builds need (see `index_statements`); existing ones are kept. A build that
    (re)created the models calls this after loading, when building an index at once is far cheaper
    than maintaining it row by row."""
    models = load_models()
    read_by_history = {name for m in models if m.layer == "history" for name in m.upstream}
    for model in models:
        columns = columns_of(conn, model.qualified)
        for statement in index_statements(dialect, model, columns, model.name in read_by_history):
            conn.execute(sa.text(statement))


def analyze_model(conn: Connection, dialect: str, model) -> None:
    """Refresh Postgres's planner statistics of one model table just filled in a full build's transaction
    (autovacuum would only catch up later): the models read after it, and the next night's, are planned
    on its real size (without statistics Postgres chose nested loops
    over freshly loaded tables, 78 s instead of seconds for decision_history at 200k decisions)."""
    if dialect == "postgresql" and not model.is_view:
        conn.execute(sa.text(compose(_ANALYZE, name=model.qualified)))


def ensure_schema(conn: Connection, dialect: str) -> bool:
    """Create the meta tables, the layer schemas and every model; recreate all models when a
    definition changed.

    Returns True when the models were (re)created, which requires a full refresh, after which the
    caller creates the indexes (`create_indexes`). On an existing, unchanged warehouse it issues no DDL
    on published objects (readers are never blocked).
    """
    for statement in _META_DDL:
        conn.execute(sa.text(statement))
    models = load_models()
    wanted = fingerprint(extra=LOADER_VERSION)
    if get_meta(conn, "fingerprint") == wanted:
        return False
    for layer in LAYERS:
        conn.execute(sa.text(compose(_CREATE_SCHEMA, name=layer)))
    previous = [n for n in (get_meta(conn, "models") or "").split(",") if n]
    # the models first: a mart may read a bookkeeping table (marts.policies reads _wh_partitions)
    _drop_models(conn, previous + [m.qualified for m in models if m.qualified not in previous])
    for table in REBUILT_TABLES:
        conn.execute(sa.text(compose(_DROP_TABLE, name=table)))
    for statement in _META_DDL:
        conn.execute(sa.text(statement))
    for model in models:
        if model.stream is not None:
            place_batch(conn, model.stream, landed_schema(model.stream).empty_table())
        _create_model(conn, model)
    set_meta(conn, "models", ",".join(m.qualified for m in models))
    set_meta(conn, "fingerprint", wanted)
    return True

"""One warehouse build on an open connection: schema, staging loads, history refresh.

The build is a function of the landing zone. Incremental and full builds run the same model SQL:

1. staging: every (stream, partition) whose current run differs from the run loaded before (the
   watermark kept in `_wh_partitions`) is replaced: its old staging rows are deleted, the new run's
   Parquet is loaded as `landed_<stream>` and the staging model inserts its rows. The easy numbers of
   the removed and added rows are noted in `_wh_changes`.
2. history: `easy_number_map` recomputes the temporary numbers whose evidence changed and merges
   them by key (its changed rows are noted too). Each company-scoped history model then deletes and
   recomputes the rows of the companies touched by its upstream changes (`_wh_scope`, closed over the
   number map); a full build scopes every number.
3. marts are views: nothing to refresh.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from resources.landing import LandingStore
from resources.warehouse_dialects import index_statements, place_batch
from resources.warehouse_inputs import (
    PartitionRun,
    current_partitions,
    landed_schema,
    read_partitions,
)
from resources.warehouse_models import LAYERS, Model, fingerprint, load_models, models_by_name, select_body
from resources.warehouse_sql import compose, ident

LOADER_VERSION = "2"
ROWS_PER_BATCH = 500_000
PARTITIONS_PER_BATCH = 256
META_TABLES = ("_wh_meta", "_wh_partitions", "_wh_builds", "_wh_changes", "_wh_scope")
_META_DDL = (
    "create table if not exists _wh_meta (meta_key varchar, meta_value varchar)",
    "create table if not exists _wh_partitions (stream varchar, partition_key varchar, run_id varchar, "
    "file_count integer, row_count bigint, written_at varchar, build_id integer)",
    "create table if not exists _wh_builds (build_id integer, started_at timestamp with time zone, "
    "finished_at timestamp with time zone, full_refresh boolean, partitions_loaded integer, "
    "rows_loaded bigint, duration_s double precision)",
    "create table if not exists _wh_changes (source_table varchar, easy_number varchar, "
    "temporary_easy_number varchar, order_id varchar, delivery_id varchar)",
    "create table if not exists _wh_scope (easy_number varchar)",
)
SCRATCH_TABLES = ("_wh_changes", "_wh_scope")  # emptied by every build; recreated when the models change
CHANGE_COLUMNS = ("easy_number", "temporary_easy_number", "order_id", "delivery_id")

# Statement templates: {body} is a model file's select, every other placeholder a checked identifier.
_CREATE_SCHEMA = "create schema if not exists {name}"
_CREATE_VIEW = "create view {name} as\n{body}"
_CREATE_TABLE = "create table {name} as select * from (\n{body}\n) as model_rows limit 0"
_DROP_VIEW = "drop view {name}"
_DROP_TABLE = "drop table {name}"
_INSERT_MODEL = "insert into {name} select * from (\n{body}\n) as model_rows"
_DELETE_ALL = "delete from {name}"
_DELETE_PARTITIONS = "delete from {name} where source_partition in :keys"
_DELETE_SCOPE = "delete from {name} where easy_number in (select easy_number from _wh_scope)"
_NOTE_CHANGES = (
    "insert into _wh_changes (source_table, easy_number, temporary_easy_number, order_id, delivery_id) "
    "select distinct :table, {{columns}} from {source}"
)
_SCOPE_ALL = (
    "insert into _wh_scope (easy_number) select distinct {column} from {table} where {column} is not null"
)
_SCOPE_ALL_TEMPORARY = (
    "insert into _wh_scope (easy_number) select distinct {column} from {table} where {column} like 'Z%'"
)
_SCOPE_TEMPORARY_BY_ID = """
insert into _wh_scope (easy_number)
select distinct easy_number from {table}
where easy_number like 'Z%'
    and (
        order_id in (select order_id from _wh_changes where source_table in :sources)
        or delivery_id in (select delivery_id from _wh_changes where source_table in :sources)
    )
"""
_SCOPE_TEMPORARY_CHANGED = """
insert into _wh_scope (easy_number)
select easy_number from _wh_changes where source_table in :sources and easy_number like 'Z%'
union
select temporary_easy_number from _wh_changes where source_table in :sources and temporary_easy_number like 'Z%'
"""
_CREATE_NEXT = "create temporary table _wh_next as select * from (\n{body}\n) as model_rows"
_CREATE_DIFF = (
    "create temporary table _wh_diff as select * from ("
    "(select * from {name} where {key} in (select easy_number from _wh_scope) except select * from _wh_next) "
    "union all "
    "(select * from _wh_next except select * from {name} where {key} in (select easy_number from _wh_scope))"
    ") as changed_rows"
)
_MERGE_DELETE = "delete from {name} where {key} in (select {key} from _wh_diff)"
_MERGE_INSERT = "insert into {name} select * from _wh_next where {key} in (select {key} from _wh_diff)"
_SCOPE_FROM_CHANGES = """
insert into _wh_scope (easy_number)
select easy_number from (
    with changed as (
        select easy_number from _wh_changes where source_table in :sources and easy_number is not null
        union
        select temporary_easy_number from _wh_changes
        where source_table in :sources and temporary_easy_number is not null
    ),
    resolved as (
        select coalesce(number_map.easy_number, changed.easy_number) as easy_number
        from changed
        left join history.easy_number_map as number_map
            on number_map.temporary_easy_number = changed.easy_number
    ),
    companies as (
        select easy_number from changed
        union
        select easy_number from resolved
    )
    select easy_number from companies
    union
    select number_map.temporary_easy_number
    from history.easy_number_map as number_map
    inner join companies
        on companies.easy_number = number_map.easy_number
) as scope_rows
"""


@dataclass
class BuildOutcome:
    """What one build did: its id, whether it was full, partitions and rows loaded, scope sizes."""

    build_id: int
    full_refresh: bool
    partitions_loaded: dict[str, int] = field(default_factory=dict)
    rows_loaded: int = 0
    scopes: dict[str, int] = field(default_factory=dict)
    step_seconds: dict[str, float] = field(default_factory=dict)


def _scalar(conn: Connection, sql: str, params: dict[str, Any] | None = None) -> Any:
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


# -- schema -------------------------------------------------------------------------------------------

def _get_meta(conn: Connection, key: str) -> str | None:
    return _scalar(conn, "select max(meta_value) from _wh_meta where meta_key = :k", {"k": key})


def _set_meta(conn: Connection, key: str, value: str) -> None:
    conn.execute(sa.text("delete from _wh_meta where meta_key = :k"), {"k": key})
    conn.execute(sa.text("insert into _wh_meta (meta_key, meta_value) values (:k, :v)"), {"k": key, "v": value})


def _drop_models(conn: Connection, qualified_names: Iterable[str]) -> None:
    """Drop model objects, dependants first (names are registry or `_wh_meta` entries, all checked)."""
    for name in reversed(list(qualified_names)):
        schema, table = name.split(".")
        kind = _scalar(
            conn,
            "select max(table_type) from information_schema.tables where table_schema = :s and table_name = :t",
            {"s": schema, "t": table},
        )
        if kind is not None:
            conn.execute(sa.text(compose(_DROP_VIEW if kind == "VIEW" else _DROP_TABLE, name=name)))


def _create_model(conn: Connection, dialect: str, model: Model) -> None:
    body = select_body(model)
    if model.is_view:
        conn.execute(sa.text(compose(_CREATE_VIEW, name=model.qualified, body=body)))
        return
    conn.execute(sa.text(compose(_CREATE_TABLE, name=model.qualified, body=body)))
    for statement in index_statements(dialect, model, columns_of(conn, model.qualified)):
        conn.execute(sa.text(statement))


def ensure_schema(conn: Connection, dialect: str) -> bool:
    """Create the meta tables, the layer schemas and every model; recreate all models when a
    definition changed.

    Returns True when the models were (re)created, which requires a full refresh. On an existing,
    unchanged warehouse it issues no DDL on published objects (readers are never blocked).
    """
    for statement in _META_DDL:
        conn.execute(sa.text(statement))
    models = load_models()
    wanted = fingerprint(extra=LOADER_VERSION)
    if _get_meta(conn, "fingerprint") == wanted:
        return False
    for layer in LAYERS:
        conn.execute(sa.text(compose(_CREATE_SCHEMA, name=layer)))
    for scratch in SCRATCH_TABLES:
        conn.execute(sa.text(compose(_DROP_TABLE, name=scratch)))
    for statement in _META_DDL:
        conn.execute(sa.text(statement))
    previous = [n for n in (_get_meta(conn, "models") or "").split(",") if n]
    _drop_models(conn, previous + [m.qualified for m in models if m.qualified not in previous])
    for model in models:
        if model.stream is not None:
            place_batch(conn, model.stream, landed_schema(model.stream).empty_table())
        _create_model(conn, dialect, model)
    _set_meta(conn, "models", ",".join(m.qualified for m in models))
    _set_meta(conn, "fingerprint", wanted)
    return True


# -- staging ------------------------------------------------------------------------------------------

def _note_changes(conn: Connection, table: str, source: str, available: Iterable[str],
                  partitions: list[str] | None = None) -> None:
    """Record in _wh_changes the company numbers and order/delivery ids of `source` rows (of
    `partitions`, when given), under the name `table`."""
    present = set(available)
    if "easy_number" not in present:
        return
    columns = ", ".join(ident(c) if c in present else "cast(null as varchar)" for c in CHANGE_COLUMNS)
    sql = compose(_NOTE_CHANGES, source=source).replace("{columns}", columns)
    if partitions is None:
        conn.execute(sa.text(sql), {"table": table})
    else:
        statement = sa.text(sql + " where source_partition in :keys")
        conn.execute(statement.bindparams(sa.bindparam("keys", expanding=True)), {"table": table, "keys": partitions})


def _batches(runs: list[PartitionRun]) -> Iterator[list[PartitionRun]]:
    batch: list[PartitionRun] = []
    rows = 0
    for run in runs:
        batch.append(run)
        rows += run.rows or 0
        if rows >= ROWS_PER_BATCH or len(batch) >= PARTITIONS_PER_BATCH:
            yield batch
            batch, rows = [], 0
    if batch:
        yield batch


def _delete_partitions(conn: Connection, model: Model, keys: list[str]) -> None:
    statement = sa.text(compose(_DELETE_PARTITIONS, name=model.qualified))
    conn.execute(statement.bindparams(sa.bindparam("keys", expanding=True)), {"keys": keys})
    conn.execute(
        sa.text("delete from _wh_partitions where stream = :s and partition_key in :keys").bindparams(
            sa.bindparam("keys", expanding=True)
        ),
        {"s": model.stream, "keys": keys},
    )


def stage_batch(conn: Connection, model: Model, batch: pa.Table, *, note: bool = False) -> None:
    """Insert a landed batch (shaped as `landed_schema`) into `model`'s staging table through the model.
    With `note`, the batch's company numbers go to `_wh_changes`."""
    assert model.stream is not None
    place_batch(conn, model.stream, batch)
    if note:
        _note_changes(conn, model.name, f"landed_{model.stream}", batch.schema.names)
    conn.execute(sa.text(compose(_INSERT_MODEL, name=model.qualified, body=select_body(model))))


_RECORD_PARTITIONS = """
insert into _wh_partitions (stream, partition_key, run_id, file_count, row_count, written_at, build_id)
select
    unnest(cast(:streams as varchar[])),
    unnest(cast(:partitions as varchar[])),
    unnest(cast(:runs as varchar[])),
    unnest(cast(:files as integer[])),
    unnest(cast(:rows as bigint[])),
    unnest(cast(:written as varchar[])),
    unnest(cast(:builds as integer[]))
"""


def _record_partitions(conn: Connection, runs: list[PartitionRun], build_id: int) -> None:
    """Remember which run of each partition is loaded (the watermark), in one set-based statement."""
    conn.execute(sa.text(_RECORD_PARTITIONS), {
        "streams": [r.stream for r in runs], "partitions": [r.partition for r in runs],
        "runs": [r.run_id for r in runs], "files": [len(r.files) for r in runs], "rows": [r.rows for r in runs],
        "written": [r.written_at for r in runs], "builds": [build_id] * len(runs),
    })


def load_stream(
    conn: Connection, model: Model, landing: LandingStore, build_id: int, note: bool
) -> tuple[int, int]:
    """Bring `model`'s staging table in step with the current runs of its stream.

    Only partitions whose current run changed (or whose manifest disappeared) since the last build are
    touched. Returns (partitions replaced, rows landed). With `note`, the company numbers of removed
    and inserted rows go to `_wh_changes`.
    """
    stream = model.stream
    assert stream is not None
    runs = current_partitions(landing, stream)
    loaded = dict(
        conn.execute(
            sa.text("select partition_key, run_id from _wh_partitions where stream = :s"), {"s": stream}
        ).fetchall()
    )
    changed = [r for r in runs if loaded.get(r.partition) != r.run_id]
    gone = sorted(set(loaded) - {r.partition for r in runs})
    stale = [r.partition for r in changed if r.partition in loaded] + gone
    if stale:
        if note:
            _note_changes(conn, model.name, model.qualified, columns_of(conn, model.qualified), stale)
        _delete_partitions(conn, model, stale)
    landed = 0
    for batch_runs in _batches(changed):
        batch = read_partitions(landing, batch_runs)
        stage_batch(conn, model, batch, note=note)
        landed += batch.num_rows
        _record_partitions(conn, batch_runs, build_id)
    return len(changed) + len(gone), landed


# -- history ------------------------------------------------------------------------------------------

def _fill_scope(conn: Connection, model: Model, everything: bool) -> int:
    """Fill `_wh_scope` with the numbers whose rows `model` recomputes: company numbers (definitive and
    temporary, closed over the number map) for `by company` models; temporary numbers whose evidence
    changed for `by temporary number` ones. Returns how many distinct numbers are in scope."""
    conn.execute(sa.text("delete from _wh_scope"))
    registry = models_by_name()
    upstream = [registry[name].qualified for name in model.upstream]
    sources = {"sources": list(model.upstream)}
    if model.refresh_kind == "company" and everything:
        for table in upstream:
            for column in ("easy_number", "temporary_easy_number"):
                if column in columns_of(conn, table):
                    conn.execute(sa.text(compose(_SCOPE_ALL, column=column, table=table)))
    elif model.refresh_kind == "company":
        statement = sa.text(_SCOPE_FROM_CHANGES).bindparams(sa.bindparam("sources", expanding=True))
        conn.execute(statement, sources)
    elif everything:
        for table in upstream:
            for column in ("easy_number", "temporary_easy_number"):
                conn.execute(sa.text(compose(_SCOPE_ALL_TEMPORARY, column=column, table=table)))
    else:
        changed = sa.text(_SCOPE_TEMPORARY_CHANGED).bindparams(sa.bindparam("sources", expanding=True))
        conn.execute(changed, sources)
        for table in upstream:
            by_id = sa.text(compose(_SCOPE_TEMPORARY_BY_ID, table=table))
            conn.execute(by_id.bindparams(sa.bindparam("sources", expanding=True)), sources)
    return int(_scalar(conn, "select count(distinct easy_number) from _wh_scope"))


def _refresh_by_company(conn: Connection, model: Model, everything: bool) -> int:
    """Delete and recompute the rows of the companies in scope; return how many numbers were in scope."""
    scoped = _fill_scope(conn, model, everything)
    if everything:
        conn.execute(sa.text(compose(_DELETE_ALL, name=model.qualified)))
    elif scoped == 0:
        return 0
    else:
        conn.execute(sa.text(compose(_DELETE_SCOPE, name=model.qualified)))
    conn.execute(sa.text(compose(_INSERT_MODEL, name=model.qualified, body=select_body(model))))
    return scoped


def _refresh_merged(conn: Connection, model: Model, everything: bool) -> int:
    """Recompute the keys in scope and merge them: only rows that differ are deleted or inserted, and
    their numbers and ids go to `_wh_changes` (so the models downstream see what changed). Returns how
    many rows differed."""
    if _fill_scope(conn, model, everything) == 0:
        return 0
    name, key = model.qualified, model.key[0]
    conn.execute(sa.text("drop table if exists _wh_next"))
    conn.execute(sa.text(compose(_CREATE_NEXT, body=select_body(model))))
    conn.execute(sa.text("drop table if exists _wh_diff"))
    conn.execute(sa.text(compose(_CREATE_DIFF, name=name, key=key)))
    _note_changes(conn, model.name, "_wh_diff", columns_of(conn, name))
    conn.execute(sa.text(compose(_MERGE_DELETE, name=name, key=key)))
    conn.execute(sa.text(compose(_MERGE_INSERT, name=name, key=key)))
    changed = int(_scalar(conn, "select count(*) from _wh_diff"))
    conn.execute(sa.text("drop table _wh_next"))
    conn.execute(sa.text("drop table _wh_diff"))
    return changed


def refresh_history(
    conn: Connection, changed_tables: set[str], *, full_refresh: bool, commit_steps: bool = False
) -> tuple[dict[str, int], dict[str, float]]:
    """Refresh every history model from staging, in dependency order.

    `changed_tables` names the staging tables whose partitions changed in this build (their company
    numbers are in `_wh_changes`); with `full_refresh` every company is recomputed. `commit_steps`
    commits after each model (see `run_build`). Returns the scope size (or merged row count) and the
    seconds spent, per model.
    """
    scopes: dict[str, int] = {}
    seconds: dict[str, float] = {}
    for model in (m for m in load_models() if m.layer == "history"):
        step = time.perf_counter()
        everything = full_refresh or bool(changed_tables & set(model.full_scope_when))
        if model.refresh_kind == "temporary":
            scopes[model.name] = _refresh_merged(conn, model, everything)
        elif model.refresh_kind == "company":
            scopes[model.name] = _refresh_by_company(conn, model, everything)
        else:
            raise ValueError(f"{model.path}: unknown refresh policy {model.refresh!r}")
        if commit_steps:
            conn.commit()
        seconds[model.name] = round(time.perf_counter() - step, 3)
    return scopes, seconds


# -- one build ----------------------------------------------------------------------------------------

def run_build(
    conn: Connection, dialect: str, landing: LandingStore, *, full_refresh: bool, commit_steps: bool = False
) -> BuildOutcome:
    """Build the warehouse on `conn` from the landing zone.

    Promises: afterwards staging holds exactly the current runs of every landed partition, and history
    equals what a full rebuild of the same landing zone gives; `_wh_builds` records the build.

    Without `commit_steps` everything happens in the caller's one transaction (Postgres: readers switch
    at its commit). With `commit_steps` the build commits after the schema, each stream and each model:
    for a DuckDB file being built beside the published one, where publishing is the file swap. DuckDB
    2.0 needs it: a table created by CTAS in the transaction that then receives a large Arrow insert
    reads back empty on that connection.
    """
    started = datetime.now(UTC)
    clock = time.perf_counter()
    models = load_models()
    if ensure_schema(conn, dialect):
        full_refresh = True
    if commit_steps:
        conn.commit()
    if full_refresh:
        for model in models:
            if not model.is_view:
                conn.execute(sa.text(compose(_DELETE_ALL, name=model.qualified)))
        conn.execute(sa.text("delete from _wh_partitions"))
    conn.execute(sa.text("delete from _wh_changes"))
    build_id = int(_scalar(conn, "select coalesce(max(build_id), 0) + 1 from _wh_builds"))
    outcome = BuildOutcome(build_id=build_id, full_refresh=full_refresh)
    changed_tables: set[str] = set()
    for model in (m for m in models if m.layer == "staging"):
        partitions, rows = load_stream(conn, model, landing, build_id, note=not full_refresh)
        if commit_steps:
            conn.commit()
        if partitions:
            changed_tables.add(model.name)
            outcome.partitions_loaded[model.stream or model.name] = partitions
            outcome.rows_loaded += rows
    outcome.step_seconds["staging"] = round(time.perf_counter() - clock, 3)
    outcome.scopes, history_seconds = refresh_history(
        conn, changed_tables, full_refresh=full_refresh, commit_steps=commit_steps
    )
    outcome.step_seconds.update(history_seconds)
    conn.execute(sa.text("delete from _wh_scope"))
    conn.execute(sa.text("delete from _wh_changes"))
    conn.execute(
        sa.text(
            "insert into _wh_builds (build_id, started_at, finished_at, full_refresh, partitions_loaded, "
            "rows_loaded, duration_s) values (:id, :started, :finished, :full, :parts, :rows, :secs)"
        ),
        {
            "id": build_id, "started": started, "finished": datetime.now(UTC), "full": full_refresh,
            "parts": sum(outcome.partitions_loaded.values()), "rows": outcome.rows_loaded,
            "secs": round(time.perf_counter() - clock, 3),
        },
    )
    return outcome

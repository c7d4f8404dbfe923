"""Refreshing the history models: which numbers to recompute (`_wh_scope`) and how.

`_wh_changes` collects, during a build, the company numbers and order/delivery ids of every staging
row removed or added (and of every `easy_number_map` row that changed). From it:

* `by company` models (the SCD2 tables) recompute the companies their upstream changes touched,
  closed over the number map (a definitive number brings its temporary ones and vice versa): delete
  their rows, insert the model's rows for them; a model derived from another `by company` model
  recomputes the companies that one did;
* `by temporary number` models (`easy_number_map`) recompute the temporary numbers whose evidence
  changed (a changed row names them, or shares an order or delivery id with a row listed under them),
  and merge: only rows that differ are replaced, and those are noted as changes for the models after.

A full refresh scopes every number. A company's rows are always recomputed from all its staging rows,
so the result does not depend on how the nights were split into builds.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .models import Model, load_models, models_by_name, select_body
from .schema import analyze_model, columns_of, scalar
from .sql import DELETE_ALL, INSERT_MODEL, compose, ident

CHANGE_COLUMNS = ("easy_number", "temporary_easy_number", "order_id", "delivery_id")

# Statement templates: {body} is a model file's select, every other placeholder a checked identifier.
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
select distinct listed.easy_number
from {table} as listed
inner join (select distinct {column} from _wh_changes where source_table in :sources) as changed
    on changed.{column} = listed.{column}
where listed.easy_number like 'Z%'
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


def note_changes(conn: Connection, table: str, source: str, available: Iterable[str],
                  partitions: list[str] | None = None, policy: str | None = None) -> None:
    """Record in _wh_changes the company numbers and order/delivery ids of `source` rows (of `policy`'s
    `partitions`, when given), under the name `table`."""
    present = set(available)
    if "easy_number" not in present:
        return
    columns = ", ".join(ident(c) if c in present else "cast(null as varchar)" for c in CHANGE_COLUMNS)
    sql = compose(_NOTE_CHANGES, source=source).replace("{columns}", columns)
    if partitions is None:
        conn.execute(sa.text(sql), {"table": table})
    else:
        statement = sa.text(sql + " where policy_number = :policy and source_partition in :keys")
        conn.execute(statement.bindparams(sa.bindparam("keys", expanding=True)),
                     {"table": table, "keys": partitions, "policy": policy})


def scope_sources(model: Model, registry: dict[str, Model]) -> list[str]:
    """The tables whose changes put a company in `model`'s scope: its upstream tables and, through every
    upstream `by company` table model that is not merged (a merged one notes its own changes), that
    model's own (so a model derived from company_history recomputes exactly the companies company_history
    recomputed)."""
    sources: list[str] = []
    for name in model.upstream:
        sources.append(name)
        upstream = registry[name]
        if upstream.refresh_kind == "company" and not upstream.is_view and not upstream.merged:
            sources.extend(s for s in scope_sources(upstream, registry) if s not in sources)
    return sources


def _fill_scope(conn: Connection, model: Model, everything: bool) -> int:
    """Fill `_wh_scope` with the numbers whose rows `model` recomputes: company numbers (definitive and
    temporary, closed over the number map) for `by company` models; temporary numbers whose evidence
    changed for `by temporary number` ones. Returns how many distinct numbers are in scope."""
    conn.execute(sa.text("truncate _wh_scope"))
    registry = models_by_name()
    upstream = [registry[name].qualified for name in model.upstream]
    sources = {"sources": scope_sources(model, registry)}
    if everything:
        template = _SCOPE_ALL if model.refresh_kind == "company" else _SCOPE_ALL_TEMPORARY
        for table in upstream:
            for column in ("easy_number", "temporary_easy_number"):
                if column in columns_of(conn, table):
                    conn.execute(sa.text(compose(template, column=column, table=table)))
    elif model.refresh_kind == "company":
        statement = sa.text(_SCOPE_FROM_CHANGES).bindparams(sa.bindparam("sources", expanding=True))
        conn.execute(statement, sources)
    else:
        changed = sa.text(_SCOPE_TEMPORARY_CHANGED).bindparams(sa.bindparam("sources", expanding=True))
        conn.execute(changed, sources)
        for table in upstream:
            for column in ("order_id", "delivery_id"):  # one join each: an 'or' would rule out indexes
                by_id = sa.text(compose(_SCOPE_TEMPORARY_BY_ID, table=table, column=column))
                conn.execute(by_id.bindparams(sa.bindparam("sources", expanding=True)), sources)
    conn.execute(sa.text("analyze _wh_scope"))  # so that Postgres plans index lookups for a small scope
    return int(scalar(conn, "select count(distinct easy_number) from _wh_scope"))


def _refresh_by_company(conn: Connection, model: Model, everything: bool) -> int:
    """Delete and recompute the rows of the companies in scope; return how many numbers were in scope."""
    scoped = _fill_scope(conn, model, everything)
    if everything:
        conn.execute(sa.text(compose(DELETE_ALL, name=model.qualified)))
    elif scoped == 0:
        return 0
    else:
        conn.execute(sa.text(compose(_DELETE_SCOPE, name=model.qualified)))
    conn.execute(sa.text(compose(INSERT_MODEL, name=model.qualified, body=select_body(model))))
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
    note_changes(conn, model.name, "_wh_diff", columns_of(conn, name))
    conn.execute(sa.text(compose(_MERGE_DELETE, name=name, key=key)))
    conn.execute(sa.text(compose(_MERGE_INSERT, name=name, key=key)))
    changed = int(scalar(conn, "select count(*) from _wh_diff"))
    conn.execute(sa.text("drop table _wh_next"))
    conn.execute(sa.text("drop table _wh_diff"))
    return changed


def refresh_history(
    conn: Connection, changed_tables: set[str], *, full_refresh: bool, commit_steps: bool = False,
    dialect: str = "duckdb",
) -> tuple[dict[str, int], dict[str, float]]:
    """Refresh every history model from staging, in dependency order.

    `changed_tables` names the staging tables whose partitions changed in this build (their company
    numbers are in `_wh_changes`); with `full_refresh` every company is recomputed. `commit_steps`
    commits after each model (see `run_build`); in a full refresh each table's statistics are refreshed
    once it is filled (`dialect`). Returns the scope size (or merged row count) and the
    seconds spent, per model.
    """
    scopes: dict[str, int] = {}
    seconds: dict[str, float] = {}
    recomputed_whole: set[str] = set()  # models rebuilt for every company: those derived from them are too
    for model in (m for m in load_models() if m.layer == "history"):
        step = time.perf_counter()
        everything = (full_refresh or bool(changed_tables & set(model.full_scope_when))
                      or bool(recomputed_whole & set(model.upstream)))
        if everything and not model.merged:  # a merged model notes the rows that changed instead
            recomputed_whole.add(model.name)
        if model.refresh_kind not in ("company", "temporary"):
            raise ValueError(f"{model.path}: unknown refresh policy {model.refresh!r}")
        if model.merged:
            scopes[model.name] = _refresh_merged(conn, model, everything)
        else:
            scopes[model.name] = _refresh_by_company(conn, model, everything)
        if full_refresh:  # the models after it are planned on its real size
            analyze_model(conn, dialect, model)
        if commit_steps:
            conn.commit()
        seconds[model.name] = round(time.perf_counter() - step, 3)
    return scopes, seconds

"""One warehouse build on an open connection: schema, staging loads, history refresh.

The build is a function of the landing zone. Incremental and full builds run the same model SQL:

1. staging: every (stream, partition) whose current run differs from the run loaded before (the
   watermark kept in `_wh_partitions`) is replaced: its old staging rows are deleted, the new run's
   Parquet is loaded as `landed_<stream>` and the staging model inserts its rows. What the removed and
   added rows name (company numbers, order and delivery ids) is noted in `_wh_changes`.
2. history: see `history` (recompute what the changes touched).
3. marts are views: nothing to refresh.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from resources.landing import LandingStore

from .dialects import place_batch
from .dictionary import apply_comments
from .fx import fx_digest, read_ecb_rates
from .history import note_changes, refresh_history
from .inputs import (
    FILE_INPUTS,
    PartitionRun,
    current_partitions,
    policy_stores,
    read_partitions,
)
from .list_changes import is_kept_daily, note_every_company, note_list_changes
from .models import Model, load_models, select_body
from .schema import (
    analyze_model,
    columns_of,
    create_indexes,
    ensure_schema,
    get_meta,
    scalar,
    set_meta,
)
from .sql import DELETE_ALL, INSERT_MODEL, compose

ROWS_PER_BATCH = 500_000
PARTITIONS_PER_BATCH = 256
_DELETE_PARTITIONS = "delete from {name} where policy_number = :policy and source_partition in :keys"


@dataclass
class BuildOutcome:
    """What one build did: its id, whether it was full, partitions and rows loaded, scope sizes."""

    build_id: int
    full_refresh: bool
    partitions_loaded: dict[str, int] = field(default_factory=dict)
    rows_loaded: int = 0
    scopes: dict[str, int] = field(default_factory=dict)
    step_seconds: dict[str, float] = field(default_factory=dict)


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


def _delete_partitions(conn: Connection, model: Model, policy: str, keys: list[str]) -> None:
    statement = sa.text(compose(_DELETE_PARTITIONS, name=model.qualified))
    conn.execute(statement.bindparams(sa.bindparam("keys", expanding=True)), {"policy": policy, "keys": keys})
    conn.execute(
        sa.text("delete from _wh_partitions where stream = :s and policy_number = :policy "
                "and partition_key in :keys").bindparams(sa.bindparam("keys", expanding=True)),
        {"s": model.stream, "policy": policy, "keys": keys},
    )


def stage_batch(conn: Connection, model: Model, batch: pa.Table, *, note: bool = False) -> None:
    """Insert a landed batch (shaped as `landed_schema`) into `model`'s staging table through the model.
    With `note`, the batch's company numbers go to `_wh_changes`."""
    assert model.stream is not None
    place_batch(conn, model.stream, batch)
    if note:
        note_changes(conn, model.name, f"landed_{model.stream}", batch.schema.names)
    conn.execute(sa.text(compose(INSERT_MODEL, name=model.qualified, body=select_body(model))))


_RECORD_PARTITIONS = """
insert into _wh_partitions (stream, policy_number, partition_key, run_id, file_count, row_count, quarantined,
    written_at, build_id)
select
    unnest(cast(:streams as varchar[])),
    unnest(cast(:policies as varchar[])),
    unnest(cast(:partitions as varchar[])),
    unnest(cast(:runs as varchar[])),
    unnest(cast(:files as integer[])),
    unnest(cast(:rows as bigint[])),
    unnest(cast(:quarantined as bigint[])),
    unnest(cast(:written as varchar[])),
    unnest(cast(:builds as integer[]))
"""


def _record_partitions(conn: Connection, runs: list[PartitionRun], build_id: int) -> None:
    """Remember which run of each partition is loaded (the watermark), in one set-based statement."""
    conn.execute(sa.text(_RECORD_PARTITIONS), {
        "streams": [r.stream for r in runs], "policies": [r.policy for r in runs], "partitions": [r.partition for r in runs],
        "runs": [r.run_id for r in runs], "files": [len(r.files) for r in runs], "rows": [r.rows for r in runs],
        "quarantined": [r.quarantined for r in runs],
        "written": [r.written_at for r in runs], "builds": [build_id] * len(runs),
    })


def load_stream(
    conn: Connection, model: Model, stores: list[LandingStore], build_id: int, note: bool
) -> tuple[int, int]:
    """Bring `model`'s staging table in step with the current runs of its stream in every policy's zone
    (`stores`, one per policy).

    Only (policy, partition)s whose current run changed (or whose manifest disappeared, or whose policy's
    zone did) since the last build are touched. Returns (partitions replaced, rows landed). With `note`,
    the company numbers of removed and inserted rows go to `_wh_changes`.
    """
    stream = model.stream
    assert stream is not None
    runs = [run for store in stores for run in current_partitions(store, stream)]
    loaded = {(policy, key): run for policy, key, run in conn.execute(
        sa.text("select policy_number, partition_key, run_id from _wh_partitions where stream = :s"), {"s": stream})}
    changed = [r for r in runs if loaded.get((r.policy, r.partition)) != r.run_id]
    gone = sorted(set(loaded) - {(r.policy, r.partition) for r in runs})
    stale = sorted([(r.policy, r.partition) for r in changed if (r.policy, r.partition) in loaded] + gone)
    kept_daily = is_kept_daily(model)
    for policy in dict.fromkeys(p for p, _ in stale):
        keys = [key for p, key in stale if p == policy]
        if note and kept_daily:
            note_every_company(conn, model, policy)
        elif note:
            note_changes(conn, model.name, model.qualified, columns_of(conn, model.qualified), keys, policy)
        _delete_partitions(conn, model, policy, keys)
    landed = 0
    for store in stores:
        for batch_runs in _batches([r for r in changed if r.policy == store.policy]):
            batch = read_partitions(store, batch_runs)
            stage_batch(conn, model, batch, note=note and not kept_daily)
            landed += batch.num_rows
            _record_partitions(conn, batch_runs, build_id)
    if note and kept_daily:  # a day's list repeats the one before: only what differs is a change
        for policy in dict.fromkeys(r.policy for r in changed):
            if any(p == policy for p, _ in stale):
                note_every_company(conn, model, policy)
            else:
                note_list_changes(conn, model, policy, [r.partition for r in changed if r.policy == policy])
    return len(changed) + len(gone), landed


def load_fx_rates(conn: Connection, model: Model, path: str | None, full_refresh: bool) -> int | None:
    """Replace `model`'s rows (`stg_fx_rates`) by the rates of the ECB CSV at `path` (none without a file)
    when the file's content changed since the last build or on a full refresh; return the rows loaded,
    or None when nothing changed. A file that cannot be read raises `fx.FxRatesError`, before any change."""
    digest = fx_digest(path)
    if not full_refresh and get_meta(conn, "fx_rates_digest") == digest:
        return None
    rates = read_ecb_rates(path)
    conn.execute(sa.text(compose(DELETE_ALL, name=model.qualified)))
    stage_batch(conn, model, rates)
    set_meta(conn, "fx_rates_digest", digest)
    return rates.num_rows


def run_build(
    conn: Connection, dialect: str, landing: LandingStore, *, full_refresh: bool, commit_steps: bool = False,
    fx_rates_path: str | None = None,
) -> BuildOutcome:
    """Build the warehouse on `conn` from the landing zone of every policy under `landing`'s account root
    (and the FX rates of the ECB CSV at `fx_rates_path`, see `load_fx_rates`).

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
    created = ensure_schema(conn, dialect)
    if created:
        full_refresh = True
    if commit_steps:
        conn.commit()
    if full_refresh:
        for model in models:
            if not model.is_view:
                conn.execute(sa.text(compose(DELETE_ALL, name=model.qualified)))
        conn.execute(sa.text("delete from _wh_partitions"))
    conn.execute(sa.text("truncate _wh_changes"))
    build_id = int(scalar(conn, "select coalesce(max(build_id), 0) + 1 from _wh_builds"))
    outcome = BuildOutcome(build_id=build_id, full_refresh=full_refresh)
    changed_tables: set[str] = set()
    stores = policy_stores(landing)
    for model in (m for m in models if m.layer == "staging"):
        if model.stream in FILE_INPUTS:  # the FX rates: read by the marts only, no history to refresh
            loaded = load_fx_rates(conn, model, fx_rates_path, full_refresh)
            if loaded is not None:
                outcome.partitions_loaded[model.stream] = 1
                outcome.rows_loaded += loaded
            if full_refresh:
                analyze_model(conn, dialect, model)
            continue
        partitions, rows = load_stream(conn, model, stores, build_id, note=not full_refresh)
        if full_refresh:
            analyze_model(conn, dialect, model)
        if commit_steps:
            conn.commit()
        if partitions:
            changed_tables.add(model.name)
            outcome.partitions_loaded[model.stream or model.name] = partitions
            outcome.rows_loaded += rows
    outcome.step_seconds["staging"] = round(time.perf_counter() - clock, 3)
    outcome.scopes, history_seconds = refresh_history(
        conn, changed_tables, full_refresh=full_refresh, commit_steps=commit_steps, dialect=dialect
    )
    outcome.step_seconds.update(history_seconds)
    if full_refresh:
        step = time.perf_counter()
        if created:
            create_indexes(conn, dialect)
        outcome.step_seconds["indexes_and_statistics"] = round(time.perf_counter() - step, 3)
    conn.execute(sa.text("truncate _wh_scope"))
    conn.execute(sa.text("truncate _wh_changes"))
    apply_comments(conn, force=created)  # the data dictionary, when it changed or the models were recreated
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

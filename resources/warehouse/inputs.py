"""What the warehouse reads from the landing zone (docs/contracts.md §3), and how.

The landed columns are the stream registry's (`resources.streams`); the warehouse reads every typed
column plus the lineage columns `_partition`, `_run_id`, `_extracted_at` (`_request` and `_raw_json`
stay in the landing zone). It also reads the quarantine of the streams in `QUARANTINES`, as the input
`<stream>_quarantine`: each record's reason and the easy number its raw JSON names (a quarantined
snapshot record still names a company the API listed). `current_partitions()` lists the current run of
every partition from the landing store's manifests, and `read_partitions()` reads exactly the files
those manifests name.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from resources.landing import CURRENT, LandingStore, conform_table, require_intact
from resources.landing.policies import legacy_entries, upgrade_single_policy_zone
from resources.streams import STREAMS as STREAM_REGISTRY

from .fx import FX_SCHEMA

LINEAGE_COLUMNS = ("_partition", "_run_id", "_extracted_at")
# Added by the loader: the manifest's partition key, the row's position in its run (dedupe order) and
# the policy whose zone landed it.
LOADER_FIELDS = (pa.field("_partition_key", pa.string()), pa.field("_row_in_partition", pa.int64()),
                 pa.field("_policy_number", pa.string()))

# Quarantine inputs (input name -> landed stream) and what is read of each quarantined record.
QUARANTINES: dict[str, str] = {"portfolio_snapshot_quarantine": "portfolio_snapshot",
                               "customer_references_quarantine": "customer_references"}
QUARANTINE_FIELDS = (pa.field("reason", pa.string()), pa.field("easy_number", pa.string()))
_QUARANTINE_LINEAGE = {"partition": "_partition", "run_id": "_run_id", "extracted_at": "_extracted_at"}

# Inputs read from a file the settings name, not from the landing zone (input name -> the batch's schema).
FILE_INPUTS: dict[str, pa.Schema] = {"fx_rates": FX_SCHEMA}

# Every input the warehouse reads (a staging model `stg_<input>` each): the landed streams, the
# quarantines, the file inputs.
STREAMS: tuple[str, ...] = tuple(STREAM_REGISTRY) + tuple(QUARANTINES) + tuple(FILE_INPUTS)
STREAM_COLUMNS: dict[str, tuple[str, ...]] = {
    name: tuple(stream.typed_schema.names) for name, stream in STREAM_REGISTRY.items()
} | {name: tuple(f.name for f in QUARANTINE_FIELDS) for name in QUARANTINES} | {
    name: tuple(schema.names) for name, schema in FILE_INPUTS.items()}


def landed_stream(name: str) -> str:
    """The landed stream whose manifests the input `name` reads (a quarantine's stream, else itself)."""
    return QUARANTINES.get(name, name)


def read_schema(stream: str) -> pa.Schema:
    """The landed columns the warehouse reads: typed columns (of a quarantine: `QUARANTINE_FIELDS`),
    then the lineage columns."""
    schema = STREAM_REGISTRY[landed_stream(stream)].schema
    typed = list(QUARANTINE_FIELDS) if stream in QUARANTINES else [schema.field(n) for n in STREAM_COLUMNS[stream]]
    return pa.schema(typed + [schema.field(n) for n in LINEAGE_COLUMNS])


def landed_schema(stream: str) -> pa.Schema:
    """Schema of the batch the loader hands to the stream's staging model as `landed_<stream>` (a file
    input's own schema)."""
    if stream in FILE_INPUTS:
        return FILE_INPUTS[stream]
    return pa.schema(list(read_schema(stream)) + list(LOADER_FIELDS))


@dataclass(frozen=True)
class PartitionRun:
    """The current run of one (stream, partition) of one policy, as its manifest names it (files relative
    to the policy's zone)."""

    stream: str
    partition: str
    run_id: str
    files: tuple[str, ...]
    rows: int | None = None
    quarantined: int | None = None
    """The records of the run its manifest counts as quarantined."""
    written_at: str | None = None
    digests: tuple[tuple[str, dict | None], ...] = ()
    """(file, its recorded size and SHA-256, or None for a file landed before digests were recorded)."""
    policy: str = ""
    """The policy whose zone holds the run."""


def as_store(landing: LandingStore | str | Path) -> LandingStore:
    """A LandingStore for a store or a landing root (path or fsspec URL)."""
    return landing if isinstance(landing, LandingStore) else LandingStore(str(landing))


def policy_stores(landing: LandingStore) -> list[LandingStore]:
    """The zone of every policy under ``landing``'s account root, in policy order; a root that still holds
    a single-policy zone raises LegacyLandingZone (``resources.landing.policies``) saying how to upgrade it."""
    if legacy_entries(landing.fs, landing.account_path):
        upgrade_single_policy_zone(landing.account_path if landing.local else landing.fs.unstrip_protocol(
            landing.account_path), None, storage_options=landing.storage_options)
    return [landing.for_policy(policy) for policy in landing.policies()]


def current_partitions(landing: LandingStore, stream: str) -> list[PartitionRun]:
    """The current run of every landed partition of `stream`, sorted by partition key.

    Superseded and unfinished runs are never listed: only what the manifests name as current. A
    quarantine input lists the same runs, with their quarantine files (often none).
    """
    quarantine = stream in QUARANTINES
    runs = [
        PartitionRun(
            stream=stream,
            partition=manifest["partition"] or CURRENT,
            run_id=str(manifest["run_id"]),
            files=tuple(manifest["quarantine_files" if quarantine else "files"]),
            rows=manifest.get("quarantined" if quarantine else "rows"),
            quarantined=manifest.get("quarantined"),
            written_at=manifest.get("written_at"),
            digests=tuple((f, (manifest.get("file_digests") or {}).get(f))
                          for f in manifest["quarantine_files" if quarantine else "files"]),
            policy=landing.policy or "",
        )
        for manifest in landing.manifests(landed_stream(stream))
    ]
    return sorted(runs, key=lambda r: r.partition)


def named_easy_number(stream: str, raw_json: str | None) -> str | None:
    """The easy number a quarantined record of `stream` names, checked by the payload model's rule for
    `easyNumber`; None when the raw JSON does not parse or holds no valid easyNumber."""
    return STREAM_REGISTRY[stream].served_value(raw_json, "easy_number")


def _quarantine_as_landed(stream: str, table: pa.Table) -> pa.Table:
    """Quarantine rows shaped as landed rows: the lineage under its landed names, plus the easy number
    each raw JSON names."""
    table = table.rename_columns([_QUARANTINE_LINEAGE.get(n, n) for n in table.column_names])
    named = [named_easy_number(stream, raw) for raw in table.column("raw_json").to_pylist()]
    return table.append_column("easy_number", pa.array(named, pa.string()))


_READ = """
select landed.*, files.partition_key as _partition_key,
    files.file_index * 4294967296 + landed.file_row_number as _row_in_partition
from read_parquet($paths, union_by_name = true, filename = true, file_row_number = true) as landed
inner join files on files.path = landed.filename
    -- a range run's file holds several days: a daily partition takes the rows of its own day
    and (landed.{day} is null or cast(landed.{day} as varchar) = files.partition_key)
"""
# the column naming a landed row's day (an identifier from this whitelist, never a value)
_DAY_COLUMN = {"data": "_partition", "quarantine": "partition"}


def read_partitions(landing: LandingStore, runs: Iterable[PartitionRun]) -> pa.Table:
    """Read the files of `runs` (one stream) into one table shaped as `landed_schema(stream)`.

    Only the named files are read (never a directory listing), so a run being written or superseded
    meanwhile cannot leak in; of a file a range run shared between days, a partition takes only the rows
    of its day. Columns a file lacks become nulls. `_row_in_partition` orders the rows of
    a partition as landed (file, then row). The files are read by an in-process DuckDB (fast on many
    small files), through the landing store's filesystem for object storage. Quarantine files are
    shaped by `_quarantine_as_landed`.
    """
    runs = list(runs)
    if not runs:
        raise ValueError("read_partitions needs at least one run")
    stream = runs[0].stream
    root = landing.path.rstrip("/")
    paths, keys, indexes = [], [], []
    for run in runs:
        for index, relative in enumerate(run.files):
            path = f"{root}/{relative}"
            paths.append(path if landing.local else landing.fs.unstrip_protocol(path))
            keys.append(run.partition)
            indexes.append(index)
    if not paths:  # runs that quarantined nothing name no quarantine file
        return landed_schema(stream).empty_table()
    # DuckDB checks no page checksum: a file is compared with its digest before it is read
    require_intact(landing, dict(digest for run in runs for digest in run.digests), f"the build of {stream}")
    files = pa.table({"path": paths, "partition_key": keys, "file_index": pa.array(indexes, pa.int64())})
    paths = list(dict.fromkeys(paths))  # each file read once, however many partitions it holds
    with duckdb.connect() as reader:
        reader.execute("set TimeZone = 'UTC'")
        if not landing.local:
            reader.register_filesystem(landing.fs)
        reader.register("files", files)
        query = _READ.format(day=_DAY_COLUMN["quarantine" if stream in QUARANTINES else "data"])
        table = reader.sql(query, params={"paths": paths}).to_arrow_table()
    if stream in QUARANTINES:
        table = _quarantine_as_landed(QUARANTINES[stream], table)
    table = table.append_column("_policy_number", pa.array([landing.policy] * table.num_rows, pa.string()))
    return conform_table(table, landed_schema(stream))

"""What the warehouse reads from the landing zone (docs/contracts.md §3), and how.

The landed columns are the stream registry's (`resources.streams`); the warehouse reads every typed
column plus the lineage columns `_partition`, `_run_id`, `_extracted_at` (`_request` and `_raw_json`
stay in the landing zone). `current_partitions()` lists the current run of every partition from the
landing store's manifests, and `read_partitions()` reads exactly the files those manifests name.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from resources.landing import CURRENT, LandingStore
from resources.streams import STREAMS as STREAM_REGISTRY

LINEAGE_COLUMNS = ("_partition", "_run_id", "_extracted_at")
# Added by the loader: the manifest's partition key and the row's position in its run (dedupe order).
LOADER_FIELDS = (pa.field("_partition_key", pa.string()), pa.field("_row_in_partition", pa.int64()))

STREAMS: tuple[str, ...] = tuple(STREAM_REGISTRY)
STREAM_COLUMNS: dict[str, tuple[str, ...]] = {
    name: tuple(stream.typed_schema.names) for name, stream in STREAM_REGISTRY.items()
}
# Streams whose rows name a company: their easy numbers scope incremental history builds.
COMPANY_NUMBER_COLUMNS: dict[str, tuple[str, ...]] = {
    name: tuple(c for c in ("easy_number", "temporary_easy_number") if c in columns)
    for name, columns in STREAM_COLUMNS.items()
    if "easy_number" in columns
}


def read_schema(stream: str) -> pa.Schema:
    """The landed columns the warehouse reads: typed columns, then the lineage columns."""
    schema = STREAM_REGISTRY[stream].schema
    return pa.schema([schema.field(n) for n in STREAM_COLUMNS[stream] + LINEAGE_COLUMNS])


def landed_schema(stream: str) -> pa.Schema:
    """Schema of the batch the loader hands to the stream's staging model as `landed_<stream>`."""
    return pa.schema(list(read_schema(stream)) + list(LOADER_FIELDS))


@dataclass(frozen=True)
class PartitionRun:
    """The current run of one (stream, partition), as its manifest names it (files relative to the root)."""

    stream: str
    partition: str
    run_id: str
    files: tuple[str, ...]
    rows: int | None = None
    written_at: str | None = None


def as_store(landing: LandingStore | str | Path) -> LandingStore:
    """A LandingStore for a store or a landing root (path or fsspec URL)."""
    return landing if isinstance(landing, LandingStore) else LandingStore(str(landing))


def current_partitions(landing: LandingStore, stream: str) -> list[PartitionRun]:
    """The current run of every landed partition of `stream`, sorted by partition key.

    Superseded and unfinished runs are never listed: only what the manifests name as current.
    """
    runs = [
        PartitionRun(
            stream=stream,
            partition=manifest["partition"] or CURRENT,
            run_id=str(manifest["run_id"]),
            files=tuple(manifest["files"]),
            rows=manifest.get("rows"),
            written_at=manifest.get("written_at"),
        )
        for manifest in landing.manifests(stream)
    ]
    return sorted(runs, key=lambda r: r.partition)


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    columns = [
        table.column(f.name).cast(f.type) if f.name in table.column_names else pa.nulls(table.num_rows, f.type)
        for f in schema
    ]
    return pa.Table.from_arrays(columns, schema=schema)


def _read_file(landing: LandingStore, relative: str, schema: pa.Schema) -> pa.Table:
    with landing.fs.open(f"{landing.path.rstrip('/')}/{relative}", "rb") as handle:
        present = set(pq.read_schema(handle).names)
        handle.seek(0)
        table = pq.read_table(handle, columns=[n for n in schema.names if n in present])
    return _conform(table, schema)


def read_partitions(landing: LandingStore, runs: Iterable[PartitionRun]) -> pa.Table:
    """Read the files of `runs` (one stream) into one table shaped as `landed_schema(stream)`.

    Only the named files are read (never a directory listing), so a run being written or superseded
    meanwhile cannot leak in. Columns a file lacks become nulls.
    """
    runs = list(runs)
    if not runs:
        raise ValueError("read_partitions needs at least one run")
    stream = runs[0].stream
    schema = read_schema(stream)
    tables = []
    for run in runs:
        parts = [_read_file(landing, f, schema) for f in run.files]
        table = pa.concat_tables(parts) if parts else schema.empty_table()
        table = table.append_column(LOADER_FIELDS[0], pa.array([run.partition] * table.num_rows, pa.string()))
        table = table.append_column(LOADER_FIELDS[1], pa.array(range(table.num_rows), pa.int64()))
        tables.append(table)
    return pa.concat_tables(tables)

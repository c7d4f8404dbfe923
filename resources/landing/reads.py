"""Reading the files manifests name: each file once, the rows of the days asked for, in partition order."""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .errors import DamagedLanding
from .parquet import conform_table, read_days


def read_manifested(store, manifests: list[dict], files_key: str, day_column: str, schema: pa.Schema) -> pa.Table:
    """The rows of ``manifests``' files (``files_key``: data or quarantine) shaped as ``schema``: each of a
    daily partition's files gives the rows whose ``day_column`` is that day; partitions in order, each one's
    rows as landed. A file that cannot be read (missing, truncated, failing a page checksum) raises
    DamagedLanding naming it."""
    # a file shared by several days (a range run) is read once, for the days whose manifest names it
    days_of: dict[str, list[date | None]] = {}
    for manifest in manifests:
        day = None if manifest["partition"] is None else date.fromisoformat(manifest["partition"])
        for relative in manifest[files_key]:
            days_of.setdefault(relative, []).append(day)
    tables, order = [], []
    for relative, days in days_of.items():
        try:
            with store.fs.open(store.join(relative), "rb") as fh:
                table = read_days(pq.ParquetFile(fh, page_checksum_verification=True),
                                  [*schema.names, day_column], day_column, days)
        except (OSError, pa.ArrowException) as exc:  # missing, truncated, a page failing its checksum
            raise DamagedLanding(f"the landed file {store.join(relative)} cannot be read ({exc}): `cofasync "
                                 "verify` lists what is damaged and how to repair it") from exc
        tables.append(conform_table(table, schema))
        order.append(table[day_column] if day_column in table.column_names else pa.nulls(len(table), pa.date32()))
    if not tables:
        return schema.empty_table()
    table = pa.concat_tables(tables)
    if len(manifests) > 1:  # partitions in order, each one's rows as landed (the sort is stable)
        # chunk by chunk with the type given: a file none of whose rows is of the days read gives a
        # column of no chunks, from which pyarrow would infer no type
        days = pa.chunked_array([chunk for c in order for chunk in pa.chunked_array(c).cast(pa.date32()).chunks],
                                type=pa.date32())
        table = table.take(pc.sort_indices(days))
    return table

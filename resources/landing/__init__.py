"""The Parquet landing zone (docs/contracts.md section 3): the store, its writers and its reads."""

from datetime import UTC, datetime

from .range_writer import RangeWriter, open_range
from .router import DayRouter, LandedSummary, RowView, land_dated_records, land_records
from .store import (
    CURRENT,
    MANIFEST_VERSION,
    QUARANTINE_SCHEMA,
    RANGE_PREFIX,
    LandingError,
    LandingStore,
    PartitionLocked,
    PartitionWriter,
    conform_table,
    make_durable,
    partition_key,
)


def _utcnow() -> datetime:
    """The wall clock of the landing writers: now, as an aware UTC datetime. A harness that runs a whole
    process on a simulated clock replaces this attribute (tests/exactness.py)."""
    return datetime.now(UTC)


__all__ = [
    "CURRENT",
    "MANIFEST_VERSION",
    "QUARANTINE_SCHEMA",
    "RANGE_PREFIX",
    "DayRouter",
    "LandedSummary",
    "LandingError",
    "LandingStore",
    "PartitionLocked",
    "PartitionWriter",
    "RangeWriter",
    "RowView",
    "conform_table",
    "land_dated_records",
    "land_records",
    "make_durable",
    "open_range",
    "partition_key",
]

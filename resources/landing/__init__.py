"""The Parquet landing zone (docs/contracts.md section 3): the store, its writers and its reads."""

from datetime import UTC, datetime

from .range_writer import RangeWriter, open_range
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
    "LandingError",
    "LandingStore",
    "PartitionLocked",
    "PartitionWriter",
    "RangeWriter",
    "conform_table",
    "make_durable",
    "open_range",
    "partition_key",
]

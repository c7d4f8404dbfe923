"""The Parquet landing zone (docs/contracts.md section 3): the store, its writers, its reads.

One job per module: ``store`` (the store: paths, reads, file operations), ``writer`` (the partition
writer and the ``with`` block every writer shares), ``range_writer`` (one run over many days),
``router`` (client records routed to their days), ``manifest``, ``manifest_files`` (where manifests
are filed: a file per month of days), ``parquet`` (part files and their reading), ``arrays`` (row values to Arrow arrays), ``locks``, ``durability``, ``gc`` (garbage
collection), ``verify`` (integrity of landed files), ``errors``.
"""

from .durability import make_durable
from .errors import DamagedLanding, LandingError, PartitionLocked
from .manifest import CURRENT, MANIFEST_VERSION, partition_key
from .parquet import conform_table
from .range_writer import RANGE_PREFIX, RangeWriter, open_range
from .router import DayRouter, LandedSummary, RowView, land_dated_records, land_records
from .store import LandingStore, wall_clock
from .verify import require_intact, verify_landing
from .writer import QUARANTINE_SCHEMA, PartitionWriter

__all__ = [
    "CURRENT",
    "MANIFEST_VERSION",
    "QUARANTINE_SCHEMA",
    "RANGE_PREFIX",
    "DamagedLanding",
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
    "require_intact",
    "verify_landing",
    "wall_clock",
]

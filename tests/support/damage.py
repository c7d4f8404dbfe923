"""Damage done to landed Parquet files on purpose: the bytes a test or the soak flips inside a data page."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq


def data_page_offsets(path: Path) -> tuple[int, int]:
    """The byte range of the first column chunk's data (inside a data page, not the footer)."""
    column = pq.ParquetFile(path).metadata.row_group(0).column(0)
    start = column.data_page_offset
    return start + 16, start + column.total_compressed_size - 1


def flip(path: Path, at: int, count: int = 4) -> None:
    """Invert ``count`` bytes of ``path`` from offset ``at``."""
    data = bytearray(path.read_bytes())
    for i in range(at, at + count):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def flip_a_data_page(path: Path) -> None:
    """Flip four bytes inside the first data page of ``path``: the footer still reads, the values do not."""
    flip(path, data_page_offsets(path)[0])

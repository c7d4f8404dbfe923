"""Write small landing zones for warehouse tests through the real `LandingStore` writer.

`land()` lands one run of one (stream, partition) with a chosen extraction time (the store's clock), so
that tests control `_extracted_at` (which drives `recorded_at` and observation-time validity in the
warehouse), and may quarantine records in the same run.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from resources.landing import LandingStore


def ts(text: str) -> datetime:
    """A UTC datetime from 'YYYY-MM-DD HH:MM[:SS]' (or a bare day, at midnight)."""
    value = datetime.fromisoformat(text)
    return value.replace(tzinfo=UTC)


def _raw(row: Mapping[str, Any]) -> str:
    return json.dumps(dict(row), sort_keys=True, default=str)


def land(
    store: LandingStore,
    stream: str,
    partition: date | str | None,
    run_id: str,
    rows: Iterable[Mapping[str, Any]],
    extracted_at: datetime | str,
    quarantined: Iterable[str] = (),
) -> dict:
    """Land `rows` (typed columns of `stream`; missing ones null) as run `run_id` of `partition`, and
    quarantine the raw JSON texts `quarantined`.

    Every row gets `_extracted_at = extracted_at` and a raw JSON. Returns the manifest written.
    """
    if isinstance(partition, str):
        partition = date.fromisoformat(partition)
    if isinstance(extracted_at, str):
        extracted_at = ts(extracted_at)
    at = LandingStore(store.root, row_group_size=store.row_group_size, rows_per_file=store.rows_per_file,
                      lock_timeout=store.lock_timeout, retention=store.retention, clock=lambda: extracted_at)
    with at.open_partition(stream, partition, run_id) as writer:
        writer.write([{**row, "_raw_json": _raw(row)} for row in rows])
        for raw_json in quarantined:
            writer.quarantine(raw_json, "broke its contract", f"GET /{stream}")
    assert writer.manifest is not None
    return writer.manifest

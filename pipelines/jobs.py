"""The jobs: what each schedule, sensor or CLI command runs. Which extraction assets each selects
follows from the stream declarations (their partitioning, and the job an as-of stream names)."""

from __future__ import annotations

import dagster as dg

from resources.streams import STREAMS, Partitioning, streams_by


def _extraction(partitioning: Partitioning, job: str | None = None) -> list[str]:
    """The asset keys of the streams with ``partitioning`` (of those naming ``job``, when given)."""
    return [s.name for s in streams_by(partitioning) if job is None or s.job == job]


def _as_of_job(name: str, description: str) -> dg.UnresolvedAssetJobDefinition:
    selected = _extraction(Partitioning.AS_OF, name)
    if not selected:
        raise LookupError(f"no stream declares job {name!r}; declared: {sorted({s.job for s in STREAMS.values() if s.job})}")
    return dg.define_asset_job(name, selection=dg.AssetSelection.assets(*selected), description=description)


nightly_job = dg.define_asset_job(
    "nightly_extract",
    selection=dg.AssetSelection.assets(*_extraction(Partitioning.DAILY)),
    description="Extract the changes of one or more GMT days (a range runs as one single-run backfill).",
)

models_job = dg.define_asset_job(
    "refresh_models",
    selection=dg.AssetSelection.assets(*_extraction(Partitioning.CURRENT))
    | dg.AssetSelection.groups("staging", "history", "marts"),
    description="Refresh the reference lists, then rebuild the warehouse models from the landing zone.",
)

snapshot_job = _as_of_job(
    "reconciliation_snapshot", "Land a snapshot of the full portfolio (detects removals and records aging out).")

order_polls_job = _as_of_job("repoll_pending_orders", "Re-poll orders still pending, temporary Z EASY numbers included.")

"""What an extraction run reports to Dagster: per-partition and per-run metadata, and the landing checks.

Each partition a run lands shows its own figures (``dagster/row_count`` of that day, its quarantined
records); the run's totals carry a ``run_`` prefix, so a day of a 730-day backfill never looks like it
holds the whole run. Checks, one per (check, stream) and each with a description:

- ``reconciles_with_api_total`` (only for streams whose extraction knows a total): records seen equal
  the API's reported count, or the ids asked for;
- ``no_duplicate_keys``: no key repeats within a partition (ERROR);
- ``quarantine_under_threshold``: the quarantined share stays under the threshold (WARN).
"""

from __future__ import annotations

import dagster as dg

from resources.landing import LandedSummary
from resources.streams import Stream

CHECK_DESCRIPTIONS = {
    "reconciles_with_api_total": "The run saw as many records as the API reported (or as ids it asked for).",
    "no_duplicate_keys": "No landed row repeats the stream key of another row of the same partition.",
    "quarantine_under_threshold": "The share of records quarantined for breaking their contract stays "
                                  "under COFASYNC_QUARANTINE_THRESHOLD.",
}


def check_names(stream: Stream) -> list[str]:
    """The landing checks declared for one stream."""
    return [name for name in CHECK_DESCRIPTIONS if stream.reports_total or name != "reconciles_with_api_total"]


def landing_check_specs(stream: Stream) -> list[dg.AssetCheckSpec]:
    """The check specs of one stream's asset, matching :func:`landing_checks`."""
    return [dg.AssetCheckSpec(name=name, asset=stream.name, description=CHECK_DESCRIPTIONS[name])
            for name in check_names(stream)]


def run_metadata(summary: LandedSummary, api: dict | None = None) -> dict:
    """The metadata of the whole run of one stream (``run_`` figures, the API window, unknown fields)."""
    metadata: dict = {
        "run_rows_landed": summary.rows,
        "run_rows_quarantined": summary.quarantined,
        "run_records_seen": summary.records,
        "run_days": len(summary.rows_by_day),
    }
    if summary.reported_total is not None:
        metadata["run_api_reported_total"] = summary.reported_total
    if summary.unknown_field_records:
        # fields the models do not know are kept in the raw JSON; say which, so the models can follow
        metadata["run_records_with_unknown_fields"] = summary.unknown_field_records
        metadata["unknown_fields"] = ", ".join(sorted(summary.unknown_fields))
    for name, value in summary.figures.items():
        metadata[f"run_{name}"] = value
    if summary.already_landed:
        metadata["run_records_already_landed"] = summary.already_landed
    if summary.outside_days:
        metadata["run_rows_outside_run_days"] = summary.outside_days
    if summary.api_window is not None:
        metadata["api_window"] = dg.MetadataValue.json(summary.api_window)
    for name, value in (api or {}).items():
        metadata[f"run_api_{name}"] = dg.MetadataValue.json(value) if isinstance(value, dict) else value
    return metadata


def partition_metadata(summary: LandedSummary, day) -> dict:
    """The figures of one partition the run landed: its rows (of a settling day it extended, every row
    the day holds, and those this run added) and its quarantined records."""
    landed = summary.rows_by_day.get(day, 0)
    metadata = {"dagster/row_count": summary.held_by_day.get(day, landed),
                "rows_quarantined": summary.quarantined_by_day.get(day, 0)}
    if day in summary.held_by_day:  # a settling day listed again: what this run added to it
        metadata["rows_added_while_settling"] = landed
    return metadata


def landing_checks(stream: Stream, summary: LandedSummary, threshold: float) -> list[dg.AssetCheckResult]:
    """The results of :func:`landing_check_specs` for one run of ``stream``."""
    key = dg.AssetKey(stream.name)
    results = []
    seen = summary.records
    if stream.reports_total:
        total = summary.reported_total
        results.append(dg.AssetCheckResult(
            asset_key=key, check_name="reconciles_with_api_total", passed=total is not None and seen == total,
            description=None if total is not None else "the run learnt no total to compare with",
            metadata={"records_seen": seen, **({"api_reported_total": total} if total is not None else {})},
        ))
    results.append(dg.AssetCheckResult(
        asset_key=key, check_name="no_duplicate_keys", passed=summary.duplicate_keys == 0,
        metadata={"duplicate_keys": summary.duplicate_keys},
    ))
    share = summary.quarantined / seen if seen else 0.0
    results.append(dg.AssetCheckResult(
        asset_key=key, check_name="quarantine_under_threshold", passed=share <= threshold,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"quarantined": summary.quarantined, "share": round(share, 6), "threshold": threshold},
    ))
    return results

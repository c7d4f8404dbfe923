"""What every extraction asset does around its stream's logic: which days a run covers (refused before
any API call when outside the window), the client and store to use, failures that must not be retried,
and the metadata and checks it reports."""


from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import dagster as dg
import httpx

from pipelines.partitions import check_in_window, contract_start, parse_partition_key, utc_today
from resources.cofaserve import (
    AuthError,
    MalformedResponseError,
    PagingError,
    RetryExhaustedError,
    ServerError,
)
from resources.landing import PartitionLocked

from .extraction import LandedSummary

API_POOL = "cofaserve_api"
"""The Dagster concurrency pool every API-reading asset belongs to: it caps concurrent use of the API
across all runs, and so also keeps two runs from writing the same stream partition at once."""

TRANSIENT_RETRY = dg.RetryPolicy(max_retries=2, delay=30, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.FULL)
"""Run-level retries for transient failures. Authentication failures are raised as `dg.Failure` with
`allow_retries=False`, so a rejected login is never retried by Dagster either."""

OWNERS = ["team:data-engineering"]


def run_days(context: dg.AssetExecutionContext) -> list[date]:
    """Return the GMT days this run covers, after refusing any outside the API's window.

    A single-run backfill covers a range of partitions; the range's first and last day are checked
    against the two-year window and the contract start before any API call.
    """
    keys = list(context.partition_keys)
    with api_failures_not_retried():  # a day outside the window stays outside: never retried
        today = utc_today()
        start = contract_start()
        for key in (keys[0], keys[-1]):
            check_in_window(key, today, start)
        return [parse_partition_key(key) for key in keys]


TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    RetryExhaustedError, ServerError, MalformedResponseError, PagingError, PartitionLocked, httpx.TransportError,
)
"""Failures a later attempt may not meet: the API's faults once the client's own retries are spent, a
partition another run is writing, a network cut. Only these are retried by the run's retry policy."""


@contextmanager
def api_failures_not_retried() -> Iterator[None]:
    """Let transient failures through to the run's retry policy; turn every other failure (refused
    credentials above all, but also bad input and bugs) into a failure that retries will not repeat."""
    try:
        yield
    except TRANSIENT_ERRORS:
        raise
    except AuthError as exc:
        raise dg.Failure(description=f"CofaServe refused the credentials: {exc}", allow_retries=False) from exc
    except Exception as exc:
        raise dg.Failure(description=f"{type(exc).__name__}: {exc}", allow_retries=False) from exc


def telemetry_delta(before: dict, after: dict) -> dict:
    """Return the client counters that grew between two telemetry snapshots (plain numbers only)."""
    delta = {}
    for name in ("requests", "retries", "http_429", "pages", "bytes"):
        if isinstance(after.get(name), int | float):
            delta[name] = after[name] - before.get(name, 0)
    for name in ("latency_p50_ms", "latency_p95_ms", "latency_p99_ms"):
        if name in after:
            delta[name] = after[name]
    return delta


def summary_metadata(summary: LandedSummary, api: dict | None = None) -> dict:
    """Return the metadata a materialization reports for one landed stream."""
    metadata: dict = {
        "rows_landed": summary.rows,
        "rows_quarantined": summary.quarantined,
        "records_seen": summary.records,
        "days": len(summary.rows_by_day),
    }
    if summary.reported_total is not None:
        metadata["api_reported_total"] = summary.reported_total
    if summary.unknown_field_records:
        # fields the models do not know are kept in the raw JSON; say which, so the models can follow
        metadata["records_with_unknown_fields"] = summary.unknown_field_records
        metadata["unknown_fields"] = ", ".join(sorted(summary.unknown_fields))
    if summary.outside_days:
        metadata["rows_outside_run_days"] = summary.outside_days
    if summary.api_window is not None:
        metadata["api_window"] = dg.MetadataValue.json(summary.api_window)
    for name, value in (api or {}).items():
        metadata[f"api_{name}"] = value
    return metadata


def landing_checks(summary: LandedSummary, asset_key: dg.AssetKey, threshold: float,
                   reconcile_total: bool = True) -> list[dg.AssetCheckResult]:
    """Return the per-run checks of a landed stream: the landed count reconciles with the API's total,
    no duplicate keys, and the quarantined share stays under ``threshold``."""
    results = []
    seen = summary.records
    if reconcile_total:
        total = summary.reported_total
        results.append(dg.AssetCheckResult(
            asset_key=asset_key, check_name="reconciles_with_api_total",
            passed=total is None or seen == total,
            metadata={"records_seen": seen, "api_reported_total": -1 if total is None else total},
        ))
    duplicates = summary.duplicate_keys
    results.append(dg.AssetCheckResult(
        asset_key=asset_key, check_name="no_duplicate_keys", passed=duplicates == 0,
        metadata={"duplicate_keys": duplicates},
    ))
    share = summary.quarantined / seen if seen else 0.0
    results.append(dg.AssetCheckResult(
        asset_key=asset_key, check_name="quarantine_under_threshold", passed=share <= threshold,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"quarantined": summary.quarantined, "share": round(share, 6), "threshold": threshold},
    ))
    return results


def landing_check_specs(asset_name: str, reconcile_total: bool = True) -> list[dg.AssetCheckSpec]:
    """The check specs matching :func:`landing_checks` for one asset."""
    names = (["reconciles_with_api_total"] if reconcile_total else []) + [
        "no_duplicate_keys", "quarantine_under_threshold"]
    return [dg.AssetCheckSpec(name=name, asset=asset_name) for name in names]


@contextmanager
def open_client(cofaserve) -> Iterator:
    """Yield the run's CofaServe client (the resource closes it after the run); authentication
    failures become failures that run retries will not repeat."""
    with api_failures_not_retried():
        yield cofaserve.get_client()


def extraction_asset(name: str, description: str, extract, deps: tuple[str, ...] = (), daily: bool = True):
    """Build the Dagster asset of one stream around its extract function: the API pool, transient-only
    retries, metadata and landing checks.

    ``daily``: partitioned by GMT day with single-run backfills; ``extract(client, store, days, run_id)``
    gets the run's days, checked against the API's window first. Otherwise the stream is landed as of
    today: ``extract(client, store, today, run_id)`` (the snapshot, the order re-polls).
    """
    from pipelines.partitions import daily_partitions

    partitioning = ({"partitions_def": daily_partitions, "backfill_policy": dg.BackfillPolicy.single_run()}
                    if daily else {})

    @dg.asset(
        name=name,
        description=description,
        pool=API_POOL,
        retry_policy=TRANSIENT_RETRY,
        group_name="extract",
        kinds={"python", "parquet"},
        owners=OWNERS,
        deps=list(deps),
        check_specs=landing_check_specs(name),
        required_resource_keys={"cofaserve", "landing"},
        **partitioning,
    )
    def _asset(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        scope = run_days(context) if daily else utc_today()
        landing = context.resources.landing
        with open_client(context.resources.cofaserve) as client:
            before = client.telemetry.snapshot()
            summary = extract(client, landing.store(), scope, context.run_id)
            api = telemetry_delta(before, client.telemetry.snapshot())
        context.log.info(f"{name}: landed {summary.rows} rows, quarantined {summary.quarantined}")
        return dg.MaterializeResult(
            metadata=summary_metadata(summary, api),
            check_results=landing_checks(summary, context.asset_key, landing.quarantine_threshold),
        )

    return _asset

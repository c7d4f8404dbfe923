"""What every extraction asset does around its stream's logic: which days a run covers (refused before
any API call when outside the window), the client to use, and failures that must not be retried."""


from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import dagster as dg
import httpx

from resources.cofaserve import (
    AuthError,
    LockoutGuardUnusableError,
    MalformedResponseError,
    PagingError,
    RetryExhaustedError,
    ServerError,
    UnexpectedShapeError,
)
from resources.landing import PartitionLocked

API_POOL = "cofaserve_api"
"""The Dagster concurrency pool every API-reading asset belongs to: it caps concurrent use of the API
across all runs, and so also keeps two runs from writing the same stream partition at once."""

TRANSIENT_RETRY = dg.RetryPolicy(max_retries=2, delay=30, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.FULL)
"""Run-level retries for transient failures. Authentication failures are raised as `dg.Failure` with
`allow_retries=False`, so a rejected login is never retried by Dagster either."""

OWNERS = ["team:data-engineering"]

REPLACE_TAG = "cofasync/replace"
"""A run tagged ``true`` replaces the days it lands even while they settle (`cofasync backfill`: a repair
re-extracts a day as the API shows it now); untagged runs extend a settling day's run."""


def run_days(context: dg.AssetExecutionContext) -> list[date]:
    """Return the GMT days this run covers, after refusing any outside the API's window.

    A single-run backfill covers a range of partitions; the range's first and last day are checked
    against the two-year window and the contract start before any API call.
    """
    with api_failures_not_retried():  # a day outside the window stays outside: never retried
        return context.resources.calendar.run_days(list(context.partition_keys))


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
    except dg.Failure:
        raise  # already says what went wrong, and whether a retry may help
    except LockoutGuardUnusableError as exc:  # no credential was tried: say so, not "refused"
        raise dg.Failure(description=str(exc), allow_retries=False) from exc
    except UnexpectedShapeError as exc:  # a MalformedResponseError that retries meet again: a setting
        raise dg.Failure(description=f"{type(exc).__name__}: {exc}", allow_retries=False) from exc
    except TRANSIENT_ERRORS:
        raise
    except AuthError as exc:
        raise dg.Failure(description=f"CofaServe refused the credentials: {exc}", allow_retries=False) from exc
    except Exception as exc:
        raise dg.Failure(description=f"{type(exc).__name__}: {exc}", allow_retries=False) from exc


def _ahead_of_the_api(api_today: date, what: str, why: str = "") -> dg.Failure:
    """The failure that retries will not repeat, saying the API's clock reads ``api_today``, ``what``
    follows from it (and ``why`` landing would be wrong), and what to check."""
    return dg.Failure(
        description=f"the API's clock (its Date header) reads {api_today}: {what}, so nothing was landed{why}. "
                    "This machine's today is ahead of the API's: check its clock or COFASYNC_TODAY, then run again.",
        allow_retries=False)


def refuse_days_the_api_has_not_finished(client, days: list[date]) -> date | None:
    """Raise a failure that retries will not repeat when a day of ``days`` has not ended on the API's clock
    (its ``Date``): landed now, such a day would be recorded empty and taken for done. Nothing is landed.
    Return the API's today (None when its answers carry no date)."""
    api_today = client.server_today()
    future = [day for day in days if api_today is not None and day >= api_today]
    if future:
        raise _ahead_of_the_api(api_today, f"{future[0]} to {future[-1]} {'has' if len(future) == 1 else 'have'} "
                                           "not ended there", " (they would have landed empty)")
    return api_today


def refuse_an_as_of_day_the_api_has_not_reached(client, day: date) -> None:
    """Raise a failure that retries will not repeat when the API's clock (its ``Date``) reads a day before
    ``day``: an extract dated ``day`` (a reconciliation snapshot) is timed at that day's 00:00Z, so it would
    claim to show what the API had not shown yet, and a decision made in between would later look deleted.
    Nothing is landed."""
    api_today = client.server_today()
    if api_today is not None and api_today < day:
        raise _ahead_of_the_api(api_today, f"an extract dated {day} would claim to show a day the API has not "
                                           "reached")


def telemetry_delta(before: dict, after: dict) -> dict:
    """Return the client counters that grew between two telemetry snapshots: plain numbers, and the
    requests per endpoint as ``requests_by_endpoint`` ({endpoint: requests})."""
    delta = {}
    for name in ("requests", "retries", "http_429", "pages", "bytes"):
        if isinstance(after.get(name), int | float):
            delta[name] = after[name] - before.get(name, 0)
    for name in ("latency_p50_ms", "latency_p95_ms", "latency_p99_ms"):
        if name in after:
            delta[name] = after[name]
    by_endpoint = {key.split(".", 1)[1]: after[key] - before.get(key, 0) for key in sorted(after)
                   if key.startswith("requests.") and after[key] - before.get(key, 0)}
    if by_endpoint:
        delta["requests_by_endpoint"] = by_endpoint
    return delta


@contextmanager
def open_client(cofaserve) -> Iterator:
    """Yield the run's CofaServe client (the resource closes it after the run); authentication
    failures become failures that run retries will not repeat."""
    with api_failures_not_retried():
        yield cofaserve.get_client()

"""Overdues: the cases created or updated in a range of GMT days, with their detail and document names."""


from datetime import date
from itertools import chain

import dagster as dg

from pipelines.partitions import daily_partitions
from resources.cofaserve import DateWindow
from resources.landing import LandingStore

from .extraction import LandedSummary, fetch_in_day_order, land_dated_records, text
from .runtime import (
    API_POOL,
    OWNERS,
    TRANSIENT_RETRY,
    landing_check_specs,
    landing_checks,
    open_client,
    run_days,
    summary_metadata,
    telemetry_delta,
)

STREAM = "overdues"
DOCUMENTS_STREAM = "overdue_documents"

STATUSES = ("PENDING", "PENDING_DEBTOR_VALIDATION", "IN_PROGRESS", "INDEMNIFIED", "REJECTED", "CLOSED")
"""Every overdue status: the list endpoint requires one, so a full sweep asks for each."""


def changed_overdues(client, days: list[date]):
    """List the cases updated in ``days`` (one query per status for the whole range).

    Returns ({overdueId: (easyNumber, day of lastUpdateDate)} in day order, the list records that broke
    their contract, the API's reported total, the API window sent).
    """
    window = DateWindow.covering(days[0], days[-1])
    found: dict[str, tuple[str, date]] = {}
    broken = []
    total = 0
    for status in STATUSES:
        listing = client.iter_overdues(status, window=window)
        for record in listing:
            if record.error:
                broken.append(record)
                # a damaged list item that still names its case is fetched anyway (the detail is
                # separate), under the run's last day since its own date cannot be trusted
                raw = record.raw if isinstance(record.raw, dict) else {}
                if text(raw.get("overdueId")) and text(raw.get("easyNumber")):
                    found.setdefault(raw["overdueId"], (raw["easyNumber"], days[-1]))
                continue
            item = record.raw
            found[str(item["overdueId"])] = (item["easyNumber"], date.fromisoformat(item["lastUpdateDate"][:10]))
        total += listing.reported_total or 0
    return dict(sorted(found.items(), key=lambda kv: kv[1][1])), broken, total, window.to_params()


def extract_overdues(client, store: LandingStore, days: list[date], run_id: str
                     ) -> tuple[LandedSummary, LandedSummary]:
    """Land the detail of each case updated in ``days`` and the names of its documents, each in the
    partition of the case's last update day."""
    wanted, broken, total, window = changed_overdues(client, days)
    # a list item that breaks its contract cannot be fetched by id: it is quarantined with the run
    pairs = chain(((days[0], record, None) for record in broken),
                  fetch_in_day_order(client, client.get_overdue, wanted, what="overdue"))
    details = land_dated_records(store, STREAM, days, run_id, pairs)
    details.reported_total = total
    details.api_window = window
    documents = land_dated_records(
        store, DOCUMENTS_STREAM, days, run_id,
        fetch_in_day_order(client, client.get_overdue_documents, wanted, what="overdue documents",
                           extra_of=lambda key, record: {"overdueId": key, "easyNumber": wanted[key][0],
                                                         "documents": [record.raw]}))
    # the API gives no total across cases; the client checks each case's list against its own count
    documents.reported_total = None
    return details, documents


@dg.multi_asset(
    name="overdues_extract",
    specs=[
        dg.AssetSpec(STREAM, description="One row per overdue case version updated on the partition's GMT "
                     "day: status, amounts, invoices, payments and indemnification.",
                     group_name="extract", kinds={"python", "parquet"}, owners=OWNERS),
        dg.AssetSpec(DOCUMENTS_STREAM, description="One row per document name of an overdue case updated on "
                     "the partition's GMT day.", group_name="extract", kinds={"python", "parquet"},
                     owners=OWNERS),
    ],
    check_specs=landing_check_specs(STREAM) + landing_check_specs(DOCUMENTS_STREAM),
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool=API_POOL,
    retry_policy=TRANSIENT_RETRY,
    required_resource_keys={"cofaserve", "landing"},
)
def overdues_asset(context: dg.AssetExecutionContext):
    """Land the overdue cases updated in the run's days, with their detail and document names."""
    days = run_days(context)
    landing = context.resources.landing
    with open_client(context.resources.cofaserve) as client:
        before = client.telemetry.snapshot()
        details, documents = extract_overdues(client, landing.store(), days, context.run_id)
        api = telemetry_delta(before, client.telemetry.snapshot())
    for summary in (details, documents):
        key = dg.AssetKey(summary.stream)
        yield dg.MaterializeResult(
            asset_key=key,
            metadata=summary_metadata(summary, api if summary is details else None),
            check_results=landing_checks(summary, key, landing.quarantine_threshold),
        )

"""Reference data: countries, identifier types, customer references and policies, as listed now."""


import dagster as dg

from resources.landing import LandingStore

from .extraction import LandedSummary, land_records
from .runtime import (
    API_POOL,
    OWNERS,
    TRANSIENT_RETRY,
    landing_check_specs,
    landing_checks,
    open_client,
    summary_metadata,
)

REFERENCE_STREAMS = {
    "countries": "iter_countries",
    "country_identifiers": "iter_country_identifiers",
    "customer_references": "iter_customer_references",
    "policies": "iter_policies",
}


def extract_reference(client, store: LandingStore, stream: str, run_id: str) -> LandedSummary:
    """Replace the current copy of one reference list with what the API lists now."""
    records = getattr(client, REFERENCE_STREAMS[stream])()
    summary = land_records(store, stream, [None], run_id, None, records, day_of=lambda row: None)
    summary.reported_total = getattr(records, "reported_total", None)
    return summary


def extract_all_reference(client, store: LandingStore, run_id: str) -> dict[str, LandedSummary]:
    """Refresh every reference list; returns what each landed."""
    return {stream: extract_reference(client, store, stream, run_id) for stream in REFERENCE_STREAMS}



@dg.multi_asset(
    name="reference_extract",
    specs=[
        dg.AssetSpec(stream, description=f"The current list of {stream.replace('_', ' ')} (one row per item), "
                     "replaced by each nightly refresh.", group_name="extract", kinds={"python", "parquet"},
                     owners=OWNERS)
        for stream in REFERENCE_STREAMS
    ],
    check_specs=[spec for stream in REFERENCE_STREAMS for spec in landing_check_specs(stream)],
    pool=API_POOL,
    retry_policy=TRANSIENT_RETRY,
    required_resource_keys={"cofaserve", "landing"},
)
def reference_asset(context: dg.AssetExecutionContext):
    """Refresh every reference list (unpartitioned: the current copy replaces the previous one)."""
    landing = context.resources.landing
    with open_client(context.resources.cofaserve) as client:
        summaries = extract_all_reference(client, landing.store(), context.run_id)
    for stream, summary in summaries.items():
        key = dg.AssetKey(stream)
        yield dg.MaterializeResult(
            asset_key=key, metadata=summary_metadata(summary),
            check_results=landing_checks(summary, key, landing.quarantine_threshold),
        )

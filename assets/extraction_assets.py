"""The extraction assets, one per asset the stream declarations name (``resources.streams.assets``).

Each wraps its plain extraction (:mod:`assets.extractors`) with the Dagster side: daily partitions with
single-run backfills for DAILY streams (the run's days are refused before any call when outside the API's
window), the API pool, transient-only retries, per-partition and per-run metadata, and the landing checks.
An asset that lands several streams (overdues and their documents) is one multi-asset.
"""


import dagster as dg

from resources.streams import Partitioning, Stream, assets

from .extractors import extractor
from .landing_checks import landing_check_specs, landing_checks, partition_metadata, run_metadata
from .partition_metadata import add_partitions_metadata
from .policy_runs import combined, policies_metadata, run_policies
from .progress_log import plan_metadata, progress_to_run_log
from .runtime import (
    API_POOL,
    OWNERS,
    REPLACE_TAG,
    TRANSIENT_RETRY,
    open_client,
    refuse_an_as_of_day_the_api_has_not_reached,
    refuse_days_the_api_has_not_finished,
    run_days,
    telemetry_delta,
)


def column_schema(stream: Stream) -> dg.TableSchema:
    """The landed columns of ``stream`` as Dagster's column schema (``dagster/column_schema``)."""
    return dg.TableSchema(columns=[dg.TableColumn(f.name, str(f.type), constraints=dg.TableColumnConstraints(
        nullable=f.nullable)) for f in stream.schema])


def _spec(stream: Stream) -> dg.AssetSpec:
    return dg.AssetSpec(
        stream.name, description=stream.description, group_name="extract", kinds={"python", "parquet"},
        owners=OWNERS, deps=list(stream.depends_on),
        metadata={"dagster/column_schema": column_schema(stream), "partition": stream.day},
    )


def _materialization(context, stream: Stream, summary, api: dict | None, daily: bool) -> dg.MaterializeResult:
    """What one landed stream of the run records: its partitions' figures (a daily stream's, each day's),
    the run's figures (``api``: the run's API figures, on one stream of the run), its landing checks."""
    context.log.info(f"{stream.name}: landed {summary.rows} rows, quarantined {summary.quarantined}")
    key = dg.AssetKey(stream.name)
    if daily:
        add_partitions_metadata(context, key, {day.isoformat(): partition_metadata(summary, day)
                                               for day in summary.rows_by_day})
        metadata = run_metadata(summary, api)
    else:
        metadata = {**partition_metadata(summary, next(iter(summary.rows_by_day))), **run_metadata(summary, api)}
    return dg.MaterializeResult(asset_key=key, metadata=metadata, check_results=landing_checks(
        stream, summary, context.resources.landing.quarantine_threshold))


def extraction_asset(name: str, streams: tuple[Stream, ...],
                     partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    """The Dagster asset ``name`` landing ``streams``; a daily one is partitioned by ``partitions``. An
    asset of several streams can be subset: materializing one of them lands it alone (its by-id fetches
    then read the lists as they landed earlier)."""
    daily = streams[0].partitioning is Partitioning.DAILY
    partitioning = ({"partitions_def": partitions, "backfill_policy": dg.BackfillPolicy.single_run()}
                    if daily else {})
    extract = extractor(name)

    @dg.multi_asset(
        name=name,
        specs=[_spec(s) for s in streams],
        check_specs=[spec for s in streams for spec in landing_check_specs(s)],
        pool=API_POOL,
        retry_policy=TRANSIENT_RETRY,
        required_resource_keys={"cofaserve", "landing", "calendar"},
        can_subset=len(streams) > 1,
        **partitioning,
    )
    def _asset(context: dg.AssetExecutionContext):
        scope = run_days(context) if daily else context.resources.calendar.today()
        landing = context.resources.landing
        chosen = {key.path[-1] for key in context.selected_asset_keys}
        landed = [s for s in streams if s.name in chosen]
        selected = None if len(landed) == len(streams) else frozenset(chosen)
        by_name = {s.name: s for s in landed}
        with open_client(context.resources.cofaserve) as client, progress_to_run_log(context) as progress:
            before = client.telemetry.snapshot()
            listed_on = replace = None
            if daily:
                listed_on = refuse_days_the_api_has_not_finished(client, scope) or context.resources.calendar.today()
                replace = context.run.tags.get(REPLACE_TAG) == "true"
            elif streams[0].partitioning is Partitioning.AS_OF:
                refuse_an_as_of_day_the_api_has_not_reached(client, scope)
            policies = run_policies(context, client, landing)  # after the refusals: a refused run lists nothing
            landed_so_far: dict[str, list] = {}
            for index, policy in enumerate(policies.landed):
                store = landing.store(listed_on=listed_on, replace=bool(replace), policy=policy)
                last_policy = index == len(policies.landed) - 1
                left = len(landed)
                # each stream is recorded as soon as it has landed for the last policy, while the others are
                # still fetched; the run's API figures go with the last one, once every call is made
                for summary in extract(client.for_policy(policy), store, scope, context.run.run_id, selected):
                    landed_so_far.setdefault(summary.stream, []).append(summary)
                    left -= 1
                    if not last_policy:
                        continue
                    api = None if left else {**telemetry_delta(before, client.telemetry.snapshot()),
                                             **plan_metadata(progress.plan), **policies_metadata(policies)}
                    yield _materialization(context, by_name[summary.stream], combined(landed_so_far[summary.stream]),
                                           api, daily)

    return _asset


def extraction_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    """Every extraction asset, in declaration order; the daily ones partitioned by ``partitions``."""
    return [extraction_asset(name, streams, partitions) for name, streams in assets().items()]

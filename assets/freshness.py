"""Freshness: Dagster flags an asset when last night's data is not there by morning.

The nightly sync starts at 02:00 UTC (`pipelines.schedules.NIGHTLY_CRON`). By `FRESH_BY` (06:00 UTC) every
daily extraction asset and every warehouse table and mart must have been materialized within the
`FRESH_WITHIN` before it, or Dagster shows it as not fresh (its asset health, and alerts where
configured). These are Dagster 1.13's `FreshnessPolicy` objects (which superseded freshness checks), in
preview: the bundled instance settings enable them (`freshness: enabled: true` in dagster_home.yaml).
They judge the asset's latest materialization, whatever its partition: a backfill of an old day also
counts, so `cofasync status` and `marts.sync_status` remain the per-day view.
"""

from __future__ import annotations

from datetime import timedelta

import dagster as dg

FRESH_BY = "0 6 * * *"
FRESH_WITHIN = timedelta(hours=24)
POLICY = dg.FreshnessPolicy.cron(deadline_cron=FRESH_BY, lower_bound_delta=FRESH_WITHIN, timezone="UTC")


def _nightly(asset: dg.AssetsDefinition) -> bool:
    """Materialized every night: the daily-partitioned extraction assets and the warehouse models."""
    return (isinstance(asset.partitions_def, dg.TimeWindowPartitionsDefinition)
            or asset.node_def.name == "warehouse_models")


def with_freshness(assets: list) -> list:
    """`assets` with `POLICY` on every asset materialized each night (others unchanged)."""
    return [dg.map_asset_specs(lambda spec: spec.replace_attributes(freshness_policy=POLICY), [asset])[0]
            if isinstance(asset, dg.AssetsDefinition) and _nightly(asset) else asset
            for asset in assets]

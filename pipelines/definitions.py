"""The one Definitions object: it only assembles assets, resources, jobs, schedules and sensors.

The settings are read here, once, at wiring (``resources/settings.py``), into typed resources; the
Definitions are a function of those settings and of the API client's resource, so a test or a harness can
build them with any of its own.
"""

from __future__ import annotations

import dagster as dg

from assets.extraction_assets import extraction_assets
from assets.freshness import with_freshness
from assets.partitions import daily_partitions
from assets.warehouse import warehouse_assets
from pipelines.jobs import (
    gc_job,
    models_job,
    nightly_job,
    order_polls_job,
    push_job,
    replay_job,
    snapshot_job,
)
from pipelines.schedules import daily_landing_gc, hourly_push_replay, nightly_sync, weekly_reconciliation
from pipelines.sensors import (
    models_after_extract,
    pending_orders_sensor,
    push_inbox_sensor,
    run_failure_alert,
)
from resources.calendar import first_partition
from resources.cofaserve import CofaServeResource
from resources.io_resources import AlertsResource, CalendarResource, LandingResource, WarehouseResource
from resources.settings import PipelineSettings, load_settings


def build_resources(settings: PipelineSettings, cofaserve: dg.ConfigurableResource | None = None) -> dict:
    """The resources of the project for ``settings`` (the API client's from its ``COFASERVE_*`` settings,
    passed as ``EnvVar`` so that no secret is ever a value of the Definitions, unless given)."""
    return {
        "cofaserve": cofaserve if cofaserve is not None else CofaServeResource.from_env(),
        "landing": LandingResource.from_settings(settings),
        "warehouse": WarehouseResource.from_settings(settings),
        "calendar": CalendarResource(
            pinned_today=settings.pinned_today.isoformat() if settings.pinned_today else None,
            contract_start=settings.contract_start.isoformat() if settings.contract_start else None,
        ),
        "alerts": AlertsResource(failure_webhook_url=settings.failure_webhook_url),
    }


def build_definitions(settings: PipelineSettings | None = None,
                      cofaserve: dg.ConfigurableResource | None = None) -> dg.Definitions:
    """Assemble the project's Definitions from ``settings`` (default: read from the environment now)."""
    settings = load_settings() if settings is None else settings
    start = first_partition(settings.today(), settings.contract_start)
    assets = with_freshness([*extraction_assets(daily_partitions(start, settings.pinned_today)),
                             *warehouse_assets()])
    return dg.Definitions(
        assets=assets,
        jobs=[nightly_job, models_job, snapshot_job, order_polls_job, push_job, gc_job, replay_job],
        schedules=[nightly_sync, weekly_reconciliation, daily_landing_gc, hourly_push_replay],
        sensors=[models_after_extract, pending_orders_sensor, push_inbox_sensor, run_failure_alert],
        resources=build_resources(settings, cofaserve),
    )


defs = build_definitions()

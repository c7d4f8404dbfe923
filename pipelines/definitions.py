"""The one Definitions object: it only assembles assets, resources, jobs, schedules and sensors."""

from __future__ import annotations

import dagster as dg

from assets.extraction_assets import extraction_assets
from assets.warehouse import warehouse_assets
from pipelines.jobs import models_job, nightly_job, order_polls_job, snapshot_job
from pipelines.schedules import nightly_sync, weekly_reconciliation
from pipelines.sensors import models_after_extract, pending_orders_sensor, run_failure_alert
from resources.cofaserve import CofaServeResource
from resources.io_resources import LandingResource, WarehouseResource
from resources.settings import load_settings


def build_definitions() -> dg.Definitions:
    """Assemble the project's Definitions from the current settings."""
    settings = load_settings()
    return dg.Definitions(
        assets=[*extraction_assets(), *warehouse_assets()],
        jobs=[nightly_job, models_job, snapshot_job, order_polls_job],
        schedules=[nightly_sync, weekly_reconciliation],
        sensors=[models_after_extract, pending_orders_sensor, run_failure_alert],
        resources={
            "cofaserve": CofaServeResource.from_env(),
            "landing": LandingResource(root=settings.landing_root,
                                       quarantine_threshold=settings.quarantine_threshold),
            "warehouse": WarehouseResource(url=settings.warehouse_url),
        },
    )


defs = build_definitions()

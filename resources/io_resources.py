"""Thin Dagster resources over the landing store and the warehouse, so each can be swapped by config."""

from __future__ import annotations

import dagster as dg

from resources.landing import LandingStore


class LandingResource(dg.ConfigurableResource):
    """The Parquet landing zone: a local folder or any fsspec URL (`LANDING_ROOT`)."""

    root: str
    quarantine_threshold: float = 0.01

    def store(self) -> LandingStore:
        """Return the landing store at `root`."""
        return LandingStore(self.root)


class WarehouseResource(dg.ConfigurableResource):
    """The warehouse: DuckDB (`duckdb:///path`) or Postgres (`postgresql://…`) by `WAREHOUSE_URL`."""

    url: str

    def warehouse(self):
        """Return a Warehouse bound to `url`."""
        from resources.warehouse import Warehouse

        return Warehouse(self.url)

"""The pipeline's Dagster resources besides the API client: the landing store, the warehouse, the calendar
and the failure alerts. Each is configured once, at wiring (``pipelines/definitions.py``, from the
settings), and handed to assets, schedules and sensors; none of them reads the environment."""

from __future__ import annotations

import time
from datetime import date, datetime
from pathlib import Path

import dagster as dg
import httpx

from resources.calendar import check_in_window, first_partition, parse_partition_key, utc_today
from resources.landing import LandingStore
from resources.landing.policies import parse_policy_list, upgrade_single_policy_zone
from resources.landing.settling import Relisting
from resources.settings import DUCKDB_STORAGE_VERSION, pinned_clock


class LandingResource(dg.ConfigurableResource):
    """The Parquet landing zone: a local folder or any fsspec URL (`LANDING_ROOT`); what it lands is dated
    by the wall clock, or by the clock `COFASYNC_NOW` pins (``clock_start`` at the wall-clock second
    ``clock_origin``, ticking from there); a long by-id extraction commits the days it has finished
    every ``checkpoint_seconds`` (`COFASYNC_CHECKPOINT_SECONDS`); a day is listed again on the
    ``settle_days`` nights after its first (`COFASYNC_SETTLE_DAYS`, ``resources.landing.settling``).

    Each policy lands in its own zone under ``root`` (``resources.landing.policies``); ``policy_number``
    (`COFASERVE_POLICY_NUMBER`) is the zone a store is for unless told, and the policy a zone landed
    before policies were kept apart belongs to; ``policies`` (`COFASERVE_POLICIES`, comma-separated)
    restricts the policies synced."""

    root: str
    policy_number: str | None = None
    policies: str = ""
    quarantine_threshold: float = 0.01
    checkpoint_seconds: float = 120.0
    settle_days: int = 3
    clock_start: str | None = None
    clock_origin: float | None = None

    @classmethod
    def from_settings(cls, settings) -> LandingResource:
        """The landing resource of the pipeline's settings."""
        return cls(root=settings.landing_root, policy_number=settings.policy_number,
                   policies=",".join(settings.policies), quarantine_threshold=settings.quarantine_threshold,
                   checkpoint_seconds=settings.checkpoint_seconds, settle_days=settings.settle_days,
                   clock_start=settings.pinned_now.isoformat() if settings.pinned_now else None,
                   clock_origin=settings.clock_origin if settings.pinned_now else None)

    def store(self, listed_on: date | None = None, replace: bool = False, policy: str | None = None) -> LandingStore:
        """Return the landing store of ``policy``'s zone (default: ``policy_number``'s; with neither, the
        account's root, which only account-wide readers use), on the resource's clock; a run that lists the
        API passes ``listed_on`` (the API's today) and whether it ``replace``s the settling days it lands on.
        A zone landed before policies were kept apart is upgraded first (``upgrade_single_policy_zone``)."""
        upgrade_single_policy_zone(self.root, self.policy_number)
        clock = None
        if self.clock_start:
            clock = pinned_clock(datetime.fromisoformat(self.clock_start), self.clock_origin or time.time())
        return LandingStore(self.root, clock=clock, checkpoint_seconds=self.checkpoint_seconds,
                            relisting=Relisting(listed_on, self.settle_days, replace), policy=policy or self.policy_number)

    def has_push_inbox(self) -> bool:
        """Whether `cofasync receive` or `cofasync subscribe` made the account's push inbox here."""
        from resources.push.inbox import INBOX_FILE

        return "://" not in self.root and (Path(self.root) / INBOX_FILE).exists()

    def stores(self) -> list[LandingStore]:
        """The store of every policy's zone under ``root`` (and of ``policy_number``'s, landed or not), in
        policy order: what status, verification and garbage collection go through."""
        first = self.store()
        known = sorted({*first.policies(), *([self.policy_number] if self.policy_number else [])})
        return [first.for_policy(p) for p in known]

    def synced_stores(self) -> list[LandingStore]:
        """The stores of the policies a sync keeps up to date, in policy order: those `COFASERVE_POLICIES`
        names, else every landed zone and ``policy_number``'s, less the zones of policies the account's
        latest landed policy list no longer holds (their history stays; runs report them)."""
        every = self.stores()
        if self.restriction():
            first = every[0] if every else self.store()
            return [first.for_policy(p) for p in sorted(self.restriction())]
        listed = latest_policy_list(every)
        return [s for s in every if listed is None or s.policy in listed or s.policy == self.policy_number]

    def restriction(self) -> tuple[str, ...]:
        """The policies `COFASERVE_POLICIES` restricts the sync to (empty: every one the account lists)."""
        return parse_policy_list(self.policies)


def latest_policy_list(stores: list[LandingStore]) -> set[str] | None:
    """The policy numbers of the account's policy list landed last by any of ``stores`` (None when none
    has landed one)."""
    landed = [(m.get("written_at") or "", store) for store in stores for m in store.manifests("policies")]
    if not landed:
        return None
    store = max(landed, key=lambda pair: pair[0])[1]
    return set(store.read_table("policies", columns=["policy_number"]).column("policy_number").to_pylist())


class WarehouseResource(dg.ConfigurableResource):
    """The warehouse: DuckDB (`duckdb:///path`) or Postgres (`postgresql://…`) by `WAREHOUSE_URL`."""

    url: str
    storage_version: str = DUCKDB_STORAGE_VERSION
    """The storage format of a DuckDB warehouse file (`COFASYNC_DUCKDB_STORAGE_VERSION`)."""
    fx_rates_path: str | None = None
    """The ECB reference-rates CSV amounts are converted with (`COFASYNC_FX_RATES`), or None."""

    @classmethod
    def from_settings(cls, settings) -> WarehouseResource:
        """The warehouse resource of the pipeline's settings."""
        return cls(url=settings.warehouse_url, storage_version=settings.duckdb_storage_version,
                   fx_rates_path=settings.fx_rates_path)

    def warehouse(self):
        """Return a Warehouse bound to `url`, written in `storage_version`, converting with `fx_rates_path`."""
        from resources.warehouse import Warehouse

        return Warehouse(self.url, storage_version=self.storage_version, fx_rates_path=self.fx_rates_path)


class CalendarResource(dg.ConfigurableResource):
    """Which GMT day it is and which days the API can serve: today (pinned for a sandbox's virtual clock,
    `COFASYNC_TODAY`, else the wall clock's) and the contract start (`COFASERVE_CONTRACT_START`)."""

    pinned_today: str | None = None
    contract_start: str | None = None

    def today(self) -> date:
        """Today's GMT day."""
        return parse_partition_key(self.pinned_today) if self.pinned_today else utc_today()

    def start(self) -> date | None:
        """The contract start, or None when it is not set."""
        return parse_partition_key(self.contract_start) if self.contract_start else None

    def first_partition(self) -> date:
        """The first day the API can serve today: the contract start, never before the two-year window."""
        return first_partition(self.today(), self.start())

    def run_days(self, partition_keys: list[str]) -> list[date]:
        """The days of a run's partition keys, once its first and last are inside the API's window
        (:class:`resources.calendar.PartitionOutsideWindow` otherwise, before any call)."""
        today, start = self.today(), self.start()
        for key in (partition_keys[0], partition_keys[-1]):
            check_in_window(key, today, start)
        return [parse_partition_key(key) for key in partition_keys]


class AlertsResource(dg.ConfigurableResource):
    """Where failed runs are reported: a webhook receiving a JSON alert (`COFASYNC_FAILURE_WEBHOOK_URL`),
    or nowhere but the logs when it is not set."""

    failure_webhook_url: str | None = None

    def post_failure(self, payload: dict) -> int | None:
        """POST a run-failure alert to the webhook (bounded by a timeout); the HTTP status, or None when
        no webhook is set."""
        if not self.failure_webhook_url:
            return None
        return httpx.post(self.failure_webhook_url, json=payload, timeout=10.0).status_code

    def alert_failed_run(self, job: str, run_id: str, message: str) -> int | None:
        """Alert one failed run, whoever launched it: ``{"job", "run_id", "message"}`` (the message never
        carries secrets: the client redacts them). The webhook's HTTP status, or None without a webhook."""
        return self.post_failure({"job": job, "run_id": run_id, "message": message})

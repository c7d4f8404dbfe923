"""Dagster's local SQLite event log, storing a batch of asset materializations in one transaction.

A two-year backfill materializes 4,380 partitions (730 days × 6 daily streams). Dagster's
``SqliteEventLogStorage`` stores each event on its own: a new engine and connection to the run's shard,
then another to the index shard and a commit, per event (its ``store_event_batch`` is the base class's
loop over ``store_event``): about 8 ms per materialization on this machine, half a minute per backfill.
This subclass stores each run of consecutive asset materializations of one run in one transaction per
shard: the same rows and tags, in the same order, as ``store_event`` writes them, and each asset's
record (its latest materialization) written once per batch with the batch's last event, which is what
``store_event``'s overwrite per event leaves. Every other event is stored by ``store_event`` itself.

Before its first step, such a run also plans each of its asset checks for each of its 730 days: Dagster
writes one row per partition, serializing the same event again for every row (50 checks × 730 rows,
seconds before the first API call). Here the event is serialized once per check; the rows are the same.

Configured in the project's Dagster home (``pipelines/dagster_home.yaml``)::

    event_log_storage:
      module: pipelines.event_storage
      class: BatchedSqliteEventLogStorage
      config:
        dagster_home: {env: DAGSTER_HOME}

The files are where Dagster's default local storage keeps them (``$DAGSTER_HOME/history/runs``), so a
home created before keeps its history. Production deployments use Postgres (docs/operations.md).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from dagster import DagsterEventType, Field, StringSource
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus
from dagster._core.storage.event_log.schema import AssetCheckExecutionsTable, SqlEventLogStorageTable
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._serdes import serialize_value


def _batchable(event) -> bool:
    return (event.is_dagster_event and event.dagster_event_type == DagsterEventType.ASSET_MATERIALIZATION
            and event.dagster_event.asset_key is not None)


class BatchedSqliteEventLogStorage(SqliteEventLogStorage):
    """``SqliteEventLogStorage`` whose ``store_event_batch`` stores consecutive asset materializations of
    one run together (see the module docstring)."""

    @classmethod
    def config_type(cls):
        """The storage's config: the Dagster home whose ``history/runs`` holds the event shards."""
        return {"dagster_home": Field(StringSource)}

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> BatchedSqliteEventLogStorage:
        """The storage of ``config_value`` (``{"dagster_home": path}``)."""
        return cls(os.path.join(config_value["dagster_home"], "history", "runs"), inst_data=inst_data)

    def store_event_batch(self, events: Sequence) -> None:
        """Store ``events`` in order; runs of consecutive asset materializations of one run at once."""
        start = 0
        while start < len(events):
            end = start
            while (end < len(events) and _batchable(events[end])
                   and events[end].run_id == events[start].run_id):
                end += 1
            if end - start > 1:
                self._store_materializations(events[start:end])
                start = end
            else:
                self.store_event(events[start])
                start += 1

    def _store_materializations(self, events: Sequence) -> None:
        # each event serialized once, each shard's rows inserted as one executemany (one compiled
        # statement) rather than one statement built and compiled per event
        rows = [self._event_to_row(event) for event in events]
        with self.run_connection(events[0].run_id) as conn:
            conn.execute(SqlEventLogStorageTable.insert(), rows)
        with self.index_transaction() as conn:
            inserted = conn.execute(SqlEventLogStorageTable.insert().returning(
                SqlEventLogStorageTable.c.id, sort_by_parameter_order=True), rows)
            event_ids = [row[0] for row in inserted]
            self._store_asset_event_tags(conn, list(events), event_ids)
            # each event of an asset overwrites its asset-key row: the last one is what remains
            last = {event.dagster_event.asset_key: (event, event_id) for event, event_id in zip(events, event_ids, strict=True)}
            for event, event_id in last.values():
                self._store_asset_event(conn, event, event_id)

    def _store_asset_check_evaluation_planned(self, event, event_id) -> None:
        """The rows of Dagster's own method (one per partition the check is planned for), the event
        serialized once instead of once per row."""
        planned = event.dagster_event.event_specific_data
        partition_keys = planned.partitions_subset.get_partition_keys() if planned.partitions_subset else [None]
        serialized = serialize_value(event)
        timestamp = self._event_insert_timestamp(event)
        with self.index_connection() as conn:
            conn.execute(AssetCheckExecutionsTable.insert(), [  # executemany: one compiled statement
                dict(asset_key=planned.asset_key.to_string(), check_name=planned.check_name, partition=key,
                     run_id=event.run_id, execution_status=AssetCheckExecutionRecordStatus.PLANNED.value,
                     evaluation_event=serialized, evaluation_event_timestamp=timestamp,
                     evaluation_event_storage_id=event_id)
                for key in partition_keys
            ])

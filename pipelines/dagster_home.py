"""Opening the Dagster home safely when several `cofasync` commands start at once.

On a fresh home, Dagster creates its SQLite databases (runs, the event index, schedules) and stamps their
schema version the first time an instance is opened. Two processes doing that at the same moment each
stamp it: the version table then has two heads and every later command fails in alembic, for good
(cron plus a manual run on a new machine is enough). Here the first opening happens under an exclusive
lock on ``$DAGSTER_HOME/.cofasync-init.lock``, so one process creates the databases and the others find
them made.

A home already broken by such a race is repaired. The loser of the race found the tables the winner had
just created but no version yet, took the database for one made by an old Dagster and stamped Dagster's
"last known" SQLite revision beside the winner's head: both processes created the tables of this Dagster
version, so keeping the head row alone is exact. Any other mix of versions is refused with what to do.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path

from pipelines.progress import fail

LOCK_FILE = ".cofasync-init.lock"
SYNC_LOCK_FILE = ".cofasync-sync.lock"
DATABASES = ("history/runs.db", "history/runs/index.db", "schedules/schedules.db")
"""Dagster's local SQLite databases whose schema version is stamped when an instance first opens."""


class BrokenDagsterHome(RuntimeError):
    """The Dagster home's databases are damaged in a way that cannot be repaired safely."""


@contextmanager
def home_lock(home: Path):
    """Hold the home's initialisation lock (exclusive, across processes) for the block."""
    home.mkdir(parents=True, exist_ok=True)
    with open(home / LOCK_FILE, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def dagster_schema_head() -> str:
    """The schema revision the installed Dagster creates its SQLite databases at."""
    from alembic.script import ScriptDirectory
    from dagster._core.storage.runs.sqlite import sqlite_run_storage
    from dagster._core.storage.sql import get_alembic_config

    return ScriptDirectory.from_config(get_alembic_config(sqlite_run_storage.__file__)).get_current_head()


@contextmanager
def one_sync_at_a_time(home: Path, what: str):
    """Hold the home's sync lock for the block: a second `cofasync sync` or `backfill` on the same home
    waits for the first (saying so), then plans from what the first landed, instead of fetching the same
    days again beside it."""
    home.mkdir(parents=True, exist_ok=True)
    with open(home / SYNC_LOCK_FILE, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another cofasync"
            print(f"waiting for {holder} on this Dagster home to finish before the {what} starts", flush=True)
            fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        handle.truncate()
        handle.write(f"cofasync {what} (pid {os.getpid()})")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)


def repair_version_tables(home: Path) -> list[str]:
    """Leave only the head row in each of the home's alembic version tables that a race of two first
    openings left with several (see the module doc); return the databases repaired. Raise
    :class:`BrokenDagsterHome` when a table holds several versions without the head (no safe choice)."""
    repaired = []
    for name in DATABASES:
        path = home / name
        if not path.exists():
            continue
        with sqlite3.connect(path) as conn:
            try:
                versions = {row[0] for row in conn.execute("select version_num from alembic_version")}
            except sqlite3.DatabaseError:
                continue  # no version table yet: Dagster creates it
            if len(versions) <= 1:
                continue
            head = dagster_schema_head()
            if head not in versions:
                raise BrokenDagsterHome(
                    f"{path} records several schema versions ({', '.join(sorted(versions))}). Move the "
                    f"Dagster home {home} aside (run history is lost, the landing zone and warehouse are not) "
                    "and run the command again: a new home is created.")
            conn.execute("delete from alembic_version where version_num <> ?", (head,))
        repaired.append(name)
    return repaired


def open_instance(home: Path):
    """The Dagster instance of ``home``, its databases created (or repaired, see the module doc) by one
    process at a time."""
    from dagster import DagsterInstance

    with home_lock(home):
        try:
            repaired = repair_version_tables(home)
        except BrokenDagsterHome as exc:
            raise SystemExit(fail(str(exc))) from None
        for name in repaired:
            print(f"repaired {home / name}: two commands had created it at once (one schema version kept)")
        return DagsterInstance.get()  # DAGSTER_HOME is ``home``

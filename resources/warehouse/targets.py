"""Where a build writes and how it is published so that readers never see half of it.

DuckDB (`duckdb:///path/to/warehouse.duckdb`): DuckDB locks its file, so a writer cannot open a file
that another process holds open, even read-only. A build therefore works on `<path>.building` (a copy
of the published file, or an empty file for a full rebuild), checkpoints and closes it, then
`os.replace`s it onto the published path. Readers that had the old file open keep its inode and its
complete previous state; readers that open the path afterwards see the new state. A `<path>.lock`
file serialises builders.

The file is written in a chosen storage format (`COFASYNC_DUCKDB_STORAGE_VERSION`, default
`DUCKDB_STORAGE_VERSION`): a file the BI tools' older DuckDB can open. A published file in another format
(an earlier release's, or the setting changed) is rebuilt from the landing zone instead of copied.

Postgres (`postgresql+psycopg://...`): the whole build is one transaction issuing only DML on published
tables (DDL only when a model definition changed), so readers are never blocked and see the previous
state until the commit, then the new one.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from resources.landing import make_durable
from resources.settings import DUCKDB_STORAGE_VERSION

from .dialects import dialect_of, make_engine
from .schema import get_meta, set_meta

_STORAGE_VERSION = "storage_version"


class WarehouseNotBuilt(RuntimeError):
    """The warehouse has no published state yet: run a build first."""


class WarehouseUnreachable(RuntimeError):
    """The warehouse cannot be written: its folder (DuckDB) or its server (Postgres) is not usable."""


class DuckDBFileTarget:
    """A DuckDB warehouse file, built beside itself and swapped in atomically."""

    dialect = "duckdb"
    commit_steps = True

    def __init__(self, path: Path, storage_version: str = DUCKDB_STORAGE_VERSION) -> None:
        self.path = Path(path)
        self.storage_version = storage_version
        self.building_path = self.path.with_name(self.path.name + ".building")
        self.lock_path = self.path.with_name(self.path.name + ".lock")

    def exists(self) -> bool:
        """True once a build has published the file."""
        return self.path.exists()

    def check_reachable(self) -> None:
        """Raise :class:`WarehouseUnreachable` unless a build could write beside the file."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=self.path.parent):
                pass
        except OSError as exc:
            raise WarehouseUnreachable(f"cannot write in {self.path.parent} ({exc.strerror or exc})") from exc

    def published_storage_version(self) -> str | None:
        """The storage version the published file was built in (None: no file, or a file built before
        the version was recorded)."""
        if not self.path.exists():
            return None
        with self.read_connection() as conn:
            try:
                return get_meta(conn, _STORAGE_VERSION)
            except sa.exc.DBAPIError:  # no _wh_meta: not a file a build published
                return None

    def needs_fresh_build(self) -> bool:
        """True when the published file is not in the wanted storage version: only a build into a new file
        changes it."""
        return self.published_storage_version() != self.storage_version

    @contextmanager
    def build_connection(self, *, fresh: bool) -> Iterator[Connection]:
        """Yield a connection on the building copy; publish it if the block succeeds, else discard it.

        `fresh` (or no published file) starts from an empty database, in the target's storage version,
        instead of a copy.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.lock_path, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            for leftover in (self.building_path, Path(f"{self.building_path}.wal")):
                leftover.unlink(missing_ok=True)
            engine = None
            try:  # whatever fails (a full disk while copying, building or syncing) leaves no building copy
                if not fresh and self.path.exists():
                    shutil.copyfile(self.path, self.building_path)
                engine = make_engine(f"duckdb:///{self.building_path}", storage_version=self.storage_version)
                with engine.connect() as conn:
                    yield conn  # the build may commit as it goes: nothing is published before the swap
                    set_meta(conn, _STORAGE_VERSION, self.storage_version)
                    conn.commit()
                    conn.execute(sa.text("checkpoint"))
                    conn.commit()
                engine.dispose()
                if Path(f"{self.building_path}.wal").exists():
                    raise RuntimeError(f"{self.building_path} left a WAL behind after checkpoint and close")
                with open(self.building_path, "rb") as built:
                    os.fsync(built.fileno())
                os.replace(self.building_path, self.path)
            except BaseException:
                if engine is not None:
                    engine.dispose()
                self.building_path.unlink(missing_ok=True)
                Path(f"{self.building_path}.wal").unlink(missing_ok=True)
                raise
            make_durable([str(self.path.parent)])

    @contextmanager
    def read_connection(self) -> Iterator[Connection]:
        """A read-only connection on the published file (no lock that could stop a build)."""
        if not self.path.exists():
            raise WarehouseNotBuilt(f"{self.path} does not exist yet")
        engine = make_engine(f"duckdb:///{self.path}", read_only=True)
        try:
            with engine.connect() as conn:
                yield conn
        finally:
            engine.dispose()


class EngineTarget:
    """A database reached through one engine: Postgres, or an in-memory DuckDB (tests, scratch)."""

    def __init__(self, url: str) -> None:
        self.dialect = dialect_of(url)
        self.storage_version = None
        self.commit_steps = self.dialect == "duckdb"
        self.engine: Engine = make_engine(url, memory=self.dialect == "duckdb")

    def check_reachable(self) -> None:
        """Raise :class:`WarehouseUnreachable` unless the database answers a query."""
        try:
            with self.engine.connect() as conn:
                conn.execute(sa.text("select 1"))
        except sa.exc.SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise WarehouseUnreachable(f"{self.engine.url.render_as_string(hide_password=True)} does not "
                                       f"answer ({reason})") from exc

    def needs_fresh_build(self) -> bool:
        """False: a database reached by an engine is never rebuilt for its format."""
        return False

    def exists(self) -> bool:
        """True once a build has created the build log (`_wh_builds`) in this database."""
        query = "select count(*) from information_schema.tables where table_name = '_wh_builds'"
        with self.engine.connect() as conn:
            return bool(conn.execute(sa.text(query)).scalar())

    @contextmanager
    def build_connection(self, *, fresh: bool) -> Iterator[Connection]:
        """Postgres: one transaction for the whole build, committed if the block succeeds, rolled back if
        not. In-memory DuckDB: its one connection; the build commits as it goes (nobody else reads it)."""
        if self.dialect == "duckdb":
            with self.engine.connect() as conn:
                yield conn
                conn.commit()
            return
        with self.engine.begin() as conn:
            # One builder at a time; readers take no part in this lock.
            conn.execute(sa.text("select pg_advisory_xact_lock(4242001)"))
            yield conn

    @contextmanager
    def read_connection(self) -> Iterator[Connection]:
        """A connection for queries; Postgres readers see committed builds only."""
        with self.engine.connect() as conn:
            yield conn


def target_for(url: str, storage_version: str = DUCKDB_STORAGE_VERSION) -> DuckDBFileTarget | EngineTarget:
    """The target a warehouse URL designates: a DuckDB file (written in `storage_version`), an in-memory
    DuckDB or Postgres."""
    parsed = sa.engine.make_url(url)
    if dialect_of(url) == "duckdb" and parsed.database not in (None, "", ":memory:"):
        return DuckDBFileTarget(Path(parsed.database), storage_version)
    return EngineTarget(url)

"""A throwaway PostgreSQL cluster for tests and benchmarks.

`PostgresCluster` starts a private cluster from the machine's PostgreSQL binaries (`initdb`, `pg_ctl`)
in a temporary folder under /tmp, on a free port, with its unix socket in that folder too, and removes
everything on `stop()`. PostgreSQL refuses to run as root: when the current user is root the binaries run
through `runuser -u postgres --` on a folder owned by `postgres`.

Pytest usage (import the fixtures into a test module or a conftest)::

    from tests.support.postgres import postgres_cluster, postgres_url  # noqa: F401

    def test_something(postgres_url):      # a fresh, empty database per test
        ...

Where no binaries exist (or root cannot switch to a `postgres` user) the fixtures skip with that reason.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_BIN_GLOBS = ("/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/*/bin", "/usr/local/pgsql/bin")
RUN_AS = "postgres"


DAGSTER_HOME_YAML = """storage:
  postgres:
    postgres_db:
      hostname: 127.0.0.1
      username: postgres
      password: unused-trust-auth
      db_name: {db}
      port: {port}
      scheme: postgresql+psycopg2
concurrency:
  pools:
    default_limit: 1
telemetry:
  enabled: false
"""


class PostgresUnavailable(RuntimeError):
    """No usable PostgreSQL binaries (or no way to run them) on this machine."""


def find_pg_bin() -> Path | None:
    """Return the folder holding `initdb` and `pg_ctl` (PostgreSQL 15 preferred), or None."""
    env = os.environ.get("PG_BIN")
    candidates = [env] if env else []
    for pattern in PG_BIN_GLOBS:
        candidates.extend(sorted(glob.glob(pattern), reverse=True))
    for folder in candidates:
        path = Path(folder)
        if (path / "initdb").is_file() and (path / "pg_ctl").is_file():
            return path
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresCluster:
    """A private PostgreSQL cluster: `start()`, `url(db)`, `create_database()`, `stop()`.

    Promises: the cluster listens on 127.0.0.1 and on a unix socket inside its own temporary folder,
    accepts the superuser `postgres` without a password (trust, local only), and leaves nothing behind
    after `stop()`. Durability settings are relaxed (fsync off): it is for tests and benchmarks only.
    """

    def __init__(self, bin_dir: Path | None = None) -> None:
        found = bin_dir or find_pg_bin()
        if found is None:
            raise PostgresUnavailable("no PostgreSQL binaries (initdb, pg_ctl) found on this machine")
        self.bin_dir = Path(found)
        self._as_root = os.geteuid() == 0
        if self._as_root:
            if shutil.which("runuser") is None:
                raise PostgresUnavailable("running as root and `runuser` is not available")
            try:
                self._pg_user = pwd.getpwnam(RUN_AS)
            except KeyError as exc:
                raise PostgresUnavailable(f"running as root and there is no `{RUN_AS}` user") from exc
        self.root: Path | None = None
        self.port: int | None = None
        self._started = False

    # -- paths ---------------------------------------------------------------------------------------
    @property
    def data_dir(self) -> Path:
        """The cluster's data folder (once started)."""
        assert self.root is not None
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        """The folder of the cluster's unix socket (once started)."""
        assert self.root is not None
        return self.root / "socket"

    # -- lifecycle -----------------------------------------------------------------------------------
    def _run(self, *args: str) -> subprocess.CompletedProcess:
        cmd = list(args)
        if self._as_root:
            cmd = ["runuser", "-u", RUN_AS, "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=120)

    def start(self) -> PostgresCluster:
        """Create and start the cluster; raise PostgresUnavailable with the tool's output on failure."""
        self.root = Path(tempfile.mkdtemp(prefix="pgtest-", dir="/tmp"))
        os.chmod(self.root, 0o755)
        self.socket_dir.mkdir(mode=0o755)
        if self._as_root:
            for path in (self.root, self.socket_dir):
                os.chown(path, self._pg_user.pw_uid, self._pg_user.pw_gid)
        init = self._run(
            str(self.bin_dir / "initdb"), "-D", str(self.data_dir), "-U", "postgres",
            "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync",
        )
        if init.returncode != 0:
            self._cleanup()
            raise PostgresUnavailable(f"initdb failed: {init.stderr.strip() or init.stdout.strip()}")
        last_error = ""
        for _attempt in range(3):  # the free port may be taken between probing and binding
            self.port = _free_port()
            options = (
                f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=100"
            )
            started = self._run(
                str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-o", options,
                "-l", str(self.root / "server.log"), "-w", "-t", "60", "start",
            )
            if started.returncode == 0:
                self._started = True
                return self
            last_error = started.stderr.strip() or started.stdout.strip()
        log = (self.root / "server.log").read_text() if (self.root / "server.log").exists() else ""
        self._cleanup()
        raise PostgresUnavailable(f"pg_ctl start failed: {last_error}\n{log[-2000:]}")

    def stop(self) -> None:
        """Stop the server (immediate mode) and delete its folder."""
        if self._started:
            self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "immediate", "stop")
            self._started = False
        self._cleanup()

    def _cleanup(self) -> None:
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def __enter__(self) -> PostgresCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- databases -----------------------------------------------------------------------------------
    def url(self, dbname: str = "postgres") -> str:
        """SQLAlchemy URL (psycopg 3 driver) of a database in this cluster, over TCP on loopback."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{dbname}"

    def conninfo(self, dbname: str = "postgres") -> str:
        """libpq connection string of a database in this cluster (for psycopg directly)."""
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={dbname}"

    def create_database(self, name: str | None = None) -> str:
        """Create an empty database and return its SQLAlchemy URL."""
        import psycopg
        from psycopg import sql

        name = name or f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        return self.url(name)

    def dagster_home_yaml(self, db_name: str) -> str:
        """A ``dagster.yaml`` whose run, event and schedule storage is database ``db_name`` of this cluster
        (docs/operations.md's settings, the values inline; trust authentication ignores the password)."""
        return DAGSTER_HOME_YAML.format(db=db_name, port=self.port)

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Block until the server accepts connections."""
        import psycopg

        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(self.conninfo(), connect_timeout=2):
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """Session-wide throwaway cluster; skips the test when PostgreSQL cannot run here."""
    try:
        cluster = PostgresCluster().start()
    except PostgresUnavailable as exc:
        pytest.skip(f"PostgreSQL unavailable: {exc}")
    try:
        cluster.wait_ready()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def postgres_url(postgres_cluster: PostgresCluster) -> str:
    """SQLAlchemy URL of a fresh, empty database in the session's cluster."""
    return postgres_cluster.create_database()

"""Readers are never blocked and never see half a build (invariant 4), on DuckDB and Postgres.

DuckDB: a BI process holds the published file open read-only during the nightly build; the build
succeeds, that process keeps seeing the previous complete state, and connections opened after the
build see the new one. Postgres: a reader polling during the build sees the old or the new state and
never a mix, and a reader holding a transaction open does not block the build.
"""

import json
import subprocess
import sys
import threading
import time
from decimal import Decimal

import psycopg
import pytest

from resources.landing import LandingStore
from resources.warehouse import Warehouse
from tests.support.landing_builder import land, ts
from tests.support.policies import TEST_POLICY
from tests.support.postgres import postgres_cluster  # noqa: F401  (session fixture)
from tests.support.scenario import NIGHTS

# One statement, so one consistent snapshot, that changes with every build of the scenario.
FINGERPRINT = """
select
    (select count(*) from staging.stg_deliveries) as deliveries,
    (select count(*) from history.decision_history) as decisions,
    (select count(*) from history.order_history) as orders,
    (select count(*) from marts.current_portfolio) as in_force,
    (select cast(coalesce(sum(amount_value), 0) as varchar) from history.decision_history) as amounts
"""


def _big_night(store: LandingStore, companies: int = 3000) -> None:
    """Enough rows for the build to take a while, so readers poll during it."""
    rows = [{"delivery_id": f"B{i}", "external_id": f"EB{i}", "order_id": f"OB{i}", "easy_number": str(10_000 + i),
             "product_code": "CREDITLIMIT", "status": "DECIDED_FULL", "decision_at": ts("2025-01-03 10:00"),
             "amount_value": Decimal(i), "amount_currency": "EUR"} for i in range(companies)]
    land(store, "deliveries", "2025-01-03", "big", rows, "2025-01-04 02:00")


READER = r"""
import duckdb, json, sys, time
path, mode, query = sys.argv[1], sys.argv[2], sys.stdin.readline()
def look(con):
    return list(con.execute(query).fetchone())
if mode == "hold":
    con = duckdb.connect(path, read_only=True)
    print(json.dumps(look(con)), flush=True)
    for line in sys.stdin:          # one look per line, on the connection opened before the build
        print(json.dumps(look(con)), flush=True)
else:                               # poll with a new connection each time until told to stop
    seen = []
    deadline = time.time() + float(mode)
    while time.time() < deadline:
        con = duckdb.connect(path, read_only=True)
        seen.append(look(con))
        con.close()
    print(json.dumps(seen), flush=True)
"""


def _reader(path, mode):
    process = subprocess.Popen([sys.executable, "-c", READER, str(path), mode], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    process.stdin.write(FINGERPRINT.replace("\n", " ") + "\n")
    process.stdin.flush()
    return process


def test_duckdb_reader_process_holding_the_file_keeps_the_old_state(tmp_path):
    store = LandingStore(str(tmp_path / "landing"), policy=TEST_POLICY)
    path = tmp_path / "warehouse.duckdb"
    warehouse = Warehouse(f"duckdb:///{path}")
    NIGHTS[0](store)
    warehouse.build(store)
    old = [str(v) for v in warehouse.query(FINGERPRINT)[0].values()]

    holder = _reader(path, "hold")
    assert json.loads(holder.stdout.readline()) == [int(v) if v.isdigit() else v for v in old]
    poller = _reader(path, "4")
    time.sleep(0.5)
    for night in NIGHTS[1:]:
        night(store)
    _big_night(store)
    report = warehouse.build(store)  # must not fail although another process holds the file open
    assert report.partitions_loaded["deliveries"] == 3

    holder.stdin.write("look\n")
    holder.stdin.flush()
    assert [str(v) for v in json.loads(holder.stdout.readline())] == old  # still the previous complete state
    holder.stdin.close()
    assert holder.wait(timeout=30) == 0, holder.stderr.read()

    new = [str(v) for v in warehouse.query(FINGERPRINT)[0].values()]
    assert new != old
    seen = json.loads(poller.communicate(timeout=60)[0])
    assert poller.returncode == 0
    states = {tuple(str(v) for v in look) for look in seen}
    assert states <= {tuple(old), tuple(new)}, "a reader saw a state that is neither the old nor the new one"
    assert tuple(old) in states and len(seen) > 10
    assert not (tmp_path / "warehouse.duckdb.building").exists()


def test_duckdb_failed_build_publishes_nothing(tmp_path, monkeypatch):
    store = LandingStore(str(tmp_path / "landing"), policy=TEST_POLICY)
    warehouse = Warehouse(f"duckdb:///{tmp_path / 'warehouse.duckdb'}")
    NIGHTS[0](store)
    warehouse.build(store)
    before = warehouse.query(FINGERPRINT)
    NIGHTS[1](store)

    import resources.warehouse.build as build_module

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(build_module, "refresh_history", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        warehouse.build(store)
    assert warehouse.query(FINGERPRINT) == before
    assert not (tmp_path / "warehouse.duckdb.building").exists()


@pytest.mark.postgres
def test_postgres_readers_see_old_or_new_never_half_and_never_block_the_build(tmp_path, postgres_cluster):  # noqa: F811
    store = LandingStore(str(tmp_path / "landing"), policy=TEST_POLICY)
    url = postgres_cluster.create_database()
    conninfo = postgres_cluster.conninfo(url.rsplit("/", 1)[1])
    warehouse = Warehouse(url)
    NIGHTS[0](store)
    warehouse.build(store)
    old = tuple(warehouse.query(FINGERPRINT)[0].values())

    holder = psycopg.connect(conninfo)  # a dashboard session with a long transaction open on every table
    holder.execute("begin isolation level repeatable read")
    assert tuple(holder.execute(FINGERPRINT).fetchone()) == old

    seen, latencies, stop = [], [], threading.Event()

    def poll():
        with psycopg.connect(conninfo, autocommit=True) as conn:
            while not stop.is_set():
                started = time.perf_counter()
                seen.append(tuple(conn.execute(FINGERPRINT).fetchone()))
                latencies.append((started, time.perf_counter() - started))

    for night in NIGHTS[1:]:
        night(store)
    _big_night(store)
    poller = threading.Thread(target=poll)
    poller.start()
    time.sleep(0.2)
    outcome = {}
    builder = threading.Thread(target=lambda: outcome.update(report=warehouse.build(store)))
    build_started = time.perf_counter()
    builder.start()
    builder.join(timeout=120)
    build_ended = time.perf_counter()
    assert not builder.is_alive(), "the build was blocked by a reader's open transaction"
    time.sleep(0.2)
    stop.set()
    poller.join(timeout=30)

    new = tuple(warehouse.query(FINGERPRINT)[0].values())
    assert new != old and outcome["report"].partitions_loaded["deliveries"] == 3
    assert set(seen) <= {old, new}, "a reader saw a state that is neither the old nor the new one"
    assert old in seen and new in seen
    assert max(latency for _, latency in latencies) < 5, "a reader was blocked by the build"
    assert sum(build_started < at < build_ended for at, _ in latencies) > 3, "readers polled during the build"
    assert tuple(holder.execute(FINGERPRINT).fetchone()) == old  # its snapshot is the previous state
    holder.rollback()
    assert tuple(holder.execute(FINGERPRINT).fetchone()) == new
    holder.close()

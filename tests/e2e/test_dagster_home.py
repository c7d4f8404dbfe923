"""A fresh Dagster home opened by several `cofasync` commands at once stays usable; one broken by such a
race before the fix is repaired, and damage that cannot be repaired is refused with what to do."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from dagster._core.storage.sqlite import LAST_KNOWN_STAMPED_SQLITE_ALEMBIC_REVISION

COFASYNC = str(Path(sys.executable).with_name("cofasync"))
VERSION_TABLES = ("history/runs.db", "history/runs/index.db", "schedules/schedules.db")


def env_for(folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COFASERVE_", "COFASYNC_", "DAGSTER_"))}
    env.update({"LANDING_ROOT": str(folder / "landing"), "WAREHOUSE_URL": f"duckdb:///{folder / 'w.duckdb'}",
                "DAGSTER_HOME": str(folder / "dagster"), "COFASYNC_TODAY": "2026-11-23"})
    return env


def status(env) -> subprocess.CompletedProcess:
    return subprocess.run([COFASYNC, "status"], env=env, capture_output=True, text=True, timeout=300)


def versions(home: Path) -> dict[str, list[str]]:
    found = {}
    for name in VERSION_TABLES:
        with sqlite3.connect(home / name) as conn:
            found[name] = [row[0] for row in conn.execute("select version_num from alembic_version")]
    return found


def test_commands_started_together_on_a_fresh_home_leave_it_usable(tmp_path):
    env = env_for(tmp_path)
    procs = [subprocess.Popen([COFASYNC, "status"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(4)]
    outcomes = [(p.wait(timeout=300), p.stderr.read()) for p in procs]
    assert [code for code, _ in outcomes] == [0, 0, 0, 0], outcomes
    assert all(len(rows) == 1 for rows in versions(tmp_path / "dagster").values())
    after = status(env)
    assert after.returncode == 0 and "last runs" in after.stdout, after.stderr


def test_a_home_broken_by_such_a_race_is_repaired(tmp_path):
    env = env_for(tmp_path)
    assert status(env).returncode == 0
    home = tmp_path / "dagster"
    (head,) = versions(home)["history/runs.db"]
    for name in ("history/runs.db", "schedules/schedules.db"):  # what two simultaneous first openings left
        with sqlite3.connect(home / name) as conn:
            conn.execute("insert into alembic_version (version_num) values (?)", (LAST_KNOWN_STAMPED_SQLITE_ALEMBIC_REVISION,))
    result = status(env)
    assert result.returncode == 0, result.stderr
    assert "repaired" in result.stdout and "history/runs.db" in result.stdout and "schedules.db" in result.stdout
    assert versions(home) == {name: [head] for name in VERSION_TABLES}
    assert status(env).returncode == 0


def test_a_home_with_two_different_schema_versions_is_refused_with_what_to_do(tmp_path):
    env = env_for(tmp_path)
    assert status(env).returncode == 0
    home = tmp_path / "dagster"
    with sqlite3.connect(home / "schedules/schedules.db") as conn:
        conn.execute("delete from alembic_version")  # two versions, neither of them the head: no safe choice
        conn.executemany("insert into alembic_version (version_num) values (?)", [("0000deadbeef",), ("f495c27d5019",)])
    result = status(env)
    assert result.returncode == 1
    assert "schedules.db records several schema versions" in result.stderr
    assert "Move the Dagster home" in result.stderr and "Traceback" not in result.stderr

"""What the UI's "Materialize" does, through Dagster's own launcher (`dagster asset materialize`): the
Definitions `make ui` serves, pointed at the bundled sandbox the way `make ui` points them, land a
partition with its own figures."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import dagster as dg

from pipelines.sandbox_sync import sandbox_env
from resources.landing import LandingStore
from sandbox.testing import run_sandbox_process

TODAY = date(2026, 11, 23)
DAY = "2026-11-20"


def test_materializing_one_partition_from_dagster_lands_it(tmp_path):
    with run_sandbox_process(companies=100, today=TODAY) as handle:
        info = {"base_url": handle.base_url, **handle.credentials}
        env = {k: v for k, v in sandbox_env(info).items() if not k.startswith("COFASERVE_LOCKOUT")}
        env.update({"DAGSTER_HOME": str(tmp_path / "dagster"), "LANDING_ROOT": str(tmp_path / "landing"),
                    "WAREHOUSE_URL": f"duckdb:///{tmp_path}/wh.duckdb"})
        (tmp_path / "dagster").mkdir()
        dagster = str(Path(sys.executable).with_name("dagster"))
        result = subprocess.run([dagster, "asset", "materialize", "-m", "pipelines.definitions",
                                 "--select", "notifications", "--partition", DAY],
                                env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    manifest = LandingStore(str(tmp_path / "landing"), policy=handle.credentials["policy_number"]).manifest("notifications", date.fromisoformat(DAY))
    assert manifest is not None and manifest["rows"] > 0
    assert handle.credentials["password"] not in result.stdout + result.stderr
    with dg.DagsterInstance.from_config(str(tmp_path / "dagster")) as instance:
        event = instance.get_latest_materialization_event(dg.AssetKey("notifications"))
    metadata = event.asset_materialization.metadata
    assert event.asset_materialization.partition == DAY
    assert metadata["dagster/row_count"].value == manifest["rows"]  # the day's own figure
    assert metadata["run_days"].value == 1

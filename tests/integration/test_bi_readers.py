"""BI tools can open the published DuckDB file: it is written in a storage version an older DuckDB reads
(`COFASYNC_DUCKDB_STORAGE_VERSION`, default v1.4.0), checked with the DuckDB CLI 1.5 of the README (which
reads storage versions 64 to 68 only); analysts in Python get DataFrames (`Warehouse.frame`)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from resources.landing import LandingStore
from resources.settings import SettingsError, load_settings
from resources.warehouse import Warehouse
from tests.support.policies import TEST_POLICY
from tests.support.scenario import NIGHTS

README_QUERY = "select * from marts.current_portfolio order by amount_value desc limit 10"


def _cli() -> str:
    """The DuckDB CLI 1.5 installed with the test extras (`pip install duckdb-cli`, as the README says)."""
    cli = Path(sys.executable).with_name("duckdb")
    if not cli.exists():
        found = shutil.which("duckdb")
        if found is None:
            pytest.skip("the DuckDB CLI is not installed: `make install` installs the test extras (duckdb-cli)")
        cli = Path(found)
    version = subprocess.run([str(cli), "--version"], capture_output=True, text=True, timeout=60).stdout
    assert version.startswith("v1.5."), f"the test extras pin the DuckDB CLI 1.5, found {version!r}"
    return str(cli)


def _readme_query(cli: str, path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([cli, "-readonly", str(path), README_QUERY], capture_output=True, text=True, timeout=120)


def _built(tmp_path: Path, **options) -> tuple[Warehouse, Path, LandingStore]:
    store = LandingStore(str(tmp_path / "landing"), policy=TEST_POLICY)
    NIGHTS[0](store)
    path = tmp_path / "warehouse.duckdb"
    warehouse = Warehouse(f"duckdb:///{path}", **options)
    warehouse.build(store)
    return warehouse, path, store


def test_the_readme_cli_route_opens_the_published_file(tmp_path):
    cli = _cli()
    warehouse, path, _ = _built(tmp_path)
    in_force = warehouse.query("select easy_number from marts.current_portfolio")
    assert in_force, "the scenario's first night has decisions in force"
    result = _readme_query(cli, path)
    assert result.returncode == 0, result.stderr
    assert all(row["easy_number"] in result.stdout for row in in_force)


def test_a_file_in_a_newer_storage_version_is_rebuilt_in_the_readable_one(tmp_path):
    cli = _cli()
    _, path, store = _built(tmp_path, storage_version="latest")  # what the previous release published
    refused = _readme_query(cli, path)
    assert refused.returncode != 0 and "version number" in refused.stderr  # the test can fail

    report = Warehouse(f"duckdb:///{path}").build(store)  # the default: a readable version
    assert report.full_refresh  # a file changes format only by a build into a new file
    assert _readme_query(cli, path).returncode == 0
    again = Warehouse(f"duckdb:///{path}").build(store)
    assert not again.full_refresh  # once in the wanted version, builds are incremental again


def test_frame_returns_a_dataframe_read_only(tmp_path):
    warehouse, _, _ = _built(tmp_path)
    frame = warehouse.frame("select easy_number, amount_value from marts.current_portfolio "
                            "where amount_value >= :least order by easy_number", {"least": 0})
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == ["easy_number", "amount_value"]
    assert list(frame["easy_number"]) == sorted(
        r["easy_number"] for r in warehouse.query("select easy_number from marts.current_portfolio "
                                                  "where amount_value >= 0"))
    with pytest.raises(Exception, match="read-only"):
        warehouse.frame("create table marts.scribble as select 1 as a")


def test_a_storage_version_duckdb_cannot_write_is_refused_by_name():
    with pytest.raises(SettingsError, match="COFASYNC_DUCKDB_STORAGE_VERSION='v9.9' is malformed: is not a storage"):
        load_settings({"COFASYNC_DUCKDB_STORAGE_VERSION": "v9.9"})

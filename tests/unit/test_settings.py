"""Pipeline settings: defaults, validation by name, and .env.example listing every setting."""

import re
from pathlib import Path

import pytest

from resources.push.settings import PUSH_SETTING_NAMES
from resources.settings import SETTING_NAMES, SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_point_inside_the_project():
    settings = load_settings({})
    assert settings.warehouse_url.startswith("duckdb:///") and settings.warehouse_url.endswith("warehouse.duckdb")
    assert settings.landing_root.endswith("data/landing")
    assert settings.quarantine_threshold == 0.01
    assert settings.failure_webhook_url is None


def test_local_defaults_are_under_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    here = tmp_path.resolve()  # as the working directory reads, symbolic links resolved
    settings = load_settings({})
    assert settings.warehouse_url == f"duckdb:///{here / 'data' / 'warehouse.duckdb'}"
    assert settings.landing_root == str(here / "data" / "landing")
    assert settings.dagster_home == str(here / ".dagster")


def test_every_malformed_setting_is_named_at_once():
    with pytest.raises(SettingsError) as err:
        load_settings({"WAREHOUSE_URL": "mysql://x", "COFASYNC_QUARANTINE_THRESHOLD": "7",
                       "COFASYNC_SNAPSHOT_EVERY_DAYS": "zero"})
    message = str(err.value)
    assert "WAREHOUSE_URL" in message and "duckdb:///" in message
    assert "COFASYNC_QUARANTINE_THRESHOLD" in message
    assert "COFASYNC_SNAPSHOT_EVERY_DAYS" in message


@pytest.mark.parametrize("url", ["duckdb:///", "duckdb:///:memory:", "duckdb:///:memory:?x=1"])
def test_a_duckdb_url_without_a_file_is_refused(url):
    with pytest.raises(SettingsError, match="WAREHOUSE_URL.*in memory and lost"):
        load_settings({"WAREHOUSE_URL": url})


def test_paths_that_are_files_are_refused_by_name(tmp_path):
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    with pytest.raises(SettingsError) as err:
        load_settings({"LANDING_ROOT": str(a_file), "DAGSTER_HOME": str(a_file / "home"),
                       "WAREHOUSE_URL": f"duckdb:///{a_file / 'w.duckdb'}"})
    message = str(err.value)
    assert f"LANDING_ROOT={str(a_file)!r} is malformed: is the file {a_file}, not a folder" in message
    assert f"DAGSTER_HOME={str(a_file / 'home')!r} is malformed: lies under the file {a_file}" in message
    assert "WAREHOUSE_URL" in message
    with pytest.raises(SettingsError, match="WAREHOUSE_URL.*is a folder"):
        load_settings({"WAREHOUSE_URL": f"duckdb:///{tmp_path}"})
    fine = load_settings({"LANDING_ROOT": str(tmp_path / "new" / "landing")})  # not there yet: fine
    assert fine.landing_root.endswith("new/landing")


def test_postgres_url_is_accepted():
    assert load_settings({"WAREHOUSE_URL": "postgresql://u@h/db"}).warehouse_url == "postgresql://u@h/db"


SETTING_LINE = r"^(?:# )?([A-Z_]+)=(.*)$"


def test_env_example_lists_every_setting_with_a_comment():
    text = (ROOT / ".env.example").read_text()
    listed = [name for name, _ in re.findall(SETTING_LINE, text, flags=re.M)]
    for name in SETTING_NAMES + PUSH_SETTING_NAMES + ("COFASERVE_BASE_URL", "COFASERVE_AUTH_URL", "COFASERVE_USERNAME",
                                 "COFASERVE_PASSWORD", "COFASERVE_API_KEY", "COFASERVE_POLICY_NUMBER",
                                 "COFASERVE_CONTRACT_START"):
        assert name in listed, f"{name} missing from .env.example"
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if re.match(SETTING_LINE, line):
            assert lines[index - 1].startswith("#") and not re.match(SETTING_LINE, lines[index - 1]), (
                f"{line} has no one-line comment above it")


def test_env_example_sets_nothing_empty():
    """Copied to .env, an uncommented empty value would replace a default (an empty DAGSTER_HOME sends
    `dagster dev` to a throwaway instance): every setting is either commented out or given a value."""
    text = (ROOT / ".env.example").read_text()
    for name, value in re.findall(r"^([A-Z_]+)=(.*)$", text, flags=re.M):
        assert value.strip(), f"{name} is set to an empty value in .env.example"
    values = dict(re.findall(r"^([A-Z_]+)=(.*)$", text, flags=re.M))
    assert load_settings(values) == load_settings({})  # what it sets are the defaults


def test_code_reads_no_setting_missing_from_env_example():
    text = (ROOT / ".env.example").read_text()
    listed = {name for name, _ in re.findall(SETTING_LINE, text, flags=re.M)}
    read = set()
    for folder in ("resources", "pipelines", "assets"):
        for path in (ROOT / folder).rglob("*.py"):
            read |= set(re.findall(r"\"((?:COFASERVE|COFASYNC|WAREHOUSE|LANDING|DAGSTER)_[A-Z_]+)\"",
                                   path.read_text()))
    assert read - listed == set()


def test_a_malformed_url_is_named_without_its_password():
    with pytest.raises(SettingsError) as err:
        load_settings({"WAREHOUSE_URL": "mysql://wh:s3cret@db.example/warehouse",
                       "COFASYNC_FAILURE_WEBHOOK_URL": "ftp://hook:t0ken@alerts.example/x"})
    message = str(err.value)
    assert "mysql://wh:***@db.example/warehouse" in message and "ftp://hook:***@alerts.example/x" in message
    assert "s3cret" not in message and "t0ken" not in message

"""The Definitions load, and every asset carries what a Dagster user expects of it."""

from datetime import UTC, date, datetime, timedelta

import dagster as dg

from pipelines.definitions import build_definitions, build_resources, defs
from pipelines.due import DAILY_STREAMS
from pipelines.schedules import NIGHTLY_CRON, SCHEDULE_TIMEZONE
from resources.landing import LandingStore
from resources.settings import load_settings
from tests.support.policies import TEST_POLICY


def settings_for(tmp_path, **env):
    """Pipeline settings landing under ``tmp_path`` (the other settings as given, else defaults)."""
    return load_settings({"LANDING_ROOT": str(tmp_path), "WAREHOUSE_URL": f"duckdb:///{tmp_path}/wh.duckdb",
                          "COFASERVE_POLICY_NUMBER": TEST_POLICY, **env})


def test_every_asset_has_a_description_a_group_kinds_and_owners():
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.description, f"{key} has no description"
        assert node.group_name and node.group_name != "default", f"{key} has no layer group"
        assert node.kinds, f"{key} has no kinds"
        assert node.owners, f"{key} has no owners"


def test_extraction_assets_share_the_api_pool_and_backfill_in_one_run():
    graph = defs.resolve_asset_graph()
    for name in ("notifications", "portfolio", "deliveries", "orders", "overdues"):
        node = graph.get(dg.AssetKey(name))
        assert node.backfill_policy == dg.BackfillPolicy.single_run()
        assert node.partitions_def is not None
        assert node.pools == {"cofaserve_api"}


def test_nightly_schedule_runs_at_two_utc():
    schedule = defs.resolve_schedule_def("nightly_sync")
    assert schedule.cron_schedule == NIGHTLY_CRON == "0 2 * * *"
    assert schedule.execution_timezone == SCHEDULE_TIMEZONE == "UTC"
    assert schedule.job_name == "nightly_extract"


def test_nightly_tick_times_are_2am_utc_across_a_european_dst_night():
    from dagster._utils.schedules import cron_string_iterator

    ticks = cron_string_iterator(datetime(2026, 3, 28, 1, 30, tzinfo=UTC).timestamp(), NIGHTLY_CRON, "UTC")
    assert [next(ticks).astimezone(UTC) for _ in range(3)] == [
        datetime(2026, 3, 28, 2, 0, tzinfo=UTC),
        datetime(2026, 3, 29, 2, 0, tzinfo=UTC),  # Europe moves to summer time this night
        datetime(2026, 3, 30, 2, 0, tzinfo=UTC),
    ]


def _land_days(store, first, last):
    day = first
    while day <= last:
        for stream in DAILY_STREAMS:
            with store.open_partition(stream, day, "seed"):
                pass
        day += timedelta(days=1)


def _evaluate(settings, moment):
    schedule = build_definitions(settings).resolve_schedule_def("nightly_sync")
    resources = {k: v for k, v in build_resources(settings).items() if k in schedule.required_resource_keys}
    with dg.build_schedule_context(scheduled_execution_time=moment, resources=resources) as context:
        result = schedule.evaluate_tick(context)
    return [(r.tags["dagster/asset_partition_range_start"], r.tags["dagster/asset_partition_range_end"])
            for r in (result.run_requests or [])]


def test_nightly_selects_the_previous_gmt_day(tmp_path):
    settings = settings_for(tmp_path, COFASERVE_CONTRACT_START="2026-03-20")
    _land_days(LandingStore(str(tmp_path), policy=TEST_POLICY), date(2026, 3, 20), date(2026, 3, 27))
    # 01:30 UTC on the DST night: the tick that ran at 02:00 UTC the day before chose the 27th;
    # the tick of this night, at 02:00 UTC, chooses the 28th
    assert _evaluate(settings, datetime(2026, 3, 29, 2, 0, tzinfo=UTC)) == [("2026-03-28", "2026-03-28")]


def test_nightly_catches_up_missed_nights_in_one_run(tmp_path):
    settings = settings_for(tmp_path, COFASERVE_CONTRACT_START="2026-03-20")
    _land_days(LandingStore(str(tmp_path), policy=TEST_POLICY), date(2026, 3, 20), date(2026, 3, 24))
    assert _evaluate(settings, datetime(2026, 3, 29, 2, 0, tzinfo=UTC)) == [("2026-03-25", "2026-03-28")]


def test_nightly_skips_when_everything_has_landed(tmp_path):
    settings = settings_for(tmp_path, COFASERVE_CONTRACT_START="2026-03-20")
    _land_days(LandingStore(str(tmp_path), policy=TEST_POLICY), date(2026, 3, 20), date(2026, 3, 28))
    assert _evaluate(settings, datetime(2026, 3, 29, 2, 0, tzinfo=UTC)) == []


def test_definitions_are_a_function_of_the_settings(tmp_path):
    pinned = build_definitions(settings_for(tmp_path, COFASYNC_TODAY="2026-03-30", COFASERVE_CONTRACT_START="2026-03-27"))
    keys = pinned.resolve_asset_graph().get(dg.AssetKey("notifications")).partitions_def.get_partition_keys(
        current_time=datetime(2027, 1, 1, tzinfo=UTC))
    assert keys == ["2026-03-27", "2026-03-28", "2026-03-29"]  # the virtual today's yesterday, whatever the clock
    resources = build_resources(settings_for(tmp_path, COFASYNC_TODAY="2026-03-30"))
    assert resources["calendar"].today() == date(2026, 3, 30) and resources["landing"].root == str(tmp_path)


def test_nothing_under_assets_or_in_schedules_and_sensors_reads_the_environment():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    readers = [root / "pipelines" / "schedules.py", root / "pipelines" / "sensors.py",
               root / "resources" / "calendar.py", *(root / "assets").rglob("*.py")]
    for path in readers:
        text = path.read_text()
        assert "os.environ" not in text and "getenv" not in text and "load_settings" not in text, path


def test_dagster_validates_the_workspace(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    dagster = Path(sys.executable).with_name("dagster")
    result = subprocess.run([str(dagster), "definitions", "validate", "-w", "workspace.yaml"], cwd=root,
                            env={**__import__("os").environ, "DAGSTER_HOME": str(tmp_path)},
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "All code locations passed validation" in result.stderr + result.stdout

"""The partition calendar at its boundaries (invariants 1 and 2)."""

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from assets.partitions import daily_partitions
from pipelines.definitions import build_definitions
from resources import calendar as p
from resources.settings import SettingsError, load_settings


def test_api_window_is_half_open_plus_one_day():
    assert p.api_window_for("2026-03-01") == (date(2026, 3, 1), date(2026, 3, 2))
    assert p.api_window_for("2026-12-31") == (date(2026, 12, 31), date(2027, 1, 1))
    assert p.api_window_for("2028-02-28") == (date(2028, 2, 28), date(2028, 2, 29))
    assert p.api_window_for("2028-02-29") == (date(2028, 2, 29), date(2028, 3, 1))


def test_api_window_for_range_includes_both_ends():
    assert p.api_window_for_range("2026-03-01", "2026-03-03") == (date(2026, 3, 1), date(2026, 3, 4))
    assert p.api_window_for_range("2026-03-01", "2026-03-01") == p.api_window_for("2026-03-01")
    with pytest.raises(p.InvalidPartitionKey, match="reversed"):
        p.api_window_for_range("2026-03-02", "2026-03-01")


def test_last_second_of_a_day_belongs_to_that_day():
    assert p.partition_key_for(datetime(2026, 3, 1, 23, 59, 59, 999999, tzinfo=UTC)) == "2026-03-01"
    assert p.partition_key_for(datetime(2026, 3, 2, 0, 0, 0, tzinfo=UTC)) == "2026-03-02"
    start, end = p.api_window_for("2026-03-01")
    moment = datetime(2026, 3, 1, 23, 59, 59, tzinfo=UTC)
    assert datetime.combine(start, datetime.min.time(), UTC) <= moment < datetime.combine(end, datetime.min.time(), UTC)


def test_partition_of_a_local_time_is_its_gmt_day():
    east = timezone(timedelta(hours=2))
    assert p.partition_key_for(datetime(2026, 3, 2, 1, 30, tzinfo=east)) == "2026-03-01"
    with pytest.raises(ValueError, match="time zone"):
        p.partition_key_for(datetime(2026, 3, 1, 12))


def test_european_dst_night_is_still_one_gmt_day():
    paris = ZoneInfo("Europe/Paris")
    # 2026-03-29: Paris jumps from 02:00 CET to 03:00 CEST; the GMT day is 24 hours all the same.
    start, end = p.api_window_for("2026-03-29")
    assert end - start == timedelta(days=1)
    hours = [datetime(2026, 3, 29, tzinfo=UTC) + timedelta(hours=h) for h in range(24)]
    assert {p.partition_key_for(h.astimezone(paris)) for h in hours} == {"2026-03-29"}
    assert p.partition_key_for(datetime(2026, 3, 29, 1, 59, tzinfo=paris)) == "2026-03-29"  # 00:59Z
    assert p.partition_key_for(datetime(2026, 3, 29, 0, 30, tzinfo=paris)) == "2026-03-28"  # 23:30Z
    defn = daily_partitions(date(2026, 3, 27))
    keys = defn.get_partition_keys(current_time=datetime(2026, 4, 1, 12, tzinfo=UTC))
    assert keys == ["2026-03-27", "2026-03-28", "2026-03-29", "2026-03-30", "2026-03-31"]


@pytest.mark.parametrize(
    "key", ["2026-3-1", "20260301", "2026-03-01T00:00:00Z", " 2026-03-01", "2026/03/01", "", "yesterday"]
)
def test_malformed_keys_are_refused_with_the_expected_form(key):
    with pytest.raises(p.InvalidPartitionKey, match="YYYY-MM-DD"):
        p.parse_partition_key(key)


@pytest.mark.parametrize("key", ["2026-02-29", "2026-13-01", "2026-04-31", "2026-00-10"])
def test_impossible_days_are_refused(key):
    with pytest.raises(p.InvalidPartitionKey, match="not a calendar day"):
        p.api_window_for(key)


def test_non_string_key_is_refused():
    with pytest.raises(p.InvalidPartitionKey):
        p.parse_partition_key(date(2026, 3, 1))  # type: ignore[arg-type]


def test_retention_start_is_two_years_back():
    assert p.retention_start(date(2026, 11, 24)) == date(2024, 11, 24)
    assert p.retention_start(date(2026, 2, 28)) == date(2024, 2, 28)
    assert p.retention_start(date(2026, 3, 1)) == date(2024, 3, 1)


def test_retention_start_on_29_february_is_1_march():
    assert p.retention_start(date(2028, 2, 29)) == date(2026, 3, 1)
    assert p.retention_start(date(2028, 2, 28)) == date(2026, 2, 28)
    assert p.retention_start(date(2028, 3, 1)) == date(2026, 3, 1)


def test_two_year_edge_is_inside_and_the_day_before_is_refused():
    today = date(2026, 11, 24)
    assert p.check_in_window("2024-11-24", today) == date(2024, 11, 24)
    with pytest.raises(p.PartitionOutsideWindow) as err:
        p.check_in_window("2024-11-23", today)
    message = str(err.value)
    assert "2024-11-23" in message and "two-year retention" in message
    assert "available partitions are 2024-11-24 to 2026-11-23" in message
    assert err.value.first_available == date(2024, 11, 24)
    assert err.value.last_available == date(2026, 11, 23)


def test_today_and_future_days_are_not_complete_yet():
    today = date(2026, 11, 24)
    assert p.check_in_window("2026-11-23", today) == date(2026, 11, 23)
    for key in ("2026-11-24", "2027-01-01"):
        with pytest.raises(p.PartitionOutsideWindow, match="not a complete GMT day"):
            p.check_in_window(key, today)


def test_contract_start_bounds_the_window():
    today = date(2026, 11, 24)
    with pytest.raises(p.PartitionOutsideWindow, match="before the contract start 2026-01-01") as err:
        p.check_in_window("2025-12-31", today, start=date(2026, 1, 1))
    assert "available partitions are 2026-01-01 to 2026-11-23" in str(err.value)
    # A contract start older than the retention window does not widen it.
    with pytest.raises(p.PartitionOutsideWindow, match="two-year retention"):
        p.check_in_window("2024-01-01", today, start=date(2020, 1, 1))


def test_malformed_key_is_refused_before_the_window_check():
    with pytest.raises(p.InvalidPartitionKey):
        p.check_in_window("2026-11-2", date(2026, 11, 24))


def partitions_of(**env):
    """The daily partitions the Definitions wire from these settings (as ``load_settings`` reads them)."""
    settings = load_settings({"LANDING_ROOT": "/nonexistent", **env})
    return build_definitions(settings).resolve_asset_graph().get(dg.AssetKey("notifications")).partitions_def


def test_default_definition_starts_at_the_retention_start():
    defn = partitions_of(COFASYNC_TODAY="2026-11-24")
    keys = defn.get_partition_keys(current_time=datetime(2026, 11, 24, 12, tzinfo=UTC))
    assert keys[0] == "2024-11-24"
    assert keys[-1] == "2026-11-23"  # end_offset=0: the last complete GMT day
    assert defn.timezone == "UTC"


def test_definition_uses_the_contract_start_but_never_earlier_than_the_window():
    later = partitions_of(COFASYNC_TODAY="2026-11-24", COFASERVE_CONTRACT_START="2025-06-01")
    assert later.get_first_partition_key() == "2025-06-01"
    older = partitions_of(COFASYNC_TODAY="2026-11-24", COFASERVE_CONTRACT_START="2019-01-01")
    assert older.get_first_partition_key() == "2024-11-24"


def test_malformed_day_settings_are_named():
    for name in ("COFASERVE_CONTRACT_START", "COFASYNC_TODAY"):
        with pytest.raises(SettingsError, match=f"{name}='01/06/2025' is malformed: must be a GMT day"):
            load_settings({name: "01/06/2025"})
        assert getattr(load_settings({name: " "}), "contract_start" if "START" in name else "pinned_today") is None


def test_partition_keys_round_trip_through_the_api_window():
    defn = daily_partitions(date(2028, 2, 27))
    keys = defn.get_partition_keys(current_time=datetime(2028, 3, 2, tzinfo=UTC))
    assert keys == ["2028-02-27", "2028-02-28", "2028-02-29", "2028-03-01"]
    windows = [p.api_window_for(k) for k in keys]
    assert all(b == a + timedelta(days=1) for a, b in windows)
    assert all(windows[i][1] == windows[i + 1][0] for i in range(len(windows) - 1))  # no gap, no overlap


def test_module_is_a_leaf():
    import ast
    from pathlib import Path

    tree = ast.parse(Path(p.__file__).read_text())
    imported = {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    imported |= {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not imported & {"assets", "resources", "pipelines", "sandbox"}


def test_today_can_be_pinned_for_a_virtual_clock():
    assert load_settings({"COFASYNC_TODAY": "2026-03-29"}).today() == date(2026, 3, 29)
    assert load_settings({}).today() == datetime.now(UTC).date()


def test_a_pinned_today_ends_the_calendar_at_its_yesterday_whatever_the_wall_clock():
    defn = daily_partitions(date(2024, 11, 24), pinned_today=date(2026, 11, 24))
    assert defn.get_partition_keys(current_time=datetime(2027, 6, 1, tzinfo=UTC))[-1] == "2026-11-23"
    pinned = partitions_of(COFASYNC_TODAY="2026-03-30", COFASERVE_CONTRACT_START="2026-03-27")
    assert pinned.get_partition_keys(current_time=datetime(2027, 1, 1, tzinfo=UTC)) == ["2026-03-27", "2026-03-28", "2026-03-29"]

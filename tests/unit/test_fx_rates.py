"""The FX input: the ECB's reference-rates CSV read as it comes (history and daily files), bad files named
with their line, and the build reloading the rates when the file changes."""

from datetime import date
from decimal import Decimal

import pytest

from resources.landing import LandingStore
from resources.settings import SettingsError, load_settings
from resources.warehouse import Warehouse
from resources.warehouse.fx import FxRatesError, read_ecb_rates
from tests.support.policies import TEST_POLICY
from tests.support.scenario import NIGHTS

HISTORY = """Date,USD,JPY,BGN,CYP,GBP,
2025-01-03,1.0321,162.57,1.9558,N/A,0.83118,
2025-01-02,1.0354,163.44,1.9558,N/A,0.82938,
"""
DAILY = "Date, USD, JPY, GBP, \n03 January 2025, 1.0321, 162.57, 0.83118, \n"  # as the ECB writes it


def _rows(path):
    return sorted(read_ecb_rates(str(path)).to_pylist(), key=lambda r: (r["rate_date"], r["currency"]))


def test_the_history_file_gives_one_row_per_day_and_quoted_currency(tmp_path):
    path = tmp_path / "eurofxref-hist.csv"
    path.write_text(HISTORY)
    rows = _rows(path)
    assert len(rows) == 8  # CYP is N/A on both days
    assert rows[0] == {"rate_date": date(2025, 1, 2), "currency": "BGN", "units_per_euro": Decimal("1.955800")}
    assert {"rate_date": date(2025, 1, 3), "currency": "GBP", "units_per_euro": Decimal("0.831180")} in rows


def test_the_daily_file_with_its_spaces_and_written_out_date_reads_alike(tmp_path):
    path = tmp_path / "eurofxref.csv"
    path.write_text(DAILY)
    assert [(r["currency"], r["units_per_euro"]) for r in _rows(path)] == [
        ("GBP", Decimal("0.831180")), ("JPY", Decimal("162.570000")), ("USD", Decimal("1.032100"))]
    assert {r["rate_date"] for r in _rows(path)} == {date(2025, 1, 3)}


@pytest.mark.parametrize(("text", "said"), [
    ("Day,USD\n2025-01-02,1.03\n", "first line must be the ECB header"),
    ("Date,usd\n2025-01-02,1.03\n", "line 1: usd is not a currency code"),
    ("Date,USD\n2025-13-02,1.03\n", "line 2: '2025-13-02' is not a date"),
    ("Date,USD\n2025-01-02,1,03\n2025-01-03,abc\n", "line 3: USD rate 'abc' is not a number"),
    ("Date,USD\n2025-01-02,0\n", "line 2: USD rate 0 is not positive"),
    ("Date,USD\n2025-01-02,1.1\n2025-01-02,1.2\n", "line 3: 2025-01-02 appears twice"),
])
def test_a_file_that_is_not_ecb_rates_is_refused_naming_the_line(tmp_path, text, said):
    path = tmp_path / "rates.csv"
    path.write_text(text)
    with pytest.raises(FxRatesError, match=said):
        read_ecb_rates(str(path))


def test_the_setting_names_a_missing_file():
    with pytest.raises(SettingsError, match="COFASYNC_FX_RATES='/nowhere/rates.csv' is malformed: is not a file"):
        load_settings({"COFASYNC_FX_RATES": "/nowhere/rates.csv"})


def test_the_build_loads_the_rates_and_reloads_them_only_when_the_file_changes(tmp_path):
    store = LandingStore(str(tmp_path / "landing"), policy=TEST_POLICY)
    NIGHTS[0](store)
    rates = tmp_path / "eurofxref-hist.csv"
    rates.write_text(HISTORY)
    warehouse = Warehouse(f"duckdb:///{tmp_path / 'wh.duckdb'}", fx_rates_path=str(rates))
    first = warehouse.build(store)
    assert first.partitions_loaded["fx_rates"] == 1 and first.row_counts["stg_fx_rates"] == 8
    assert "fx_rates" not in warehouse.build(store).partitions_loaded  # unchanged file: nothing reloaded
    rates.write_text(HISTORY.replace("1.0321", "1.0400"))
    third = warehouse.build(store)
    assert third.partitions_loaded["fx_rates"] == 1 and not third.full_refresh
    assert warehouse.query("select units_per_euro from staging.stg_fx_rates "
                           "where currency = 'USD' and rate_date = date '2025-01-03'") == [
        {"units_per_euro": Decimal("1.040000")}]
    rates.write_text("not,a,rates,file\n")
    with pytest.raises(FxRatesError, match="first line must be the ECB header"):
        warehouse.build(store)
    assert warehouse.query("select count(*) as n from staging.stg_fx_rates") == [{"n": 8}]  # nothing published

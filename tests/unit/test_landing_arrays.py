"""Arrays built from their buffers (resources/landing/arrays.py) equal pyarrow's own conversion, and
every value this module does not build is left to pyarrow (to_array returns None); duplicate keys are
counted as a group-by counts them; the landing writers load neither pandas nor pyarrow.acero."""

import subprocess
import sys
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import StrEnum
from types import SimpleNamespace

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from resources.landing import LandingStore
from resources.landing.arrays import to_array
from resources.landing.parquet import count_duplicate_keys
from tests.unit.test_landing import ROOT

STRING, BOOL, DATE, TS, MONEY = pa.string(), pa.bool_(), pa.date32(), pa.timestamp("us", tz="UTC"), pa.decimal128(18, 2)
UTC_DATETIMES = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)).map(
    lambda d: d.replace(tzinfo=UTC))
CASES = [
    (STRING, st.text()),
    (BOOL, st.booleans()),
    (DATE, st.dates()),
    (TS, UTC_DATETIMES),
    (MONEY, st.decimals(min_value=Decimal("-9999999999999999.99"), max_value=Decimal("9999999999999999.99"),
                        places=2)),
]


def built(values, type_):
    array = to_array(values, type_)
    assert array is not None, f"declined {values!r}"
    array.validate(full=True)
    return array


@pytest.mark.parametrize(("type_", "values"), CASES, ids=[str(t) for t, _ in CASES])
@settings(max_examples=150, deadline=None, database=None)
@given(data=st.data())
def test_equal_to_pyarrow_s_conversion(type_, values, data):
    column = data.draw(st.lists(st.one_of(st.none(), values), max_size=40))
    for container in (column, tuple(column)):
        assert built(container, type_).equals(pa.array(column, type=type_))


@pytest.mark.parametrize(("type_", "values"), [
    (STRING, ["", "é", "日本", "🙂", "a\x00b", "x" * 5000, None, "plain"]),
    (STRING, [None, None]),
    (STRING, []),
    (BOOL, [True, False, None]),
    (DATE, [date(1, 1, 1), date(1969, 12, 31), date(1970, 1, 1), date(9999, 12, 31), None]),
    (TS, [datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), datetime(1970, 1, 1, tzinfo=UTC),
          datetime(2026, 3, 1, 12, 0, 0, 1, tzinfo=UTC), None]),
    (MONEY, [Decimal("0"), Decimal("-0"), Decimal("1.5"), Decimal("1.500"), Decimal("-0.01"), Decimal("1E+2"),
             Decimal("9999999999999999.99"), Decimal("-9999999999999999.99"), None]),
])
def test_edge_values_equal_pyarrow_s(type_, values):
    assert built(values, type_).equals(pa.array(values, type=type_))


class Code(StrEnum):
    A = "a"


@pytest.mark.parametrize(("type_", "values"), [
    (STRING, ["a", 1]),
    (STRING, ["a", Code.A]),  # a str subclass: pyarrow's own
    (STRING, ["\ud800"]),  # a lone surrogate: pyarrow's error
    (BOOL, [True, 1]),
    (DATE, [datetime(2026, 3, 1, tzinfo=UTC)]),  # a datetime is a date, but not here
    (TS, [datetime(2026, 3, 1)]),  # naive
    (TS, [datetime(2026, 3, 1, tzinfo=timezone(timedelta(hours=1)))]),
    (TS, [datetime(2026, 3, 1, tzinfo=timezone(timedelta(0), "Z"))]),  # UTC, but not datetime.UTC
    (MONEY, [Decimal("1.005")]),  # pyarrow refuses to round
    (MONEY, [Decimal("10000000000000000.00")]),  # 19 digits
    (MONEY, [Decimal("NaN")]),
    (MONEY, [1.5]),
    (pa.int64(), [1, 2]),
    (pa.timestamp("ns", tz="UTC"), [datetime(2026, 3, 1, tzinfo=UTC)]),
    (pa.large_string(), ["a"]),
])
def test_anything_else_is_left_to_pyarrow(type_, values):
    assert to_array(values, type_) is None


def test_landing_rows_import_no_pandas(tmp_path):
    """The point of the module: writing a range and a partition, with duplicate keys counted, loads
    neither pandas nor pyarrow.acero."""
    script = """
import sys
from datetime import date
from resources.landing import LandingStore, open_range
from resources.streams import get_stream
from tests.unit.test_landing import notification
stream, store = get_stream("notifications"), LandingStore(sys.argv[1])
day = date(2026, 3, 1)
with open_range(store, "notifications", [day], "r") as writer:
    for n in (1, 1, 2):
        writer.write_values(day, "{}", "GET /", stream.flatten_values(notification(n, day)))
    writer.quarantine(day, "{}", "bad", "GET /")
with store.open_partition("notifications", day, "p") as w:
    w.write_record("{}", "GET /", stream.flatten(notification(3, day)))
assert writer.duplicate_keys == 1 and w.duplicate_keys == 0
print(sorted(m for m in ("pandas", "pyarrow.acero", "pyarrow.dataset") if m in sys.modules))
"""
    out = subprocess.run([sys.executable, "-c", script, str(tmp_path / "landing")], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    assert out.strip() == "[]"


KEY_VALUES = st.one_of(st.none(), st.sampled_from(["a", "b", "é", ""]))


@settings(max_examples=100, deadline=None, database=None)
@given(rows=st.lists(st.tuples(st.sampled_from([date(2026, 3, 1), date(2026, 3, 2), None]), KEY_VALUES, KEY_VALUES),
                     max_size=60))
def test_duplicate_keys_are_counted_as_a_group_by_counts_them(tmp_path_factory, rows):
    store = LandingStore(str(tmp_path_factory.mktemp("keys")))
    table = pa.table({"_partition": pa.array([r[0] for r in rows], pa.date32()),
                      "k1": pa.array([r[1] for r in rows], pa.string()), "k2": pa.array([r[2] for r in rows], pa.string())})
    halves = [table.slice(0, len(rows) // 2), table.slice(len(rows) // 2)]  # keys repeat across files too
    paths = []
    for n, half in enumerate(halves):
        paths.append(store.join(f"part-{n}.parquet"))
        store.fs.makedirs(store.path, exist_ok=True)
        pq.write_table(half, paths[-1])
    expected = table.num_rows - table.group_by(["_partition", "k1", "k2"]).aggregate([]).num_rows
    assert count_duplicate_keys(store, SimpleNamespace(key=("k1", "k2")), paths) == expected

"""Python values to Arrow arrays for the landing writers, built from their buffers.

``pa.array`` imports pandas on its first call in a process, to see whether the values are a pandas
object: about 0.2 s of CPU (pandas and all it imports), more than converting a two-year backfill's
rows, in a process that never needs pandas. The column types of the landing schemas are therefore
built here, straight from their buffers, when every value of the column is None or of the one Python
type the stream readers and the writers give:

- ``string``: ``str``; ``bool``: ``bool``; ``date32``: ``date`` (a ``datetime`` is not one here);
- ``timestamp[us, tz=UTC]``: a ``datetime`` whose tzinfo is ``datetime.UTC``;
- ``decimal128(p, s)``: a finite ``Decimal`` with at most ``s`` decimals and ``p`` digits.

:func:`to_array` returns None for any other type, value or mix, and the caller converts that column
with ``pa.array``: the result, and every error, stays pyarrow's (tests/unit/test_landing_arrays.py
holds the two equal on edge values).
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
import pyarrow as pa

_NONE = type(None)
_EPOCH_DAY = date(1970, 1, 1).toordinal()
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_MAX_OFFSET = 2**31 - 1  # pa.string() offsets are int32


def to_array(values: Sequence, type_: pa.DataType) -> pa.Array | None:
    """``values`` (a tuple or list) as an Arrow array of ``type_``, equal to ``pa.array(values, type_)``;
    None when the type, or one of the values, is not one this module builds (see the module docstring)."""
    for matches, build in _BUILDERS:
        if matches(type_):
            return build(values, type_)
    return None


def _kinds(values: Sequence, *allowed: type) -> tuple[bool, bool]:
    """(every value is None or of exactly one of ``allowed``, some value is None)."""
    kinds = set(map(type, values))
    return kinds <= {_NONE, *allowed}, _NONE in kinds


def _validity(values: Sequence, has_none: bool) -> tuple[pa.Buffer | None, int]:
    """The validity bitmap of ``values`` (None when no value is None) and how many are None."""
    if not has_none:
        return None, 0
    valid = np.fromiter(map(operator.is_not, values, itertools.repeat(None)), dtype=np.bool_, count=len(values))
    return pa.py_buffer(np.packbits(valid, bitorder="little")), len(values) - int(np.count_nonzero(valid))


def _strings(values: Sequence, type_: pa.DataType) -> pa.Array | None:
    ok, has_none = _kinds(values, str)
    if not ok:
        return None
    texts = [v if v is not None else "" for v in values] if has_none else values
    joined = "".join(texts)
    if joined.isascii():
        data, lengths = joined.encode("ascii"), map(len, texts)
    else:
        try:
            encoded = list(map(str.encode, texts))
        except UnicodeEncodeError:  # a lone surrogate: pyarrow's error
            return None
        data, lengths = b"".join(encoded), map(len, encoded)
    if len(data) > _MAX_OFFSET:
        return None
    offsets = np.zeros(len(values) + 1, dtype=np.int32)
    np.cumsum(np.fromiter(lengths, dtype=np.int32, count=len(values)), out=offsets[1:])
    validity, nulls = _validity(values, has_none)
    return pa.Array.from_buffers(type_, len(values), [validity, pa.py_buffer(offsets), pa.py_buffer(data)], nulls)


def _bools(values: Sequence, type_: pa.DataType) -> pa.Array | None:
    ok, has_none = _kinds(values, bool)
    if not ok:
        return None
    bits = np.fromiter(map(operator.is_, values, itertools.repeat(True)), dtype=np.bool_, count=len(values))
    validity, nulls = _validity(values, has_none)
    return pa.Array.from_buffers(type_, len(values), [validity, pa.py_buffer(np.packbits(bits, bitorder="little"))],
                                 nulls)


def _fixed(values: Sequence, type_: pa.DataType, has_none: bool, numbers: list[int], dtype) -> pa.Array:
    validity, nulls = _validity(values, has_none)
    data = np.fromiter(numbers, dtype=dtype, count=len(values))
    return pa.Array.from_buffers(type_, len(values), [validity, pa.py_buffer(data)], nulls)


def _dates(values: Sequence, type_: pa.DataType) -> pa.Array | None:
    ok, has_none = _kinds(values, date)
    if not ok:
        return None
    days = [0 if v is None else v.toordinal() - _EPOCH_DAY for v in values]
    return _fixed(values, type_, has_none, days, np.int32)


def _timestamps(values: Sequence, type_: pa.DataType) -> pa.Array | None:
    ok, has_none = _kinds(values, datetime)
    if not ok or not all(v.tzinfo is UTC for v in values if v is not None):
        return None
    micros = [0 if v is None else (v - _EPOCH) // _MICROSECOND for v in values]
    return _fixed(values, type_, has_none, micros, np.int64)


def _decimals(values: Sequence, type_: pa.DataType) -> pa.Array | None:
    ok, has_none = _kinds(values, Decimal)
    if not ok:
        return None
    limit, units = 10**type_.precision, []
    for value in values:
        if value is None:
            units.append(0)
            continue
        if not value.is_finite():
            return None
        scaled = value.scaleb(type_.scale)
        unit = int(scaled)
        if unit != scaled or not -limit < unit < limit:  # pyarrow refuses to round or to overflow
            return None
        units.append(unit)
    validity, nulls = _validity(values, has_none)
    data = b"".join(unit.to_bytes(16, "little", signed=True) for unit in units)
    return pa.Array.from_buffers(type_, len(values), [validity, pa.py_buffer(data)], nulls)


def _utc_microseconds(type_: pa.DataType) -> bool:
    return pa.types.is_timestamp(type_) and type_.unit == "us" and type_.tz == "UTC"


_BUILDERS: tuple[tuple[Callable[[pa.DataType], bool], Callable[[Sequence, pa.DataType], pa.Array | None]], ...] = (
    (pa.types.is_string, _strings),
    (_utc_microseconds, _timestamps),
    (pa.types.is_date32, _dates),
    (pa.types.is_boolean, _bools),
    (pa.types.is_decimal128, _decimals),
)

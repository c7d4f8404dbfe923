"""The FX input: reference rates in the European Central Bank's CSV format, loaded into `stg_fx_rates`.

The ECB publishes its euro foreign exchange reference rates as `eurofxref-hist.csv` (every business day
since 1999) and `eurofxref.csv` (the latest day): a header `Date,USD,JPY,...` and one row per day, each
rate the units of that currency one euro buys. Dates are ISO (`2026-11-30`) in the history file and
written out (`30 November 2026`) in the daily one; a currency not quoted that day is `N/A` or empty;
headers and values may carry spaces and the lines a trailing comma. Both files are read as they come.

The file is an input of the build, like the landing zone: the build reloads `stg_fx_rates` whenever the
file's content changed (its SHA-256 is kept in `_wh_meta`), and converted amounts follow at once (the
marts are views). Conversion itself is SQL (`marts.fx_rates_daily`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pyarrow as pa

FX_SCHEMA = pa.schema([
    pa.field("rate_date", pa.date32()),
    pa.field("currency", pa.string()),
    pa.field("units_per_euro", pa.decimal128(18, 6)),
])
"""One row per day × quoted currency: units of the currency one euro buys on that day."""
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_MISSING = ("", "N/A", "NA", "-")
_DATE_FORMATS = ("%Y-%m-%d", "%d %B %Y")


class FxRatesError(ValueError):
    """The FX file cannot be read as ECB reference rates; the message names the file, the line and what
    to do."""


def fx_digest(path: str | None) -> str:
    """The SHA-256 of the file's content ('none' without a file): the build reloads the rates when it
    changes."""
    if path is None:
        return "none"
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _day(text: str, path: str, line: int) -> date:
    for form in _DATE_FORMATS:
        try:
            return datetime.strptime(text, form).date()
        except ValueError:
            continue
    raise FxRatesError(f"{path}, line {line}: {text!r} is not a date (the ECB writes 2026-11-30 or "
                       "30 November 2026)")


def read_ecb_rates(path: str | None) -> pa.Table:
    """Return the rates of an ECB reference-rates CSV as rows of `FX_SCHEMA` (empty without a file).

    Raises `FxRatesError` naming the file and line when the header is not `Date` followed by currency
    codes, a date or a rate cannot be read, a rate is not positive or a day appears twice.
    """
    if path is None:
        return FX_SCHEMA.empty_table()
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise FxRatesError(f"{path}: cannot be read as a text file ({exc}); COFASYNC_FX_RATES names an ECB "
                           "reference-rates CSV such as eurofxref-hist.csv") from exc
    rows = [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text))]
    rows = [row for row in rows if any(row)]
    if not rows or rows[0][0] != "Date":
        raise FxRatesError(f"{path}: the first line must be the ECB header 'Date,USD,JPY,...' (a currency "
                           "code per column); is it the reference-rates CSV (eurofxref-hist.csv)?")
    header = rows[0]
    currencies = [(i, code) for i, code in enumerate(header) if i > 0 and code]
    bad = [code for _, code in currencies if not _CURRENCY.match(code)]
    if bad or not currencies:
        raise FxRatesError(f"{path}, line 1: {', '.join(bad) or 'no column'} is not a currency code "
                           "(three capital letters, e.g. USD)")
    days, codes, rates = [], [], []
    seen: set[date] = set()
    for line, row in enumerate(rows[1:], start=2):
        day = _day(row[0], path, line)
        if day in seen:
            raise FxRatesError(f"{path}, line {line}: {day} appears twice")
        seen.add(day)
        for index, code in currencies:
            cell = row[index] if index < len(row) else ""
            if cell in _MISSING:
                continue
            try:
                rate = Decimal(cell)
            except InvalidOperation:
                raise FxRatesError(f"{path}, line {line}: {code} rate {cell!r} is not a number") from None
            if not rate > 0:
                raise FxRatesError(f"{path}, line {line}: {code} rate {cell} is not positive")
            days.append(day)
            codes.append(code)
            rates.append(rate.quantize(Decimal("0.000001")))
    return pa.table({"rate_date": days, "currency": codes, "units_per_euro": rates}, schema=FX_SCHEMA)

"""Date windows and their conversion to the API's date parameters.

CofaServe reads a date parameter ``YYYY-MM-DD`` as that day at 00:00:00 GMT [DOC]. A window covering the
GMT day D is therefore sent as ``dateFrom=D`` (inclusive) and ``dateTo=D+1`` (exclusive): the "+1 day"
rule, made by the calendar's one conversion (:func:`resources.calendar.api_window`). :class:`DateWindow` is
half-open ``[start, end)`` in GMT days, so its ``end`` already is that "+1 day" bound;
:meth:`DateWindow.to_params` is the only place the client turns dates into parameters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from resources.calendar import api_window

from .errors import DateWindowError

_ONE_DAY = timedelta(days=1)
_DAY_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _require_day(name: str, value: object) -> date:
    # datetime is a subclass of date: refuse it, a time of day would be silently dropped.
    if isinstance(value, datetime) or not isinstance(value, date):
        raise DateWindowError(
            f"DateWindow {name} must be a datetime.date (a GMT calendar day), got {type(value).__name__} "
            f"{value!r}; use DateWindow.parse('YYYY-MM-DD', 'YYYY-MM-DD') for strings"
        )
    return value


@dataclass(frozen=True, slots=True)
class DateWindow:
    """A half-open window of GMT days ``[start, end)``: ``start`` included, ``end`` excluded.

    Promises: ``start`` and ``end`` are ``datetime.date`` (not ``datetime``, not strings) and
    ``start < end``; anything else raises :class:`DateWindowError` saying what is wrong.
    """

    start: date
    end: date

    def __post_init__(self) -> None:
        start = _require_day("start", self.start)
        end = _require_day("end", self.end)
        if end == start:
            raise DateWindowError(
                f"DateWindow [{start}, {end}) is empty: the end is excluded, so a window for the single day "
                f"{start} is DateWindow.for_day({start!r}) = [{start}, {start + _ONE_DAY})"
            )
        if end < start:
            raise DateWindowError(f"DateWindow [{start}, {end}) is inverted: the start is after the end")

    @classmethod
    def for_day(cls, day: date) -> DateWindow:
        """The window of one GMT day: ``[day, day + 1)``."""
        day = _require_day("day", day)
        return cls(*api_window(day, day))

    @classmethod
    def covering(cls, first_day: date, last_day: date) -> DateWindow:
        """The window of the GMT days ``first_day`` to ``last_day``, both included: ``[first, last + 1)``."""
        first_day = _require_day("first_day", first_day)
        last_day = _require_day("last_day", last_day)
        if last_day < first_day:
            raise DateWindowError(f"DateWindow.covering({first_day}, {last_day}) is inverted: the start is after the end")
        return cls(*api_window(first_day, last_day))

    @classmethod
    def parse(cls, start: str, end: str) -> DateWindow:
        """Build a window from two ``YYYY-MM-DD`` strings (``end`` excluded); other forms are refused."""
        return cls(_parse_day("start", start), _parse_day("end", end))

    @property
    def days(self) -> int:
        """How many GMT days the window covers."""
        return (self.end - self.start).days

    def contains(self, day: date) -> bool:
        """True when the GMT day ``day`` lies in the window."""
        return self.start <= _require_day("day", day) < self.end

    def to_params(self, from_param: str = "dateFrom", to_param: str = "dateTo") -> dict[str, str]:
        """The API's date parameters: ``{from_param: start, to_param: end}`` as ``YYYY-MM-DD``.

        ``end`` is exclusive and is sent as is: a window covering day D is sent as ``D`` .. ``D+1``.
        """
        return {from_param: self.start.isoformat(), to_param: self.end.isoformat()}

    def __str__(self) -> str:
        return f"[{self.start.isoformat()}, {self.end.isoformat()})"


def _parse_day(name: str, value: object) -> date:
    if not isinstance(value, str) or not _DAY_RE.fullmatch(value):
        raise DateWindowError(f"DateWindow {name} {value!r} is not a date written YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise DateWindowError(f"DateWindow {name} {value!r} is not a calendar day written YYYY-MM-DD") from None

"""The one mechanism every extraction asset uses to land API records into per-day partitions.

A run covers a range of GMT days (one day nightly, many in a backfill). Records arrive from the client
in the API's order and are routed by their event day to one landing writer per day; every day of the
range gets a manifest, even a day with no records, so "landed, and empty" is distinguishable from
"never landed". Records that break their contract go to quarantine with their raw JSON and reason.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date

from resources.cofaserve import NotFoundError
from resources.landing import LandingStore
from resources.streams import ContractViolation, get_stream


@dataclass
class LandedSummary:
    """What one stream landed in one run: rows and quarantined records per day, records seen."""

    stream: str
    rows_by_day: dict[date, int] = field(default_factory=dict)
    quarantined_by_day: dict[date, int] = field(default_factory=dict)
    records: int = 0
    duplicate_keys: int = 0
    outside_days: int = 0
    unknown_field_records: int = 0
    unknown_fields: set[str] = field(default_factory=set)
    reported_total: int | None = None
    api_window: dict | None = None

    @property
    def rows(self) -> int:
        return sum(self.rows_by_day.values())

    @property
    def quarantined(self) -> int:
        return sum(self.quarantined_by_day.values())


class OutOfRange(ValueError):
    """A record's event day lies outside the days this run covers."""


class DayRouter:
    """Lands records of one stream into per-day partitions of a run.

    Writers are opened on first use. While records arrive in day order (the API lists by date), a
    day's partition is committed as soon as a later day appears, so memory stays bounded by one day;
    the remaining days, including empty ones, are committed by `close()`. If the run fails, `abort()`
    leaves every uncommitted day's previous state untouched.
    """

    def __init__(
        self,
        store: LandingStore,
        stream: str,
        days: list[date],
        run_id: str,
        api_window: dict | None,
    ) -> None:
        self._store = store
        self._stream = get_stream(stream)
        self._days = sorted(days)
        self._day_set = set(days)
        self._run_id = run_id
        self._api_window = api_window
        self._open: dict[date, object] = {}
        self._committed: set[date] = set()
        self._keys: dict[date | None, set[tuple]] = {}
        self.summary = LandedSummary(stream=stream, rows_by_day={d: 0 for d in days},
                                     quarantined_by_day={d: 0 for d in days})

    def _writer(self, day: date):
        if day in self._committed:
            raise OutOfRange(
                f"{self._stream.name}: a record for {day} arrived after that day was committed; "
                "the API did not list items in date order. Re-run the range one day at a time."
            )
        writer = self._open.get(day)
        if writer is None:
            # days before this one will get no more records when the API lists in date order
            for earlier in [d for d in self._open if day is not None and d < day]:
                self._commit(earlier)
            writer = self._store.open_partition(self._stream.name, day, self._run_id, api_window=self._api_window)
            writer.__enter__()
            self._open[day] = writer
        return writer

    def _commit(self, day: date) -> None:
        writer = self._open.pop(day)
        writer.__exit__(None, None, None)
        self._committed.add(day)
        self._keys.pop(day, None)  # duplicates are checked within a partition: memory stays one day's

    def land(self, record, day_of: Callable[[dict], date | None], extra: dict | None = None,
             only_day: date | None = None, first_sight: bool = True) -> None:
        """Flatten one record and land its rows on their days, or quarantine it with the reason.

        ``extra`` fields are merged into the wire item before flattening (e.g. the overdue id that a
        documents response does not repeat).
        """
        raw, raw_json, request = record.raw, record.raw_json, record.request
        if first_sight:
            self.summary.records += 1
        unknown = getattr(record, "unknown_fields", ()) if first_sight else ()
        if unknown:
            self.summary.unknown_field_records += 1
            self.summary.unknown_fields.update(unknown)
        rows: list[dict] = []
        reason = record.error
        if reason is None:
            try:
                rows = self._stream.flatten({**raw, **extra} if extra and isinstance(raw, dict) else raw)
            except ContractViolation as exc:
                reason = str(exc)
        if reason is None:
            by_day: dict[date, list[dict]] = {}
            for row in rows:
                day = day_of(row)
                if only_day is not None and day != only_day:
                    continue  # replayed for another day: those rows land with their own day
                if day not in self._day_set:
                    # rows outside the run's days are landed by the run of their own day; counted
                    # and reported, never silently ignored
                    self.summary.outside_days += 1
                    continue
                by_day.setdefault(day, []).append(row)
            for day, day_rows in sorted(by_day.items()):
                self._writer(day).write_record(raw_json, request, day_rows)
                self.summary.rows_by_day[day] += len(day_rows)
                seen = self._keys.setdefault(day, set())
                for row in day_rows:
                    key = tuple(row.get(k) for k in self._stream.key)
                    if key in seen:
                        self.summary.duplicate_keys += 1
                    seen.add(key)
            return
        day = only_day or self._quarantine_day(raw, day_of)
        self._writer(day).quarantine(raw_json, reason, request)
        self.summary.quarantined_by_day[day] += 1

    def _quarantine_day(self, raw: dict | None, day_of: Callable[[dict], date | None]) -> date:
        # a rejected record has no trustworthy date of its own; use the day the caller routes it to
        # when that does not depend on the record, else the latest open day, so this run reports it
        try:
            day = day_of({})
        except Exception:
            day = None
        if day in self._day_set and day not in self._committed:
            return day
        if self._open:
            return max(self._open)
        for day in self._days:
            if day not in self._committed:
                return day
        return self._days[-1]

    def close(self) -> LandedSummary:
        """Commit every day of the run (empty days included) and return what was landed."""
        for day in self._days:
            if day in self._committed:
                continue
            if day not in self._open:
                self._open[day] = self._store.open_partition(
                    self._stream.name, day, self._run_id, api_window=self._api_window
                ).__enter__()
            self._commit(day)
        return self.summary

    def abort(self, exc: BaseException) -> None:
        """Discard every uncommitted day of this run, leaving their previous state in place."""
        for day in list(self._open):
            writer = self._open.pop(day)
            writer.__exit__(type(exc), exc, exc.__traceback__)


def land_records(
    store: LandingStore,
    stream: str,
    days: list[date],
    run_id: str,
    api_window: dict | None,
    records: Iterable,
    day_of: Callable[[dict], date | None],
) -> LandedSummary:
    """Land client records (objects with raw, raw_json, request, error) into per-day partitions.

    Records may arrive in any day order (a portfolio company holds products of several days): over a
    range of days they are first spooled to a temporary file and then landed day by day, so memory holds
    only file offsets. Days are committed only once every record has been read; on an error every
    uncommitted day keeps its previous state and the error propagates. A record that breaks its contract
    is quarantined under the run's last day (its own date cannot be trusted).
    """
    router = DayRouter(store, stream, days, run_id, api_window)
    try:
        if len(days) == 1:
            for record in records:
                router.land(record, day_of)
        else:
            with _Spool() as spool:
                for record in records:
                    spool.add(record, _record_days(router, record, day_of, days[-1]))
                router.summary.records = spool.count
                for day in sorted(spool.days):
                    for record in spool.replay(day):
                        router.land(record, day_of, only_day=day, first_sight=False)
                router.summary.unknown_field_records = spool.unknown_records
                router.summary.unknown_fields = spool.unknown_fields
    except BaseException as exc:
        router.abort(exc)
        raise
    return router.close()


def _record_days(router: DayRouter, record, day_of, fallback: date) -> set[date]:
    """The days a record has rows on (its quarantine day when it breaks its contract)."""
    if record.error is not None:
        return {fallback}
    try:
        rows = router._stream.flatten(record.raw)
    except ContractViolation:
        return {fallback}
    return {day_of(row) for row in rows} or {fallback}


@dataclass
class _SpooledRecord:
    raw: object
    raw_json: str
    request: str
    error: str | None
    unknown_fields: tuple = ()


class _Spool:
    """A temporary file of records with an index of file offsets per day (constant memory per record)."""

    def __enter__(self) -> _Spool:
        self._file = tempfile.TemporaryFile(mode="w+b")
        self._index: dict[date | None, list[int]] = {}
        self.count = 0
        self.unknown_records = 0
        self.unknown_fields: set[str] = set()
        return self

    def __exit__(self, *exc) -> None:
        self._file.close()

    @property
    def days(self):
        return [d for d in self._index if d is not None]

    def add(self, record, days: set) -> None:
        offset = self._file.seek(0, 2)
        unknown = tuple(getattr(record, "unknown_fields", ()) or ())
        line = json.dumps({"j": record.raw_json, "r": record.request, "e": record.error, "u": unknown})
        self._file.write(line.encode() + b"\n")
        self.count += 1
        if unknown:
            self.unknown_records += 1
            self.unknown_fields.update(unknown)
        for day in days:
            self._index.setdefault(day, []).append(offset)

    def replay(self, day: date) -> Iterator[_SpooledRecord]:
        for offset in self._index.get(day, []):
            self._file.seek(offset)
            entry = json.loads(self._file.readline())
            try:
                raw = json.loads(entry["j"])
            except ValueError:
                raw = None
            yield _SpooledRecord(raw, entry["j"], entry["r"], entry["e"], tuple(entry["u"]))


def land_dated_records(
    store: LandingStore,
    stream: str,
    days: list[date],
    run_id: str,
    pairs: Iterable[tuple[date, object, dict | None]],
) -> LandedSummary:
    """Land (day, record, extra) triples: all rows of a record go to the given day, in day order.

    Used for by-id fetches, whose partition is the day of the change that triggered the fetch.
    """
    router = DayRouter(store, stream, days, run_id, None)
    try:
        for day, record, extra in pairs:
            router.land(record, lambda row, day=day: day, extra)
    except BaseException as exc:
        router.abort(exc)
        raise
    return router.close()


def quarantined_items(store: LandingStore, stream: str, day: date) -> list[dict]:
    """Return the raw JSON objects quarantined for one stream and day (those that are objects at all).

    A record that broke its contract may still name what changed (an externalId, an orderId): callers
    use it so that one damaged field never hides a change from the fetches it should trigger.
    """
    items = []
    for raw_json in store.read_quarantine(stream, day)["raw_json"].to_pylist():
        try:
            value = json.loads(raw_json) if raw_json else None
        except ValueError:
            continue
        if isinstance(value, dict):
            items.append(value)
    return items


def text(value) -> str | None:
    """The value when it is a non-empty string, else None (for ids read from untrusted raw JSON)."""
    return value if isinstance(value, str) and value else None


class MissingRecord:
    """A by-id fetch the API answered 404: quarantined with its key and the reason, never dropped."""

    def __init__(self, what: str, key: str, easy_number: str, error: Exception):
        self.raw = None
        self.raw_json = json.dumps({"easyNumber": easy_number, "id": key, "entity": what}, sort_keys=True)
        self.request = f"GET {what} {easy_number}/{key}"
        self.error = f"{what} {key} of company {easy_number} was not found by the API: {error}"


def fetch_in_day_order(client, getter: Callable, wanted: dict[str, tuple[str, date]], what: str,
                       extra_of: Callable[[str, object], dict | None] | None = None):
    """Fetch every key of ``wanted`` ({key: (easyNumber, day)}, in day order) concurrently within the
    client's rate budget; yield (day, record, extra) in day order.

    A 404 becomes a quarantined record; any other failure (after the client's retries) propagates and
    fails the run, so nothing is silently missing.
    """
    # keys are in day order and results come back in input order, so days are committed in turn
    results = client.fetch_many(lambda key: getter(wanted[key][0], key), list(wanted), ordered=True)
    for key, result in results:
        day = wanted[key][1]
        if isinstance(result, NotFoundError):
            yield day, MissingRecord(what, key, wanted[key][0], result), None
        elif isinstance(result, BaseException):
            raise result
        else:
            # a by-id call answers one record, or a list of them (an overdue's documents)
            for record in result if isinstance(result, list) else [result]:
                yield day, record, (extra_of(key, record) if extra_of else None)

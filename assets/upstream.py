"""What by-id extractions need: the rows and quarantined records that upstream streams landed for a
range of days (what they mention), and the by-id fetch itself, concurrent within the rate budget."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from resources.cofaserve import NotFoundError
from resources.landing import LandingStore
from resources.landing.settling import extending_days


def landed_by_day(store: LandingStore, stream: str, days: list[date], columns: list[str]) -> dict[date, list[tuple]]:
    """Return {day: [(column values...), ...]} of the current landed rows of ``days``, each day's rows in
    landed order (one read of the landing zone for the whole range)."""
    table = store.read_table(stream, days, columns=["_partition", *columns])
    found: dict[date, list[tuple]] = {}
    values = [table[name].to_pylist() for name in columns]
    for day, *row in zip(table["_partition"].to_pylist(), *values, strict=True):
        found.setdefault(day, []).append(tuple(row))
    return found


def landed_while_settling(store: LandingStore, stream: str, days: list[date], columns: list[str],
                          quarantined: tuple[str, ...] = ()) -> dict[date, set]:
    """{day: values of ``columns`` (one column: the value, else a tuple)} landed by ``stream`` on those of
    ``days`` a run of it extends (still settling: ``resources.landing.settling``): what a by-id run of them
    need not fetch again. Empty when the run replaces what it lands on. ``quarantined`` names the raw JSON
    fields whose values (each one plain, whatever the columns) name a record the day set aside (served
    damaged, or answered 404 by id): asked for again, it would be set aside again."""
    extending = extending_days(store, stream, days)
    if not extending:
        return {}
    rows = landed_by_day(store, stream, extending, columns)
    found = {day: {row[0] if len(columns) == 1 else row for row in landed} for day, landed in rows.items()}
    if quarantined:
        for day, items in quarantined_items(store, stream, extending).items():
            named = {text(item.get(name)) for item in items for name in quarantined}
            found.setdefault(day, set()).update(named - {None})
    return found


def quarantined_items(store: LandingStore, stream: str, days: list[date]) -> dict[date, list[dict]]:
    """Return {day: [raw JSON objects]} quarantined for one stream over ``days`` (those that are objects).

    A record that broke its contract may still name what changed (an externalId, an orderId): callers
    use it so that one damaged field never hides a change from the fetches it should trigger.
    """
    table = store.read_quarantine(stream, days)
    items: dict[date, list[dict]] = {}
    for day, raw_json in zip(table["partition"].to_pylist(), table["raw_json"].to_pylist(), strict=True):
        try:
            value = json.loads(raw_json) if raw_json else None
        except ValueError:
            continue
        if isinstance(value, dict):
            items.setdefault(day, []).append(value)
    return items


def text(value) -> str | None:
    """The value when it is a non-empty string, else None (for ids read from untrusted raw JSON)."""
    return value if isinstance(value, str) and value else None


class MissingRecord:
    """A by-id fetch the API answered 404: quarantined with its key and the reason, never dropped (it
    reads as a client Record that broke its contract)."""

    model = None
    unknown_fields: tuple[str, ...] = ()

    def __init__(self, what: str, key: str, easy_number: str, error: Exception):
        self.raw = None
        self.raw_json = json.dumps({"easyNumber": easy_number, "id": key, "entity": what}, sort_keys=True)
        self.request = f"GET {what} {easy_number}/{key}"
        self.error = f"{what} {key} of company {easy_number} was not found by the API: {error}"


def fetch_in_day_order(client, getter: Callable, wanted: dict[str, tuple[str, date]], what: str,
                       context_of: Callable[[str], Mapping[str, Any]] | None = None):
    """Fetch every key of ``wanted`` ({key: (easyNumber, day)}, in day order) concurrently within the
    client's rate budget; yield (day, record, context) in day order, ``context`` as ``context_of(key)``
    gives it (None without it).

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
            context = context_of(key) if context_of else None
            for record in result if isinstance(result, list) else [result]:
                yield day, record, context

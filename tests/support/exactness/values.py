"""The values both sides of the exactness comparison are normalized to: instants as aware UTC datetimes,
days, money as two-decimal `Decimal`s, JSON lists as sorted tuples of canonical JSON, and the
visibility horizon of a night."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal


def ts(value) -> datetime | None:
    """An instant as an aware UTC datetime (from the truth's ISO text or the warehouse's value)."""
    if value is None:
        return None
    if isinstance(value, str):
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    raise TypeError(f"not an instant: {value!r}")


def day(value) -> date | None:
    """A calendar day from a date, a datetime (its date) or ISO text (its first ten characters)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def money(value) -> Decimal | None:
    """An amount as a `Decimal` rounded to the cent (None stays None)."""
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


def amount(obj: dict | None) -> tuple[Decimal | None, str | None]:
    """A truth money object as (value, currency)."""
    if not obj:
        return None, None
    return money(obj.get("value")), obj.get("currency")


def _canon(value):
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float | Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: _canon(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canon(v) for v in value]
    return value


def json_list(value) -> tuple[str, ...] | None:
    """A list (or its JSON text) as a sorted tuple of canonical JSON elements; numbers compare by value."""
    if value is None:
        return None
    items = json.loads(value) if isinstance(value, str) else value
    return tuple(sorted(json.dumps(_canon(item), sort_keys=True) for item in items))


def visible_before(night: date) -> str:
    """The instant (truth text) before which events are visible on night `night`."""
    return f"{night.isoformat()}T00:00:00Z"


def retention_start(today: date) -> date:
    """The first day the API serves on `today` (the pipeline's own rule, `resources.calendar`)."""
    from resources.calendar import retention_start as start

    return start(today)


def is_temporary(easy: str | None) -> bool:
    """Whether an EASY number is a temporary one (`Z…`)."""
    return isinstance(easy, str) and easy.startswith("Z")

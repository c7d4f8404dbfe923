"""Records: each item the API returned, parsed, with its raw JSON, never dropped.

:func:`parse_record` never raises for a bad item: an item that breaks its contract becomes a
:class:`Record` with ``model=None`` and ``error`` saying why, so the caller can quarantine it with its raw
JSON. Keys the model does not know are kept in ``raw``/``raw_json`` and listed in ``unknown_fields``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from ..json_text import canonical_json
from .models import ApiModel

__all__ = ["Record", "canonical_json", "parse_record"]


@dataclass(frozen=True, slots=True)
class Record:
    """One item as served by the API.

    - ``model``: the parsed pydantic model, or None when the item broke its contract;
    - ``raw``: the item as decoded JSON; ``raw_json``: the same as canonical text (sorted keys);
    - ``error``: None, or the reason the item broke its contract;
    - ``request``: ``METHOD /path?query`` of the request that returned it (no secrets);
    - ``unknown_fields``: top-level keys the model does not know (sorted).
    """

    model: ApiModel | None
    raw: Any
    raw_json: str
    error: str | None
    request: str
    unknown_fields: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when the item met its contract (``model`` is set)."""
        return self.error is None

    def __repr__(self) -> str:
        kind = type(self.model).__name__ if self.model is not None else "invalid"
        extra = f", unknown_fields={list(self.unknown_fields)}" if self.unknown_fields else ""
        error = f", error={self.error!r}" if self.error else ""
        return f"Record({kind}, {self.request!r}{error}{extra})"


_PLAIN_MESSAGES = {
    "decimal_max_places": "money has at most 2 decimals",
    "decimal_whole_digits": "money has at most 16 digits before the decimal point",
    "decimal_max_digits": "money has at most 18 digits",
}
"""pydantic-core's wording replaced by the contract's, where it speaks of types rather than of money."""


def _reason(exc: ValidationError, limit: int = 5) -> str:
    problems = []
    for err in exc.errors(include_url=False, include_input=False)[:limit]:
        where = ".".join(str(p) for p in err["loc"]) or "item"
        message = _PLAIN_MESSAGES.get(err["type"], err["msg"])
        if err["type"] == "timezone_offset":  # pydantic-core says "Timezone offset of 0 required, got 7200"
            message = f"timestamps must be UTC (Z), got an offset of {err['ctx']['tz_actual']} s"
        problems.append(f"{where}: {message}")
    more = exc.error_count() - limit
    if more > 0:
        problems.append(f"and {more} more")
    return "; ".join(problems)


def parse_record(model: type[ApiModel], item: Any, request: str) -> Record:
    """Validate one item against ``model``; never raises for a bad item (see the module docstring)."""
    raw_json = canonical_json(item)
    if not isinstance(item, dict):
        return Record(None, item, raw_json, f"expected a JSON object, got {type(item).__name__}", request)
    known = model.json_keys()
    unknown = () if item.keys() <= known else tuple(sorted(item.keys() - known))
    try:
        parsed = model.model_validate_json(raw_json)
    except ValidationError as exc:
        return Record(None, item, raw_json, _reason(exc), request, unknown)
    return Record(parsed, item, raw_json, None, request, unknown)

"""Canonical JSON text, the one implementation: the client's raw JSON of each record, the page digests
of its paging checks, and the landing zone's JSON columns all use it."""

from __future__ import annotations

import json
import math
from typing import Any

import orjson


def canonical_json(value: Any) -> str:
    """Return ``value`` as compact JSON with sorted keys and UTF-8 characters kept (the same value always
    gives the same text). A NaN or Infinity given as the value raises ValueError; nested inside a
    container one is written as ``null`` (orjson's rule), which decoded API payloads never meet: the
    client's decoder refuses them."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{value!r} is not JSON")
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    except orjson.JSONEncodeError:  # an integer beyond 64 bits, which JSON allows and orjson does not
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)

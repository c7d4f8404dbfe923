"""Landed columns: where each one is read from a validated payload model, and its Arrow type.

A stream's rows are read from the payload model the client validated (the one validation of a record,
``resources/cofaserve/models.py``); nothing here checks a value again. Kinds:

  * ``str``, ``id``, ``bool``, ``ts``, ``date``: the model's value (``ts`` an aware datetime in ``UTC``);
  * ``day``: the GMT day (a ``date``) of a timestamp attribute;
  * ``money``: a money attribute as two columns, ``<column>_value`` (exact ``decimal128(18, 2)``) and
    ``<column>_currency``;
  * ``json``: a list of objects, stored as canonical JSON (sorted keys, compact) of the item *as served*
    (so fields the model does not know stay), the list sorted by ``sort_by`` and then by each element's
    JSON, so that an upstream reordering never changes the value;
  * ``context``: a value of the call, not of the payload (the overdue a document list was asked for).

``path`` is a dotted attribute path of the model (``address.city``); a level that is None gives a null
column. For ``json`` the value is read from the served item under the path's camelCase name; for
``context`` the path names the context key.
"""

from __future__ import annotations

import keyword
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from typing import Any

import pyarrow as pa
from pydantic.alias_generators import to_camel

from resources.json_text import canonical_json

MONEY_TYPE = pa.decimal128(18, 2)
"""Arrow type of every money value: exact, 2 decimals, as the contract allows."""

ARROW_TYPES: dict[str, pa.DataType] = {
    "str": pa.string(),
    "id": pa.string(),
    "bool": pa.bool_(),
    "ts": pa.timestamp("us", tz="UTC"),
    "date": pa.date32(),
    "day": pa.date32(),
    "json": pa.string(),
    "context": pa.string(),
}
KINDS = frozenset(ARROW_TYPES) | {"money"}


@dataclass(frozen=True)
class Column:
    """One landed column (two for ``money``), read from a dotted attribute path of the payload model."""

    name: str
    path: str
    kind: str = "str"
    sort_by: tuple[str, ...] = ()  # json lists only: wire names of the elements' sort keys

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"column {self.name}: unknown kind {self.kind!r}; known kinds: {sorted(KINDS)}")
        parts = self.path.split(".")
        if not all(part.isidentifier() and not keyword.iskeyword(part) for part in parts):
            raise ValueError(f"column {self.name}: {self.path!r} is not a dotted attribute path")
        if self.kind in ("json", "context") and len(parts) != 1:
            raise ValueError(f"column {self.name}: a {self.kind} column reads a top-level name, got {self.path!r}")

    @property
    def names(self) -> tuple[str, ...]:
        """The landed column names this column produces."""
        return tuple(f.name for f in self.arrow_fields())

    def arrow_fields(self) -> list[pa.Field]:
        """Return the Arrow column(s) this column produces."""
        if self.kind == "money":
            return [pa.field(f"{self.name}_value", MONEY_TYPE), pa.field(f"{self.name}_currency", pa.string())]
        return [pa.field(self.name, ARROW_TYPES[self.kind])]


def canonical_list(items: list[dict] | None, sort_by: tuple[str, ...]) -> str | None:
    """Return a served list of objects as canonical JSON, sorted by ``sort_by`` then by each element's
    JSON (None stays None). The list was validated by the payload model before it gets here."""
    if items is None:
        return None

    def order(element: dict) -> tuple:
        return tuple(canonical_json(element.get(k)) for k in sort_by) + (canonical_json(element),)

    return canonical_json(sorted(items, key=order))


def _walk(source: str, parts: list[str], out: str) -> list[str]:
    """Statements setting ``out`` to ``source.a.b...``, None as soon as a level is None."""
    if len(parts) == 1:
        return [f"    {out} = {source}.{parts[0]}"]
    lines = [f"    {out} = {source}.{parts[0]}"]
    for part in parts[1:]:
        lines.append(f"    {out} = None if {out} is None else {out}.{part}")
    return lines


def compile_reader(columns: tuple[Column, ...], name: str) -> Callable[[Any, dict, dict | None], tuple]:
    """Return ``read(model, served, context) -> tuple of the columns' values`` (in ``names`` order),
    written out per column so that one row costs one call. ``served`` is the item as decoded JSON (for
    ``json`` columns), ``context`` the call's values (for ``context`` columns)."""
    body, outputs = [], []
    for index, column in enumerate(columns):
        out = f"c{index}"
        parts = column.path.split(".")
        if column.kind == "context":
            body.append(f"    {out} = context[{parts[0]!r}]")
        elif column.kind == "json":
            body.append(f"    {out} = canonical_list(served.get({to_camel(parts[0])!r}), {column.sort_by!r})")
        else:
            body += _walk("model", parts, out)
            if column.kind == "ts":  # pydantic-core's own UTC tzinfo costs Arrow a Python call per value
                body.append(f"    {out} = None if {out} is None else {out}.replace(tzinfo=UTC)")
            elif column.kind == "day":
                body.append(f"    {out} = None if {out} is None else {out}.date()")
            elif column.kind == "money":
                body.append(f"    {out}_currency = None if {out} is None else {out}.currency")
                body.append(f"    {out} = None if {out} is None else {out}.value")
        outputs += [out] + ([f"{out}_currency"] if column.kind == "money" else [])
    source = (f"def read_{name}(model, served, context):\n" + ("\n".join(body) + "\n" if body else "")
              + f"    return ({', '.join(outputs)}{',' if outputs else ''})\n")
    scope: dict[str, Any] = {"canonical_list": canonical_list, "UTC": UTC}
    exec(compile(source, f"<stream {name} reader>", "exec"), scope)  # noqa: S102 (our own declarations, no input)
    return scope[f"read_{name}"]

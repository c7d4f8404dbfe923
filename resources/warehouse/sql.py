"""Composing the build's own SQL statements: identifiers only from a whitelist, values never.

Values always travel as bound parameters. The only text ever put into a statement is an identifier
that passes `ident()` (a lower-case name known to the model registry, the input contract or the build)
or the body of a model file from `sql/`.
"""

from __future__ import annotations

import re
from functools import cache

from .inputs import LINEAGE_COLUMNS, LOADER_FIELDS, STREAM_COLUMNS
from .models import LAYERS, load_models

_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,62}(\.[a-z_][a-z0-9_]{0,62})?$")
BUILD_TABLES = ("_wh_meta", "_wh_partitions", "_wh_builds", "_wh_changes", "_wh_scope", "_wh_next", "_wh_diff")
BUILD_COLUMNS = ("easy_number", "temporary_easy_number", "source_partition", "order_id", "delivery_id", "policy_number")


@cache
def _whitelist() -> frozenset[str]:
    names: set[str] = set(BUILD_TABLES) | set(BUILD_COLUMNS) | set(LAYERS)
    names.update(m.name for m in load_models())
    names.update(m.qualified for m in load_models())
    names.update(key for m in load_models() for key in m.key)
    names.update(f"ix_{m.name}_{column}" for m in load_models() for column in BUILD_COLUMNS)
    for stream, columns in STREAM_COLUMNS.items():
        names.add(f"landed_{stream}")
        names.update(columns + LINEAGE_COLUMNS + tuple(f.name for f in LOADER_FIELDS))
    return frozenset(names)


# Templates several modules use: {body} is a model file's select, {name} a checked identifier.
INSERT_MODEL = "insert into {name} select * from (\n{body}\n) as model_rows"
DELETE_ALL = "delete from {name}"


class UnsafeIdentifier(ValueError):
    """A name that is not on the whitelist was about to be put into SQL."""


def ident(name: str) -> str:
    """Return `name` if it is a whitelisted lower-case identifier (or `layer.model`), else raise."""
    if not _IDENT.match(name) or name not in _whitelist():
        raise UnsafeIdentifier(f"{name!r} is not a known warehouse identifier")
    return name


def compose(template: str, *, body: str = "", **identifiers: str) -> str:
    """Fill `template`'s {placeholders}: `body` with a model's SQL, the others with checked identifiers."""
    checked = {key: ident(value) for key, value in identifiers.items()}
    return template.format(body=body, **checked)

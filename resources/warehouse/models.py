"""The warehouse's SQL models: discovery, header parsing and build order.

Every file `sql/<layer>/<table>.sql` is one model named after its file. Its header comment is
structured and parsed here, so the files are the single source of truth for grain, key, upstream
tables (the dependency graph), materialization and refresh policy:

    -- <table>: one line saying what it holds.
    -- grain: ...
    -- key: col, col
    -- upstream: table, table
    -- materialized: table | view
    -- refresh: by partition | by company | by temporary number[, merged by key][; all companies when <table> changes]

A model lives in the schema named after its layer (`staging`, `history`, `marts`) and refers to other
models by qualified name (`from history.decision_history`).

The files are data of the package `sql` (the top-level folder), read through `importlib.resources`: a
source checkout, an editable install and an installed wheel read them alike.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable

SQL_ROOT: Traversable = files("sql")
LAYERS = ("staging", "history", "marts")
REQUIRED_FIELDS = ("grain", "key", "upstream", "materialized")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_FIELD = re.compile(r"^--\s*([a-z_]+):\s*(.*)$")


class ModelError(ValueError):
    """A model file breaks the conventions (name, header, upstream)."""


@dataclass(frozen=True)
class Model:
    """One SQL model: a table or view whose rows are the file's final select."""

    name: str
    layer: str
    path: Traversable
    sql: str
    summary: str
    grain: str
    key: tuple[str, ...]
    upstream: tuple[str, ...]
    materialized: str
    refresh: str = ""
    full_scope_when: tuple[str, ...] = field(default=())

    @property
    def qualified(self) -> str:
        """`<layer>.<name>`: every model lives in the schema named after its layer."""
        return f"{self.layer}.{self.name}"

    @property
    def is_view(self) -> bool:
        """True when the model is materialized as a view (marts), which a build never fills."""
        return self.materialized == "view"

    @property
    def refresh_kind(self) -> str:
        """'partition', 'company' or 'temporary' (number): what a build recomputes of the model."""
        for kind in ("partition", "company", "temporary"):
            if self.refresh.startswith(f"by {kind}"):
                return kind
        return ""

    @property
    def merged(self) -> bool:
        """True when a build merges the model's recomputed rows (`merged by key`): only rows that differ
        are replaced, and noted as changes for the models downstream."""
        return "merged by key" in self.refresh

    @property
    def stream(self) -> str | None:
        """The input a staging model reads (stg_<input>: a landed stream or a quarantine, see
        `inputs.STREAMS`), else None."""
        return self.name.removeprefix("stg_") if self.layer == "staging" else None


def parse_header(path: Traversable, text: str, layer: str) -> Model:
    """The model a file of `layer` holds, read from its header (`path` names the model and its errors).

    Raises `ModelError` when the file name is not a lower-case identifier, the first line is not
    `-- <name>: ...`, a required field is missing or `materialized` is neither table nor view.
    """
    name = path.name.removesuffix(".sql")
    if not _NAME.match(name):
        raise ModelError(f"{path}: file name must be a lower-case identifier")
    lines = text.splitlines()
    if not lines or not lines[0].startswith(f"-- {name}:"):
        raise ModelError(f"{path}: the first line must be '-- {name}: <what it holds>'")
    fields: dict[str, str] = {}
    current = None
    for line in lines[1:]:
        if not line.startswith("--"):
            break
        match = _FIELD.match(line)
        if match and match.group(1) in (*REQUIRED_FIELDS, "refresh"):
            current = match.group(1)
            fields[current] = match.group(2).strip()
        elif current in ("grain",) and line.startswith("--    "):
            fields[current] += " " + line.lstrip("- ").strip()
        else:
            current = None
    missing = [f for f in REQUIRED_FIELDS if not fields.get(f)]
    if missing:
        raise ModelError(f"{path}: header lacks {', '.join(missing)}")
    if fields["materialized"] not in ("table", "view"):
        raise ModelError(f"{path}: materialized must be table or view")
    refresh = fields.get("refresh", "")
    full_scope_when: tuple[str, ...] = ()
    if "all companies when" in refresh:
        full_scope_when = tuple(
            t.strip() for t in refresh.split("all companies when", 1)[1].replace("changes", "").split(",")
        )
    return Model(
        name=name,
        layer=layer,
        path=path,
        sql=text,
        summary=lines[0].split(":", 1)[1].strip(),
        grain=fields["grain"],
        key=tuple(k.strip() for k in fields["key"].split("(")[0].split(",")),
        upstream=tuple(u.strip() for u in fields["upstream"].split(",")),
        materialized=fields["materialized"],
        refresh=refresh,
        full_scope_when=full_scope_when,
    )


def _toposort(models: dict[str, Model]) -> list[Model]:
    order: list[Model] = []
    state: dict[str, int] = {}

    def visit(name: str, trail: tuple[str, ...]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            raise ModelError(f"dependency cycle: {' -> '.join((*trail, name))}")
        state[name] = 1
        for dep in models[name].upstream:
            if dep in models:
                visit(dep, (*trail, name))
        state[name] = 2
        order.append(models[name])

    for layer in LAYERS:
        for name in sorted(n for n, m in models.items() if m.layer == layer):
            visit(name, ())
    return order


def _model_files(folder: Traversable) -> list[Traversable]:
    """The `.sql` files of one layer's folder, by name (none when the folder does not exist)."""
    if not folder.is_dir():
        return []
    return sorted((f for f in folder.iterdir() if f.is_file() and f.name.endswith(".sql")), key=lambda f: f.name)


@cache
def load_models(sql_root: Traversable = SQL_ROOT) -> tuple[Model, ...]:
    """All models under `sql_root`, in build order (dependencies first).

    Promises: names are unique lower-case identifiers equal to their file names; every header has
    grain, key, upstream and materialized; upstream names are models or, for staging, the landed
    batch `landed_<stream>`; there is no cycle.
    """
    models: dict[str, Model] = {}
    for layer in LAYERS:
        for path in _model_files(sql_root / layer):
            model = parse_header(path, path.read_text(encoding="utf-8"), layer)
            if model.name in models:
                raise ModelError(f"{path}: a model named {model.name} already exists")
            models[model.name] = model
    for model in models.values():
        for dep in model.upstream:
            known = dep in models or (model.layer == "staging" and dep == f"landed_{model.stream}")
            if not known:
                raise ModelError(f"{model.path}: unknown upstream {dep}")
    return tuple(_toposort(models))


def models_by_name(sql_root: Traversable = SQL_ROOT) -> dict[str, Model]:
    """The models keyed by name."""
    return {m.name: m for m in load_models(sql_root)}


def fingerprint(sql_root: Traversable = SQL_ROOT, extra: str = "") -> str:
    """A digest of every model's text (plus `extra`): it changes whenever a definition changes."""
    digest = hashlib.sha256(extra.encode())
    for model in load_models(sql_root):
        digest.update(model.name.encode())
        digest.update(model.sql.encode())
    return digest.hexdigest()[:16]


def select_body(model: Model) -> str:
    """The model's SQL without its header comment lines, ready to wrap in DDL or an insert."""
    return "\n".join(line for line in model.sql.splitlines() if not line.startswith("--")).strip()

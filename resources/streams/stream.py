"""What a stream is: its declaration (endpoint, model, partitioning, day rule, key, columns, dependencies,
description) and the rows one validated record gives.

Everything that lists or handles streams (the landing schema, the Dagster assets, jobs and checks, the
due days, the warehouse's inputs) derives from these declarations, kept in :mod:`.registry`.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Annotated, Any

import pyarrow as pa
from pydantic import ConfigDict, TypeAdapter, ValidationError
from pydantic.alias_generators import to_camel

from resources.cofaserve.endpoints import Endpoint
from resources.cofaserve.records import Record, parse_record
from resources.json_text import canonical_json

from .columns import Column, compile_reader

COMMON_FIELDS: tuple[pa.Field, ...] = (
    pa.field("_partition", pa.date32()),
    pa.field("_run_id", pa.string(), nullable=False),
    pa.field("_extracted_at", pa.timestamp("us", tz="UTC"), nullable=False),
    pa.field("_request", pa.string()),
    pa.field("_raw_json", pa.string()),
)
"""Columns every landed row carries, filled by the landing writer."""

COMMON_COLUMNS = tuple(f.name for f in COMMON_FIELDS)


class Partitioning(enum.Enum):
    """How a stream's landed rows are partitioned, and so which runs land it."""

    DAILY = "daily"
    """By GMT event day; the nightly extraction lands the days due (a range in one run)."""
    AS_OF = "as_of"
    """By the GMT day of the run that took it (a snapshot, a re-poll); landed by its own job."""
    CURRENT = "current"
    """One partition, replaced by each run (reference lists); refreshed before the models."""


class Extraction(enum.Enum):
    """How a stream's records are fetched."""

    LISTING = "listing"
    """The endpoint's list, through the client's paging: for a daily stream over the run's date window,
    otherwise whole. Rows land on the day ``day_of`` gives (the run's day when not daily)."""
    CUSTOM = "custom"
    """Stream-specific logic (by-id fetches of what landed upstream rows mention): the function
    ``extract`` of the module ``assets/<asset>.py``."""


@cache
def _field_adapter(model: type, attribute: str) -> TypeAdapter:
    """A validator of one field of ``model``, with the model's own rules (strict, constraints)."""
    info = model.model_fields[attribute]
    return TypeAdapter(Annotated[info.annotation, *info.metadata], config=ConfigDict(strict=True))


class ContractViolation(ValueError):
    """An item breaks its payload model's contract; ``reason`` (also ``str(exc)``) says where and how."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Stream:
    """The one declaration of a landed stream.

    Rows are read from the payload model of ``endpoint`` by ``columns``. With ``each`` (an attribute of
    the model holding a list, e.g. ``products``), a record gives one row per element: ``columns`` of the
    item, then ``each_columns`` of the element. ``key`` names the columns identifying one version of an
    entity (unique within a partition). ``day`` says in words which day a row lands on; ``day_of`` (a
    LISTING daily stream) reads it from a row. ``depends_on`` names the streams whose landed rows its
    extraction reads; ``extracted_with`` the stream whose asset lands this one too (their extraction is
    one). ``job`` names the job that lands an AS_OF stream. ``reports_total``: the extraction knows how
    many records it should have seen (the API's count, or the ids it asked for), which a check compares.
    """

    name: str
    endpoint: Endpoint
    columns_spec: tuple[Column, ...]
    key: tuple[str, ...]
    partitioning: Partitioning
    day: str
    description: str
    extraction: Extraction = Extraction.LISTING
    each: str | None = None
    each_columns: tuple[Column, ...] = ()
    day_of: Callable[[Mapping[str, Any]], date | None] | None = None
    depends_on: tuple[str, ...] = ()
    extracted_with: str | None = None
    job: str | None = None
    reports_total: bool = True
    typed_schema: pa.Schema = field(init=False, repr=False, compare=False)
    columns: tuple[str, ...] = field(init=False, repr=False, compare=False)
    schema: pa.Schema = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        typed = pa.schema([f for c in self.columns_spec + self.each_columns for f in c.arrow_fields()])
        if len(set(typed.names)) != len(typed.names):
            raise ValueError(f"stream {self.name}: duplicate column names")
        missing = [k for k in self.key if k not in typed.names]
        if missing:
            raise ValueError(f"stream {self.name}: key columns {missing} are not columns")
        if (self.each is None) != (not self.each_columns):
            raise ValueError(f"stream {self.name}: each and each_columns go together")
        if self.extraction is Extraction.LISTING and self.partitioning is Partitioning.DAILY and self.day_of is None:
            raise ValueError(f"stream {self.name}: a daily listing needs day_of")
        if (self.partitioning is Partitioning.AS_OF) != (self.job is not None):
            raise ValueError(f"stream {self.name}: an as-of stream, and only it, names the job that lands it")
        object.__setattr__(self, "typed_schema", typed)
        object.__setattr__(self, "schema", pa.schema(list(typed) + list(COMMON_FIELDS)))
        object.__setattr__(self, "columns", tuple(typed.names))
        object.__setattr__(self, "_read_item", compile_reader(self.columns_spec, self.name))
        object.__setattr__(self, "_read_element", compile_reader(self.each_columns, f"{self.name}_each"))
        object.__setattr__(self, "_served_each", to_camel(self.each) if self.each else None)
        object.__setattr__(self, "_context_needed", frozenset(self.context_keys))

    @property
    def model(self) -> type:
        """The payload model the rows are read from (the endpoint's)."""
        return self.endpoint.model

    @property
    def daily(self) -> bool:
        """True when the stream is partitioned by GMT day (DAILY or AS_OF), False for one current partition."""
        return self.partitioning is not Partitioning.CURRENT

    @property
    def asset(self) -> str:
        """The name of the Dagster asset that lands this stream (its own, or the one it is extracted with)."""
        return self.extracted_with or self.name

    @property
    def context_keys(self) -> tuple[str, ...]:
        """The context values a record of this stream needs (``context`` columns)."""
        return tuple(c.path for c in self.columns_spec + self.each_columns if c.kind == "context")

    def rows(self, record: Record, context: Mapping[str, Any] | None = None) -> list[tuple]:
        """Return the rows of one valid record: tuples of values in ``columns`` order.

        ``record.model`` must be an instance of the stream's model (TypeError otherwise); ``context``
        holds the values of the ``context`` columns (ValueError when one is missing). Pure: the same record gives equal rows.
        """
        model = record.model
        if not isinstance(model, self.endpoint.model):
            raise TypeError(f"stream {self.name} reads {self.endpoint.model.__name__} records, "
                            f"got {type(model).__name__}")
        needed = self._context_needed
        if needed and (context is None or not needed <= context.keys()):
            raise ValueError(f"stream {self.name} needs the context values {sorted(needed)}, got "
                             f"{sorted(context or {})}")
        base = self._read_item(model, record.raw, context)
        if self.each is None:
            return [base]
        read_element = self._read_element
        served = record.raw[self._served_each]
        return [base + read_element(element, element_served, context)
                for element, element_served in zip(getattr(model, self.each), served, strict=True)]

    def served_value(self, raw_json: str | None, column: str) -> Any:
        """The value of a top-level ``column`` in the raw JSON of a record that broke its contract, when
        that one field still meets the model's rule for it; else None (not JSON, absent or invalid).
        For reading what a quarantined record still names (the easy number of a damaged company)."""
        spec = next((c for c in self.columns_spec if c.name == column and "." not in c.path), None)
        if spec is None:
            raise KeyError(f"stream {self.name} has no top-level column {column!r}")
        try:
            value = json.loads(raw_json)[to_camel(spec.path)]
            return _field_adapter(self.endpoint.model, spec.path).validate_json(canonical_json(value))
        except (TypeError, ValueError, KeyError, ValidationError):
            return None

    def parse(self, item: Any, request: str = "") -> Record:
        """Validate one wire item with the stream's payload model (the client's one validation)."""
        return parse_record(self.endpoint.model, item, request)

    def flatten_values(self, item: Any, context: Mapping[str, Any] | None = None) -> list[tuple]:
        """Return the rows of one wire item (tuples in ``columns`` order), validated as the client
        validates it; raise :class:`ContractViolation` with the reason when it breaks its contract."""
        record = self.parse(item)
        if record.error is not None:
            raise ContractViolation(record.error)
        return self.rows(record, context)

    def flatten(self, item: Any, context: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Return the rows of ``flatten_values`` as dicts by column name."""
        return [dict(zip(self.columns, row, strict=True)) for row in self.flatten_values(item, context)]

"""The streams: the one declaration of each landed stream (:mod:`.registry`), what a stream is
(:mod:`.stream`) and how its columns are read from a validated payload model (:mod:`.columns`)."""

from .columns import MONEY_TYPE, Column, canonical_list
from .registry import (
    DAILY_ASSET,
    MODELS_JOB,
    PUSH_ASSET,
    PUSH_JOB,
    REFERENCE_ASSET,
    STREAMS,
    UnknownStream,
    assets,
    daily_streams,
    event_day,
    get_stream,
    portfolio_event_day,
    streams_by,
)
from .stream import COMMON_COLUMNS, COMMON_FIELDS, ContractViolation, Extraction, Partitioning, Stream

__all__ = [
    "COMMON_COLUMNS",
    "DAILY_ASSET",
    "MODELS_JOB",
    "PUSH_ASSET",
    "PUSH_JOB",
    "REFERENCE_ASSET",
    "COMMON_FIELDS",
    "MONEY_TYPE",
    "STREAMS",
    "Column",
    "ContractViolation",
    "Extraction",
    "Partitioning",
    "Stream",
    "UnknownStream",
    "assets",
    "canonical_list",
    "daily_streams",
    "event_day",
    "get_stream",
    "portfolio_event_day",
    "streams_by",
]

"""Manifests: the record of a partition's current run, built, checked and encoded in one place.

A partition's manifest (filed by ``manifest_files.py``, ``key`` from :func:`partition_key`) names its
current run and that run's files, relative to the root; earlier runs stay listed under ``superseded``
until garbage collection removes their files (docs/contracts.md section 3 lists the keys).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import orjson

from .errors import DamagedLanding, LandingError

if TYPE_CHECKING:
    from resources.streams import Stream

    from .store import LandingStore

MANIFEST_VERSION = 1
CURRENT = "current"
"""Partition key of streams that are not daily-partitioned (``_partition`` is NULL)."""

_RUN_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def partition_key(partition: date | None) -> str:
    """Return the folder/manifest key of a partition: ``YYYY-MM-DD``, or ``current`` for None."""
    return CURRENT if partition is None else partition.isoformat()


def checked_run(spec: Stream, partitions: Iterable[date | None], run_id: str,
                api_window: Mapping[str, Any] | None) -> dict | None:
    """Return the api window as JSON-able values once the partitions (days of a daily stream, None
    otherwise) and the run id are valid for ``spec``; else raise LandingError saying which is not."""
    for partition in partitions:
        if spec.daily:
            if not isinstance(partition, date) or isinstance(partition, datetime):
                raise LandingError(
                    f"stream {spec.name} is daily-partitioned: partition must be a date, got {partition!r}")
        elif partition is not None:
            raise LandingError(f"stream {spec.name} is not daily-partitioned: partition must be None, got {partition!r}")
    if not isinstance(run_id, str) or not _RUN_ID_RE.fullmatch(run_id):
        raise LandingError(f"run_id {run_id!r} must be 1-128 letters, digits, '.', '_' or '-'")
    return None if api_window is None else json.loads(json.dumps(dict(api_window), default=_iso))


def _iso(value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"api_window value of type {type(value).__name__} is not JSON-able")


def parse_manifest(raw: bytes, path: str) -> dict:
    """The manifest encoded in ``raw`` (read from ``path``); raise DamagedLanding naming the path when it is
    empty, not JSON, or lacks what every manifest holds."""
    try:
        manifest = orjson.loads(raw)
    except orjson.JSONDecodeError:
        manifest = None
    return checked_manifest(manifest, path, empty=not raw.strip())


def checked_manifest(manifest: Any, path: str, *, empty: bool = False) -> dict:
    """``manifest`` (decoded from ``path``) when it holds what every manifest holds, else DamagedLanding
    naming the path (``empty``: the file was empty)."""
    if not isinstance(manifest, dict) or not {"partition", "run_id", "files", "quarantine_files"} <= manifest.keys():
        what = "empty" if empty else "not a manifest (garbled)"
        raise DamagedLanding(f"the landing manifest {path} is {what}: `cofasync verify` lists what is damaged "
                             "and how to repair it")
    return manifest


def dump_manifest(manifest: dict) -> bytes:
    """The content of a manifest file: indented JSON, keys sorted (one encoding for every writer)."""
    return orjson.dumps(manifest, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)


def next_manifest(previous: dict | None, store: LandingStore, stream: str, partition: date | None, run_id: str,
                  attempt: str, api_window: dict | None, *, files: list[tuple[str, int]], rows: int,
                  quarantine_files: list[str], quarantined: int, digests: Mapping[str, dict],
                  listed_on: date | None = None) -> dict:
    """The manifest naming a new current run of one partition (``files``: absolute paths and their rows;
    ``digests``: ``{"size", "sha256"}`` of each file, data and quarantine, by absolute path), the previous
    run moved to ``superseded`` (kept until garbage collection); dated by the store's clock; ``listed_on``
    the API's today when the run listed the partition (``settling.py``), when known."""
    now = store.clock()
    superseded = [] if previous is None else list(previous.get("superseded", []))
    if previous is not None:
        superseded.append({key: previous[key] for key in ("run_id", "attempt", "files", "quarantine_files")}
                          | {"superseded_at": now.isoformat()})
    return {
        "version": MANIFEST_VERSION,
        "stream": stream,
        "partition": None if partition is None else partition.isoformat(),
        "run_id": run_id,
        "attempt": attempt,
        "files": [store.relative(final) for final, _ in files],
        "file_rows": [count for _, count in files],
        "rows": rows,
        "quarantined": quarantined,
        "quarantine_files": [store.relative(final) for final in quarantine_files],
        "file_digests": {store.relative(final): digests[final] for final in
                         dict.fromkeys([*(final for final, _ in files), *quarantine_files]) if final in digests},
        "written_at": now.isoformat(),
        "listed_on": None if listed_on is None else listed_on.isoformat(),
        "api_window": api_window,
        "superseded": superseded,
    }

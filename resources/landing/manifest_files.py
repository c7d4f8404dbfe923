"""Where the manifests live: the daily partitions of one month share one file.

Layout under ``_manifests/{stream}/`` (docs/contracts.md section 3)::

    month={YYYY-MM}.json   {"version": 2, "stream", "month", "partitions": {"YYYY-MM-DD": manifest}}
    current.json           the manifest of a non-daily stream's one partition
    {YYYY-MM-DD}.json      one day's manifest as landing zones before month files filed it (read, never written)

Why one file per month: a two-year range run commits 730 days at once, and a file per day cost a file
creation and a durable write each, which was a third of the CPU of landing the lists. A month file is
replaced whole (read, change, atomic replace) under the month's own lock, taken after the day locks and
held only for that replacement, so writers of different days of one month never lose each other's
change; the day locks still keep one writer per day. A day in its month file wins over a legacy file of
that day, which only a version without month files wrote; moving a day into its month file removes its
legacy file.
"""

from __future__ import annotations

import logging
import re
from calendar import monthrange
from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING

import orjson

from .errors import DamagedLanding
from .locks import partition_locks
from .manifest import CURRENT, checked_manifest, dump_manifest, parse_manifest

if TYPE_CHECKING:
    from .store import LandingStore

log = logging.getLogger(__name__)

MONTH_FILE_VERSION = 2
MONTH_LOCK_TIMEOUT = 120.0
"""Seconds a writer waits for another writer's replacement of the same month file (a short one)."""
MONTH_PREFIX = "month="
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_MONTH_FILE = re.compile(r"month=(\d{4}-\d{2})\.json")
_LEGACY_DAY_FILE = re.compile(r"(\d{4}-\d{2}-\d{2})\.json")


def file_of(key: str) -> str:
    """The name (without ``.json``) of the file that holds partition ``key``: ``month=YYYY-MM`` for a
    day, the key itself (``current``) otherwise."""
    return f"{MONTH_PREFIX}{key[:7]}" if _DAY.fullmatch(key) else key


def is_month(name: str) -> bool:
    """True when the manifest file ``name`` (without ``.json``) is a month file."""
    return name.startswith(MONTH_PREFIX)


def file_path(store: LandingStore, stream: str, name: str) -> str:
    """The path of the manifest file ``name`` (without ``.json``) of ``stream``."""
    return store.join("_manifests", stream, f"{name}.json")


def path_of(store: LandingStore, stream: str, key: str) -> str:
    """The path of the file that holds partition ``key`` of ``stream`` (the one a writer replaces)."""
    return file_path(store, stream, file_of(key))


def days_of_month_file(name: str) -> list[str]:
    """Every day a month file ``name`` (``month=YYYY-MM``) can hold, in order: what its damage touches."""
    year, month = (int(part) for part in name[len(MONTH_PREFIX):].split("-"))
    return [date(year, month, day).isoformat() for day in range(1, monthrange(year, month)[1] + 1)]


def _read_bytes(store: LandingStore, path: str) -> bytes | None:
    try:
        if store.local:
            with open(path, "rb") as fh:
                return fh.read()
        return store.fs.cat_file(path)
    except FileNotFoundError:
        return None


def _parse_month(raw: bytes, path: str) -> dict[str, dict]:
    try:
        content = orjson.loads(raw)
    except orjson.JSONDecodeError:
        content = None
    entries = content.get("partitions") if isinstance(content, dict) else None
    if not isinstance(entries, dict):
        what = "empty" if not raw.strip() else "not a month of manifests (garbled)"
        raise DamagedLanding(f"the landing manifest {path} is {what}: `cofasync verify` lists what is "
                             "damaged and how to repair it")
    for key, manifest in entries.items():
        checked_manifest(manifest, f"{path} ({key})")
    return entries


def read_file(store: LandingStore, stream: str, name: str) -> dict[str, dict]:
    """{partition key: manifest} of the manifest file ``name`` of ``stream`` (empty when it is absent);
    DamagedLanding naming the file when it is empty or garbled."""
    path = file_path(store, stream, name)
    raw = _read_bytes(store, path)
    if raw is None:
        return {}
    if is_month(name):
        return _parse_month(raw, path)
    return {name: parse_manifest(raw, path)}


def read_many(store: LandingStore, stream: str, keys: list[str], *, damaged_as_absent: bool = False
              ) -> dict[str, dict]:
    """{key: manifest} of the partitions ``keys`` that are landed: each one's entry in its month file
    (each file read once), else its legacy day file. A damaged file raises DamagedLanding, or with
    ``damaged_as_absent`` is logged and holds nothing (a writer replacing it)."""
    files: dict[str, dict[str, dict]] = {}
    legacy: set[str] | None = None  # listed once, when a day is not in its month file
    found: dict[str, dict] = {}

    def read(name: str) -> dict[str, dict]:
        if name not in files:
            try:
                files[name] = read_file(store, stream, name)
            except DamagedLanding as exc:
                if not damaged_as_absent:
                    raise
                log.warning("%s: replaced by the new run", exc)
                files[name] = {}
        return files[name]

    for key in keys:
        manifest = read(file_of(key)).get(key)
        if manifest is None and _DAY.fullmatch(key):
            if legacy is None:
                legacy = set(file_names(store, stream)[1])
            if key in legacy:
                manifest = read(key).get(key)
        if manifest is not None:
            found[key] = manifest
    return found


def listing(store: LandingStore, stream: str) -> list[str]:
    """The paths of every file under ``_manifests/{stream}``, temporary ones included."""
    try:
        return store.fs.ls(store.join("_manifests", stream), detail=False)
    except FileNotFoundError:
        return []


def file_names(store: LandingStore, stream: str) -> tuple[list[str], list[str]]:
    """The manifest files of ``stream`` (names without ``.json``): month files and ``current`` first,
    then legacy day files; temporary files of writers are not listed."""
    names = [path.rsplit("/", 1)[-1] for path in listing(store, stream)]
    files = sorted(n[:-5] for n in names if _MONTH_FILE.fullmatch(n) or n == f"{CURRENT}.json")
    legacy = sorted(n[:-5] for n in names if _LEGACY_DAY_FILE.fullmatch(n))
    return files, legacy


def scan(store: LandingStore, stream: str) -> list[tuple[str, dict[str, dict] | DamagedLanding]]:
    """Every manifest file of ``stream`` read once, as (name, {partition key: manifest}) or (name, the
    DamagedLanding it raised): month files and ``current`` first, then the legacy day files whose day no
    readable month file holds (a day in its month file wins over its legacy file)."""
    files, legacy = file_names(store, stream)
    found: list[tuple[str, dict[str, dict] | DamagedLanding]] = []
    seen: set[str] = set()
    for name in files + legacy:
        if name in seen:
            continue
        try:
            entries = read_file(store, stream, name)
        except DamagedLanding as exc:
            found.append((name, exc))
            continue
        seen |= entries.keys()
        found.append((name, entries))
    return found


def read_all(store: LandingStore, stream: str) -> dict[str, dict]:
    """{partition key: manifest} of every landed partition of ``stream``, in key order; each file read
    once; the first damaged file raises DamagedLanding."""
    found: dict[str, dict] = {}
    for _, entries in scan(store, stream):
        if isinstance(entries, DamagedLanding):
            raise entries
        found.update(entries)
    return dict(sorted(found.items()))


def obsolete_legacy_files(store: LandingStore, stream: str) -> dict[str, str]:
    """{day: path} of legacy day files whose day is in its month file too (a writer killed between
    replacing the month file and removing them): what garbage collection removes."""
    files, legacy = file_names(store, stream)
    in_months: set[str] = set()
    for name in files:
        if is_month(name):
            in_months |= read_file(store, stream, name).keys()
    return {key: file_path(store, stream, key) for key in legacy if key in in_months}


def replace(store: LandingStore, stream: str, manifests: Mapping[str, dict]) -> None:
    """File ``manifests`` ({partition key: manifest}) as the current manifests of their partitions, each
    file that holds one replaced atomically and durably; the caller holds the locks of those partitions.
    A month file that is damaged is replaced by one holding only these days (logged: its other days are
    no longer landed, and the next sync extracts them again)."""
    by_file: dict[str, dict[str, dict]] = {}
    for key, manifest in manifests.items():
        by_file.setdefault(file_of(key), {})[key] = manifest
    month_files = sorted(name for name in by_file if is_month(name))
    _, legacy = file_names(store, stream)
    with partition_locks(store, stream, month_files, timeout=MONTH_LOCK_TIMEOUT):
        updates = []
        for name, entries in sorted(by_file.items()):
            path = file_path(store, stream, name)
            if not is_month(name):
                updates.append((path, dump_manifest(entries[name])))
                continue
            try:
                current = read_file(store, stream, name)
            except DamagedLanding as exc:
                log.warning("%s: replaced by one holding only the days this run lands; the month's other "
                            "days are no longer landed and the next sync extracts them again", exc)
                current = {}
            merged = dict(sorted({**current, **entries}.items()))
            updates.append((path, dump_manifest({"version": MONTH_FILE_VERSION, "stream": stream,
                                                 "month": name[len(MONTH_PREFIX):], "partitions": merged})))
        store.put_many_atomic(updates)
    for key in set(legacy) & manifests.keys():  # the day now lives in its month file
        store.remove(file_path(store, stream, key))

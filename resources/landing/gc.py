"""Garbage collection of the landing zone: files of runs superseded longer ago than the retention, and
leftovers of failed or killed writers. The entry point is :meth:`LandingStore.garbage_collect`."""

from __future__ import annotations

import contextlib
import os
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from . import manifest_files
from .errors import PartitionLocked
from .locks import partition_lock
from .range_writer import RANGE_PREFIX

if TYPE_CHECKING:
    from .store import LandingStore

_TEMPORARY_MANIFEST = re.compile(r"\.(.+)\.json\.tmp-[^/]+")  # name of a manifest being replaced


def collect(store: LandingStore, stream: str, cutoff: datetime) -> list[str]:
    """Remove the files of ``stream`` that no reader needs, keeping runs superseded at or after
    ``cutoff``; return what was removed (absolute paths/URLs). :meth:`LandingStore.garbage_collect`
    says what is removed and what is never."""
    keys = set(store.manifest_keys(stream))
    ranges: set[str] = set()
    for quarantine in (False, True):
        with contextlib.suppress(FileNotFoundError):
            listed = store.fs.ls(store.stream_dir(stream, quarantine), detail=False)
            keys |= {p.rsplit("/partition=", 1)[-1] for p in listed if "/partition=" in p}
            ranges |= {p.rsplit("/", 1)[-1] for p in listed if p.rsplit("/", 1)[-1].startswith(RANGE_PREFIX)}
    needed = _needed_files(store, stream, cutoff)
    temporary_manifests: dict[str, list[str]] = {}  # of writers killed while committing, by file name
    for path in manifest_files.listing(store, stream):
        found = _TEMPORARY_MANIFEST.fullmatch(path.rsplit("/", 1)[-1])
        if found:
            temporary_manifests.setdefault(found.group(1), []).append(path)
    for key, path in manifest_files.obsolete_legacy_files(store, stream).items():
        temporary_manifests.setdefault(key, []).append(path)
    removed: list[str] = []
    for name in sorted(set(temporary_manifests) - keys):  # month files: removed under the month's lock
        try:
            with partition_lock(store, stream, name):
                removed += _remove_temporary(store, temporary_manifests[name], cutoff)
        except PartitionLocked:
            continue
    for key in sorted(keys):
        try:
            with partition_lock(store, stream, key):
                removed += _collect_partition(store, stream, key, cutoff, needed, temporary_manifests.get(key, []))
        except PartitionLocked:
            continue
    for key in sorted(ranges):
        try:
            with partition_lock(store, stream, key):
                removed += _collect_files(store, stream, key, cutoff, needed)
        except PartitionLocked:
            continue
    return list(dict.fromkeys(removed))  # a range run's file is expired by each of its days


def _needed_files(store: LandingStore, stream: str, cutoff: datetime) -> set[str]:
    """Files some manifest of ``stream`` names as current, or as superseded after ``cutoff``."""
    needed: set[str] = set()
    for manifest in store.manifests(stream):
        needed |= set(manifest["files"]) | set(manifest["quarantine_files"])
        for old in manifest.get("superseded", []):
            if datetime.fromisoformat(old["superseded_at"]) >= cutoff:
                needed |= set(old["files"]) | set(old["quarantine_files"])
    return needed


def _collect_partition(store: LandingStore, stream: str, key: str, cutoff: datetime, needed: set[str],
                       temporary_manifests: list[str]) -> list[str]:
    manifest = store.read_manifest(stream, key)
    keep: set[str] = set()  # besides ``needed``: this partition's files (read under its lock)
    expired: list[str] = []
    if manifest is not None:
        keep |= set(manifest["files"]) | set(manifest["quarantine_files"])
        still = []
        for old in manifest.get("superseded", []):
            if datetime.fromisoformat(old["superseded_at"]) < cutoff:
                expired += old["files"] + old["quarantine_files"]
            else:
                still.append(old)
                keep |= set(old["files"]) | set(old["quarantine_files"])
        if len(still) != len(manifest.get("superseded", [])):
            store.replace_manifests(stream, {key: {**manifest, "superseded": still}})
    removed = []
    for relative in expired:
        if relative not in keep and relative not in needed:
            store.remove(store.join(relative))
            removed.append(store.absolute(relative))
    removed += _remove_temporary(store, temporary_manifests, cutoff)
    return removed + _collect_files(store, stream, f"partition={key}", cutoff, needed, keep)


def _remove_temporary(store: LandingStore, paths: list[str], cutoff: datetime) -> list[str]:
    """Remove the temporary manifest files ``paths`` of killed writers (the caller holds their lock)."""
    removed = []
    for path in paths:
        if store.local or _older_than(store.fs, path, cutoff):
            store.remove(path)
            removed.append(store.absolute(store.relative(path)))
    return removed


def _collect_files(store: LandingStore, stream: str, folder: str, cutoff: datetime, keep: set[str],
                   also_keep: set[str] = frozenset()) -> list[str]:
    """Remove the files under ``{stream}/{folder}`` (data and quarantine) that ``keep`` and
    ``also_keep`` do not name."""
    removed = []
    for quarantine in (False, True):
        directory = f"{store.stream_dir(stream, quarantine)}/{folder}"
        for path in store.fs.find(directory):
            relative = store.relative(path)
            if relative in keep or relative in also_keep or (
                    not store.local and not _older_than(store.fs, path, cutoff)):
                continue
            store.remove(path)
            removed.append(store.absolute(relative))
        if store.local:
            _remove_empty_dirs(directory)
    return removed


def _older_than(fs: Any, path: str, cutoff: datetime) -> bool:
    try:
        modified = fs.modified(path)
    except (NotImplementedError, FileNotFoundError, OSError):
        return False
    if modified.tzinfo is None:
        modified = modified.replace(tzinfo=UTC)
    return modified < cutoff


def _remove_empty_dirs(directory: str) -> None:
    for current, _dirs, _files in sorted(os.walk(directory), key=lambda t: -len(t[0])):
        with contextlib.suppress(OSError):
            os.rmdir(current)

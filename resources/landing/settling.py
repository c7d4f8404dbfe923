"""The settling window: a landed day is listed again on the nights after its first, until it is final.

The API shows a record in a day's list only once it is visible, and a record can become visible hours
or days after its event time. A day's first run therefore cannot be trusted to hold everything the day
will ever show: for ``settle_days`` nights after the day each run of it **extends** the current run
instead of replacing it. An extending run's manifest names the previous run's files and its own (only
records not landed yet: a record whose raw JSON the day already holds is not written again), so what
an earlier night saw is never lost, and a record that moved to a later day's list since stays where it
was seen. Once a day has been listed ``settle_days`` days after itself it is **final**: a later run of
it (an explicit backfill) replaces it, as every run does when settling is off (``settle_days`` 0).

Each manifest records ``listed_on``: the API's today when its run listed the day (manifests written
before this field count from the day they were written).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .manifest import partition_key


@dataclass(frozen=True)
class Relisting:
    """How a run lands the days that already have a current run: ``listed_on`` the API's today when it
    lists (None: unknown, the manifest then counts from the day it is written), ``settle_days`` the
    settling window, ``replace`` a run that replaces whatever it lands on (a repair)."""

    listed_on: date | None = None
    settle_days: int = 0
    replace: bool = False

    def extends(self, previous: dict | None, day: date) -> bool:
        """Whether a run of ``day`` extends the day's current run (``previous``, its manifest) instead of
        replacing it: the day has a run, is not final, and this run is not a replacing one."""
        return previous is not None and not self.replace and not is_final(previous, day, self.settle_days)


def listed_on(manifest: dict) -> date | None:
    """The API's today when the run ``manifest`` names listed its day (for a manifest without the field,
    the day it was written; None when neither is readable)."""
    value = manifest.get("listed_on") or (manifest.get("written_at") or "")[:10]
    try:
        return date.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def is_final(manifest: dict, day: date, settle_days: int) -> bool:
    """Whether ``day``, whose current run ``manifest`` names, is final: listed at least ``settle_days``
    days after itself (always, with no settling window)."""
    if settle_days <= 0:
        return True
    seen = listed_on(manifest)
    return seen is None or (seen - day).days >= settle_days


def settling(manifests: dict[date, dict], settle_days: int) -> list[date]:
    """The days of ``manifests`` ({day: current manifest}) that are not final yet, in order."""
    return sorted(day for day, manifest in manifests.items() if not is_final(manifest, day, settle_days))


def extended_files(previous: dict, files: list[tuple[str, int]], quarantine_files: list[str],
                   path_of) -> tuple[list[tuple[str, int]], list[str], dict]:
    """The files an extending run's manifest names: the previous run's (``previous``, relative paths as
    ``path_of`` names them under the root) before this run's (``files`` with their rows: those holding
    none are left out), and the previous digests by the same paths."""
    counts = previous.get("file_rows") or [None] * len(previous["files"])  # unknown in early manifests
    # a file the previous run named for none of the day's rows (the mark of a day landed empty) is dropped
    old_files = [(path_of(f), rows) for f, rows in zip(previous["files"], counts, strict=True) if rows != 0]
    old_quarantine = [path_of(f) for f in previous["quarantine_files"]]
    digests = {path_of(f): d for f, d in (previous.get("file_digests") or {}).items()}
    named = {f for f, _ in old_files}
    return ([*old_files, *((f, rows) for f, rows in files if rows and f not in named)],
            [*old_quarantine, *(f for f in quarantine_files if f not in old_quarantine)], digests)



def extending_days(store, stream: str, days: list[date]) -> list[date]:
    """The days of ``days`` a run of ``stream`` on ``store`` extends (``store.relisting``): still settling,
    with a current run; none when the store's runs replace."""
    relisting = store.relisting
    if relisting.settle_days <= 0 or relisting.replace or not days:
        return []
    previous = store.previous_manifests(stream, [partition_key(day) for day in days])
    return [day for day in days if relisting.extends(previous.get(partition_key(day)), day)]

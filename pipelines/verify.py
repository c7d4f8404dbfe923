"""`cofasync verify`: check every landed file against the digest recorded when it landed, name each damaged
file or manifest, and say how to repair it (re-extraction where the API still serves the day)."""

from __future__ import annotations

from datetime import date

from resources.calendar import InvalidPartitionKey, PartitionOutsideWindow, check_in_window
from resources.landing import verify_landing
from resources.streams import STREAMS, Partitioning


def repair_advice(stream: str, partitions: list[str], today: date, contract_start: date | None,
                  policy: str | None = None) -> str:
    """How to replace a damaged file that ``stream``'s ``partitions`` name (a range run's file is shared by
    its days): the command that re-extracts them when the API can serve them again, else why it cannot."""
    kind = STREAMS[stream].partitioning
    if kind is Partitioning.CURRENT:
        return "repair: `cofasync sync` lands this reference list again"
    if kind is Partitioning.DAILY:
        servable, lost = [], []
        for day in sorted(partitions):
            try:
                check_in_window(day, today, contract_start)
                servable.append(day)
            except (InvalidPartitionKey, PartitionOutsideWindow):
                if day < today.isoformat():  # a day not finished yet cannot have been landed
                    lost.append(day)
        if not servable:
            return ("unrecoverable from the API (days outside its two-year window): restore the file from a "
                    "backup of the landing zone")
        command = f"cofasync backfill --from {servable[0]} --to {servable[-1]} --streams {stream}" + (
            f" --policy {policy}" if policy else "")
        if STREAMS[stream].depends_on:  # by id: the landed lists name the same records, fetched again alike
            advice = f"repair: `{command}` (the API still serves these days)"
        else:
            advice = (f"repair: `{command}` (the API still serves these days, in its current state: a version seen "
                      "only in the damaged file is not served any more; restore the file from a backup if you have one)")
        if lost:
            advice += (f"; {lost[0]} to {lost[-1]} are outside the API's window: restore those from a backup of "
                       "the landing zone if they were landed")
        return advice
    return ("unrecoverable from the API (it serves only the current state, not that day's): restore the file "
            f"from a backup; the next run of `{STREAMS[stream].job}` lands the current state")


def run_verify(store, today: date, contract_start: date | None, first: date | None, last: date | None) -> int:
    """Verify the landing zone (daily partitions from ``first`` to ``last`` when given), print what was
    checked and every damage with its repair; return 0 when all is intact, else 1."""
    report = verify_landing(store, list(STREAMS), first, last)
    print(f"verified {report.manifests:,} manifests and {report.files:,} files of {len(STREAMS)} streams "
          f"in {store.path}")
    if not report.damages:
        print("every landed file matches what was landed")
        return 0
    by_file: dict[tuple[str, str], list] = {}
    for damage in report.damages:
        by_file.setdefault((damage.stream, damage.path), []).append(damage)
    print(f"DAMAGED: {len(by_file)} file(s) or manifest(s)")
    for (stream, path), damages in by_file.items():
        partitions = sorted(d.partition for d in damages)
        named_by = partitions[0] if len(partitions) == 1 else f"{partitions[0]} to {partitions[-1]} ({len(partitions)} days)"
        print(f"  {stream} {named_by}: {path}\n    {damages[0].problem}\n    "
              f"{repair_advice(stream, partitions, today, contract_start, store.policy)}")
    return 1

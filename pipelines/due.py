"""What is due: the GMT days whose nightly extraction has not landed yet, as contiguous ranges, each with
the daily streams it still lacks.

One implementation, used by the nightly schedule (which also catches up missed nights) and by `cofasync
sync`. The landing zone's manifests are the truth: a day is done when every daily stream has a current
manifest for it, and final once it is older than the settling window (until then each night lists it
again: ``resources.landing.settling``). A run killed after some of its streams committed (a by-id stream
commits the days it has finished at every checkpoint) leaves days where only some streams are missing:
the run that resumes them lands only those streams (their by-id fetches read the lists as they landed),
so nothing a checkpoint holds is fetched again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from resources.calendar import first_partition
from resources.landing.settling import listed_on, settling
from resources.streams import daily_streams

DAILY_STREAMS = tuple(daily_streams())
_ONE_DAY = timedelta(days=1)


def landed_days(store) -> set[date]:
    """Return the days for which every daily stream has a current manifest."""
    per_stream = []
    for stream in DAILY_STREAMS:
        per_stream.append({p for p in store.partitions(stream) if isinstance(p, date)})
    return set.intersection(*per_stream) if per_stream else set()


def missing_ranges(done: set[date], first: date, last: date) -> list[tuple[date, date]]:
    """Return the contiguous ranges (first day, last day, both included) of days in [first, last] not
    in ``done``, oldest first."""
    ranges: list[tuple[date, date]] = []
    day = first
    while day <= last:
        if day in done:
            day += _ONE_DAY
            continue
        start = day
        while day <= last and day not in done:
            day += _ONE_DAY
        ranges.append((start, day - _ONE_DAY))
    return ranges


@dataclass(frozen=True)
class DueRange:
    """Contiguous days (``first`` to ``last``, both included) that lack the same daily ``streams`` (in
    declaration order; every daily stream for days nothing has landed on, or still settling) in the zones
    of the same ``policies``.
    ``settling``: how many of them have landed but are listed again (``resources.landing.settling``);
    ``replace``: the run replaces what the days hold (a backfill), settling or not."""

    first: date
    last: date
    streams: tuple[str, ...]
    settling: int = 0
    replace: bool = False
    policies: tuple[str, ...] = ()
    """The policies whose zones lack the days (empty: every policy the account lists, new ones included)."""

    @property
    def every_stream(self) -> bool:
        """True when the days lack every daily stream (the run lands them all)."""
        return self.streams == DAILY_STREAMS


def _daily_manifests(store) -> dict[str, dict[date, dict]]:
    """{daily stream: {day: its current manifest}}, one read of each stream's manifests."""
    return {stream: {date.fromisoformat(m["partition"]): m for m in store.manifests(stream) if m["partition"]}
            for stream in DAILY_STREAMS}


def settling_days(store, today: date | None = None, manifests: dict[str, dict[date, dict]] | None = None
                  ) -> list[date]:
    """The landed days still settling (``store.relisting.settle_days``): some daily stream's current run
    of the day was listed fewer days after it than the window; with ``today``, only those not listed
    again today yet (what a sync of ``today`` lists again). ``manifests``: as :func:`_daily_manifests`
    reads them, when the caller has them already."""
    settle_days = store.relisting.settle_days
    if settle_days <= 0:
        return []
    days: set[date] = set()
    for by_day in (manifests or _daily_manifests(store)).values():
        days.update(day for day in settling(by_day, settle_days)
                    if today is None or (listed_on(by_day[day]) or today) < today)
    return sorted(days)


def _lacking(store, today: date, first: date, last: date) -> dict[date, tuple[tuple[str, ...], int]]:
    """{day: (the daily streams one policy's zone lacks, 1 when the day is listed again)} over the days."""
    landed = _daily_manifests(store)
    again = set(settling_days(store, today, landed))
    out = {}
    day = first
    while day <= last:
        lacking = DAILY_STREAMS if day in again else tuple(s for s in DAILY_STREAMS if day not in landed[s])
        if lacking:
            out[day] = (lacking, int(day in again))
        day += _ONE_DAY
    return out


def due_work(stores, today: date, contract_start: date | None = None) -> list[DueRange]:
    """Return what is due on ``today`` in the zones of ``stores`` (one policy's store, or a list: one per
    policy the sync knows), oldest first: every day from the first available partition (the contract start,
    never before the API's window) up to yesterday that some zone's daily stream has not landed, or that is
    still settling and was not listed today yet (every stream again), in contiguous ranges of days that
    lack the same streams in the same policies. A range every known policy lacks names no policy (its run
    lands every policy the account lists, new ones included)."""
    stores = list(stores) if isinstance(stores, list | tuple) else [stores]
    first, last = first_partition(today, contract_start), today - _ONE_DAY
    per_policy = [(store.policy or "", _lacking(store, today, first, last)) for store in stores]
    work: list[DueRange] = []
    day = first
    while day <= last:
        found = [(policy, by_day[day]) for policy, by_day in per_policy if day in by_day]
        if found:
            lacking = tuple(s for s in DAILY_STREAMS if any(s in streams for _, (streams, _) in found))
            policies = () if len(found) == len(per_policy) else tuple(p for p, _ in found)
            settles = max(settle for _, (_, settle) in found)
            previous = work[-1] if work else None
            if previous and (previous.streams, previous.policies) == (lacking, policies) \
                    and previous.last == day - _ONE_DAY:
                work[-1] = DueRange(previous.first, day, lacking, previous.settling + settles, policies=policies)
            else:
                work.append(DueRange(day, day, lacking, settles, policies=policies))
        day += _ONE_DAY
    return work


def due_ranges(store, today: date, contract_start: date | None = None) -> list[tuple[date, date]]:
    """Return the ranges of days due on ``today`` (see :func:`due_work`), whatever streams they lack."""
    return missing_ranges(landed_days(store), first_partition(today, contract_start), today - _ONE_DAY)


def partition_range_tags(first: date, last: date) -> dict[str, str]:
    """The run tags that make one Dagster run cover the partitions ``first`` to ``last`` (a single-run
    backfill)."""
    return {
        "dagster/asset_partition_range_start": first.isoformat(),
        "dagster/asset_partition_range_end": last.isoformat(),
    }

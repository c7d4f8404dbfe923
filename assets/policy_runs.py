"""Which policies an extraction run lands, and one stream's figures over all of them.

By default a run lands every policy ``GET /policies`` lists for the account (``COFASERVE_POLICIES``
may restrict them); a run tagged ``cofasync/policies`` (a comma-separated list: the launchpad, a UI
backfill's tags, ``cofasync backfill --policy``) lands only those. Every policy is extracted with the
run's one client, whose rate budget per endpoint all of them share.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, fields

import dagster as dg

from resources.landing import LandedSummary
from resources.landing.policies import parse_policy_list

POLICIES_TAG = "cofasync/policies"
"""A run tagged with a comma-separated list of policy numbers lands only those policies."""


@dataclass(frozen=True)
class RunPolicies:
    """The policies a run lands (``landed``), those the account lists that the settings leave out
    (``left_out``), and those a tag or the settings name that the account does not list (``unlisted``)."""

    landed: tuple[str, ...]
    left_out: tuple[str, ...] = ()
    unlisted: tuple[str, ...] = field(default=())


def choose_policies(listed: list[str], restriction: tuple[str, ...], tagged: tuple[str, ...]) -> RunPolicies:
    """The policies a run lands among ``listed`` (the API's, in its order): those of the run's tag, else
    those the settings' ``restriction`` keeps (every listed one without it). A tag naming a policy that
    is not listed, or that the restriction leaves out, raises ``dg.Failure`` (nothing is extracted);
    a restriction naming an unlisted policy is reported in ``unlisted``."""
    kept = [p for p in listed if not restriction or p in restriction]
    if tagged:
        wrong = [p for p in tagged if p not in kept]
        if wrong:
            why = "COFASERVE_POLICIES leaves them out" if set(wrong) <= set(listed) else "the account does not list them"
            raise dg.Failure(
                description=f"the run's {POLICIES_TAG} tag names {', '.join(wrong)}, but {why} (GET /policies lists "
                            f"{', '.join(listed) or 'none'}): nothing was extracted; tag the run with policies "
                            "it may land, or none for every one", allow_retries=False)
        return RunPolicies(tuple(p for p in kept if p in tagged), tuple(p for p in listed if p not in kept))
    if not kept:
        raise dg.Failure(description=f"COFASERVE_POLICIES={','.join(restriction)} keeps none of the policies the "
                                     f"account lists ({', '.join(listed) or 'none'}): nothing was extracted; "
                                     "fix COFASERVE_POLICIES, or leave it empty for every policy",
                         allow_retries=False)
    return RunPolicies(tuple(kept), tuple(p for p in listed if p not in kept),
                       tuple(p for p in restriction if p not in listed))


_LISTED: dict[tuple, tuple[float, list[str]]] = {}
LISTING_KEPT_SECONDS = 900.0
"""How long a process reuses the account's policy list (the runs of one sync ask once)."""


def listed_policies(client) -> list[str]:
    """The policy numbers ``GET /policies`` lists for the account, in its order: one listing per account
    and process every ``LISTING_KEPT_SECONDS`` (a record that fails its model raises, since the run could
    not say which policies it lands)."""
    key = (client.settings.business_root, client.settings.username)
    kept = _LISTED.get(key)
    if kept is not None and time.monotonic() - kept[0] < LISTING_KEPT_SECONDS:
        return list(kept[1])
    numbers = []
    for record in client.iter_policies():
        if record.model is None:
            raise dg.Failure(description=f"GET /policies served a policy that fails its contract "
                                         f"({record.error}): nothing was extracted", allow_retries=False)
        numbers.append(record.model.policy_number)
    numbers = list(dict.fromkeys(numbers))
    _LISTED[key] = (time.monotonic(), numbers)
    return numbers


def run_policies(context, client, landing) -> RunPolicies:
    """The policies a Dagster run lands: those the account lists (one ``GET /policies``), kept by the
    landing resource's restriction, narrowed by the run's ``cofasync/policies`` tag; a listed policy left
    out, or a zone's policy the account no longer lists, is logged (its history stays)."""
    chosen = choose_policies(listed_policies(client), landing.restriction(), parse_policy_list(
        context.run.tags.get(POLICIES_TAG)))
    landed_zones = landing.store().policies()
    gone = tuple(p for p in landed_zones if p not in chosen.landed and p not in chosen.left_out)
    if chosen.left_out:
        context.log.info(f"policies the account lists that COFASERVE_POLICIES leaves out: {', '.join(chosen.left_out)}")
    if chosen.unlisted or gone:
        context.log.warning(f"policies no longer listed by the account, their history kept: "
                            f"{', '.join(dict.fromkeys(chosen.unlisted + gone))}")
    return RunPolicies(chosen.landed, chosen.left_out, tuple(dict.fromkeys(chosen.unlisted + gone)))


def policies_metadata(policies: RunPolicies) -> dict[str, str]:
    """The run's policies as metadata (``policies``; the ones left out or no longer listed, when any)."""
    metadata = {"policies": ", ".join(policies.landed)}
    if policies.left_out:
        metadata["policies_left_out"] = ", ".join(policies.left_out)
    if policies.unlisted:
        metadata["policies_no_longer_listed"] = ", ".join(policies.unlisted)
    return metadata


_SUMMED = ("records", "duplicate_keys", "outside_days", "unknown_field_records", "checkpoints", "already_landed")
_DAYS = ("rows_by_day", "quarantined_by_day", "held_by_day")


def combined(summaries: list[LandedSummary]) -> LandedSummary:
    """One stream's figures over the policies a run landed: counts and per-day figures summed, unknown
    fields united, the API's totals summed (None when a policy's is unknown), the first API window."""
    if len(summaries) == 1:
        return summaries[0]
    first = summaries[0]
    total = LandedSummary(first.stream)
    for summary in summaries:
        for name in _SUMMED:
            setattr(total, name, getattr(total, name) + getattr(summary, name))
        for name in _DAYS:
            into = getattr(total, name)
            for day, value in getattr(summary, name).items():
                into[day] = into.get(day, 0) + value
        for name, value in summary.figures.items():
            total.figures[name] = total.figures.get(name, 0) + value
        total.unknown_fields |= summary.unknown_fields
    reported = [s.reported_total for s in summaries]
    total.reported_total = None if None in reported else sum(reported)
    total.api_window = first.api_window
    return total


# every figure of a summary is combined: a field added to LandedSummary must be added above
assert {f.name for f in fields(LandedSummary)} == {"stream", "reported_total", "api_window", "figures",
                                                     "unknown_fields", *_SUMMED, *_DAYS}

"""The plan of a range of days: the by-id calls per endpoint the lists name, each endpoint's budget, and the
time the fetches need with every endpoint busy at once. Computed by the very functions the extraction
uses to choose what to fetch, so the plan's counts are the calls the run makes (but for what changes at
the API meanwhile)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import date

from resources.cofaserve import endpoints as ep
from resources.landing import LandingStore
from resources.streams import DAILY_ASSET, Extraction, assets

from . import deliveries, orders, overdues
from .extraction import extract_listing

BY_ID_ENDPOINT = {deliveries.STREAM: ep.DELIVERY, orders.STREAM: ep.ORDER, overdues.STREAM: ep.OVERDUE,
                  overdues.DOCUMENTS_STREAM: ep.OVERDUE_DOCUMENTS}
"""The endpoint each by-id stream of a daily run fetches from, side by side (assets/daily_changes.py)."""
BY_ID = tuple(BY_ID_ENDPOINT.values())
LISTS = (ep.NOTIFICATIONS, ep.PORTFOLIO, ep.OVERDUES)
"""The list endpoints paged before them."""


@dataclass(frozen=True)
class EndpointPlan:
    """The by-id calls of one endpoint and its budget (requests per minute)."""

    endpoint: str
    calls: int
    rate_per_minute: float
    assumed: bool = False
    """True when the API has not advertised this endpoint's limit yet: the lists' limit is assumed."""

    @property
    def seconds(self) -> float:
        """The time these calls take at the endpoint's budget."""
        return 60.0 * self.calls / self.rate_per_minute


@dataclass(frozen=True)
class RangePlan:
    """What a run of ``first`` to ``last`` fetches by id, once its lists are paged."""

    first: date
    last: date
    endpoints: tuple[EndpointPlan, ...]

    @property
    def calls(self) -> int:
        """Every by-id call of the range."""
        return sum(e.calls for e in self.endpoints)

    @property
    def seconds(self) -> float:
        """The by-id phase's duration with every endpoint busy at once: the slowest endpoint's."""
        return max((e.seconds for e in self.endpoints), default=0.0)

    def lines(self) -> list[str]:
        """The plan as lines of text."""
        days = (self.last - self.first).days + 1
        out = [f"plan of {self.first} to {self.last} ({days:,} days): {self.calls:,} by-id calls, "
               f"about {duration_text(self.seconds)} with every endpoint busy at once"]
        width = max(len(e.endpoint) for e in self.endpoints)
        for e in self.endpoints:
            out.append(f"  {e.endpoint:<{width}}  {e.calls:>7,} calls at {e.rate_per_minute:,.0f}/min  "
                       f"{duration_text(e.seconds):>8}" + ("  (budget assumed: the lists' advertised limit)"
                                                        if e.assumed else ""))
        return out


def duration_text(seconds: float) -> str:
    """``seconds`` as ``1h05m`` (an hour or more) or ``2m06s``."""
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m{rest % 60:02d}s"


def by_id_calls(store: LandingStore, days: list[date], listed) -> dict[str, int]:
    """{endpoint: calls} a run of ``days`` makes by id, from the lists landed in ``store`` and the overdue
    cases ``listed`` (:func:`overdues.changed_overdues`)."""
    cases = len(listed.wanted) if listed is not None else 0
    refreshed = len(listed.refresh or {}) if listed is not None else 0
    return {ep.DELIVERY.name: len(deliveries.changed_deliveries(store, days)),
            ep.ORDER.name: len(orders.changed_orders(store, days)),
            ep.OVERDUE.name: cases, ep.OVERDUE_DOCUMENTS.name: cases + refreshed}


def range_plan(client, store: LandingStore, days: list[date], listed,
               endpoints: tuple[ep.Endpoint, ...] = BY_ID) -> RangePlan:
    """The plan of ``days`` from the lists landed in ``store`` (see :func:`by_id_calls`), for
    ``endpoints``, each at the budget the client holds for it now (the setting until the API has
    advertised its limit)."""
    calls = by_id_calls(store, days, listed)
    budget = client.rate_budget
    # an endpoint not called yet has no advertised limit: the limit is per endpoint and user, and what the
    # lists were just told is the best estimate (the client's setting otherwise)
    advertised = [budget.rate_per_minute(key) for key in (e.route(client.settings) for e in LISTS)
                  if budget.server_limit(key)]
    plans = []
    for e in endpoints:
        key = e.route(client.settings)
        assumed = not budget.server_limit(key) and bool(advertised)
        rate = min(advertised) if assumed else budget.rate_per_minute(key)
        plans.append(EndpointPlan(e.name, calls[e.name], rate, assumed))
    return RangePlan(days[0], days[-1], tuple(plans))


def plan_without_landing(client, days: list[date]) -> RangePlan:
    """Page the lists of ``days`` into a scratch landing zone (deleted after) and return the plan: what
    `cofasync backfill --plan` prints. Nothing is landed in the real landing zone."""
    with tempfile.TemporaryDirectory(prefix="cofasync-plan-") as scratch:
        store = LandingStore(scratch)
        for stream in assets()[DAILY_ASSET]:
            if stream.extraction is Extraction.LISTING:  # the lists the by-id fetches read
                extract_listing(client, store, stream, days, "plan")
        return range_plan(client, store, days, overdues.changed_overdues(client, days))

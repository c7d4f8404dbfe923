"""The oracle: what the API exposed, derived from the sandbox's ground truth and the nights the driver
recorded; the history tables must hold exactly that (invariant 5). This module holds the rules and what
every part of the derivation shares; `oracle_decisions`, `oracle_links` and `oracle_orders` derive each
table.

**What the API exposed** (the rules `Oracle.expected` derives from the truth; strict, nothing is
tolerated). A *night* t is one sandbox day on which a sync completed (the harness re-runs a killed or
failed sync the same night); it lands the days D(t): the first night every day from the first available
partition (retention start, or `COFASERVE_CONTRACT_START`) to t-1, later nights the days since the last
night and the days still settling (landed, but listed fewer than `COFASYNC_SETTLE_DAYS` days after
themselves: the pipeline lists them again). "Visible at t" means an instant strictly before t 00:00:00Z;
"shown at t" (in a dated list: notifications, the portfolio and overdue lists by date) means visible at t
and, for a decision or an overdue version the sandbox shows late (truth `listedFrom`), that instant
visible at t too. `lines(t)` is the truth's portfolio lines captured at night t.
A record damaged by the sandbox (truth `malformed`; the same key is damaged each time it is served) never
lands; what it alone would have shown is not exposed.

- Portfolio rows of night t: the lines of `lines(t)` that are listed and whose event (the later of the
  last decision and the order's last status change visible at t) falls on a day of D(t), unless the
  company's portfolio record is damaged or the line's event is a decision not shown at t. Snapshot rows: every listed line of `lines(s)` on a night s
  whose landing holds a `portfolio_snapshot` partition, company not damaged; the snapshot's time is
  00:00:00Z of that partition's day: its listing shows what happened before then (the API's today), so a
  decision made between then and the extraction is not shown yet, never absent.
- Decisions (`decision_history`): a delivery is exposed when its detail landed, or a portfolio or
  snapshot row showed it as the line's last decision. Its detail is fetched on each night t where its
  decision day is in D(t) and its notification is shown at t, or a portfolio row of t names it; it lands when the
  delivery is not damaged and the API served it then (decided at or after t's retention start, or the
  current decision of an active line). Key: (definitive easy number, product). Versions are ordered by
  (decision_at, delivery_id); valid_from = decision_at; valid_to = the next version's valid_from, or the
  closing row's. Requested amount and conditions are known only from the detail; `source_stream` is
  `deliveries` when the detail landed, else `portfolio`, else `portfolio_snapshot`.
- Closing rows: for each version, the first snapshot taken after the last snapshot listing the key
  while that version was current (or after its decision when none) and before the next version, if any.
  The key is listed by a snapshot when `lines(s)` lists the line under the key's definitive number or
  under one of its exposed temporary numbers, even when the company's record was served damaged (a
  quarantined record is not an absence: closing it would claim a deletion that never happened). A
  snapshot that served a company's record without its easyNumber (damage `missing_id`) closes nothing:
  that record could be anyone's. change_kind is `aged_out` when the line is still in the truth (it left
  the listing only by passing the two-year window), `deleted` otherwise; valid_from = the snapshot's
  time; valid_to = the next version's valid_from.
- Orders (`order_history`): an order is mentioned on night t by a notification of a day of D(t) shown at t (a
  damaged notification still names its order) or by a portfolio row of t (a damaged company's row still
  names its orders unless its easy number was removed and the line has no temporary number). It is
  fetched on such a night (the latest version visible at t), unless already fetched for the same latest
  mentioning day on an earlier night (a settling day listed again), and re-polled when still pending
  after 7 nights without a fetch, from its first fetch until one finds it final (CLOSED, REJECTED,
  ANNULED). A status change surfaces in that day's portfolio (the line's event date), or on the night the
  API lists late the decision that made it. The history holds each distinct state fetched, once: a status
  that began and ended between two fetches is not observable. valid_from = statusDate; valid_to
  = the next such state's statusDate. A damaged order never lands: no history.
- Overdue cases (`overdue_history`): on night t the pipeline lists the cases whose current lastUpdateDate
  (visible at t) falls on a day of D(t) and is shown at t, and sees that current version; a list item whose id was removed
  cannot be fetched (a damaged date is fetched anyway). The history holds each distinct version seen,
  valid_from = lastUpdateDate, valid_to = the next seen version's.
- Temporary numbers (`easy_number_map`): a truth link (Z, definitive, order) is exposed when a landed
  record carries both numbers (an order state seen after identification, a landed delivery detail, a
  portfolio or snapshot row) or the same order was seen under both. The map holds exactly the exposed
  links, each with one candidate; every history table is keyed by the definitive number.
- `recorded_at` of every version is on the night the pipeline first saw it (snapshot rows: the
  snapshot's night).
- Push (a run with push on, `push.PushOn`): a delivery whose pushed message a push landing of day p
  landed has its detail fetched that day (stream `deliveries_push`), unless the delivery is damaged. It
  is then exposed from p like a landed detail: recorded on p when the pull had not seen it before, and
  `source_stream` is `deliveries_push` only while no pull detail landed (the pull's, extracted later, is
  the observation kept). Nothing else changes: pushed then pulled is one version, as pulled alone.
- Quarantine: every (stream, key) the sandbox served damaged is in that stream's quarantine, is missing
  from the stream's landed rows, and nothing else is quarantined except by-id fetches the API answered
  404 for a record it no longer served.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from tests.support.exactness.oracle_decisions import decisions, deliveries_seen
from tests.support.exactness.oracle_links import links_exposed
from tests.support.exactness.oracle_orders import orders, orders_seen, overdues
from tests.support.exactness.values import day, visible_before

if TYPE_CHECKING:
    from tests.support.exactness.driver import Night

TRUTH_ENTITIES = ("deliveries", "notifications", "order_versions", "overdue_versions", "easy_number_links",
                  "malformed", "customer_references", "companies", "overdue_documents")


@dataclass
class Truth:
    """The sandbox's ground truth at the end of the run."""

    deliveries: list[dict]
    notifications: list[dict]
    order_versions: list[dict]
    overdue_versions: list[dict]
    easy_number_links: list[dict]
    malformed: list[dict]
    customer_references: list[dict]
    companies: list[dict]
    overdue_documents: list[dict]

    @classmethod
    def load(cls, sandbox, policy: str | None = None) -> Truth:
        """The truth a running sandbox exports now (of ``policy`` only, when given)."""
        return cls(**{entity: sandbox.truth(entity, policy) for entity in TRUTH_ENTITIES})

    def damaged(self, stream: str) -> dict[str, dict]:
        """{key: damage} of the records of `stream` the sandbox served damaged."""
        return {m["key"]: m for m in self.malformed if m["stream"] == stream}


@dataclass
class Expected:
    """What the history tables must hold, keyed as the warehouse keys them."""

    decisions: dict[tuple[str, str], list[dict]]
    orders: dict[str, list[dict]]
    overdues: dict[str, list[dict]]
    links: dict[str, dict]
    snapshot_times: dict[date, datetime]


class Oracle:
    """Derives the expected history from the truth, the nights and the snapshot times (see module doc).

    It holds what every table's derivation shares: the truth indexed, the damaged records by stream, the
    snapshot nights, and what the portfolio listed each night."""

    def __init__(self, truth: Truth, nights: list[Night], snapshot_times: dict[date, datetime],
                 pushed: dict[str, date] | None = None):
        self.truth = truth
        self.pushed = pushed or {}
        """{deliveryId: the day a push landing fetched its detail} (rule "Push"; none in a pull-only run)."""
        self.nights = nights
        self.snapshot_times = snapshot_times
        self.snapshot_nights = [n for n in nights if n.today in snapshot_times]
        self.snapshot_days = set(snapshot_times)
        self._rows: dict[date, list[dict]] = {}
        missing = set(snapshot_times) - {n.today for n in nights}
        if missing:
            raise ValueError(f"snapshot partitions {sorted(missing)} match no recorded night")
        self.damaged_company = truth.damaged("portfolio")
        self.damaged_delivery = truth.damaged("deliveries")
        self.damaged_order = truth.damaged("orders")
        self.damaged_overdue = truth.damaged("overdues")
        nameless = {key for key, damage in self.damaged_company.items() if damage["kind"] == "missing_id"}
        self.unreadable_snapshots = {n.today for n in self.snapshot_nights
                                     if any(ln["listed"] and ln["easyNumber"] in nameless for ln in n.lines)}
        self.versions_of_order = _versions_by(truth.order_versions, "orderId")
        self.versions_of_overdue = _versions_by(truth.overdue_versions, "overdueId")
        self.delivery = {d["deliveryId"]: d for d in truth.deliveries}
        self.deliveries_on: dict[date, list[dict]] = defaultdict(list)  # by decision day
        for d in truth.deliveries:
            self.deliveries_on[day(d["decisionDate"])].append(d)

    # -- helpers -----------------------------------------------------------------------------------------------
    def order_state(self, order_id: str, night: date) -> dict | None:
        """The order's latest version visible on `night`."""
        return _latest_visible(self.versions_of_order.get(order_id, []), "statusDate", night)

    def overdue_state(self, overdue_id: str, night: date) -> dict | None:
        """The overdue case's latest version visible on `night`."""
        return _latest_visible(self.versions_of_overdue.get(overdue_id, []), "lastUpdateDate", night)

    def line_event_day(self, line: dict, night: date) -> date:
        """The day of a portfolio line's event on `night`: the later of its last decision and its order's
        last status change visible then (the order's date when there is neither)."""
        state = self.order_state(line["orderId"], night)
        moments = [m for m in (line.get("decisionDate"), state["statusDate"] if state else None) if m]
        return day(max(moments)) if moments else day(line["orderDate"])

    def shown(self, record: dict, night: date) -> bool:
        """Whether the dated lists show a decision or an overdue version (truth records) on `night`: at
        once, or from its `listedFrom` instant when the sandbox shows it late."""
        return record.get("listedFrom", "") < visible_before(night)

    def portfolio_rows(self, night: Night) -> list[dict]:
        """The lines the incremental portfolio of that night lists, damaged companies included."""
        if night.today not in self._rows:
            days = set(night.days)
            self._rows[night.today] = [ln for ln in night.lines
                                       if ln["listed"] and self.line_event_day(ln, night.today) in days
                                       and self._line_shown(ln, night.today)]
        return self._rows[night.today]

    def _line_shown(self, line: dict, night: date) -> bool:
        """A dated portfolio list shows a line unless its event is a decision shown late (the decision is
        the event unless the order changed status after it)."""
        if not line["deliveryId"]:
            return True
        state = self.order_state(line["orderId"], night)
        if state is not None and state["statusDate"] > line["decisionDate"]:
            return True
        return self.shown(self.delivery[line["deliveryId"]], night)

    def landed(self, line: dict) -> bool:
        """Whether a portfolio line's row landed (its company's record was not served damaged)."""
        return line["easyNumber"] not in self.damaged_company

    def names_order(self, line: dict) -> bool:
        """Whether a portfolio row (landed or quarantined) still names its order with a number to ask."""
        damage = self.damaged_company.get(line["easyNumber"])
        return damage is None or damage["kind"] != "missing_id" or bool(line.get("temporaryEasyNumber"))

    # -- the derivation ----------------------------------------------------------------------------------------
    def expected(self) -> Expected:
        """What the history tables must hold."""
        seen_orders = orders_seen(self)
        seen = deliveries_seen(self)
        links = links_exposed(self, seen_orders, seen)
        resolve = {z: link["easyNumber"] for z, link in links.items()}
        return Expected(decisions(self, seen, resolve, links), orders(seen_orders, resolve),
                        overdues(self, resolve), links, dict(self.snapshot_times))


def _versions_by(versions: list[dict], key: str) -> dict[str, list[dict]]:
    """Truth versions grouped by `key`, each group in version order."""
    grouped: dict[str, list[dict]] = defaultdict(list)
    for v in versions:
        grouped[v[key]].append(v)
    for group in grouped.values():
        group.sort(key=lambda v: v["version"])
    return grouped


def _latest_visible(versions: list[dict], at: str, night: date) -> dict | None:
    """The last of `versions` (in version order) whose `at` instant is visible on `night`."""
    state = None
    for v in versions:
        if v[at] < visible_before(night):
            state = v
    return state


def snapshot_times(store) -> dict[date, datetime]:
    """{snapshot partition day: the snapshot's time}: 00:00:00Z of its as-of day, the instant before
    which its listing shows what happened (the API's today when it was taken), whatever the hour it was
    extracted at (a partition with rows only)."""
    times = {}
    for partition in store.partitions("portfolio_snapshot"):
        if partition is None:
            continue
        table = store.read_table("portfolio_snapshot", partition, columns=["_extracted_at"])
        if table.num_rows:
            times[partition] = datetime.combine(partition, datetime.min.time(), UTC)
    return times


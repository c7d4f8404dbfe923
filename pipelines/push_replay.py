"""Replaying the pushed messages the receiver missed: the pull notifications are the reference.

Every notification the nightly pull landed whose product's topic was subscribed before its event, and
that no accepted message carries, was missed. Coface's replay (`PATCH /replay`) can restart its push from
5 hours until 5 days after it was first sent, 7 times at most: the job asks for each missed notification
in that window, records every outcome in the ledger (never past 7 accepted replays), and alerts through the
failure webhook for each one about to be lost (one attempt left, or 4 days old) and each one lost. It
also reports the decisions known only by push (a day the pull landed without them). A missed
message never loses a decision: the nightly pull has it already; push only makes it early.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from resources.cofaserve import WriteOutcomeUnknownError
from resources.landing import LandingStore
from resources.push.inbox import Inbox
from resources.push.ledger import MAX_REPLAYS, OUTCOME_UNKNOWN, PushLedger
from resources.push.topics import topic_for

log = logging.getLogger(__name__)

REPLAY_FROM = timedelta(hours=5)
REPLAY_UNTIL = timedelta(days=5)
AT_RISK_AFTER = timedelta(days=4)
BATCH = 100


@dataclass
class ReplayReport:
    """What one replay pass found and did."""

    missed: int = 0
    too_early: int = 0
    asked: int = 0
    outcomes: Counter = field(default_factory=Counter)
    at_risk: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    push_only: list[str] = field(default_factory=list)
    """Pushed notifications of a day the nightly pull has landed that the pull does not hold (shown late
    by the API's lists, most often: the settling window brings them; history holds each once either way)."""

    def summary(self) -> str:
        """One line for logs and alerts."""
        told = ", ".join(f"{n} {o}" for o, n in sorted(self.outcomes.items())) or "none"
        return (f"{self.missed} pushed messages missed; {self.too_early} not replayable yet; {self.asked} replays "
                f"asked ({told}); {len(self.at_risk)} about to be lost; {len(self.lost)} lost; "
                f"{len(self.push_only)} known only by push")


def missed_notifications(stores: list[LandingStore], received: set[str], since: dict[str, datetime],
                         now: datetime) -> dict[str, datetime]:
    """{notification id: event instant} of the pulled notifications of the last 6 days (every policy) a
    subscription should have pushed and no accepted message (``received``: their notification ids) carries."""
    if not since:
        return {}
    days = [(now - timedelta(days=n)).date() for n in range(6, -1, -1)]
    pulled: dict[str, datetime] = {}
    for store in stores:
        table = store.read_table("notifications", days, columns=["notification_id", "event_at", "product_code"])
        for nid, at, product in zip(*(table[c].to_pylist() for c in table.column_names), strict=True):
            topic = topic_for(product)
            if nid and at is not None and topic in since and at >= since[topic]:
                pulled[nid] = at
    return {nid: at for nid, at in pulled.items() if nid not in received}


def push_only_notifications(stores: list[LandingStore], pushed: dict[str, tuple[str | None, str | None]]) -> list[str]:
    """The pushed notifications (``pushed``: `Inbox.pushed_notifications`) whose GMT event day the nightly
    pull has landed for their policy, and which that day's pull does not hold: known only by push."""
    found = []
    for store in stores:
        mine = {nid: day[:10] for nid, (day, policy) in pushed.items() if policy == store.policy and day}
        landed = {d.isoformat() for d in store.partitions("notifications") if d is not None}
        days = sorted({day for day in mine.values() if day in landed})
        if not days:
            continue
        table = store.read_table("notifications", [date.fromisoformat(d) for d in days], columns=["notification_id"])
        pulled = set(table["notification_id"].to_pylist())
        found += sorted(nid for nid, day in mine.items() if day in landed and nid not in pulled)
    return found


def replay_missed(client, stores: list[LandingStore], landing_root: str, now: datetime | None = None) -> ReplayReport:
    """Ask Coface to replay every missed message in its replay window; see the module's docstring."""
    now = now or (stores[0].clock() if stores else datetime.now(UTC))  # the pipeline's clock (COFASYNC_NOW)
    report = ReplayReport()
    inbox, ledger = Inbox(landing_root), PushLedger(landing_root)
    try:
        pushed = inbox.pushed_notifications()  # the inbox read once per pass
        missed = missed_notifications(stores, set(pushed), ledger.subscribed_since(), now)
        report.missed = len(missed)
        report.push_only = push_only_notifications(stores, pushed)
        spent = ledger.attempts()
        due = []
        for nid, at in sorted(missed.items(), key=lambda item: item[1]):
            age = now - at
            if spent.get(nid, 0) >= MAX_REPLAYS or age > REPLAY_UNTIL:
                report.lost.append(nid)
            elif age < REPLAY_FROM:
                report.too_early += 1
            else:
                due.append(nid)
        for start in range(0, len(due), BATCH):
            chunk = due[start:start + BATCH]
            report.asked += len(chunk)
            try:
                answer = client.replay_push(chunk)
            except WriteOutcomeUnknownError as exc:  # not asked twice: counted as spent, reported
                log.warning("replay of %d notifications: %s", len(chunk), exc)
                report.outcomes[OUTCOME_UNKNOWN] += len(chunk)
                for nid in chunk:
                    ledger.record(nid, OUTCOME_UNKNOWN, now)
                continue
            for outcome in answer.model.replays:
                nid = outcome.notification_id
                if nid not in missed:
                    continue
                report.outcomes[outcome.outcome] += 1
                attempts = ledger.record(nid, outcome.outcome, now)
                if outcome.outcome in ("lost", "unknown"):
                    report.lost.append(nid)
                elif attempts >= MAX_REPLAYS - 1 or now - missed[nid] > AT_RISK_AFTER:
                    report.at_risk.append(nid)
    finally:
        inbox.close()
        ledger.close()
    return report


def alert_payload(report: ReplayReport, run_id: str) -> dict | None:
    """The failure webhook's alert for ``report``: messages lost or about to be (None when none is)."""
    if not report.lost and not report.at_risk:
        return None
    return {"job": "replay_missed_pushes", "run_id": run_id, "message": report.summary(),
            "lost_notifications": report.lost[:100], "at_risk_notifications": report.at_risk[:100]}

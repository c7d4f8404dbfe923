"""The account's push ledger, beside the inbox (same file): the subscriptions `cofasync subscribe` made,
and every replay asked for each notification, so that no message is replayed past the 7 attempts Coface
grants."""

from __future__ import annotations

import threading
from datetime import datetime

from .inbox import open_push_db

MAX_REPLAYS = 7
"""[DOC] Replay attempts per message; after them it is lost for good."""

_DDL = (
    """create table if not exists subscriptions (
        subscription_arn text primary key, topic text not null, endpoint text not null,
        subscribed_at text not null)""",
    """create table if not exists replays (
        notification_id text primary key, attempts integer not null, first_at text not null,
        last_at text not null, last_outcome text not null)""",
)


OUTCOME_UNKNOWN = "outcome_unknown"
"""The outcome recorded for a replay whose answer never came back usable (it may have been accepted)."""


class PushLedger:
    """Subscriptions and replay attempts of the account (SQLite, in the landing zone's ``_push``)."""

    def __init__(self, landing_root: str):
        """Open (or create) the ledger of the account's landing zone ``landing_root`` (a local folder)."""
        _, self._db = open_push_db(landing_root, *_DDL)
        self._lock = threading.Lock()

    def add_subscription(self, arn: str, topic: str, endpoint: str, at: datetime) -> None:
        """Record a subscription made at ``at`` (UTC)."""
        with self._lock:
            self._db.execute("insert or replace into subscriptions values (?, ?, ?, ?)",
                             (arn, topic, endpoint, at.isoformat()))

    def subscribed_since(self) -> dict[str, datetime]:
        """{topic: the instant of its first subscription}."""
        with self._lock:
            rows = self._db.execute("select topic, min(subscribed_at) from subscriptions group by topic").fetchall()
        return {topic: datetime.fromisoformat(at) for topic, at in rows}

    def attempts(self) -> dict[str, int]:
        """{notification id: replays asked and accepted}."""
        with self._lock:
            return dict(self._db.execute("select notification_id, attempts from replays").fetchall())

    def record(self, notification_id: str, outcome: str, at: datetime) -> int:
        """Record a replay's outcome (an ``accepted`` one spends an attempt, and so does an
        ``outcome_unknown`` one: it may have been accepted, and the count must never pass 7); returns the
        attempts spent."""
        spent = 1 if outcome in ("accepted", OUTCOME_UNKNOWN) else 0
        with self._lock:
            self._db.execute(
                "insert into replays values (?, ?, ?, ?, ?) on conflict(notification_id) do update set"
                " attempts = attempts + excluded.attempts, last_at = excluded.last_at,"
                " last_outcome = excluded.last_outcome",
                (notification_id, spent, at.isoformat(), at.isoformat(), outcome))
            return self._db.execute("select attempts from replays where notification_id = ?",
                                    (notification_id,)).fetchone()[0]

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

"""The push inbox: every accepted message appended durably (SQLite, synchronous FULL) before the
receiver answers 200, once per MessageId; the sensor then lands what is not landed yet.

It lives in the landing zone (``_push/inbox.sqlite3``), beside the Parquet it is landed into.
"""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

import orjson

INBOX_FILE = "_push/inbox.sqlite3"

_DDL = """
create table if not exists messages (
    seq integer primary key,
    message_id text not null unique,
    message_type text not null,
    topic_arn text not null,
    sent_at text not null,
    received_at text not null,
    envelope blob not null,
    landed_batch text
)
"""


def open_push_db(landing_root: str, *ddl: str) -> tuple[Path, sqlite3.Connection]:
    """The account's push database (``_push/inbox.sqlite3`` under the local ``landing_root``), opened for
    durable writes (WAL, synchronous FULL) from any thread, with the tables of ``ddl`` created."""
    if "://" in landing_root:
        raise ValueError(f"the push inbox needs a local LANDING_ROOT (got {landing_root}); run the receiver "
                         "with a local landing zone")
    path = Path(landing_root) / INBOX_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
    db.execute("pragma journal_mode = wal")
    db.execute("pragma synchronous = full")
    for statement in ddl:
        db.execute(statement)
    return path, db


class Inbox:
    """Append-only store of accepted messages, deduplicated by MessageId (thread-safe)."""

    def __init__(self, landing_root: str):
        """Open (or create) the inbox of the account's landing zone ``landing_root`` (a local folder)."""
        self.path, self._db = open_push_db(landing_root, _DDL)
        self._lock = threading.Lock()

    def append(self, envelope: dict, raw: bytes) -> bool:
        """Keep ``envelope`` (its bytes as received) durably; False when its MessageId was already kept."""
        received = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        with self._lock:
            cursor = self._db.execute(
                "insert or ignore into messages (message_id, message_type, topic_arn, sent_at, received_at, envelope)"
                " values (?, ?, ?, ?, ?, ?)",
                (envelope["MessageId"], envelope["Type"], envelope["TopicArn"], envelope["Timestamp"], received, raw))
            return cursor.rowcount == 1

    def unlanded(self, limit: int = 10_000) -> list[tuple[int, str, bytes]]:
        """(seq, MessageId, envelope) of notifications not landed yet, oldest first."""
        with self._lock:
            return self._db.execute(
                "select seq, message_id, envelope from messages where landed_batch is null"
                " and message_type = 'Notification' order by seq limit ?", (limit,)).fetchall()

    def for_partition(self, partition: str) -> list[tuple[int, str, bytes, str]]:
        """(seq, MessageId, envelope, received_at) of the notifications a landing of ``partition`` (a GMT
        day) holds: those it landed before and those not landed yet, oldest first. A partition's every run
        lands them all, so a run replacing the one before loses none."""
        with self._lock:
            return self._db.execute(
                "select seq, message_id, envelope, received_at from messages where message_type = 'Notification'"
                " and (landed_batch is null or landed_batch = ?) order by seq", (partition,)).fetchall()

    def mark_landed(self, seqs: list[int], partition: str) -> None:
        """Record that the messages ``seqs`` landed in ``partition`` (those not landed elsewhere before)."""
        with self._lock:
            self._db.executemany("update messages set landed_batch = ? where seq = ? and landed_batch is null",
                                 [(partition, s) for s in seqs])

    def waiting(self) -> int:
        """How many notifications wait to be landed."""
        with self._lock:
            return self._db.execute("select count(*) from messages where landed_batch is null"
                                    " and message_type = 'Notification'").fetchone()[0]

    def received(self, notification_ids: set[str] | None = None) -> set[str]:
        """The notification ids the accepted messages carry (of ``notification_ids`` when given)."""
        found = set(self.pushed_notifications())
        return found if notification_ids is None else found & notification_ids

    def pushed_notifications(self) -> dict[str, tuple[str | None, str | None]]:
        """{notification id: (eventDate, policyNumber)} of the notifications the accepted messages carry
        (a message whose notification cannot be read is left out: landing quarantines it)."""
        with self._lock:
            rows = self._db.execute("select json_extract(cast(envelope as text), '$.Message') from messages"
                                    " where message_type = 'Notification'").fetchall()
        found = {}
        for (message,) in rows:
            try:
                note = orjson.loads(message) if message else None
            except orjson.JSONDecodeError:
                note = None
            nid = note.get("notificationId") if isinstance(note, dict) else None
            if isinstance(nid, str):
                found[nid] = (note.get("eventDate"), note.get("policyNumber"))
        return found

    def count(self) -> int:
        """How many messages were kept."""
        with self._lock:
            return self._db.execute("select count(*) from messages").fetchone()[0]

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

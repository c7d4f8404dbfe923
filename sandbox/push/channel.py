"""The sandbox's push channel: the push clock, the subscriptions, publishing each new decision to the
subscribers of its topic, and replay.

The push clock is a virtual instant that never runs behind the business day's 00:00Z; tests move it
forward by seconds (`POST /_sandbox/push/clock`), which may start the next business days. Every decision
that creates a pull notification is published once per active subscription of its topic made at or
before its decision instant, as an SNS-style envelope signed by the sandbox's key. Subscriptions cover
every policy of the account; each message names its policy.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime

import orjson

from sandbox.push.retry import Delivery
from sandbox.push.sender import MESSAGES_PER_SECOND, PushMessage, Sender
from sandbox.push.signing import Signer
from sandbox.push.subscriptions import Endpoint, OAuth, Subscription, Subscriptions
from sandbox.push.topics import topic_arn, topic_of
from sandbox.views import NOTIFICATION_COLUMNS, notification_doc

CERT_PATH = "/_sandbox/push/signing-cert.pem"
UNSUBSCRIBE_PATH = "/_sandbox/push/unsubscribe"


def sns_timestamp(instant: float) -> str:
    """An instant as SNS writes Timestamp: ISO 8601 UTC to the millisecond, with a Z."""
    return datetime.fromtimestamp(instant, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class PushChannel:
    """Subscriptions, signer, sender and the push clock of one sandbox."""

    def __init__(self, day_start: Callable[[], int], worlds: Sequence, timeout: float = 5.0,
                 rate: int = MESSAGES_PER_SECOND):
        self._day_start = day_start
        self._instant = float(day_start())
        self._lock = threading.Lock()
        self.subscriptions = Subscriptions()
        self.signer = Signer()
        self.sender = Sender(self.subscriptions, self.now, timeout, rate)
        self._base_urls: dict[str, str] = {}
        self._watermarks = {w.policy.policy_number: self._last_seq(w) for w in worlds}

    def now(self) -> float:
        """The push clock's instant (seconds since the epoch)."""
        return max(self._instant, float(self._day_start()))

    def advance(self, seconds: float, start_day: Callable[[date], None]) -> float:
        """Move the push clock forward; a business day it reaches starts (``start_day``). Returns the instant."""
        if seconds < 0:
            raise ValueError("the push clock never goes backwards")
        with self._lock:
            self._instant = self.now() + seconds
            day = datetime.fromtimestamp(self._instant, UTC).date()
        start_day(day)
        self.sender.wake()
        return self.now()

    def subscribe(self, topic: str, endpoint: Endpoint, oauth: OAuth | None, base_url: str) -> Subscription:
        """Subscribe an endpoint (confirmed at once); messages name ``base_url``'s certificate and unsubscribe URLs."""
        subscription = self.subscriptions.add(topic, endpoint, oauth, self.now())
        self._base_urls[subscription.subscription_id] = base_url.rstrip("/")
        return subscription

    def publish_new(self, worlds: Sequence) -> int:
        """Publish the decisions each world made since the last call; returns the messages queued."""
        queued = 0
        for world in worlds:
            policy = world.policy.policy_number
            with world.lock:
                rows = world.conn.execute(
                    f"SELECT seq, {NOTIFICATION_COLUMNS} FROM deliveries WHERE seq > ? ORDER BY seq",  # noqa: S608
                    (self._watermarks.get(policy, 0),)).fetchall()
            if rows:
                self._watermarks[policy] = rows[-1][0]
            for row in rows:
                queued += self._publish(policy, notification_doc(row[1:], policy), row[3])
        return queued

    def _publish(self, policy: str, notification: dict, decision_at: int) -> int:
        topic = topic_of(notification["productCode"])
        if topic is None:
            return 0
        now = self.now()
        queued = 0
        for subscription in self.subscriptions.active(topic):
            if decision_at < subscription.created_at:
                continue  # a push flow starts right after the subscription
            message_id = str(uuid.uuid4())
            base = self._base_urls[subscription.subscription_id]
            envelope = {"Type": "Notification", "MessageId": message_id, "TopicArn": topic_arn(topic),
                        "Message": orjson.dumps({**notification, "topic": topic}).decode(),
                        "Timestamp": sns_timestamp(now), "SignatureVersion": "2"}
            envelope["Signature"] = self.signer.sign(envelope)
            envelope["SigningCertURL"] = base + CERT_PATH
            envelope["UnsubscribeURL"] = f"{base}{UNSUBSCRIBE_PATH}?SubscriptionArn={subscription.arn}"
            self.sender.add(PushMessage(message_id, subscription.subscription_id, policy,
                                        notification["notificationId"], orjson.dumps(envelope), Delivery(now)))
            queued += 1
        return queued

    def replay(self, ids: Sequence[str], by: str = "messageId") -> dict[str, str]:
        """`PATCH /replay`: per id (a MessageId, or with ``by="notificationId"`` a pull notification's id,
        which names the messages of every subscription it was pushed to), ``accepted`` or why not
        (``unknown``, ``retry_in_progress``, ``already_delivered``, ``lost``)."""
        now = self.now()
        outcomes = {}
        with self.sender.lock:
            for wanted in ids:
                found = [m for m in self.sender.messages.values()
                         if (m.message_id if by == "messageId" else m.notification_id) == wanted]
                results = [m.delivery.replay(now) for m in found]
                outcomes[wanted] = ("accepted" if "accepted" in results else results[0]) if results else "unknown"
        self.sender.wake()
        return outcomes

    def messages(self) -> list[dict]:
        """Every message published, with its fate: delivered, pending, stored (for replay) or lost."""
        now = self.now()
        with self.sender.lock:
            out = []
            for m in self.sender.messages.values():
                m.delivery.expire(now)
                d = m.delivery
                out.append({"messageId": m.message_id, "subscriptionId": m.subscription_id,
                            "policyNumber": m.policy_number, "notificationId": m.notification_id,
                            "state": d.state, "attempts": d.attempts, "replays": d.replays,
                            "publishedAt": sns_timestamp(d.published_at),
                            "deliveredAt": sns_timestamp(d.delivered_at) if d.delivered_at else None,
                            "lastError": d.last_error})
        return sorted(out, key=lambda m: (m["publishedAt"], m["messageId"]))

    @staticmethod
    def _last_seq(world) -> int:
        with world.lock:
            return world.conn.execute("SELECT COALESCE(MAX(seq), 0) FROM deliveries").fetchone()[0]

    def close(self) -> None:
        """Stop sending."""
        self.sender.close()

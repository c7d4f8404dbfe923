"""Payload models of the push channel's calls: a subscription's answer and a replay's."""

from __future__ import annotations

from .models import ApiModel, NonEmpty


class PushSubscription(ApiModel):
    """The answer of ``POST /topics/{topicName}/subscriptions`` (and ``.../with-token-auth``)."""

    subscription_arn: NonEmpty
    topic_name: NonEmpty
    status: NonEmpty
    subscription_id: str | None = None
    endpoint: str | None = None
    with_token_auth: bool | None = None


class ReplayOutcome(ApiModel):
    """One message's outcome of ``PATCH /replay``: ``accepted`` or why not."""

    outcome: NonEmpty
    notification_id: str | None = None
    message_id: str | None = None


class ReplayAnswer(ApiModel):
    """The answer of ``PATCH /replay``."""

    replays: list[ReplayOutcome]

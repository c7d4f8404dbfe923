"""[DOC] The push topics and the product codes each one carries (the functional page's table).

ARATINGMON, a monitored product the sandbox also serves, is in no topic of the table: it is never pushed.
"""

from __future__ import annotations

from sandbox.reference import CREDIT_PRODUCTS, EDD_PRODUCTS, OPINION_PRODUCTS, SPECIAL_PRODUCTS

TOPICS: dict[str, tuple[str, ...]] = {
    "credit_insurance_cover": CREDIT_PRODUCTS,
    "credit_insurance_special_cover": SPECIAL_PRODUCTS,
    "coface_opinion": OPINION_PRODUCTS,
    "scoring": ("ARATING", "ARATINGCHMON", "SCORECHECK", "SCOREMON"),
    "extension_of_due_date": EDD_PRODUCTS,
}

_TOPIC_OF = {code: topic for topic, codes in TOPICS.items() for code in codes}

ARN_PREFIX = "arn:aws:sns:eu-west-1:000000000000:cofaserve-"
"""[SANDBOX] The TopicArn of a topic is this prefix and the topic name."""


def topic_of(product_code: str) -> str | None:
    """The topic a product's decisions are pushed on, or None when no topic carries it."""
    return _TOPIC_OF.get(product_code)


def topic_arn(topic: str) -> str:
    """The TopicArn messages of ``topic`` carry."""
    return ARN_PREFIX + topic

"""[DOC] The push topics and the product codes each carries (the functional page's table), as the
pipeline needs them: which pulled notifications a subscription should also have pushed."""

from __future__ import annotations

TOPIC_PRODUCTS: dict[str, frozenset[str]] = {
    "credit_insurance_cover": frozenset({"ECL", "CREDITLIMIT", "ARATINGLIMIT", "ILU"}),
    "credit_insurance_special_cover": frozenset({"TOPLINER", "OCL"}),
    "coface_opinion": frozenset({"CCO"}),
    "scoring": frozenset({"ARATING", "ARATINGCHMON", "SCORECHECK", "SCOREMON"}),
    "extension_of_due_date": frozenset({"EDD"}),
}


def topic_for(product_code: str | None) -> str | None:
    """The topic a product's decisions are pushed on, or None when no topic carries it."""
    return next((topic for topic, codes in TOPIC_PRODUCTS.items() if product_code in codes), None)

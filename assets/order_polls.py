"""Order re-polls: orders still pending (temporary `Z…` EASY numbers included), fetched again until they
reach a final status, under the GMT day of the poll."""

from datetime import date

from resources.landing import LandedSummary, LandingStore, land_dated_records

from .orders import pending_orders
from .upstream import fetch_in_day_order

STREAM = "order_polls"


def extract(client, store: LandingStore, as_of: date, run_id: str) -> LandedSummary:
    """Fetch every order still pending that the API has been silent about for a week, and land its state
    under the partition ``as_of`` of the re-poll stream."""
    wanted = {order: (easy, as_of) for order, easy in pending_orders(store).items()}
    pairs = fetch_in_day_order(client, client.get_order, wanted, what="order")
    summary = land_dated_records(store, STREAM, [as_of], run_id, pairs)
    summary.reported_total = len(wanted)
    return summary

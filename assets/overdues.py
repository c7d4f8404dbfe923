"""Overdues: the cases created or updated in a range of GMT days (one list query per status), then their
detail and the names of their documents (two endpoints, landed side by side by :mod:`.daily_changes`)."""

from datetime import date
from itertools import chain

from resources.cofaserve import DateWindow
from resources.landing import LandedSummary, LandingStore, land_dated_records

from .upstream import fetch_in_day_order, text

STREAM = "overdues"
DOCUMENTS_STREAM = "overdue_documents"

STATUSES = ("PENDING", "PENDING_DEBTOR_VALIDATION", "IN_PROGRESS", "INDEMNIFIED", "REJECTED", "CLOSED")
"""Every overdue status: the list endpoint requires one, so a full sweep asks for each."""


def changed_overdues(client, days: list[date]):
    """List the cases updated in ``days`` (one query per status for the whole range).

    Returns ({overdueId: (easyNumber, day of lastUpdateDate)} in day order, the list records that broke
    their contract, the API's reported total, the API window sent).
    """
    window = DateWindow.covering(days[0], days[-1])
    found: dict[str, tuple[str, date]] = {}
    broken = []
    total = 0
    for status in STATUSES:
        listing = client.iter_overdues(status, window=window)
        for record in listing:
            if record.error:
                broken.append(record)
                # a damaged list item that still names its case is fetched anyway (the detail is
                # separate), under the run's last day since its own date cannot be trusted
                raw = record.raw if isinstance(record.raw, dict) else {}
                if text(raw.get("overdueId")) and text(raw.get("easyNumber")):
                    found.setdefault(raw["overdueId"], (raw["easyNumber"], days[-1]))
                continue
            case = record.model
            found[case.overdue_id] = (case.easy_number, case.last_update_date.date())
        total += listing.reported_total or 0
    return dict(sorted(found.items(), key=lambda kv: kv[1][1])), broken, total, window.to_params()


def land_details(client, store: LandingStore, days: list[date], run_id: str, listed) -> LandedSummary:
    """Land the detail of each case ``listed`` (what :func:`changed_overdues` returned), in the partition
    of its last update day; a list item that broke its contract is quarantined with the run."""
    wanted, broken, total, window = listed
    triples = chain(((days[0], record, None) for record in broken),
                    fetch_in_day_order(client, client.get_overdue, wanted, what="overdue"))
    details = land_dated_records(store, STREAM, days, run_id, triples, expected=len(wanted) + len(broken))
    details.reported_total = total
    details.api_window = window
    return details


def land_documents(client, store: LandingStore, days: list[date], run_id: str, listed) -> LandedSummary:
    """Land the names of the documents of each case ``listed``, in the partition of the case."""
    wanted = listed[0]
    documents = land_dated_records(
        store, DOCUMENTS_STREAM, days, run_id,
        fetch_in_day_order(client, client.get_overdue_documents, wanted, what="overdue documents",
                           context_of=lambda key: {"overdue_id": key, "easy_number": wanted[key][0]}),
        expected=len(wanted))  # about one record per case
    # the API gives no total across cases; the client checks each case's list against its own count
    documents.reported_total = None
    return documents

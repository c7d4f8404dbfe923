"""Overdues: the cases created or updated in a range of GMT days (one list query per status), then their
detail and the names of their documents (two endpoints, landed side by side by :mod:`.daily_changes`)."""

from datetime import date, datetime
from itertools import chain
from typing import NamedTuple

from resources.cofaserve import DateWindow
from resources.landing import LandedSummary, LandingStore, land_dated_records

from .upstream import MissingRecord, fetch_in_day_order, landed_while_settling, text

STREAM = "overdues"
DOCUMENTS_STREAM = "overdue_documents"

STATUSES = ("PENDING", "PENDING_DEBTOR_VALIDATION", "IN_PROGRESS", "INDEMNIFIED", "REJECTED", "CLOSED")
"""Every overdue status: the list endpoint requires one, so a full sweep asks for each."""


class ListedCases(NamedTuple):
    """What the overdue lists of a range named: the cases to fetch, in day order, and how they were listed."""

    wanted: dict[str, tuple[str, date]]
    """{overdueId: (easyNumber, day of lastUpdateDate)}"""
    broken: list
    """The list records that broke their contract."""
    total: int
    """The API's reported total, every status together."""
    window: dict
    """The API window sent."""
    updated: dict[str, datetime]
    """{overdueId: lastUpdateDate} of the cases whose list item was valid."""
    held: int = 0
    """Listed cases left out of ``wanted``: a settling day holds that version already."""
    refresh: dict[str, tuple[str, date]] | None = None
    """The cases whose documents are asked for although ``wanted`` does not name them (:func:`with_refresh`)."""


def changed_overdues(client, days: list[date]) -> ListedCases:
    """List the cases updated in ``days`` (one query per status for the whole range)."""
    window = DateWindow.covering(days[0], days[-1])
    found: dict[str, tuple[str, date]] = {}
    updated: dict[str, datetime] = {}
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
            updated[case.overdue_id] = case.last_update_date
        total += listing.reported_total or 0
    return ListedCases(dict(sorted(found.items(), key=lambda kv: kv[1][1])), broken, total, window.to_params(),
                       updated)


def not_landed_yet(store: LandingStore, days: list[date], listed: ListedCases) -> ListedCases:
    """``listed`` without the case versions a settling day of ``days`` holds already (an earlier night
    fetched that version, its detail and its documents: not again)."""
    landed = landed_while_settling(store, STREAM, days, ["overdue_id", "updated_at"])
    if not landed:
        return listed
    wanted = {case: where for case, where in listed.wanted.items()
              if (case, listed.updated.get(case)) not in landed.get(where[1], ())}
    return listed._replace(wanted=wanted, held=listed.held + len(listed.wanted) - len(wanted))


def land_details(client, store: LandingStore, days: list[date], run_id: str, listed) -> LandedSummary:
    """Land the detail of each case ``listed`` (what :func:`changed_overdues` returned), in the partition
    of its last update day; a list item that broke its contract is quarantined with the run."""
    wanted, broken, total, window = listed.wanted, listed.broken, listed.total, listed.window
    triples = chain(((days[0], record, None) for record in broken),
                    fetch_in_day_order(client, client.get_overdue, wanted, what="overdue"))
    details = land_dated_records(store, STREAM, days, run_id, triples, expected=len(wanted) + len(broken))
    details.reported_total = total - listed.held  # the cases held already are not fetched: not seen
    details.api_window = window
    return details


def with_refresh(store: LandingStore, days: list[date], listed: ListedCases) -> ListedCases:
    """``listed`` with the cases to refresh: every case landed before that ``wanted`` does not name, each
    on the run's last day. A customer adds documents to a case whenever it wants, without updating the
    case, so each night asks for the documents of every case it knows; computed before the by-id phase
    lands this run's cases."""
    table = store.read_table(STREAM, columns=["overdue_id", "easy_number"])
    known = {case: easy for case, easy in zip(table["overdue_id"].to_pylist(), table["easy_number"].to_pylist(),
                                              strict=True) if case and easy}
    return listed._replace(refresh={case: (easy, days[-1]) for case, easy in sorted(known.items())
                                    if case not in listed.wanted})


def land_documents(client, store: LandingStore, days: list[date], run_id: str, listed) -> LandedSummary:
    """Land the names of the documents of each case ``listed``, in the partition of the case, and those
    of each case to refresh (``listed.refresh``) that no partition holds yet, on the run's last day; a
    refreshed case the API no longer serves is counted, not quarantined each night."""
    refresh = listed.refresh or {}
    wanted = {**listed.wanted, **refresh}
    held = {(case, name, at) for case, name, at in zip(*(
        store.read_table(DOCUMENTS_STREAM, columns=["overdue_id", "file_name", "uploaded_at"])[c].to_pylist()
        for c in ("overdue_id", "file_name", "uploaded_at")), strict=True)} if refresh else set()
    gone: list[str] = []

    def new_only(triples):
        for day, record, context in triples:
            if context is None or context["overdue_id"] not in refresh:
                yield day, record, context
            elif isinstance(record, MissingRecord):
                gone.append(context["overdue_id"])
            elif record.model is None or (context["overdue_id"], record.model.file_name,
                                          record.model.upload_date) not in held:
                yield day, record, context

    documents = land_dated_records(
        store, DOCUMENTS_STREAM, days, run_id,
        new_only(fetch_in_day_order(client, client.get_overdue_documents, wanted, what="overdue documents",
                                    context_of=lambda key: {"overdue_id": key, "easy_number": wanted[key][0]})),
        expected=len(wanted))  # about one record per case
    # the API gives no total across cases; the client checks each case's list against its own count
    documents.reported_total = None
    documents.figures = {"cases_refreshed": len(refresh), "refreshed_cases_not_served": len(gone)}
    return documents

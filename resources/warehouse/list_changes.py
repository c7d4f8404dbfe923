"""What a newly landed day's list changes: the companies whose entry differs from the list before it.

A list kept daily (`customer_references`: each refresh lands the whole list under its GMT day) repeats
itself: most companies are listed alike day after day. Noting every row of a new list in `_wh_changes`
would recompute every company each night, at a cost growing with the days kept; a company listed as in
the list before changes nothing. So the changes a new list brings are its symmetric difference with the
list before it (by extraction). Where that is not enough, every company the policy's lists ever showed
is noted: a list replaced or gone, several new lists of a policy in one build, a new list that is not the
latest, or a list before it holding a record whose easyNumber could not be read (a company that list did
not show may be closed by this one).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .inputs import STREAM_COLUMNS
from .models import Model
from .sql import compose, ident

KEPT_DAILY: dict[str, str] = {"customer_references": "customer_references_quarantine"}
"""The lists kept daily (landed stream -> the input of its quarantine)."""

_LISTS = (
    "select source_partition from {name} where policy_number = :policy "
    "group by source_partition order by max(extracted_at), source_partition"
)
_UNREADABLE = (
    "select count(*) from {quarantine} "
    "where policy_number = :policy and source_partition = :key and easy_number is null"
)
_NOTE = (
    "insert into _wh_changes (source_table, easy_number, temporary_easy_number, order_id, delivery_id) "
    "select distinct :table, easy_number, cast(null as varchar), cast(null as varchar), cast(null as varchar) "
    "from ({body}) as changed_entries"
)
_NEW_ENTRIES = "select {body} from {name} where policy_number = :policy and source_partition = :new"
_PREVIOUS_ENTRIES = "select {body} from {name} where policy_number = :policy and source_partition = :previous"
_EVERY = "select easy_number from {name} where policy_number = :policy"


def is_kept_daily(model: Model) -> bool:
    """True for the staging model of a list kept daily, whose changes `note_list_changes` notes."""
    return model.stream in KEPT_DAILY


def note_every_company(conn: Connection, model: Model, policy: str) -> None:
    """Note every company the policy's lists of `model` show (a list's removal or replacement)."""
    conn.execute(sa.text(compose(_NOTE, body=compose(_EVERY, name=model.qualified))),
                 {"table": model.name, "policy": policy})


def note_list_changes(conn: Connection, model: Model, policy: str, new_keys: list[str]) -> None:
    """Note in `_wh_changes` the companies the policy's newly staged lists (`new_keys`) change: the
    entries (the stream's columns) of the new list and of the one before it that differ, or every company
    when that cannot tell (see the module doc)."""
    lists = [key for (key,) in conn.execute(sa.text(compose(_LISTS, name=model.qualified)), {"policy": policy})]
    if len(new_keys) != 1 or new_keys[0] not in lists or new_keys[0] != lists[-1] or len(lists) < 2:
        note_every_company(conn, model, policy)
        return
    previous = lists[-2]
    quarantine = f"staging.stg_{KEPT_DAILY[model.stream]}"
    unreadable = conn.execute(sa.text(compose(_UNREADABLE, quarantine=quarantine)),
                              {"policy": policy, "key": previous}).scalar()
    if unreadable:
        note_every_company(conn, model, policy)
        return
    columns = ", ".join(ident(c) for c in STREAM_COLUMNS[model.stream])
    new = compose(_NEW_ENTRIES, body=columns, name=model.qualified)
    old = compose(_PREVIOUS_ENTRIES, body=columns, name=model.qualified)
    conn.execute(sa.text(compose(_NOTE, body=f"({new} except {old}) union all ({old} except {new})")),
                 {"table": model.name, "policy": policy, "new": new_keys[0], "previous": previous})

"""Compact storage of the sandbox world: one SQLite database (in memory) per world.

Instants are stored as integer seconds since 1970-01-01T00:00:00Z, dates as `YYYY-MM-DD` text, ids as
text. Append-only tables hold every version of every entity (the ground truth); `lines`,
`overdue_current` and `custref_current` hold the state as of the world's `today`, for the API; `lines.item` is the pre-serialized portfolio
product entry.
"""

from __future__ import annotations

import calendar
import sqlite3
import time
from datetime import date, datetime, timedelta

SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE companies(
    idx INTEGER PRIMARY KEY, easy TEXT NOT NULL UNIQUE, is_temp INTEGER NOT NULL, country TEXT NOT NULL,
    name_lc TEXT NOT NULL, city_lc TEXT, postal TEXT, head BLOB NOT NULL);
CREATE TABLE identifiers(type TEXT NOT NULL, value TEXT NOT NULL, country TEXT NOT NULL, idx INTEGER NOT NULL);
CREATE TABLE lines(
    easy TEXT NOT NULL, product TEXT NOT NULL, company_idx INTEGER NOT NULL, country TEXT NOT NULL,
    temp_easy TEXT, order_id TEXT NOT NULL, order_at INTEGER NOT NULL, order_status TEXT NOT NULL,
    delivery_id TEXT, external_id TEXT, status TEXT, decision_at INTEGER, effective_date TEXT,
    expiry_date TEXT, amount_value REAL, amount_currency TEXT, event_at INTEGER NOT NULL,
    active INTEGER NOT NULL, item BLOB NOT NULL, PRIMARY KEY(easy, product)) WITHOUT ROWID;
CREATE TABLE order_versions(
    order_id TEXT NOT NULL, version INTEGER NOT NULL, easy TEXT NOT NULL, temp_easy TEXT, product TEXT NOT NULL,
    order_at INTEGER NOT NULL, status TEXT NOT NULL, status_at INTEGER NOT NULL, req_value REAL,
    req_currency TEXT, delivery_id TEXT, rejection TEXT NOT NULL, PRIMARY KEY(order_id, version)) WITHOUT ROWID;
CREATE TABLE deliveries(
    seq INTEGER PRIMARY KEY, delivery_id TEXT NOT NULL UNIQUE, external_id TEXT NOT NULL UNIQUE,
    notification_id TEXT NOT NULL, order_id TEXT NOT NULL, easy TEXT NOT NULL, temp_easy TEXT,
    product TEXT NOT NULL, status TEXT NOT NULL, decision_at INTEGER NOT NULL, effective_date TEXT NOT NULL,
    expiry_date TEXT, amount_value REAL, amount_currency TEXT, req_value REAL, req_currency TEXT,
    conditions TEXT NOT NULL);
CREATE TABLE easy_links(
    temp_easy TEXT PRIMARY KEY, easy TEXT NOT NULL, order_id TEXT NOT NULL, delivery_id TEXT,
    identified_at INTEGER NOT NULL);
CREATE TABLE overdue_versions(
    overdue_id TEXT NOT NULL, version INTEGER NOT NULL, updated_at INTEGER NOT NULL, doc BLOB NOT NULL,
    PRIMARY KEY(overdue_id, version)) WITHOUT ROWID;
CREATE TABLE overdue_current(
    overdue_id TEXT PRIMARY KEY, easy TEXT NOT NULL, status TEXT NOT NULL, updated_at INTEGER NOT NULL,
    customer_ref TEXT, doc BLOB NOT NULL);
CREATE TABLE overdue_documents(
    overdue_id TEXT NOT NULL, easy TEXT NOT NULL, file_name TEXT NOT NULL, media_type TEXT NOT NULL,
    uploaded_at INTEGER NOT NULL);
CREATE TABLE custref_versions(seq INTEGER PRIMARY KEY, easy TEXT NOT NULL, ref TEXT NOT NULL,
    updated_at INTEGER NOT NULL);
CREATE TABLE custref_current(easy TEXT PRIMARY KEY, ref TEXT NOT NULL, updated_at INTEGER NOT NULL);
"""
# Secondary indexes, created after the bulk generation of a new world (faster than maintaining them)
INDEXES = """
CREATE INDEX companies_country ON companies(country, is_temp);
CREATE INDEX identifiers_value ON identifiers(type, value);
CREATE INDEX lines_event ON lines(event_at);
CREATE INDEX lines_delivery ON lines(delivery_id);
CREATE INDEX lines_order ON lines(order_id);
CREATE INDEX deliveries_decision ON deliveries(decision_at, notification_id);
CREATE INDEX deliveries_order ON deliveries(order_id);
CREATE INDEX overdue_current_status ON overdue_current(status, updated_at);
CREATE INDEX overdue_documents_id ON overdue_documents(overdue_id);
CREATE INDEX custref_current_ref ON custref_current(ref);
"""


def connect(indexes: bool = True) -> sqlite3.Connection:
    """A new empty in-memory world database with the schema (and, unless told, the secondary indexes)."""
    conn = open_memory()
    conn.executescript(SCHEMA)
    if indexes:
        create_indexes(conn)
    return conn


def create_indexes(conn: sqlite3.Connection) -> None:
    """Create the secondary indexes (idempotent)."""
    conn.executescript(INDEXES.replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS"))


def open_memory() -> sqlite3.Connection:
    """An in-memory connection usable from any thread (callers serialise access)."""
    conn = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    return conn


def copy_of(data: bytes) -> sqlite3.Connection:
    """A private in-memory database restored from `sqlite3.Connection.serialize()` bytes."""
    conn = open_memory()
    conn.deserialize(data)
    return conn


def day_start(day: date) -> int:
    """Seconds since the epoch of `day` 00:00:00Z."""
    return calendar.timegm((day.year, day.month, day.day, 0, 0, 0))


def day_of(instant: int) -> date:
    """The GMT calendar day holding `instant`."""
    return date(1970, 1, 1) + timedelta(days=instant // 86400)


def fmt_ts(instant: int | None) -> str | None:
    """ISO 8601 UTC with a Z, to the second (`2026-03-01T23:59:59Z`), or None."""
    if instant is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(instant))


def fmt_date(instant: int) -> str:
    """`YYYY-MM-DD` of the GMT day holding `instant`."""
    return time.strftime("%Y-%m-%d", time.gmtime(instant))


def parse_ts(text: str) -> int:
    """Inverse of fmt_ts (used by tests and truth consumers)."""
    return calendar.timegm(datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").timetuple())


def years_before(day: date, years: int) -> date:
    """The same calendar day `years` earlier (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)

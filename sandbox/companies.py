"""Deterministic generation of the companies of a world (Coface's company database).

A company is a head office or a branch of a head office in the same country. Head offices carry the
country's legal identifiers; branches share the head office's main identifier (French branches have
their own SIRET), so that a search by identifier can return a hit list.
"""

from __future__ import annotations

import random
import sqlite3
from dataclasses import dataclass, field

import orjson

from sandbox.reference import (
    COUNTRIES,
    COUNTRY_CODES,
    COUNTRY_WEIGHTS,
    NAME_FIRST,
    NAME_SECOND,
    NAME_SUFFIX,
    STREETS,
)

_COUNTRY = {c[0]: c for c in COUNTRIES}
BRANCH_SHARE = 0.12


@dataclass
class CompanyIndex:
    """What the timeline needs to know about companies, in compact arrays indexed by company number."""

    easy: list[str] = field(default_factory=list)
    country: list[str] = field(default_factory=list)
    name: list[str] = field(default_factory=list)
    city: list[str] = field(default_factory=list)
    postal: list[str] = field(default_factory=list)
    street: list[str] = field(default_factory=list)
    head_offices: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.easy)


def _digits(rng: random.Random, n: int) -> str:
    return str(rng.randrange(10 ** (n - 1), 10**n))


def company_head(easy: str, name: str, street: str, postal: str, city: str, country: str,
                 identifiers: list[dict], is_head: bool, head_easy: str | None) -> bytes:
    """Serialized company fields, without `customerReference` and without the closing brace.

    The API appends `customerReference` (and `products` in the portfolio) at serve time.
    """
    doc = {
        "easyNumber": easy,
        "companyName": name,
        "address": {"streetAddress": street, "postalCode": postal, "city": city, "countryCode": country},
        "countryCode": country,
        "legalIdentifiers": identifiers,
        "isHeadOffice": is_head,
        "headOfficeEasyNumber": head_easy,
    }
    return orjson.dumps(doc)[:-1]


def generate_companies(conn: sqlite3.Connection, seed: int, size: int) -> CompanyIndex:
    """Create `size` companies in `conn` and return their index; same (seed, size) gives the same rows."""
    rng = random.Random(f"{seed}:companies:{size}")
    index = CompanyIndex()
    used: set[str] = set()
    heads_by_country: dict[str, list[int]] = {c: [] for c in COUNTRY_CODES}
    main_id: dict[int, tuple[str, str]] = {}
    company_rows = []
    identifier_rows = []
    for idx in range(size):
        while True:
            easy = _digits(rng, rng.randint(8, 14))
            if easy not in used:
                used.add(easy)
                break
        country = rng.choices(COUNTRY_CODES, COUNTRY_WEIGHTS)[0]
        _code, _cname, id_types, _cur, cities = _COUNTRY[country]
        city, postal = rng.choice(cities)
        street = f"{rng.randint(1, 250)} {rng.choice(STREETS)}"
        candidates = heads_by_country[country]
        is_head = not candidates or rng.random() >= BRANCH_SHARE
        identifiers: list[dict] = []
        if is_head:
            name = f"{rng.choice(NAME_FIRST)} {rng.choice(NAME_SECOND)} {NAME_SUFFIX[country]}"
            head_easy = None
            for id_type, _label, digits in id_types:
                if id_type == "SIRET_FRA":
                    value = identifiers[0]["value"] + _digits(rng, 5)
                else:
                    value = _digits(rng, digits)
                identifiers.append({"type": id_type, "value": value})
            main_id[idx] = (identifiers[0]["type"], identifiers[0]["value"])
            candidates.append(idx)
            index.head_offices.append(idx)
        else:
            head = rng.choice(candidates)
            head_easy = index.easy[head]
            name = f"{index.name[head]} - {city}"
            id_type, value = main_id[head]
            identifiers.append({"type": id_type, "value": value})
            if id_type == "SIREN_FRA":
                identifiers.append({"type": "SIRET_FRA", "value": value + _digits(rng, 5)})
        index.easy.append(easy)
        index.country.append(country)
        index.name.append(name)
        index.city.append(city)
        index.postal.append(postal)
        index.street.append(street)
        head_blob = company_head(easy, name, street, postal, city, country, identifiers, is_head, head_easy)
        company_rows.append((idx, easy, 0, country, name.lower(), city.lower(), postal, head_blob))
        for ident in identifiers:
            identifier_rows.append((ident["type"], normalize_identifier(ident["value"]), country, idx))
    conn.executemany("INSERT INTO companies VALUES (?,?,?,?,?,?,?,?)", company_rows)
    conn.executemany("INSERT INTO identifiers VALUES (?,?,?,?)", identifier_rows)
    return index


def normalize_identifier(value: str) -> str:
    """Identifier values compare without blanks, dots, dashes and slashes, case-insensitively."""
    return "".join(ch for ch in value.upper() if ch not in " .-/")

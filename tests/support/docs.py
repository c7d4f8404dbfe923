"""SQL the docs show users, read back so that tests run it as written."""

from __future__ import annotations

import re
from pathlib import Path

WAREHOUSE_DOC = Path(__file__).resolve().parents[2] / "docs" / "warehouse.md"


def documented_sql(name: str, doc: Path = WAREHOUSE_DOC) -> str:
    """The ```sql block that follows the marker `<!-- sql: name -->` in `doc` (AssertionError when none)."""
    match = re.search(rf"<!-- sql: {re.escape(name)} -->\n```sql\n(.*?)\n```", doc.read_text(), re.S)
    assert match, f"{doc} shows no SQL block marked {name}"
    return match.group(1)

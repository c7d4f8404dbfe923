"""Regenerate `sql/dictionary.json`, the data dictionary the package ships, from `docs/warehouse.md`.

    .venv/bin/python docs/build_dictionary.py

(`tests/unit/test_warehouse_docs.py` fails while the shipped file and the docs disagree.)
"""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from resources.warehouse.dictionary import DICTIONARY_FILE, parse_dictionary  # noqa: E402

if __name__ == "__main__":
    parsed = parse_dictionary((ROOT / "docs" / "warehouse.md").read_text(encoding="utf-8"))
    text = json.dumps(parsed, indent=1, ensure_ascii=False) + "\n"
    (ROOT / "sql" / DICTIONARY_FILE).write_text(text, encoding="utf-8")
    print(f"sql/{DICTIONARY_FILE}: {len(parsed)} tables")

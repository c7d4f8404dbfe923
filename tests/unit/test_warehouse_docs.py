"""docs/warehouse.md documents every table and every column the built warehouse has, and nothing else."""

from pathlib import Path

import pytest

from resources.landing import LandingStore
from resources.warehouse import Warehouse
from resources.warehouse.dictionary import DICTIONARY_FILE, parse_dictionary, shipped_dictionary
from resources.warehouse.models import load_models
from tests.support.policies import TEST_POLICY
from tests.support.scenario import NIGHTS

DOC = Path(__file__).resolve().parents[2] / "docs" / "warehouse.md"


def documented_columns(text: str) -> dict[str, set[str]]:
    """{table: columns} the dictionary's Markdown documents (the one parser: `parse_dictionary`)."""
    return {table: set(entry["columns"]) for table, entry in parse_dictionary(text).items()}


@pytest.fixture(scope="module")
def built_columns(tmp_path_factory) -> dict[str, set[str]]:
    root = tmp_path_factory.mktemp("docs")
    store = LandingStore(str(root / "landing"), policy=TEST_POLICY)
    for night in NIGHTS:
        night(store)
    warehouse = Warehouse(f"duckdb:///{root / 'warehouse.duckdb'}")
    warehouse.build(store)
    rows = warehouse.query(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where table_schema in ('staging', 'history', 'marts') or table_name like '\\_wh\\_%' escape '\\'")
    columns: dict[str, set[str]] = {}
    for row in rows:
        name = row["table_name"] if row["table_name"].startswith("_wh_") else f"{row['table_schema']}.{row['table_name']}"
        columns.setdefault(name, set()).add(row["column_name"])
    return columns


def test_every_built_table_and_column_is_documented(built_columns):
    documented = documented_columns(DOC.read_text())
    undocumented = {table: sorted(cols - documented.get(table, set()))
                    for table, cols in built_columns.items() if cols - documented.get(table, set())}
    assert undocumented == {}, "add these to docs/warehouse.md's data dictionary"


def test_the_dictionary_names_nothing_that_does_not_exist(built_columns):
    documented = documented_columns(DOC.read_text())
    stale = {table: sorted(cols - built_columns.get(table, set()))
             for table, cols in documented.items() if cols - built_columns.get(table, set())}
    assert stale == {}


def test_every_model_s_grain_is_in_the_docs():
    text = DOC.read_text()
    for model in load_models():
        section = text.split(f"### {model.qualified}\n", 1)
        assert len(section) == 2, f"no section for {model.qualified}"
        assert section[1].lstrip().startswith("Grain:"), f"{model.qualified}: state its grain first"


def test_the_dictionary_parser_sees_a_missing_column():
    text = "### history.t\n| column | type |\n|---|---|\n| `a`, `b` | x |\n"
    assert documented_columns(text) == {"history.t": {"a", "b"}}


def test_the_shipped_dictionary_is_the_docs_one():
    assert shipped_dictionary() == parse_dictionary(DOC.read_text()), (
        f"sql/{DICTIONARY_FILE} is stale: run `python docs/build_dictionary.py` and commit it")


def test_the_dictionary_keeps_each_column_s_meaning_and_each_table_s_grain():
    entry = parse_dictionary(DOC.read_text())["marts.cover_daily"]
    assert entry["description"].startswith("Grain: one row per policy × company × product × GMT day")
    assert "effective date" in entry["columns"]["is_effective"]

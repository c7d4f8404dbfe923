"""The warehouse describes itself: `COMMENT ON` every table, view and column from the data dictionary (on
DuckDB and Postgres), and `cofasync dbt-sources` writes a dbt sources.yml an analytics team builds on."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from resources.warehouse.dictionary import shipped_dictionary
from tests.support.postgres import postgres_cluster  # noqa: F401  (session fixture)
from tests.support.scenario import scenario_warehouse

COMMENTS = {
    "duckdb": ("select comment from duckdb_columns() where schema_name = :s and table_name = :t "
               "and column_name = :c",
               "select comment from duckdb_views() where schema_name = :s and view_name = :t "
               "union all select comment from duckdb_tables() where schema_name = :s and table_name = :t"),
    "postgresql": ("select col_description(cast(:s || '.' || :t as regclass), a.attnum) as comment "
                   "from pg_attribute as a where a.attrelid = cast(:s || '.' || :t as regclass) and a.attname = :c",
                   "select obj_description(cast(:s || '.' || :t as regclass), 'pg_class') as comment"),
}


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def built(request, tmp_path):
    url = (f"duckdb:///{tmp_path}/wh.duckdb" if request.param == "duckdb"
           else request.getfixturevalue("postgres_cluster").create_database())
    return scenario_warehouse(url, tmp_path)


def _comment(warehouse, schema, table, column=None):
    column_sql, table_sql = COMMENTS[warehouse.dialect]
    params = {"s": schema, "t": table, "c": column}
    return warehouse.query(column_sql if column else table_sql, params)[0]["comment"]


def test_every_table_and_column_carries_its_dictionary_text(built):
    warehouse, store = built
    dictionary = shipped_dictionary()
    assert _comment(warehouse, "marts", "cover_daily", "is_effective") == (
        dictionary["marts.cover_daily"]["columns"]["is_effective"].replace("`", ""))
    assert _comment(warehouse, "history", "decision_history").startswith("Grain:")
    assert _comment(warehouse, "marts", "cover_daily").startswith("Grain: one row per policy")
    for qualified, entry in dictionary.items():  # every documented model's columns, spot-checked one each
        if qualified.startswith(("staging.", "history.", "marts.")) and entry["columns"]:
            schema, table = qualified.split(".")
            column = next(iter(entry["columns"]))
            assert _comment(warehouse, schema, table, column), f"{qualified}.{column} has no comment"
    again = warehouse.build(store)  # unchanged dictionary: comments are not rewritten (no DDL on readers)
    assert not again.full_refresh and _comment(warehouse, "marts", "cover_daily", "is_effective")


def test_dbt_sources_describe_the_history_and_marts(tmp_path):
    out = tmp_path / "sources.yml"
    cofasync = Path(sys.executable).with_name("cofasync")
    done = subprocess.run([str(cofasync), "dbt-sources", "--out", str(out)], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    sources = {s["name"]: s for s in yaml.safe_load(out.read_text())["sources"]}
    assert set(sources) == {"cofaserve_history", "cofaserve_marts"}
    assert sources["cofaserve_marts"]["schema"] == "marts"
    tables = {t["name"]: t for t in sources["cofaserve_marts"]["tables"]}
    assert {"cover_daily", "current_portfolio", "request_pipeline"} <= set(tables)
    columns = {c["name"]: c["description"] for c in tables["cover_daily"]["columns"]}
    assert "cover_date" in columns and "`" not in columns["is_effective"]


def test_the_documented_analyst_queries_run_on_a_built_warehouse(built):
    from datetime import date

    from tests.support.docs import documented_sql
    from tests.support.landing_builder import ts

    warehouse, _ = built
    held = warehouse.query(documented_sql("cover_on_a_day"), {"easy_number": "100", "cover_date": date(2025, 1, 1)})
    assert [(r["product_code"], r["status"]) for r in held] == [("CREDITLIMIT", "DECIDED_FULL")]
    at = warehouse.query(documented_sql("decision_as_of"), {"easy_number": "100", "as_of": ts("2025-01-01 12:00")})
    assert [(r["product_code"], r["status"]) for r in at] == [("CREDITLIMIT", "DECIDED_FULL")]
    assert warehouse.query(documented_sql("decision_as_of"), {"easy_number": "100", "as_of": ts("2024-12-31")}) == []

"""The `sql/` models follow the conventions the build relies on (one table per file, headers, style)."""

import re

import pytest

from resources.streams import STREAMS
from resources.warehouse.inputs import FILE_INPUTS, QUARANTINES
from resources.warehouse.models import LAYERS, ModelError, load_models, parse_header, select_body
from resources.warehouse.sql import UnsafeIdentifier, compose, ident

MODELS = load_models()


def _code(model):
    """The model's SQL without comments and string literals."""
    return re.sub(r"'[^']*'", "''", select_body(model))


def test_every_landed_stream_and_read_quarantine_has_a_staging_model():
    staged = {m.stream for m in MODELS if m.layer == "staging"}
    assert staged == set(STREAMS) | set(QUARANTINES) | set(FILE_INPUTS)


def test_the_issue_s_history_tables_and_marts_exist():
    names = {m.name for m in MODELS}
    assert {"decision_history", "order_history", "overdue_history", "company_history", "easy_number_map"} <= names
    assert {"current_portfolio", "decision_events", "exposure_daily", "overdue_cases", "notification_events"} <= names


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
def test_header_states_grain_key_and_upstream(model):
    assert model.path.stem == model.name and model.path.parent.name == model.layer in LAYERS
    assert model.grain and model.key and model.upstream
    assert model.summary


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
def test_style_is_lower_case_with_import_ctes_and_a_final_select(model):
    code = _code(model)
    assert not re.search(r"[A-Z]", code), "SQL is written in lower case (string literals aside)"
    assert code.startswith("with"), "import CTEs first"
    final = code.rsplit("\n)\n", 1)[-1].strip()
    assert final.startswith("select") and " from " in final.replace("\n", " "), "named CTEs, then a final select"
    assert ";" not in code, "one statement per file"
    assert "::" not in code, "casts are cast(x as t), valid on both engines"


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
def test_models_refer_to_other_models_by_qualified_name(model):
    code = _code(model)
    by_name = {m.name: m for m in MODELS}
    for upstream in model.upstream:
        if upstream in by_name:
            assert re.search(rf"\b{by_name[upstream].qualified}\b", code), f"{upstream} is read as layer.name"
    for other in by_name:
        bare = re.search(rf"(?:from|join)\s+{other}\b", code)
        assert not bare, f"{other} must be qualified with its layer"


@pytest.mark.parametrize("model", [m for m in MODELS if m.layer == "history"], ids=lambda m: m.name)
def test_history_tables_are_scd2_with_a_refresh_policy(model):
    assert model.materialized == "table"
    assert model.refresh_kind in ("company", "temporary")
    if model.name != "easy_number_map":
        for column in ("valid_from", "valid_to", "is_current", "recorded_at", "change_kind", "version_no"):
            assert re.search(rf"\bas {column}\b", select_body(model)), column


def test_marts_are_views_over_history():
    for model in MODELS:
        if model.layer == "marts":
            assert model.is_view


def test_a_header_without_grain_is_refused(tmp_path):
    path = tmp_path / "t.sql"
    with pytest.raises(ModelError, match="grain"):
        parse_header(path, "-- t: x\n-- key: a\n-- upstream: b\n-- materialized: view\nselect 1", "marts")


def test_identifiers_outside_the_whitelist_never_reach_sql():
    assert ident("history.decision_history") == "history.decision_history"
    for bad in ("decision_history; drop table x", "Robert'); --", "pg_catalog.pg_class", "x.y.z"):
        with pytest.raises(UnsafeIdentifier):
            ident(bad)
    with pytest.raises(UnsafeIdentifier):
        compose("delete from {name}", name="users")

"""A stream is declared once: every declared stream has its asset, its staging model and its section in
docs/warehouse.md, and no other module lists streams by name."""

import ast
from pathlib import Path

import dagster as dg
import pytest

from pipelines.definitions import defs
from pipelines.jobs import models_job, nightly_job
from resources.streams import STREAMS, Partitioning

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "warehouse.md").read_text()


@pytest.mark.parametrize("name", list(STREAMS))
def test_every_declared_stream_has_its_asset_staging_model_and_doc_section(name):
    stream = STREAMS[name]
    node = defs.resolve_asset_graph().get(dg.AssetKey(name))
    assert node.description == stream.description
    assert [c.name for c in node.metadata["dagster/column_schema"].columns] == list(stream.schema.names)
    assert (node.partitions_def is not None) == (stream.partitioning is Partitioning.DAILY)
    assert {key.path[-1] for key in node.parent_keys} == set(stream.depends_on)
    assert (ROOT / "sql" / "staging" / f"stg_{name}.sql").is_file(), f"stream {name} has no staging model"
    assert f"### staging.stg_{name}\n" in DOC, f"stream {name} has no section in docs/warehouse.md"


def test_the_jobs_select_the_streams_by_their_partitioning():
    nightly = set(defs.resolve_job_def(nightly_job.name).asset_layer.selected_asset_keys)
    assert nightly == {dg.AssetKey(s.name) for s in STREAMS.values() if s.partitioning is Partitioning.DAILY}
    models = set(defs.resolve_job_def(models_job.name).asset_layer.selected_asset_keys)
    assert {dg.AssetKey(s.name) for s in STREAMS.values() if s.partitioning is Partitioning.CURRENT} <= models


def _listed_stream_names(path: Path) -> list[tuple[int, list[str]]]:
    """Literal collections (tuple, list, set, dict keys) in ``path`` naming two or more streams."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        items = node.keys if isinstance(node, ast.Dict) else getattr(node, "elts", None)
        if not isinstance(node, ast.Tuple | ast.List | ast.Set | ast.Dict) or items is None:
            continue
        names = [i.value for i in items if isinstance(i, ast.Constant) and i.value in STREAMS]
        if len(names) >= 2:
            found.append((node.lineno, names))
    return found


def test_nothing_but_the_registry_lists_streams():
    offenders = {}
    for folder in ("assets", "pipelines", "resources"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.parent.name == "streams":
                continue
            listed = _listed_stream_names(path)
            if listed:
                offenders[str(path.relative_to(ROOT))] = listed
    assert offenders == {}

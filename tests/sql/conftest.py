"""SQL model tests run on both engines: DuckDB (in memory) and a throwaway Postgres cluster."""

import pytest

from tests.support.model_harness import ModelHarness
from tests.support.postgres import postgres_cluster  # noqa: F401  (session fixture)


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine_url(request):
    """A fresh, empty database URL on each engine."""
    if request.param == "duckdb":
        return "duckdb:///:memory:"
    cluster = request.getfixturevalue("postgres_cluster")
    return cluster.create_database()


@pytest.fixture
def harness(engine_url):
    """The model harness on a fresh database of the parametrized engine."""
    h = ModelHarness(engine_url)
    yield h
    h.close()

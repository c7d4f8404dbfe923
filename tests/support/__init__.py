"""Test support: harnesses and fixtures the tests and benchmarks share (no tests here).

- `exactness/`: the nightly driver, the oracle of what the API exposed, and the comparison of the
  warehouse's history with it (invariant 5);
- `postgres`: a throwaway PostgreSQL cluster, and its pytest fixtures;
- `model_harness`: the `sql/` models run on hand-written input tables, on DuckDB or Postgres;
- `landing_builder`: small landing zones written through the real `LandingStore` writer;
- `scenario`: four nights of landed data exercising what makes history hard;
- `scratch`: scratch folders on tmpfs for the subprocess-heavy runs.
"""

"""The warehouse's SQL models, one file per table: `staging/`, `history/`, `marts/` (see docs/warehouse.md).

A package only so that the files ship inside the wheel and are read the same way from a source checkout,
an editable install or an installed wheel: `importlib.resources.files("sql")` (resources/warehouse/models.py).
It holds no Python code.
"""

"""The warehouse models as Dagster assets: one asset per table in `sql/` (staging, history, marts),
built together from the landing zone in one atomic step.

Each table reports ``dagster/row_count`` and ``dagster/column_schema`` (as published), and carries its own
asset checks, one per (check, table) of the warehouse's check catalog, with the check's severity: a
failing WARN check (a notification whose delivery a later night will fetch) shows as a warning on its
own table and never fails a check of another.
"""


import dagster as dg

from resources.warehouse.checks import CATALOG, CheckResult

from .runtime import OWNERS

SEVERITY = {"error": dg.AssetCheckSeverity.ERROR, "warn": dg.AssetCheckSeverity.WARN}


def model_specs() -> list[dg.AssetSpec]:
    """One asset spec per model file, in its layer's group, described by its header (grain, key), with
    its upstream models (or, for staging, the landed stream it reads) as dependencies."""
    from resources.warehouse.inputs import landed_stream
    from resources.warehouse.models import load_models

    models = load_models()
    layer_of = {model.name: model.layer for model in models}
    specs = []
    for model in models:
        deps = [dg.AssetKey([layer_of[up], up]) if up in layer_of else dg.AssetKey(up) for up in model.upstream]
        if model.stream is not None:
            deps = [dg.AssetKey(landed_stream(model.stream))]
        specs.append(dg.AssetSpec(
            dg.AssetKey([model.layer, model.name]),
            description=f"{model.summary[:1].upper()}{model.summary[1:]} Grain: {model.grain}. Key: {', '.join(model.key)}.",
            group_name=model.layer,
            kinds={"sql", "duckdb", "postgres"},
            owners=OWNERS,
            deps=deps,
        ))
    return specs


def check_specs(specs: list[dg.AssetSpec]) -> list[dg.AssetCheckSpec]:
    """One check spec per (check, table) of the catalog, on that table's asset, described."""
    key_of = {spec.key.path[-1]: spec.key for spec in specs}
    return [dg.AssetCheckSpec(d.check, asset=key_of[d.table], description=f"{d.detail} ({d.severity})")
            for d in CATALOG if d.table in key_of]


def check_result(result: CheckResult, key: dg.AssetKey) -> dg.AssetCheckResult:
    """A warehouse check result as Dagster's, with its severity, failing rows and a sample of them."""
    return dg.AssetCheckResult(
        asset_key=key, check_name=result.check, passed=result.passed, severity=SEVERITY[result.severity],
        description=result.detail,
        metadata={"failing_rows": result.failing, "sample": dg.MetadataValue.json(result.sample)},
    )


PREVIEW_ROWS = 5


def file_input_specs() -> list[dg.AssetSpec]:
    """The inputs read from a file the settings name, not extracted (the FX rates): external assets, so the
    graph shows where `stg_fx_rates` comes from."""
    return [dg.AssetSpec(
        dg.AssetKey("fx_rates"), group_name="extract", kinds={"csv"}, owners=OWNERS,
        description="The ECB reference-rates CSV named by COFASYNC_FX_RATES (eurofxref-hist.csv's format): "
                    "loaded into staging.stg_fx_rates by the warehouse build whenever its content changes.",
    )]


def preview(rows: list[dict], schema: dg.TableSchema) -> dg.MetadataValue:
    """The first rows of a table (columns as `schema`) as Dagster table metadata (values as text where
    Dagster takes no type)."""
    def cell(value):
        return value if value is None or isinstance(value, (str, int, float, bool)) else str(value)
    return dg.MetadataValue.table(records=[dg.TableRecord({k: cell(v) for k, v in row.items()}) for row in rows],
                                  schema=schema)


def warehouse_assets() -> list[dg.AssetsDefinition | dg.AssetSpec]:
    """The one step that builds every model from the landing zone and publishes them atomically (no
    asset when `sql/` holds no model)."""
    specs = model_specs()
    if not specs:
        return []
    key_of = {spec.key.path[-1]: spec.key for spec in specs}

    @dg.multi_asset(
        name="warehouse_models",
        specs=specs,
        check_specs=check_specs(specs),
        can_subset=False,
        required_resource_keys={"landing", "warehouse"},
    )
    def _models(context: dg.AssetExecutionContext):
        warehouse = context.resources.warehouse.warehouse()
        report = warehouse.build(context.resources.landing.store())
        columns = warehouse.column_types()
        from resources.warehouse.models import load_models

        tables = {model.name for model in load_models() if not model.is_view}
        for table, key in key_of.items():
            schema = dg.TableSchema(columns=[dg.TableColumn(name, kind) for name, kind in columns.get(table, [])])
            metadata = {"dagster/column_schema": schema, "build_seconds": round(report.duration_seconds, 3)}
            if table in tables:  # a view's rows cost a query (counting one runs it): no count, no preview
                metadata["dagster/row_count"] = report.row_counts.get(table, 0)
                metadata["preview"] = preview(warehouse.first_rows(table, PREVIEW_ROWS), schema)
            yield dg.MaterializeResult(asset_key=key, metadata=metadata)
        for result in warehouse.checks():
            if result.table in key_of:
                yield check_result(result, key_of[result.table])

    return [_models, *file_input_specs()]

"""A built wheel holds every file the installed package reads at run time (`make wheel-check` goes on to
install the wheel and run a sync from it)."""

from tests.support.wheel_check import ROOT, build_wheel, wheel_files


def test_the_wheel_holds_every_model_file_and_the_dagster_instance_settings(tmp_path):
    shipped = wheel_files(build_wheel(tmp_path))
    models = sorted(path.relative_to(ROOT).as_posix() for path in (ROOT / "sql").rglob("*.sql"))
    assert models, "no model file found under sql/"
    assert [name for name in models if name not in shipped] == []
    assert {"sql/__init__.py", "pipelines/dagster_home.yaml", "sandbox/ecb_reference_rates.csv",
            "sql/dictionary.json"} <= shipped

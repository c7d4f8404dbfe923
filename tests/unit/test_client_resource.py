"""The Dagster resource: EnvVar credentials, one client per run, telemetry as metadata."""

from dagster import AssetExecutionContext, Definitions, asset, materialize

from resources.cofaserve import ClientSettings, CofaServeClient, CofaServeResource
from tests.unit.test_client_fakes import API_KEY, PASSWORD

ENV = {
    "COFASERVE_BASE_URL": "https://api.coface.com",
    "COFASERVE_AUTH_URL": "https://api.coface.com",
    "COFASERVE_USERNAME": "user",
    "COFASERVE_PASSWORD": PASSWORD,
    "COFASERVE_API_KEY": API_KEY,
    "COFASERVE_POLICY_NUMBER": "123456",
}


def test_from_env_uses_env_vars_and_builds_the_same_settings(monkeypatch, tmp_path):
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    seen = {}

    @asset
    def probe(context: AssetExecutionContext, cofaserve: CofaServeResource) -> None:
        client = cofaserve.get_client()
        assert client is cofaserve.get_client()  # one client per run
        assert isinstance(client, CofaServeClient)
        seen["settings"] = client.settings
        context.add_output_metadata(client.telemetry.snapshot())

    result = materialize([probe], resources={"cofaserve": CofaServeResource.from_env(page_size=50)})
    assert result.success
    settings = seen["settings"]
    expected = ClientSettings.from_env(ENV, page_size=50)
    assert settings.model_dump() == expected.model_dump()
    assert settings.password.get_secret_value() == PASSWORD
    metadata = result.asset_materializations_for_node("probe")[0].metadata
    assert metadata["requests"].value == 0
    for event in result.all_events:
        assert PASSWORD not in str(event) and API_KEY not in str(event)


def test_definitions_accept_the_resource():
    Definitions(assets=[], resources={"cofaserve": CofaServeResource.from_env()})


def test_resource_options_reach_the_client(monkeypatch, tmp_path):
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("COFASERVE_CLIENT_OPTIONS", '{"page_size": 7, "date_from_param": "from"}')
    monkeypatch.setenv("COFASERVE_LOCKOUT_DIR", str(tmp_path))
    resource = CofaServeResource.from_env(page_size=50)
    seen = {}

    @asset
    def probe(cofaserve: CofaServeResource) -> None:
        seen["settings"] = cofaserve.get_client().settings

    assert materialize([probe], resources={"cofaserve": resource}).success
    settings = seen["settings"]
    assert settings.page_size == 7 and settings.date_from_param == "from"  # options apply last
    assert settings.lockout_dir == tmp_path

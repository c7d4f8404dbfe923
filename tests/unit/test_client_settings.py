"""ClientSettings: environment, validation by name, and every [SANDBOX] convention as a setting."""

from pathlib import Path

import pytest

from resources.cofaserve import ClientSettings, SettingsError
from resources.cofaserve.endpoints import ALL, DELIVERY
from tests.unit.test_client_fakes import FakeApi, json_response, make_client, make_settings

ENV = {
    "COFASERVE_BASE_URL": "https://api.coface.com",
    "COFASERVE_AUTH_URL": "https://api.coface.com/",
    "COFASERVE_USERNAME": "user",
    "COFASERVE_PASSWORD": "pw-123456",
    "COFASERVE_API_KEY": "key-123456",
    "COFASERVE_POLICY_NUMBER": "123456",
}


def test_from_env_reads_every_variable():
    settings = ClientSettings.from_env(ENV)
    assert settings.business_root == "https://api.coface.com/tci"
    assert settings.login_url == "https://api.coface.com/authentication/v1/token"
    assert settings.password.get_secret_value() == "pw-123456"
    assert settings.policy_number == "123456"


def test_from_env_names_every_missing_variable():
    env = {k: v for k, v in ENV.items() if k not in ("COFASERVE_PASSWORD", "COFASERVE_POLICY_NUMBER")}
    env["COFASERVE_USERNAME"] = "   "
    with pytest.raises(SettingsError) as info:
        ClientSettings.from_env(env)
    for name in ("COFASERVE_PASSWORD", "COFASERVE_POLICY_NUMBER", "COFASERVE_USERNAME"):
        assert name in str(info.value)
    assert "COFASERVE_API_KEY" not in str(info.value)


@pytest.mark.parametrize("value", ["api.coface.com", "ftp://api.coface.com", "https://", "https://h/?q=1"])
def test_from_env_names_a_malformed_url(value):
    with pytest.raises(SettingsError, match="COFASERVE_AUTH_URL"):
        ClientSettings.from_env({**ENV, "COFASERVE_AUTH_URL": value})


def test_from_env_optional_and_overrides(tmp_path):
    settings = ClientSettings.from_env({**ENV, "COFASERVE_LOCKOUT_DIR": str(tmp_path)}, page_size=50)
    assert settings.lockout_dir == tmp_path and settings.page_size == 50
    with pytest.raises(SettingsError, match="page_size"):
        ClientSettings.from_env(ENV, page_size=0)


def test_prefixes_are_not_doubled():
    settings = ClientSettings.from_env(
        {**ENV, "COFASERVE_BASE_URL": "https://h/tci", "COFASERVE_AUTH_URL": "https://h/authentication/v1/token"}
    )
    assert settings.business_root == "https://h/tci"
    assert settings.login_url == "https://h/authentication/v1/token"


def test_lockout_dir_is_one_per_user_whatever_the_dagster_home(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    folders = set()
    for home in ("a", "b"):
        monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / home))
        folders.add(ClientSettings.from_env(ENV).resolved_lockout_dir())
    assert folders == {tmp_path / "state" / "cofaserve" / "lockout"}
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    assert ClientSettings.from_env(ENV).resolved_lockout_dir() == tmp_path / "user" / ".local" / "state" / "cofaserve" / "lockout"


def test_budget_dir_defaults_beside_the_lockout_folder_and_is_a_client_option(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert ClientSettings.from_env(ENV).resolved_budget_dir() == tmp_path / "cofaserve" / "cofaserve-budget"
    settings = ClientSettings.from_env({**ENV, "COFASERVE_LOCKOUT_DIR": str(tmp_path / "x" / "guard")})
    assert settings.resolved_budget_dir() == tmp_path / "x" / "cofaserve-budget"
    options = '{"budget_dir": "/srv/budget", "shared_budget": false}'
    settings = ClientSettings.from_env({**ENV, "COFASERVE_CLIENT_OPTIONS": options})
    assert settings.resolved_budget_dir() == Path("/srv/budget") and settings.shared_budget is False


def test_settings_are_immutable(tmp_path):
    settings = make_settings(tmp_path)
    with pytest.raises(ValueError):
        settings.page_size = 5


def test_every_route_is_built_from_its_root_context(tmp_path):
    settings = make_settings(tmp_path)
    for endpoint in ALL:
        assert endpoint.route(settings).startswith(f"GET {settings.root_contexts[endpoint.service]}/")
    url = DELIVERY.url(settings, easyNumber="Z12/34", deliveryIdOrExternalId="D 1")
    assert url == "https://api.test/tci/product/v1/companies/Z12%2F34/products/deliveries/D%201"
    with pytest.raises(ValueError, match="non-empty"):
        DELIVERY.url(settings, easyNumber="", deliveryIdOrExternalId="D")


def test_root_contexts_and_prefix_point_the_client_elsewhere(tmp_path):
    api = FakeApi()
    api.route("/gateway/catalogue/v2/companies/1/catalog", lambda r: json_response(200, {"easyNumber": "1", "products": []}))
    contexts = {**make_settings(tmp_path).root_contexts, "product": "catalogue/v2"}
    with make_client(tmp_path, api, business_prefix="/gateway", root_contexts=contexts) as client:
        assert client.get_catalog("1").ok


def test_unknown_filters_are_refused_before_any_call(tmp_path):
    api = FakeApi()
    with make_client(tmp_path, api) as client:
        with pytest.raises(TypeError, match="unknown filter"):
            client.iter_portfolio(easyNumber="1")
        with pytest.raises(TypeError, match="non-empty string"):
            client.iter_portfolio(easy_number="")
        with pytest.raises(TypeError, match="status"):
            client.iter_overdues("")
    assert api.requests == []


def test_filters_use_the_configured_parameter_names(tmp_path):
    api = FakeApi()
    api.list_route("/tci/product/v1/companies/products", "companies", [])
    names = {**make_settings(tmp_path).param_names, "country_code": "country"}
    with make_client(tmp_path, api, param_names=names) as client:
        list(client.iter_portfolio(easy_number="123", country_code="FRA", product_code=None))
    params = api.business_requests()[0].url.params
    assert params["easyNumber"] == "123" and params["country"] == "FRA" and "productCode" not in params



def test_client_options_point_the_client_elsewhere_without_code():
    options = '{"paging": "range", "page_size": 20, "authorization_scheme": "Bearer", "root_contexts": {"product": "p/v9"}}'
    settings = ClientSettings.from_env({**ENV, "COFASERVE_CLIENT_OPTIONS": options})
    assert (settings.paging, settings.page_size, settings.authorization_scheme) == ("range", 20, "Bearer")
    assert settings.root_context("product") == "p/v9"
    with pytest.raises(SettingsError, match="COFASERVE_CLIENT_OPTIONS is not valid JSON"):
        ClientSettings.from_env({**ENV, "COFASERVE_CLIENT_OPTIONS": "{paging: range"})
    with pytest.raises(SettingsError, match="may not set"):
        ClientSettings.from_env({**ENV, "COFASERVE_CLIENT_OPTIONS": '{"password": "x"}'})
    with pytest.raises(SettingsError, match="no_such_setting"):
        ClientSettings.from_env({**ENV, "COFASERVE_CLIENT_OPTIONS": '{"no_such_setting": 1}'})

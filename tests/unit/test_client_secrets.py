"""Secrets never leave the client: not in logs, exception texts, reprs, metrics or guard records."""

import logging
import traceback

import httpx
import pytest

from resources.cofaserve import ClientSettings, CofaServeError, CofaServeResource, DateWindow
from resources.cofaserve.redaction import Redactor, redact_headers
from tests.unit.test_client_fakes import (
    API_KEY,
    PASSWORD,
    FakeApi,
    FakeClock,
    envelope,
    json_response,
    make_client,
    make_settings,
)

CATALOG = "/tci/product/v1/companies/12345678/catalog"
NOTIFICATIONS = "/tci/notification/v1/notifications"


def test_redact_headers_masks_credentials_in_any_case():
    headers = {"Authorization": "tok", "X-API-KEY": "key", "X-COF-Policy-Number": "P1", "Accept": "a"}
    assert redact_headers(headers) == {"Authorization": "***", "X-API-KEY": "***", "X-COF-Policy-Number": "P1", "Accept": "a"}
    assert redact_headers({"X-Custom-Key": "k"}, extra=["x-custom-key"]) == {"X-Custom-Key": "***"}


def test_redactor_masks_known_values():
    redactor = Redactor(["hunter2-secret"])
    redactor.add("tok-123456")
    assert redactor.scrub("bad key hunter2-secret and tok-123456") == "bad key *** and ***"
    assert "hunter2" not in repr(redactor)


def test_settings_repr_and_errors_hide_secrets(tmp_path):
    settings = make_settings(tmp_path)
    for text in (repr(settings), str(settings), str(settings.model_dump())):
        assert PASSWORD not in text and API_KEY not in text
    resource = CofaServeResource(base_url="https://a.test", auth_url="https://a.test", username="u",
                                 password=PASSWORD, api_key=API_KEY, policy_number="P")
    assert PASSWORD not in repr(resource) and API_KEY not in repr(resource)


def test_a_faulty_run_leaks_no_secret_anywhere(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)  # every logger, httpx and httpcore included
    api = FakeApi()
    api.json_route(CATALOG, {"easyNumber": "12345678", "products": []})
    bad_item = {"notificationId": "N-1", "externalId": "E", "eventDate": "x"}
    api.list_route(NOTIFICATIONS, "notifications", [bad_item])
    clock = FakeClock()
    texts: list[str] = []
    log = logging.getLogger("test.faulty_run")

    def attempt(fn):
        try:
            return fn()
        except CofaServeError as exc:
            log.exception("call failed")
            texts.append("".join(traceback.format_exception(exc)))
            texts.append(repr(exc))
            return None

    with make_client(tmp_path, api, clock, max_attempts=3) as client:
        texts.append(repr(client))
        attempt(lambda: client.get_catalog("12345678"))
        # a server that echoes the credentials back in its error messages
        api.fail_next(CATALOG, envelope(400, "missing_or_invalid_param", f"bad key {API_KEY}"))
        attempt(lambda: client.get_catalog("12345678"))
        api.fail_next(CATALOG, envelope(500, "internal_server_error", f"password {PASSWORD} rejected"),
                      httpx.RemoteProtocolError("cut"), httpx.Response(200, content=b"{broken"))
        attempt(lambda: client.get_catalog("12345678"))
        api.revoke_all()
        attempt(lambda: client.get_catalog("12345678"))
        token = sorted(api.valid)[0]
        api.route(CATALOG, lambda r: envelope(401, "invalid_token", f"token {token} is unknown"))
        attempt(lambda: client.get_catalog("12345678"))
        for _ in range(3):
            api.fail_next(CATALOG, json_response(503, {"message": f"{API_KEY}"}))
        attempt(lambda: client.get_catalog("12345678"))
        records = attempt(lambda: list(client.iter_notifications(DateWindow.parse("2026-01-01", "2026-01-02"))))
        texts.extend(repr(r) for r in records or [])
        texts.extend(r.error or "" for r in records or [])
        texts.append(str(client.telemetry.snapshot()))
    with make_client(tmp_path, FakeApi(password="another-one"), clock) as wrong:
        attempt(lambda: wrong.get_catalog("12345678"))
        attempt(lambda: wrong.get_catalog("12345678"))
    with make_client(tmp_path, FakeApi(password="another-one"), clock) as later:
        attempt(lambda: later.get_catalog("12345678"))

    assert len(texts) > 10 and api.issued >= 2
    everything = caplog.text + "\n".join(texts)
    everything += "".join(p.read_text() for p in (tmp_path / "guard").iterdir())
    budget_files = list((tmp_path / "cofaserve-budget").iterdir())  # the shared rate budget's schedules
    assert len(budget_files) > 2
    everything += "".join(p.read_text() for p in budget_files)
    secrets = [PASSWORD, API_KEY]
    for n in range(1, api.issued + 1):
        secrets += [f"idtoken-{n}-ABCDEFGH", f"refresh-{n}-IJKLMNOP", f"access-{n}-QRSTUVWX"]
    leaked = [s for s in secrets if s in everything]
    assert leaked == []
    # the run did log what happened, with redacted headers
    assert "retrying" in caplog.text and "'x-api-key': '***'" in caplog.text
    assert "Incorrect username or password" in everything and "not attempted" in everything


@pytest.mark.parametrize("var", ["COFASERVE_PASSWORD", "COFASERVE_API_KEY"])
def test_settings_errors_name_the_variable_not_the_value(var):
    env = {"COFASERVE_BASE_URL": "https://a.test", "COFASERVE_AUTH_URL": "https://a.test",
           "COFASERVE_USERNAME": "u", "COFASERVE_PASSWORD": PASSWORD, "COFASERVE_API_KEY": API_KEY,
           "COFASERVE_POLICY_NUMBER": "P"}
    env["COFASERVE_BASE_URL"] = f"not a url {env[var]}"
    with pytest.raises(CofaServeError) as info:
        ClientSettings.from_env(env)
    assert "COFASERVE_BASE_URL" in str(info.value) and env[var] not in str(info.value)

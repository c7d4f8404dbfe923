"""`cofasync` end to end: a subprocess against a sandbox subprocess, into a fresh folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from resources.landing import LandingStore
from sandbox.fx_rates import rates_path
from sandbox.testing import run_sandbox_process
from tests.support.webhook import webhook

TODAY = date(2026, 11, 23)
# the contract started 45 days ago: the whole history the API holds for it, in a test-sized run (the
# full two-year backfill is what `make sync` and the soak run)
HORIZON = TODAY - timedelta(days=45)
COFASYNC = str(Path(sys.executable).with_name("cofasync"))


def env_for(handle, folder: Path, **overrides) -> dict[str, str]:
    """The settings a user would export, pointing at the sandbox and at a fresh folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COFASERVE_", "COFASYNC_"))}
    env.update({
        "COFASERVE_BASE_URL": handle.base_url,
        "COFASERVE_AUTH_URL": handle.base_url,
        "COFASERVE_USERNAME": handle.credentials["username"],
        "COFASERVE_PASSWORD": handle.credentials["password"],
        "COFASERVE_API_KEY": handle.credentials["api_key"],
        "COFASERVE_POLICY_NUMBER": handle.credentials["policy_number"],
        "COFASERVE_LOCKOUT_DIR": str(folder / "lockout"),
        "COFASYNC_TODAY": TODAY.isoformat(),
        "COFASERVE_CONTRACT_START": HORIZON.isoformat(),
        "LANDING_ROOT": str(folder / "landing"),
        "WAREHOUSE_URL": f"duckdb:///{folder / 'warehouse.duckdb'}",
        "DAGSTER_HOME": str(folder / "dagster"),
        "COFASYNC_FX_RATES": rates_path(),  # the sandbox's ECB-format rates, as `make sync` uses
    })
    env.update(overrides)
    return env


def cofasync(env, *args, timeout=600) -> subprocess.CompletedProcess:
    return subprocess.run([COFASYNC, *args], env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def synced(tmp_path_factory):
    """One sandbox process, one full `cofasync sync` into a fresh folder."""
    folder = tmp_path_factory.mktemp("e2e")
    with run_sandbox_process(companies=200, today=TODAY) as handle:
        env = env_for(handle, folder)
        first = cofasync(env, "sync")
        yield handle, env, folder, first


def in_window(moment: str) -> bool:
    return HORIZON <= datetime.fromisoformat(moment).date() < TODAY


def test_sync_lands_two_years_and_prints_a_summary(synced):
    _, _, _, first = synced
    assert first.returncode == 0, first.stderr[-3000:]
    assert f"due: {HORIZON.isoformat()} to {(TODAY - timedelta(days=1)).isoformat()}" in first.stdout
    for line in ("Summary", "landed by this command:", "quarantined records: 0", "API calls:", "time:",
                 "checks: every check passed"):
        assert line in first.stdout
    # what this command landed, per stream: every day of the window, and the calls per endpoint
    days = (TODAY - HORIZON).days
    for stream in ("notifications", "deliveries", "orders"):
        line = next(line for line in first.stdout.splitlines() if line.strip().startswith(stream + " "))
        assert line.split()[1] == f"{days:,}", line
    calls = next(line for line in first.stdout.splitlines() if "API calls:" in line)
    assert "delivery " in calls and "notifications " in calls, calls


def test_the_warehouse_holds_every_decision_of_the_window_once(synced):
    handle, _, folder, first = synced
    assert first.returncode == 0
    truth = {n["externalId"] for n in handle.truth("notifications") if in_window(n["eventDate"])}
    deliveries = {d["externalId"]: d for d in handle.truth("deliveries")}
    with duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True) as con:
        rows = con.sql("select delivery_id, product_code, status, valid_from from history.decision_history "
                       "where delivery_id is not null").fetchall()
        links = dict(con.sql("select temporary_easy_number, easy_number from history.easy_number_map").fetchall())
        notifications = con.execute("select count(*) from staging.stg_notifications").fetchone()[0]
    assert notifications == len(truth)
    # every decision notified in the window, plus the last decision of every product the reconciliation
    # snapshot listed (older decisions still in force), each once
    listed = {line["deliveryId"] for line in handle.truth("lines") if line["listed"] and line["deliveryId"]}
    expected = {deliveries[x]["deliveryId"] for x in truth} | listed
    assert sorted(r[0] for r in rows) == sorted(expected)
    for delivery_id, product, status, valid_from in rows:
        source = next(d for d in deliveries.values() if d["deliveryId"] == delivery_id)
        assert (product, status) == (source["productCode"], source["status"])
        assert valid_from == datetime.fromisoformat(source["decisionDate"])
    exposed = {link["temporaryEasyNumber"]: link["easyNumber"] for link in handle.truth("easy_number_links")
               if link.get("identifiedAt") and in_window(link["identifiedAt"])}
    assert exposed.items() <= links.items()


def test_status_shows_every_stream_fresh(synced):
    _, env, _, first = synced
    assert first.returncode == 0
    status = cofasync(env, "status")
    assert status.returncode == 0, status.stderr[-2000:]
    for stream in ("notifications", "portfolio", "deliveries", "orders", "overdues"):
        line = next(line for line in status.stdout.splitlines() if line.strip().startswith(stream + " "))
        assert (TODAY - timedelta(days=1)).isoformat() in line and " 0 " in line, line
    assert "nightly_extract" in status.stdout and "SUCCESS" in status.stdout


def test_backfill_plan_prints_the_calls_per_endpoint_and_lands_nothing(synced):
    _, env, folder, first = synced
    assert first.returncode == 0
    def manifests():
        return {p: p.read_bytes() for p in (folder / "landing").rglob("_manifests/**/*.json")}

    before = manifests()
    last = TODAY - timedelta(days=1)
    done = cofasync(env, "backfill", "--plan", "--from", (last - timedelta(days=29)).isoformat(), "--to", last.isoformat())
    assert done.returncode == 0, done.stderr[-2000:]
    assert "(30 days)" in done.stdout and "by-id calls" in done.stdout, done.stdout
    for endpoint in ("delivery", "order", "overdue", "overdue_documents"):
        assert any(line.split()[:1] == [endpoint] and "/min" in line for line in done.stdout.splitlines()), done.stdout
    assert manifests() == before  # the plan paged into a scratch zone: the landing zone is as it was


def test_status_json_is_what_scripts_read(synced):
    _, env, _, first = synced
    assert first.returncode == 0
    done = cofasync(env, "status", "--json")
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    yesterday = (TODAY - timedelta(days=1)).isoformat()
    assert report["today"] == TODAY.isoformat() and report["due"] == []
    for stream in ("notifications", "portfolio", "deliveries", "orders", "overdues"):
        assert report["streams"][stream]["latest"] == yesterday and report["streams"][stream]["days_behind"] == 0
    assert report["streams"]["deliveries"]["rows"] > 0
    assert report["warehouse"]["tables"]["decision_history"] > 0
    assert report["last_runs"] and {r["status"] for r in report["last_runs"]} == {"SUCCESS"}


def test_a_second_sync_has_nothing_due_and_keeps_the_tables(synced):
    handle, env, folder, first = synced
    assert first.returncode == 0
    with duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True) as con:
        before = con.execute("select count(*) from history.decision_history").fetchone()[0]
    handle.reset_counters()
    second = cofasync(env, "sync")
    assert second.returncode == 0, second.stderr[-2000:]
    assert "every day up to yesterday has landed" in second.stdout
    with duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from history.decision_history").fetchone()[0] == before
    by_endpoint = handle.counters()["byEndpoint"]
    assert not any("notifications" in endpoint or "deliveries" in endpoint for endpoint in by_endpoint)


def test_a_missing_setting_is_named_before_any_work(synced, tmp_path):
    handle, env, _, _ = synced
    broken = {k: v for k, v in env_for(handle, tmp_path).items() if k != "COFASERVE_API_KEY"}
    broken["WAREHOUSE_URL"] = "mysql://nope"
    result = cofasync(broken, "sync")
    assert result.returncode == 2
    assert "COFASERVE_API_KEY" in result.stderr and "WAREHOUSE_URL" in result.stderr
    assert not (tmp_path / "landing").exists()


def test_a_day_outside_the_window_is_refused_with_the_available_dates(synced, tmp_path):
    handle, _, _, _ = synced
    handle.reset_counters()
    result = cofasync(env_for(handle, tmp_path), "backfill", "--from", "2023-01-01", "--to", "2023-01-02")
    assert result.returncode == 2
    assert "two-year retention window" in result.stderr
    assert f"available partitions are {HORIZON.isoformat()} to {(TODAY - timedelta(days=1)).isoformat()}" in result.stderr
    assert handle.counters()["requests"] == 0


def test_a_wrong_password_costs_one_attempt_and_later_runs_wait(synced, tmp_path):
    handle, _, _, _ = synced
    handle.reset_counters()
    with webhook() as (url, alerts):
        env = env_for(handle, tmp_path, COFASERVE_PASSWORD="not-the-password", COFASYNC_FAILURE_WEBHOOK_URL=url)
        first = cofasync(env, "sync")
    assert first.returncode != 0
    assert "Incorrect username or password" in first.stderr or "rejected" in first.stderr.lower()
    assert "not-the-password" not in first.stdout + first.stderr
    assert handle.counters()["login"]["attempts"] == 1
    # the failed run is alerted as the run-failure sensor alerts a scheduled one, without the secret
    assert [a["job"] for a in alerts] == ["nightly_extract"] and alerts[0]["run_id"]
    assert "not-the-password" not in json.dumps(alerts)
    second = cofasync(env, "sync")
    assert second.returncode != 0
    assert handle.counters()["login"]["attempts"] == 1  # no new attempt within the cool-down
    assert "not-the-password" not in second.stdout + second.stderr


def test_doctor_checks_everything_with_one_login(synced, tmp_path):
    handle, env, _, first = synced
    assert first.returncode == 0
    handle.reset_counters()
    result = cofasync(env, "doctor")
    assert result.returncode == 0, result.stdout + result.stderr
    for line in ("settings: ok", "landing zone: ok", "warehouse: ok", "API: ok"):
        assert line in result.stdout
    assert handle.counters()["login"]["attempts"] == 1
    broken = cofasync(env_for(handle, tmp_path, COFASERVE_API_KEY="wrong-key"), "doctor")
    assert broken.returncode == 1 and "API:" in broken.stdout and "wrong-key" not in broken.stdout


def test_an_unreachable_warehouse_is_found_before_any_api_call(synced, tmp_path):
    handle, _, _, _ = synced
    handle.reset_counters()
    result = cofasync(env_for(handle, tmp_path, WAREHOUSE_URL="postgresql+psycopg://cofasync:secret@127.0.0.1:9/wh"),
                      "sync")
    assert result.returncode == 1
    assert "WAREHOUSE_URL" in result.stderr and "127.0.0.1:9" in result.stderr and "Nothing was extracted" in result.stderr
    assert "secret" not in result.stdout + result.stderr
    assert handle.counters()["requests"] == 0


@pytest.mark.parametrize("setting", ["LANDING_ROOT", "DAGSTER_HOME"])
def test_a_folder_setting_naming_a_file_is_refused_by_name(synced, tmp_path, setting):
    handle, _, _, _ = synced
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    for command in ("sync", "status"):
        result = cofasync(env_for(handle, tmp_path, **{setting: str(a_file)}), command)
        assert result.returncode == 2, result.stderr
        assert f"{setting}={str(a_file)!r} is malformed: is the file" in result.stderr
        assert "Traceback" not in result.stderr


def test_an_unusable_lockout_folder_refuses_to_log_in_run_after_run(synced, tmp_path):
    handle, _, _, _ = synced
    handle.reset_counters()
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    env = env_for(handle, tmp_path, COFASERVE_PASSWORD="not-the-password", COFASERVE_LOCKOUT_DIR=str(blocker / "guard"))
    for _ in range(3):  # three scheduled runs with a wrong password: the account is never at risk
        result = cofasync(env, "sync")
        assert result.returncode == 1
        assert "lockout guard folder" in result.stderr and "COFASERVE_LOCKOUT_DIR" in result.stderr
        assert "refused the credentials" not in result.stderr  # none was tried
    assert handle.counters()["login"]["attempts"] == 0
    opted_out = cofasync({**env, "COFASERVE_PASSWORD": handle.credentials["password"],
                          "COFASERVE_CLIENT_OPTIONS": '{"lockout_guard_required": false}'}, "doctor")
    assert "API: ok" in opted_out.stdout, opted_out.stdout + opted_out.stderr


@pytest.mark.parametrize(("url", "reason"), [("http://127.0.0.1:9", "connection refused"),
                                              ("http://cofaserve.invalid", "unknown host")])
def test_an_api_that_cannot_be_reached_fails_in_seconds_naming_the_cause(synced, tmp_path, url, reason):
    handle, _, _, _ = synced
    started = datetime.now()
    result = cofasync(env_for(handle, tmp_path, COFASERVE_BASE_URL=url, COFASERVE_AUTH_URL=url), "sync")
    assert result.returncode == 1
    assert (datetime.now() - started).total_seconds() < 120  # not 3 step attempts x 8 retries (493 s)
    last = result.stderr.strip().splitlines()[-1]
    assert f"cannot reach {url} ({reason}" in last and "COFASERVE_BASE_URL" in last
    assert "Exceeded max_retries" not in result.stderr and "run `cofasync sync` again" in result.stderr


def test_a_refused_api_key_costs_one_request_and_says_which_setting(synced, tmp_path):
    handle, _, _, _ = synced
    handle.reset_counters()
    result = cofasync(env_for(handle, tmp_path, COFASERVE_API_KEY="not-the-key"), "sync")
    assert result.returncode == 1
    assert handle.counters()["requests"] == 1  # one login answered 403; the other workers did not ask again
    last = result.stderr.strip().splitlines()[-1]
    assert "HTTP 403" in last and "check COFASERVE_API_KEY" in last and "dagster." not in last
    assert "not-the-key" not in result.stdout + result.stderr


def test_an_api_answering_in_another_shape_fails_in_seconds_naming_the_setting(synced, tmp_path):
    handle, _, _, _ = synced
    started = datetime.now()
    result = cofasync(env_for(handle, tmp_path, COFASERVE_CLIENT_OPTIONS='{"items_keys": {"notifications": "rows"}}'),
                      "sync")
    assert result.returncode == 1
    assert (datetime.now() - started).total_seconds() < 120  # was still retrying after 300 s
    last = result.stderr.strip().splitlines()[-1]
    assert "UnexpectedShapeError" in last and "'rows'" in last and "COFASERVE_CLIENT_OPTIONS" in last


def test_verify_names_a_damaged_file_and_its_repair_which_then_works(synced, tmp_path):
    handle, _, folder, first = synced
    assert first.returncode == 0
    shutil.copytree(folder / "landing", tmp_path / "landing")
    env = env_for(handle, tmp_path)
    clean = cofasync(env, "verify")
    assert clean.returncode == 0 and "every landed file matches" in clean.stdout, clean.stdout + clean.stderr
    day = (TODAY - timedelta(days=3)).isoformat()
    landing = LandingStore(str(tmp_path / "landing"), policy=handle.credentials["policy_number"])
    manifest = landing.manifest("deliveries", date.fromisoformat(day))
    damaged = Path(landing.path) / manifest["files"][0]
    data = bytearray(damaged.read_bytes())
    data[len(data) // 3] ^= 0xFF
    damaged.write_bytes(bytes(data))
    found = cofasync(env, "verify")
    assert found.returncode == 1
    assert str(damaged) in found.stdout and "no longer matches the digest" in found.stdout
    # the file of a range run is shared by its days: the repair re-extracts every day that names it
    named_by = sorted(m["partition"] for m in landing.manifests("deliveries") if manifest["files"][0] in m["files"])
    advice = f"cofasync backfill --from {named_by[0]} --to {named_by[-1]} --streams deliveries"
    assert advice in found.stdout
    handle.reset_counters()
    repaired = cofasync(env, *advice.split()[1:])
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    # only the deliveries were fetched again, from the lists as they landed
    fetched = {k for k, n in handle.counters()["byEndpoint"].items() if n and "{" in k}
    assert fetched == {"GET /tci/product/v1/companies/{easyNumber}/products/deliveries/{deliveryIdOrExternalId}"}
    again = cofasync(env, "verify")
    assert again.returncode == 0, again.stdout  # the day's new run names new files; the damaged one is superseded


def test_days_the_api_has_not_finished_are_refused_never_landed_empty(synced, tmp_path):
    handle, _, _, _ = synced  # the sandbox's business day is TODAY; this machine believes it is a week later
    handle.reset_counters()
    ahead = TODAY + timedelta(days=7)
    env = env_for(handle, tmp_path, COFASYNC_TODAY=ahead.isoformat(),
                  COFASERVE_CONTRACT_START=(TODAY - timedelta(days=3)).isoformat())
    result = cofasync(env, "sync")
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert f"the API's clock (its Date header) reads {TODAY}: {TODAY} to {ahead - timedelta(days=1)}" in last
    assert "COFASYNC_TODAY" in last
    assert not list((tmp_path / "landing").glob("**/_manifests/*/*.json"))  # no day landed, empty or not
    assert handle.counters()["requests"] == 1  # the login that read the API's clock


def test_backfill_refuses_a_stream_that_is_not_daily(synced, tmp_path):
    handle, _, _, _ = synced
    result = cofasync(env_for(handle, tmp_path), "backfill", "--from", HORIZON.isoformat(), "--to",
                      HORIZON.isoformat(), "--streams", "deliveries,countries")
    assert result.returncode == 2 and "--streams: not a daily stream: countries" in result.stderr


def test_a_damaged_manifest_stops_sync_naming_it_and_its_advised_repair_works(synced, tmp_path):
    handle, _, folder, first = synced
    assert first.returncode == 0
    shutil.copytree(folder / "landing", tmp_path / "landing")
    env = env_for(handle, tmp_path)
    day = TODAY - timedelta(days=5)
    manifest = (tmp_path / "landing" / f"policy={handle.credentials['policy_number']}" / "_manifests" / "deliveries"
                / f"month={day:%Y-%m}.json")  # the day's month
    manifest.write_text("")
    stopped = cofasync(env, "sync")
    assert stopped.returncode == 1 and "Traceback" not in stopped.stderr
    assert f"the landing manifest {manifest} is empty" in stopped.stderr.strip().splitlines()[-1]
    found = cofasync(env, "verify")
    # every finished day the month file can hold, which the API still serves
    advice = f"cofasync backfill --from {day:%Y-%m}-01 --to {TODAY - timedelta(days=1)} --streams deliveries"
    assert found.returncode == 1 and str(manifest) in found.stdout and advice in found.stdout, found.stdout
    repaired = cofasync(env, *advice.split()[1:])
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert cofasync(env, "verify").returncode == 0
    days = json.loads(manifest.read_text())["partitions"]
    assert day.isoformat() in days and days[day.isoformat()]["partition"] == day.isoformat()

"""Every asset materialized each night carries Dagster's freshness policy ("fresh by 06:00 UTC"); the
bundled instance settings enable freshness policies; what is not nightly carries none."""

from importlib.resources import files

import dagster as dg
import yaml

from assets.freshness import FRESH_BY, POLICY
from pipelines.definitions import build_definitions
from resources.settings import load_settings


def test_nightly_assets_have_the_freshness_policy_and_others_none():
    graph = build_definitions(load_settings({})).resolve_asset_graph()
    policy_of = {key.to_user_string(): graph.get(key).freshness_policy for key in graph.get_all_asset_keys()}
    for nightly in ("deliveries", "notifications", "portfolio", "history/decision_history", "marts/cover_daily",
                    "marts/sync_status", "staging/stg_deliveries"):
        assert policy_of[nightly] == POLICY, nightly
    for other in ("portfolio_snapshot", "order_polls", "countries", "fx_rates"):  # weekly, on demand, external
        assert policy_of[other] is None, other
    assert POLICY.deadline_cron == FRESH_BY


def test_the_bundled_instance_settings_enable_freshness_policies(tmp_path):
    settings = yaml.safe_load((files("pipelines") / "dagster_home.yaml").read_text())
    assert settings["freshness"] == {"enabled": True}
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump({"freshness": {"enabled": True}, "telemetry": {"enabled": False}}))
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:  # Dagster accepts the section
        assert instance is not None

"""What an attempt run in the harness's own process is given: the settings, the API resource and the
Dagster instance `cofasync` would build from the attempt's environment (no environment read elsewhere)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def in_process(env: dict[str, str]) -> Iterator[tuple]:
    """(settings, CofaServeResource, DagsterInstance) of ``env``, the instance open until the block ends."""
    from dagster import DagsterInstance

    from pipelines.cli import ensure_dagster_home
    from resources.cofaserve import CofaServeResource
    from resources.settings import load_settings

    settings = load_settings(env)
    cofaserve = CofaServeResource(
        base_url=env["COFASERVE_BASE_URL"], auth_url=env["COFASERVE_AUTH_URL"],
        username=env["COFASERVE_USERNAME"], password=env["COFASERVE_PASSWORD"],
        api_key=env["COFASERVE_API_KEY"], policy_number=env["COFASERVE_POLICY_NUMBER"],
        lockout_dir=env["COFASERVE_LOCKOUT_DIR"], options_json=env.get("COFASERVE_CLIENT_OPTIONS"))
    home = Path(settings.dagster_home)
    ensure_dagster_home(home)
    with DagsterInstance.from_config(str(home)) as instance:
        yield settings, cofaserve, instance

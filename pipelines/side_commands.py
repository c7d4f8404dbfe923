"""The commands beside the pipeline's runs: the push channel's (`cofasync receive`, the endpoint Coface
pushes to; `subscribe`; `replay`) and `cofasync dbt-sources`."""

from __future__ import annotations

import argparse
from pathlib import Path
from urllib.parse import urlsplit

from pipelines.progress import fail
from resources.push.settings import load_push_settings

EXIT_OK, EXIT_SETTINGS = 0, 2


def cmd_dbt_sources(args: argparse.Namespace) -> int:
    """`cofasync dbt-sources`: the dbt sources of the warehouse's history and marts, from its dictionary."""
    from resources.warehouse.dictionary import dbt_sources

    text = dbt_sources()
    if args.out is None:
        print(text, end="")
    else:
        args.out.write_text(text, encoding="utf-8")
        print(f"wrote {args.out}: dbt sources cofaserve_history and cofaserve_marts")
    return EXIT_OK


def cmd_receive(args: argparse.Namespace) -> int:
    """Check the pipeline's and the receiver's settings, then serve until interrupted."""
    from pipelines.receiver import serve
    from resources.settings import SettingsError, load_settings

    try:
        settings, push = load_settings(), load_push_settings()
    except SettingsError as exc:
        return fail(f"{exc}. See .env.example for every setting.", EXIT_SETTINGS)
    if args.listen:
        from dataclasses import replace

        from resources.push.settings import parse_listen

        try:
            host, port = parse_listen(args.listen)
        except ValueError as exc:
            return fail(f"--listen {args.listen!r} {exc}", EXIT_SETTINGS)
        push = replace(push, host=host, port=port)
    print(f"receiving push notifications on http://{push.host}:{push.port}{push.path} "
          f"(certificates from {', '.join(push.cert_hosts)}"
          f"{'; a query parameter required' if push.query else ''}"
          f"{'; OAuth tokens at ' + push.path + '/token' if push.oauth_client else ''}); "
          f"inbox under {settings.landing_root}", flush=True)
    try:
        serve(push, settings.landing_root)
    except ValueError as exc:
        return fail(str(exc), EXIT_SETTINGS)
    return 0


def endpoint_object(url: str, query: str | None = None) -> dict[str, str]:
    """The API's endpoint object (scheme, host, port, path, query) of ``url``; ValueError when it is no
    http(s) URL with a host."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"--endpoint must be an http(s) URL with a host (got {url!r})")
    return {"scheme": parts.scheme, "host": parts.hostname, "port": str(parts.port or ""),
            "path": parts.path or "/", "query": query if query is not None else parts.query}


def _client_and_settings():
    from resources.cofaserve import ClientSettings, CofaServeClient
    from resources.cofaserve import SettingsError as ClientSettingsError
    from resources.settings import SettingsError, load_settings

    try:
        settings, push, client_settings = load_settings(), load_push_settings(), ClientSettings.from_env()
    except (SettingsError, ClientSettingsError) as exc:
        raise SystemExit(fail(f"{exc}. See .env.example for every setting.", EXIT_SETTINGS)) from None
    return settings, push, CofaServeClient(client_settings)


def cmd_subscribe(args: argparse.Namespace) -> int:
    """Subscribe the receiver's public URL to a push topic, and record it in the push ledger."""
    from datetime import UTC, datetime

    from resources.push.ledger import PushLedger
    from resources.push.topics import TOPIC_PRODUCTS

    if args.topic not in TOPIC_PRODUCTS:
        return fail(f"--topic must be one of {', '.join(TOPIC_PRODUCTS)} (got {args.topic!r})", EXIT_SETTINGS)
    settings, push, client = _client_and_settings()
    public = args.endpoint.split("?")[0]
    try:
        endpoint = endpoint_object(args.endpoint, "=".join(push.query) if push.query else None)
    except ValueError as exc:
        return fail(str(exc), EXIT_SETTINGS)
    oauth = None
    if args.oauth:
        if push.oauth_client is None:
            return fail("--oauth needs COFASYNC_PUSH_OAUTH_CLIENT_ID and COFASYNC_PUSH_OAUTH_CLIENT_SECRET", EXIT_SETTINGS)
        token = endpoint_object(public.rstrip("/") + "/token", "")
        oauth = {"authEndpoint": token, "clientId": push.oauth_client[0], "clientSecret": push.oauth_client[1]}
    from resources.cofaserve import CofaServeError

    try:
        with client:
            answer = client.subscribe_push(args.topic, endpoint, oauth).model
    except CofaServeError as exc:
        return fail(f"the subscription to {args.topic} failed: {exc}")
    ledger = PushLedger(settings.landing_root)
    try:
        clock = settings.clock() or (lambda: datetime.now(UTC))  # COFASYNC_NOW pins it (a sandbox's clock)
        ledger.add_subscription(answer.subscription_arn, args.topic, public, clock())
    finally:
        ledger.close()
    print(f"subscribed {public} to {args.topic}: {answer.subscription_arn} ({answer.status})")
    return EXIT_OK


def cmd_replay(args: argparse.Namespace) -> int:
    """One replay pass now (what the hourly `replay_missed_pushes` job does)."""
    from pipelines.push_replay import replay_missed
    from resources.io_resources import LandingResource

    settings, _, client = _client_and_settings()
    landing = LandingResource.from_settings(settings)
    if not landing.has_push_inbox():
        print("no push inbox in the landing zone: `cofasync subscribe` and `cofasync receive` make it")
        return EXIT_OK
    with client:
        report = replay_missed(client, landing.synced_stores(), landing.root)
    print(report.summary())
    return 1 if report.lost else EXIT_OK


def add_side_commands(sub) -> None:
    """Register these commands on the `cofasync` subparsers."""
    dbt = sub.add_parser("dbt-sources", help="print a dbt sources.yml of the history and marts tables, described")
    dbt.add_argument("--out", type=Path, help="write it to this file instead")
    dbt.set_defaults(func=cmd_dbt_sources)
    receive = sub.add_parser("receive", help="serve the endpoint Coface pushes notifications to (checked, "
                                             "kept in the landing zone's inbox)")
    receive.add_argument("--listen", help="host:port (default: COFASYNC_PUSH_LISTEN, 127.0.0.1:8787)")
    receive.set_defaults(func=cmd_receive)
    subscribe = sub.add_parser("subscribe", help="subscribe the receiver's public URL to a push topic")
    subscribe.add_argument("--topic", required=True, help="credit_insurance_cover, scoring, ... (docs/contracts.md)")
    subscribe.add_argument("--endpoint", required=True, help="the public https URL Coface posts to (the reverse "
                                                             "proxy's); COFASYNC_PUSH_QUERY is appended")
    subscribe.add_argument("--oauth", action="store_true", help="the OAuth variant: Coface fetches a token at "
                                                                "<endpoint>/token before each message")
    subscribe.set_defaults(func=cmd_subscribe)
    replay = sub.add_parser("replay", help="ask Coface to replay the pushed messages the receiver missed")
    replay.set_defaults(func=cmd_replay)

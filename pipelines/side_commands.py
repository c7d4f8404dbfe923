"""The commands beside the pipeline's runs: `cofasync receive` (the endpoint Coface's push notifications
are sent to) and `cofasync dbt-sources`."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipelines.progress import fail

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
    from resources.push import load_push_settings
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


def add_side_commands(sub) -> None:
    """Register these commands on the `cofasync` subparsers."""
    dbt = sub.add_parser("dbt-sources", help="print a dbt sources.yml of the history and marts tables, described")
    dbt.add_argument("--out", type=Path, help="write it to this file instead")
    dbt.set_defaults(func=cmd_dbt_sources)
    receive = sub.add_parser("receive", help="serve the endpoint Coface pushes notifications to (checked, "
                                             "kept in the landing zone's inbox)")
    receive.add_argument("--listen", help="host:port (default: COFASYNC_PUSH_LISTEN, 127.0.0.1:8787)")
    receive.set_defaults(func=cmd_receive)

"""The `ivr` command. Each sub-command is a small function; errors become one line on stderr."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit, urlunsplit

from ivr import __version__
from ivr.errors import IvrError

Handler = Callable[[argparse.Namespace], int]
EXIT_ERROR = 1
SECRET_SETTINGS = frozenset({"IVR_OTP_SECRET", "IVR_CRM_AUTH_HEADER", "IVR_SMS_AUTH_HEADER"})


def _user_errors() -> tuple[type[BaseException], ...]:
    # Imported here so that `ivr --help` stays fast and works even if a package is broken.
    from ivr.store.errors import StoreError
    from ivr.telephony.errors import TelephonyError

    return (IvrError, StoreError, TelephonyError, OSError)


def cmd_serve(args: argparse.Namespace) -> int:
    from ivr.config import load_settings
    from ivr.logs import setup_logging
    from ivr.server import serve

    settings = load_settings()
    setup_logging(settings.log_level, settings.log_format, pii=settings.log_pii)
    # serve() turns SIGINT into a clean stop; this only covers a Ctrl-C during start-up.
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(settings, on_ready=_print_next_steps if args.next_steps else None))
    return 0


def _print_next_steps() -> None:
    from ivr.firststeps import try_next

    print(try_next(), flush=True)


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from ivr.config import load_settings
    from ivr.store.db import current_revision, upgrade

    url = load_settings().database_url
    upgrade(url)
    print(f"database is at revision {current_revision(url)}")
    return 0


def cmd_db_current(args: argparse.Namespace) -> int:
    from ivr.config import load_settings
    from ivr.store.db import current_revision

    print(current_revision(load_settings().database_url) or "empty (run 'ivr db upgrade')")
    return 0


def cmd_demo_load(args: argparse.Namespace) -> int:
    from ivr.config import load_settings
    from ivr.firststeps import demo_loaded
    from ivr.store.db import Database, require_current
    from ivr.store.demo import load_demo

    url = load_settings().database_url
    require_current(url)
    summary = load_demo(Database(url))
    print(demo_loaded(summary))
    return 0


def cmd_config(args: argparse.Namespace) -> int:
    from ivr.config import describe, load_settings

    current = load_settings().model_dump()
    for variable, default, description in describe():
        value = current[variable.removeprefix("IVR_").lower()]
        if value and variable in SECRET_SETTINGS:
            value = "***"
        elif isinstance(value, str) and "://" in value:
            value = _hide_password(value)
        print(f"{variable:<22} {value!s:<28} {description} (default: {default or 'unset'})")
    return 0


def _hide_password(url: str) -> str:
    """postgresql://ivr:***@host/ivr: URLs (database, AMI) carry their secret in the password."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ivr", description="Voice self-service for Asterisk (FastAGI, AMI, AudioSocket)."
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    parser.add_argument("--version", action="version", version=f"ivr {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    serve_help = "run FastAGI, AudioSocket, admin HTTP and the dialer"
    serve = sub.add_parser("serve", help=serve_help)
    serve.add_argument("--next-steps", action="store_true",
                       help="once listening, print two demo calls to try (make run does)")
    serve.set_defaults(func=cmd_serve)
    db = sub.add_parser("db", help="database schema").add_subparsers(dest="db", required=True)
    db.add_parser("upgrade", help="migrate the database to the latest schema").set_defaults(
        func=cmd_db_upgrade
    )
    db.add_parser("current", help="print the database's schema revision").set_defaults(
        func=cmd_db_current
    )
    demo = sub.add_parser("demo", help="demo data").add_subparsers(dest="demo", required=True)
    demo.add_parser("load", help="load the demo company (50 customers)").set_defaults(
        func=cmd_demo_load
    )
    sub.add_parser("config", help="print every IVR_* setting and its value").set_defaults(
        func=cmd_config
    )
    from ivr.admin.cli import add_admin_commands
    from ivr.campaigns.cli import add_campaign_commands
    from ivr.check.cli import add_check_commands
    from ivr.cli_telephony import add_telephony_commands
    from ivr.flows.cli import add_flow_commands
    from ivr.speech_cli import add_speech_commands

    add_telephony_commands(sub)
    add_flow_commands(sub)
    add_admin_commands(sub)
    add_campaign_commands(sub)
    add_speech_commands(sub)
    add_check_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    func: Handler = args.func
    try:
        return func(args)
    except _user_errors() as err:
        if args.debug:
            raise
        print(f"ivr: error: {err}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())

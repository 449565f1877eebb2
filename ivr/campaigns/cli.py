"""`ivr campaign ...`: create, import a CSV (progress bar + rejection report), start, pause,
resume, cancel, status and report (table or CSV).

`add_campaign_commands(subparsers)` registers them on the `ivr` parser. Store errors (no such
campaign, impossible state change) and CampaignError reach the CLI's one-line error mapping.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import date
from pathlib import Path
from typing import Any

from ivr.campaigns import reports
from ivr.campaigns.csv_import import decode_csv, import_csv
from ivr.campaigns.errors import CampaignError
from ivr.config import load_settings
from ivr.errors import IvrError
from ivr.store.db import Database, require_current
from ivr.store.domain import DEFAULT_RETRY_SECONDS, RETRY_OUTCOMES, CampaignSpec
from ivr.store.repositories.campaigns import CampaignRepository

STATES = {"start": "running", "resume": "running", "pause": "paused", "cancel": "cancelled"}
WINDOW = re.compile(r"(?:(?:[01]\d|2[0-3]):[0-5]\d|24:00)-(?:(?:[01]\d|2[0-3]):[0-5]\d|24:00)")
DELAY = re.compile(r"(\d{1,7})([smh]?)")
UNITS = {"s": 1, "m": 60, "h": 3600}


def add_campaign_commands(subparsers: Any) -> None:
    camp = subparsers.add_parser("campaign", help="outbound notification campaigns")
    sub = camp.add_subparsers(dest="campaign", metavar="ACTION", required=True)
    create = sub.add_parser("create", help="create a campaign (draft)")
    create.add_argument("name")
    create.add_argument("--kind", default="custom")
    create.add_argument("--message", default="", help="text with $name and CSV columns")
    create.add_argument("--prompt", action="append", default=[], dest="prompts",
                        help="prompt played when there is no text-to-speech (repeatable)")
    create.add_argument("--window", default="08:00-21:00", metavar="HH:MM-HH:MM",
                        help="calling window in each contact's local time (default "
                             "08:00-21:00; 24:00 is midnight)")
    create.add_argument("--attempts", type=int, default=3, help="calls per contact at most")
    create.add_argument("--retry", action="append", default=[], metavar="OUTCOME=DELAY",
                        help="wait before calling again after OUTCOME, one of "
                             f"{', '.join(RETRY_OUTCOMES)}; DELAY in seconds or with s/m/h "
                             "(90s, 5m, 2h); repeatable; defaults: "
                             + ", ".join(f"{k}={_show(v)}" for k, v in
                                         DEFAULT_RETRY_SECONDS.items()))
    create.add_argument("--holiday", action="append", default=[], metavar="YYYY-MM-DD",
                        help="a local date when nobody is called (repeatable)")
    create.add_argument("--daily-cap", type=int, default=3,
                        help="calls per number per 24 h, across campaigns")
    create.add_argument("--priority", type=int, default=0, help="higher is dialled first")
    create.add_argument("--channels", type=int, default=10, help="calls at once at most")
    create.add_argument("--cps", type=float, default=5.0, help="calls per second")
    create.add_argument("--time-zone", default="UTC", help="for rows without a time zone")
    create.set_defaults(func=cmd_create)
    imp = sub.add_parser("import", help="add contacts from a CSV file (header with 'phone')")
    imp.add_argument("file", type=Path)
    imp.add_argument("--campaign", required=True)
    imp.set_defaults(func=cmd_import)
    for action in STATES:
        p = sub.add_parser(action, help=f"{action} a campaign")
        p.add_argument("name")
        p.set_defaults(func=cmd_state, action=action)
    status = sub.add_parser("status", help="state and live progress")
    status.add_argument("name")
    status.set_defaults(func=cmd_status)
    rep = sub.add_parser("report", help="totals and per hour")
    rep.add_argument("name")
    rep.add_argument("--csv", action="store_true", help="CSV instead of JSON")
    rep.set_defaults(func=cmd_report)


def _db() -> Database:
    url = load_settings().database_url
    require_current(url)
    return Database(url)


def _window(text: str) -> tuple[int, int]:
    if not WINDOW.fullmatch(text):
        raise IvrError(f"bad window {text!r}: expected HH:MM-HH:MM")
    start, end = (int(p[:2]) * 60 + int(p[3:5]) for p in text.split("-"))
    return start, end


def _show(seconds: int) -> str:
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _retries(items: list[str]) -> dict[str, int]:
    """`busy=5m` ... over the defaults (the API's retry_seconds)."""
    out = dict(DEFAULT_RETRY_SECONDS)
    for item in items:
        outcome, sep, delay = item.partition("=")
        if not sep:
            raise IvrError(f"bad --retry {item!r}: expected OUTCOME=DELAY, e.g. busy=5m")
        if outcome not in RETRY_OUTCOMES:
            raise IvrError(f"unknown retry outcome {outcome!r}: one of {', '.join(RETRY_OUTCOMES)}")
        m = DELAY.fullmatch(delay)
        if m is None:
            raise IvrError(f"bad delay {delay!r} in --retry {item!r}: seconds, or 90s, 5m, 2h")
        out[outcome] = int(m[1]) * UNITS[m[2] or "s"]
    return out


def _holidays(items: list[str]) -> tuple[str, ...]:
    for item in items:
        try:
            date.fromisoformat(item)
        except ValueError:
            raise IvrError(f"bad holiday {item!r}: expected YYYY-MM-DD") from None
    return tuple(items)


def cmd_create(args: argparse.Namespace) -> int:
    start, end = _window(args.window)
    try:
        spec = CampaignSpec(name=args.name, kind=args.kind, message=args.message,
                            prompts=tuple(args.prompts), window_start=start, window_end=end,
                            holidays=_holidays(args.holiday), max_attempts=args.attempts,
                            retry_seconds=_retries(args.retry), daily_cap=args.daily_cap,
                            priority=args.priority, max_channels=args.channels,
                            calls_per_second=args.cps, default_time_zone=args.time_zone)
    except ValueError as exc:
        raise IvrError(str(exc)) from None
    campaign = CampaignRepository(_db()).create(spec)
    print(f"campaign {campaign.name} created (draft); import contacts, then start it")
    return 0


def _bar(done: int, total: int) -> None:
    width = 30
    filled = width * done // max(total, 1)
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} rows")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def cmd_import(args: argparse.Namespace) -> int:
    region = load_settings().default_region
    try:
        text = decode_csv(args.file.read_bytes())  # the same reading as the API's import
        report = import_csv(_db(), args.campaign, text, region=region, progress=_bar)
    except CampaignError as exc:
        raise IvrError(str(exc)) from None
    for r in report.rejected:
        print(f"{args.file}:{r.line}: rejected {r.phone or '(empty)'}: {r.reason}")
    print(f"imported {report.imported} of {report.rows} rows into {report.campaign}, "
          f"{len(report.rejected)} rejected")
    return 0


def cmd_state(args: argparse.Namespace) -> int:
    campaign = CampaignRepository(_db()).set_state(args.name, STATES[args.action],
                                                   reason="paused from the command line")
    print(f"campaign {campaign.name} is {campaign.state}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    repo = CampaignRepository(_db())
    campaign = repo.get(args.name)
    progress = repo.progress(campaign.id)
    line = f"{campaign.name}: {campaign.state}"
    if campaign.pause_reason:
        line += f" ({campaign.pause_reason})"
    print(line)
    print("  " + ", ".join(f"{k} {v}" for k, v in progress.items()))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    built = reports.build(_db(), args.name)
    print(reports.to_csv(built) if args.csv else json.dumps(built.to_json(), indent=2), end="")
    if not args.csv:
        print()
    return 0

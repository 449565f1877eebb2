"""`ivr campaign ...`: create, import a CSV (progress bar + rejection report), start, pause,
resume, cancel, status and report (table or CSV).

`add_campaign_commands(subparsers)` registers them on the `ivr` parser. Store errors (no such
campaign, impossible state change) and CampaignError reach the CLI's one-line error mapping.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ivr.campaigns import reports
from ivr.campaigns.csv_import import import_csv
from ivr.campaigns.errors import CampaignError
from ivr.config import load_settings
from ivr.errors import IvrError
from ivr.store.db import Database, require_current
from ivr.store.domain import CampaignSpec
from ivr.store.repositories.campaigns import CampaignRepository

STATES = {"start": "running", "resume": "running", "pause": "paused", "cancel": "cancelled"}


def add_campaign_commands(subparsers: Any) -> None:
    camp = subparsers.add_parser("campaign", help="outbound notification campaigns")
    sub = camp.add_subparsers(dest="campaign", metavar="ACTION", required=True)
    create = sub.add_parser("create", help="create a campaign (draft)")
    create.add_argument("name")
    create.add_argument("--kind", default="custom")
    create.add_argument("--message", default="", help="text with $name and CSV columns")
    create.add_argument("--prompt", action="append", default=[], dest="prompts",
                        help="prompt played when there is no text-to-speech (repeatable)")
    create.add_argument("--window", default="08:00-21:00", help="local calling window")
    create.add_argument("--attempts", type=int, default=3)
    create.add_argument("--channels", type=int, default=10)
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
    try:
        start, end = (int(p[:2]) * 60 + int(p[3:5]) for p in text.split("-"))
    except ValueError:
        raise IvrError(f"bad window {text!r}: expected HH:MM-HH:MM") from None
    return start, end


def cmd_create(args: argparse.Namespace) -> int:
    start, end = _window(args.window)
    try:
        spec = CampaignSpec(name=args.name, kind=args.kind, message=args.message,
                            prompts=tuple(args.prompts), window_start=start, window_end=end,
                            max_attempts=args.attempts, max_channels=args.channels,
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
    text = args.file.read_text(encoding="utf-8-sig")
    region = load_settings().default_region
    try:
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

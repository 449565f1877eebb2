"""`ivr check`: every part of a deployment, one line each; exit 1 when any part failed."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from ivr.check import local, remote
from ivr.check.result import Line
from ivr.config import Settings, load_settings

Check = Callable[[Settings], Line | list[Line]]
CHECKS: tuple[Check, ...] = (local.database, remote.ami, local.ports, local.speech,
                             local.prompts, remote.smtp, remote.sms)


def add_check_commands(sub: Any) -> None:
    sub.add_parser(
        "check", help="verify this deployment: database, AMI, ports, speech, prompts, SMTP/SMS",
        description="Checks each part from this host and prints one line per part (ok or FAIL "
                    "with what to do); exits 1 if any part failed.",
    ).set_defaults(func=cmd_check)


def run_checks(settings: Settings) -> list[Line]:
    lines: list[Line] = []
    for check in CHECKS:
        found = check(settings)
        lines += found if isinstance(found, list) else [found]
    return lines


def cmd_check(args: argparse.Namespace) -> int:
    lines = run_checks(load_settings())
    for line in lines:
        print(line, flush=True)
    failed = sum(not line.ok for line in lines)
    print(f"{failed} of {len(lines)} checks failed" if failed else
          f"all {len(lines)} checks passed")
    return 1 if failed else 0

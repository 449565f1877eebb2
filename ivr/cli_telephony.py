"""`ivr call` and `ivr agi`: the telephony commands (filled in by the telephony core)."""

from __future__ import annotations

import argparse
from typing import Any

from ivr.errors import NotYetAvailable


def _not_yet(args: argparse.Namespace) -> int:
    raise NotYetAvailable(f"'ivr {args.command}' is not yet available")


def add_telephony_commands(sub: Any) -> None:
    sub.add_parser("call", help="place a test call through FastAGI").set_defaults(func=_not_yet)
    sub.add_parser("agi", help="run as a classic AGI/EAGI script").set_defaults(func=_not_yet)

"""What every emulated AGI command shares: the handler type, the table entry, 520 signalling."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ivr.telephony.emulator.agi_call import EmulatedCall

Handler = Callable[[EmulatedCall, list[str]], Awaitable[bytes]]


class ShowUsage(Exception):
    """The arguments are wrong: Asterisk answers 520 with the command's usage text."""


@dataclass(frozen=True)
class Command:
    handler: Handler
    dead_ok: bool = False  # still runs after hangup (otherwise 511)


def check_argc(argv: list[str], low: int, high: int) -> None:
    """argv counts the command words too, as Asterisk's argc does."""
    if not low <= len(argv) <= high:
        raise ShowUsage

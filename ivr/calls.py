"""What answers an inbound call, shared by `ivr serve`, `ivr agi` and `ivr call --in-process`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from ivr.call.session import AgiLink
from ivr.flows import builtin
from ivr.flows.runner import CallRunner
from ivr.store.db import Database

CallHandler = Callable[[AgiLink], Awaitable[None]]


def make_call_handler(db: Database) -> CallHandler:
    return CallRunner(db, builtin.welcome, builtin.NAME).handle

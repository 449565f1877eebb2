"""Scripted outcomes for the AMI emulator's Originate, and what an answered call looks like."""

from __future__ import annotations

import asyncio
import fnmatch
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum


class Outcome(StrEnum):
    ANSWER = "answer"
    BUSY = "busy"
    CONGESTION = "congestion"
    NO_ANSWER = "no-answer"  # rings (Ringing()) until the Originate Timeout
    NO_RING = "no-ring"  # no ringing indication, then the Originate Timeout
    REJECTED = "rejected"  # hangs up before answer with cause 21
    UNAVAILABLE = "unavailable"  # hangs up before answer with cause 20
    NO_SUCH_EXTENSION = "no-such-extension"
    MACHINE = "machine"  # answers; AMD on the answered leg says MACHINE


@dataclass(frozen=True)
class CallScript:
    outcome: Outcome
    ring_ms: int = 0  # time before the callee's first application runs
    answer_ms: int = 0  # extra ringing before Answer (answer/machine)
    talk_ms: int | None = None  # callee hangs up this long after answering; None: never
    amd_cause: str = "LONGGREETING-1500-1500"


@dataclass
class AnsweredCall:
    """What the answered hook gets: the IVR-side (``;1``) leg of an answered originate."""

    channel: str
    uniqueid: str
    linkedid: str
    dial_string: str
    number: str
    context: str
    exten: str
    caller_id_num: str
    caller_id_name: str
    account: str
    variables: dict[str, str]
    agi_url: str = ""
    agi_args: list[str] = field(default_factory=list)  # AGI(url,arg1,...) -> agi_arg_1...
    callee_hangup: asyncio.Event = field(default_factory=asyncio.Event)
    # Filled in by the hook as the AGI session ends: AGISTATUS (SUCCESS once a session ran,
    # even if the server dropped it; FAILURE if it never connected; HANGUP if the channel is
    # gone), and `variables` gains what the script set.
    agi_status: str = "SUCCESS"


AnsweredHook = Callable[[AnsweredCall], Awaitable[None]]

# The lab dialplan the traces were recorded with: context caller-sim, one extension per outcome.
LAB_EXTENSIONS: dict[str, CallScript] = {
    "busy": CallScript(Outcome.BUSY),
    "congestion": CallScript(Outcome.CONGESTION),
    "noanswer": CallScript(Outcome.NO_ANSWER),
    "noring": CallScript(Outcome.NO_RING),
    "reject": CallScript(Outcome.REJECTED),
    "unavailable": CallScript(Outcome.UNAVAILABLE),
    "nosuchexten": CallScript(Outcome.NO_SUCH_EXTENSION),
}


def dial_number(dial_string: str) -> str:
    """``Local/5551234@ctx`` and ``PJSIP/5551234@trunk`` -> ``5551234``."""
    resource = dial_string.partition("/")[2]
    return resource.rpartition("/")[2].partition("@")[0]


@dataclass
class Scripts:
    default: CallScript = field(default_factory=lambda: CallScript(Outcome.ANSWER))
    rules: list[tuple[str, CallScript]] = field(default_factory=list)
    lab_names: bool = True  # Local/<busy|congestion...>@... act out the lab's callees

    def add(self, pattern: str, script: CallScript) -> None:
        self.rules.insert(0, (pattern, script))  # the newest rule wins

    def lookup(self, dial_string: str) -> CallScript:
        number = dial_number(dial_string)
        for pattern, script in self.rules:
            if fnmatch.fnmatchcase(number, pattern) or fnmatch.fnmatchcase(dial_string, pattern):
                return script
        if self.lab_names and dial_string.startswith("Local/") and number in LAB_EXTENSIONS:
            return LAB_EXTENSIONS[number]
        return self.default

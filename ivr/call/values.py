"""The values at the Call's edges: what it needs from a transport (AgiLink) and what it gives
back to flows (Gathered, Recording, the Turns of its transcript)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from ivr.telephony.agi import AgiEnvironment, AgiResult

ALL_KEYS = "0123456789*#"
# VERBOSE labels `ivr call` turns into transcript lines
SAID, HEARD, PLAYS = "ivr says", "ivr heard", "ivr plays"
GatherMode = Literal["dtmf", "speech", "both"]


class AgiLink(Protocol):
    """What the session needs from a transport (FastAGI, AGI script, emulator)."""

    env: AgiEnvironment

    @property
    def hung_up(self) -> bool: ...

    async def command(self, command: str, *args: str, allow_dead: bool = False) -> AgiResult: ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class Gathered:
    """What a caller entered. `reason`: max_digits, finish_key, timeout or empty; `speech`
    when a recognized utterance ended the turn (`text` is what was said; for a grammar of
    phrases, the phrase)."""

    digits: str
    reason: Literal["max_digits", "finish_key", "timeout", "empty", "speech"]
    mode: GatherMode = "dtmf"
    text: str = ""
    confidence: float | None = None
    digit_confidence: tuple[float, ...] = ()  # spoken digits: one probability each
    digit_beliefs: tuple[tuple[float, ...], ...] = ()  # and the belief in each of 0-9


@dataclass(frozen=True)
class Recording:
    path: str
    duration_ms: int
    ended_by: Literal["silence", "timeout", "key", "hangup"]


@dataclass
class Turn:
    """One step of the conversation, kept for the interaction's transcript."""

    t: float
    kind: str
    detail: dict[str, Any] = field(default_factory=dict)

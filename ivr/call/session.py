"""The Call: the one object flows use to talk to a caller, whatever transport carried the call.

Flows never see AGI strings. Every method may raise CallHangup (the caller hung up); the
flow lets it unwind and its `finally` blocks write the interaction.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from ivr.call.errors import FeatureUnavailable, PromptMissing
from ivr.telephony.agi import AgiEnvironment, AgiResult

ALL_KEYS = "0123456789*#"
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
    """What a caller entered. `reason`: max_digits, finish_key, timeout or empty."""

    digits: str
    reason: Literal["max_digits", "finish_key", "timeout", "empty"]
    mode: GatherMode = "dtmf"


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


class Call:
    def __init__(self, link: AgiLink) -> None:
        self._link = link
        self._started = time.monotonic()
        self.turns: list[Turn] = []
        self.transfer_to: str | None = None

    @property
    def caller(self) -> str | None:
        return self._link.env.caller_number

    @property
    def dnis(self) -> str | None:
        env = self._link.env
        return env.dialed_number or (env.args[0] if env.args else None) or env.extension

    @property
    def channel(self) -> str:
        return self._link.env.channel

    @property
    def hung_up(self) -> bool:
        return self._link.hung_up

    def _note(self, kind: str, **detail: Any) -> None:
        self.turns.append(Turn(round(time.monotonic() - self._started, 3), kind, detail))

    async def answer(self) -> None:
        await self._link.command("ANSWER")
        self._note("answer")

    async def play(self, prompt: str, *, interrupt: str = "") -> str | None:
        """Play a prompt file; returns the key that interrupted it (only keys in `interrupt`)."""
        result = await self._link.command("STREAM FILE", prompt, interrupt)
        if result.value == -1:
            raise PromptMissing(f"prompt {prompt!r} is missing on the Asterisk host")
        self._note("play", prompt=prompt, interrupted_by=result.digit)
        return result.digit

    async def say(self, text: str) -> None:
        raise FeatureUnavailable(f"cannot speak text yet (no text-to-speech): {text!r}")

    async def say_digits(self, digits: str, *, interrupt: str = "") -> str | None:
        result = await self._link.command("SAY DIGITS", digits, interrupt)
        self._note("say_digits", digits=digits)
        return result.digit

    async def wait_for_key(self, timeout: float) -> str | None:
        result = await self._link.command("WAIT FOR DIGIT", str(int(timeout * 1000)))
        return result.digit

    async def gather(
        self,
        *,
        prompt: str | None = None,
        mode: GatherMode = "dtmf",
        max_digits: int = 1,
        timeout: float = 5.0,
        inter_digit_timeout: float = 3.0,
        finish_on_key: str = "#",
        barge_in: bool = True,
    ) -> Gathered:
        """Collect keys: the first within `timeout` of the prompt's end, the next within
        `inter_digit_timeout`; ends at `max_digits` or `finish_on_key`."""
        if mode != "dtmf":
            raise FeatureUnavailable(f"gather mode {mode!r} needs the speech engine")
        first = await self.play(prompt, interrupt=ALL_KEYS if barge_in else "") if prompt else None
        digits, wait = "", timeout
        key = first or await self.wait_for_key(wait)
        while key is not None:
            if key == finish_on_key:
                return self._gathered(digits, "finish_key" if digits else "empty")
            digits += key
            if len(digits) >= max_digits:
                return self._gathered(digits, "max_digits")
            wait = inter_digit_timeout
            key = await self.wait_for_key(wait)
        return self._gathered(digits, "timeout")

    def _gathered(self, digits: str, reason: Any) -> Gathered:
        self._note("gather", digits=digits, reason=reason)
        return Gathered(digits, reason)

    async def record(
        self, path: str, *, fmt: str = "wav", escape: str = "#", max_seconds: float = 60.0,
        silence_seconds: float = 3.0, beep: bool = True,
    ) -> Recording:
        args = [path, fmt, escape, str(int(max_seconds * 1000))]
        args += ["BEEP"] if beep else []
        args += [f"s={int(silence_seconds)}"] if silence_seconds else []
        result = await self._link.command("RECORD FILE", *args)
        ended: Literal["silence", "timeout", "key", "hangup"] = "silence"
        if result.data == "dtmf":
            ended = "key"
        elif result.timed_out and result.value == 0:
            ended = "timeout"
        duration = (result.endpos or 0) // 8  # samples at 8 kHz -> ms
        self._note("record", path=path, ended_by=ended, duration_ms=duration)
        return Recording(path, duration, ended)

    async def get_var(self, name: str) -> str | None:
        result = await self._link.command("GET VARIABLE", name, allow_dead=True)
        return result.data if result.value == 1 else None

    async def set_var(self, name: str, value: str) -> None:
        await self._link.command("SET VARIABLE", name, value, allow_dead=True)

    async def transfer(self, destination: str, context_vars: dict[str, str] | None = None) -> None:
        """Hand the caller to an agent: the dialplan after AGI() routes on IVR_TRANSFER_TO and
        finds what we learned in the IVR_* variables, so nobody asks twice."""
        for name, value in (context_vars or {}).items():
            await self.set_var(f"IVR_{name.upper()}", value)
        await self.set_var("IVR_TRANSFER_TO", destination)
        self.transfer_to = destination
        self._note("transfer", destination=destination, context=dict(context_vars or {}))
        await self._link.close()

    async def hangup(self) -> None:
        if not self._link.hung_up:
            await self._link.command("HANGUP")
            self._note("hangup", by="ivr")
        await self._link.close()

    def duration_ms(self) -> int:
        return int((time.monotonic() - self._started) * 1000)

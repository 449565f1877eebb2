"""A scripted caller for the AGI emulator: press digits, send audio, wait, hang up.

Steps run in order from the moment the call starts; times are virtual milliseconds of the
call's clock. `Press` behaves like `SendDTMF` on the other half of a Local channel: the first
digit ends about 200 ms after the step starts, each further digit about 350 ms later.
`Audio` / `Speech` are where caller media plugs in: today they only mark frames as voiced or
silent (what RECORD FILE's silence detection sees) and call the call's `audio_hook`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from ivr.telephony.emulator.agi_call import EmulatedCall
from ivr.telephony.emulator.agi_events import CallerAudio


@dataclass(frozen=True)
class At:
    """Wait until `ms` after the start of the call."""

    ms: float


@dataclass(frozen=True)
class Pause:
    ms: float


@dataclass(frozen=True)
class Press:
    digits: str


@dataclass(frozen=True)
class PressWhenAsked:
    """Press `digits` once a command would take the first one, like a person who listens to
    the menu before answering (there is no type-ahead, so pressing early loses the key)."""

    digits: str


@dataclass(frozen=True)
class Hangup:
    pass


@dataclass(frozen=True)
class Audio:
    """The caller sends `ms` of audio frames: voiced (talking) or silence frames."""

    ms: float
    voiced: bool = True


@dataclass(frozen=True)
class Speech(Audio):
    """The caller says `text` (for a recognizer plugged into `audio_hook` later)."""

    text: str = ""


Step = At | Pause | Press | PressWhenAsked | Hangup | Audio


async def run_caller(call: EmulatedCall, steps: Sequence[Step]) -> None:
    """Play the steps against the call; stops early when the call is over."""
    for step in steps:
        if call.dead.is_set():
            return
        await _run_step(call, step)


async def _run_step(call: EmulatedCall, step: Step) -> None:
    clock, opts = call.clock, call.options
    if isinstance(step, At):
        await clock.sleep_until(step.ms)
    elif isinstance(step, Pause):
        await clock.sleep(step.ms)
    elif isinstance(step, PressWhenAsked):
        await call.until_accepting(step.digits[:1])
        await _run_step(call, Press(step.digits))
    elif isinstance(step, Press):
        start = clock.now()
        for i, digit in enumerate(step.digits):
            await clock.sleep_until(start + opts.dtmf_first_ms + i * opts.dtmf_gap_ms)
            if call.dead.is_set():
                return
            call.press(digit)
        await clock.sleep(opts.dtmf_tail_ms)
    elif isinstance(step, Hangup):
        call.hangup("caller")
    else:
        await _send_audio(call, step)


async def _send_audio(call: EmulatedCall, step: Audio) -> None:
    text = step.text if isinstance(step, Speech) else ""
    event = CallerAudio(call.clock.now(), step.ms, step.voiced, text)
    call.events.add(event)
    call.set_audio(step.voiced)
    try:
        if call.audio_hook is not None:
            await asyncio.gather(call.audio_hook(event), call.clock.sleep(step.ms))
        else:
            await call.clock.sleep(step.ms)
    finally:
        call.set_audio(None)

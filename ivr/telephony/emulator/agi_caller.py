"""A scripted caller for the AGI emulator: press digits, send audio, wait, hang up.

Steps run in order from the moment the call starts; times are virtual milliseconds of the
call's clock. `Press` behaves like `SendDTMF` on the other half of a Local channel: the first
digit ends about 200 ms after the step starts, each further digit about 350 ms later.
`Audio` / `Speech` are the caller talking. A real recording (`Audio(wav=...)`) or a sentence
(`Speech(text=...)`, voiced by espeak-ng) waits until the IVR listens: if that is over
AudioSocket (see agi_audiosocket), the audio really streams there `after_ms` into the
connection; otherwise (a command reading keys, RECORD FILE) the step only marks frames as voiced
or silent, which is what RECORD FILE's silence detection sees, and calls the `audio_hook`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from ivr.telephony.emulator import agi_audiosocket
from ivr.telephony.emulator.agi_call import EmulatedCall
from ivr.telephony.emulator.agi_events import CallerAudio
from ivr.telephony.emulator.audiosocket_media import load_wav


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
    """The caller sends `ms` of audio frames: voiced (talking) or silence frames; with `wav`,
    that recording (its own length) once the IVR listens, `after_ms` into the connection."""

    ms: float
    voiced: bool = True
    wav: str | None = None
    after_ms: float = 0.0


@dataclass(frozen=True)
class Speech(Audio):
    """The caller says `text` (for a recognizer plugged into `audio_hook` later)."""

    text: str = ""


@dataclass(frozen=True)
class SpeakWhenAsked:
    """Say `audio` once the IVR listens (and its prompt has ended), like a person answering."""

    audio: Audio


Step = At | Pause | Press | PressWhenAsked | SpeakWhenAsked | Hangup | Audio


async def run_caller(call: EmulatedCall, steps: Sequence[Step]) -> None:
    """Play the steps against the call; stops early when the call is over."""
    agi_audiosocket.enable(call)
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
    elif isinstance(step, SpeakWhenAsked):
        await call.until_accepting("")  # any command that listens; "" is in every key set
        await _run_step(call, step.audio)
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
    if step.wav is not None or text:
        media = agi_audiosocket.caller_media(call)
        await _until_listening(call, media)
        if media.current is not None and await _speak(call, media, step, text):
            return
    await _mark_audio(call, step, text)


async def _until_listening(call: EmulatedCall, media: agi_audiosocket.CallerMedia) -> None:
    """Like a person who waits to be asked: AudioSocket open, or a command reading keys."""
    keys = asyncio.ensure_future(call.until_accepting(""))  # "" is in any accepted key set
    connected = asyncio.ensure_future(media.connected.wait())
    try:
        await asyncio.wait([keys, connected], return_when=asyncio.FIRST_COMPLETED)
    finally:
        keys.cancel()
        connected.cancel()


async def _speak(
    call: EmulatedCall, media: agi_audiosocket.CallerMedia, step: Audio, text: str
) -> bool:
    """Stream the recording or the synthesized sentence; False if there is no audio to send."""
    if step.wav is not None:
        pcm: bytes | None = await asyncio.to_thread(load_wav, step.wav)
    else:
        pcm = await agi_audiosocket.synthesize(text, call.profile.language)
    if pcm is None:
        return False
    await asyncio.sleep(step.after_ms / 1000)  # real time: AudioSocket is paced in real time
    call.events.add(CallerAudio(call.clock.now(), len(pcm) / 16, True, text))
    await media.speak(pcm)
    return True


async def _mark_audio(call: EmulatedCall, step: Audio, text: str) -> None:
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

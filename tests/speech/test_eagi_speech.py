"""A speech menu over EAGI: the caller's audio arrives on fd 3 (a pipe here, as from Asterisk),
prompts are spooled files played by STREAM FILE. The audio is the exact fd-3 capture of a
caller saying "billing" from the conformance traces."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

from ivr.call.eagi_media import EagiSession
from ivr.call.media import MediaPath
from ivr.call.session import Call, Gathered
from ivr.speech.audio import FRAME_BYTES, read_wav
from ivr.speech.recognizer import ModelPool
from ivr.speech.tts import Tts
from ivr.telephony.eagi_audio import EagiAudio
from ivr.telephony.emulator.agi_call import CallProfile, wav_prompt_lengths
from ivr.telephony.emulator.agi_caller import At, Press, Step
from ivr.telephony.emulator.agi_emulator import AgiEmulator
from ivr.telephony.emulator.agi_events import CommandReceived, PromptPlayed
from ivr.telephony.fastagi import AgiChannel, FastAgiServer
from tests.speech.conftest import PROMPTS

TRACES = Path(__file__).parent.parent / "conformance" / "traces"
BILLING = read_wav(TRACES / "eagi-received-slin8.wav")  # 0.67 s "billing", 2 s of silence
LENGTHS = wav_prompt_lengths(PROMPTS / "en")


def prompt_length(name: str) -> int | None:
    if name.startswith("/"):  # a spooled prompt: raw 8 kHz slin
        spooled = Path(name + ".sln")
        return spooled.stat().st_size // 2 if spooled.exists() else None
    return LENGTHS.get(name.removeprefix("ivr/"))


async def speak(fd: int, pcm: bytes, after_s: float) -> None:
    """Write frames to fd 3 in real time, as Asterisk does (one write per 20 ms)."""
    await asyncio.sleep(after_s)
    loop = asyncio.get_running_loop()
    start = loop.time()
    for n, i in enumerate(range(0, len(pcm), FRAME_BYTES)):
        os.write(fd, pcm[i:i + FRAME_BYTES])
        await asyncio.sleep(max(0.0, start + (n + 1) * 0.02 - loop.time()))


async def eagi_call(
    pool: ModelPool, tmp: Path, steps: list[Step], caller_audio: bytes | None,
    script: Callable[[Call], Awaitable[Gathered]],
) -> tuple[AgiEmulator, list[Gathered]]:  # fmt: skip
    read_fd, write_fd = os.pipe()
    gathered: list[Gathered] = []

    async def handler(channel: AgiChannel) -> None:
        session = EagiSession(channel, EagiAudio(read_fd), tmp / "spool")
        call = Call(channel, media=MediaPath(None, "", pool, Tts(tmp / "tts"), PROMPTS,
                                             eagi=session))
        await call.answer()
        gathered.append(await script(call))
        await call.hangup()

    talker = None
    try:
        async with FastAgiServer(handler, "127.0.0.1", 0) as server:
            emu = AgiEmulator(f"agi://127.0.0.1:{server.port}/ivr", caller=steps,
                              profile=CallProfile(), prompts=prompt_length)
            if caller_audio is not None:
                talker = asyncio.create_task(speak(write_fd, caller_audio, 0.5))
            await asyncio.wait_for(emu.run(), 30)
    finally:
        if talker is not None:
            talker.cancel()
        os.close(write_fd)
        os.close(read_fd)
    return emu, gathered


def menu(phrases: list[str]) -> Callable[[Call], Awaitable[Gathered]]:
    async def script(call: Call) -> Gathered:
        got = await call.gather(prompt="ivr/welcome-menu", mode="both", phrases=phrases,
                                timeout=3.0)
        if got.text == "billing":
            await call.play("ivr/thank-you")
        return got
    return script


async def test_caller_saying_billing_on_fd3_reaches_the_billing_branch(
    english_pool: ModelPool, tmp_path: Path,
) -> None:
    emu, gathered = await eagi_call(english_pool, tmp_path, [], BILLING,
                                    menu(["billing", "technical support"]))
    assert [(g.mode, g.text) for g in gathered] == [("speech", "billing")]
    played = [e.name for e in emu.events.of(PromptPlayed)]
    assert played[-1] == "ivr/thank-you"
    assert played[0].startswith(str(tmp_path / "spool"))  # the menu prompt, spooled for Asterisk


async def test_a_key_during_the_prompt_stops_it_and_is_taken(
    english_pool: ModelPool, tmp_path: Path,
) -> None:
    emu, gathered = await eagi_call(english_pool, tmp_path, [At(1000), Press("2")], None,
                                    menu(["billing", "technical support"]))
    assert [(g.mode, g.digits) for g in gathered] == [("dtmf", "2")]
    commands = [e.line.split(b" ")[0:2] for e in emu.events.of(CommandReceived)]
    assert [b"STREAM", b"FILE"] in commands


async def test_a_key_after_the_prompt_is_caught_by_the_polls(
    english_pool: ModelPool, tmp_path: Path,
) -> None:
    emu, gathered = await eagi_call(english_pool, tmp_path, [At(6000), Press("1")], None,
                                    menu(["billing", "technical support"]))
    assert [(g.mode, g.digits) for g in gathered] == [("dtmf", "1")]
    waits = [e for e in emu.events.of(CommandReceived) if e.line.startswith(b"WAIT FOR DIGIT")]
    assert waits  # the keypad was polled after the prompt ended

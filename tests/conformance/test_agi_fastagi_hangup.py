"""(c) Our FastAGI server against the emulator: a caller hangup during playback, during gather
(GET DATA / WAIT FOR DIGIT) and while idle raises CallHangup in the handler within 100 ms of the
`HANGUP` line -- not at the end of the 10 s prompt or timeout. Real time (clock scale 1)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from ivr.telephony.agi import HANGUP_LINE
from ivr.telephony.emulator.agi_call import CallOptions
from ivr.telephony.emulator.agi_caller import At, Hangup, Step
from ivr.telephony.emulator.agi_emulator import AgiEmulator
from ivr.telephony.emulator.agi_events import CommandReceived, ReplySent, SessionClosed
from ivr.telephony.errors import CallHangup
from ivr.telephony.fastagi import AgiChannel, FastAgiServer

HANGUP_AT_MS = 150
LONG_PROMPT = 80000  # 10 s


def prompts(name: str) -> int | None:
    return LONG_PROMPT if name == "long-prompt" else None


Body = Callable[[AgiChannel], Awaitable[object]]


async def run_call(
    body: Body, *, options: CallOptions | None = None, caller: list[Step] | None = None
) -> tuple[float, AgiEmulator]:
    """Run `body` in a FastAGI handler; return the emulator time at which it raised CallHangup."""
    raised: asyncio.Future[float] = asyncio.get_running_loop().create_future()
    emu_box: list[AgiEmulator] = []

    async def handler(channel: AgiChannel) -> None:
        await channel.command("ANSWER")
        try:
            await body(channel)
        except CallHangup:
            raised.set_result(emu_box[0].call.clock.now())
            raise

    async with FastAgiServer(handler, "127.0.0.1", 0) as server:
        emu = AgiEmulator(
            f"agi://127.0.0.1:{server.port}/hangup-test",
            caller=caller if caller is not None else [At(HANGUP_AT_MS), Hangup()],
            prompts=prompts,
            options=options,
        )
        emu_box.append(emu)
        await asyncio.wait_for(emu.run(), 5)
        t_raised = await asyncio.wait_for(raised, 1)
    return t_raised, emu


def first_hangup_line(emu: AgiEmulator) -> float:
    return next(e.t_ms for e in emu.events.of(ReplySent) if e.data == HANGUP_LINE)


async def stream_file(ch: AgiChannel) -> object:
    return await ch.command("STREAM FILE", "long-prompt", "12#")


async def get_data(ch: AgiChannel) -> object:
    return await ch.command("GET DATA", "long-prompt", "5000", "4")


async def wait_for_digit(ch: AgiChannel) -> object:
    return await ch.command("WAIT FOR DIGIT", "10000")


async def exec_playback(ch: AgiChannel) -> object:
    return await ch.command("EXEC", "Playback", "long-prompt")


@pytest.mark.parametrize("body", [stream_file, get_data, wait_for_digit, exec_playback])
async def test_hangup_during_a_blocking_command_raises_call_hangup_at_once(body: Body) -> None:
    t_raised, emu = await run_call(body)
    assert abs(t_raised - first_hangup_line(emu)) < 100
    assert isinstance(emu.events.events[-1], SessionClosed)


async def test_hangup_while_idle_ends_wait_hangup_and_the_next_command_raises() -> None:
    woke: list[float] = []

    async def idle(ch: AgiChannel) -> object:
        await ch.wait_hangup()
        woke.append(1.0)
        assert ch.hung_up
        return await ch.command("NOOP")

    t_raised, emu = await run_call(idle)
    hangup_line = first_hangup_line(emu)
    assert abs(t_raised - hangup_line) < 100
    assert hangup_line < 1000  # sent at once, not after some command
    sent = [e.line for e in emu.events.of(CommandReceived)]
    assert sent == [b"ANSWER"]  # the NOOP never went out: the channel knew it was dead
    assert woke


async def test_hangup_without_hangup_lines_is_still_detected_by_the_511_probe() -> None:
    t_raised, emu = await run_call(stream_file, options=CallOptions(agi_sighup=False))
    assert not any(e.data == HANGUP_LINE for e in emu.events.of(ReplySent))
    assert t_raised < HANGUP_AT_MS + 100
    assert [e.line for e in emu.events.of(CommandReceived)][-1] == b"CHANNEL STATUS"


async def test_missing_prompt_returns_minus_one_on_a_live_channel() -> None:
    results: list[object] = []

    async def missing(ch: AgiChannel) -> object:
        result = await ch.command("STREAM FILE", "no-such-prompt", "")
        results.append(result)
        return await ch.command("WAIT FOR DIGIT", "10000")

    await run_call(missing)
    assert [getattr(r, "value", None) for r in results] == [-1]

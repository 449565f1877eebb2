"""AMI emulator behaviour the trace replays (tests/conformance) do not cover."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from ivr.telephony.ami import AmiClient
from ivr.telephony.ami_codec import AmiParser, Banner, Message, encode_action
from ivr.telephony.ami_originate import OriginateStatus
from ivr.telephony.emulator.ami import AmiEmulator
from ivr.telephony.emulator.ami_script import AnsweredCall


@pytest.fixture
async def emulator() -> AsyncIterator[AmiEmulator]:
    async with AmiEmulator(login_fail_delay=0.01, time_scale=0.01) as emu:
        yield emu


async def _exchange(port: int, *actions: bytes) -> list[Banner | Message]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"".join(actions))
    parser, out = AmiParser(), []
    while data := await asyncio.wait_for(reader.read(65536), 5):
        out.extend(parser.feed(data))
    writer.close()
    return out


def test_failed_login_delay_defaults_to_asterisks_one_second() -> None:
    assert AmiEmulator().login_fail_delay == 1.0


async def test_failed_login_answers_error_then_closes(emulator: AmiEmulator) -> None:
    got = await _exchange(
        emulator.port,
        encode_action("Ping", action_id="p"),
        encode_action("Login", {"Username": "ivr", "Secret": "bad"}, action_id="l"),
        encode_action("Ping", action_id="never-answered"),
    )
    messages = [m for m in got if isinstance(m, Message)]
    assert [(m.action_id, m["Message"]) for m in messages] == [
        ("p", "Permission denied"), ("l", "Authentication failed")]


async def test_sync_originate_answers_after_the_answer_and_fails_with_originate_failed(
    emulator: AmiEmulator,
) -> None:
    emulator.script("busy*", "busy")
    emulator.script("talk*", "answer", talk_ms=10)
    login = encode_action("Login", {"Username": "ivr", "Secret": "ivrsecret", "Events": "off"})
    got = await _exchange(
        emulator.port, login,
        encode_action("Originate", {"Channel": "Local/busy1@x", "Context": "ivr", "Exten": "s"},
                      action_id="o1"),
        encode_action("Originate", {"Channel": "Local/talk1@x", "Context": "ivr", "Exten": "s"},
                      action_id="o2"),
        encode_action("Logoff"),
    )
    replies = {m.action_id: m for m in got if isinstance(m, Message) and m.action_id}
    assert (replies["o1"]["Response"], replies["o1"]["Message"]) == ("Error", "Originate failed")
    assert replies["o2"]["Message"] == "Originate successfully queued"
    assert not any(isinstance(m, Message) and m.kind == "event" for m in got)


async def test_machine_outcome_sets_amd_variables_on_the_answered_leg(
    emulator: AmiEmulator,
) -> None:
    calls: asyncio.Queue[AnsweredCall] = asyncio.Queue()
    release = asyncio.Event()

    async def hook(call: AnsweredCall) -> None:
        await calls.put(call)
        await release.wait()

    emulator.on_answer = hook
    emulator.script("5559*", "machine")
    async with AmiClient("127.0.0.1", emulator.port, "ivr", "ivrsecret") as cli:
        handle = await cli.originate("PJSIP/5559000@trunk", context="ivr", exten="s")
        outcome = await asyncio.wait_for(handle.outcome(), 5)
        call = await asyncio.wait_for(calls.get(), 5)
        assert outcome.status is OriginateStatus.ANSWERED
        assert call.channel.startswith("PJSIP/5559000-") and call.number == "5559000"
        assert call.variables["AMDSTATUS"] == "MACHINE"
        assert await cli.getvar("AMDSTATUS", call.channel) == "MACHINE"
        release.set()
        assert await asyncio.wait_for(handle.ended(), 5) == 16


async def test_callee_hangup_during_the_hook_is_signalled_and_waits_for_the_hook(
    emulator: AmiEmulator,
) -> None:
    saw_hangup = asyncio.Event()

    async def hook(call: AnsweredCall) -> None:
        await call.callee_hangup.wait()
        saw_hangup.set()

    emulator.on_answer = hook
    emulator.script("5558000", "answer", ring_ms=20, answer_ms=20, talk_ms=50)
    async with AmiClient("127.0.0.1", emulator.port, "ivr", "ivrsecret") as cli:
        handle = await cli.originate("Local/5558000@out", context="ivr", exten="s")
        assert (await asyncio.wait_for(handle.outcome(), 5)).answered
        assert await asyncio.wait_for(handle.ended(), 5) == 16
        assert saw_hangup.is_set()
        assert handle.causes[handle.other_channel_id] == 16


async def test_newest_script_rule_wins_and_default_is_answer(emulator: AmiEmulator) -> None:
    emulator.script("555*", "busy")
    emulator.script("5551*", "congestion")
    assert emulator.scripts.lookup("Local/5551234@x").outcome == "congestion"
    assert emulator.scripts.lookup("Local/5552234@x").outcome == "busy"
    assert emulator.scripts.lookup("Local/777@x").outcome == "answer"

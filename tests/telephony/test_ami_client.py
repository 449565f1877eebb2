"""AmiClient against the AMI emulator over real sockets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from ivr.telephony.ami import AmiClient
from ivr.telephony.ami_codec import Message
from ivr.telephony.ami_originate import OriginateStatus
from ivr.telephony.emulator.ami import AmiEmulator
from ivr.telephony.emulator.ami_script import AnsweredCall
from ivr.telephony.errors import AmiActionError, AmiEncodeError, AmiLoginError

CID = '"Alice Example" <5551234>'


@pytest.fixture
async def emulator() -> AsyncIterator[AmiEmulator]:
    async with AmiEmulator(login_fail_delay=0.01, time_scale=0.01) as emu:
        yield emu


@pytest.fixture
async def client(emulator: AmiEmulator) -> AsyncIterator[AmiClient]:
    async with AmiClient("127.0.0.1", emulator.port, "ivr", "ivrsecret",
                         backoff_initial=0.01) as cli:
        yield cli


async def test_login_failure_raises_one_line_login_error(emulator: AmiEmulator) -> None:
    cli = AmiClient("127.0.0.1", emulator.port, "ivr", "wrong")
    with pytest.raises(AmiLoginError) as err:
        await asyncio.wait_for(cli.connect(), 5)
    text = str(err.value)
    assert "\n" not in text and "Authentication failed" in text and "'ivr'" in text


async def test_login_then_ping_and_getvar(client: AmiClient) -> None:
    assert client.connected
    await client.ping()
    assert await client.getvar("FASTAGI") == "agi://127.0.0.1:4573"
    await client.setvar("IVR_TEST", "hello world")
    assert await client.getvar("IVR_TEST") == "hello world"


async def test_action_error_raises_with_asterisk_message(client: AmiClient) -> None:
    with pytest.raises(AmiActionError, match="No such channel"):
        await client.hangup("Local/nosuch-00000000;1")


async def test_events_reach_subscribers_and_filtered_iterators(client: AmiClient) -> None:
    seen: list[Message] = []
    client.subscribe(seen.append, "UserEvent")
    stream = client.events("userevent")
    await client.send_action("UserEvent", {"UserEvent": "IvrTest", "Foo": "bar"})
    event = await asyncio.wait_for(anext(stream), 5)
    stream.close()
    assert event["UserEvent"] == "IvrTest" and event["Foo"] == "bar"
    assert [m["UserEvent"] for m in seen] == ["IvrTest"]


@pytest.mark.parametrize(
    ("number", "outcome", "status", "reason", "cause"),
    [
        ("5550001", "busy", OriginateStatus.BUSY, 5, 17),
        ("5550002", "congestion", OriginateStatus.CONGESTION, 8, 34),
        ("5550003", "no-answer", OriginateStatus.NO_ANSWER, 3, 19),
        ("5550004", "no-ring", OriginateStatus.NO_ANSWER, 3, 19),
        ("5550005", "rejected", OriginateStatus.REJECTED, 0, 21),
        ("5550006", "unavailable", OriginateStatus.UNAVAILABLE, 0, 20),
        ("5550007", "no-such-extension", OriginateStatus.FAILED, 0, 0),
    ],
)
async def test_originate_failure_outcomes(
    emulator: AmiEmulator, client: AmiClient, number: str, outcome: str,
    status: OriginateStatus, reason: int, cause: int,
) -> None:
    emulator.script(number, outcome)
    handle = await client.originate(f"Local/{number}@outbound", context="ivr", exten="s",
                                    caller_id=CID, timeout_ms=2000)
    result = await asyncio.wait_for(handle.outcome(), 5)
    assert (result.status, result.reason, result.hangup_cause) == (status, reason, cause)
    assert set(result.hangup_causes) == {handle.channel_id, handle.other_channel_id}


async def test_originate_answered_runs_hook_and_ends_with_normal_clearing(
    emulator: AmiEmulator, client: AmiClient
) -> None:
    answered: asyncio.Queue[AnsweredCall] = asyncio.Queue()

    async def hook(call: AnsweredCall) -> None:
        await answered.put(call)

    emulator.on_answer = hook
    handle = await client.originate("Local/5551000@outbound", context="ivr", exten="5551000",
                                    caller_id=CID, variables={"CAMPAIGN": "7"}, account="acct")
    result = await asyncio.wait_for(handle.outcome(), 5)
    assert result.status is OriginateStatus.ANSWERED and result.reason == 4
    call = await asyncio.wait_for(answered.get(), 5)
    assert call.uniqueid == handle.channel_id and call.channel == result.channel
    assert call.variables["CAMPAIGN"] == "7" and call.account == "acct"
    assert call.caller_id_num == "5551234" and call.number == "5551000"
    assert await asyncio.wait_for(handle.ended(), 5) == 16


async def test_unknown_dialplan_target_is_refused_synchronously(client: AmiClient) -> None:
    handle = await client.originate("Local/1@outbound", context="nosuchcontext", exten="s")
    result = await asyncio.wait_for(handle.outcome(), 5)
    assert result.status is OriginateStatus.REFUSED
    assert result.message == "Extension does not exist."


async def test_unknown_channel_technology_fails_without_channels(client: AmiClient) -> None:
    handle = await client.originate("Bogus/123", context="ivr", exten="s")
    result = await asyncio.wait_for(handle.outcome(), 5)
    assert (result.status, result.reason, result.hangup_cause) == (OriginateStatus.FAILED, 0, None)


async def test_originate_refuses_header_injection(client: AmiClient) -> None:
    with pytest.raises(AmiEncodeError):
        await client.originate("Local/1@x", context="ivr", exten="s",
                               variables={"A": "1\r\nAction: Hangup"})


async def test_core_show_channels_lists_live_call_by_our_channel_id(
    emulator: AmiEmulator, client: AmiClient
) -> None:
    emulator.script("5552000", "answer")  # callee never hangs up; no hook: IVR side waits
    handle = await client.originate("Local/5552000@outbound", context="ivr", exten="s")
    result = await asyncio.wait_for(handle.outcome(), 5)
    channels = await client.core_show_channels()
    assert {c["Uniqueid"] for c in channels} == {handle.channel_id, handle.other_channel_id}
    assert result.channel is not None
    await client.hangup(result.channel, 16)
    assert await asyncio.wait_for(handle.ended(), 5) == 16
    assert await client.core_show_channels() == []


async def test_link_lost_mid_originate_gives_link_lost_and_is_never_resent(
    emulator: AmiEmulator, client: AmiClient
) -> None:
    emulator.script("5553000", "no-answer")
    ringing = client.events("DialState")
    handle = await client.originate("Local/5553000@outbound", context="ivr", exten="s",
                                    timeout_ms=60_000)
    await asyncio.wait_for(anext(ringing), 5)
    emulator.drop_connections()
    result = await asyncio.wait_for(handle.outcome(), 5)
    assert result.status is OriginateStatus.LINK_LOST
    assert result.message == "unknown: AMI link lost"
    await asyncio.wait_for(client.wait_connected(), 5)
    assert client.connections == 2
    await client.ping()  # the new link works
    assert len(emulator.actions("Originate")) == 1
    assert len(emulator.actions("Login")) == 2


async def test_reconnects_after_the_emulator_restarts(emulator: AmiEmulator) -> None:
    async with AmiClient("127.0.0.1", emulator.port, "ivr", "ivrsecret",
                         backoff_initial=0.01, backoff_max=0.05) as cli:
        await emulator.stop()
        await asyncio.wait_for(cli.wait_disconnected(), 5)
        await emulator.start()
        await asyncio.wait_for(cli.wait_connected(), 5)
        assert cli.connections == 2
        await cli.ping()


async def test_keepalive_pings_the_server(emulator: AmiEmulator) -> None:
    async with AmiClient("127.0.0.1", emulator.port, "ivr", "ivrsecret", ping_interval=0.01):
        await asyncio.wait_for(emulator.wait_for_action("Ping", 2), 5)

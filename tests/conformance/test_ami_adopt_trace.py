"""ami-adopt-calls-of-dead-dialer.txt: a second session of the same user (the restarted
dialer) sees the calls a dead session placed: CoreShowChannels lists them by the ChannelIds
that session chose, and their OriginateResponse, ActionID of the dead session and Uniqueid =
ChannelId, reaches the new session too. (Two sessions: not replayable by test_ami_traces.)"""

from __future__ import annotations

import asyncio

from ivr.telephony.ami_codec import AmiParser, Banner, Message, parse_all
from ivr.telephony.emulator.ami import AmiEmulator
from ivr.telephony.emulator.asterisk_config import AsteriskConfig
from tests.conformance import transcript

NAME = "ami-adopt-calls-of-dead-dialer.txt"
DEAD = "ami-dialer-dies-after-originate.txt"  # session A: the dialer that dies
RINGS = "ivr-1e974afb-2ff0-4f4b-b4ab-80e86dfe0004"  # the traces' ring-no-answer call


def _from_trace() -> list[Message]:
    return [m for m in parse_all(transcript.load(NAME).stream("AST->CLI"))
            if isinstance(m, Message)]


def _action(*headers: tuple[str, str]) -> bytes:
    return Message(headers).encode()


def _dead_dialers_actions() -> list[Message]:
    """Session A's Login and its Originate of the ring-no-answer callee, as it sent them."""
    sent = AmiParser(expect_banner=False).feed(transcript.load(DEAD).stream("CLI->AST"))
    actions = [m for m in sent if isinstance(m, Message)]
    return [m for m in actions if m.name == "Login" or m.get("ChannelId") == f"{RINGS}-a"]


async def test_a_new_session_gets_the_dead_sessions_originate_response_as_asterisk_sends_it(
) -> None:
    config = AsteriskConfig.load()  # the shipped user: read = call
    config.install("agi://127.0.0.1:4573")
    emu = AmiEmulator(config=config, login_fail_delay=0.01, time_scale=0.05)
    emu.script("15550100004", "no-answer")  # rings until the Originate's 20 s (1 s here)
    login = (("Action", "Login"), ("Username", "ivr-dialer"), ("Secret", "CHANGE-ME"))
    async with emu:
        # Session A: the dialer's Async Originate, then the socket closes without Logoff.
        ra, wa = await asyncio.open_connection("127.0.0.1", emu.port)
        for action in _dead_dialers_actions():
            wa.write(action.encode())
        await wa.drain()
        await emu.wait_for_action("Originate")
        wa.close()
        await wa.wait_closed()
        # Session B: the restarted dialer.
        rb, wb = await asyncio.open_connection("127.0.0.1", emu.port)
        wb.write(_action(*login, ("ActionID", "login-1")))
        wb.write(_action(("Action", "CoreShowChannels"), ("ActionID", "coreshowchannels-2")))
        listed: set[str] = set()
        got_response = await _collect(rb, AmiParser(), listed)
        wb.close()
        await wb.wait_closed()
        await _drain(ra)
    assert {f"{RINGS}-a", f"{RINGS}-b"} <= listed
    (want,) = [m for m in _from_trace() if m.name == "OriginateResponse"]
    assert got_response.headers == want.headers


async def _collect(reader: asyncio.StreamReader, parser: AmiParser, listed: set[str]) -> Message:
    while True:
        data = await asyncio.wait_for(reader.read(65536), 5)
        assert data, "the session closed before the OriginateResponse"
        for item in parser.feed(data):
            if isinstance(item, Banner) or item.kind != "event":
                continue
            if item.name == "CoreShowChannel":
                listed.add(item.get("Uniqueid") or "")
            if item.name == "OriginateResponse":
                return item


async def _drain(reader: asyncio.StreamReader) -> None:
    while await reader.read(65536):
        pass

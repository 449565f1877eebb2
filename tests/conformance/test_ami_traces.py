"""Every ami-*.txt trace: the codec reads it, and the emulator answers its actions the same way.

See ami_normalize.py for what is normalised and what is compared per stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import tempfile
from pathlib import Path

import pytest

from ivr.telephony.ami_codec import AmiParser, Banner, Message, parse_all
from ivr.telephony.emulator.ami import AmiEmulator
from ivr.telephony.emulator.ami_script import AnsweredCall, AnsweredHook
from ivr.telephony.emulator.asterisk_config import AsteriskConfig
from ivr.telephony.emulator.dialplan import Dialplan
from ivr.telephony.emulator.manager_users import ManagerUser
from tests.conformance import transcript
from tests.conformance.ami_normalize import group, relevant_count

NAMES = transcript.names("ami-")
# Traces whose calls must stay up for seconds of real time (hung up by actions).
REAL_TIME = {"ami-coreshowchannels-getvar-status-hangup.txt"}
# The caller half hangs up from its own FastAGI script, which the emulator does not run.
TRUNCATE_AT_AGI = {"ami-caller-hangup-during-agi.txt"}
# Recorded with the shipped snippets loaded and the shipped AMI user (its header says so).
SHIPPED_USER = "User: ivr-dialer"
# Refusals that a loaded dialplan must produce by itself (no scripted outcome): replayed
# against the lab's dialplan written as a .conf, which lacks nosuchexten and nosuchcontext.
DIALPLAN_DRIVEN = {"ami-originate-no-such-local-extension.txt",
                   "ami-originate-no-such-dialplan-target.txt"}
LAB_CONF = """\
[ivr-trace]
exten => park-here,1,Answer()
 same => n,Wait(30)
[caller-sim]
exten => silent,1,Answer()
 same => n,Wait(${CS_HOLD})
"""
# The callee ran the lab's own [outbound] context (Goto from [ivr-outbound]): compared by which
# events reached the user, not field by field.
EVENT_NAMES_ONLY = {"ami-originate-busy-least-privilege-user.txt"}
# Two sessions (a dialer that dies without Logoff, and its successor): test_ami_adopt_trace.py.
TWO_SESSIONS = {"ami-adopt-calls-of-dead-dialer.txt", "ami-dialer-dies-after-originate.txt"}


def test_there_are_ami_traces() -> None:
    assert len(NAMES) >= 19


@pytest.mark.parametrize("name", NAMES)
def test_codec_parses_every_server_stream_and_reencodes_it_exactly(name: str) -> None:
    tr = transcript.load(name)
    server = tr.stream("AST->CLI")
    items = parse_all(server)
    assert isinstance(items[0], Banner)
    assert items[0].text == "Asterisk Call Manager/11.0.0"
    messages = [m for m in items[1:] if isinstance(m, Message)]
    assert len(messages) == len(items) - 1
    assert all(m.kind in ("response", "event") for m in messages)
    assert b"Asterisk Call Manager/11.0.0\r\n" + b"".join(m.encode() for m in messages) == server


@pytest.mark.parametrize("name", NAMES)
def test_codec_parses_every_client_stream_byte_by_byte(name: str) -> None:
    client = transcript.load(name).stream("CLI->AST")
    parser = AmiParser(expect_banner=False)
    actions = [item for i in range(len(client)) for item in parser.feed(client[i : i + 1])]
    assert all(isinstance(a, Message) and a.kind == "action" for a in actions)
    assert b"".join(a.encode() for a in actions if isinstance(a, Message)) == client


class _Reader:
    """Collects everything the emulator sends on one connection."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self.items: list[Banner | Message] = []
        self.eof = asyncio.Event()
        self.changed = asyncio.Event()
        self._task = asyncio.create_task(self._run(reader))

    async def _run(self, reader: asyncio.StreamReader) -> None:
        parser = AmiParser()
        while data := await reader.read(65536):
            self.items.extend(parser.feed(data))
            self.changed.set()
        self.eof.set()
        self.changed.set()

    async def wait_count(self, n: int, **kw: bool) -> None:
        while relevant_count(self.items, **kw) < n and not self.eof.is_set():
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), 5)

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


def _split_by_action(name: str) -> list[tuple[Message, list[Banner | Message]]]:
    """Each client action with the server messages the trace had received before it was sent."""
    tr = transcript.load(name)
    out: list[tuple[Message, list[Banner | Message]]] = []
    server = AmiParser()
    client = AmiParser(expect_banner=False)
    seen: list[Banner | Message] = []
    for chunk in tr.wire():
        if chunk.direction == "AST->CLI":
            seen.extend(server.feed(chunk.data))
        else:
            for action in client.feed(chunk.data):
                assert isinstance(action, Message)
                out.append((action, list(seen)))
    return out


def _rewrite_channels(action: Message, trace_seqs: dict[str, str], ours: dict[str, str]) -> bytes:
    """The trace names its channels by its own sequence numbers; use the emulator's."""
    back = {label: raw for raw, label in ours.items()}

    def swap(m: re.Match[str]) -> str:
        label = trace_seqs.get(m[2])
        return m[1] + "-" + back[label] if label in back else m[0]

    headers = [(k, re.sub(r"(@[\w.-]+)-([0-9a-f]{8})", swap, v)) for k, v in action.headers]
    return Message(tuple(headers)).encode()


async def _replay(name: str) -> tuple[list[Banner | Message], list[Banner | Message]]:
    kw = {"agi_trace": "AGIExecStart" in transcript.load(name).stream("AST->CLI").decode(),
          "truncate_at_agi": name in TRUNCATE_AT_AGI}

    async def agi_ran(call: AnsweredCall) -> None:
        return None  # the trace's FastAGI script ran and returned

    scale = 1.0 if name in REAL_TIME else 0.01
    hook = agi_ran if name not in TRUNCATE_AT_AGI else None
    async with _emulator(name, scale, hook) as emu:
        reader, writer = await asyncio.open_connection("127.0.0.1", emu.port)
        got = _Reader(reader)
        steps = _split_by_action(name)
        trace_norm = _seq_labels(steps[-1][1])
        for action, before in steps:
            await got.wait_count(relevant_count(before, **kw), **kw)
            if got.eof.is_set():
                break
            writer.write(_rewrite_channels(action, trace_norm, _seq_labels(got.items)))
        expected = parse_all(transcript.load(name).stream("AST->CLI"))
        await got.wait_count(relevant_count(expected, **kw), **kw)
        await asyncio.wait_for(got.eof.wait(), 5)
        writer.close()
        await got.close()
    return expected, got.items


def _emulator(name: str, scale: float, hook: AnsweredHook | None) -> AmiEmulator:
    """The lab's Asterisk: the open emulator, or the shipped snippets as the lab loaded them
    (IVR_HOST=127.0.0.1, the secret left as shipped)."""
    header = transcript.load(name).header
    if name in DIALPLAN_DRIVEN:
        with tempfile.TemporaryDirectory() as tmp:
            conf = Path(tmp) / "extensions_lab.conf"
            conf.write_text(LAB_CONF)
            lab = AsteriskConfig(Dialplan.load([conf]), {"ivr": ManagerUser("ivr", "ivrsecret")})
        return AmiEmulator(config=lab, login_fail_delay=0.01, time_scale=scale, on_answer=hook)
    if not any(SHIPPED_USER in line for line in header):
        return AmiEmulator(login_fail_delay=0.01, time_scale=scale, on_answer=hook)
    config = AsteriskConfig.load()
    config.install("agi://127.0.0.1:4573")
    emu = AmiEmulator(config=config, login_fail_delay=0.01, time_scale=scale, on_answer=hook)
    emu.script("15550100002", "busy")  # the lab's simulated callees, by number
    return emu


def _seq_labels(items: list[Banner | Message]) -> dict[str, str]:
    from tests.conformance.ami_normalize import Normalizer

    norm = Normalizer()
    for item in items:
        if isinstance(item, Message):
            norm.message(item)
    return norm.seqs


@pytest.mark.parametrize("name", [n for n in NAMES if n not in EVENT_NAMES_ONLY | TWO_SESSIONS])
async def test_emulator_replays_trace(name: str) -> None:
    expected, got = await _replay(name)
    kw = {"agi_trace": "AGIExecStart" in transcript.load(name).stream("AST->CLI").decode(),
          "truncate_at_agi": name in TRUNCATE_AT_AGI}
    want_responses, want_streams = group(expected, **kw)
    got_responses, got_streams = group(got, **kw)
    assert got_responses == want_responses
    assert sorted(got_streams) == sorted(want_streams)
    for key, events in want_streams.items():
        assert got_streams[key] == events, key


@pytest.mark.parametrize("name", sorted(EVENT_NAMES_ONLY))
async def test_emulator_sends_a_least_privilege_user_the_events_asterisk_sent(name: str) -> None:
    """Read classes filter events: the same event kinds reach the user, and the responses
    are the same."""
    expected, got = await _replay(name)

    def kinds(items: list[Banner | Message]) -> set[str]:
        return {m.name for m in items if isinstance(m, Message) and m.name
                and m.name != "DeviceStateChange"}

    def answers(items: list[Banner | Message]) -> list[str | None]:
        return [m.get("Message") for m in items if isinstance(m, Message) and m.get("Response")]

    assert kinds(got) == kinds(expected)
    assert answers(got) == answers(expected)

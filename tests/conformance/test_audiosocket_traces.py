"""Replays every recorded AudioSocket transcript: our codec, our server and our emulator against
what Asterisk 22.10.1 really did (tests/conformance/traces/audiosocket-*.txt)."""

from __future__ import annotations

import asyncio
import math
import struct
from collections import Counter
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from ivr.telephony import audiosocket as codec
from ivr.telephony.audiosocket import FORMATS, AudioFormat, Kind, Message
from ivr.telephony.audiosocket_server import AudioSocketServer, AudioSocketSession
from ivr.telephony.emulator.audiosocket import FROM_SERVER, TO_SERVER, AudioSocketCaller
from ivr.telephony.errors import AudioSocketError
from tests.conformance import as_transcript
from tests.conformance.as_transcript import AsTranscript, Run

SCALE = 0.1  # replay time x0.1: only waiting is saved; the 2000 ms idle limit stays real
TRACES = as_transcript.names()
SERVER_MODES = ("echo", "echo16", "prompt-then-hangup", "prompt-then-close", "silent")


def test_every_audiosocket_trace_is_covered() -> None:
    modes = {as_transcript.load(name).mode for name in TRACES}
    assert len(TRACES) == 8
    assert modes == {*SERVER_MODES, "bad-kind"}


# --- (a) the codec reproduces every message shown ---------------------------------------------

def _payload(message: as_transcript.AsMessage, tr: AsTranscript) -> bytes:
    if message.kind == Kind.UUID:
        return tr.uuid.bytes
    return message.head + bytes(message.length - len(message.head))


@pytest.mark.parametrize("name", TRACES)
def test_codec_round_trips_every_message_of_the_trace(name: str) -> None:
    tr = as_transcript.load(name)
    wire = b"".join(codec.encode_message(m.kind, _payload(m, tr)) for m in tr.messages)
    parser = codec.Parser()
    parsed = [msg for i in range(0, len(wire), 7) for msg in parser.feed(wire[i:i + 7])]
    parser.close()
    assert [(m.kind, len(m.payload)) for m in parsed] == [(m.kind, m.length) for m in tr.messages]
    for shown, got in zip(tr.messages, parsed, strict=True):
        assert got.payload.startswith(shown.head)
        if got.kind == Kind.UUID:
            assert got.uuid == tr.uuid
        if got.kind == Kind.DTMF:
            assert got.digit in "12"


@pytest.mark.parametrize("name", TRACES)
def test_server_encoder_accepts_what_asterisk_accepted_and_refuses_the_rest(name: str) -> None:
    tr = as_transcript.load(name)
    for m in tr.direction("APP->AST"):
        message = Message(m.kind, _payload(m, tr))
        if m.kind == Kind.DTMF:  # the bad-kind trace: Asterisk reset the connection
            with pytest.raises(AudioSocketError):
                codec.encode_from_server(message)
        else:
            assert codec.encode_from_server(message) == codec.encode(message)


# --- (b) replay: emulator plays Asterisk as recorded, our server plays the recorded APP -------

def _format(tr: AsTranscript) -> AudioFormat:
    return FORMATS[tr.codec]


def _frames(run: Run, fmt: AudioFormat, seed: int) -> list[bytes]:
    """Payloads of the recorded lengths (full frames, then the short one) carrying a tone."""
    out: list[bytes] = []
    for length in sorted(run.lengths.elements(), reverse=True):
        samples = length if fmt.encoding == "ulaw" else length // 2
        pcm = struct.pack(f"<{samples}h", *(
            int(8000 * math.sin((seed + len(out) * 160 + i) / 7)) for i in range(samples)))
        out.append(codec.pcm_to_ulaw(pcm) if fmt.encoding == "ulaw" else pcm)
    return out


async def _at(t0: float, t_ms: float) -> None:
    delay = t0 + t_ms * SCALE / 1000 - asyncio.get_running_loop().time()
    if delay > 0:
        await asyncio.sleep(delay)  # replays the recorded schedule; nothing is awaited here


async def _play_asterisk_side(tr: AsTranscript, caller: AudioSocketCaller) -> None:
    """Send Asterisk's recorded messages (after the UUID) at their scaled offsets, then hang up
    like the caller did, once the echo of everything sent has come back."""
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    sent_audio = 0
    for run in tr.runs(TO_SERVER)[1:]:
        await _at(t0, run.start_ms)
        if run.kind == Kind.DTMF:
            for digit in "12"[: run.count]:
                caller.send_dtmf(digit)
        else:
            sent_audio += await caller.stream_frames(_frames(run, caller.format, sent_audio))
    if tr.mode.startswith("echo"):
        await caller.wait_heard(sent_audio)
        eof = tr.note_time("EOF from Asterisk")
        assert eof is not None
        await _at(t0, eof)
        await caller.hangup()


App = Callable[[AudioSocketSession], Coroutine[Any, Any, None]]


async def _echo(session: AudioSocketSession) -> None:
    async for frame in session.frames():
        await session.send_audio(frame)


async def _prompt_then_hangup(session: AudioSocketSession) -> None:
    assert await session.play(bytes(2 * 16000))
    await session.hangup()


async def _prompt_then_close(session: AudioSocketSession) -> None:
    assert await session.play(bytes(2 * 16000))
    await session.close()


async def _silent(session: AudioSocketSession) -> None:
    await session.closed.wait()


APPS: dict[str, App] = {
    "echo": _echo, "echo16": _echo, "prompt-then-hangup": _prompt_then_hangup,
    "prompt-then-close": _prompt_then_close, "silent": _silent,
}
END_REASONS = {  # what the recorder saw end the call -> (emulator's reason, our session's reason)
    "echo": ("caller-hangup", "caller"), "echo16": ("caller-hangup", "caller"),
    "prompt-then-hangup": ("server-hangup", "hangup"),
    "prompt-then-close": ("server-closed", "server"), "silent": ("idle-timeout", "caller"),
}


def _shape(runs: list[Run]) -> list[tuple[int, Counter[int]]]:
    return [(r.kind, r.lengths) for r in runs]


def _wire_runs(caller: AudioSocketCaller, direction: str) -> list[Run]:
    msgs = [e for e in caller.wire if e.direction == direction]
    tr = AsTranscript("replay", messages=[
        as_transcript.AsMessage(e.t * 1000, direction, e.message.kind, len(e.message.payload))
        for e in msgs])
    return tr.runs(direction)


def _assert_runs_match(got: list[Run], want: list[Run], *, slack: int) -> None:
    """Same kinds and lengths in order; a run's full-frame count may differ by ``slack``."""
    assert [r.kind for r in got] == [r.kind for r in want]
    for g, w in zip(got, want, strict=True):
        assert set(g.lengths) == set(w.lengths)
        for length, count in w.lengths.items():
            assert abs(g.lengths[length] - count) <= slack, (length, g.lengths, w.lengths)


@pytest.mark.parametrize("name", [n for n in TRACES if "bad-kind" not in n])
async def test_replay_matches_the_recorded_wire(name: str) -> None:
    tr = as_transcript.load(name)
    fmt = _format(tr)
    async with AudioSocketServer(keepalive=None, frame_interval=0.020 * SCALE) as server:
        server.expect(tr.uuid, fmt)
        caller = AudioSocketCaller("127.0.0.1", server.port, tr.uuid, fmt=fmt,
                                   frame_interval=0.020 * SCALE)
        await caller.connect()
        session = await server.wait_session(tr.uuid, timeout=5)
        assert session.format == fmt
        app = asyncio.create_task(APPS[tr.mode](session))
        await asyncio.wait_for(_play_asterisk_side(tr, caller), timeout=10)
        reason = await asyncio.wait_for(caller.wait_ended(), timeout=10)
        await asyncio.wait_for(session.wait_closed(), timeout=5)
        await asyncio.wait_for(app, timeout=5)

    assert (reason, session.close_reason) == END_REASONS[tr.mode]
    first = caller.wire[0].message
    assert (first.kind, first.payload) == (Kind.UUID, tr.uuid.bytes)
    assert _shape(_wire_runs(caller, TO_SERVER)) == _shape(tr.runs(TO_SERVER))
    echo = tr.mode.startswith("echo")
    _assert_runs_match(_wire_runs(caller, FROM_SERVER), tr.runs(FROM_SERVER),
                       slack=0 if echo else 1)


@pytest.mark.parametrize("name", [n for n in TRACES if n.endswith("echo.txt")])
async def test_echoed_slin_audio_comes_back_sample_for_sample(name: str) -> None:
    tr = as_transcript.load(name)
    async with AudioSocketServer(keepalive=None) as server:
        caller = AudioSocketCaller("127.0.0.1", server.port, tr.uuid, frame_interval=0.002)
        await caller.connect()
        session = await server.wait_session(tr.uuid, timeout=5)
        app = asyncio.create_task(_echo(session))
        frames = _frames(tr.runs(TO_SERVER)[1], caller.format, 0)
        await caller.stream_frames(frames)
        await asyncio.wait_for(caller.wait_heard(len(frames)), timeout=5)
        await caller.hangup()
        await asyncio.wait_for(app, timeout=5)
    assert [m.payload for m in caller.messages(FROM_SERVER)] == frames


async def test_silent_call_ends_after_the_real_2000_ms_idle_limit() -> None:
    tr = as_transcript.load("audiosocket-app-silent.txt")
    loop = asyncio.get_running_loop()
    async with AudioSocketServer(keepalive=None) as server:
        caller = AudioSocketCaller("127.0.0.1", server.port, tr.uuid)
        started = loop.time()
        await caller.connect()
        session = await server.wait_session(tr.uuid, timeout=5)
        assert await asyncio.wait_for(caller.wait_ended(), timeout=5) == "idle-timeout"
        elapsed = loop.time() - started
        await asyncio.wait_for(session.wait_closed(), timeout=5)
    eof = tr.note_time("EOF from Asterisk")
    assert eof is not None and eof >= 2000
    assert elapsed >= 2.0
    assert session.close_reason == "caller"  # Asterisk closed, and sent no 0x00
    assert caller.messages(FROM_SERVER) == []


async def test_keepalive_outlives_the_2000_ms_idle_limit_of_the_silent_trace() -> None:
    tr = as_transcript.load("audiosocket-app-silent.txt")
    async with AudioSocketServer(keepalive=0.5) as server:
        caller = AudioSocketCaller("127.0.0.1", server.port, tr.uuid)
        await caller.connect()
        session = await server.wait_session(tr.uuid, timeout=5)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(asyncio.shield(caller.ended.wait()), timeout=2.6)
        await caller.hangup()
        await asyncio.wait_for(session.wait_closed(), timeout=5)
    keepalives = caller.messages(FROM_SERVER)
    assert len(keepalives) >= 3
    assert all(m == Message(Kind.SLIN8, bytes(320)) for m in keepalives)
    assert session.close_reason == "caller"


# --- the bad-kind trace ---------------------------------------------------------------------

async def test_bad_kind_our_server_refuses_to_send_dtmf() -> None:
    tr = as_transcript.load("audiosocket-app-bad-kind.txt")
    (bad,) = tr.direction("APP->AST")
    async with AudioSocketServer(keepalive=None) as server:
        caller = AudioSocketCaller("127.0.0.1", server.port, tr.uuid)
        await caller.connect()
        session = await server.wait_session(tr.uuid, timeout=5)
        with pytest.raises(AudioSocketError):
            await session.send(Message(bad.kind, bad.head))
        await caller.hangup()
    assert caller.messages(FROM_SERVER) == []


async def test_bad_kind_emulator_resets_like_asterisk_on_a_raw_dtmf() -> None:
    tr = as_transcript.load("audiosocket-app-bad-kind.txt")
    (bad,) = tr.direction("APP->AST")
    loop = asyncio.get_running_loop()
    got_uuid: asyncio.Future[bytes] = loop.create_future()
    peer_saw: asyncio.Future[str] = loop.create_future()

    async def raw_app(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        got_uuid.set_result(await reader.readexactly(19))
        writer.write(codec.encode_message(bad.kind, bad.head))  # what our server never sends
        try:
            peer_saw.set_result("eof" if not await reader.read(100) else "data")
        except ConnectionResetError:
            peer_saw.set_result("reset")
        writer.close()

    server = await asyncio.start_server(raw_app, "127.0.0.1", 0)
    async with server:
        port = server.sockets[0].getsockname()[1]
        caller = AudioSocketCaller("127.0.0.1", port, tr.uuid)
        await caller.connect()
        assert await asyncio.wait_for(caller.wait_ended(), timeout=5) == "reset"
        assert codec.Parser().feed(await got_uuid)[0].uuid == tr.uuid
        assert await asyncio.wait_for(peer_saw, timeout=5) == "reset"
    assert [(m.kind, m.payload) for m in caller.messages(FROM_SERVER)] == [(bad.kind, bad.head)]

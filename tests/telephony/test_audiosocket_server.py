"""The AudioSocket media server over real sockets, with the emulator playing Asterisk."""

from __future__ import annotations

import asyncio
import struct
import uuid
from collections.abc import AsyncIterator

import pytest

from ivr.telephony import audiosocket as codec
from ivr.telephony.audiosocket import SLIN16, ULAW, Kind, Message
from ivr.telephony.audiosocket_server import AudioSocketServer, AudioSocketSession
from ivr.telephony.emulator.audiosocket import FROM_SERVER, AudioSocketCaller
from ivr.telephony.errors import AudioSocketError, CallHangup

FAST = 0.002  # 20 ms frames paced at 2 ms: same schedule logic, less waiting


def tone(frames: int) -> bytes:
    return struct.pack(f"<{frames * 160}h", *((i * 37) % 2000 - 1000 for i in range(frames * 160)))


@pytest.fixture
async def server() -> AsyncIterator[AudioSocketServer]:
    async with AudioSocketServer(keepalive=None, frame_interval=FAST) as srv:
        yield srv


@pytest.fixture
async def paced_server() -> AsyncIterator[AudioSocketServer]:
    """Real 20 ms pace, so a stop or a hangup lands in the middle of a long prompt."""
    async with AudioSocketServer(keepalive=None) as srv:
        yield srv


async def call(
    server: AudioSocketServer, idle_timeout: float | None = 2.0
) -> tuple[AudioSocketCaller, AudioSocketSession]:
    caller = AudioSocketCaller("127.0.0.1", server.port, frame_interval=FAST,
                               idle_timeout=idle_timeout)
    await caller.connect()
    return caller, await server.wait_session(caller.uuid, timeout=5)


async def test_wait_session_finds_a_session_that_connected_first(
        server: AudioSocketServer) -> None:
    caller, session = await call(server)
    assert session.uuid == caller.uuid
    await caller.hangup()


async def test_wait_session_started_before_asterisk_connects_gets_it(
        server: AudioSocketServer) -> None:
    key = uuid.uuid4()
    waiter = asyncio.create_task(server.wait_session(str(key), timeout=5))
    caller = AudioSocketCaller("127.0.0.1", server.port, key)
    await caller.connect()
    session = await waiter
    assert session.uuid == key
    await caller.hangup()


async def test_wait_session_times_out_when_nobody_connects(server: AudioSocketServer) -> None:
    with pytest.raises(TimeoutError):
        await server.wait_session(uuid.uuid4(), timeout=0.05)


async def test_play_streams_20ms_frames_and_the_caller_hears_them_all(
        server: AudioSocketServer) -> None:
    caller, session = await call(server)
    pcm = tone(10)[:-100]
    assert await session.play(pcm) is True
    await asyncio.wait_for(caller.wait_heard(10), timeout=5)
    lengths = [len(m.payload) for m in caller.messages(FROM_SERVER)]
    assert lengths == [320] * 9 + [220]
    assert caller.heard_audio() == pcm
    await caller.hangup()


async def test_stop_playback_cuts_the_prompt_at_once(paced_server: AudioSocketServer) -> None:
    caller, session = await call(paced_server)
    playing = asyncio.create_task(session.play(tone(500)))
    await asyncio.wait_for(caller.wait_heard(3), timeout=5)
    session.stop_playback()
    assert await asyncio.wait_for(playing, timeout=1) is False
    heard = len(caller.messages(FROM_SERVER))
    assert heard < 500
    assert await session.play(tone(2)) is True  # a new play after the stop works
    await asyncio.wait_for(caller.wait_heard(heard + 2), timeout=5)
    await caller.hangup()


async def test_stop_playback_also_drops_queued_plays(paced_server: AudioSocketServer) -> None:
    caller, session = await call(paced_server)
    first = asyncio.create_task(session.play(tone(500)))
    second = asyncio.create_task(session.play(tone(500)))
    await asyncio.wait_for(caller.wait_heard(1), timeout=5)
    session.stop_playback()
    assert list(await asyncio.wait_for(asyncio.gather(first, second), timeout=1)) == [False] * 2
    await caller.hangup()


async def test_sessions_playing_at_once_each_hear_their_whole_prompt_and_a_stop_stays_theirs(
        paced_server: AudioSocketServer) -> None:
    calls = [await call(paced_server) for _ in range(3)]
    prompts = [tone(30 + 5 * i) for i in range(3)]
    plays = [asyncio.create_task(session.play(pcm))
             for (_, session), pcm in zip(calls, prompts, strict=True)]
    stopped_caller, stopped = await call(paced_server)
    cut = asyncio.create_task(stopped.play(tone(500)))
    await asyncio.wait_for(stopped_caller.wait_heard(2), timeout=5)
    stopped.stop_playback()
    assert await asyncio.wait_for(cut, timeout=1) is False
    assert await asyncio.wait_for(asyncio.gather(*plays), timeout=10) == [True] * 3
    for (caller, _), pcm in zip(calls, prompts, strict=True):
        await asyncio.wait_for(caller.wait_heard(len(pcm) // 320), timeout=5)
        assert caller.heard_audio() == pcm
        await caller.hangup()
    await stopped_caller.hangup()


async def test_frames_yield_caller_audio_and_end_on_caller_hangup(
        server: AudioSocketServer) -> None:
    caller, session = await call(server)
    pcm = tone(5)[:-40]
    await caller.stream_pcm(pcm)
    await caller.hangup()
    got = [frame async for frame in session.frames()]
    assert b"".join(got) == pcm
    assert [len(f) for f in got] == [320] * 4 + [280]
    await asyncio.wait_for(session.wait_closed(), timeout=5)
    assert session.close_reason == "caller"


async def test_dtmf_digits_arrive_in_order_and_hangup_raises(server: AudioSocketServer) -> None:
    caller, session = await call(server)
    caller.send_dtmf("1")
    caller.send_dtmf("#")
    assert await session.get_digit(timeout=5) == "1"
    assert await session.get_digit(timeout=5) == "#"
    assert await session.get_digit(timeout=0.01) is None
    await caller.hangup()
    with pytest.raises(CallHangup):
        await session.get_digit(timeout=5)


async def test_hangup_sends_0x00_and_ends_the_call(server: AudioSocketServer) -> None:
    caller, session = await call(server)
    await session.hangup()
    assert await asyncio.wait_for(caller.wait_ended(), timeout=5) == "server-hangup"
    assert caller.messages(FROM_SERVER) == [Message(Kind.HANGUP)]
    assert session.close_reason == "hangup"
    with pytest.raises(CallHangup):
        await session.play(tone(1))


async def test_play_raises_call_hangup_when_the_caller_leaves(
        paced_server: AudioSocketServer) -> None:
    caller, session = await call(paced_server)
    playing = asyncio.create_task(session.play(tone(500)))
    await asyncio.wait_for(caller.wait_heard(2), timeout=5)
    await caller.hangup()
    with pytest.raises(CallHangup):
        await asyncio.wait_for(playing, timeout=5)


async def test_session_refuses_to_send_dtmf(server: AudioSocketServer) -> None:
    caller, session = await call(server)
    with pytest.raises(AudioSocketError):
        await session.send(codec.dtmf("1"))
    await caller.hangup()


async def test_declared_ulaw_session_decodes_160_byte_frames(server: AudioSocketServer) -> None:
    key = uuid.uuid4()
    server.expect(key, ULAW)
    caller = AudioSocketCaller("127.0.0.1", server.port, key, fmt=ULAW, frame_interval=FAST)
    await caller.connect()
    session = await server.wait_session(key, timeout=5)
    pcm = tone(3)
    await caller.stream_pcm(pcm)
    assert {len(e.message.payload) for e in caller.wire[1:]} == {160}
    frames = [await asyncio.wait_for(anext(aiter(session.frames())), 5) for _ in range(3)]
    assert b"".join(frames) == codec.ulaw_to_pcm(codec.pcm_to_ulaw(pcm))
    assert await session.play(pcm) is True
    await asyncio.wait_for(caller.wait_heard(3), timeout=5)
    assert [(m.kind, len(m.payload)) for m in caller.messages(FROM_SERVER)] == [(0x10, 160)] * 3
    await caller.hangup()


async def test_slin16_session_speaks_8khz_to_the_app(server: AudioSocketServer) -> None:
    key = uuid.uuid4()
    server.expect(key, SLIN16)
    caller = AudioSocketCaller("127.0.0.1", server.port, key, fmt=SLIN16, frame_interval=FAST)
    await caller.connect()
    session = await server.wait_session(key, timeout=5)
    await caller.stream_pcm(tone(1))
    frame = await asyncio.wait_for(anext(aiter(session.frames())), 5)
    assert len(frame) == 320
    assert await session.play(tone(2)) is True
    await asyncio.wait_for(caller.wait_heard(2), timeout=5)
    assert [(m.kind, len(m.payload)) for m in caller.messages(FROM_SERVER)] == [(0x12, 640)] * 2
    await caller.hangup()


async def test_keepalive_sends_silence_only_while_nobody_talks() -> None:
    async with AudioSocketServer(keepalive=0.05, frame_interval=FAST) as srv:
        caller, _ = await call(srv, idle_timeout=0.3)
        await asyncio.wait_for(caller.wait_heard(3), timeout=5)
        assert caller.end_reason is None
        assert set(caller.messages(FROM_SERVER)) == {Message(Kind.SLIN8, bytes(320))}
        await caller.hangup()


async def test_connection_that_does_not_start_with_a_uuid_is_dropped(
        server: AudioSocketServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(codec.encode(codec.audio(bytes(320))))
    assert await asyncio.wait_for(reader.read(100), timeout=5) == b""
    writer.close()
    await writer.wait_closed()


async def test_second_connection_with_the_same_uuid_is_refused(
        server: AudioSocketServer) -> None:
    caller, _ = await call(server)
    twin = AudioSocketCaller("127.0.0.1", server.port, caller.uuid)
    await twin.connect()
    assert await asyncio.wait_for(twin.wait_ended(), timeout=5) == "server-closed"
    assert caller.end_reason is None
    await caller.hangup()


async def test_closing_the_server_closes_live_sessions() -> None:
    srv = AudioSocketServer(keepalive=None)
    await srv.start()
    caller, session = await call(srv)
    await srv.close()
    assert await asyncio.wait_for(caller.wait_ended(), timeout=5) == "server-closed"
    assert session.close_reason == "server"


async def test_caller_hears_each_prompt_as_a_run_and_a_barge_in_shortens_it(
        paced_server: AudioSocketServer) -> None:
    caller = AudioSocketCaller("127.0.0.1", paced_server.port)
    await caller.connect()
    session = await paced_server.wait_session(caller.uuid, timeout=5)
    assert await session.play(tone(5)) is True
    await asyncio.wait_for(caller.wait_heard(5), timeout=5)
    await asyncio.sleep(0.3)  # the pause between two prompts (nothing is awaited here)
    playing = asyncio.create_task(session.play(tone(500)))
    await asyncio.wait_for(caller.wait_heard(8), timeout=5)
    session.stop_playback()
    assert await asyncio.wait_for(playing, timeout=1) is False
    runs = caller.heard_runs(gap=0.1)
    await caller.hangup()
    assert len(runs) == 2
    assert runs[0][1] == pytest.approx(0.1)
    assert 0.06 <= runs[1][1] < 10


async def test_a_hangup_message_from_asterisk_ends_the_session_as_a_caller_hangup(
        server: AudioSocketServer) -> None:
    caller, session = await call(server)
    caller.send_raw(Kind.HANGUP)
    await asyncio.wait_for(session.wait_closed(), timeout=5)
    assert session.close_reason == "caller"
    await caller.hangup()

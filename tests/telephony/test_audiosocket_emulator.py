"""The Asterisk-side AudioSocket emulator against a bare TCP peer (no code of ours on that side)."""

from __future__ import annotations

import asyncio
import struct
import wave
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ivr.telephony import audiosocket as codec
from ivr.telephony.audiosocket import Kind, Message
from ivr.telephony.emulator.audiosocket import FROM_SERVER, TO_SERVER, AudioSocketCaller
from ivr.telephony.emulator.audiosocket_media import load_wav, split_frames


@dataclass
class Peer:
    """A bare server: records what the emulator sends, lets the test write raw bytes back."""

    received: bytearray = field(default_factory=bytearray)
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    eof: asyncio.Event = field(default_factory=asyncio.Event)
    grew: asyncio.Event = field(default_factory=asyncio.Event)
    writer: asyncio.StreamWriter | None = None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.connected.set()
        try:
            while data := await reader.read(4096):
                self.received += data
                self.grew.set()
        except ConnectionResetError:
            pass
        self.eof.set()
        writer.close()

    async def wait_bytes(self, count: int) -> None:
        while len(self.received) < count:
            self.grew.clear()
            await self.grew.wait()

    def messages(self) -> list[Message]:
        parser = codec.Parser()
        return parser.feed(bytes(self.received))


@pytest.fixture
async def peer() -> AsyncIterator[tuple[Peer, int]]:
    p = Peer()
    server = await asyncio.start_server(p.handle, "127.0.0.1", 0)
    async with server:
        yield p, server.sockets[0].getsockname()[1]


async def test_first_message_is_the_raw_uuid(peer: tuple[Peer, int]) -> None:
    p, port = peer
    async with AudioSocketCaller("127.0.0.1", port) as caller:
        await asyncio.wait_for(p.wait_bytes(19), timeout=5)
        assert bytes(p.received[:19]) == b"\x01\x00\x10" + caller.uuid.bytes


async def test_caller_hangup_closes_without_a_hangup_message(peer: tuple[Peer, int]) -> None:
    p, port = peer
    caller = AudioSocketCaller("127.0.0.1", port, frame_interval=0.001)
    await caller.connect()
    await caller.stream_pcm(bytes(700))
    await caller.hangup()
    await asyncio.wait_for(p.eof.wait(), timeout=5)
    kinds = [(m.kind, len(m.payload)) for m in p.messages()]
    assert kinds == [(Kind.UUID, 16), (Kind.SLIN8, 320), (Kind.SLIN8, 320), (Kind.SLIN8, 60)]
    assert caller.end_reason == "caller-hangup"


async def test_dtmf_goes_as_one_message_per_digit(peer: tuple[Peer, int]) -> None:
    p, port = peer
    async with AudioSocketCaller("127.0.0.1", port) as caller:
        await caller.press("12#", tone=0.001, gap=0.001)
        await asyncio.wait_for(p.wait_bytes(19 + 3 * 4), timeout=5)
    assert [m.digit for m in p.messages()[1:]] == ["1", "2", "#"]
    assert [m.kind for m in caller.messages(TO_SERVER)] == [Kind.UUID] + [Kind.DTMF] * 3


async def test_16khz_wav_is_streamed_as_8khz_frames_with_a_short_last_one(
        peer: tuple[Peer, int], tmp_path: Path) -> None:
    p, port = peer
    path = tmp_path / "caller.wav"
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(16000)
        wav.writeframes(struct.pack("<700h", *range(700)))
    assert len(load_wav(path)) == 700
    async with AudioSocketCaller("127.0.0.1", port, frame_interval=0.001) as caller:
        assert await caller.stream_wav(path) == 3
        await asyncio.wait_for(p.wait_bytes(19 + 3 * 3 + 700), timeout=5)
    assert [len(m.payload) for m in p.messages()[1:]] == [320, 320, 60]


@pytest.mark.parametrize("kind", [Kind.DTMF, Kind.ERROR, Kind.UUID])
async def test_anything_but_audio_or_hangup_from_the_server_resets(
        peer: tuple[Peer, int], kind: int) -> None:
    p, port = peer
    caller = AudioSocketCaller("127.0.0.1", port)
    await caller.connect()
    await asyncio.wait_for(p.connected.wait(), timeout=5)
    assert p.writer is not None
    p.writer.write(codec.encode_message(kind, b"1"))
    assert await asyncio.wait_for(caller.wait_ended(), timeout=5) == "reset"


async def test_server_hangup_and_audio_are_recorded(peer: tuple[Peer, int]) -> None:
    p, port = peer
    caller = AudioSocketCaller("127.0.0.1", port)
    await caller.connect()
    await asyncio.wait_for(p.connected.wait(), timeout=5)
    assert p.writer is not None
    p.writer.write(codec.encode(codec.audio(bytes(320))) * 2 + codec.encode(codec.hangup()))
    assert await asyncio.wait_for(caller.wait_ended(), timeout=5) == "server-hangup"
    assert caller.heard_seconds == pytest.approx(0.04)
    assert [m.kind for m in caller.messages(FROM_SERVER)] == [0x10, 0x10, 0x00]
    await asyncio.wait_for(p.eof.wait(), timeout=5)


async def test_gives_up_when_nothing_crosses_the_wire_for_the_idle_limit(
        peer: tuple[Peer, int]) -> None:
    _, port = peer
    caller = AudioSocketCaller("127.0.0.1", port, idle_timeout=0.1)
    await caller.connect()
    assert await asyncio.wait_for(caller.wait_ended(), timeout=5) == "idle-timeout"


def test_split_frames_keeps_the_short_tail() -> None:
    assert [len(f) for f in split_frames(bytes(1000), 320)] == [320, 320, 320, 40]


async def test_prompt_finished_on_a_connection_held_from_earlier_prompts(
        peer: tuple[Peer, int]) -> None:
    """A question asked on a connection that already carried prompts (the held media) counts
    from its own prompt: the caller answers once that prompt ends, not seconds later by the
    age of the connection (it waited past the next prompt)."""
    from ivr.telephony.emulator.agi_audiosocket import prompt_finished

    server, port = peer
    async with AudioSocketCaller("127.0.0.1", port, idle_timeout=None) as caller:
        await asyncio.wait_for(server.connected.wait(), 5)
        assert server.writer is not None
        voice = codec.encode(codec.audio(b"\x10\x00" * 160))
        server.writer.write(voice * 5)  # the greeting, then 4 s of quiet
        await asyncio.sleep(4.0)
        server.writer.write(voice * 5)  # the question
        await caller.wait_heard(10)
        answered = asyncio.ensure_future(prompt_finished(caller))
        await asyncio.sleep(3.0)
        server.writer.write(voice * 5)  # what the IVR says next, had nobody answered
        await caller.wait_heard(15)
        assert answered.done()  # it had returned before that
        await answered

"""Asterisk's side of AudioSocket, for `ivr call` and tests.

Behaves like Asterisk 22's AudioSocket() (see tests/conformance/traces/README.md): sends the raw
UUID first, streams the caller's audio in paced 20 ms frames with a short last frame, sends DTMF as
0x03 at digit end, closes without 0x00 when the caller hangs up, ends cleanly on the server's 0x00
or close, gives up after 2000 ms with no traffic either way, and resets the connection (RST) when
the server sends anything but audio or hangup.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import uuid as uuidlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ivr.telephony import audiosocket as codec
from ivr.telephony.audiosocket import SLIN8, AudioFormat, Message
from ivr.telephony.emulator.audiosocket_media import FRAME_INTERVAL, load_wav, paced, split_frames
from ivr.telephony.errors import AudioSocketError, CallHangup

IDLE_TIMEOUT = 2.0
TO_SERVER = "AST->APP"
FROM_SERVER = "APP->AST"


@dataclass(frozen=True)
class WireEvent:
    """One message that crossed the wire, in the traces' terms."""

    t: float  # seconds since the connection opened
    direction: str  # TO_SERVER or FROM_SERVER
    message: Message


class AudioSocketCaller:
    """One emulated call's AudioSocket connection, Asterisk side."""

    def __init__(
        self,
        host: str,
        port: int,
        session_uuid: uuidlib.UUID | None = None,
        *,
        fmt: AudioFormat = SLIN8,
        idle_timeout: float | None = IDLE_TIMEOUT,
        frame_interval: float = FRAME_INTERVAL,
    ) -> None:
        self.host, self.port = host, port
        self.uuid = session_uuid or uuidlib.uuid4()
        self.format = fmt
        self.wire: list[WireEvent] = []
        self.ended = asyncio.Event()
        self.end_reason: str | None = None
        # "caller-hangup", "server-hangup", "server-closed", "idle-timeout", "reset", "error"
        self._idle = idle_timeout
        self._interval = frame_interval
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._t0 = 0.0
        self._last = 0.0
        self._tasks: list[asyncio.Task[None]] = []
        self._received = asyncio.Event()
        self._heard = 0

    @property
    def started_at(self) -> float:
        """The loop time the connection opened: `wire` times count from it."""
        return self._t0

    async def connect(self) -> None:
        """Open the connection and send the 0x01 UUID message (16 raw bytes)."""
        loop = asyncio.get_running_loop()
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        self._t0 = self._last = loop.time()
        self._write(codec.uuid_message(self.uuid))
        self._tasks.append(asyncio.create_task(self._read_loop()))
        if self._idle is not None:
            self._tasks.append(asyncio.create_task(self._idle_loop(self._idle)))

    async def __aenter__(self) -> AudioSocketCaller:
        await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.hangup()

    # --- caller actions ----------------------------------------------------------------------

    async def stream_pcm(self, pcm: bytes) -> int:
        """Stream 8 kHz s16le as paced frames in the session format; returns frames sent.

        Stops early (without error) if the call ended meanwhile.
        """
        payload = codec.from_pcm8k(pcm, self.format)
        return await self.stream_frames(split_frames(payload, self.format.frame_bytes))

    async def stream_frames(self, payloads: Sequence[bytes]) -> int:
        """Stream wire payloads as given (already in the session format), one per interval."""
        sent = 0
        async for frame in paced(payloads, self._interval):
            if self.ended.is_set():
                break
            self._write(codec.audio(frame, self.format.kind))
            sent += 1
        return sent

    async def stream_wav(self, path: str | Path) -> int:
        return await self.stream_pcm(load_wav(path))

    def send_dtmf(self, digit: str) -> None:
        """One 0x03 message, as Asterisk sends it when the digit ends."""
        self._write(codec.dtmf(digit))

    async def press(self, digits: str, *, tone: float = 0.1, gap: float = 0.25) -> None:
        """Digits with SendDTMF-like timing: the message goes at the end of each tone."""
        for index, digit in enumerate(digits):
            await asyncio.sleep(tone + (gap if index else 0.0))
            self.send_dtmf(digit)

    def send_raw(self, kind: int, payload: bytes = b"") -> None:
        """Any message, unchecked (for protocol tests)."""
        self._write(Message(kind, payload), raw=True)

    async def hangup(self) -> None:
        """Caller hangup: Asterisk just closes the socket, no 0x00."""
        await self._end("caller-hangup")

    async def wait_heard(self, frames: int) -> None:
        """Wait until the server has sent at least that many audio frames, or the call ended."""
        while not self.ended.is_set() and self._heard < frames:
            self._received.clear()
            await self._received.wait()

    async def wait_ended(self) -> str:
        await self.ended.wait()
        return self.end_reason or ""

    # --- what the caller heard ---------------------------------------------------------------

    def messages(self, direction: str) -> list[Message]:
        return [event.message for event in self.wire if event.direction == direction]

    def heard_audio(self) -> bytes:
        """Everything the server played, as 8 kHz s16le."""
        return b"".join(codec.to_pcm8k(m.payload, self.format)
                        for m in self.messages(FROM_SERVER) if m.is_audio)

    @property
    def heard_seconds(self) -> float:
        return len(self.heard_audio()) / 16000

    def heard_runs(self, gap: float = 0.1) -> list[tuple[float, float]]:
        """(start, seconds) of each stretch of server audio; a pause over ``gap`` s splits them.

        Tells which prompt the caller heard and for how long (a barge-in shortens the run).
        """
        runs: list[tuple[float, float]] = []
        last_end = -1.0
        for event in self.wire:
            if event.direction != FROM_SERVER or not event.message.is_audio:
                continue
            seconds = len(codec.to_pcm8k(event.message.payload, self.format)) / 16000
            if runs and event.t - last_end <= gap:
                start, length = runs[-1]
                runs[-1] = (start, length + seconds)
            else:
                runs.append((event.t, seconds))
            last_end = event.t + seconds * (self._interval / FRAME_INTERVAL)
        return runs

    # --- internals ---------------------------------------------------------------------------

    def _write(self, message: Message, *, raw: bool = False) -> None:
        if self.ended.is_set() or self._writer is None:
            raise CallHangup(f"AudioSocket call {self.uuid} has ended ({self.end_reason})")
        data = (codec.encode_message(message.kind, message.payload) if raw
                else codec.encode(message))
        self._writer.write(data)
        self._record(TO_SERVER, message)

    def _record(self, direction: str, message: Message) -> None:
        self._last = asyncio.get_running_loop().time()
        self.wire.append(WireEvent(self._last - self._t0, direction, message))

    async def _read_loop(self) -> None:
        assert self._reader is not None
        parser = codec.Parser()
        reason = "server-closed"
        try:
            while data := await self._reader.read(4096):
                for message in parser.feed(data):
                    self._record(FROM_SERVER, message)
                    self._heard += message.is_audio
                    self._received.set()
                    if message.kind == codec.HANGUP:
                        reason = "server-hangup"
                        break
                    if not message.is_audio:
                        reason = "reset"
                        break
                else:
                    continue
                break
            else:
                parser.close()
        except (ConnectionError, AudioSocketError):
            reason = "error"
        await self._end(reason)

    async def _idle_loop(self, idle: float) -> None:
        loop = asyncio.get_running_loop()
        while not self.ended.is_set():
            delay = self._last + idle - loop.time()
            if delay <= 0:
                await self._end("idle-timeout")
                return
            await asyncio.sleep(delay)

    async def _end(self, reason: str) -> None:
        if self.ended.is_set() or self._writer is None:
            return
        self.end_reason = reason
        self.ended.set()
        self._received.set()
        current = asyncio.current_task()
        others = [task for task in self._tasks if task is not current]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)
        if reason == "reset":
            sock = self._writer.get_extra_info("socket")
            # linger 0 makes the close send RST, as Asterisk does on a bad kind
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self._writer.transport.abort()
        else:
            self._writer.close()
        with contextlib.suppress(ConnectionError):
            await self._writer.wait_closed()

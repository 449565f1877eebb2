"""AudioSocket media server: Asterisk connects per call, the FastAGI side finds it by UUID.

The FastAGI half of a call runs ``EXEC AudioSocket <uuid>,<host:port>`` and awaits
``server.wait_session(uuid, timeout)``; the session then carries prompts out (paced 20 ms frames,
stoppable at once for barge-in) and caller audio and DTMF in. All audio crossing this API is
s16le 8 kHz mono; the session converts to and from its declared wire format (slin16, ulaw...).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid as uuidlib
from collections.abc import AsyncIterator

from ivr.telephony import audiosocket as codec
from ivr.telephony.audiosocket import SLIN8, AudioFormat, Kind, Message
from ivr.telephony.errors import AudioSocketError, CallHangup
from ivr.telephony.pacer import FramePacer, Job, framed

log = logging.getLogger(__name__)
# Asterisk opens a connection per call; a burst of calls must not overflow the accept queue
# (the default of 100 drops connections, which Asterisk sees as a reset).
LISTEN_BACKLOG = 4096

READ_SIZE = 4096
MAX_QUEUED_FRAMES = 500  # 10 s of caller audio; older frames are dropped if nobody reads


class AudioSocketSession:
    """One call's media connection, created by the server when Asterisk sends its UUID."""

    def __init__(
        self,
        session_uuid: uuidlib.UUID,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        fmt: AudioFormat = SLIN8,
        *,
        keepalive: float | None = 0.5,
        frame_interval: float = 0.020,
        pacer: FramePacer | None = None,
    ) -> None:
        """`pacer`: the clock shared by the server's sessions (one of its own if None)."""
        self.uuid = session_uuid
        self.format = fmt
        self.closed = asyncio.Event()
        self.close_reason: str | None = None  # "caller", "hangup", "server", "reset", "error"
        self.dtmf: asyncio.Queue[str] = asyncio.Queue()
        self.key_at: float | None = None  # monotonic time the last key arrived
        self._reader = reader
        self._writer = writer
        self._keepalive = keepalive
        self._pacer = pacer or FramePacer(frame_interval)
        self._job: Job | None = None  # the play in progress
        self._frames: asyncio.Queue[bytes | None] = asyncio.Queue(MAX_QUEUED_FRAMES)
        self._stop = asyncio.Event()
        self._play_lock = asyncio.Lock()
        self._last_traffic = asyncio.get_running_loop().time()
        self._tasks: list[asyncio.Task[None]] = []

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self, parser: codec.Parser, early: list[Message]) -> None:
        for message in early:
            self._dispatch(message)
        self._tasks.append(asyncio.create_task(self._read_loop(parser)))
        if self._keepalive is not None:
            self._tasks.append(asyncio.create_task(self._keepalive_loop(self._keepalive)))

    async def hangup(self) -> None:
        """Send 0x00 and close: AudioSocket() returns and the dialplan (or AGI) goes on."""
        if self.closed.is_set():
            return
        with contextlib.suppress(CallHangup):
            await self.send(codec.hangup())
        await self._finish("hangup")

    async def close(self) -> None:
        """Close without 0x00 (Asterisk treats that as a clean end too)."""
        await self._finish("server")

    async def wait_closed(self) -> None:
        await self.closed.wait()
        if self._tasks:
            await asyncio.wait(list(self._tasks))

    # --- output ------------------------------------------------------------------------------

    async def send(self, message: Message) -> None:
        """Send one message now; only audio and hangup are allowed (AudioSocketError otherwise)."""
        data = codec.encode_from_server(message)
        if self.closed.is_set():
            raise CallHangup(f"AudioSocket {self.uuid} is closed ({self.close_reason})")
        self._writer.write(data)
        self._touch()
        try:
            await self._writer.drain()
        except ConnectionError as exc:
            await self._finish("reset")
            raise CallHangup(f"AudioSocket {self.uuid} lost: {exc}") from exc

    async def send_audio(self, pcm: bytes) -> None:
        """Send one frame of 8 kHz s16le now, unpaced (echo, or a caller-side pacer)."""
        await self.send(codec.audio(codec.from_pcm8k(pcm, self.format), self.format.kind))

    async def play(self, pcm: bytes) -> bool:
        """Stream 8 kHz s16le as 20 ms frames in real time; False if stop_playback() cut it.

        The frames go out on the server's shared clock (pacer.py) on an absolute schedule from
        the first, so lateness never accumulates. Plays queue behind each other; a stop ends
        the current one and those already queued. Raises CallHangup if the connection ends.
        """
        stop = self._stop
        async with self._play_lock:
            if self._stopped(stop):
                return False
            data, ends = framed(pcm, self.format)
            if not ends:
                return True
            job = Job(data, ends, self._write,
                      self._writer.transport.get_write_buffer_size,
                      asyncio.get_running_loop().create_future())
            self._job = job
            self._pacer.play(job)
            try:
                return await job.done
            finally:
                self._job = None
                self._pacer.finish(job, False)  # (cancelled: the clock forgets it)

    def _write(self, data: bytes) -> None:
        self._writer.write(data)
        self._touch()

    def _stopped(self, stop: asyncio.Event) -> bool:
        if self.closed.is_set():
            raise CallHangup(f"AudioSocket {self.uuid} is closed ({self.close_reason})")
        return stop.is_set()

    def discard_audio(self) -> None:
        """Forget the caller's audio received so far (a held session's new turn listens to
        what is said from now on, not to what was said over earlier prompts)."""
        while not self._frames.empty():
            frame = self._frames.get_nowait()
            if frame is None:  # the end marker stays for the readers
                self._frames.put_nowait(None)
                return

    def stop_playback(self) -> None:
        """Barge-in: drop pending output at once; the running and queued play() return False."""
        self._stop.set()
        self._stop = asyncio.Event()
        if self._job is not None:
            self._pacer.finish(self._job, False)

    # --- input -------------------------------------------------------------------------------

    async def frames(self) -> AsyncIterator[bytes]:
        """Caller audio as 8 kHz s16le frames (20 ms; a short last frame as sent); ends on close."""
        while True:
            frame = await self._frames.get()
            if frame is None:
                self._frames.put_nowait(None)  # later iterators end too
                return
            yield frame

    async def get_digit(self, timeout: float | None = None) -> str | None:
        """Next DTMF digit, None on timeout; CallHangup once closed with no digit left."""
        if self.dtmf.empty() and self.closed.is_set():
            raise CallHangup(f"AudioSocket {self.uuid} is closed ({self.close_reason})")
        getter = asyncio.ensure_future(self.dtmf.get())
        closer = asyncio.ensure_future(self.closed.wait())
        try:
            await asyncio.wait({getter, closer}, timeout=timeout,
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            closer.cancel()
            if not getter.done():
                getter.cancel()
        if getter.done() and not getter.cancelled():
            return getter.result()
        if self.closed.is_set():
            raise CallHangup(f"AudioSocket {self.uuid} is closed ({self.close_reason})")
        return None

    # --- internals ---------------------------------------------------------------------------

    def _touch(self) -> None:
        self._last_traffic = asyncio.get_running_loop().time()

    def _dispatch(self, message: Message) -> None:
        if message.is_audio:
            frame = codec.to_pcm8k(message.payload, self.format)
            if self._frames.full():
                self._frames.get_nowait()
            self._frames.put_nowait(frame)
        elif message.kind == codec.DTMF:
            self.dtmf.put_nowait(message.digit)
            self.key_at = time.monotonic()  # for the key -> next action latency
        elif message.kind == codec.ERROR:
            raise AudioSocketError(f"Asterisk sent kind {message.kind:#04x} {message.payload!r}")
        else:
            log.warning("AudioSocket %s: ignoring kind %#04x", self.uuid, message.kind)

    async def _read_loop(self, parser: codec.Parser) -> None:
        reason = "caller"
        try:
            while data := await self._reader.read(READ_SIZE):
                self._touch()
                for message in parser.feed(data):
                    if message.kind == codec.HANGUP:  # never seen from Asterisk, but legal
                        await self._finish("caller")
                        return
                    self._dispatch(message)
            parser.close()
        except ConnectionError:
            reason = "reset"
        except AudioSocketError as exc:
            log.warning("AudioSocket %s: %s", self.uuid, exc)
            reason = "error"
        await self._finish(reason)

    async def _keepalive_loop(self, idle: float) -> None:
        # Asterisk's AudioSocket() gives up after 2000 ms with no traffic either way
        loop = asyncio.get_running_loop()
        silence = codec.from_pcm8k(bytes(320), self.format)
        while not self.closed.is_set():
            delay = self._last_traffic + idle - loop.time()
            if delay > 0:
                if await _wait(self.closed, delay):
                    return
                continue
            with contextlib.suppress(CallHangup):
                await self.send(codec.audio(silence, self.format.kind))

    async def _finish(self, reason: str) -> None:
        if self.closed.is_set():
            return
        self.close_reason = reason
        self.closed.set()
        self._stop.set()
        if self._job is not None:
            self._pacer.finish(self._job, CallHangup(f"AudioSocket {self.uuid} is closed "
                                                     f"({reason})"))
        if self._frames.full():
            self._frames.get_nowait()
        self._frames.put_nowait(None)
        current = asyncio.current_task()
        for task in self._tasks:
            if task is not current:
                task.cancel()
        self._writer.close()
        with contextlib.suppress(ConnectionError):
            await self._writer.wait_closed()


async def _wait(event: asyncio.Event, seconds: float) -> bool:
    """True if the event was set within that many seconds."""
    try:
        async with asyncio.timeout(seconds):
            await event.wait()
    except TimeoutError:
        return False
    return True


def as_uuid(value: uuidlib.UUID | str) -> uuidlib.UUID:
    return value if isinstance(value, uuidlib.UUID) else uuidlib.UUID(value)


class AudioSocketServer:
    """TCP server for Asterisk's AudioSocket() app and channel driver; sessions keyed by UUID."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        default_format: AudioFormat = SLIN8,
        keepalive: float | None = 0.5,
        frame_interval: float = 0.020,
        uuid_timeout: float = 5.0,
        linger: float = 30.0,
    ) -> None:
        self.host = host
        self._port = port
        self._default_format = default_format
        self._keepalive = keepalive
        self._interval = frame_interval
        self._uuid_timeout = uuid_timeout
        self._linger = linger
        self._server: asyncio.Server | None = None
        self._pacer = FramePacer(frame_interval)  # one clock for all sessions' prompts
        self._formats: dict[uuidlib.UUID, AudioFormat] = {}
        self._waiters: dict[uuidlib.UUID, asyncio.Future[AudioSocketSession]] = {}
        self._live: dict[uuidlib.UUID, AudioSocketSession] = {}

    @property
    def port(self) -> int:
        """The bound port (useful with port=0)."""
        if self._server is None:
            return self._port
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._on_connect, self.host, self._port, backlog=LISTEN_BACKLOG
        )

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for session in list(self._live.values()):
            await session.close()
        if self._server is not None:
            await self._server.wait_closed()
        for fut in self._waiters.values():
            fut.cancel()
        self._waiters.clear()

    async def __aenter__(self) -> AudioSocketServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def expect(self, session_uuid: uuidlib.UUID | str, fmt: AudioFormat) -> None:
        """Declare a session's wire format before Asterisk connects (needed for c(ulaw))."""
        self._formats[as_uuid(session_uuid)] = fmt

    async def wait_session(
        self, session_uuid: uuidlib.UUID | str, timeout: float | None
    ) -> AudioSocketSession:
        """The session Asterisk opened (or will open) with this UUID; TimeoutError if none."""
        key = as_uuid(session_uuid)
        fut = self._waiters.setdefault(key, asyncio.get_running_loop().create_future())
        try:
            async with asyncio.timeout(timeout):
                session = await asyncio.shield(fut)
        except TimeoutError:
            if not fut.done() and self._waiters.get(key) is fut:
                del self._waiters[key]
                fut.cancel()
            raise
        if self._waiters.get(key) is fut:
            del self._waiters[key]
        return session

    async def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        parser = codec.Parser()
        try:
            async with asyncio.timeout(self._uuid_timeout):
                first, early = await _first_messages(reader, parser)
            key = first.uuid
        except (TimeoutError, ConnectionError, AudioSocketError) as exc:
            log.warning("AudioSocket connection dropped before a valid UUID: %s", exc)
            writer.close()
            return
        fut = self._waiters.get(key)
        if key in self._live or (fut is not None and fut.done()):
            log.warning("AudioSocket %s: duplicate connection refused", key)
            writer.close()
            return
        if fut is None:
            fut = self._waiters[key] = asyncio.get_running_loop().create_future()
        fmt = self._formats.pop(key, self._default_format)
        session = AudioSocketSession(key, reader, writer, fmt, keepalive=self._keepalive,
                                     frame_interval=self._interval, pacer=self._pacer)
        self._live[key] = session
        session.start(parser, early)
        fut.set_result(session)
        await session.wait_closed()
        del self._live[key]
        asyncio.get_running_loop().call_later(self._linger, self._forget, key, fut)

    def _forget(self, key: uuidlib.UUID, fut: asyncio.Future[AudioSocketSession]) -> None:
        # a session nobody claimed must not stay registered forever
        if self._waiters.get(key) is fut:
            del self._waiters[key]


async def _first_messages(
    reader: asyncio.StreamReader, parser: codec.Parser
) -> tuple[Message, list[Message]]:
    """Asterisk's first message must be the UUID; later ones read in the same chunk are kept."""
    while True:
        data = await reader.read(READ_SIZE)
        if not data:
            raise AudioSocketError("closed before the UUID message")
        messages = parser.feed(data)
        if messages:
            if messages[0].kind != Kind.UUID:
                raise AudioSocketError(f"first message has kind {messages[0].kind:#04x}")
            return messages[0], messages[1:]

"""FastAGI on asyncio streams: one AgiChannel per call, one reader task per connection.

The reader task routes every line Asterisk sends: a result to the one command in flight, the
unsolicited `HANGUP` to the channel's hangup state. A hangup makes the awaiting command (or the
next one) raise CallHangup at once instead of at the next timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ivr.telephony.admission import MAX_PENDING_PER_PEER, PeerLimits
from ivr.telephony.agi import (
    AgiEnvironment,
    AgiEvent,
    AgiReader,
    AgiResult,
    HangupNotice,
    encode_command,
)
from ivr.telephony.errors import AgiCommandError, AgiProtocolError, CallHangup

log = logging.getLogger(__name__)
# Asterisk opens a connection per call; a burst of calls must not overflow the accept queue
# (the default of 100 drops connections, which Asterisk sees as a reset).
LISTEN_BACKLOG = 4096
_READ_SIZE = 65536


@dataclass
class _Pending:
    future: asyncio.Future[AgiResult]
    allow_dead: bool


class AgiChannel:
    """One call's AGI conversation over a (reader, writer) pair (TCP socket or stdio pipes)."""

    def __init__(
        self,
        env: AgiEnvironment,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        codec: AgiReader,
        *,
        close_timeout: float = 2.0,
    ) -> None:
        self.env = env
        self._reader = reader
        self._writer = writer
        self._codec = codec
        self._close_timeout = close_timeout
        self._pending: deque[_Pending] = deque()
        self._lock = asyncio.Lock()
        self._dead = asyncio.Event()
        self._eof = asyncio.Event()
        self._closed = False
        self._reader_task = asyncio.create_task(self._read_loop(), name=f"agi-read {env.channel}")

    @property
    def hung_up(self) -> bool:
        return self._dead.is_set()

    async def wait_hangup(self) -> None:
        await self._dead.wait()

    async def command(self, command: str, *args: str, allow_dead: bool = False) -> AgiResult:
        """Send one command and return its reply. Commands run strictly one at a time.

        Raises CallHangup when the channel is (or becomes) dead, AgiCommandError on 510/520.
        `allow_dead` lets a `finally` block run the commands Asterisk still accepts after a
        hangup (GET VARIABLE, SET VARIABLE, VERBOSE, NOOP, EXEC, DATABASE)."""
        data = encode_command(command, *args)
        async with self._lock:
            result = await self._roundtrip(data, allow_dead)
            if result.code == 511:
                self._dead.set()
                raise CallHangup(f"{command}: channel is dead (511)")
            if result.code in (510, 520):
                raise AgiCommandError(f"{command}: {result.code} {result.text} {result.usage}")
            if result.value == -1 and not allow_dead and await self._probe_dead():
                raise CallHangup(f"{command}: caller hung up")
            return result

    async def _roundtrip(self, data: bytes, allow_dead: bool) -> AgiResult:
        if self._eof.is_set() or (self._dead.is_set() and not allow_dead):
            raise CallHangup("channel is hung up")
        pending = _Pending(asyncio.get_running_loop().create_future(), allow_dead)
        self._pending.append(pending)
        try:
            self._writer.write(data)
            await self._writer.drain()
            return await pending.future
        except ConnectionError as exc:
            self._dead.set()
            raise CallHangup(f"connection lost: {exc}") from exc
        finally:
            # an abandoned command keeps its slot so that its late reply is dropped in step
            if not pending.future.done():
                pending.future.cancel()

    async def _probe_dead(self) -> bool:
        """A `-1` result means either failure (missing file) or hangup. CHANNEL STATUS tells
        them apart at once: 511 (or the HANGUP line) on a dead channel."""
        if self._dead.is_set():
            return True
        try:
            probe = await self._roundtrip(encode_command("CHANNEL STATUS"), False)
        except CallHangup:
            return True
        if probe.code == 511:
            self._dead.set()
        return self._dead.is_set()

    async def _read_loop(self) -> None:
        try:
            while data := await self._reader.read(_READ_SIZE):
                for event in self._codec.feed(data):
                    self.route(event)
        except (ConnectionError, AgiProtocolError) as exc:
            log.warning("AGI connection %s: %s", self.env.channel, exc)
        finally:
            self._eof.set()
            self._dead.set()
            self._fail_pending(only_live=False)

    def route(self, event: AgiEvent) -> None:
        """Deliver one event from Asterisk (the reader task calls this for every line)."""
        if isinstance(event, AgiResult):
            if not self._pending:
                log.warning("AGI %s: reply with no command in flight: %r", self.env.channel, event)
                return
            pending = self._pending.popleft()
            if not pending.future.done():
                pending.future.set_result(event)
        elif isinstance(event, AgiEnvironment):
            log.warning("AGI %s: unexpected second environment block", self.env.channel)
        else:
            self._dead.set()
            self._fail_pending(only_live=True)

    def _fail_pending(self, *, only_live: bool) -> None:
        for pending in self._pending:
            if not pending.future.done() and not (only_live and pending.allow_dead):
                pending.future.set_exception(CallHangup("caller hung up"))

    async def close(self) -> None:
        """Half-close (Asterisk answers with a last HANGUP and closes), drain, then close."""
        if self._closed:
            return
        self._closed = True
        writer = self._writer
        try:
            if not writer.is_closing() and writer.can_write_eof():
                writer.write_eof()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._close_timeout):
                    await self._eof.wait()
        except (ConnectionError, OSError) as exc:
            log.debug("AGI %s: half-close failed: %s", self.env.channel, exc)
        finally:
            self._reader_task.cancel()
            await asyncio.wait([self._reader_task])  # keeps our own cancellation
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()


async def open_channel(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    *,
    env_timeout: float = 10.0,
    close_timeout: float = 2.0,
) -> AgiChannel:
    """Read the environment block, then hand the connection to an AgiChannel."""
    codec = AgiReader()
    env: AgiEnvironment | None = None
    events: list[AgiEvent] = []
    async with asyncio.timeout(env_timeout):
        while env is None:
            data = await reader.read(_READ_SIZE)
            if not data:
                raise AgiProtocolError("connection closed before the AGI environment ended")
            events = codec.feed(data)
            if events:
                first = events[0]
                # A caller who hangs up at once: Asterisk's HANGUP may share the first read.
                if not isinstance(first, AgiEnvironment) or not all(
                    isinstance(e, HangupNotice) for e in events[1:]
                ):
                    raise AgiProtocolError("AGI data before the end of the environment")
                env = first
    channel = AgiChannel(env, reader, writer, codec, close_timeout=close_timeout)
    for event in events[1:]:
        channel.route(event)
    return channel


Handler = Callable[[AgiChannel], Awaitable[None]]


class FastAgiServer:
    """Accepts FastAGI connections and runs `handler(channel)` for each, as a task."""

    def __init__(
        self,
        handler: Handler,
        host: str,
        port: int,
        *,
        shutdown_grace: float = 10.0,
        env_timeout: float = 10.0,
        close_timeout: float = 2.0,
        max_connections: int = 1000,
        max_per_peer: int = 1000,
        max_pending_per_peer: int = MAX_PENDING_PER_PEER,
    ) -> None:
        self._handler = handler
        self._host, self._port = host, port
        self._grace = shutdown_grace
        self._env_timeout = env_timeout
        self._close_timeout = close_timeout
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._peers = PeerLimits(max_connections, max_per_peer, max_pending_per_peer)

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._on_connection, self._host, self._port, backlog=LISTEN_BACKLOG
        )

    @property
    def port(self) -> int:
        if self._server is None or not self._server.sockets:
            raise RuntimeError("FastAgiServer is not started")
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def active_calls(self) -> int:
        return len(self._tasks)

    async def stop(self) -> None:
        """Stop accepting; let live calls finish until the grace deadline, then cancel them."""
        if self._server is None:
            return
        self._server.close()
        tasks = set(self._tasks)
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=self._grace)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None

    async def __aenter__(self) -> FastAgiServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _on_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        peer = _peer(writer)
        refusal = self._peers.admit(peer)
        if refusal is not None:
            writer.close()  # before any read: a refused peer costs no buffer
            return
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self._serve(reader, writer, peer)
        finally:
            self._tasks.discard(task)
            self._peers.leave(peer)

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: str
    ) -> None:
        try:
            channel = await open_channel(
                reader, writer, env_timeout=self._env_timeout, close_timeout=self._close_timeout
            )
        except (TimeoutError, AgiProtocolError, ConnectionError) as exc:
            reason = str(exc) or "no AGI environment within the timeout"
            self._peers.complain(peer, f"connection from {peer} dropped before the call "
                                 f"started: {reason}")
            writer.close()
            return
        finally:
            self._peers.started(peer)
        try:
            await self._handler(channel)
        except CallHangup:
            log.debug("FastAGI %s: caller hung up", channel.env.channel)
        except Exception:
            log.exception("FastAGI handler failed on %s", channel.env.channel)
        finally:
            await channel.close()


def _peer(writer: asyncio.StreamWriter) -> str:
    name = writer.get_extra_info("peername")
    return str(name[0]) if isinstance(name, tuple) and name else str(name or "?")

"""Classic AGI (a script Asterisk starts, talking over stdin/stdout) and EAGI (plus the caller's
audio on fd 3), on asyncio pipes so a script can use the same AgiChannel as FastAGI.

    async def main() -> None:
        channel = await connect_stdio()
        async for frame in eagi_frames():   # EAGI only: 8 kHz s16le, 320-byte frames
            ...
        await channel.close()

Nothing else may write to stdout: it is the AGI command stream.

pyst2 (`asterisk.agi`) is not used: it reads and writes stdio synchronously (it would block
the event loop), and it sends arguments without refusing CR/LF, so a caller-controlled value
could inject a command. Our codec quotes and refuses those, and the same AgiChannel (one
command at a time, hangup routing) serves FastAGI and AGI scripts alike.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import IO

from ivr.telephony.eagi_audio import EAGI_FD, EagiAudio
from ivr.telephony.fastagi import AgiChannel, open_channel

FRAME_BYTES = 320  # 20 ms of 8 kHz signed 16-bit mono (slin16: 640)


async def connect_stdio(
    stdin: IO[bytes] | None = None,
    stdout: IO[bytes] | None = None,
    *,
    env_timeout: float = 10.0,
    close_timeout: float = 2.0,
) -> AgiChannel:
    """Read the AGI environment from stdin and return the channel (stdout carries commands).
    stdin/stdout must be pipes, sockets or terminals (Asterisk gives pipes). The channel owns
    stdout: `close()` closes descriptor 1, which is how Asterisk learns the script is done
    (sys.stdout itself never closes its descriptor)."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    stdin = stdin or os.fdopen(sys.stdin.fileno(), "rb", buffering=0, closefd=False)
    stdout = stdout or os.fdopen(sys.stdout.fileno(), "wb", buffering=0)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), stdin)
    # StreamReaderProtocol (not the bare FlowControlMixin) so that wait_closed() works
    write_protocol = asyncio.StreamReaderProtocol(asyncio.StreamReader())
    transport, _ = await loop.connect_write_pipe(lambda: write_protocol, stdout)
    writer = asyncio.StreamWriter(transport, write_protocol, None, loop)
    return await open_channel(reader, writer, env_timeout=env_timeout, close_timeout=close_timeout)


def eagi_frames(fd: int = EAGI_FD, frame_bytes: int = FRAME_BYTES) -> EagiAudio:
    """The caller's audio (EAGI, fd 3) as an async iterable of frames, read without blocking
    the loop. One read per frame, so the short last frame of a played file comes through as
    Asterisk wrote it (see `eagi_audio`, which this reuses)."""
    return EagiAudio(fd, frame_bytes=frame_bytes)

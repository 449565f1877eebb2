"""EAGI caller audio: frames read from fd 3 without blocking the event loop.

Asterisk writes raw s16le mono to fd 3, one write per 20 ms frame: 320 bytes at 8 kHz, 640 with
``EAGI_AUDIO_FORMAT=slin16``; the last frame of each played file is shorter, and nothing comes at
all while the caller sends no frames. Each read asks for one frame, so short frames come through
as written as long as the reader keeps up (a slow reader may see them joined to the next one;
the bytes are the same).
"""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import AsyncIterator
from typing import BinaryIO

from ivr.telephony.audiosocket import FORMATS

EAGI_FD = 3


def frame_bytes_for(audio_format: str = "slin") -> int:
    """Bytes per 20 ms frame for an ``EAGI_AUDIO_FORMAT`` value (``slin``, ``slin16``...)."""
    try:
        return FORMATS[audio_format or "slin"].frame_bytes
    except KeyError:
        raise ValueError(f"unknown EAGI audio format: {audio_format!r}") from None


class EagiAudio:
    """Async iterator of caller audio frames from fd 3 (or any fd or binary file object)."""

    def __init__(
        self, source: int | BinaryIO = EAGI_FD, *, frame_bytes: int = 320, closefd: bool = False
    ) -> None:
        self._fd = source if isinstance(source, int) else source.fileno()
        self.frame_bytes = frame_bytes
        self._closefd = closefd
        self._eof = False
        mode = os.fstat(self._fd).st_mode
        # pipes, sockets and ttys can be polled; a regular file cannot (epoll refuses it)
        self._pollable = stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or stat.S_ISCHR(mode)
        if self._pollable:
            os.set_blocking(self._fd, False)

    async def read_frame(self) -> bytes:
        """One frame (at most ``frame_bytes``); b"" once the writer closed its end."""
        if self._eof:
            return b""
        if self._pollable:
            data = await self._read_polled()
        else:
            data = await asyncio.to_thread(os.read, self._fd, self.frame_bytes)
        self._eof = not data
        return data

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while frame := await self.read_frame():
            yield frame

    def close(self) -> None:
        self._eof = True
        if self._closefd:
            os.close(self._fd)

    async def _read_polled(self) -> bytes:
        while True:
            try:
                return os.read(self._fd, self.frame_bytes)
            except BlockingIOError:
                await self._readable()

    async def _readable(self) -> None:
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = loop.create_future()

        def wake() -> None:
            if not ready.done():  # the callback may fire again before remove_reader runs
                ready.set_result(None)

        loop.add_reader(self._fd, wake)
        try:
            await ready
        finally:
            loop.remove_reader(self._fd)
